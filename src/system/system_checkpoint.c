/* system_checkpoint: `ctr checkpoint NAME` and `ctr restore NAME` of system containers: the
   running container dumped by criu(8) beside what its monitor knows (its addresses, whether
   its network namespace is its own), and brought back under a new monitor. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"
#include "base/memory.h"
#include "base/util.h"
#include "runtime/state.h"
#include "system/monitor.h"
#include "system/store.h"
#include "system/system.h"

/* beside criu's files in the image: what the monitor knew (and the container's name) */
#define CKPT_META "system.json"
/* in the image while it is being written: a dump that did not finish is no checkpoint */
#define CKPT_INCOMPLETE "incomplete"
/* in the store directory: the default image, and criu's logs (kept, errors name them) */
#define CKPT_DEFAULT "checkpoint"
#define CKPT_WORK "criu"

static char *
store_path (const struct ctr_context *ctx, const char *name, const char *file)
{
  return xasprintf ("%s/%s/%s", store_root (ctx->store), name, file);
}

/* The store directory's criu/, where criu writes dump.log and restore.log. */
static char *
work_dir (const struct ctr_context *ctx, const char *name, ctr_error_t *err)
{
  char *path = store_path (ctx, name, CKPT_WORK);
  if (mkdir (path, 0700) < 0 && errno != EEXIST)
    {
      ctr_error (err, errno, "create `%s`", path);
      free (path);
      return NULL;
    }
  return path;
}

/* init's pid and the addresses from the monitor's monitor.json. */
static int
read_monitor_info (const struct ctr_context *ctx, const char *name, pid_t *pid, char ***addresses,
                   ctr_error_t *err)
{
  cleanup_close int dfd = state_dir_open (container_state_root (ctx), name, err);
  cleanup_free char *text = NULL;
  json_value *v;
  const json_value *a;
  int64_t p;
  size_t len, n = 0;

  if (dfd < 0 || read_file_at (dfd, MONITOR_INFO, 1 << 16, &text, &len, err) < 0)
    return -1;
  v = json_parse (text, len, MONITOR_INFO, err);
  if (v == NULL)
    return -1;
  if (!json_as_int64 (json_get (v, "pid"), &p) || p <= 0)
    {
      json_value_free (v);
      return ctr_error (err, 0, "%s: no pid", MONITOR_INFO);
    }
  *pid = (pid_t)p;
  a = json_get (v, "addresses");
  *addresses = xzalloc ((json_len (a) + 1) * sizeof (char *));
  for (size_t i = 0; a && i < json_len (a); i++)
    {
      const char *s;
      if (json_as_string (json_at (a, i), &s))
        (*addresses)[n++] = xstrdup (s);
    }
  json_value_free (v);
  return 0;
}

