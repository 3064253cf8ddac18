/* system_migrate: `ctr migrate NAME DEST`, the sending side. The target is asked first
   (protocol, name, architecture, networks, criu), then the store directory goes over as a
   tar stream while the container runs, memory follows in criu pre-dump rounds, and the last
   dump stops the container: the root filesystem's changes since the first copy and the last
   image go over, the target restores it, and only once it runs there is it destroyed here.
   Until then any failure leaves the container running here (restored from its last dump). */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"
#include "base/memory.h"
#include "base/util.h"
#include "system/migrate.h"
#include "system/pool_volume.h"
#include "system/store.h"
#include "system/system.h"

/* in the store directory while a migration runs: the images, and tar's incremental list */
#define MIG_DIR "migrate"

struct mig
{
  const struct ctr_context *ctx;
  const char *name;
  int fd;
  pid_t ssh;  /* ssh:// the ssh that carries the stream */
  char *dir;  /* <store>/NAME */
  char *work; /* <store>/NAME/migrate */
  /* the root filesystem: <store>/NAME/rootfs, or its volume's directory in a dir or btrfs
     pool (an lvm or overlay volume is mounted there) */
  char *rootfs;
  double t0;
  json_writer *report; /* --format json: the steps, printed once it runs there */
  int64_t downtime_ms;
};

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A step done, since `since`: a line "migrate NAME: PHASE[ ROUND][: SIZE] (SECONDS s)", or
   a record of the JSON report (phase, round, bytes, ms). round 0 and bytes -1: none. */
static void
step (struct mig *m, double since, const char *phase, int round, int64_t bytes)
{
  double secs = now () - since;

  if (m->report)
    {
      json_map_open (m->report);
      json_kv_string (m->report, "phase", phase);
      if (round > 0)
        json_kv_int (m->report, "round", round);
      if (bytes >= 0)
        json_kv_int (m->report, "bytes", bytes);
      json_kv_int (m->report, "ms", (int64_t)(secs * 1000 + 0.5));
      json_map_close (m->report);
      return;
    }
  printf ("migrate %s: %s", m->name, phase);
  if (round > 0)
    printf (" %d", round);
  if (bytes >= 0)
    printf (": %.1f MiB", bytes / 1048576.0);
  printf (" (%.2f s)\n", secs);
  fflush (stdout);
}

/* The container's own checks: running; a volume of a pool goes as a tree (it lands in the
   target's store, pool default), without native snapshots. */
static int
check_source (struct mig *m, char ***networks, ctr_error_t *err)
{
  cleanup_close int dfd = store_open (store_root (m->ctx->store), m->name, err);
  cleanup_free char *snap = NULL;
  struct store_meta meta = { 0 };
  int r = 0;

  if (dfd < 0 || store_meta_read (dfd, m->name, &meta, err) < 0)
    return -1;
  /* snapshots that are a pool's own volumes would not go with it, and the source's volume
     goes once it runs there */
  if (pool_volume_native_snapshots (dfd) && (snap = pool_volume_any_snapshot (dfd)) != NULL)
    r = ctr_error (err, 0,
                   "migrate `%s`: its snapshots are volumes of pool `%s`, which do not migrate: "
                   "`ctr snapshot rm` them first",
                   m->name, meta.pool ? meta.pool : "default");
  else if (system_status_get (m->ctx, m->name) != SYSTEM_RUNNING)
    r = ctr_error (err, 0, "migrate `%s`: the container is %s: only a running one migrates",
                   m->name, system_status_name (system_status_get (m->ctx, m->name)));
  else if (system_dump_check (m->ctx, m->name, err) < 0)
    r = -1; /* "container `NAME`: ..." */
  m->rootfs = pool_volume_rootfs (dfd, m->dir);
  *networks = meta.networks;
  meta.networks = NULL;
  store_meta_clear (&meta);
  return r;
}

static int
hello (struct mig *m, char **networks, ctr_error_t *err)
{
  json_writer *w = json_writer_new (false);
  cleanup_free char *text = NULL;
  struct utsname u;
  size_t len;

  uname (&u);
  json_map_open (w);
  json_kv_int (w, "version", MIG_VERSION);
  json_kv_string (w, "name", m->name);
  json_kv_string (w, "arch", u.machine);
  json_kv_strv (w, "networks", networks);
  json_map_close (w);
  text = json_writer_finish (w, &len);
  if (mig_send (m->fd, MIG_HELLO, text, len, err) < 0)
    return ctr_error_wrap (err, "migrate: check the target");
  return mig_wait_ok (m->fd, "migrate: check the target", NULL, err);
}

