/* cp: `ctr cp`, files copied between the host and a system container's root. Inside the
   container every path is resolved in its root (openat2 RESOLVE_IN_ROOT: a symlink never
   leads out of it), and the walk below goes from directory fd to directory fd without
   following a symlink; a running container's root is its init's (/proc/PID/root, through
   a checked procfs handle), the tree its own mount namespace sees. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/json_edit.h"
#include "base/util.h"
#include "rootfs/paths.h"
#include "runtime/state.h"
#include "system/dataio.h"
#include "system/pool_volume.h"
#include "system/userns_child.h"
#include "system/store.h"
#include "system/system.h"

#define CONFIG_MAX (4 * 1024 * 1024)
#define MAX_MAPS 64
#define OVERFLOW_ID 65534

struct idmap
{
  uint32_t inside, outside, count;
};

/* One copy: where ids go, and how. */
struct cp_job
{
  const struct system_cp_options *o;
  const char *name; /* the container */
  bool into;        /* host -> container */
  struct idmap uids[MAX_MAPS], gids[MAX_MAPS];
  size_t n_uids, n_gids;
  uid_t caller_uid;
  gid_t caller_gid;
  bool through_mounts; /* a running container's root, as its mount namespace has it */
  dev_t top_dev;       /* the first directory made: a copy into the tree it copies skips it */
  ino_t top_ino;
};

/* ------------------------------------------------------------------ ids */

/* linux.uidMappings / gidMappings of the container's config.json (none: ids as they are). */
static void
read_maps (const json_node *cfg, const char *key, struct idmap *m, size_t *n)
{
  const json_node *arr = jnode_get (jnode_get (cfg, "linux"), key);
  *n = 0;
  for (size_t i = 0; arr && jnode_is_array (arr) && i < jnode_len (arr) && *n < MAX_MAPS; i++)
    {
      const json_node *e = jnode_at (arr, i);
      int64_t c, h, s;
      if (jnode_int (jnode_get (e, "containerID"), &c) && jnode_int (jnode_get (e, "hostID"), &h)
          && jnode_int (jnode_get (e, "size"), &s) && c >= 0 && h >= 0 && s > 0)
        m[(*n)++] = (struct idmap){ (uint32_t)c, (uint32_t)h, (uint32_t)s };
    }
}

/* An id inside the container as the host stores it (-1: it has none there). */
static int64_t
to_host (const struct idmap *m, size_t n, uint32_t id)
{
  if (n == 0)
    return id;
  for (size_t i = 0; i < n; i++)
    if (id >= m[i].inside && id - m[i].inside < m[i].count)
      return (int64_t)m[i].outside + (id - m[i].inside);
  return -1;
}

/* A stored id as the container sees it (unmapped: the overflow id). */
static uint32_t
to_inside (const struct idmap *m, size_t n, uint32_t id)
{
  if (n == 0)
    return id;
  for (size_t i = 0; i < n; i++)
    if (id >= m[i].outside && id - m[i].outside < m[i].count)
      return m[i].inside + (id - m[i].outside);
  return OVERFLOW_ID;
}

/* Into a running container, through its own mounts: files are made as its root. Its root
   may be an idmapped mount, which refuses to make a file for host root (outside the
   mount's map: EOVERFLOW). The capabilities that setfsuid() takes away (owners, reading
   the host's files) are taken back. */
static int
make_as_container_root (const struct cp_job *j, ctr_error_t *err)
{
  static const cap_value_t fs_caps[]
      = { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_MKNOD };
  int64_t uid = to_host (j->uids, j->n_uids, 0), gid = to_host (j->gids, j->n_gids, 0);
  cap_t caps;
  int r;

  if (j->n_uids == 0 || j->n_gids == 0 || uid <= 0 || gid <= 0 || is_rootless ())
    return 0;
  setfsgid ((gid_t)gid);
  setfsuid ((uid_t)uid);
  if ((int64_t)setfsuid ((uid_t)-1) != uid || (int64_t)setfsgid ((gid_t)-1) != gid)
    return ctr_error (err, EPERM, "cp: act as the container's root (%" PRId64 ")", uid);
  caps = cap_get_proc ();
  r = caps == NULL ? -1 : cap_set_flag (caps, CAP_EFFECTIVE, 6, fs_caps, CAP_SET);
  if (r == 0)
    r = cap_set_proc (caps);
  if (caps)
    cap_free (caps);
  return r < 0 ? ctr_error (err, errno, "cp: keep the capabilities of the copy") : 0;
}

