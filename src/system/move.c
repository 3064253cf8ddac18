/* move: `ctr move NAME --pool P`, a stopped container's rootfs copied into a new volume in
   another pool and swapped in. Recorded before it acts (<store>/NAME/move.json): a move
   killed while copying is undone, one killed while swapping is finished, by the next
   move, start or destroy (system_move_recover). */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"
#include "base/util.h"
#include "system/userns_child.h"
#include "system/ephemeral.h"
#include "system/pool.h"
#include "system/pool_volume.h"
#include "system/store.h"
#include "system/move.h"

#define MOVE_RECORD "move.json"
#define MOVE_NEW ".move"       /* the new volume: rootfs and volume.json, as in a container */
#define MOVE_OLD ".moved-from" /* the old one, once swapped out, until it is released */
#define STATE_COPYING "copying"
#define STATE_SWAPPING "swapping"

struct move_record
{
  char *to;    /* the pool */
  char *state; /* copying: undone when found; swapping: finished */
};

static void
record_clear (struct move_record *r)
{
  free (r->to);
  free (r->state);
}

static int
record_write (int fd, const char *to, const char *state, ctr_error_t *err)
{
  json_writer *w = json_writer_new (true);
  cleanup_free char *text = NULL;
  size_t len;

  json_map_open (w);
  json_kv_string (w, "to", to);
  json_kv_string (w, "state", state);
  json_map_close (w);
  text = json_writer_finish (w, &len);
  return write_file_atomic_at (fd, MOVE_RECORD, text, len, 0600, err);
}

/* 1 with a record, 0 without. */
static int
record_read (int fd, struct move_record *r, ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  json_value *j;
  const char *to, *state;
  size_t len;

  memset (r, 0, sizeof *r);
  if (read_file_at (fd, MOVE_RECORD, 4096, &text, &len, err) < 0)
    {
      if ((*err)->status != ENOENT)
        return -1;
      ctr_error_free (err);
      return 0;
    }
  j = json_parse (text, len, MOVE_RECORD, err);
  if (j == NULL)
    return -1;
  if (!json_as_string (json_get (j, "to"), &to) || !json_as_string (json_get (j, "state"), &state))
    {
      json_value_free (j);
      return ctr_error (err, 0, "%s: no \"to\" or \"state\"", MOVE_RECORD);
    }
  r->to = xstrdup (to);
  r->state = xstrdup (state);
  json_value_free (j);
  return 1;
}

