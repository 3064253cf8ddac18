/* system/userns_child: an unprivileged ctr's children as root of a user namespace with the
   user's own mapping (docs/rootless.md). */
#ifndef CTR_USERNS_CHILD_H
#define CTR_USERNS_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"

/* p: two pipes made with pipe2 (p[0..1], p[2..3]), before the fork. The child calls
   userns_child_enter: a new user namespace, root in it once the parent has mapped it;
   the parent calls userns_child_map with the child's pid. Each closes the ends it does
   not use. */
int userns_child_enter (int p[4]);
int userns_child_map (pid_t pid, int p[4], ctr_error_t *err);

/* fn(arg, out, err) as root: in place for root (or a child already root of the user's
   namespace); for an unprivileged ctr in a child that is root of a user namespace with
   the user's own mapping, as its containers have, where files of the subordinate range
   keep their owners when copied, archived or unpacked, and the user's own files are
   root's. The child's error (status and message) and *out (a string, or NULL) come back
   to the caller; a kill of the caller kills the child. What the child changes in memory
   stays in the child. */
#define USERNS_ANSWER_MAX 8192
typedef int (*userns_fn) (void *arg, char **out, ctr_error_t *err);
int userns_as_root (userns_fn fn, void *arg, char **out, ctr_error_t *err);
/* userns_as_root, and the one fd fn handed back (userns_handback_fd) in *fd (else -1):
   what the child made that must outlive it (a directory whose lock is held, the root of a
   mount made in the child's mount namespace, which stays reachable through the fd). */
int userns_as_root_fd (userns_fn fn, void *arg, char **out, int *fd, ctr_error_t *err);
/* In fn: fd goes back to userns_as_root_fd's caller when fn succeeds (closed otherwise,
   and when no fd was asked for). Takes fd. */
void userns_handback_fd (int fd);
/* fn(arg, out, err) in a forked child as it is (to join namespaces, say), answering as
   userns_as_root's does. */
int child_call (userns_fn fn, void *arg, char **out, ctr_error_t *err);

/* In userns_as_root's child, which has a mount namespace of its own: the directory of fd
   (given by the caller, so in the caller's namespace, where the child's mounts are not
   seen through it) opened again by its path. A new fd, or -1. */
int userns_reopen_dir (int fd, ctr_error_t *err);

/* The arguments of a storage verb run through userns_as_root (src/system/storage.c,
   archive.c, archive_import.c). */
struct ctr_context;
struct userns_verb
{
  const struct ctr_context *ctx;
  const char *a, *b, *c;
  bool flag;
  int fd;
};

/* remove_tree_at, and when an unprivileged user may not (a directory of one of the
   container's other users), again as root of such a user namespace. */
int store_remove_tree_at (int dirfd, const char *name, ctr_error_t *err);

#endif