/* The owner a copy gets. Into the container: its root, or (-a) the same id inside it.
   Out of it: the caller, or (-a) the id the container knew. */
static int
owner_of (struct cp_job *j, const struct stat *st, uid_t *uid, gid_t *gid, const char *what,
          ctr_error_t *err)
{
  if (!j->into)
    {
      *uid = j->o->archive ? to_inside (j->uids, j->n_uids, st->st_uid) : j->caller_uid;
      *gid = j->o->archive ? to_inside (j->gids, j->n_gids, st->st_gid) : j->caller_gid;
      return 0;
    }
  int64_t u = to_host (j->uids, j->n_uids, j->o->archive ? st->st_uid : 0);
  int64_t g = to_host (j->gids, j->n_gids, j->o->archive ? st->st_gid : 0);
  if (u < 0 || g < 0)
    return ctr_error (err, 0, "`%s`: owner %u:%u has no place in the id range of `%s`", what,
                      (unsigned)st->st_uid, (unsigned)st->st_gid, j->name);
  *uid = (uid_t)u;
  *gid = (gid_t)g;
  return 0;
}

/* ------------------------------------------------------------------ one node */

static int
copy_data (int in, int out, const char *what, ctr_error_t *err)
{
  char buf[65536];
  ssize_t n;

  for (;;)
    {
      n = copy_file_range (in, NULL, out, NULL, 1 << 30, 0);
      if (n == 0)
        return 0;
      if (n > 0)
        continue;
      if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
        return ctr_error (err, errno, "copy `%s`", what);
      break;
    }
  while ((n = read (in, buf, sizeof buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || write_all (out, buf, (size_t)n) < 0)
        return ctr_error (err, errno, "copy `%s`", what);
    }
  return 0;
}

/* Extended attributes (file capabilities, ACLs, security labels), with -a. */
static void
copy_xattrs (int in, int out)
{
  char names[8192], value[65536];
  ssize_t len = flistxattr (in, names, sizeof names);
  for (ssize_t i = 0; len > 0 && i < len; i += (ssize_t)strlen (names + i) + 1)
    {
      ssize_t v = fgetxattr (in, names + i, value, sizeof value);
      if (v >= 0 && strncmp (names + i, "trusted.", 8) != 0)
        fsetxattr (out, names + i, value, (size_t)v, 0);
    }
}

/* Owner, then mode (a chown clears set-id bits), then xattrs (it clears capabilities
   too), then times. fd is the copy, open (not O_PATH). */
static int
finish_node (struct cp_job *j, int in, int fd, const struct stat *st, const char *what,
             ctr_error_t *err)
{
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  uid_t uid;
  gid_t gid;

  if (owner_of (j, st, &uid, &gid, what, err) < 0)
    return -1;
  if (fchown (fd, uid, gid) < 0 && !(errno == EPERM && is_rootless ()))
    return ctr_error (err, errno, "chown `%s`", what);
  if (fchmod (fd, st->st_mode & 07777) < 0)
    return ctr_error (err, errno, "chmod `%s`", what);
  if (j->o->archive && in >= 0)
    copy_xattrs (in, fd);
  futimens (fd, times);
  return 0;
}

/* ------------------------------------------------------------------ the walk */

static int copy_node (struct cp_job *j, int sdir, const char *sname, int ddir, const char *dname,
                      const char *what, ctr_error_t *err);

/* name "" is dir itself (an fd from a resolution): reopened through /proc/self/fd. */
static int
open_at (int dir, const char *name, int flags)
{
  char buf[FD_PATH_SIZE];
  if (*name)
    return openat (dir, name, flags | O_NOFOLLOW | O_CLOEXEC);
  return open (fd_path (buf, dir), flags | O_CLOEXEC);
}

static int
copy_dir (struct cp_job *j, int sfd, const struct stat *st, int ddir, const char *dname,
          const char *what, ctr_error_t *err)
{
  cleanup_close int dfd = -1;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  struct stat dst;

  if (mkdirat (ddir, dname, 0700) < 0 && errno != EEXIST)
    return ctr_error (err, errno, "mkdir `%s`", what);
  dfd = openat (ddir, dname, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return ctr_error (
        err, errno == ELOOP ? 0 : errno,
        errno == ELOOP ? "`%s`: a symlink is in the way (never followed)" : "open `%s`", what);
  if (j->top_ino == 0 && fstat (dfd, &dst) == 0)
    {
      j->top_dev = dst.st_dev;
      j->top_ino = dst.st_ino;
    }
  d = fdopendir (fcntl (sfd, F_DUPFD_CLOEXEC, 0));
  if (d == NULL)
    return ctr_error (err, errno, "read `%s`", what);
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      cleanup_free char *sub = xasprintf ("%s/%s", what, de->d_name);
      if (copy_node (j, sfd, de->d_name, dfd, de->d_name, sub, err) < 0)
        return -1;
    }
  return finish_node (j, sfd, dfd, st, what, err);
}

/* A regular file: a symlink in the destination is replaced, never written through. */
static int
copy_file (struct cp_job *j, int in, const struct stat *st, int ddir, const char *dname,
           const char *what, ctr_error_t *err)
{
  const int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  cleanup_close int out = openat (ddir, dname, flags, 0600);
  struct stat ost;

  if (out < 0 && errno == ELOOP && unlinkat (ddir, dname, 0) == 0)
    out = openat (ddir, dname, flags | O_EXCL, 0600);
  if (out < 0)
    return ctr_error (err, errno, "create `%s`", what);
  if (fstat (out, &ost) < 0 || !S_ISREG (ost.st_mode))
    return ctr_error (err, 0, "`%s`: the destination is not a regular file", what);
  if (ftruncate (out, 0) < 0 || fcntl (out, F_SETFL, 0) < 0)
    return ctr_error (err, errno, "write `%s`", what);
  if (copy_data (in, out, what, err) < 0)
    return -1;
  return finish_node (j, in, out, st, what, err);
}

static int
copy_symlink (struct cp_job *j, int sdir, const char *sname, const struct stat *st, int ddir,
              const char *dname, const char *what, ctr_error_t *err)
{
  char target[PATH_MAX];
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  ssize_t n = readlinkat (sdir, sname, target, sizeof target - 1);
  uid_t uid;
  gid_t gid;

  if (n < 0)
    return ctr_error (err, errno, "readlink `%s`", what);
  target[n] = '\0';
  if (symlinkat (target, ddir, dname) < 0
      && (errno != EEXIST || unlinkat (ddir, dname, 0) < 0 || symlinkat (target, ddir, dname) < 0))
    return ctr_error (err, errno, "symlink `%s`", what);
  if (owner_of (j, st, &uid, &gid, what, err) < 0)
    return -1;
  if (fchownat (ddir, dname, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && !is_rootless ())
    return ctr_error (err, errno, "chown `%s`", what);
  utimensat (ddir, dname, times, AT_SYMLINK_NOFOLLOW);
  return 0;
}

static int
copy_node (struct cp_job *j, int sdir, const char *sname, int ddir, const char *dname,
           const char *what, ctr_error_t *err)
{
  cleanup_close int in = -1;
  struct stat st;

  if (fstatat (sdir, sname, &st, *sname ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) < 0)
    return ctr_error (err, errno, "`%s`", what);
  if (S_ISLNK (st.st_mode))
    return copy_symlink (j, sdir, sname, &st, ddir, dname, what, err);
  if (S_ISDIR (st.st_mode) && st.st_ino == j->top_ino && st.st_dev == j->top_dev)
    return 0; /* the copy itself, made inside the tree being copied */
  if (!S_ISDIR (st.st_mode) && !S_ISREG (st.st_mode))
    {
      fprintf (stderr, "ctr: note: cp: `%s` skipped (not a file, directory or symlink)\n", what);
      return 0;
    }
  in = open_at (sdir, sname, (S_ISDIR (st.st_mode) ? O_DIRECTORY : O_NOCTTY) | O_RDONLY);
  if (in < 0)
    return ctr_error (err, errno, "open `%s`", what);
  /* what was opened is what was looked at (not swapped meanwhile) */
  struct stat now;
  if (fstat (in, &now) < 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev)
    return ctr_error (err, 0, "`%s` changed while being copied", what);
  if (S_ISDIR (st.st_mode))
    return copy_dir (j, in, &st, ddir, dname, what, err);
  return copy_file (j, in, &st, ddir, dname, what, err);
}

/* ------------------------------------------------------------------ the ends */

/* "NAME:PATH" names a container's path when NAME is a container id (no `/` before the
   colon: a host path with a colon is written ./a:b). */
static bool
split_spec (const char *spec, char **name, const char **path)
{
  const char *colon = strchr (spec, ':');
  if (colon == NULL || colon == spec || memchr (spec, '/', colon - spec))
    return false;
  *name = xstrndup (spec, colon - spec);
  *path = colon + 1;
  return true;
}

/* linux.uidMappings and gidMappings of the config.json in dirfd (none: ids as they are). */
static int
read_id_maps (struct cp_job *j, int dirfd, ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  json_node *cfg;
  size_t len;

  if (read_file_at (dirfd, "config.json", CONFIG_MAX, &text, &len, err) < 0
      || (cfg = jnode_parse (text, "config.json", err)) == NULL)
    return ctr_error_wrap (err, "container `%s`", j->name);
  read_maps (cfg, "uidMappings", j->uids, &j->n_uids);
  read_maps (cfg, "gidMappings", j->gids, &j->n_gids);
  jnode_free (cfg);
  return 0;
}

/* The root of a running process as its mount namespace sees it: /proc/PID/root, from a
   handle checked to be procfs. */
static int
open_proc_root (const char *name, pid_t pid, ctr_error_t *err)
{
  int rfd;

  if (pid <= 0)
    return ctr_error (err, 0, "container `%s` has no running process", name);
  rfd = proc_root_open (pid, O_RDONLY);
  if (rfd < 0 && errno == EXDEV)
    return ctr_error (err, 0, "/proc is not procfs");
  if (rfd < 0)
    return ctr_error (err, errno, "container `%s`: open the root of its process %d", name,
                      (int)pid);
  return rfd;
}

/* An OCI container of the state root by id: its process's root (started, running). */
static int
open_oci_root (const struct ctr_context *ctx, struct cp_job *j, ctr_error_t *err)
{
  cleanup_close int sfd = state_dir_open (container_state_root (ctx), j->name, NULL), bfd = -1;
  struct ctr_state *s = NULL;
  int rfd;

  if (sfd < 0)
    return ctr_error (err, 0, "container `%s` does not exist", j->name);
  if (state_read (sfd, j->name, &s, err) < 0)
    return -1;
  bfd = s->bundle ? open (s->bundle, O_DIRECTORY | O_RDONLY | O_CLOEXEC) : -1;
  if (bfd >= 0 && read_id_maps (j, bfd, err) < 0)
    rfd = -1;
  else if (s->pid <= 0 || pid_start_time (s->pid) != s->pid_start)
    rfd = ctr_error (err, 0, "container `%s` is not running", j->name);
  else if ((rfd = open_proc_root (j->name, s->pid, err)) >= 0
           && pid_start_time (s->pid) != s->pid_start) /* not a reused pid */
    {
      close (rfd);
      rfd = ctr_error (err, 0, "container `%s` stopped while its root was opened", j->name);
    }
  ctr_state_free (s);
  j->through_mounts = rfd >= 0;
  return rfd;
}

/* As root of the user's namespace: the stopped container's volume mounted in the child's
   own mount namespace, its root handed back (the mount stays reachable through it). */
static int
mounted_root_fn (void *arg, char **out, ctr_error_t *err)
{
  const struct userns_verb *v = arg;
  cleanup_close int fd = userns_reopen_dir (v->fd, err);
  cleanup_free char *rootfs = NULL;
  int rfd;

  (void)out;
  if (fd < 0 || pool_volume_activate (fd, v->a, err) < 0)
    return -1;
  rootfs = pool_volume_rootfs (fd, v->a);
  rfd = open (rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (rfd < 0)
    return ctr_error (err, errno, "open `%s`", rootfs);
  userns_handback_fd (rfd);
  return 0;
}

/* The container's root as a directory fd: a stopped one's rootfs (its store lock held in
   *lockfd, so that a start waits), a running one's init's root through /proc; a name that
   is no system container, an OCI container's of the state root. */
static int
open_container_root (const struct ctr_context *ctx, struct cp_job *j, int *lockfd, ctr_error_t *err)
{
  const char *root = store_root (ctx->store);
  cleanup_close int fd = -1;
  cleanup_free char *dir = NULL, *rootfs = NULL;
  struct system_info info = { 0 };
  pid_t pid;
  int rfd;

  if (!store_exists (root, j->name))
    return open_oci_root (ctx, j, err);
  fd = store_open (root, j->name, err);
  if (fd < 0 || read_id_maps (j, fd, err) < 0 || store_lock (fd, err) < 0)
    return -1;
  if (system_status_get (ctx, j->name) == SYSTEM_STOPPED)
    {
      struct store_meta m;
      /* an unprivileged container's tree keeps the ids it sees on disk (idmapped at
         start) unless it was shifted into its range */
      if (store_meta_read (fd, j->name, &m, err) < 0)
        return -1;
      if (m.idmap_count && !m.idmap_shifted)
        j->n_uids = j->n_gids = 0;
      store_meta_clear (&m);
      dir = xasprintf ("%s/%s", root, j->name);
      if (pool_volume_mounted_inside (fd))
        {
          /* a rootless overlay, mounted in a child's namespace: its root comes back */
          struct userns_verb v = { .fd = fd, .a = dir };
          if (userns_as_root_fd (mounted_root_fn, &v, NULL, &rfd, err) < 0)
            return ctr_error_wrap (err, "container `%s`", j->name);
          *lockfd = steal_fd (fd);
          return rfd;
        }
      if (pool_volume_activate (fd, dir, err) < 0)
        return ctr_error_wrap (err, "container `%s`", j->name);
      rootfs = pool_volume_rootfs (fd, dir);
      rfd = open (rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
      if (rfd < 0)
        return ctr_error (err, errno, "container `%s`: open `%s`", j->name, rootfs);
      *lockfd = steal_fd (fd);
      return rfd;
    }
  flock (fd, LOCK_UN);
  if (system_info (ctx, j->name, false, &info, err) < 0)
    return -1;
  pid = info.pid;
  system_info_clear (&info);
  rfd = open_proc_root (j->name, pid, err);
  if (rfd < 0)
    return -1;
  j->through_mounts = true;
  /* the pid is still its init's: not a reused one */
  if (system_info (ctx, j->name, false, &info, err) < 0 || info.pid != pid)
    {
      system_info_clear (&info);
      close (rfd);
      return ctr_error (err, 0, "container `%s` stopped while its root was opened", j->name);
    }
  system_info_clear (&info);
  return rfd;
}

/* Splits path into its directory (opened, inside rootfd when >= 0) and last name. "/" is
   the directory itself with name "". */
static int
open_parent (int rootfd, const char *path, char **base, const char *what, ctr_error_t *err)
{
  cleanup_free char *a = xstrdup (path), *b = xstrdup (path);
  const char *dir = dirname (a);
  char *last = basename (b);
  int fd;

  if (strcmp (last, "/") == 0 || strcmp (last, ".") == 0 || strcmp (last, "..") == 0)
    {
      *base = xstrdup ("");
      dir = path;
    }
  else
    *base = xstrdup (last);
  fd = rootfd >= 0 ? resolve_in_root (rootfd, dir, O_DIRECTORY | O_RDONLY, 0)
                   : open (dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      free (*base);
      *base = NULL;
      return ctr_error (err, errno, "%s: directory `%s`", what, dir);
    }
  return fd;
}

/* The source end: its directory and name (name "": the directory fd is the source). With
   -L a symlink is resolved (inside the root for a container path). */
static int
open_source (struct cp_job *j, int rootfd, const char *path, char **name, const char *what,
             ctr_error_t *err)
{
  int dir = open_parent (rootfd, path, name, what, err);
  struct stat st;

  if (dir < 0 || !j->o->follow_link || **name == '\0'
      || fstatat (dir, *name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK (st.st_mode))
    return dir;
  close (dir);
  **name = '\0';
  dir = rootfd >= 0 ? resolve_in_root (rootfd, path, O_PATH, 0) : open (path, O_PATH | O_CLOEXEC);
  if (dir < 0)
    return ctr_error (err, errno, "%s", what);
  return dir;
}

/* The destination end: into an existing directory under the source's name, or as the
   path's last name in its (existing) directory. */
static int
open_destination (int rootfd, const char *path, const char *sname, char **name, const char *what,
                  ctr_error_t *err)
{
  int fd = rootfd >= 0 ? resolve_in_root (rootfd, path, O_DIRECTORY | O_RDONLY, 0)
                       : open (path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      *name = xstrdup (sname);
      return fd;
    }
  if (errno != ENOENT && errno != ENOTDIR)
    return ctr_error (err, errno, "%s", what);
  if (path[strlen (path) - 1] == '/')
    return ctr_error (err, ENOENT, "%s: no such directory", what);
  fd = open_parent (rootfd, path, name, what, err);
  if (fd >= 0 && **name == '\0')
    {
      close (fd);
      return ctr_error (err, 0, "%s: not a name to copy to", what);
    }
  return fd;
}

int
system_cp (const struct ctr_context *ctx, const char *src, const char *dst,
           const struct system_cp_options *o, ctr_error_t *err)
{
  struct cp_job j = { .o = o, .caller_uid = geteuid (), .caller_gid = getegid () };
  cleanup_free char *sc = NULL, *dc = NULL, *sname = NULL, *dname = NULL, *base = NULL;
  cleanup_close int rootfd = -1, lockfd = -1, sdir = -1, ddir = -1;
  const char *spath = src, *dpath = dst, *cpath;
  bool s_in = split_spec (src, &sc, &spath), d_in = split_spec (dst, &dc, &dpath);

  if (s_in && d_in)
    return ctr_error (err, 0, "cp: `%s` and `%s` are both in containers: copy through the host",
                      src, dst);
  if (!s_in && !d_in)
    return ctr_error (err, 0, "cp: neither `%s` nor `%s` is a container's path (NAME:/PATH)", src,
                      dst);
  j.name = s_in ? sc : dc;
  j.into = d_in;
  cpath = s_in ? spath : dpath;
  if (validate_container_id (j.name, err) < 0)
    return -1;
  if (cpath[0] != '/')
    return ctr_error (err, 0, "cp: `%s:%s`: the path in the container must be absolute", j.name,
                      cpath);
  if (*(s_in ? dpath : spath) == '\0')
    return ctr_error (err, 0, "cp: an empty host path");
  rootfd = open_container_root (ctx, &j, &lockfd, err);
  if (rootfd < 0)
    return -1;
  sdir = open_source (&j, s_in ? rootfd : -1, spath, &sname, src, err);
  if (sdir < 0)
    return -1;
  /* the copy of a container's / is named after the container */
  base = xstrdup (*sname ? sname : (s_in ? j.name : "root"));
  ddir = open_destination (d_in ? rootfd : -1, dpath, base, &dname, dst, err);
  if (ddir < 0)
    return -1;
  if (j.into && j.through_mounts && make_as_container_root (&j, err) < 0)
    return -1;
  if (copy_node (&j, sdir, sname, ddir, dname, src, err) < 0)
    return ctr_error_wrap (err, "cp");
  return 0;
}
