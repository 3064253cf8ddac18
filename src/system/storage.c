/* storage: copies of stopped system containers: `ctr clone` and `ctr snapshot`. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"
#include "base/owned_dir.h"
#include "base/util.h"
#include "system/userns_child.h"
#include "system/ephemeral.h"
#include "system/move.h"
#include "system/idmap.h"
#include "system/pool.h"
#include "system/pool_volume.h"
#include "system/store.h"
#include "system/system.h"

#define SNAPSHOTS "snapshots"
#define SNAPSHOT_META "snapshot.json"
#define CONFIG_MAX (4 * 1024 * 1024)
#define COMMENT_MAX 4096
/* a restore's staging copy, and what it swaps out */
#define ROOTFS_NEW ".rootfs.new"

/* ------------------------------------------------------------------ copying */

/* ------------------------------------------------------------------ common */

int
system_open_stopped (const struct ctr_context *ctx, const char *name, const char *what,
                     ctr_error_t *err)
{
  cleanup_close int fd = -1;
  enum system_status st;

  fd = store_open (store_root (ctx->store), name, err);
  if (fd < 0 || store_lock (fd, err) < 0)
    return -1;
  st = system_status_get (ctx, name);
  if (st != SYSTEM_STOPPED)
    return ctr_error (err, 0, "%s: container `%s` is %s: stop it first", what, name,
                      system_status_name (st));
  return steal_fd (fd);
}

/* "x" when the store-relative path is safe to name (only ids and fixed names are used). */
static char *
store_path (const struct ctr_context *ctx, const char *name, const char *rest)
{
  return xasprintf ("%s/%s%s%s", store_root (ctx->store), name, rest ? "/" : "", rest ? rest : "");
}

/* config.json with its top-level "hostname" renamed from old to new (other values as
   they are). */
static int
copy_config (int from_dir, int to_dir, const char *old, const char *new, ctr_error_t *err)
{
  cleanup_free char *text = NULL, *out = NULL;
  json_value *v;
  json_writer *w;
  size_t len;
  int r;

  if (read_file_at (from_dir, "config.json", CONFIG_MAX, &text, &len, err) < 0)
    return -1;
  v = json_parse (text, len, "config.json", err);
  if (v == NULL)
    return -1;
  if (!json_is_object (v))
    {
      json_value_free (v);
      return ctr_error (err, 0, "config.json: not a JSON object");
    }
  w = json_writer_new (true);
  json_map_open (w);
  for (size_t i = 0; i < json_len (v); i++)
    {
      const char *key = json_key_at (v, i), *s;
      const json_value *val = json_value_at (v, i);
      json_key (w, key);
      if (old && strcmp (key, "hostname") == 0 && json_as_string (val, &s) && strcmp (s, old) == 0)
        json_string (w, new);
      else
        {
          size_t vlen;
          cleanup_free char *raw = json_value_to_string (val, &vlen);
          json_raw (w, raw, vlen);
        }
    }
  json_map_close (w);
  json_value_free (v);
  out = json_writer_finish (w, &len);
  r = write_file_atomic_at (to_dir, "config.json", out, len, 0600, err);
  return r;
}

/* ------------------------------------------------------------------ clone */

/* DST's rootfs in SRC's pool: a copy (cp -a --reflink=auto) into a new volume, or with
   snapshot a copy-on-write one (btrfs, lvm, overlay; a dir pool copies). */
