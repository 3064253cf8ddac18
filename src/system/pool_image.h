/* pool_image: the read-only bases of a pool, one per template and template options, that
   the containers made from them share. */
#ifndef CTR_POOL_IMAGE_H
#define CTR_POOL_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include "base/error.h"
#include "system/pool.h"

struct pool_image
{
  char *key;     /* TEMPLATE-HASH */
  uint64_t size; /* bytes of its files */
  char **users;  /* the containers (staging ones too) whose volume starts from it */
};

/* Whether creates in p start from a shared base (dir, btrfs, lvm, overlay; not the store
   itself, not a rootless dir pool). */
bool pool_image_shared (const struct pool *p);
struct pool_image_request
{
  const char *tpath, *tname; /* the template's executable and name */
  char **args;               /* its options */
  const char *name;          /* the container's */
  const char *size;          /* lvm: the thin volume's size (NULL: 4G), part of the key */
};
/* The volume of the container rq->name (its staging directory dfd at dirpath) made from
   the pool's base for the template with those options: the base made first when missing,
   then an overlay over it, a btrfs snapshot, an LVM thin snapshot or a reflinked copy.
   template.conf is copied into dfd; *built_for gets the name the base was built for (for
   pool_image_personalize and the caller's rename in /etc/hostname). */
int pool_image_volume (const char *store, const struct pool *p, const struct pool_image_request *rq,
                       int dfd, const char *dirpath, char **built_for, ctr_error_t *err);
/* The volume's mounted rootfs (dfd's) made the new container's: a /etc/machine-id of its
   own, and /etc/hosts naming name where it named built_for. */
void pool_image_personalize (int dfd, const char *built_for, const char *name);
/* The pool's bases, by key. */
int pool_image_list (const char *store, const struct pool *p, struct pool_image **out, size_t *n,
                     ctr_error_t *err);
void pool_image_list_free (struct pool_image *l, size_t n);
/* Removes the bases no container uses, and what killed builds left; *removed (may be
   NULL) gets their keys. With all, every base must be unused (pool rm): one in use is
   refused, naming its users, and the images directory goes too. */
int pool_image_prune (const char *store, const struct pool *p, bool all, char ***removed,
                      ctr_error_t *err);

#endif
