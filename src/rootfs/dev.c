/* rootfs/dev: device nodes, /dev symlinks, ptmx and the console, created from the rootfs fd. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "rootfs/dev.h"
#include "rootfs/context.h"
#include "rootfs/mounts.h"
#include "rootfs/paths.h"
#include "base/util.h"

struct dev_spec
{
  const char *path;
  mode_t type; /* S_IFCHR, S_IFBLK, S_IFIFO */
  dev_t rdev;
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

static const struct
{
  const char *path;
  unsigned int major, minor;
} default_devices[] = {
  { "/dev/null", 1, 3 },   { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
  { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static const struct
{
  const char *target, *name;
} dev_symlinks[] = {
  { "/proc/self/fd", "fd" },
  { "/proc/self/fd/0", "stdin" },
  { "/proc/self/fd/1", "stdout" },
  { "/proc/self/fd/2", "stderr" },
};

/* A directory devices are created in. On a tmpfs ctr just mounted at /dev (no default
   ACL), with umask 0, mknod gives the exact mode and the owner is known: no chmod, and a
   chown only when the config asks for another owner. */
struct dev_dir
{
  char *path; /* as derived from the device path ("/dev") */
  int fd;
  bool exact;
  uid_t uid;
  gid_t gid;
};

static void
dev_dir_release (struct dev_dir *dd)
{
  if (dd->fd >= 0)
    close (dd->fd);
  free (dd->path);
  dd->fd = -1;
  dd->path = NULL;
}

/* Splits a device path into its directory and name; "." and ".." are no device names. */
static int
split_device_path (const char *path, char **dir, const char **name, ctr_error_t *err)
{
  const char *slash = strrchr (path, '/');
  if (slash == NULL || slash[1] == '\0' || strcmp (slash + 1, ".") == 0
      || strcmp (slash + 1, "..") == 0)
    return ctr_error (err, EINVAL, "invalid device path `%s`", path);
  *name = slash + 1;
  *dir = slash == path ? xstrdup ("/") : xstrndup (path, slash - path);
  return 0;
}

/* The directory of a device: /dev itself (already open), the last one used, or opened
   (created) without following any symlink (rule 3). */
static int
device_dir (struct rootfs_ctx *ctx, struct dev_dir *dev, struct dev_dir *other, const char *dir,
            struct dev_dir **out, ctr_error_t *err)
{
  cleanup_free char *clean = path_clean (dir);
  if (strcmp (clean, "/dev") == 0)
    return (*out = dev), 0;
  *out = other;
  if (other->path && strcmp (other->path, clean) == 0)
    return 0;
  dev_dir_release (other);
  other->fd = mkpath_in_root (ctx->rootfs_fd, clean, true, RESOLVE_NO_SYMLINKS, NULL, err);
  if (other->fd < 0)
    return -1;
  other->path = steal_ptr (clean);
  other->exact = false;
  return 0;
}

/* Whatever the image left at the name goes (a symlink there must never be followed);
   a mount point stays: someone mounted a device there on purpose. */
static int
clear_entry (int dir, const char *name, const char *path, bool *busy, ctr_error_t *err)
{
  struct stat st;
  *busy = false;
  if (fstatat (dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : ctr_error (err, errno, "stat `%s`", path);
  if (S_ISDIR (st.st_mode))
    return ctr_error (err, EISDIR, "`%s`", path);
  if (unlinkat (dir, name, 0) == 0)
    return 0;
  if (errno == EBUSY)
    return (*busy = true), 0;
  return ctr_error (err, errno, "remove `%s`", path);
}

/* In a user namespace mknod is not allowed: bind the host's node onto an empty file. */
static int
bind_device (int dir, const char *name, const struct dev_spec *d, ctr_error_t *err)
{
  cleanup_close int src = open (d->path, O_PATH | O_CLOEXEC);
  cleanup_close int dst = -1;
  char buf[FD_PATH_SIZE];
  struct stat st;

  if (src < 0 || fstat (src, &st) < 0)
    return ctr_error (err, errno, "host device `%s`", d->path);
  if ((st.st_mode & S_IFMT) != d->type || st.st_rdev != d->rdev)
    return ctr_error (err, ENODEV, "host `%s` is not device %u:%u", d->path, major (d->rdev),
                      minor (d->rdev));
  dst = openat (dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0)
    return ctr_error (err, errno, "create `%s`", d->path);
  close (steal_fd (dst));
  dst = openat (dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (dst < 0)
    return ctr_error (err, errno, "open `%s`", d->path);
  if (mount_on_fd (fd_path (buf, src), dst, NULL, MS_BIND, NULL) < 0)
    return ctr_error (err, errno, "bind device `%s`", d->path);
  return 0;
}

/* The chown also runs when it would drop set-id bits (it does so on every non-directory,
   whatever the owner): the node ends up as it always did. */
static int
set_owner (const struct dev_dir *dd, const char *name, const struct dev_spec *d, ctr_error_t *err)
{
  bool setid = (d->mode & S_ISUID) || ((d->mode & S_ISGID) && (d->mode & S_IXGRP));
  if (dd->exact && d->uid == dd->uid && d->gid == dd->gid && !setid)
    return 0;
  if ((!dd->exact && fchmodat (dd->fd, name, d->mode & 07777, 0) < 0)
      || fchownat (dd->fd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return ctr_error (err, errno, "set mode and owner of `%s`", d->path);
  return 0;
}

/* mknod first: an entry already there (EEXIST) is cleared and the mknod retried. */
static int
create_device (struct dev_dir *dd, const char *name, const struct dev_spec *d, bool *use_bind,
               ctr_error_t *err)
{
  mode_t perm = d->mode & 07777;
  bool busy = false;
  int r;

  if ((*use_bind || d->type == S_IFIFO) && clear_entry (dd->fd, name, d->path, &busy, err) < 0)
    return -1;
  if (busy)
    return 0;
  if (!*use_bind && d->type != S_IFIFO)
    {
      r = mknodat (dd->fd, name, d->type | perm, d->rdev);
      if (r < 0 && errno == EEXIST)
        {
          if (clear_entry (dd->fd, name, d->path, &busy, err) < 0)
            return -1;
          if (busy)
            return 0;
          r = mknodat (dd->fd, name, d->type | perm, d->rdev);
        }
      if (r == 0)
        return set_owner (dd, name, d, err);
      if (errno != EPERM)
        return ctr_error (err, errno, "mknod `%s`", d->path);
      *use_bind = true;
    }
  if (d->type != S_IFIFO)
    return bind_device (dd->fd, name, d, err);
  if (mknodat (dd->fd, name, S_IFIFO | perm, 0) < 0)
    return ctr_error (err, errno, "mkfifo `%s`", d->path);
  return set_owner (dd, name, d, err);
}

static int
create_one (struct rootfs_ctx *ctx, struct dev_dir *dev, struct dev_dir *other,
            const struct dev_spec *d, bool *use_bind, ctr_error_t *err)
{
  cleanup_free char *dir = NULL;
  /* "/dev/fuse/" and "/dev//fuse" name /dev/fuse, as runc reads them */
  cleanup_free char *path = path_clean (d->path);
  struct dev_dir *dd;
  const char *name = NULL;

  if (split_device_path (path, &dir, &name, err) < 0
      || device_dir (ctx, dev, other, dir, &dd, err) < 0)
    return -1;
  return create_device (dd, name, d, use_bind, err);
}

static int
spec_from_config (const struct oci_device *od, size_t i, struct dev_spec *d, ctr_error_t *err)
{
  memset (d, 0, sizeof *d);
  d->path = od->path;
  switch (od->type)
    {
    case 'c':
    case 'u':
      d->type = S_IFCHR;
      break;
    case 'b':
      d->type = S_IFBLK;
      break;
    case 'p':
      d->type = S_IFIFO;
      break;
    default:
      return ctr_error (err, EINVAL, "linux.devices[%zu]: unknown type `%c`", i, od->type);
    }
  if (d->path == NULL || d->path[0] != '/')
    return ctr_error (err, EINVAL, "linux.devices[%zu]: path must be absolute", i);
  d->rdev = d->type == S_IFIFO ? 0 : makedev (od->major, od->minor);
  d->mode = od->has_file_mode ? od->file_mode & 07777 : 0666;
  d->uid = od->has_uid ? od->uid : 0;
  d->gid = od->has_gid ? od->gid : 0;
  return 0;
}

static bool
config_has_device (const struct oci_linux *l, const char *path)
{
  size_t i;
  for (i = 0; l && i < l->devices_len; i++)
    if (l->devices[i].path && strcmp (l->devices[i].path, path) == 0)
      return true;
  return false;
}

/* See struct dev_dir. The umask is ctr's own until exec (process/ sets the container's). */
static bool
dev_exact (struct rootfs_ctx *ctx, struct dev_dir *dev)
{
  struct stat st;
  if (!ctx->dev_fresh_tmpfs || ctx->new_userns || fstat (dev->fd, &st) < 0)
    return false;
  dev->uid = geteuid ();
  dev->gid = (st.st_mode & S_ISGID) ? st.st_gid : getegid ();
  return true;
}

static int
create_devices (struct rootfs_ctx *ctx, int dev_fd, ctr_error_t *err)
{
  const struct oci_linux *l = ctx->config->linux_;
  struct dev_dir dev = { .fd = dev_fd }, other = { .fd = -1 };
  bool use_bind = ctx->new_userns;
  mode_t old_umask = 0;
  struct dev_spec d;
  size_t i;
  int r = 0;

  dev.exact = dev_exact (ctx, &dev);
  if (dev.exact)
    old_umask = umask (0);
  for (i = 0; r == 0 && i < ARRAY_SIZE (default_devices); i++)
    {
      if (config_has_device (l, default_devices[i].path))
        continue;
      d = (struct dev_spec){ default_devices[i].path,
                             S_IFCHR,
                             makedev (default_devices[i].major, default_devices[i].minor),
                             0666,
                             0,
                             0 };
      r = create_one (ctx, &dev, &other, &d, &use_bind, err);
    }
  for (i = 0; r == 0 && l && i < l->devices_len; i++)
    if (spec_from_config (&l->devices[i], i, &d, err) < 0
        || create_one (ctx, &dev, &other, &d, &use_bind, err) < 0)
      r = ctr_error_wrap (err, "linux.devices[%zu]", i);
  if (dev.exact)
    umask (old_umask);
  dev_dir_release (&other);
  return r;
}

static int
dev_links (int dev, ctr_error_t *err)
{
  struct stat st;
  size_t i;

  for (i = 0; i < ARRAY_SIZE (dev_symlinks); i++)
    if (symlinkat (dev_symlinks[i].target, dev, dev_symlinks[i].name) < 0 && errno != EEXIST)
      return ctr_error (err, errno, "symlink `/dev/%s`", dev_symlinks[i].name);
  if (stat ("/proc/kcore", &st) == 0 && symlinkat ("/proc/kcore", dev, "core") < 0
      && errno != EEXIST)
    return ctr_error (err, errno, "symlink `/dev/core`");
  /* ptmx must be the container's devpts one, whatever the image had */
  if (symlinkat ("pts/ptmx", dev, "ptmx") == 0)
    return 0;
  if (errno != EEXIST || unlinkat (dev, "ptmx", 0) < 0)
    return ctr_error (err, errno, "replace `/dev/ptmx`");
  if (symlinkat ("pts/ptmx", dev, "ptmx") < 0)
    return ctr_error (err, errno, "symlink `/dev/ptmx`");
  return 0;
}

int
rootfs_setup_dev (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  const struct oci_process *p = ctx->config->process;
  cleanup_close int dev = -1;
  int fd;

  dev = mkpath_in_root (ctx->rootfs_fd, "/dev", true, RESOLVE_NO_SYMLINKS, NULL, err);
  if (dev < 0 || create_devices (ctx, dev, err) < 0 || dev_links (dev, err) < 0)
    return ctr_error_wrap (err, "/dev");
  /* the mount point rootfs_mount_console binds the pty onto */
  if (p && p->terminal)
    {
      fd = openat (dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0 && errno != EEXIST)
        return ctr_error (err, errno, "/dev: create `/dev/console`");
      if (fd >= 0)
        close (fd);
    }
  return 0;
}

/* After pivot: the pty slave onto /dev/console (an existing symlink there is replaced). */
int
rootfs_mount_console (struct rootfs_ctx *ctx, int pty_slave_fd, ctr_error_t *err)
{
  cleanup_close int dev = -1, target = -1;
  char src[FD_PATH_SIZE];
  struct stat st;
  bool ok;

  if (rootfs_check_proc (ctx, err) < 0)
    return ctr_error_wrap (err, "/dev/console");
  dev = mkpath_in_root (ctx->rootfs_fd, "/dev", true, RESOLVE_NO_SYMLINKS, NULL, err);
  if (dev < 0)
    return ctr_error_wrap (err, "/dev/console");
  ok = fstatat (dev, "console", &st, AT_SYMLINK_NOFOLLOW) == 0
       && (S_ISREG (st.st_mode) || S_ISCHR (st.st_mode));
  if (!ok)
    {
      int fd;
      if (unlinkat (dev, "console", 0) < 0 && errno != ENOENT)
        return ctr_error (err, errno, "remove `/dev/console`");
      fd = openat (dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0)
        return ctr_error (err, errno, "create `/dev/console`");
      close (fd);
    }
  target = openat (dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (target < 0)
    return ctr_error (err, errno, "open `/dev/console`");
  if (mount_on_fd (fd_path (src, pty_slave_fd), target, NULL, MS_BIND, NULL) < 0)
    return ctr_error (err, errno, "bind pty onto `/dev/console`");
  return 0;
}