static int
clone_rootfs (const struct ctr_context *ctx, int srcfd, int dfd, const char *src, const char *dst,
              bool snapshot, ctr_error_t *err)
{
  const char *root = store_root (ctx->store);
  cleanup_free char *srcdir = store_path (ctx, src, NULL), *dstdir = NULL;
  cleanup_free char *pname = pool_volume_pool (srcfd), *from = pool_volume_rootfs (srcfd, srcdir);
  cleanup_free char *to = NULL, *contents = NULL;
  __attribute__ ((cleanup (pool_clear))) struct pool p = { 0 };

  dstdir = xasprintf ("%s/.%s.new", root, dst);
  if (pool_load (root, pname, &p, err) < 0)
    return -1;
  if (strcmp (p.name, POOL_DEFAULT) == 0)
    {
      to = xasprintf ("%s/rootfs", dstdir);
      return pool_copy_tree (from, to, dfd, err);
    }
  if (p.type == POOL_OVERLAY && !snapshot)
    return ctr_error (err, 0, "`%s` is in overlay pool `%s`: clone it with --snapshot", src,
                      p.name);
  if (mkdirat (dfd, "rootfs", 0755) < 0)
    return ctr_error (err, errno, "create `%s/rootfs`", dstdir);
  if (snapshot && p.type != POOL_DIR)
    return pool_volume_snapshot_clone (&p, srcfd, dfd, dstdir, src, dst, err);
  if (pool_volume_create (&p, dfd, dstdir, dst, NULL, NULL, err) < 0)
    return -1;
  to = pool_volume_rootfs (dfd, dstdir);
  contents = xasprintf ("%s/.", from);
  return pool_copy_tree (contents, to, dfd, err);
}

static int
clone_into (const struct ctr_context *ctx, int srcfd, int dfd, const char *src, const char *dst,
            bool snapshot, ctr_error_t *err)
{
  struct store_meta m;
  int r;

  if (clone_rootfs (ctx, srcfd, dfd, src, dst, snapshot, err) < 0)
    return ctr_error_wrap (err, "clone `%s`", src);
  if (copy_config (srcfd, dfd, src, dst, err) < 0)
    return ctr_error_wrap (err, "clone `%s`", src);
  system_rename_etc_hostname (dfd, src, dst);
  if (store_meta_read (srcfd, src, &m, err) < 0)
    return -1;
  /* what names one container on a network is not shared: a static address (the MAC is
     made from the address) and host ports go; the clone gets a lease of its own */
  if (m.ip || (m.publish && m.publish[0]))
    fprintf (stderr,
             "ctr: note: clone `%s`: the static address and published ports of `%s` are not "
             "copied (`ctr config %s set ip|publish` gives it its own)\n",
             dst, src, dst);
  store_meta_renew (&m);
  m.cloned_from = xstrdup (src);
  r = system_meta_write_copy (ctx, dfd, dst, &m, err);
  store_meta_clear (&m);
  return r;
}

int
system_meta_write_copy (const struct ctr_context *ctx, int dfd, const char *name,
                        struct store_meta *m, ctr_error_t *err)
{
  cleanup_close int rootfd = -1;
  struct store_meta was = *m;
  int r;

  if (is_rootless ())
    {
      /* an unprivileged user's containers share its one mapping (an archive of root's
         named a range of root's) */
      m->idmap_uid = m->idmap_gid = m->idmap_count = 0;
      m->idmap_shifted = false;
      if (store_meta_write (dfd, m, err) < 0)
        return -1;
      return idmap_config_rewrite (dfd, m, err);
    }
  /* privileged; or in a user namespace with no range of root's: an unprivileged user's
     container (imported), which gets a range here as root's unprivileged ones have */
  if (m->idmap_count == 0 && !idmap_config_has_userns (dfd))
    return store_meta_write (dfd, m, err);
  /* an id range of its own (the copy's files stay owned by 0: idmapped at start; where
     they were shifted into the original's range, into its own) */
  rootfd = owned_dir_open (store_root (ctx->store), "store", 0, err);
  m->idmap_count = 0;
  r = rootfd < 0 ? -1 : idmap_allocate (rootfd, dfd, name, m, err);
  if (r == 0 && was.idmap_shifted)
    r = idmap_shift_clone (dfd, name, &was, m, err);
  if (r == 0)
    r = idmap_config_rewrite (dfd, m, err);
  return r;
}

