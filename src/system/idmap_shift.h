/* idmap_shift: the rootfs of an unprivileged system container whose filesystem cannot be
   idmapped, chowned into its id range once (and back). */
#ifndef CTR_SYSTEM_IDMAP_SHIFT_H
#define CTR_SYSTEM_IDMAP_SHIFT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "system/store.h"

/* 1 when the filesystem of rootfs can be idmapped (mount_setattr
   MOUNT_ATTR_IDMAP on a clone of it), 0 when not. */
int idmap_probe (const char *rootfs, ctr_error_t *err);
struct idmap_shift_req
{
  uint32_t from_uid, from_gid, to_uid, to_gid, count;
};
/* Every owner in [from, from+count) of the tree at rootfd (path for messages) moved by the
   same offset into [to, to+count), with lchown semantics: setuid/setgid bits and file
   capabilities kept (the latter as version 3 with the new root id), other ids as they
   are, nothing on another filesystem. POSIX ACL entries naming ids are not shifted. */
int idmap_shift_tree (int rootfd, const char *path, const struct idmap_shift_req *r,
                      ctr_error_t *err);
/* The rootfs of the container at dirpath (dirfd) shifted into m's range when its
   filesystem cannot be idmapped (m->idmap_shifted set then), or back to 0 with back. */
int idmap_shift_rootfs (int dirfd, const char *dirpath, struct store_meta *m, bool back,
                        ctr_error_t *err);
/* A clone of a shifted container: its copy moved from from's range into to's. */
int idmap_shift_clone (int dirfd, const char *name, const struct store_meta *from,
                       const struct store_meta *to, ctr_error_t *err);

#endif
