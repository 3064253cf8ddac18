/* pool_volume: a system container's root filesystem in its pool, one of a directory, a btrfs
   subvolume, an LVM thin volume or an overlay upper: made, mounted, snapshot, restored and
   released through its record, <store>/NAME/volume.json. The tools are Debian's
   (btrfs-progs, lvm2, e2fsprogs), run with pool_run_tool. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "base/json_edit.h"
#include "oci/oci.h"
#include "base/log.h"
#include "base/owned_dir.h"
#include "base/util.h"
#include "system/userns_child.h"
#include "system/pool.h"
#include "system/pool_volume.h"
#include "system/pool_mapped.h"

#define RECORD_MAX (64 * 1024)

struct volume
{
  char *pool;
  enum pool_type type;
  char *path;     /* dir, btrfs: the root filesystem; overlay: holds upper/ and work/ */
  char *lv;       /* lvm: VG/LV */
  char *lower;    /* overlay: lowerdir (colon-separated) */
  char *clone_of; /* overlay: the container whose upper is in lower */
  char *base;     /* dir, btrfs: the pool's shared base (pool_image.h) it was copied from;
                     lvm: the base's VG/LV it is a thin snapshot of */
  char *mapped;   /* overlay: "UID:GID:COUNT" when its layers are idmapped (pool_mapped.h) */
};

static void
volume_clear (struct volume *v)
{
  free (v->pool);
  free (v->path);
  free (v->lv);
  free (v->lower);
  free (v->clone_of);
  free (v->base);
  free (v->mapped);
  memset (v, 0, sizeof *v);
}

/* 1 when dfd has a record, 0 without one. */
static int
volume_read (int dfd, struct volume *v, ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  json_value *j;
  const char *s;
  size_t len;

  memset (v, 0, sizeof *v);
  if (read_file_at (dfd, POOL_VOLUME_RECORD, RECORD_MAX, &text, &len, err) < 0)
    {
      if (errno != ENOENT)
        return -1;
      ctr_error_free (err);
      return 0;
    }
  j = json_parse (text, len, POOL_VOLUME_RECORD, err);
  if (j == NULL)
    return -1;
  if (!json_as_string (json_get (j, "type"), &s) || pool_type_parse (s, &v->type) < 0)
    {
      json_value_free (j);
      return ctr_error (err, 0, "%s: unknown type", POOL_VOLUME_RECORD);
    }
#define STR(field, key) v->field = json_as_string (json_get (j, key), &s) ? xstrdup (s) : NULL
  STR (pool, "pool");
  STR (path, "path");
  STR (lv, "lv");
  STR (lower, "lower");
  STR (clone_of, "clone_of");
  STR (base, "base");
  STR (mapped, "mapped");
#undef STR
  json_value_free (j);
  return 1;
}

static int
volume_write (int dfd, const struct volume *v, ctr_error_t *err)
{
  json_writer *w = json_writer_new (true);
  cleanup_free char *text = NULL;
  size_t len;

  json_map_open (w);
  json_kv_string (w, "pool", v->pool);
  json_kv_string (w, "type", pool_type_name (v->type));
#define STR(field, key)                                                                            \
  if (v->field)                                                                                    \
  json_kv_string (w, key, v->field)
  STR (path, "path");
  STR (lv, "lv");
  STR (lower, "lower");
  STR (clone_of, "clone_of");
  STR (base, "base");
  STR (mapped, "mapped");
#undef STR
  json_map_close (w);
  text = json_writer_finish (w, &len);
  return write_file_atomic_at (dfd, POOL_VOLUME_RECORD, text, len, 0600, err);
}

static char *
fd_path (int dfd, const char *rest)
{
  return xasprintf ("/proc/self/fd/%d%s%s", dfd, rest ? "/" : "", rest ? rest : "");
}

/* /dev/mapper/VG-LV, hyphens doubled as device-mapper names them. */
static char *
lv_device (const char *vglv)
{
  size_t len = strlen (vglv);
  char *out = xzalloc (len * 2 + 16), *o = stpcpy (out, "/dev/mapper/");
  for (const char *s = vglv; *s; s++)
    if (*s == '/')
      *o++ = '-';
    else if (*s == '-')
      o = stpcpy (o, "--");
    else
      *o++ = *s;
  return out;
}