/* DST made from SRC and in the store; *locked_dfd (DST's directory, its lock held from
   the staging on) is handed out when asked for, closed otherwise. mark: an ephemeral
   clone, marked before it is in the store. */
static int
clone_make (const struct ctr_context *ctx, const char *src, const char *dst, bool snapshot,
            bool mark, int *locked_dfd, ctr_error_t *err)
{
  const char *root = store_root (ctx->store);
  cleanup_close int srcfd = -1, rootfd = -1, dfd = -1;
  cleanup_free char *tmp = NULL;
  int r;

  if (validate_container_id (dst, err) < 0)
    return -1;
  if (strcmp (src, dst) == 0)
    return ctr_error (err, 0, "clone `%s`: the new name is the same", src);
  srcfd = system_open_stopped (ctx, src, "clone", err);
  if (srcfd < 0)
    return -1;
  rootfd = owned_dir_open (root, "store", 0, err);
  if (rootfd < 0)
    return -1;
  if (store_exists (root, dst))
    return ctr_error (err, 0, "clone `%s`: container `%s` already exists", src, dst);
  dfd = store_staging_claim (rootfd, dst, err);
  if (dfd < 0)
    return -1;
  tmp = xasprintf (".%s.new", dst);
  r = mark ? ephemeral_mark (dfd, err) : 0;
  if (r == 0)
    r = clone_into (ctx, srcfd, dfd, src, dst, snapshot, err);
  if (r == 0 && renameat2 (rootfd, tmp, rootfd, dst, RENAME_NOREPLACE) < 0)
    r = ctr_error (err, errno == EEXIST ? 0 : errno, "clone `%s`: container `%s` already exists",
                   src, dst);
  if (r < 0)
    {
      ctr_error_t e2 = NULL;
      /* removed under its lock: never a directory another create has claimed */
      if (pool_volume_release (dfd, NULL, &e2) < 0 || store_remove_tree_at (rootfd, tmp, &e2) < 0)
        ctr_error_print (&e2);
      return -1;
    }
  if (locked_dfd)
    *locked_dfd = steal_fd (dfd);
  return 0;
}

static int
clone_fn (void *arg, char **out, ctr_error_t *err)
{
  const struct userns_verb *v = arg;
  (void)out;
  return clone_make (v->ctx, v->a, v->b, v->flag, false, NULL, err);
}

/* The storage verbs of an unprivileged user run as root of a user namespace with its
   mapping (userns_as_root): its containers' trees hold files of its subordinate range,
   which only there are copied with their owners. */
int
system_clone (const struct ctr_context *ctx, const char *src, const char *dst, bool snapshot,
              ctr_error_t *err)
{
  struct userns_verb v = { .ctx = ctx, .a = src, .b = dst, .flag = snapshot };
  return userns_as_root (clone_fn, &v, NULL, err);
}

/* An ephemeral clone, made as root of the user's namespace for an unprivileged user: its
   directory comes back with the lock taken at its staging (a flock belongs to the open
   file, which outlives the child). */
static int
clone_ephemeral_fn (void *arg, char **out, ctr_error_t *err)
{
  const struct userns_verb *v = arg;
  int dfd = -1;
  (void)out;
  if (clone_make (v->ctx, v->a, v->b, v->flag, true, &dfd, err) < 0)
    return -1;
  userns_handback_fd (dfd);
  return 0;
}

