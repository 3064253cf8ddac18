/* mounts: mount operations on O_PATH fds inside the root: destinations checked where they
   land, bind mounts with their flags, remounts, propagation. */
#include <config.h>
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

#include "rootfs/context.h"
#include "rootfs/mounts.h"
#include "rootfs/paths.h"
#include "base/util.h"

/* Files under /proc that may be mounted over (lxcfs and friends), as runc allows. */
static const char *const proc_mount_allowed[] = {
  "/proc/cpuinfo",
  "/proc/diskstats",
  "/proc/meminfo",
  "/proc/stat",
  "/proc/swaps",
  "/proc/uptime",
  "/proc/loadavg",
  "/proc/slabinfo",
  "/proc/net/dev",
  "/proc/sys/kernel/ns_last_pid",
  "/proc/sys/crypto/fips_enabled",
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
    { ST_RDONLY, MS_RDONLY },   { ST_NOSUID, MS_NOSUID },           { ST_NODEV, MS_NODEV },
    { ST_NOEXEC, MS_NOEXEC },   { ST_SYNCHRONOUS, MS_SYNCHRONOUS }, { ST_MANDLOCK, MS_MANDLOCK },
    { ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME },   { ST_RELATIME, MS_RELATIME },
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

/* "/", "//", "/." ...: the container's root. */
static bool
names_root (const char *path)
{
  cleanup_free char *clean = path_clean (path);
  return clean && strcmp (clean, "/") == 0;
}

/* The root as the host names it, which reaches the mount on top of it: resolving "/" from
   root_fd would stay on root_fd's own mount. */
static int
open_root_top (int root_fd)
{
  cleanup_free char *host = fd_realpath (root_fd);
  return host ? open (host, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
}

int
reopen_mounted (int root_fd, const char *path, int before_fd, ctr_error_t *err)
{
  int fd = names_root (path) ? open_root_top (root_fd) : resolve_in_root (root_fd, path, O_PATH, 0);
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
check_destination (const char *where, bool is_proc, int src_fd, ctr_error_t *err)
{
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

void
mount_dest_release (struct mount_dest *d)
{
  if (d->fd >= 0)
    close (d->fd);
  free (d->where);
  d->fd = -1;
  d->where = NULL;
}

/* Resolving without symlinks first: then the path itself says where it lands, and the
   kernel need not be asked (readlink). Only a symlink on the way (ELOOP) takes the full
   in-root resolution, and /proc/self/fd tells where it ended up. */
int
mount_dest_open (struct rootfs_ctx *ctx, const char *dest, bool is_dir, bool is_proc, int src_fd,
                 struct mount_dest *d, ctr_error_t *err)
{
  cleanup_error ctr_error_t first = NULL;

  if (rootfs_reopen_root (ctx, err) < 0)
    return -1;
  d->fd = mkpath_in_root (ctx->rootfs_fd, dest, is_dir, RESOLVE_NO_SYMLINKS, &d->created, &first);
  if (d->fd >= 0)
    d->where = path_clean (dest);
  else if (first->status == ELOOP)
    {
      const char *root = rootfs_root_path (ctx);
      d->fd = mkpath_in_root (ctx->rootfs_fd, dest, is_dir, 0, &d->created, err);
      if (d->fd < 0)
        return -1;
      d->where = root ? fd_path_in_root (d->fd, root) : NULL;
    }
  else
    {
      ctr_error_free (err);
      *err = steal_ptr (first);
      return -1;
    }
  if (d->where && strcmp (d->where, "/dev") == 0)
    ctx->dev_fresh_tmpfs = false;
  /* as runc: a mount onto "/" goes on top of the root, and becomes the root that later
     mounts, pivot_root and root.readonly work on. Not through a symlink, and not in the
     caller's mount namespace (config validation refuses that). */
  if (d->where && strcmp (d->where, "/") == 0 && names_root (dest) && !ctx->shares_mount_ns)
    {
      ctx->root_covered = true;
      return 0;
    }
  return check_destination (d->where, is_proc, src_fd, err);
}

int
rootfs_reopen_root (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  int fd;
  if (!ctx->root_covered)
    return 0;
  ctx->root_covered = false;
  fd = open_root_top (ctx->rootfs_fd);
  if (fd < 0)
    return ctr_error (err, errno, "reopen rootfs `%s` after the mount onto `/`", ctx->rootfs);
  if (fd_mount_id (fd) == fd_mount_id (ctx->rootfs_fd))
    {
      close (fd);
      return ctr_error (err, EXDEV, "rootfs `%s`: the mount onto `/` is not on top of it",
                        ctx->rootfs);
    }
  close (ctx->rootfs_fd);
  ctx->rootfs_fd = fd;
  return 0;
}

bool
mount_needs_post (const struct mount_opts *o)
{
  return o->propagation_len || o->attr_set || o->attr_clr;
}

void
mount_attrs_of_flags (unsigned long flags, unsigned long cleared, struct mount_attr *a)
{
  static const struct
  {
    unsigned long ms;
    uint64_t attr;
  } map[] = {
    { MS_RDONLY, MOUNT_ATTR_RDONLY },         { MS_NOSUID, MOUNT_ATTR_NOSUID },
    { MS_NODEV, MOUNT_ATTR_NODEV },           { MS_NOEXEC, MOUNT_ATTR_NOEXEC },
    { MS_NODIRATIME, MOUNT_ATTR_NODIRATIME }, { MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
  };
  size_t i;

  memset (a, 0, sizeof *a);
  for (i = 0; i < ARRAY_SIZE (map); i++)
    if (flags & map[i].ms)
      a->attr_set |= map[i].attr;
    else if (cleared & map[i].ms)
      a->attr_clr |= map[i].attr;
  /* as mount(2) ranks them; none given: the atime setting stays */
  if (flags & (MS_STRICTATIME | MS_NOATIME | MS_RELATIME))
    {
      a->attr_clr |= MOUNT_ATTR__ATIME;
      a->attr_set |= (flags & MS_STRICTATIME) ? MOUNT_ATTR_STRICTATIME
                     : (flags & MS_NOATIME)   ? MOUNT_ATTR_NOATIME
                                              : MOUNT_ATTR_RELATIME;
    }
}

/* Kernels without open_tree (before 5.2): bind through /proc/self/fd, reopen, remount. */
static int
mount_bind_legacy (struct rootfs_ctx *ctx, const char *src_path, const char *dest,
                   const struct mount_opts *o, ctr_error_t *err)
{
  cleanup_close int src_fd = -1, new_fd = -1;
  cleanup_mount_dest struct mount_dest d = { .fd = -1 };
  unsigned long extra = o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  char buf[FD_PATH_SIZE];
  struct stat st;

  src_fd = open (src_path, O_PATH | O_CLOEXEC);
  if (src_fd < 0 || fstat (src_fd, &st) < 0)
    return ctr_error (err, errno, "bind source `%s`", src_path);
  if (mount_dest_open (ctx, dest, S_ISDIR (st.st_mode), false, src_fd, &d, err) < 0)
    return -1;
  if (mount_on_fd (fd_path (buf, src_fd), d.fd, NULL, MS_BIND | (o->flags & MS_REC), NULL) < 0)
    return ctr_error (err, errno, "bind `%s`", src_path);
  if (!extra && !mount_needs_post (o))
    return 0;
  new_fd = reopen_mounted (ctx->rootfs_fd, dest, d.fd, err);
  if (new_fd < 0)
    return -1;
  if (extra && remount_bind (new_fd, extra, o->cleared) < 0)
    return ctr_error (err, errno, "remount bind `%s`", src_path);
  return mount_apply_post (new_fd, o, err);
}

bool
mount_is_bind (const struct oci_mount *m, const struct mount_opts *o)
{
  return (o->flags & MS_BIND)
         || (m->type && (strcmp (m->type, "bind") == 0 || strcmp (m->type, "rbind") == 0));
}

static bool
is_recursive_bind (const struct oci_mount *m, const struct mount_opts *o)
{
  return (o->flags & MS_REC) || (m->type && strcmp (m->type, "rbind") == 0);
}

void
rootfs_close_bind_sources (int *fds, size_t n)
{
  for (size_t i = 0; fds && i < n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  free (fds);
}

static int
open_bind_sources (const struct oci_config *config, const char *bundle, int **fds, ctr_error_t *err)
{
  int *out = xmalloc ((config->mounts_len + 1) * sizeof *out);
  size_t i;

  for (i = 0; i < config->mounts_len; i++)
    out[i] = -1;
  for (i = 0; i < config->mounts_len; i++)
    {
      const struct oci_mount *m = &config->mounts[i];
      cleanup_free char *path = NULL;
      struct mount_opts o;
      bool bind, rec, idmapped;

      mount_opts_parse (m->options, m->options_len, &o);
      bind = mount_is_bind (m, &o);
      rec = is_recursive_bind (m, &o);
      idmapped = o.idmap || m->uid_mappings_len || m->gid_mappings_len;
      mount_opts_release (&o);
      if (!bind || idmapped || m->source == NULL)
        continue;
      path = m->source[0] != '/' && bundle ? xasprintf ("%s/%s", bundle, m->source)
                                           : xstrdup (m->source);
      out[i] = open_tree (AT_FDCWD, path,
                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
      if (out[i] >= 0)
        continue;
      /* no open_tree (before 5.2) or not allowed to clone: the setup opens it as before */
      if (errno == ENOSYS || errno == EPERM)
        break;
      {
        int saved = errno;
        rootfs_close_bind_sources (out, config->mounts_len);
        return ctr_error (err, saved, "mounts[%zu] (%s): bind source `%s`", i,
                          m->destination ? m->destination : "", path);
      }
    }
  *fds = out;
  return 0;
}

int
rootfs_create_check (const struct oci_config *config, const char *bundle, bool no_pivot,
                     bool clone_sources, int **fds, ctr_error_t *err)
{
  const char *prop = config->linux_ ? config->linux_->rootfs_propagation : NULL;

  /* without pivot_root the host's mounts stay below the container's root: private, they
     would stay busy there after the host unmounts them */
  if (no_pivot && prop && strstr (prop, "private"))
    return ctr_error (err, 0, "linux.rootfsPropagation: `%s` is not safe with --no-pivot", prop);
  /* rootless, the caller cannot clone mounts, and reaches no more than its container */
  return clone_sources && !is_rootless () ? open_bind_sources (config, bundle, fds, err) : 0;
}

/* The parent's clone of this mount's source, if it made one (identified by the config's
   own string: mount_one passes mounts[i].source as it is). */
static int
take_bind_source (struct rootfs_ctx *ctx, const char *source)
{
  const struct oci_config *c = ctx->config;
  for (size_t i = 0; ctx->bind_sources && i < c->mounts_len; i++)
    if (c->mounts[i].source == source && ctx->bind_sources[i] >= 0)
      return steal_fd (ctx->bind_sources[i]);
  return -1;
}

/* A detached clone of the source gets its flags before it is attached (never visible
   with the source's), and its fd is the new mount for what follows: no reopen. */
int
mount_bind (struct rootfs_ctx *ctx, const char *source, const char *dest,
            const struct mount_opts *o, ctr_error_t *err)
{
  cleanup_free char *src_path = NULL;
  cleanup_close int tree = -1;

  if (source == NULL)
    return ctr_error (err, EINVAL, "bind mount without a source");
  if (source[0] != '/' && ctx->bundle)
    src_path = xasprintf ("%s/%s", ctx->bundle, source);
  else
    src_path = xstrdup (source);
  /* the source is a host path named by the (trusted) config: symlinks may be followed.
     Opened by the parent already when the setup runs in a new user namespace, whose root
     may not reach it: the path is not looked up again */
  tree = take_bind_source (ctx, source);
  if (tree < 0)
    tree = open_tree (AT_FDCWD, src_path,
                      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC
                          | ((o->flags & MS_REC) ? AT_RECURSIVE : 0));
  if (tree < 0 && errno == ENOSYS)
    return mount_bind_legacy (ctx, src_path, dest, o, err);
  if (tree < 0)
    return ctr_error (err, errno, "bind source `%s`", src_path);
  return mount_bind_tree (ctx, tree, src_path, dest, o, err);
}

int
mount_bind_tree (struct rootfs_ctx *ctx, int tree, const char *src_path, const char *dest,
                 const struct mount_opts *o, ctr_error_t *err)
{
  cleanup_mount_dest struct mount_dest d = { .fd = -1 };
  unsigned long extra = o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  struct mount_attr attr;
  bool late_remount = false;
  struct stat st;

  if (fstat (tree, &st) < 0)
    return ctr_error (err, errno, "bind source `%s`", src_path);
  if (mount_dest_open (ctx, dest, S_ISDIR (st.st_mode), false, tree, &d, err) < 0)
    return -1;
  mount_attrs_of_flags (extra, o->cleared, &attr);
  if (extra && (attr.attr_set || attr.attr_clr)
      && mount_setattr (tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    {
      if (errno != ENOSYS)
        return ctr_error (err, errno, "set flags of bind `%s`", src_path);
      late_remount = true;
    }
  if (move_mount (tree, "", d.fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return ctr_error (err, errno, "bind `%s`", src_path);
  /* onto "/": the tree's fd is the new root, found with no path lookup (which the root of a
     user namespace may not be allowed) */
  if (ctx->root_covered)
    {
      int top = fcntl (tree, F_DUPFD_CLOEXEC, 3);
      if (top < 0)
        return ctr_error (err, errno, "bind `%s`", src_path);
      close (ctx->rootfs_fd);
      ctx->rootfs_fd = top;
      ctx->root_covered = false;
    }
  if (late_remount && remount_bind (tree, extra, o->cleared) < 0)
    return ctr_error (err, errno, "remount bind `%s`", src_path);
  return mount_apply_post (tree, o, err);
}
