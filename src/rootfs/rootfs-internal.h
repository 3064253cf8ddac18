/* rootfs-internal: helpers shared by the rootfs/ files (not part of the module contract). */
#ifndef CTR_ROOTFS_INTERNAL_H
#define CTR_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "rootfs/rootfs.h"

#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#else
struct open_how
{
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#endif

/* ---- rootfs.c ---- */

/* After pivot, /proc/self/fd paths go through the container's /proc: make sure it is a
   procfs (ctr mounted it) before relying on it. */
int rootfs_check_proc (struct rootfs_ctx *ctx, ctr_error_t *err);
/* The host path of the rootfs, canonical (from /proc/self/fd; NULL after pivot or on
   failure, errno set). */
const char *rootfs_root_path (struct rootfs_ctx *ctx);
/* The mount table as read the first time it was needed (cached in ctx). */
int rootfs_mountinfo (struct rootfs_ctx *ctx, const struct mountinfo **mi, size_t *len,
                      ctr_error_t *err);

/* ---- paths.c: symlink-safe lookups inside a root directory fd ---- */

/* Big enough for "/proc/self/fd/" and any int. */
#define FD_PATH_SIZE 32
/* "/proc/self/fd/<fd>": how mount(2) reaches an O_PATH fd. */
const char *fd_path (char buf[FD_PATH_SIZE], int fd);

/* Opens path (absolute or relative, taken as relative to the root) inside root_fd: symlinks
   and ".." never leave the root, magic links are refused. extra_resolve adds RESOLVE_*
   flags (RESOLVE_NO_SYMLINKS for /dev). Returns an fd or -1 with errno set. */
int resolve_in_root (int root_fd, const char *path, int flags, uint64_t extra_resolve);
/* The userspace walker used when openat2 is missing (exposed for tests). O_PATH only. */
int resolve_in_root_walk (int root_fd, const char *path, int flags, bool no_symlinks);
/* Like resolve_in_root (O_PATH), creating missing components: directories, and for the
   last one a directory (is_dir) or an empty regular file. Returns an O_PATH fd; *created
   (may be NULL) says whether the last component was created. On failure (*err)->status
   is the errno (ELOOP: a symlink on the way with RESOLVE_NO_SYMLINKS). */
int mkpath_in_root (int root_fd, const char *path, bool is_dir, uint64_t extra_resolve,
                    bool *created, ctr_error_t *err);
/* Lexical clean-up of a path inside the root: "a//b/./../c" -> "/a/c" (".." stops at
   "/"). It is where a symlink-free path lands under RESOLVE_IN_ROOT. */
char *path_clean (const char *path);
/* The path of fd relative to the root directory root_path ("/proc/sys"); NULL if outside. */
char *fd_path_in_root (int fd, const char *root_path);
/* Mount id of the mount holding fd (0 if unknown). */
uint64_t fd_mount_id (int fd);

/* ---- mountinfo.c ---- */

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

/* ---- mountopts.c: runtime-spec mount options ---- */

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
  bool idmap; /* idmap/ridmap: refused */
};

void mount_opts_parse (char *const *options, size_t n, struct mount_opts *out);
/* One propagation keyword ("rslave") to MS_* flags; 0 if unknown. */
unsigned long propagation_flags (const char *name);
void mount_opts_release (struct mount_opts *o);

/* ---- mounts.c ---- */

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
/* Propagation keywords and recursive attributes of o, on the mount at fd. */
int mount_apply_post (int fd, const struct mount_opts *o, ctr_error_t *err);
/* Bind-mounts host path source (relative: to ctx->bundle) at dest inside the root, then
   remounts with o's flags and applies its propagation. */
int mount_bind (struct rootfs_ctx *ctx, const char *source, const char *dest,
                const struct mount_opts *o, ctr_error_t *err);
/* Copies the directory tree of src_dir (an O_RDONLY dir fd) into dst_dir. */
int copy_tree (int src_dir, int dst_dir, int depth, ctr_error_t *err);
/* Mounts every config mount; fills *dev_bound when /dev is a bind mount. */
int rootfs_mount_config (struct rootfs_ctx *ctx, bool *dev_bound, ctr_error_t *err);

/* ---- cgroupfs.c ---- */

/* Mounts a `cgroup` or `cgroup2` config mount at dst_fd (path is its in-root path). */
int mount_cgroup (struct rootfs_ctx *ctx, const char *path, int dst_fd, bool v2_requested,
                  const struct mount_opts *o, ctr_error_t *err);

/* ---- dev.c ---- */

/* Default devices, linux.devices, /dev symlinks, ptmx, console placeholder. */
int rootfs_setup_dev (struct rootfs_ctx *ctx, ctr_error_t *err);

#endif