static bool
lv_exists (const char *vglv)
{
  const char *argv[] = { "lvs", "--noheadings", "-o", "lv_name", vglv, NULL };
  cleanup_free char *text = NULL;
  ctr_error_t e = NULL;
  if (pool_run_tool (argv, &text, -1, &e) < 0)
    {
      ctr_error_free (&e);
      return false;
    }
  return true;
}

static bool
is_mountpoint (int dfd, const char *name)
{
  struct stat a, b;
  return fstatat (dfd, name, &a, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (a.st_mode)
         && fstat (dfd, &b) == 0 && a.st_dev != b.st_dev;
}

static int
mount_lv (int dfd, const char *vglv, ctr_error_t *err)
{
  cleanup_free char *dev = lv_device (vglv), *target = fd_path (dfd, "rootfs");
  const char *act[] = { "lvchange", "-ay", "-K", vglv, NULL };
  if (access (dev, F_OK) < 0 && pool_run_tool (act, NULL, -1, err) < 0)
    return -1;
  /* noinit_itable: ext4's lazy init would zero the inode tables in the background after
     each mount, writing megabytes into every thin snapshot (unprovisioned thin blocks
     read as zeros already) */
  if (mount (dev, target, "ext4", MS_NOATIME, "noinit_itable") < 0)
    return ctr_error (err, errno, "mount `%s` on rootfs", dev);
  return 0;
}

int
pool_subvolume_delete (const char *path, int keep_fd, ctr_error_t *err)
{
  const char *argv[] = { "btrfs", "-q", "subvolume", "delete", path, NULL };
  const char *rw[] = { "btrfs", "property", "set", "-ts", path, "ro", "false", NULL };
  cleanup_free char *copy = xstrdup (path), *copy2 = xstrdup (path);
  cleanup_close int pfd = -1;
  ctr_error_t e = NULL;

  if (!is_rootless ())
    return pool_run_tool (argv, NULL, keep_fd, err);
  /* the subvolume's owner may make it writable, empty it and rmdir it (Linux 4.18); the
     ioctl that deletes one whole takes CAP_SYS_ADMIN or user_subvol_rm_allowed */
  if (pool_run_tool (rw, NULL, keep_fd, &e) < 0)
    ctr_error_free (&e);
  pfd = open (dirname (copy), O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (pfd < 0)
    return ctr_error (err, errno, "open `%s`", copy);
  return store_remove_tree_at (pfd, basename (copy2), err);
}

/* The overlay's options; rootless, `userxattr`: overlayfs keeps its attributes in user.*,
   which an unprivileged mounter may write. */
static char *
overlay_options (const struct volume *v)
{
  return xasprintf ("lowerdir=%s,upperdir=%s/upper,workdir=%s/work%s", v->lower, v->path, v->path,
                    is_rootless () ? ",userxattr" : "");
}

/* Rootless, an overlay volume is never mounted in the host's namespace (that takes root):
   the container mounts it itself, in its own namespaces (pool_volume_start), and the work
   on its tree from the host's side (create's last touches, clone, export, move...) is done
   as root of the user's namespace (userns_as_root), whose child has a mount namespace of
   its own, where the user may mount it. */
static int
mount_overlay (int dfd, const struct volume *v, ctr_error_t *err)
{
  cleanup_free char *target = fd_path (dfd, "rootfs");
  cleanup_free char *opts = overlay_options (v);
  if (is_rootless () && geteuid () != 0)
    return 0; /* as the user itself: nothing to mount it with */
  if (v->mapped)
    return pool_mapped_mount (target, v->path, v->lower, v->mapped, err);
  if (pool_mapped_unmap (v->path, err) < 0)
    return -1;
  if (mount ("overlay", target, "overlay", 0, opts) < 0)
    return ctr_error (err, errno, "mount overlay (%s) on rootfs", opts);
  return 0;
}

/* the rootfs directory of the staging dir becomes a symlink to the volume */
static int
link_rootfs (int dfd, const char *path, ctr_error_t *err)
{
  if (unlinkat (dfd, "rootfs", AT_REMOVEDIR) < 0 && errno != ENOENT)
    return ctr_error (err, errno, "remove rootfs");
  if (symlinkat (path, dfd, "rootfs") < 0)
    return ctr_error (err, errno, "link rootfs to `%s`", path);
  return 0;
}

static bool
path_exists (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0;
}

/* The overlay volume's directories (upper, work; a moved container's lower is one of its
   own, `ctr move`), mounted on rootfs. */
static int
make_overlay (int dfd, const struct volume *v, ctr_error_t *err)
{
  cleanup_free char *up = xasprintf ("%s/upper", v->path), *work = xasprintf ("%s/work", v->path);
  size_t plen = strlen (v->path);
  bool own_lower = strncmp (v->lower, v->path, plen) == 0 && v->lower[plen] == '/';

  if (mkdir (v->path, 0700) < 0 || mkdir (up, 0755) < 0 || mkdir (work, 0700) < 0
      || (own_lower && mkdir (v->lower, 0755) < 0))
    return ctr_error (err, errno, "create `%s`", v->path);
  return mount_overlay (dfd, v, err);
}

int
pool_lv_create_mounted (const struct pool *p, int dfd, const char *lvname, const char *size,
                        int keep_fd, ctr_error_t *err)
{
  cleanup_free char *vgpool = xasprintf ("%s/%s", p->vg, p->thinpool);
  cleanup_free char *vglv = xasprintf ("%s/%s", p->vg, lvname);
  cleanup_free char *dev = lv_device (vglv);
  const char *lvc[] = { "lvcreate", "-y",   "-q", "-V",   size ? size : POOL_LVM_DEFAULT_SIZE,
                        "-T",       vgpool, "-n", lvname, NULL };
  const char *mkfs[] = { "mkfs.ext4", "-q", "-F", dev, NULL };
  if (pool_run_tool (lvc, NULL, keep_fd, err) < 0 || pool_run_tool (mkfs, NULL, keep_fd, err) < 0)
    return -1;
  return mount_lv (dfd, vglv, err);
}

bool
pool_lv_exists (const char *vglv)
{
  return lv_exists (vglv);
}

int
pool_volume_create (const struct pool *p, int dfd, const char *dirpath, const char *name,
                    const char *size, const char *lower, ctr_error_t *err)
{
  struct volume v = { .type = p->type };
  int r = 0;

  (void)dirpath;
  if (strcmp (p->name, POOL_DEFAULT) == 0)
    return 0;
  v.pool = xstrdup (p->name);
  if (p->type == POOL_LVM)
    v.lv = xasprintf ("%s/ctr-%s", p->vg, name);
  else
    v.path = xasprintf ("%s/%s", p->path, name);
  if (p->type == POOL_OVERLAY)
    v.lower = xstrdup (lower);
  else if (lower)
    v.base = xstrdup (lower);
  if ((v.path && path_exists (v.path)) || (v.lv && lv_exists (v.lv)))
    {
      r = ctr_error (err, 0, "pool `%s`: `%s` already exists", p->name, v.path ? v.path : v.lv);
      volume_clear (&v);
      return r;
    }
  /* recorded before it is made: a kill from here on leaves what release removes */
  if (volume_write (dfd, &v, err) < 0)
    {
      volume_clear (&v);
      return -1;
    }
  switch (p->type)
    {
    case POOL_DIR:
      if (mkdir (v.path, 0755) < 0)
        r = ctr_error (err, errno, "create `%s`", v.path);
      else
        r = link_rootfs (dfd, v.path, err);
      if (r == 0 && v.base)
        {
          cleanup_free char *from = xasprintf ("%s/.", v.base);
          r = pool_copy_tree (from, v.path, dfd, err);
        }
      break;
    case POOL_BTRFS:
      {
        const char *argv[] = { "btrfs", "-q", "subvolume", "create", v.path, NULL };
        const char *snap[] = { "btrfs", "-q", "subvolume", "snapshot", v.base, v.path, NULL };
        r = pool_run_tool (v.base ? snap : argv, NULL, dfd, err);
        if (r == 0)
          r = link_rootfs (dfd, v.path, err);
        break;
      }
    case POOL_LVM:
      if (v.base)
        {
          /* a thin snapshot of the base: its blocks are shared until written */
          const char *snap[]
              = { "lvcreate", "-y", "-q", "-s", "-kn", "-prw", "-n", strchr (v.lv, '/') + 1,
                  v.base,     NULL };
          r = pool_run_tool (snap, NULL, dfd, err);
          if (r == 0)
            r = mount_lv (dfd, v.lv, err);
        }
      else
        r = pool_lv_create_mounted (p, dfd, strchr (v.lv, '/') + 1, size, dfd, err);
      break;
    case POOL_OVERLAY:
      r = make_overlay (dfd, &v, err);
      break;
    }
  volume_clear (&v);
  return r < 0 ? ctr_error_wrap (err, "pool `%s`", p->name) : 0;
}

/* Removes one recorded volume (and its record). */
static int
release_one (int dfd, ctr_error_t *err)
{
  struct volume v;
  int r = volume_read (dfd, &v, err);

  if (r <= 0)
    return r;
  if (is_mountpoint (dfd, "rootfs"))
    {
      cleanup_free char *target = fd_path (dfd, "rootfs");
      if (umount2 (target, UMOUNT_NOFOLLOW) < 0
          && umount2 (target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
        {
          r = ctr_error (err, errno, "unmount the rootfs of pool `%s`", v.pool);
          goto out;
        }
    }
  r = 0;
  if (v.type == POOL_BTRFS && v.path)
    {
      cleanup_free char *restore = NULL;
      if (path_exists (v.path))
        r = pool_subvolume_delete (v.path, -1, err);
      /* a restore killed midway */
      restore = xasprintf ("%s.restore", v.path);
      if (r == 0 && path_exists (restore))
        r = pool_subvolume_delete (restore, -1, err);
    }
  else if (v.type == POOL_LVM && v.lv)
    {
      cleanup_free char *restore = xasprintf ("%s.restore", v.lv);
      const char *argv[] = { "lvremove", "-f", "-q", v.lv, NULL };
      if (lv_exists (v.lv))
        r = pool_run_tool (argv, NULL, -1, err);
      argv[3] = restore;
      if (r == 0 && lv_exists (restore))
        r = pool_run_tool (argv, NULL, -1, err);
    }
  else if (v.path && v.type == POOL_OVERLAY && pool_mapped_unmap (v.path, err) < 0)
    r = -1;
  if (r == 0 && v.path && (v.type == POOL_DIR || v.type == POOL_OVERLAY))
    {
      cleanup_free char *copy = xstrdup (v.path), *copy2 = xstrdup (v.path);
      cleanup_close int pfd
          = open (dirname (copy), O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (pfd < 0)
        r = errno == ENOENT ? 0 : ctr_error (err, errno, "open `%s`", v.path);
      else
        {
          /* and what a killed restore left beside it */
          cleanup_free char *leftover = xasprintf (".%s.new", basename (copy2));
          r = store_remove_tree_at (pfd, basename (copy2), err);
          if (r == 0 && v.type == POOL_DIR)
            r = store_remove_tree_at (pfd, leftover, err);
        }
    }
  if (r == 0 && unlinkat (dfd, POOL_VOLUME_RECORD, 0) < 0 && errno != ENOENT)
    r = ctr_error (err, errno, "remove %s", POOL_VOLUME_RECORD);
out:
  if (r < 0)
    ctr_error_wrap (err, "pool `%s`", v.pool);
  volume_clear (&v);
  return r;
}

int
pool_volume_release (int dfd, const char *dirpath, ctr_error_t *err)
{
  cleanup_close int sfd
      = openat (dfd, "snapshots", O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  (void)dirpath;
  if (sfd >= 0 && (d = fdopendir (fcntl (sfd, F_DUPFD_CLOEXEC, 0))) != NULL)
    while ((de = readdir (d)) != NULL)
      {
        cleanup_close int snapfd = -1;
        if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
          continue;
        snapfd = openat (sfd, de->d_name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (snapfd >= 0 && release_one (snapfd, err) < 0)
          return -1;
      }
  return release_one (dfd, err);
}

int
pool_volume_activate (int dfd, const char *dirpath, ctr_error_t *err)
{
  struct volume v;
  int r = volume_read (dfd, &v, err);

  (void)dirpath;
  if (r <= 0)
    return r;
  r = 0;
  if (v.type == POOL_OVERLAY && is_rootless () && geteuid () != 0)
    r = ctr_error (err, 0,
                   "rootless, an overlay volume is mounted only in its container's own "
                   "namespaces: start the container first");
  else if ((v.type == POOL_LVM || v.type == POOL_OVERLAY) && !is_mountpoint (dfd, "rootfs"))
    {
      if (v.type == POOL_LVM && !lv_exists (v.lv))
        {
          /* a restore killed between removing the old volume and renaming the new one */
          cleanup_free char *restore = xasprintf ("%s.restore", v.lv);
          const char *argv[] = { "lvrename", restore, v.lv, NULL };
          if (lv_exists (restore))
            r = pool_run_tool (argv, NULL, -1, err);
        }
      if (r == 0)
        r = v.type == POOL_LVM ? mount_lv (dfd, v.lv, err) : mount_overlay (dfd, &v, err);
    }
  if (r < 0)
    ctr_error_wrap (err, "pool `%s`", v.pool);
  volume_clear (&v);
  return r;
}

/* The run's config, in the container's directory: config.json with the overlay mounted
   onto "/" first. */
#define RUN_CONFIG "run.json"

int
pool_overlay_config (int dfd, const char *options, int out_dfd, const char *out_name,
                     ctr_error_t *err)
{
  cleanup_free char *out = NULL, *opts = xstrdup (options);
  json_node *config = jnode_read_at (dfd, "config.json", OCI_CONFIG_MAX_SIZE, err), *mounts, *was,
            *m;
  size_t len;

  if (config == NULL)
    return -1;
  m = jnode_new_object ();
  jnode_set (m, "destination", jnode_new_string ("/"));
  jnode_set (m, "type", jnode_new_string ("overlay"));
  jnode_set (m, "source", jnode_new_string ("overlay"));
  was = jnode_new_array ();
  for (char *o = opts, *c; o; o = c ? c + 1 : NULL)
    {
      c = strchr (o, ',');
      if (c)
        *c = '\0';
      jnode_append (was, jnode_new_string (o));
    }
  jnode_set (m, "options", was);
  /* first: every other mount goes onto the overlay */
  was = jnode_take (config, "mounts");
  mounts = jnode_array_member (config, "mounts", true);
  jnode_append (mounts, m);
  for (size_t i = 0; i < jnode_len (was); i++)
    jnode_append (mounts, jnode_copy (jnode_at (was, i)));
  jnode_free (was);
  out = jnode_to_string (config, &len);
  jnode_free (config);
  return write_file_atomic_at (out_dfd, out_name, out, len, 0600, err);
}

int
pool_volume_start (int dfd, ctr_error_t *err)
{
  struct volume v;
  int r;

  if (!is_rootless () || geteuid () == 0)
    return pool_volume_activate (dfd, NULL, err);
  r = volume_read (dfd, &v, err);
  if (r < 0)
    return -1;
  r = 0;
  if (unlinkat (dfd, RUN_CONFIG, 0) < 0 && errno != ENOENT)
    r = ctr_error (err, errno, "remove `%s`", RUN_CONFIG);
  else if (r == 0 && v.type == POOL_OVERLAY)
    {
      cleanup_free char *opts = overlay_options (&v);
      r = pool_overlay_config (dfd, opts, dfd, RUN_CONFIG, err);
    }
  if (r < 0)
    ctr_error_wrap (err, "pool `%s`", v.pool);
  volume_clear (&v);
  return r;
}

const char *
pool_volume_run_config (int dfd)
{
  return faccessat (dfd, RUN_CONFIG, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ? RUN_CONFIG : NULL;
}

int
pool_volume_deactivate (int dfd, ctr_error_t *err)
{
  cleanup_free char *target = fd_path (dfd, "rootfs");
  if (is_mountpoint (dfd, "rootfs") && umount2 (target, UMOUNT_NOFOLLOW) < 0
      && umount2 (target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
    return ctr_error (err, errno, "unmount rootfs");
  return 0;
}

char *
pool_volume_pool (int dfd)
{
  struct volume v;
  ctr_error_t e = NULL;
  char *out;
  if (volume_read (dfd, &v, &e) <= 0)
    {
      ctr_error_free (&e);
      return xstrdup (POOL_DEFAULT);
    }
  out = steal_ptr (v.pool);
  volume_clear (&v);
  return out ? out : xstrdup (POOL_DEFAULT);
}

bool
pool_volume_uses_base (int dfd, const char *base)
{
  struct volume v;
  ctr_error_t e = NULL;
  bool yes = false;
  size_t n = strlen (base);

  if (volume_read (dfd, &v, &e) <= 0)
    {
      ctr_error_free (&e);
      return false;
    }
  if (v.base)
    yes = strcmp (v.base, base) == 0;
  /* an overlay's lowers, its own base or a clone's source's */
  for (const char *l = v.lower; l && *l && !yes; l += strcspn (l, ":"), l += *l == ':')
    yes = strncmp (l, base, n) == 0 && (l[n] == ':' || l[n] == '\0');
  volume_clear (&v);
  return yes;
}

char *
pool_volume_rootfs (int dfd, const char *dirpath)
{
  struct volume v;
  ctr_error_t e = NULL;
  char *out = NULL;
  if (volume_read (dfd, &v, &e) > 0 && (v.type == POOL_DIR || v.type == POOL_BTRFS))
    out = steal_ptr (v.path);
  ctr_error_free (&e);
  volume_clear (&v);
  return out ? out : xasprintf ("%s/rootfs", dirpath);
}

bool
pool_volume_mounted_inside (int dfd)
{
  struct volume v = { 0 };
  ctr_error_t e = NULL;
  bool yes = false;

  if (is_rootless () && geteuid () != 0 && volume_read (dfd, &v, &e) > 0)
    yes = v.type == POOL_OVERLAY;
  ctr_error_free (&e);
  volume_clear (&v);
  return yes;
}

bool
pool_volume_native_snapshots (int dfd)
{
  struct volume v;
  ctr_error_t e = NULL;
  bool yes = volume_read (dfd, &v, &e) > 0
             && (v.type == POOL_BTRFS || v.type == POOL_LVM || v.type == POOL_OVERLAY);
  ctr_error_free (&e);
  volume_clear (&v);
  return yes;
}

char *
pool_volume_any_snapshot (int dfd)
{
  int sfd = openat (dfd, "snapshots", O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_dir DIR *d = sfd >= 0 ? fdopendir (sfd) : NULL;
  struct dirent *de;

  if (d == NULL && sfd >= 0)
    close (sfd);
  while (d && (de = readdir (d)) != NULL)
    if (de->d_name[0] != '.')
      return xstrdup (de->d_name);
  return NULL;
}

static bool
is_clone_of (int dirfd, const char *id, void *name)
{
  struct volume v;
  ctr_error_t e = NULL;
  bool yes = volume_read (dirfd, &v, &e) > 0 && v.clone_of && strcmp (v.clone_of, name) == 0;

  (void)id;
  ctr_error_free (&e);
  volume_clear (&v);
  return yes;
}

char **
pool_volume_dependents (const char *store, const char *name)
{
  return owned_dir_select_ids (store, "store", is_clone_of, (void *)name);
}

int
pool_volume_snapshot_clone (const struct pool *p, int srcfd, int dfd, const char *dirpath,
                            const char *src, const char *dst, ctr_error_t *err)
{
  struct volume s, v = { .type = p->type };
  int r = volume_read (srcfd, &s, err);

  (void)dirpath;
  if (r < 0)
    return -1;
  if (r == 0 || s.type == POOL_DIR)
    {
      volume_clear (&s);
      return ctr_error (
          err, 0, "--snapshot needs a btrfs, lvm or overlay pool (`%s` is in a dir pool)", src);
    }
  v.pool = xstrdup (p->name);
  if (p->type == POOL_LVM)
    v.lv = xasprintf ("%s/ctr-%s", p->vg, dst);
  else
    v.path = xasprintf ("%s/%s", p->path, dst);
  if (p->type == POOL_OVERLAY)
    {
      v.lower = xasprintf ("%s/upper:%s", s.path, s.lower);
      v.clone_of = xstrdup (src);
      /* mapped like src for now: the clone's own range replaces it (pool_volume_map) */
      v.mapped = s.mapped ? xstrdup (s.mapped) : NULL;
    }
  if ((v.path && path_exists (v.path)) || (v.lv && lv_exists (v.lv)))
    r = ctr_error (err, 0, "pool `%s`: `%s` already exists", p->name, v.path ? v.path : v.lv);
  else
    r = volume_write (dfd, &v, err);
  if (r == 0 && p->type == POOL_BTRFS)
    {
      const char *argv[] = { "btrfs", "-q", "subvolume", "snapshot", s.path, v.path, NULL };
      r = pool_run_tool (argv, NULL, dfd, err);
      if (r == 0)
        r = link_rootfs (dfd, v.path, err);
    }
  else if (r == 0 && p->type == POOL_LVM)
    {
      const char *argv[]
          = { "lvcreate", "-q", "-s", "-kn", "-n", strchr (v.lv, '/') + 1, s.lv, NULL };
      r = pool_run_tool (argv, NULL, dfd, err);
      if (r == 0)
        r = mount_lv (dfd, v.lv, err);
    }
  else if (r == 0)
    r = make_overlay (dfd, &v, err);
  volume_clear (&s);
  volume_clear (&v);
  return r < 0 ? ctr_error_wrap (err, "pool `%s`", p->name) : 0;
}

/* ------------------------------------------------------------------ native snapshots */

int
pool_snapshot_create (int dfd, int sdfd, const char *name, const char *snap, ctr_error_t *err)
{
  struct volume c, v = { 0 };
  int r = volume_read (dfd, &c, err);

  if (r <= 0)
    return r;
  v.pool = xstrdup (c.pool);
  v.type = c.type;
  if (c.type == POOL_BTRFS || c.type == POOL_OVERLAY)
    v.path = xasprintf ("%s@%s", c.path, snap);
  else
    v.lv = xasprintf ("%s.snap-%s", c.lv, snap);
  if (c.type == POOL_OVERLAY)
    v.lower = xstrdup (c.lower);
  (void)name;
  if ((v.path && path_exists (v.path)) || (v.lv && lv_exists (v.lv)))
    r = ctr_error (err, 0, "pool `%s`: `%s` already exists", c.pool, v.path ? v.path : v.lv);
  else
    r = volume_write (sdfd, &v, err);
  if (r == 0 && c.type == POOL_BTRFS)
    {
      const char *argv[] = { "btrfs", "-q", "subvolume", "snapshot", "-r", c.path, v.path, NULL };
      r = pool_run_tool (argv, NULL, dfd, err);
    }
  else if (r == 0 && c.type == POOL_OVERLAY)
    {
      /* the upper as it stands (whiteouts and opaque directories are device nodes and
         xattrs, which cp -a keeps), its extents shared where the filesystem can */
      cleanup_free char *from = xasprintf ("%s/upper", c.path),
                        *to = xasprintf ("%s/upper", v.path);
      if (mkdir (v.path, 0700) < 0)
        r = ctr_error (err, errno, "create `%s`", v.path);
      else
        r = pool_copy_tree (from, to, dfd, err);
    }
  else if (r == 0)
    {
      const char *argv[] = { "lvcreate", "-q", "-s", "-n", strchr (v.lv, '/') + 1, c.lv, NULL };
      r = pool_run_tool (argv, NULL, dfd, err);
    }
  if (r < 0)
    ctr_error_wrap (err, "pool `%s`", c.pool);
  volume_clear (&c);
  volume_clear (&v);
  return r;
}

/* A copy of the snapshot's upper beside the container's, swapped with it in one rename
   while the overlay is unmounted: a kill leaves one whole upper (mounted again by the next
   start) and an `upper.restore` that the next restore or release removes. */
static int
restore_overlay (int dfd, const struct volume *c, const struct volume *s, ctr_error_t *err)
{
  cleanup_free char *from = xasprintf ("%s/upper", s->path);
  cleanup_free char *target = fd_path (dfd, "rootfs");
  cleanup_close int vfd = open (c->path, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_free char *to = xasprintf ("%s/upper.restore", c->path);

  if (vfd < 0)
    return ctr_error (err, errno, "open `%s`", c->path);
  if (store_remove_tree_at (vfd, "upper.restore", err) < 0
      || pool_copy_tree (from, to, dfd, err) < 0)
    return -1;
  if (is_mountpoint (dfd, "rootfs") && umount2 (target, UMOUNT_NOFOLLOW) < 0)
    return ctr_error (err, errno, "unmount rootfs");
  if (renameat2 (vfd, "upper.restore", vfd, "upper", RENAME_EXCHANGE) < 0)
    return ctr_error (err, errno, "swap in `%s`", to);
  if (mount_overlay (dfd, c, err) < 0)
    return -1;
  return store_remove_tree_at (vfd, "upper.restore", err);
}

int
pool_snapshot_restore (int dfd, const char *dirpath, int sdfd, const char *name, ctr_error_t *err)
{
  struct volume c, s;
  int r;

  (void)dirpath;
  if (volume_read (dfd, &c, err) <= 0)
    return -1;
  if (volume_read (sdfd, &s, err) <= 0)
    {
      volume_clear (&c);
      return ctr_error (err, 0, "container `%s`: the snapshot has no volume record", name);
    }
  if (c.type == POOL_OVERLAY)
    r = restore_overlay (dfd, &c, &s, err);
  else if (c.type == POOL_BTRFS)
    {
      /* a writable snapshot of the snapshot beside the rootfs, swapped with it in one
         rename: a kill leaves one whole rootfs and a `.restore` that release removes */
      cleanup_free char *restore = xasprintf ("%s.restore", c.path);
      const char *snap[] = { "btrfs", "-q", "subvolume", "snapshot", s.path, restore, NULL };
      r = 0;
      if (path_exists (restore))
        r = pool_subvolume_delete (restore, dfd, err);
      if (r == 0)
        r = pool_run_tool (snap, NULL, dfd, err);
      if (r == 0 && renameat2 (AT_FDCWD, restore, AT_FDCWD, c.path, RENAME_EXCHANGE) < 0)
        r = ctr_error (err, errno, "swap in `%s`", restore);
      if (r == 0)
        r = pool_subvolume_delete (restore, dfd, err);
    }
  else
    {
      cleanup_free char *restore = xasprintf ("%s.restore", c.lv);
      cleanup_free char *target = fd_path (dfd, "rootfs");
      const char *rm_restore[] = { "lvremove", "-f", "-q", restore, NULL };
      const char *snap[]
          = { "lvcreate", "-q", "-s", "-kn", "-n", strchr (restore, '/') + 1, s.lv, NULL };
      const char *rm_old[] = { "lvremove", "-f", "-q", c.lv, NULL };
      const char *rename[] = { "lvrename", restore, c.lv, NULL };
      r = 0;
      if (lv_exists (restore))
        r = pool_run_tool (rm_restore, NULL, dfd, err);
      if (r == 0)
        r = pool_run_tool (snap, NULL, dfd, err);
      if (r == 0 && is_mountpoint (dfd, "rootfs") && umount2 (target, UMOUNT_NOFOLLOW) < 0)
        r = ctr_error (err, errno, "unmount rootfs");
      if (r == 0)
        r = pool_run_tool (rm_old, NULL, dfd, err);
      if (r == 0)
        r = pool_run_tool (rename, NULL, dfd, err);
      if (r == 0)
        r = mount_lv (dfd, c.lv, err);
    }
  if (r < 0)
    ctr_error_wrap (err, "pool `%s`", c.pool);
  volume_clear (&c);
  volume_clear (&s);
  return r;
}

char *
pool_volume_dir (int dfd)
{
  struct volume v;
  ctr_error_t e = NULL;
  char *out = NULL;
  if (volume_read (dfd, &v, &e) > 0)
    out = steal_ptr (v.path);
  ctr_error_free (&e);
  volume_clear (&v);
  return out;
}

char *
pool_volume_clone_lower (int dfd)
{
  struct volume v;
  ctr_error_t e = NULL;
  char *out = NULL;
  if (volume_read (dfd, &v, &e) > 0 && v.type == POOL_OVERLAY)
    out = v.mapped ? pool_mapped_layers (v.path, v.lower)
                   : xasprintf ("%s/upper:%s", v.path, v.lower);
  ctr_error_free (&e);
  volume_clear (&v);
  return out;
}

int
pool_volume_map (int dfd, const char *mapped, bool only_mapped, ctr_error_t *err)
{
  cleanup_free char *target = fd_path (dfd, "rootfs");
  struct volume v;
  ctr_error_t e = NULL;
  int r = volume_read (dfd, &v, err);

  if (r <= 0)
    return r;
  if (v.type != POOL_OVERLAY || (only_mapped && v.mapped == NULL)
      || (mapped == NULL && v.mapped == NULL))
    {
      volume_clear (&v);
      return 0;
    }
  free (v.mapped);
  v.mapped = mapped ? xstrdup (mapped) : NULL;
  r = 1;
  if (is_mountpoint (dfd, "rootfs") && umount2 (target, UMOUNT_NOFOLLOW) < 0)
    r = ctr_error (err, errno, "unmount rootfs");
  else if (volume_write (dfd, &v, err) < 0)
    r = -1;
  else if (mount_overlay (dfd, &v, &e) < 0)
    {
      /* layers that cannot be idmapped (tmpfs before Linux 6.3, overlayfs before 5.19):
         plain again, and the caller chowns the tree */
      ctr_log_debug ("pool `%s`: %s", v.pool, e->msg);
      ctr_error_free (&e);
      free (v.mapped);
      v.mapped = NULL;
      r = volume_write (dfd, &v, err) < 0 || mount_overlay (dfd, &v, err) < 0 ? -1 : 0;
    }
  volume_clear (&v);
  return r;
}
