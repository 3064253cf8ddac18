/* rootfs/mounts: the config's mounts[] (bind, tmpfs, proc, sysfs, mqueue, others) onto O_PATH fds. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "rootfs/rootfs-internal.h"
#include "util.h"

/* Files under /proc that may be mounted over (lxcfs and friends), as runc allows. */
static const char *const proc_mount_allowed[] = {
  "/proc/cpuinfo", "/proc/diskstats",   "/proc/meminfo", "/proc/stat",
  "/proc/swaps",   "/proc/uptime",      "/proc/loadavg", "/proc/slabinfo",
  "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",     "/proc/sys/crypto/fips_enabled",
};

int
mount_on_fd (const char *source, int target_fd, const char *type, unsigned long flags,
             const char *data)
{
  char buf[FD_PATH_SIZE];
  return mount (source, fd_path (buf, target_fd), type, flags, data);
}

unsigned long
fd_mount_flags (int fd)
{
  static const struct
  {
    unsigned long st, ms;
  } map[] = {
    { ST_RDONLY, MS_RDONLY },         { ST_NOSUID, MS_NOSUID },         { ST_NODEV, MS_NODEV },
    { ST_NOEXEC, MS_NOEXEC },         { ST_SYNCHRONOUS, MS_SYNCHRONOUS },
    { ST_MANDLOCK, MS_MANDLOCK },     { ST_NOATIME, MS_NOATIME },
    { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
  };
  struct statvfs sv;
  unsigned long r = 0;
  size_t i;
  if (fstatvfs (fd, &sv) < 0)
    return 0;
  for (i = 0; i < ARRAY_SIZE (map); i++)
    if (sv.f_flag & map[i].st)
      r |= map[i].ms;
  return r;
}

int
remount_bind (int fd, unsigned long flags, unsigned long cleared)
{
  /* In a user namespace the kernel locks these on mounts inherited from the host; asking
     for a bind remount without them fails with EPERM, and outside one dropping them
     silently would change what the source had. */
  unsigned long keep = fd_mount_flags (fd) & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  flags &= ~(MS_BIND | MS_REC | MS_REMOUNT);
  return mount_on_fd (NULL, fd, NULL, flags | (keep & ~cleared) | MS_BIND | MS_REMOUNT, NULL);
}

int
reopen_mounted (int root_fd, const char *path, int before_fd, ctr_error_t *err)
{
  int fd = resolve_in_root (root_fd, path, O_PATH, 0);
  uint64_t before, after;
  if (fd < 0)
    return ctr_error (err, errno, "reopen `%s` after mounting", path);
  before = before_fd >= 0 ? fd_mount_id (before_fd) : 0;
  after = fd_mount_id (fd);
  if (before != 0 && before == after)
    {
      close (fd);
      return ctr_error (err, EXDEV, "`%s` is not the new mount (the rootfs changed meanwhile)",
                        path);
    }
  return fd;
}

int
mount_apply_post (int fd, const struct mount_opts *o, ctr_error_t *err)
{
  size_t i;
  for (i = 0; i < o->propagation_len; i++)
    if (mount_on_fd (NULL, fd, NULL, o->propagation[i], NULL) < 0)
      return ctr_error (err, errno, "set mount propagation");
  if (o->attr_set || o->attr_clr)
    {
      struct mount_attr attr = { .attr_set = o->attr_set, .attr_clr = o->attr_clr };
      if (mount_setattr (fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        return ctr_error (err, errno, "mount_setattr (recursive options)");
    }
  return 0;
}

static bool
path_under (const char *prefix, const char *path)
{
  size_t n = strlen (prefix);
  return strncmp (prefix, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Where the destination landed (after symlinks inside the root) decides what is allowed:
   nothing over the root itself, and under /proc only a procfs at /proc and a few files
   (CVE-2019-19921, CVE-2019-16884). */
static int
check_destination (struct rootfs_ctx *ctx, int dst_fd, bool is_proc, int src_fd,
                   ctr_error_t *err)
{
  cleanup_free char *where = fd_path_in_root (dst_fd, ctx->root_path);
  struct statfs sf;
  size_t i;

  if (where == NULL)
    return ctr_error (err, EXDEV, "destination resolves outside the rootfs");
  if (strcmp (where, "/") == 0)
    return ctr_error (err, EINVAL, "refusing to mount over the container root");
  if (!path_under ("/proc", where))
    return 0;
  if (strcmp (where, "/proc") == 0)
    {
      if (is_proc || (src_fd >= 0 && fstatfs (src_fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC))
        return 0;
      return ctr_error (err, EPERM, "`/proc` may only hold a proc mount");
    }
  for (i = 0; i < ARRAY_SIZE (proc_mount_allowed); i++)
    if (strcmp (where, proc_mount_allowed[i]) == 0)
      return 0;
  return ctr_error (err, EPERM, "`%s` is inside /proc", where);
}

static int
open_destination (struct rootfs_ctx *ctx, const char *dest, bool is_dir, bool is_proc, int src_fd,
                  ctr_error_t *err)
{
  int fd = mkpath_in_root (ctx->rootfs_fd, dest, is_dir, 0, err);
  if (fd < 0)
    return -1;
  if (check_destination (ctx, fd, is_proc, src_fd, err) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

int
mount_bind (struct rootfs_ctx *ctx, const char *source, const char *dest,
            const struct mount_opts *o, ctr_error_t *err)
{
  cleanup_free char *src_path = NULL;
  cleanup_close int src_fd = -1, dst_fd = -1, new_fd = -1;
  unsigned long extra = o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  char buf[FD_PATH_SIZE];
  struct stat st;

  if (source == NULL)
    return ctr_error (err, EINVAL, "bind mount without a source");
  if (source[0] != '/' && ctx->bundle)
    src_path = xasprintf ("%s/%s", ctx->bundle, source);
  else
    src_path = xstrdup (source);
  /* the source is a host path named by the (trusted) config: symlinks may be followed */
  src_fd = open (src_path, O_PATH | O_CLOEXEC);
  if (src_fd < 0 || fstat (src_fd, &st) < 0)
    return ctr_error (err, errno, "bind source `%s`", src_path);
  dst_fd = open_destination (ctx, dest, S_ISDIR (st.st_mode), false, src_fd, err);
  if (dst_fd < 0)
    return -1;
  if (mount_on_fd (fd_path (buf, src_fd), dst_fd, NULL, MS_BIND | (o->flags & MS_REC), NULL) < 0)
    return ctr_error (err, errno, "bind `%s`", src_path);
  new_fd = reopen_mounted (ctx->rootfs_fd, dest, dst_fd, err);
  if (new_fd < 0)
    return -1;
  if (extra && remount_bind (new_fd, extra, o->cleared) < 0)
    return ctr_error (err, errno, "remount bind `%s`", src_path);
  return mount_apply_post (new_fd, o, err);
}

/* A copy of the directory under the new tmpfs (tmpcopyup), and its mode when the config
   gives none, as runc does: the mount should look like the directory it covers. */
static int
tmpfs_fill (int lower_fd, int new_fd, const struct stat *old, const struct mount_opts *o,
            ctr_error_t *err)
{
  cleanup_close int upper = openat (new_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (upper < 0)
    return ctr_error (err, errno, "open new tmpfs");
  if (old && !(o->data && strstr (o->data, "mode=")) && fchmod (upper, old->st_mode & 07777) < 0)
    return ctr_error (err, errno, "chmod new tmpfs");
  if (lower_fd >= 0 && copy_tree (lower_fd, upper, 0, err) < 0)
    return ctr_error_wrap (err, "tmpcopyup");
  return 0;
}

static int
mount_tmpfs (struct rootfs_ctx *ctx, const char *source, const char *dest,
             const struct mount_opts *o, ctr_error_t *err)
{
  cleanup_close int dst_fd = -1, new_fd = -1, lower = -1;
  struct stat st;
  bool existed, rw_first;
  unsigned long flags = o->flags;

  dst_fd = resolve_in_root (ctx->rootfs_fd, dest, O_PATH, 0);
  existed = dst_fd >= 0 && fstat (dst_fd, &st) == 0 && S_ISDIR (st.st_mode);
  if (dst_fd >= 0)
    close (steal_fd (dst_fd));
  dst_fd = open_destination (ctx, dest, true, false, -1, err);
  if (dst_fd < 0)
    return -1;
  if (existed && o->tmpcopyup)
    {
      lower = openat (dst_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (lower < 0)
        return ctr_error (err, errno, "open `%s` for tmpcopyup", dest);
    }
  rw_first = (flags & MS_RDONLY) && existed;
  if (rw_first)
    flags &= ~MS_RDONLY;
  if (mount_on_fd (source ? source : "tmpfs", dst_fd, "tmpfs", flags, o->data) < 0)
    return ctr_error (err, errno, "mount tmpfs");
  new_fd = reopen_mounted (ctx->rootfs_fd, dest, dst_fd, err);
  if (new_fd < 0)
    return -1;
  if (existed && tmpfs_fill (lower, new_fd, &st, o, err) < 0)
    return -1;
  if (rw_first && mount_on_fd (NULL, new_fd, NULL, o->flags | MS_REMOUNT, NULL) < 0)
    return ctr_error (err, errno, "remount tmpfs read-only");
  return mount_apply_post (new_fd, o, err);
}

/* sysfs needs a network namespace of the user namespace; mqueue an ipc one. Without them
   the kernel says EPERM and, like runc, we bind the host's instance instead. */
static const char *
fallback_source (const char *type, int errnum)
{
  struct stat st;
  if (errnum != EPERM && errnum != EBUSY)
    return NULL;
  if (strcmp (type, "sysfs") == 0)
    return "/sys";
  if (strcmp (type, "mqueue") == 0 && stat ("/dev/mqueue", &st) == 0)
    return "/dev/mqueue";
  return NULL;
}

static int
mount_fs (struct rootfs_ctx *ctx, const struct oci_mount *m, const struct mount_opts *o,
          ctr_error_t *err)
{
  cleanup_close int dst_fd = -1, new_fd = -1;
  const char *type = m->type, *fallback;
  bool is_proc = strcmp (type, "proc") == 0;

  dst_fd = open_destination (ctx, m->destination, true, is_proc, -1, err);
  if (dst_fd < 0)
    return -1;
  if (strcmp (type, "cgroup") == 0 || strcmp (type, "cgroup2") == 0)
    return mount_cgroup (ctx, m->destination, dst_fd, strcmp (type, "cgroup2") == 0, o, err);
  if (mount_on_fd (m->source ? m->source : type, dst_fd, type, o->flags, o->data) < 0)
    {
      int saved = errno;
      struct mount_opts bind_opts = *o;
      if ((fallback = fallback_source (type, saved)) == NULL)
        return ctr_error (err, saved, "mount %s", type);
      bind_opts.flags |= MS_BIND | MS_REC;
      bind_opts.data = NULL;
      return mount_bind (ctx, fallback, m->destination, &bind_opts, err);
    }
  new_fd = reopen_mounted (ctx->rootfs_fd, m->destination, dst_fd, err);
  if (new_fd < 0)
    return -1;
  return mount_apply_post (new_fd, o, err);
}

static bool
is_bind_type (const char *type)
{
  return type && (strcmp (type, "bind") == 0 || strcmp (type, "rbind") == 0);
}

/* "/dev", "//dev/", "dev" all name /dev. */
static bool
dest_is (const char *dest, const char *want)
{
  size_t n;
  dest += strspn (dest, "/");
  want += strspn (want, "/");
  n = strlen (want);
  return strncmp (dest, want, n) == 0 && dest[n + strspn (dest + n, "/")] == '\0';
}

static int
mount_one (struct rootfs_ctx *ctx, const struct oci_mount *m, bool *dev_bound, ctr_error_t *err)
{
  struct mount_opts o;
  int r;

  if (m->destination == NULL || m->destination[0] == '\0')
    return ctr_error (err, EINVAL, "missing destination");
  mount_opts_parse (m->options, m->options_len, &o);
  if (m->uid_mappings_len || m->gid_mappings_len || o.idmap)
    {
      mount_opts_release (&o);
      return ctr_error (err, ENOTSUP, "idmapped mounts are not supported yet");
    }
  if (m->type && strcmp (m->type, "rbind") == 0)
    o.flags |= MS_BIND | MS_REC;
  if (is_bind_type (m->type))
    o.flags |= MS_BIND;
  if (o.flags & MS_BIND)
    {
      r = mount_bind (ctx, m->source, m->destination, &o, err);
      if (r == 0 && dest_is (m->destination, "/dev"))
        *dev_bound = true;
    }
  else if (m->type == NULL || m->type[0] == '\0')
    r = ctr_error (err, EINVAL, "missing type");
  else if (strcmp (m->type, "tmpfs") == 0)
    r = mount_tmpfs (ctx, m->source, m->destination, &o, err);
  else
    r = mount_fs (ctx, m, &o, err);
  mount_opts_release (&o);
  return r;
}

int
rootfs_mount_config (struct rootfs_ctx *ctx, bool *dev_bound, ctr_error_t *err)
{
  const struct oci_config *c = ctx->config;
  size_t i;

  *dev_bound = false;
  for (i = 0; i < c->mounts_len; i++)
    if (mount_one (ctx, &c->mounts[i], dev_bound, err) < 0)
      return ctr_error_wrap (err, "mounts[%zu] (%s)", i,
                             c->mounts[i].destination ? c->mounts[i].destination : "");
  return 0;
}
