/* mounts: mount operations on O_PATH fds inside the root. */
#ifndef CTR_ROOTFS_MOUNTS_H
#define CTR_ROOTFS_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"
#include "rootfs/mountopts.h"
#include "rootfs/rootfs.h"

/* mount(2) onto an fd; source may be NULL. -1 with errno set. */
int mount_on_fd (const char *source, int target_fd, const char *type, unsigned long flags,
                 const char *data);
/* MS_RDONLY etc. of an fd's mount (statvfs flags as MS_*). */
unsigned long fd_mount_flags (int fd);
/* Remounts the bind mount at fd with flags|MS_BIND|MS_REMOUNT, keeping nosuid/nodev/
   noexec/ro of the mount unless `cleared` asks otherwise (locked in user namespaces). */
int remount_bind (int fd, unsigned long flags, unsigned long cleared);
/* Re-resolves path after something was mounted on it and checks that the result is on a
   different mount than before_fd (the rootfs could have raced). */
int reopen_mounted (int root_fd, const char *path, int before_fd, ctr_error_t *err);
/* The MS_* flags a bind remount would set, as mount_setattr attributes. Only what the
   config sets or clears changes; the rest of the source's flags (locked or not) stay. */
struct mount_attr;
void mount_attrs_of_flags (unsigned long flags, unsigned long cleared, struct mount_attr *a);
/* Propagation keywords and recursive attributes of o, on the mount at fd. */
int mount_apply_post (int fd, const struct mount_opts *o, ctr_error_t *err);
/* Bind-mounts host path source (relative: to ctx->bundle) at dest inside the root, then
   remounts with o's flags and applies its propagation. */
int mount_bind (struct rootfs_ctx *ctx, const char *source, const char *dest,
                const struct mount_opts *o, ctr_error_t *err);
/* The second half of mount_bind: tree, a detached clone (open_tree OPEN_TREE_CLONE) of
   src_path, gets o's flags and is attached at dest; tree stays the caller's. */
int mount_bind_tree (struct rootfs_ctx *ctx, int tree, const char *src_path, const char *dest,
                     const struct mount_opts *o, ctr_error_t *err);

/* A mount destination: its O_PATH fd, where it is inside the root, whether ctr created it. */
struct mount_dest
{
  int fd;
  char *where;
  bool created;
};
void mount_dest_release (struct mount_dest *d);
#define cleanup_mount_dest __attribute__ ((cleanup (mount_dest_release)))
/* Resolves (creating what is missing) the destination dest inside the root and checks where
   it landed: never the root itself, under /proc only a procfs or the files runc allows.
   src_fd: the source's mount, to tell a procfs (or -1). */
int mount_dest_open (struct rootfs_ctx *ctx, const char *dest, bool is_dir, bool is_proc,
                     int src_fd, struct mount_dest *d, ctr_error_t *err);
/* After a mount onto "/": rootfs_fd becomes the mount on top of the root. */
int rootfs_reopen_root (struct rootfs_ctx *ctx, ctr_error_t *err);
/* Whether m (with its parsed options o) is a bind mount: type bind/rbind or a bind option. */
bool mount_is_bind (const struct oci_mount *m, const struct mount_opts *o);
/* Whether o has propagation or recursive attributes to apply after the mount. */
bool mount_needs_post (const struct mount_opts *o);

#endif