/* Whether pid's namespace of kind (net, user) is not ctr's own (for net: not the host's). */
static bool
own_ns (pid_t pid, const char *kind)
{
  cleanup_free char *path = xasprintf ("/proc/%d/ns/%s", pid, kind);
  cleanup_free char *self = xasprintf ("/proc/self/ns/%s", kind);
  struct stat a, b;
  if (stat (path, &a) < 0 || stat (self, &b) < 0)
    return true;
  return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

/* An unprivileged container's rootfs may be an idmapped mount (the kernel's "idmapped"
   option of init's "/"): criu 3.17 records no id mapping of a mount, and its restore would
   bind the tree plain, every file then owned by nobody inside. Refused before anything is
   dumped; a shifted tree (docs/system-containers.md) needs no mapping and is dumped. */
static int
check_idmapped_root (const char *name, pid_t pid, ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("/proc/%d/mountinfo", pid);
  cleanup_file FILE *f = fopen (path, "re");
  char *line = NULL, *opts = NULL;
  size_t cap = 0;
  bool idmapped = false;

  if (f == NULL)
    return ctr_error (err, errno, "container `%s`: read `%s`", name, path);
  while (!idmapped && getline (&line, &cap, f) > 0)
    {
      /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... */
      char mnt[4096];
      if (sscanf (line, "%*s %*s %*s %*s %4095s %ms", mnt, &opts) == 2 && strcmp (mnt, "/") == 0)
        idmapped = strstr (opts, "idmapped") != NULL;
      free (opts);
      opts = NULL;
    }
  free (line);
  if (!idmapped)
    return 0;
  return ctr_error (err, 0,
                    "container `%s`: its root filesystem is an idmapped mount, which criu 3.17 "
                    "cannot restore (it keeps no id mapping of a mount); `ctr config %s set "
                    "privileged true` while it is stopped makes it privileged",
                    name, name);
}

/* From /proc/PID/stat: the session and the controlling terminal (as the kernel encodes
   its device number). */
static int
read_stat (const char *name, pid_t pid, int *sid, unsigned *tty_nr, ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("/proc/%d/stat", pid);
  cleanup_file FILE *f = fopen (path, "re");
  char buf[1024], *p;

  if (f == NULL || fgets (buf, sizeof buf, f) == NULL || (p = strrchr (buf, ')')) == NULL
      || sscanf (p + 1, " %*c %*d %*d %d %u", sid, tty_nr) != 2)
    return ctr_error (err, errno, "container `%s`: read `%s`", name, path);
  return 0;
}

/* criu dumps only a tree whose sessions are inside its pid namespace: init must lead its
   own. The init of a console (process.terminal) starts in a process group of its own in
   its monitor's session, nobody's controlling terminal (docs/system-containers.md); an
   init that calls setsid() (sysvinit, busybox, systemd) then leads a session inside. */
static int
check_session (const char *name, pid_t pid, ctr_error_t *err)
{
  unsigned tty_nr;
  int sid = -1;

  if (read_stat (name, pid, &sid, &tty_nr, err) < 0)
    return -1;
  if (sid == pid)
    return 0;
  return ctr_error (err, 0,
                    "container `%s`: its init leads no session of its own (it has a console and "
                    "never called setsid()): criu cannot dump it; set process.terminal to false "
                    "in its config.json",
                    name);
}

/* Whether one of pid's descriptors is /dev/tty (5:0), its controlling terminal. */
static bool
holds_dev_tty (pid_t pid)
{
  cleanup_free char *path = xasprintf ("/proc/%d/fd", pid);
  DIR *d = opendir (path);
  struct dirent *e;
  bool found = false;

  if (d == NULL)
    return false;
  while (!found && (e = readdir (d)) != NULL)
    {
      struct stat st;
      found = e->d_name[0] != '.' && fstatat (dirfd (d), e->d_name, &st, 0) == 0
              && S_ISCHR (st.st_mode) && major (st.st_rdev) == 5 && minor (st.st_rdev) == 0;
    }
  closedir (d);
  return found;
}

/* criu 3.17 dumps a process that has its controlling terminal open as /dev/tty only with
   the pty's master in the dump: an interactive shell on the console (whose master is the
   monitor's) cannot be dumped. Refused before criu runs, naming the shell. */
static int
check_console_shell (const struct ctr_context *ctx, const char *name, pid_t init, ctr_error_t *err)
{
  cleanup_free char *fd0 = xasprintf ("/proc/%d/fd/0", init);
  cleanup_free pid_t *pids = NULL;
  ctr_error_t ignored = NULL;
  struct stat st;
  unsigned console;
  size_t n = 0;

  if (stat (fd0, &st) < 0 || !S_ISCHR (st.st_mode))
    return 0; /* no console */
  /* the kernel's encoding of a device number in /proc/PID/stat */
  console = (minor (st.st_rdev) & 0xff) | (major (st.st_rdev) << 8)
            | ((minor (st.st_rdev) & ~0xffu) << 12);
  if (container_ps (ctx, name, &pids, &n, &ignored) < 0)
    {
      ctr_error_free (&ignored);
      return 0; /* criu says what it finds */
    }
  for (size_t i = 0; i < n; i++)
    {
      unsigned tty_nr = 0;
      int sid;
      cleanup_free char *comm = NULL;
      if (read_stat (name, pids[i], &sid, &tty_nr, &ignored) < 0)
        {
          ctr_error_free (&ignored);
          continue;
        }
      if (tty_nr != console || !holds_dev_tty (pids[i]))
        continue;
      comm = proc_comm (pids[i]);
      return ctr_error (err, 0,
                        "container `%s`: process %d (%s) has the console open as /dev/tty (a "
                        "shell on the console): criu 3.17 cannot dump it; run no shell on the "
                        "console (busybox: askfirst in /etc/inittab) or set process.terminal "
                        "to false",
                        name, pids[i], comm ? comm : "?");
    }
  return 0;
}

static int
dump_checks (const struct ctr_context *ctx, const char *name, pid_t pid, ctr_error_t *err)
{
  if (check_session (name, pid, err) < 0 || check_console_shell (ctx, name, pid, err) < 0
      || check_idmapped_root (name, pid, err) < 0)
    return -1;
  return 0;
}

int
system_dump_check (const struct ctr_context *ctx, const char *name, ctr_error_t *err)
{
  cleanup_strv char **addresses = NULL;
  pid_t pid = 0;

  if (read_monitor_info (ctx, name, &pid, &addresses, err) < 0)
    return -1;
  return dump_checks (ctx, name, pid, err);
}

static int
write_meta (int imgfd, const char *name, bool netns, bool userns, char **addresses,
            ctr_error_t *err)
{
  json_writer *w = json_writer_new (true);
  cleanup_free char *text = NULL;
  size_t len;

  json_map_open (w);
  json_kv_string (w, "name", name);
  json_kv_bool (w, "netns", netns);
  json_kv_bool (w, "userns", userns);
  json_kv_strv (w, "addresses", addresses);
  json_map_close (w);
  text = json_writer_finish (w, &len);
  return write_file_at (imgfd, CKPT_META, text, len, 0600, err);
}

/* The image directory to write: the default one is written beside the last checkpoint
   (NAME/checkpoint.new) and replaces it only when complete; a named one must be new, empty
   or an unfinished image (which is wiped). */
static int
make_image_dir (const char *dir, bool is_default, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  bool wipe = is_default;

  if (mkdir (dir, 0700) == 0)
    return 0;
  if (errno != EEXIST)
    return ctr_error (err, errno, "checkpoint directory `%s`", dir);
  fd = open (dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ctr_error (err, errno, "checkpoint directory `%s`", dir);
  if (!wipe && faccessat (fd, CKPT_INCOMPLETE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    wipe = true;
  if (!wipe && rmdir (dir) < 0)
    return ctr_error (err, 0, "checkpoint directory `%s` is not empty: remove it or name a new one",
                      dir);
  if (wipe && remove_tree_at (AT_FDCWD, dir, err) < 0)
    return ctr_error_wrap (err, "remove the unfinished checkpoint");
  if (mkdir (dir, 0700) < 0)
    return ctr_error (err, errno, "checkpoint directory `%s`", dir);
  return 0;
}

/* --stop: criu ended init; the monitor undoes the rest (network, cgroup, state) and says
   so to its clients with EXIT, or closes. */
static void
wait_monitor_exit (int fd)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  char buf[64];
  for (int i = 0; i < 300; i++)
    if (poll (&p, 1, 1000) > 0)
      {
        ssize_t n = recv (fd, buf, sizeof buf, 0);
        if (n <= 0 || buf[0] == MON_EXIT)
          return;
      }
}

/* The image complete: a default one takes the last one's place in one step. */
static int
publish_image (const char *staging, const char *final, ctr_error_t *err)
{
  ctr_error_t ignored = NULL;
  if (unlinkat (AT_FDCWD, final, 0) < 0 && errno != ENOENT && errno != EISDIR)
    return ctr_error (err, errno, "remove `%s`", final);
  if (renameat2 (AT_FDCWD, staging, AT_FDCWD, final, RENAME_EXCHANGE) == 0)
    {
      if (remove_tree_at (AT_FDCWD, staging, &ignored) < 0)
        ctr_error_free (&ignored);
      return 0;
    }
  if (errno != ENOENT)
    return ctr_error (err, errno, "rename `%s` to `%s`", staging, final);
  if (rename (staging, final) < 0)
    return ctr_error (err, errno, "rename `%s` to `%s`", staging, final);
  return 0;
}

static int
check_running (const struct ctr_context *ctx, const char *name, ctr_error_t *err)
{
  enum system_status st;
  if (!system_exists (ctx, name))
    return ctr_error (err, 0, "container `%s` does not exist", name);
  st = system_status_get (ctx, name);
  if (st == SYSTEM_RUNNING)
    return 0;
  return ctr_error (err, 0, "container `%s` is %s: only a running container can be checkpointed",
                    name, st == SYSTEM_STOPPED ? "not running" : system_status_name (st));
}

static int
dump (const struct ctr_context *ctx, const char *name, const char *image,
      const struct system_dump_options *d, ctr_error_t *err)
{
  bool stop = d->stop;
  cleanup_free char *work = work_dir (ctx, name, err);
  cleanup_strv char **addresses = NULL;
  cleanup_close int imgfd = -1, mon = -1;
  struct container_criu_options o = { .status_fd = -1 };
  pid_t pid = 0;
  bool netns, userns;

  if (work == NULL || read_monitor_info (ctx, name, &pid, &addresses, err) < 0
      || dump_checks (ctx, name, pid, err) < 0)
    return -1;
  imgfd = open (image, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (imgfd < 0)
    return ctr_error (err, errno, "checkpoint directory `%s`", image);
  netns = own_ns (pid, "net");
  userns = own_ns (pid, "user");
  if (write_file_at (imgfd, CKPT_INCOMPLETE, "", 0, 0600, err) < 0
      || write_meta (imgfd, name, netns, userns, addresses, err) < 0)
    return -1;
  if (stop && (mon = monitor_connect (ctx, name, err)) < 0)
    return -1;
  o.image_path = image;
  o.work_path = work;
  o.leave_running = !stop;
  o.pre_dump = d->pre_dump;
  o.parent_path = d->parent;
  o.keep_state = true;
  /* a network namespace of the container's user namespace can only be made again by
     criu, inside the one it restores: dumped empty, and attached again by the monitor */
  o.external_netns = netns && !userns;
  o.empty_ns = netns && userns ? "network" : NULL;
  /* a machine's open connections go with it (restored in repair mode, as LXD migrates) */
  o.tcp_established = true;
  if (container_checkpoint (ctx, name, &o, err) < 0)
    return -1;
  if (unlinkat (imgfd, CKPT_INCOMPLETE, 0) < 0)
    return ctr_error (err, errno, "checkpoint `%s`: finish", image);
  if (stop)
    wait_monitor_exit (mon);
  return 0;
}

int
system_checkpoint (const struct ctr_context *ctx, const char *name, const char *dir, bool stop,
                   ctr_error_t *err)
{
  cleanup_free char *final = dir ? NULL : store_path (ctx, name, CKPT_DEFAULT);
  cleanup_free char *staging = dir ? NULL : store_path (ctx, name, CKPT_DEFAULT ".new");
  struct system_dump_options d = { .stop = stop };
  char resolved[PATH_MAX];
  ctr_error_t ignored = NULL;
  const char *image;

  if (check_running (ctx, name, err) < 0)
    return -1;
  if (make_image_dir (dir ? dir : staging, dir == NULL, err) < 0)
    return -1;
  /* criu runs elsewhere (the monitor's cwd is /): absolute paths */
  if (realpath (dir ? dir : staging, resolved) == NULL)
    return ctr_error (err, errno, "checkpoint directory `%s`", dir ? dir : staging);
  image = resolved;
  ctr_log_debug ("checkpoint `%s` into %s%s", name, image, stop ? ", then stop" : "");
  if (dump (ctx, name, image, &d, err) < 0 || (final && publish_image (staging, final, err) < 0))
    {
      if (remove_tree_at (AT_FDCWD, image, &ignored) < 0)
        ctr_error_free (&ignored);
      return -1;
    }
  return 0;
}

int
system_dump (const struct ctr_context *ctx, const char *name, const char *image,
             const struct system_dump_options *d, ctr_error_t *err)
{
  if (check_running (ctx, name, err) < 0)
    return -1;
  if (mkdir (image, 0700) < 0)
    return ctr_error (err, errno, "checkpoint directory `%s`", image);
  return dump (ctx, name, image, d, err);
}

/* system.json of the image: the address to take again and whether a namespace is made. */
static int
read_meta (int imgfd, const char *dir, const char *name, struct monitor_restore_image *img,
           char **ip, ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  const json_value *a;
  const char *s;
  json_value *v;
  size_t len;
  int r = 0;

  if (faccessat (imgfd, CKPT_INCOMPLETE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return ctr_error (err, 0, "`%s`: an unfinished checkpoint (its `ctr checkpoint` was stopped)",
                      dir);
  if (read_file_at (imgfd, CKPT_META, 1 << 16, &text, &len, err) < 0)
    {
      ctr_error_free (err);
      return ctr_error (err, 0, "`%s` is not a checkpoint of a system container (no %s)", dir,
                        CKPT_META);
    }
  v = json_parse (text, len, CKPT_META, err);
  if (v == NULL)
    return -1;
  if (!json_as_string (json_get (v, "name"), &s) || strcmp (s, name) != 0)
    r = ctr_error (err, 0, "`%s` is a checkpoint of `%s`, not of `%s`", dir,
                   json_as_string (json_get (v, "name"), &s) ? s : "?", name);
  if (!json_as_bool (json_get (v, "netns"), &img->netns))
    img->netns = true;
  if (!json_as_bool (json_get (v, "userns"), &img->userns))
    img->userns = false;
  a = json_get (v, "addresses");
  for (size_t i = 0; r == 0 && a && i < json_len (a) && *ip == NULL; i++)
    if (json_as_string (json_at (a, i), &s) && strchr (s, '.'))
      *ip = xstrndup (s, strcspn (s, "/"));
  json_value_free (v);
  return r;
}

/* One image directory's files and itself: owned by uid, group kept (0), the directory
   0750 (never through a link, nothing below it: criu writes its images flat). */
static int
own_image_dir (int fd, const char *dir, uid_t uid, ctr_error_t *err)
{
  cleanup_dir DIR *d = fdopendir (fcntl (fd, F_DUPFD_CLOEXEC, 0));
  struct dirent *de;

  if (d == NULL)
    return ctr_error (err, errno, "read `%s`", dir);
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0
        && fchownat (fd, de->d_name, uid, (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0)
      return ctr_error (err, errno, "chown `%s/%s`", dir, de->d_name);
  if (fchown (fd, uid, (gid_t)-1) < 0 || fchmod (fd, 0750) < 0)
    return ctr_error (err, errno, "chown `%s`", dir);
  return 0;
}

/* The pre-dump an image builds on: its "parent" link, which ctr's dumps make "../NAME"
   (any other is not followed: a migrated image is the sender's), and the directory
   holding both owned by uid too, which criu goes through. -1: none, -2: an error. */
static int
open_parent_image (int fd, const char *dir, uid_t uid, ctr_error_t *err)
{
  cleanup_close int up = -1;
  char link[256];
  ssize_t n = readlinkat (fd, "parent", link, sizeof link - 1);
  int parent;

  if (n < 0)
    return -1;
  link[n] = '\0';
  if (strncmp (link, "../", 3) != 0 || strchr (link + 3, '/') || link[3] == '\0'
      || strcmp (link + 3, "..") == 0 || strcmp (link + 3, ".") == 0)
    return -1;
  up = openat (fd, "..", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (up < 0 || fchown (up, uid, (gid_t)-1) < 0 || fchmod (up, 0750) < 0)
    {
      ctr_error (err, errno, "chown `%s/..`", dir);
      return -2;
    }
  parent = openat (up, link + 3, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  return parent < 0 ? -1 : parent;
}

/* criu's restored tasks read the image themselves: first as host root's uid without its
   capabilities (a new user namespace, not mapped yet), then as the container's root, to
   whom host root's 0700 files are nobody's. So the image, and the pre-dumps it builds on,
   go to the container's root with group 0 (0750: no one else), as LXD shifts its images.
   So does the store's monitor.log, init's stderr, which criu opens again by path as the
   restored root (a file in a 0700 directory, that init could write already). */
static int
shift_image (const struct ctr_context *ctx, const char *name, int imgfd, const char *dir,
             ctr_error_t *err)
{
  cleanup_close int dfd = store_open (store_root (ctx->store), name, err);
  struct store_meta meta = { 0 };
  int fd = imgfd, r = 0;

  if (dfd < 0 || store_meta_read (dfd, name, &meta, err) < 0)
    return -1;
  if (meta.idmap_count == 0)
    r = ctr_error (err, 0,
                   "`%s` is a checkpoint of an unprivileged container, and `%s` is privileged "
                   "now: `ctr config %s set privileged false` while it is stopped first",
                   dir, name, name);
  for (int depth = 0; r == 0 && fd >= 0 && depth < 64; depth++)
    {
      int parent;
      r = own_image_dir (fd, dir, meta.idmap_uid, err);
      parent = r == 0 ? open_parent_image (fd, dir, meta.idmap_uid, err) : -1;
      if (parent == -2)
        r = -1;
      if (fd != imgfd)
        close (fd);
      fd = parent;
    }
  if (fd >= 0 && fd != imgfd)
    close (fd);
  if (r == 0 && fchownat (dfd, "monitor.log", meta.idmap_uid, (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0
      && errno != ENOENT)
    r = ctr_error (err, errno, "chown `%s/%s/monitor.log`", store_root (ctx->store), name);
  store_meta_clear (&meta);
  return r;
}

int
system_restore (const struct ctr_context *ctx, const char *name, const char *dir, ctr_error_t *err)
{
  cleanup_free char *def = dir ? NULL : store_path (ctx, name, CKPT_DEFAULT);
  cleanup_free char *work = NULL, *ip = NULL;
  cleanup_close int imgfd = -1;
  struct monitor_restore_image img = { 0 };
  char resolved[PATH_MAX];

  if (!system_exists (ctx, name))
    return ctr_error (err, 0, "container `%s` does not exist", name);
  if (is_rootless ())
    return ctr_error (err, EPERM, "restore: criu needs root");
  if (system_status_get (ctx, name) != SYSTEM_STOPPED)
    return ctr_error (err, 0, "container `%s` is already %s: `ctr checkpoint --stop %s` first",
                      name, system_status_name (system_status_get (ctx, name)), name);
  if (realpath (dir ? dir : def, resolved) == NULL)
    {
      if (errno == ENOENT && dir == NULL)
        return ctr_error (
            err, 0, "container `%s` has no checkpoint (`ctr checkpoint %s` makes one)", name, name);
      return ctr_error (err, errno, "checkpoint directory `%s`", dir ? dir : def);
    }
  imgfd = open (resolved, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (imgfd < 0)
    return ctr_error (err, errno, "checkpoint directory `%s`", resolved);
  if (read_meta (imgfd, resolved, name, &img, &ip, err) < 0
      || (img.userns && shift_image (ctx, name, imgfd, resolved, err) < 0))
    return -1;
  work = work_dir (ctx, name, err);
  if (work == NULL)
    return -1;
  img.dir = resolved;
  img.work = work;
  if (system_run_restored (ctx, name, &img, ip, err) < 0)
    return ctr_error_wrap (err, "restore `%s`", name);
  return 0;
}
