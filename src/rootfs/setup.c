/* setup: the rootfs setup sequence: propagation, root bind, config mounts, /dev, sysctl, masked
   paths, pivot_root, read-only paths. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/magic.h>

#include "rootfs/context.h"
#include "rootfs/config_mounts.h"
#include "rootfs/dev.h"
#include "rootfs/mountinfo.h"
#include "rootfs/mountopts.h"
#include "rootfs/mounts.h"
#include "rootfs/paths.h"
#include "base/util.h"

static const char *
root_propagation (const struct rootfs_ctx *ctx)
{
  const struct oci_linux *l = ctx->config->linux_;
  return l && l->rootfs_propagation && *l->rootfs_propagation ? l->rootfs_propagation : NULL;
}

/* *unshared: afterwards no mount in the namespace is shared (a recursive slave or private
   change leaves none). */
static int
set_root_propagation (struct rootfs_ctx *ctx, unsigned long fallback, bool *unshared,
                      ctr_error_t *err)
{
  const char *name = root_propagation (ctx);
  unsigned long flags = fallback;
  if (name)
    {
      flags = propagation_flags (name);
      if (flags == 0)
        return ctr_error (err, EINVAL, "linux.rootfsPropagation: unknown value `%s`", name);
      /* an unbindable "/" would refuse the bind of the rootfs: private until finalize */
      if (fallback && (flags & MS_UNBINDABLE))
        flags = MS_PRIVATE | (flags & MS_REC);
    }
  else if (flags == 0)
    return 0;
  if (mount (NULL, "/", NULL, flags, NULL) < 0)
    return ctr_error (err, errno, "linux.rootfsPropagation: set propagation of `/`");
  if (unshared)
    *unshared = (flags & MS_REC) && (flags & (MS_SLAVE | MS_PRIVATE));
  return 0;
}

/* pivot_root refuses a new root whose parent mount is shared, and a shared parent would
   also carry our bind mount back to the host. Only needed when "/" was not made
   recursively slave or private (linux.rootfsPropagation). */
static int
make_parent_private (struct rootfs_ctx *ctx, int root_fd, ctr_error_t *err)
{
  const struct mountinfo *mi, *p;
  size_t len;

  ctx->root_path = fd_realpath (root_fd);
  if (ctx->root_path == NULL)
    return ctr_error (err, errno, "rootfs `%s`", ctx->rootfs);
  if (rootfs_mountinfo (ctx, &mi, &len, err) < 0)
    return -1;
  p = mountinfo_find_parent (mi, len, ctx->root_path);
  if (p && strstr (p->optional, "shared:")
      && mount (NULL, p->mountpoint, NULL, MS_PRIVATE, NULL) < 0)
    return ctr_error (err, errno, "make `%s` private", p->mountpoint);
  return 0;
}

static int
open_devnull (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  struct stat st;
  ctx->devnull_fd = open ("/dev/null", O_PATH | O_CLOEXEC);
  if (ctx->devnull_fd < 0 || fstat (ctx->devnull_fd, &st) < 0)
    return ctr_error (err, errno, "open `/dev/null`");
  if (!S_ISCHR (st.st_mode) || st.st_rdev != makedev (1, 3))
    return ctr_error (err, EINVAL, "`/dev/null` is not the null device (char 1:3)");
  return 0;
}

/* --no-pivot (runc's msMoveRoot): host proc and sysfs mounts go first, as the kernel would
   otherwise let them reveal more than the container's; other host mounts stay below the
   chroot. */