/* The store directory's entries, as paths from / (NULL-terminated), but the migration's
   own, criu's, the root filesystem (sent from where it is) and a pool volume's record. */
static char **
store_entries (const struct mig *m, ctr_error_t *err)
{
  static const char *const skip[] = {
    ".", "..", MIG_DIR, "criu", "checkpoint", "checkpoint.new", "rootfs", POOL_VOLUME_RECORD
  };
  DIR *d = opendir (m->dir);
  struct dirent *e;
  char **v = NULL;
  size_t n = 0;

  if (d == NULL)
    {
      ctr_error (err, errno, "migrate: open `%s`", m->dir);
      return NULL;
    }
  while ((e = readdir (d)) != NULL)
    {
      size_t i;
      for (i = 0; i < ARRAY_SIZE (skip) && strcmp (e->d_name, skip[i]) != 0; i++)
        ;
      if (i < ARRAY_SIZE (skip))
        continue;
      v = xrealloc (v, (n + 2) * sizeof *v);
      v[n++] = xasprintf ("%s/%s", m->dir + 1, e->d_name);
      v[n] = NULL;
    }
  closedir (d);
  return v ? v : xzalloc (sizeof *v);
}

/* path for a basic regular expression of tar's --transform, delimiter ',' */
static char *
regex_quote (const char *path)
{
  char *out = xmalloc (strlen (path) * 2 + 1), *o = out;
  for (const char *p = path; *p; p++)
    {
      if (strchr (".[]*^$\\,", *p))
        *o++ = '\\';
      *o++ = *p;
    }
  *o = '\0';
  return out;
}

/* The store directory as a tar stream, the root filesystem from where it is as its
   rootfs/: the first one whole, the next one (level 1 of tar's --listed-incremental) what
   changed since, deleted files included. --listed-incremental takes one -C: both trees
   are named from /, and --transform makes them NAME's entries and rootfs/. */
static int
send_store (struct mig *m, const char *what, ctr_error_t *err)
{
  cleanup_strv char **entries = store_entries (m, err);
  cleanup_free char *snar = xasprintf ("--listed-incremental=%s/rootfs.snar", m->work);
  cleanup_free char *dir_re = regex_quote (m->dir + 1), *root_re = regex_quote (m->rootfs + 1);
  /* the store directory's entries lose its path; the root filesystem's path becomes
     rootfs (when it is NAME/rootfs, the first one already made it so); symlink targets
     are left alone */
  cleanup_free char *transform
      = xasprintf ("s,^%s/,,S;s,^%s\\(/\\|$\\),rootfs\\1,S", dir_re, root_re);
  char *args[64] = { "-c",      "-f", "-", "--numeric-owner", "--xattrs", snar, "--transform",
                     transform, "-C", "/" };
  size_t n = 10;
  uint64_t bytes;
  double t = now ();

  if (entries == NULL)
    return -1;
  if (m->dir[0] != '/' || m->rootfs[0] != '/')
    return ctr_error (err, 0, "migrate: `%s`: not an absolute path", m->dir);
  for (size_t i = 0; entries[i]; i++)
    {
      if (n >= ARRAY_SIZE (args) - 2)
        return ctr_error (err, 0, "migrate: `%s` has too many entries", m->dir);
      args[n++] = entries[i];
    }
  args[n++] = m->rootfs + 1;
  args[n] = NULL;
  if (mig_send (m->fd, MIG_BEGIN, "rootfs", 6, err) < 0
      || mig_send_tar (m->fd, args, &bytes, err) < 0)
    return ctr_error_wrap (err, "migrate: send the root filesystem");
  if (mig_wait_ok (m->fd, "migrate: send the root filesystem", NULL, err) < 0)
    return -1;
  step (m, t, what, 0, (int64_t)bytes);
  return 0;
}