int
system_clone_ephemeral (const struct ctr_context *ctx, const char *src, const char *dst,
                        bool snapshot, bool foreground, int *exit_status, ctr_error_t *err)
{
  struct userns_verb v = { .ctx = ctx, .a = src, .b = dst, .flag = snapshot };
  cleanup_close int dfd = -1;

  *exit_status = 0;
  if (userns_as_root_fd (clone_ephemeral_fn, &v, NULL, &dfd, err) < 0)
    return -1;
  if (dfd < 0)
    return ctr_error (err, 0, "clone `%s`: `%s` came back without its lock", src, dst);
  /* started under the lock taken at the staging: no one sees it stopped and unstarted */
  if (system_start_ephemeral (ctx, dst, dfd, foreground, exit_status, err) < 0)
    {
      ctr_error_t e2 = NULL;
      flock (dfd, LOCK_UN);
      if (system_destroy (ctx, dst, false, &e2) < 0)
        ctr_error_print (&e2);
      return ctr_error_wrap (err, "clone --ephemeral `%s`", src);
    }
  return 0;
}

/* ------------------------------------------------------------------ snapshots */

static int
check_snapshot_name (const char *name, const char *snap, ctr_error_t *err)
{
  if (validate_container_id (snap, NULL) < 0 || snap[0] == '.')
    return ctr_error (err, 0, "container `%s`: invalid snapshot name `%s`", name, snap);
  return 0;
}

/* <NAME>/snapshots, made when create is set; -1 with errno ENOENT when there is none. */
static int
open_snapshots (int fd, const char *name, bool create, ctr_error_t *err)
{
  int sfd;
  if (create && mkdirat (fd, SNAPSHOTS, 0700) < 0 && errno != EEXIST)
    return ctr_error (err, errno, "container `%s`: create `%s`", name, SNAPSHOTS);
  sfd = openat (fd, SNAPSHOTS, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (sfd < 0 && (errno != ENOENT || create))
    return ctr_error (err, errno, "container `%s`: open `%s`", name, SNAPSHOTS);
  return sfd;
}

/* A snapshot's directory, with its native volume (btrfs subvolume, thin LV) first. */
static int
remove_snapshot_dir (int sfd, const char *dir, ctr_error_t *err)
{
  cleanup_close int fd = openat (sfd, dir, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 && pool_volume_release (fd, NULL, err) < 0)
    return -1;
  return store_remove_tree_at (sfd, dir, err);
}

/* What a killed snapshot create or restore left; called under the container's lock, which
   a live one (and its cp) would hold. */
static void
sweep_leftovers (int fd, int sfd)
{
  ctr_error_t ignored = NULL;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (store_remove_tree_at (fd, ROOTFS_NEW, &ignored) < 0)
    ctr_error_free (&ignored);
  if (sfd < 0 || (d = fdopendir (fcntl (sfd, F_DUPFD_CLOEXEC, 0))) == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] == '.' && strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0
        && remove_snapshot_dir (sfd, de->d_name, &ignored) < 0)
      ctr_error_free (&ignored);
}

static void
snapshot_clear (struct system_snapshot *s)
{
  free (s->name);
  free (s->created);
  free (s->comment);
}