static bool
exists_at (int fd, const char *path)
{
  return faccessat (fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
open_dir_at (int fd, const char *name, ctr_error_t *err)
{
  int d = openat (fd, name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (d < 0)
    return ctr_error (err, errno, "open `%s`", name);
  return d;
}

/* The volume in <fd>/<dir> released (mounts, subvolume, LV, directory) and the directory
   removed. */
static int
release_dir (int fd, const char *dir, ctr_error_t *err)
{
  cleanup_close int d = -1;
  if (!exists_at (fd, dir))
    return 0;
  d = open_dir_at (fd, dir, err);
  if (d < 0 || pool_volume_release (d, NULL, err) < 0)
    return -1;
  return store_remove_tree_at (fd, dir, err);
}

static int
rename_in (int fd, const char *from, const char *to, ctr_error_t *err)
{
  if (renameat (fd, from, fd, to) < 0)
    return ctr_error (err, errno, "rename `%s` to `%s`", from, to);
  return 0;
}

/* Each step is known done by what is where: a kill between any two is finished by
   running this again. */
static int
swap_in (int fd, const char *name, const char *to, ctr_error_t *err)
{
  cleanup_close int newfd = -1;
  struct store_meta m;
  int r;

  if (mkdirat (fd, MOVE_OLD, 0700) < 0 && errno != EEXIST)
    return ctr_error (err, errno, "create `%s`", MOVE_OLD);
  if (exists_at (fd, MOVE_NEW "/rootfs"))
    {
      newfd = open_dir_at (fd, MOVE_NEW, err);
      /* mounts are not renamed: off, and on again below */
      if (newfd < 0 || pool_volume_deactivate (newfd, err) < 0
          || pool_volume_deactivate (fd, err) < 0)
        return -1;
      if (exists_at (fd, "rootfs") && rename_in (fd, "rootfs", MOVE_OLD "/rootfs", err) < 0)
        return -1;
      /* while the new record waits in .move (the default pool has none), a record here is
         the old one */
      bool new_record = exists_at (fd, MOVE_NEW "/" POOL_VOLUME_RECORD);
      if (exists_at (fd, POOL_VOLUME_RECORD) && (new_record || strcmp (to, POOL_DEFAULT) == 0)
          && rename_in (fd, POOL_VOLUME_RECORD, MOVE_OLD "/" POOL_VOLUME_RECORD, err) < 0)
        return -1;
      if (new_record
          && rename_in (fd, MOVE_NEW "/" POOL_VOLUME_RECORD, POOL_VOLUME_RECORD, err) < 0)
        return -1;
      if (rename_in (fd, MOVE_NEW "/rootfs", "rootfs", err) < 0)
        return -1;
    }
  if (store_meta_read (fd, name, &m, err) < 0)
    return -1;
  free (m.pool);
  m.pool = strcmp (to, POOL_DEFAULT) == 0 ? NULL : xstrdup (to);
  r = store_meta_write (fd, &m, err);
  store_meta_clear (&m);
  if (r < 0 || release_dir (fd, MOVE_OLD, err) < 0 || release_dir (fd, MOVE_NEW, err) < 0)
    return -1;
  if (unlinkat (fd, MOVE_RECORD, 0) < 0)
    return ctr_error (err, errno, "remove %s", MOVE_RECORD);
  return pool_volume_activate (fd, NULL, err);
}

int
system_move_recover (int fd, const char *name, ctr_error_t *err)
{
  struct move_record rec;
  int r;

  /* what a kill during an atomic write of the record left */
  unlinkat (fd, MOVE_RECORD ".tmp", 0);
  r = record_read (fd, &rec, err);
  if (r <= 0)
    return r;
  if (strcmp (rec.state, STATE_SWAPPING) == 0)
    {
      ctr_log_debug ("container `%s`: finishing its move to pool `%s`", name, rec.to);
      r = swap_in (fd, name, rec.to, err);
    }
  else
    {
      ctr_log_debug ("container `%s`: undoing its move to pool `%s`", name, rec.to);
      r = release_dir (fd, MOVE_NEW, err);
      if (r == 0 && unlinkat (fd, MOVE_RECORD, 0) < 0)
        r = ctr_error (err, errno, "remove %s", MOVE_RECORD);
    }
  record_clear (&rec);
  return r < 0 ? ctr_error_wrap (err, "container `%s`: a move left halfway", name) : 0;
}

/* Refusals, each in one line: clones stacked on it, snapshots, the pool it is in. */
static int
check_movable (const char *root, int fd, const char *name, const struct pool *p, ctr_error_t *err)
{
  cleanup_strv char **clones = pool_volume_dependents (root, name);
  cleanup_free char *now = pool_volume_pool (fd);
  cleanup_free char *snap = pool_volume_any_snapshot (fd);

  if (clones[0])
    {
      cleanup_free char *list = xstrv_join (clones, ", ");
      return ctr_error (err, 0, "container `%s` has overlay clones that use its files: %s", name,
                        list);
    }
  if (strcmp (now, p->name) == 0)
    return ctr_error (err, 0, "container `%s` is already in pool `%s`", name, p->name);
  if (snap)
    return ctr_error (err, 0,
                      "container `%s` has snapshots (`%s`, ...): they stay in pool `%s`; "
                      "remove them first (ctr snapshot rm)",
                      name, snap, now);
  return 0;
}

/* The new volume in <fd>/.move, and the rootfs copied into it (flattened: an overlay's
   merged tree; an overlay pool gets it as the upper over an empty lower of its own). */
static int
copy_into_new (int fd, const char *dirpath, const char *name, const struct pool *p,
               ctr_error_t *err)
{
  cleanup_close int newfd = -1;
  cleanup_free char *newpath = xasprintf ("%s/%s", dirpath, MOVE_NEW);
  cleanup_free char *from = NULL, *to = NULL, *lower = NULL;

  if (mkdirat (fd, MOVE_NEW, 0700) < 0 || (newfd = open_dir_at (fd, MOVE_NEW, err)) < 0
      || mkdirat (newfd, "rootfs", 0755) < 0)
    return *err ? -1 : ctr_error (err, errno, "create `%s/%s`", dirpath, MOVE_NEW);
  if (p->type == POOL_OVERLAY)
    lower = xasprintf ("%s/%s/lower", p->path, name);
  if (pool_volume_create (p, newfd, newpath, name, NULL, lower, err) < 0)
    return -1;
  /* the tree as the container sees it: through a dir pool's link, or the mounted rootfs */
  from = xasprintf ("%s/rootfs/.", dirpath);
  to = pool_volume_rootfs (newfd, newpath);
  return pool_copy_tree (from, to, fd, err);
}

int
move_run (int fd, const char *root, const char *name, const char *pool, ctr_error_t *err)
{
  __attribute__ ((cleanup (pool_clear))) struct pool p = { 0 };
  cleanup_free char *dirpath = xasprintf ("%s/%s", root, name);

  if (system_move_recover (fd, name, err) < 0 || ephemeral_end (fd, name, err) < 0)
    return -1;
  if (pool_load (root, pool, &p, err) < 0 || check_movable (root, fd, name, &p, err) < 0)
    return ctr_error_wrap (err, "move `%s`", name);
  /* an lvm or overlay source after a reboot: its tree is read through the mount */
  if (pool_volume_activate (fd, NULL, err) < 0)
    return ctr_error_wrap (err, "move `%s`", name);
  /* recorded before anything is made: a kill from here on is undone */
  if (record_write (fd, p.name, STATE_COPYING, err) < 0)
    return -1;
  if (copy_into_new (fd, dirpath, name, &p, err) < 0)
    {
      ctr_error_t e2 = NULL;
      if (system_move_recover (fd, name, &e2) < 0)
        ctr_error_print (&e2);
      return ctr_error_wrap (err, "move `%s` to pool `%s`", name, p.name);
    }
  /* the copy is whole: from here on a kill is finished, never undone */
  if (record_write (fd, p.name, STATE_SWAPPING, err) < 0 || swap_in (fd, name, p.name, err) < 0)
    return ctr_error_wrap (err, "move `%s` to pool `%s`", name, p.name);
  return 0;
}