/* One image directory of work/ (a pre-dump round or the final dump) to the target. */
static int
send_image (struct mig *m, const char *dir, uint64_t *bytes, ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", m->work, dir);
  cleanup_free char *begin = xasprintf ("image %s", dir);
  char *args[] = { "-c", "-f", "-", "-C", path, ".", NULL };

  if (mig_send (m->fd, MIG_BEGIN, begin, strlen (begin), err) < 0
      || mig_send_tar (m->fd, args, bytes, err) < 0)
    return ctr_error_wrap (err, "migrate: send the memory image");
  return mig_wait_ok (m->fd, "migrate: send the memory image", NULL, err);
}

/* Pre-dump rounds while the container runs: at most max, or until one is no smaller than
   the one before (the dirty set stops shrinking). *last: the last round's number. */
static int
pre_dumps (struct mig *m, int max, int *last, ctr_error_t *err)
{
  uint64_t prev = 0, bytes = 0;

  *last = 0;
  for (int i = 1; i <= max; i++)
    {
      cleanup_free char *dir = xasprintf ("pre-%d", i);
      cleanup_free char *img = xasprintf ("%s/%s", m->work, dir);
      cleanup_free char *parent = i > 1 ? xasprintf ("../pre-%d", i - 1) : NULL;
      struct system_dump_options d = { .parent = parent, .pre_dump = true };
      double t = now ();

      if (system_dump (m->ctx, m->name, img, &d, err) < 0 || send_image (m, dir, &bytes, err) < 0)
        return ctr_error_wrap (err, "migrate: pre-dump round %d", i);
      *last = i;
      step (m, t, "pre-dump", i, (int64_t)bytes);
      if (i > 1 && bytes >= prev)
        break;
      prev = bytes;
    }
  return 0;
}

/* The container is stopped by its final dump: it runs here again from that image, which
   the error (one line) says, or where the image stays. */
static void
restore_here (struct mig *m, ctr_error_t *err)
{
  cleanup_free char *img = xasprintf ("%s/final", m->work);
  cleanup_free char *msg = ctr_error_string (*err);
  ctr_error_t e = NULL;

  if (system_status_get (m->ctx, m->name) == SYSTEM_RUNNING)
    return;
  if (system_restore (m->ctx, m->name, img, &e) < 0)
    {
      ctr_error_print (&e);
      ctr_error (err, 0,
                 "%s; container `%s` is stopped, its image stays in `%s` (`ctr restore %s %s`)",
                 msg, m->name, img, m->name, img);
      return;
    }
  ctr_error (err, 0, "%s; container `%s` runs here again", msg, m->name);
}

/* Stop, last dump, the rest of the files, restore there. */
static int
final (struct mig *m, int last, ctr_error_t *err)
{
  cleanup_free char *parent = last > 0 ? xasprintf ("../pre-%d", last) : NULL;
  cleanup_free char *img = xasprintf ("%s/final", m->work);
  struct system_dump_options d = { .parent = parent, .stop = true };
  uint64_t bytes;
  double t = now (), t1;

  if (system_dump (m->ctx, m->name, img, &d, err) < 0)
    return ctr_error_wrap (err, "migrate: final dump");
  step (m, t, "final dump, the container stopped", 0, -1);
  if (send_store (m, "changed files", err) < 0)
    return -1;
  t1 = now ();
  if (send_image (m, "final", &bytes, err) < 0)
    return -1;
  step (m, t1, "final image", 0, (int64_t)bytes);
  if (mig_send (m->fd, MIG_RESTORE, NULL, 0, err) < 0)
    return ctr_error_wrap (err, "migrate: restore on the target");
  if (mig_wait_ok (m->fd, "migrate: restore on the target", NULL, err) < 0)
    return -1;
  m->downtime_ms = (int64_t)((now () - t) * 1000 + 0.5);
  if (m->report == NULL)
    step (m, t, "downtime (stopped here until it ran there)", 0, -1);
  return 0;
}

/* --format json: the report, once the container runs there (its writer is then done). */
static void
report_print (struct mig *m, double t0)
{
  char *text;
  json_array_close (m->report);
  json_kv_int (m->report, "downtime_ms", m->downtime_ms);
  json_kv_int (m->report, "total_ms", (int64_t)((now () - t0) * 1000 + 0.5));
  json_map_close (m->report);
  text = json_writer_finish (m->report, NULL);
  m->report = NULL;
  printf ("%s\n", text);
  fflush (stdout);
  free (text);
}