static int
drop_host_pseudo_mounts (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  struct mountinfo *mi = NULL;
  const char *root = rootfs_root_path (ctx);
  size_t len, i, n;
  int r = 0;

  if (root == NULL)
    return ctr_error (err, errno, "rootfs `%s`", ctx->rootfs);
  n = strlen (root);
  /* a fresh copy: this filters the host's mounts as they are now */
  if (mountinfo_read (&mi, &len, err) < 0)
    return -1;
  for (i = len; i-- > 0 && r == 0;)
    {
      const char *p = mi[i].mountpoint;
      if (strcmp (mi[i].fstype, "proc") != 0 && strcmp (mi[i].fstype, "sysfs") != 0)
        continue;
      if (strncmp (p, root, n) == 0 && (p[n] == '/' || p[n] == '\0'))
        continue;
      if (mount (NULL, p, NULL, MS_SLAVE | MS_REC, NULL) < 0 && errno == ENOENT)
        continue;
      if (umount2 (p, MNT_DETACH) == 0)
        continue;
      if ((errno != EINVAL && errno != EPERM) || mount ("tmpfs", p, "tmpfs", 0, NULL) < 0)
        r = ctr_error (err, errno, "hide host `%s`", p);
    }
  mountinfo_free (mi, len);
  return r;
}

static int
move_root (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  if (drop_host_pseudo_mounts (ctx, err) < 0)
    return -1;
  if (fchdir (ctx->rootfs_fd) < 0)
    return ctr_error (err, errno, "chdir to rootfs");
  if (mount (".", "/", NULL, MS_MOVE, NULL) < 0)
    return ctr_error (err, errno, "move rootfs onto `/`");
  if (chroot (".") < 0)
    return ctr_error (err, errno, "chroot");
  if (chdir ("/") < 0)
    return ctr_error (err, errno, "chdir `/`");
  return 0;
}

int
rootfs_pivot (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  cleanup_close int old_root = -1;

  if (ctx->rootfs_fd < 0)
    return ctr_error (err, EINVAL, "pivot_root before the rootfs was prepared");
  /* the caller's namespace keeps its root: pivot_root or a move onto "/" would change it
     for every process there (runc chroots too) */
  if (ctx->shares_mount_ns)
    {
      if (fchdir (ctx->rootfs_fd) < 0 || chroot (".") < 0 || chdir ("/") < 0)
        return ctr_error (err, errno, "chroot into rootfs `%s`", ctx->rootfs);
      ctx->pivoted = true;
      return 0;
    }
  if (ctx->no_pivot)
    {
      if (move_root (ctx, err) < 0)
        return -1;
      ctx->pivoted = true;
      return 0;
    }
  old_root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (old_root < 0)
    return ctr_error (err, errno, "open `/`");
  if (fchdir (ctx->rootfs_fd) < 0)
    return ctr_error (err, errno, "chdir to rootfs");
  /* pivot_root(".", ".") stacks the old root on top of the new one; it is then
     detached from there, without needing a directory for it inside the container. */
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return ctr_error (err, errno, "pivot_root");
  if (fchdir (old_root) < 0)
    return ctr_error (err, errno, "chdir to the old root");
  /* the unmount must not propagate to the host */
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return ctr_error (err, errno, "make the old root a slave");
  if (umount2 (".", MNT_DETACH) < 0)
    return ctr_error (err, errno, "unmount the old root");
  /* a root attached on top of the old one (attach_root_tree) leaves the old root covered by
     that first attachment when another mount went onto "/" after it: the unmount above took
     the top one; the old root goes once nothing covers it (then "." is in no namespace) */
  for (int i = 0; ctx->root_stacked && i < 8 && umount2 (".", MNT_DETACH) == 0; i++)
    ;
  if (chdir ("/") < 0)
    return ctr_error (err, errno, "chdir `/`");
  ctx->pivoted = true;
  return 0;
}

static int
check_sysctl_key (const char *key, ctr_error_t *err)
{
  const char *s;
  if (*key == '\0' || strchr (key, '/'))
    return ctr_error (err, EINVAL, "linux.sysctl: invalid key `%s`", key);
  /* an empty component would turn into "..", "." or "//" once dots become slashes */
  for (s = key; *s; s++)
    if (*s == '.' && (s == key || s[1] == '\0' || s[1] == '.'))
      return ctr_error (err, EINVAL, "linux.sysctl: invalid key `%s`", key);
  return 0;
}