static int
read_snapshot (int sfd, const char *name, const char *snap, struct system_snapshot *out,
               ctr_error_t *err)
{
  cleanup_close int dfd = openat (sfd, snap, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_free char *text = NULL, *origin = NULL;
  json_value *v;
  const char *s;
  int64_t n;
  size_t len;

  memset (out, 0, sizeof *out);
  if (dfd < 0)
    return ctr_error (err, errno == ENOENT ? 0 : errno, "container `%s` has no snapshot `%s`", name,
                      snap);
  origin = xasprintf ("%s/%s/%s/%s", name, SNAPSHOTS, snap, SNAPSHOT_META);
  if (read_file_at (dfd, SNAPSHOT_META, 64 * 1024, &text, &len, err) < 0)
    return ctr_error_wrap (err, "container `%s`: snapshot `%s`", name, snap);
  v = json_parse (text, len, origin, err);
  if (v == NULL)
    return -1;
  out->name = xstrdup (snap);
  out->created = xstrdup (json_as_string (json_get (v, "created"), &s) ? s : "");
  out->comment = json_as_string (json_get (v, "comment"), &s) ? xstrdup (s) : NULL;
  out->size = json_as_int64 (json_get (v, "size"), &n) && n > 0 ? (uint64_t)n : 0;
  json_value_free (v);
  return 0;
}

static char *
next_snapshot_name (int sfd)
{
  for (unsigned i = 0;; i++)
    {
      char *s = xasprintf ("snap%u", i);
      if (faccessat (sfd, s, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
        return s;
      free (s);
    }
}

/* An overlay volume's restore swaps its upper: the clones stacked on it would lose the
   files under them. */
static int
refuse_overlay_clones (const struct ctr_context *ctx, const char *name, ctr_error_t *err)
{
  cleanup_strv char **clones = pool_volume_dependents (store_root (ctx->store), name);
  cleanup_free char *list = NULL;

  if (clones[0] == NULL)
    return 0;
  list = xstrv_join (clones, ", ");
  return ctr_error (err, 0, "container `%s` has overlay clones stacked on its files: %s", name,
                    list);
}

static int
snapshot_fill (const struct ctr_context *ctx, int fd, int dfd, const char *name, const char *snap,
               const char *comment, ctr_error_t *err)
{
  cleanup_free char *from = store_path (ctx, name, "rootfs");
  cleanup_free char *to = NULL, *meta_text = NULL, *text = NULL;
  cleanup_free char *created = rfc3339_now ();
  json_writer *w;
  size_t len;

  cleanup_free char *dir = store_path (ctx, name, NULL), *real = pool_volume_rootfs (fd, dir);
  bool native = pool_volume_native_snapshots (fd);

  (void)from;
  to = xasprintf ("%s/%s/%s/.%s.new/rootfs", store_root (ctx->store), name, SNAPSHOTS, snap);
  if (native ? pool_snapshot_create (fd, dfd, name, snap, err) < 0
             : pool_copy_tree (real, to, fd, err) < 0)
    return -1;
  if (read_file_at (fd, "config.json", CONFIG_MAX, &text, &len, err) < 0
      || write_file_at (dfd, "config.json", text, len, 0600, err) < 0
      || read_file_at (fd, STORE_META, CONFIG_MAX, &meta_text, &len, err) < 0
      || write_file_at (dfd, STORE_META, meta_text, len, 0600, err) < 0)
    return -1;
  w = json_writer_new (true);
  json_map_open (w);
  json_kv_string (w, "name", snap);
  json_kv_string (w, "created", created);
  if (comment)
    json_kv_string (w, "comment", comment);
  /* the size of the copy, as it stands when made: ls does not walk every snapshot */
  cleanup_free char *rootfs
      = xasprintf ("%s/%s/%s/.%s.new/rootfs", store_root (ctx->store), name, SNAPSHOTS, snap);
  /* native snapshots share their blocks with the container: no size of their own; an
     overlay one is its copy of the upper */
  cleanup_free char *overlay = pool_volume_clone_lower (fd);
  cleanup_free char *own = !native ? xstrdup (rootfs) : overlay ? pool_volume_dir (dfd) : NULL;
  json_kv_int (w, "size", own ? (int64_t)pool_tree_size (own) : 0);
  json_map_close (w);
  free (text);
  text = json_writer_finish (w, &len);
  return write_file_at (dfd, SNAPSHOT_META, text, len, 0600, err);
}

static int
snapshot_create (const struct ctr_context *ctx, const char *name, const char *snap,
                 const char *comment, char **made, ctr_error_t *err)
{
  cleanup_close int fd = -1, sfd = -1, dfd = -1;
  cleanup_free char *chosen = NULL, *tmp = NULL;
  int r;

  if (snap && check_snapshot_name (name, snap, err) < 0)
    return -1;
  if (comment && (strlen (comment) > COMMENT_MAX || strchr (comment, '\n')))
    return ctr_error (err, 0, "container `%s`: --comment: one line of at most %d bytes", name,
                      COMMENT_MAX);
  fd = system_open_stopped (ctx, name, "snapshot create", err);
  if (fd < 0)
    return -1;
  sfd = open_snapshots (fd, name, true, err);
  if (sfd < 0)
    return -1;
  sweep_leftovers (fd, sfd);
  chosen = snap ? xstrdup (snap) : next_snapshot_name (sfd);
  if (faccessat (sfd, chosen, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return ctr_error (err, 0, "container `%s` already has a snapshot `%s`", name, chosen);
  tmp = xasprintf (".%s.new", chosen);
  if (mkdirat (sfd, tmp, 0700) < 0
      || (dfd = openat (sfd, tmp, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    return ctr_error (err, errno, "container `%s`: create snapshot `%s`", name, chosen);
  r = snapshot_fill (ctx, fd, dfd, name, chosen, comment, err);
  if (r == 0 && renameat2 (sfd, tmp, sfd, chosen, RENAME_NOREPLACE) < 0)
    r = ctr_error (err, errno, "container `%s`: snapshot `%s`", name, chosen);
  if (r < 0)
    {
      ctr_error_t e2 = NULL;
      if (store_remove_tree_at (sfd, tmp, &e2) < 0)
        ctr_error_print (&e2);
      return ctr_error_wrap (err, "snapshot `%s`", name);
    }
  if (made)
    *made = steal_ptr (chosen);
  return 0;
}

static int
snapshot_create_fn (void *arg, char **out, ctr_error_t *err)
{
  const struct userns_verb *v = arg;
  return snapshot_create (v->ctx, v->a, v->b, v->c, out, err);
}

int
system_snapshot_create (const struct ctr_context *ctx, const char *name, const char *snap,
                        const char *comment, char **made, ctr_error_t *err)
{
  struct userns_verb v = { .ctx = ctx, .a = name, .b = snap, .c = comment };
  return userns_as_root (snapshot_create_fn, &v, made, err);
}

static int
compare_snapshots (const void *a, const void *b)
{
  const struct system_snapshot *x = a, *y = b;
  int c = strcmp (x->created, y->created);
  return c ? c : strcmp (x->name, y->name);
}

int
system_snapshot_list (const struct ctr_context *ctx, const char *name, struct system_snapshot **out,
                      size_t *n, ctr_error_t *err)
{
  cleanup_close int fd = store_open (store_root (ctx->store), name, err);
  cleanup_close int sfd = -1;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  *out = NULL;
  *n = 0;
  if (fd < 0)
    return -1;
  sfd = open_snapshots (fd, name, false, err);
  if (sfd < 0)
    return errno == ENOENT ? 0 : -1;
  d = fdopendir (fcntl (sfd, F_DUPFD_CLOEXEC, 0));
  if (d == NULL)
    return ctr_error (err, errno, "container `%s`: read `%s`", name, SNAPSHOTS);
  while ((de = readdir (d)) != NULL)
    {
      struct system_snapshot s;
      ctr_error_t e = NULL;
      if (de->d_name[0] == '.') /* staging directories, and . and .. */
        continue;
      if (read_snapshot (sfd, name, de->d_name, &s, &e) < 0)
        {
          ctr_error_print (&e); /* one broken snapshot does not hide the others */
          continue;
        }
      *out = xrealloc (*out, (*n + 1) * sizeof **out);
      (*out)[(*n)++] = s;
    }
  if (*n)
    qsort (*out, *n, sizeof **out, compare_snapshots);
  return 0;
}

void
system_snapshot_list_free (struct system_snapshot *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    snapshot_clear (&s[i]);
  free (s);
}

/* Opens NAME stopped and locked, and its snapshot SNAP (checked): *sfd, and the fd. */
static int
open_snapshot (const struct ctr_context *ctx, const char *name, const char *snap, const char *what,
               int *sfd, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  struct system_snapshot s;

  if (check_snapshot_name (name, snap, err) < 0)
    return -1;
  fd = system_open_stopped (ctx, name, what, err);
  if (fd < 0)
    return -1;
  *sfd = open_snapshots (fd, name, false, err);
  if (*sfd < 0 && errno == ENOENT)
    return ctr_error (err, 0, "container `%s` has no snapshot `%s`", name, snap);
  if (*sfd < 0)
    return -1;
  sweep_leftovers (fd, *sfd);
  if (read_snapshot (*sfd, name, snap, &s, err) < 0)
    {
      close (*sfd);
      *sfd = -1;
      return -1;
    }
  snapshot_clear (&s);
  return steal_fd (fd);
}

/* The settings of the snapshot's ctr.json over the current one (created, the template,
   the last exit and where it was cloned from stay). */
static int
restore_meta (int fd, int snapfd, const char *name, ctr_error_t *err)
{
  struct store_meta now, then;
  int r;

  if (store_meta_read (fd, name, &now, err) < 0)
    return -1;
  if (store_meta_read (snapfd, name, &then, err) < 0)
    {
      store_meta_clear (&now);
      return -1;
    }
  now.autostart = then.autostart;
  now.stop_timeout = then.stop_timeout;
#define SWAP(a, b)                                                                                 \
  do                                                                                               \
    {                                                                                              \
      __typeof__ (a) t_ = (a);                                                                     \
      (a) = (b);                                                                                   \
      (b) = t_;                                                                                    \
    }                                                                                              \
  while (0)
  SWAP (now.stop_signal, then.stop_signal);
  SWAP (now.networks, then.networks);
  SWAP (now.ip, then.ip);
  SWAP (now.publish, then.publish);
#undef SWAP
  r = store_meta_write (fd, &now, err);
  /* the snapshot's config.json has the id range of its day */
  if (r == 0)
    r = idmap_config_rewrite (fd, &now, err);
  store_meta_clear (&now);
  store_meta_clear (&then);
  return r;
}

static int
snapshot_restore (const struct ctr_context *ctx, const char *name, const char *snap,
                  ctr_error_t *err)
{
  cleanup_close int fd = -1, sfd = -1, snapfd = -1;
  cleanup_free char *from = NULL, *to = store_path (ctx, name, ROOTFS_NEW);
  cleanup_free char *text = NULL;
  ctr_error_t e2 = NULL;
  size_t len;

  fd = open_snapshot (ctx, name, snap, "snapshot restore", &sfd, err);
  if (fd < 0)
    return -1;
  snapfd = openat (sfd, snap, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (snapfd < 0)
    return ctr_error (err, errno, "container `%s`: open snapshot `%s`", name, snap);
  from = xasprintf ("%s/%s/%s/%s/rootfs", store_root (ctx->store), name, SNAPSHOTS, snap);
  if (pool_volume_native_snapshots (fd))
    {
      if (refuse_overlay_clones (ctx, name, err) < 0)
        return ctr_error_wrap (err, "snapshot restore `%s`", name);
      if (pool_snapshot_restore (fd, NULL, snapfd, name, err) < 0
          || read_file_at (snapfd, "config.json", CONFIG_MAX, &text, &len, err) < 0
          || write_file_atomic_at (fd, "config.json", text, len, 0600, err) < 0
          || restore_meta (fd, snapfd, name, err) < 0)
        return ctr_error_wrap (err, "snapshot restore `%s`", name);
      return 0;
    }
  /* a dir pool's rootfs is P/NAME: the copy goes to P/.NAME.new */
  cleanup_free char *dir = store_path (ctx, name, NULL), *real = pool_volume_rootfs (fd, dir);
  cleanup_free char *real_new = NULL, *copy = xstrdup (real);
  char *slash = strrchr (copy, '/');
  *slash = '\0';
  real_new = xasprintf ("%s/.%s.new", copy, slash + 1);
  if (strcmp (real_new, to) != 0)
    {
      free (to);
      to = xstrdup (real_new);
    }
  cleanup_close int newdir = open (copy, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_free char *new_name = xasprintf (".%s.new", slash + 1);
  if (newdir < 0)
    return ctr_error (err, errno, "container `%s`: open `%s`", name, copy);
  if (store_remove_tree_at (newdir, new_name, &e2) < 0)
    ctr_error_free (&e2);
  /* copied beside the rootfs, then swapped with it in one rename: a restore killed at any
     point leaves one whole rootfs in place (and a leftover the next snapshot verb or
     destroy removes) */
  if (pool_copy_tree (from, to, fd, err) < 0
      || read_file_at (snapfd, "config.json", CONFIG_MAX, &text, &len, err) < 0)
    goto fail;
  if (renameat2 (AT_FDCWD, to, AT_FDCWD, real, RENAME_EXCHANGE) < 0)
    {
      ctr_error (err, errno, "container `%s`: swap in the restored rootfs", name);
      goto fail;
    }
  if (write_file_atomic_at (fd, "config.json", text, len, 0600, err) < 0
      || restore_meta (fd, snapfd, name, err) < 0)
    return ctr_error_wrap (err, "snapshot restore `%s`", name);
  /* now the old rootfs */
  if (store_remove_tree_at (newdir, new_name, &e2) < 0)
    ctr_error_print (&e2);
  return 0;

fail:
  if (store_remove_tree_at (newdir, new_name, &e2) < 0)
    ctr_error_print (&e2);
  return ctr_error_wrap (err, "snapshot restore `%s`", name);
}

static int
snapshot_remove (const struct ctr_context *ctx, const char *name, const char *snap,
                 ctr_error_t *err)
{
  cleanup_close int fd = -1, sfd = -1;
  cleanup_free char *gone = NULL;

  fd = open_snapshot (ctx, name, snap, "snapshot rm", &sfd, err);
  if (fd < 0)
    return -1;
  /* out of the list in one step; what a kill leaves is swept as a leftover */
  gone = xasprintf (".%s.rm", snap);
  if (renameat2 (sfd, snap, sfd, gone, RENAME_NOREPLACE) < 0)
    return ctr_error (err, errno, "container `%s`: remove snapshot `%s`", name, snap);
  return remove_snapshot_dir (sfd, gone, err);
}

/* restore (flag) or rm of snapshot b of container a */
static int
snapshot_verb_fn (void *arg, char **out, ctr_error_t *err)
{
  const struct userns_verb *v = arg;
  (void)out;
  return v->flag ? snapshot_restore (v->ctx, v->a, v->b, err)
                 : snapshot_remove (v->ctx, v->a, v->b, err);
}

int
system_snapshot_restore (const struct ctr_context *ctx, const char *name, const char *snap,
                         ctr_error_t *err)
{
  struct userns_verb v = { .ctx = ctx, .a = name, .b = snap, .flag = true };
  return userns_as_root (snapshot_verb_fn, &v, NULL, err);
}

int
system_snapshot_remove (const struct ctr_context *ctx, const char *name, const char *snap,
                        ctr_error_t *err)
{
  struct userns_verb v = { .ctx = ctx, .a = name, .b = snap };
  return userns_as_root (snapshot_verb_fn, &v, NULL, err);
}

/* ------------------------------------------------------------------ move */

static int
move_fn (void *arg, char **out, ctr_error_t *err)
{
  const struct userns_verb *v = arg;
  cleanup_close int fd = system_open_stopped (v->ctx, v->a, "move", err);
  (void)out;
  if (fd < 0)
    return -1;
  return move_run (fd, store_root (v->ctx->store), v->a, v->b, err);
}

int
system_move (const struct ctr_context *ctx, const char *name, const char *pool, ctr_error_t *err)
{
  struct userns_verb v = { .ctx = ctx, .a = name, .b = pool };
  return userns_as_root (move_fn, &v, NULL, err);
}
