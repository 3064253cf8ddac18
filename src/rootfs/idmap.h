/* rootfs/idmap: the child's side of idmapped bind mounts (the parent's is in rootfs.h). */
#ifndef CTR_ROOTFS_IDMAP_H
#define CTR_ROOTFS_IDMAP_H

#include <stddef.h>
#include <sys/types.h>
#include "base/error.h"
#include "oci/oci.h"
#include "rootfs/mountopts.h"
#include "rootfs/rootfs.h"

/* Child: attaches the prepared tree of mounts[index] at its destination, with o's flags,
   as a bind mount is (symlink-safe, onto an O_PATH fd of the destination). */
int rootfs_idmap_mount (struct rootfs_ctx *ctx, size_t index, const struct oci_mount *m,
                        const struct mount_opts *o, ctr_error_t *err);

/* A detached clone of the mount at src (not its submounts), idmapped with the user namespace
   userns_fd (mount_setattr MOUNT_ATTR_IDMAP); -1 with the reason in words. */
int rootfs_idmap_clone (const char *src, int userns_fd, ctr_error_t *err);

#endif