static int
apply_sysctl (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  const struct oci_linux *l = ctx->config->linux_;
  cleanup_close int proc_sys = -1;
  struct statfs sf;
  size_t i;

  if (l == NULL || l->sysctl_len == 0)
    return 0;
  proc_sys
      = resolve_in_root (ctx->rootfs_fd, "/proc/sys", O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
  if (proc_sys < 0 || fstatfs (proc_sys, &sf) < 0)
    return ctr_error (err, errno, "linux.sysctl: open `/proc/sys`");
  if (sf.f_type != PROC_SUPER_MAGIC)
    return ctr_error (err, EINVAL, "linux.sysctl: `/proc/sys` is not a procfs");
  for (i = 0; i < l->sysctl_len; i++)
    {
      const char *key = l->sysctl[i].key, *value = l->sysctl[i].value ? l->sysctl[i].value : "";
      cleanup_free char *path = NULL;
      cleanup_close int fd = -1;
      char *s;
      if (check_sysctl_key (key, err) < 0)
        return -1;
      path = xstrdup (key);
      for (s = path; *s; s++)
        if (*s == '.')
          *s = '/';
      fd = resolve_in_root (proc_sys, path, O_WRONLY | O_TRUNC, RESOLVE_NO_SYMLINKS);
      if (fd < 0)
        return ctr_error (err, errno, "linux.sysctl: `%s`", key);
      if (write_all (fd, value, strlen (value)) < 0)
        return ctr_error (err, errno, "linux.sysctl: `%s`: write `%s`", key, value);
    }
  return 0;
}

/* Masked and read-only paths are resolved inside the new root: a symlink in the image
   can only point at something else inside it (security rule 5). Directories get an empty
   read-only tmpfs, anything else the host's /dev/null; asking for a directory first
   tells which without a stat. */
static int
mask_paths (struct rootfs_ctx *ctx, const struct oci_linux *l, ctr_error_t *err)
{
  char src[FD_PATH_SIZE];
  size_t i;

  for (i = 0; i < l->masked_paths_len; i++)
    {
      const char *p = l->masked_paths[i];
      cleanup_close int fd = resolve_in_root (ctx->rootfs_fd, p, O_PATH | O_DIRECTORY, 0);
      bool is_dir = fd >= 0;
      int r;
      if (fd < 0 && errno == ENOTDIR)
        fd = resolve_in_root (ctx->rootfs_fd, p, O_PATH, 0);
      if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        continue;
      if (fd < 0)
        return ctr_error (err, errno, "linux.maskedPaths: `%s`", p);
      if (is_dir)
        r = mount_on_fd ("tmpfs", fd, "tmpfs", MS_RDONLY, NULL);
      else
        r = mount_on_fd (fd_path (src, ctx->devnull_fd), fd, NULL, MS_BIND, NULL);
      if (r < 0)
        return ctr_error (err, errno, "linux.maskedPaths: `%s`: mount", p);
    }
  return 0;
}

/* In the caller's mount namespace (no `mount` entry in linux.namespaces) the container's
   mounts live in that namespace for as long as the container does. runc makes them at the
   rootfs itself and leaves them there for good (and makes the caller's "/" rslave); ctr
   makes them under a private bind of the root onto a directory of the container's state,
   which `delete` unmounts with the state: the caller's own mounts are not changed, and
   nothing is left once the container is gone. */
static int
bind_rootfs_shared (struct rootfs_ctx *ctx, int under, ctr_error_t *err)
{
  char buf[FD_PATH_SIZE];

  if (ctx->shared_root == NULL)
    return ctr_error (err, EINVAL, "no directory to set up the root in");
  if (mount (fd_path (buf, under), ctx->shared_root, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ctr_error (err, errno, "bind rootfs `%s` onto `%s`", ctx->rootfs, ctx->shared_root);
  ctx->rootfs_fd = open (ctx->shared_root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (ctx->rootfs_fd < 0)
    return ctr_error (err, errno, "open `%s`", ctx->shared_root);
  if (mount_on_fd (NULL, ctx->rootfs_fd, NULL, MS_PRIVATE | MS_REC, NULL) < 0)
    return ctr_error (err, errno, "make `%s` private", ctx->shared_root);
  return 0;
}

int
rootfs_open_root_tree (const char *rootfs, bool new_userns, bool shares_mount_ns, bool no_pivot,
                       ctr_error_t *err)
{
  int tree;
  if (!new_userns || shares_mount_ns || no_pivot || is_rootless ())
    return -1;
  tree = open_tree (AT_FDCWD, rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0 && errno != ENOSYS)
    return ctr_error (err, errno, "rootfs `%s`", rootfs);
  return tree;
}

/* The parent's clone of the rootfs attached on top of this namespace's "/" (a new user
   namespace's root may not reach the rootfs path): the tree's fd is the mount, and
   pivot_root takes it from there; the old root, stacked below, goes with the pivot. */
static int
attach_root_tree (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  cleanup_close int tree = steal_fd (ctx->root_tree);
  bool unshared = false;
  if (set_root_propagation (ctx, MS_SLAVE | MS_REC, &unshared, err) < 0)
    return -1;
  /* pivot_root refuses a new root whose parent ("/" here) is shared */
  if (!unshared && mount (NULL, "/", NULL, MS_PRIVATE, NULL) < 0)
    return ctr_error (err, errno, "make `/` private");
  if (move_mount (tree, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return ctr_error (err, errno, "attach rootfs `%s`", ctx->rootfs);
  ctx->rootfs_fd = steal_fd (tree);
  ctx->root_stacked = true;
  return 0;
}

/* The rootfs bound onto itself (pivot_root needs a mount point); ctx->rootfs_fd is the
   new mount. */
static int
bind_rootfs (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  cleanup_close int under = -1;
  bool unshared = false;
  char buf[FD_PATH_SIZE];

  if (ctx->root_tree >= 0)
    return attach_root_tree (ctx, err);
  under = open (ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (under < 0)
    return ctr_error (err, errno, "rootfs `%s`", ctx->rootfs);
  if (ctx->shares_mount_ns)
    return bind_rootfs_shared (ctx, under, err);
  if (set_root_propagation (ctx, MS_SLAVE | MS_REC, &unshared, err) < 0)
    return -1;
  if (!unshared && make_parent_private (ctx, under, err) < 0)
    return -1;
  if (mount (fd_path (buf, under), buf, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ctr_error (err, errno, "bind rootfs `%s`", ctx->rootfs);
  ctx->rootfs_fd = open (ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ctx->rootfs_fd < 0)
    return ctr_error (err, errno, "open rootfs `%s`", ctx->rootfs);
  return 0;
}

/* A missing process.cwd is made (0755, root's), as runc makes it: before the root may turn
   read-only, symlink-safe like every path in the root. */
static int
create_cwd (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  const struct oci_process *p = ctx->config->process;
  cleanup_close int fd = -1;

  if (p == NULL || p->cwd == NULL || p->cwd[0] != '/')
    return 0;
  fd = mkpath_in_root (ctx->rootfs_fd, p->cwd, true, 0, NULL, err);
  if (fd < 0)
    return ctr_error_wrap (err, "process.cwd `%s`", p->cwd);
  return 0;
}

int
rootfs_prepare (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  bool dev_bound;

  if (ctx->rootfs == NULL)
    return ctr_error (err, EINVAL, "no rootfs given");
  if (open_devnull (ctx, err) < 0 || bind_rootfs (ctx, err) < 0)
    return -1;
  if (rootfs_mount_config (ctx, &dev_bound, err) < 0 || rootfs_reopen_root (ctx, err) < 0)
    return -1;
  if (!dev_bound && rootfs_setup_dev (ctx, err) < 0)
    return -1;
  if (create_cwd (ctx, err) < 0)
    return -1;
  /* Masking binds the host's /dev/null, which pivot_root detaches from this namespace
     (binding from a detached mount fails with EINVAL): it happens here, and sysctls
     before it, so that a key under a masked path still reaches the kernel. */
  if (apply_sysctl (ctx, err) < 0)
    return -1;
  return ctx->config->linux_ ? mask_paths (ctx, ctx->config->linux_, err) : 0;
}

/* Kernels before 5.12 (no mount_setattr) or 5.2 (no open_tree): bind, reopen, remount,
   through the container's /proc (checked to be a procfs). */
static int
readonly_bind_legacy (struct rootfs_ctx *ctx, int fd, int tree, const char *p, ctr_error_t *err)
{
  cleanup_close int top = -1;
  char src[FD_PATH_SIZE];

  if (rootfs_check_proc (ctx, err) < 0)
    return -1;
  if (tree >= 0)
    {
      if (move_mount (tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return ctr_error (err, errno, "`%s`: attach", p);
      return remount_bind (tree, MS_RDONLY, 0) < 0
                 ? ctr_error (err, errno, "`%s`: remount read-only", p)
                 : 0;
    }
  if (mount_on_fd (fd_path (src, fd), fd, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ctr_error (err, errno, "`%s`: bind", p);
  top = reopen_mounted (ctx->rootfs_fd, p, fd, err);
  if (top < 0)
    return -1;
  if (remount_bind (top, MS_RDONLY, 0) < 0)
    return ctr_error (err, errno, "`%s`: remount read-only", p);
  return 0;
}

/* The path bound onto itself read-only: a detached clone is made read-only before it is
   attached (never visible writable), all by fd, no /proc in between. As in runc, only the
   top mount of the recursive bind is read-only. */
static int
readonly_bind (struct rootfs_ctx *ctx, int fd, const char *p, ctr_error_t *err)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
  cleanup_close int tree
      = open_tree (fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
  if (tree < 0)
    return errno == ENOSYS ? readonly_bind_legacy (ctx, fd, -1, p, err)
                           : ctr_error (err, errno, "`%s`: clone", p);
  if (mount_setattr (tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    return errno == ENOSYS ? readonly_bind_legacy (ctx, fd, tree, p, err)
                           : ctr_error (err, errno, "`%s`: make read-only", p);
  if (move_mount (tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return ctr_error (err, errno, "`%s`: attach", p);
  return 0;
}

static int
readonly_paths (struct rootfs_ctx *ctx, const struct oci_linux *l, ctr_error_t *err)
{
  size_t i;

  for (i = 0; i < l->readonly_paths_len; i++)
    {
      const char *p = l->readonly_paths[i];
      cleanup_close int fd = resolve_in_root (ctx->rootfs_fd, p, O_PATH, 0);
      if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        continue;
      if (fd < 0)
        return ctr_error (err, errno, "linux.readonlyPaths: `%s`", p);
      if (readonly_bind (ctx, fd, p, err) < 0)
        return ctr_error_wrap (err, "linux.readonlyPaths");
    }
  return 0;
}

/* mount_setattr changes only the read-only flag; the remount fallback must repeat the
   flags that a user namespace locks. */
static int
root_readonly (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
  unsigned long keep;

  if (mount_setattr (ctx->rootfs_fd, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0)
    return 0;
  if (errno != ENOSYS)
    return ctr_error (err, errno, "root.readonly: make `/` read-only");
  keep = fd_mount_flags (ctx->rootfs_fd) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (mount (NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
    return ctr_error (err, errno, "root.readonly: remount `/` read-only");
  return 0;
}

/* The read-only /dev the config asked for, now that everything under it is in place: the
   /dev mount alone, its submounts (pts, mqueue, shm) keep their own flags. */
static int
dev_readonly (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
  cleanup_close int fd
      = resolve_in_root (ctx->rootfs_fd, "/dev", O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
  unsigned long keep;

  if (fd < 0)
    return ctr_error (err, errno, "/dev: open to make it read-only");
  if (mount_setattr (fd, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0)
    return 0;
  if (errno != ENOSYS)
    return ctr_error (err, errno, "/dev: make read-only");
  if (rootfs_check_proc (ctx, err) < 0)
    return -1;
  keep = fd_mount_flags (fd) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (remount_bind (fd, MS_RDONLY | keep, 0) < 0)
    return ctr_error (err, errno, "/dev: remount read-only");
  return 0;
}

int
rootfs_finalize (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  const struct oci_linux *l = ctx->config->linux_;

  if (ctx->dev_readonly && dev_readonly (ctx, err) < 0)
    return -1;
  if (l && l->readonly_paths_len && readonly_paths (ctx, l, err) < 0)
    return -1;
  if (ctx->config->root.readonly && root_readonly (ctx, err) < 0)
    return -1;
  return set_root_propagation (ctx, 0, NULL, err);
}