static int
run (struct mig *m, const char *dest, const struct mig_options *o, ctr_error_t *err)
{
  cleanup_strv char **networks = NULL;
  int last = 0;

  if (check_source (m, &networks, err) < 0)
    return -1;
  /* running: what an earlier migration killed midway left is of no use (a stopped one's
     final image is kept: `ctr restore NAME NAME/migrate/final` brings it back) */
  if (remove_tree_at (AT_FDCWD, m->work, err) < 0)
    return -1;
  m->fd = mig_connect (dest, &m->ssh, err);
  if (m->fd < 0)
    return -1;
  if (hello (m, networks, err) < 0)
    return -1;
  if (mkdir (m->work, 0700) < 0)
    return ctr_error (err, errno, "migrate: create `%s`", m->work);
  if (send_store (m, "root filesystem", err) < 0 || pre_dumps (m, o->max_rounds, &last, err) < 0)
    return -1;
  if (final (m, last, err) < 0)
    {
      restore_here (m, err);
      return -1;
    }
  return 0;
}

/* It runs on the target: its store directory goes here. Not system_destroy: the final
   dump stopped it and its monitor ended cleanly (state, addresses and cgroups went with
   it), while destroy's sweep of a killed monitor's cgroup goes by name and would take a
   monitor of the same name that is no business of this host's (two state roots on one
   machine). Renamed to the staging name under the store lock first: a kill midway leaves
   what the next `ctr ls` or `ctr destroy -f` removes. */
static int
forget_source (const struct mig *m, ctr_error_t *err)
{
  const char *root = store_root (m->ctx->store);
  cleanup_free char *staging = xasprintf (".%s.new", m->name);
  cleanup_close int dfd = store_open (root, m->name, err), rootfd = -1;

  if (dfd < 0 || store_lock (dfd, err) < 0)
    return -1;
  if (system_status_get (m->ctx, m->name) != SYSTEM_STOPPED)
    return ctr_error (err, 0, "container `%s` runs here again", m->name);
  rootfd = open (root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (rootfd < 0)
    return ctr_error (err, errno, "open store `%s`", root);
  if (renameat2 (rootfd, m->name, rootfd, staging, RENAME_NOREPLACE) < 0)
    return ctr_error (err, errno, "rename `%s` to `%s`", m->name, staging);
  /* a pool's volume: its mount, subvolume, LV or upper first */
  if (pool_volume_release (dfd, NULL, err) < 0)
    return -1;
  return remove_tree_at (rootfd, staging, err);
}

int
system_migrate (const struct ctr_context *ctx, const char *name, const char *dest,
                const struct mig_options *o, ctr_error_t *err)
{
  struct mig m = { .ctx = ctx, .name = name, .fd = -1, .t0 = now () };
  ctr_error_t e2 = NULL;
  int r;

  if (mig_check_address (dest, err) < 0)
    return -1;
  if (!system_exists (ctx, name))
    return ctr_error (err, 0, "container `%s` does not exist", name);
  /* a receiver gone is an error to handle, not a reason to die with the container stopped */
  signal (SIGPIPE, SIG_IGN);
  m.dir = xasprintf ("%s/%s", store_root (ctx->store), name);
  m.work = xasprintf ("%s/%s", m.dir, MIG_DIR);
  if (o->json)
    {
      m.report = json_writer_new (true);
      json_map_open (m.report);
      json_kv_string (m.report, "name", name);
      json_kv_string (m.report, "destination", dest);
      json_key (m.report, "phases");
      json_array_open (m.report);
    }
  r = run (&m, dest, o, err);
  if (m.fd >= 0)
    close (m.fd);
  if (m.ssh > 0)
    waitpid (m.ssh, NULL, 0);
  if (r == 0)
    {
      if (m.report)
        report_print (&m, m.t0);
      else
        step (&m, m.t0, "runs on the target; total", 0, -1);
      if (forget_source (&m, &e2) < 0)
        {
          ctr_error_print (&e2);
          fprintf (stderr, "ctr: migrate `%s`: remove it here with `ctr destroy -f %s`\n", name,
                   name);
        }
    }
  else if (system_status_get (ctx, name) == SYSTEM_RUNNING
           && remove_tree_at (AT_FDCWD, m.work, &e2) < 0)
    ctr_error_free (&e2);
  if (m.report)
    free (json_writer_finish (m.report, NULL));
  free (m.dir);
  free (m.work);
  free (m.rootfs);
  return r;
}
