/* mountinfo: /proc/self/mountinfo as entries. */
#ifndef CTR_ROOTFS_MOUNTINFO_H
#define CTR_ROOTFS_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"

struct mountinfo
{
  int id;
  int parent;
  char *root;       /* root of the mount inside its filesystem */
  char *mountpoint; /* unescaped */
  char *optional;   /* "shared:1 master:2" (may be "") */
  char *fstype;
  char *source;
  char *superopts;
};

/* Reads /proc/self/mountinfo; *out is terminated by an entry with mountpoint NULL. */
int mountinfo_read (struct mountinfo **out, size_t *len, ctr_error_t *err);
void mountinfo_free (struct mountinfo *m, size_t len);
/* The entry whose mountpoint is the longest prefix of path (the last one mounted wins). */
const struct mountinfo *mountinfo_find_parent (const struct mountinfo *m, size_t len,
                                               const char *path);
/* True when comma-separated list has exactly the token. */
bool opt_list_has (const char *list, const char *token);

#endif
