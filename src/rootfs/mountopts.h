/* mountopts: runtime-spec mount options as MS_* flags, propagation, attributes. */
#ifndef CTR_ROOTFS_MOUNTOPTS_H
#define CTR_ROOTFS_MOUNTOPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"

struct mount_opts
{
  unsigned long flags;          /* MS_* to set */
  unsigned long cleared;        /* MS_* explicitly cleared (rw, suid, dev, exec ...) */
  unsigned long propagation[8]; /* MS_PRIVATE|MS_REC ... in order given */
  size_t propagation_len;
  unsigned int attr_set; /* recursive MOUNT_ATTR_* (rro, rnosuid ...) */
  unsigned int attr_clr;
  char *data; /* unknown options joined with commas (NULL: none) */
  bool tmpcopyup;
  bool idmap;           /* idmap or ridmap: an idmapped bind (rootfs/idmap.c) */
  bool idmap_recursive; /* ridmap: the submounts of an rbind too */
};

void mount_opts_parse (char *const *options, size_t n, struct mount_opts *out);
/* One propagation keyword ("rslave") to MS_* flags; 0 if unknown. */
unsigned long propagation_flags (const char *name);
void mount_opts_release (struct mount_opts *o);

#endif
