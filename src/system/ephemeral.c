/* ephemeral: a run on a throw-away overlay layer stacked on a system container's rootfs
   (<store>/NAME/.ephemeral), and the mark of clones destroyed with their run. When they are
   undone (the monitor's end, `stop` of an orphan, `destroy`, the next `start` or `ls` after
   a kill or a reboot) is system_run.c's. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "rootfs/mountinfo.h"
#include "base/json_edit.h"
#include "namespaces/namespaces.h"
#include "oci/oci.h"
#include "rootfs/idmap.h"
#include "system/idmap.h"
#include "system/ephemeral.h"
#include "system/store.h"
#include "system/pool_volume.h"
#include "system/pool_mapped.h"
#include "system/userns_child.h"

#define MAX_STACK 8
#define RUN_CONFIG "config.json" /* in the layer: the config of the run, where it differs */

/* Whether file is in the container directory sub under dfd (sub NULL: dfd itself). */
static bool
present_in (int dfd, const char *sub, const char *file)
{
  char path[PATH_MAX];
  if (sub && snprintf (path, sizeof path, "%s/%s", sub, file) >= (int)sizeof path)
    return false;
  return faccessat (dfd, sub ? path : file, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

bool
ephemeral_active (int dfd)
{
  return present_in (dfd, NULL, EPHEMERAL_LAYER);
}

bool
ephemeral_marked (int dfd)
{
  return present_in (dfd, NULL, EPHEMERAL_MARK);
}

bool
ephemeral_active_in (int dfd, const char *sub)
{
  return present_in (dfd, sub, EPHEMERAL_LAYER);
}

bool
ephemeral_marked_in (int dfd, const char *sub)
{
  return present_in (dfd, sub, EPHEMERAL_MARK);
}

int
ephemeral_mark (int dfd, ctr_error_t *err)
{
  static const char text[] = "destroyed when its run ends (ctr clone --ephemeral)\n";
  return write_file_at (dfd, EPHEMERAL_MARK, text, sizeof text - 1, 0600, err);
}

static char *
fd_path (int dfd, const char *rest)
{
  return xasprintf ("/proc/self/fd/%d/%s", dfd, rest);
}

/* Whether the mount on top of path is a layer of NAME's: an overlay whose upper is
   <store>/NAME/.ephemeral/upper. */
static bool
top_is_layer (const char *path, const char *name)
{
  struct statx stx;
  struct mountinfo *mi = NULL;
  ctr_error_t e = NULL;
  /* an unprivileged container's upper is the idmapped one (ephemeral_overlay_mapped) */
  cleanup_free char *needle = xasprintf ("/%s/%s/upper", name, EPHEMERAL_LAYER);
  cleanup_free char *mapped = xasprintf ("/%s/%s/mapped/upper", name, EPHEMERAL_LAYER);
  bool yes = false;
  size_t n = 0;

  if (statx (AT_FDCWD, path, 0, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
    return false;
  if (mountinfo_read (&mi, &n, &e) < 0)
    {
      ctr_error_free (&e);
      return false;
    }
  for (size_t i = 0; i < n && mi[i].mountpoint; i++)
    if ((uint64_t)mi[i].id == stx.stx_mnt_id && mi[i].fstype && mi[i].superopts
        && strcmp (mi[i].fstype, "overlay") == 0)
      {
        for (int k = 0; k < 2 && !yes; k++)
          {
            const char *want = k ? mapped : needle, *p = strstr (mi[i].superopts, want);
            yes = p && (p[strlen (want)] == ',' || p[strlen (want)] == '\0');
          }
      }
  mountinfo_free (mi, n);
  return yes;
}

static int
unmount (const char *path, ctr_error_t *err)
{
  if (umount2 (path, 0) < 0 && umount2 (path, MNT_DETACH) < 0)
    return ctr_error (err, errno, "unmount `%s`", path);
  return 0;
}

int
ephemeral_end (int dfd, const char *name, ctr_error_t *err)
{
  /* rootfs is followed: a dir or btrfs pool's link leads to the volume the layer is on */
  cleanup_free char *target = fd_path (dfd, "rootfs"), *layer = fd_path (dfd, EPHEMERAL_LAYER);

  if (!ephemeral_active (dfd))
    return 0;
  for (int i = 0; i < MAX_STACK && top_is_layer (target, name); i++)
    if (unmount (target, err) < 0)
      return ctr_error_wrap (err, "container `%s`: ephemeral layer", name);
  /* the idmapped layers of an unprivileged container's run, then a tmpfs under them */
  if (ephemeral_unmap (dfd, err) < 0
      || (is_mountpoint_at (dfd, EPHEMERAL_LAYER) && unmount (layer, err) < 0))
    return ctr_error_wrap (err, "container `%s`: ephemeral layer", name);
  /* (an unprivileged user's upper holds files of its subordinate range) */
  if (store_remove_tree_at (dfd, EPHEMERAL_LAYER, err) < 0)
    return ctr_error_wrap (err, "container `%s`: ephemeral layer", name);
  return 0;
}

/* An unprivileged container's layer. (docs/storage.md,
   "Ephemeral runs and clones"). overlayfs cannot itself be idmapped, so where the container's
   tree is unshifted on disk (its root is an idmapped mount) the overlay's layers are: each
   lower and the layer's own directory are cloned, idmapped with the container's range and
   attached in the layer (lower.N/, mapped/), the overlay stacks those, and the run's config
   (.ephemeral/config.json) binds the overlay onto "/" as it is. Where the tree was shifted
   into the range on disk, only the upper directory needs an owner: the container's root. */

#define DATA "data"

/* .ephemeral/config.json: the container's config without the idmapped bind of "/" (the
   overlay's layers are idmapped already, and an overlay cannot be idmapped again). */
static int
write_run_config (int dfd, int lfd, const struct store_meta *m, ctr_error_t *err)
{
  cleanup_free char *out = NULL;
  struct store_meta plain = *m;
  json_node *config = jnode_read_at (dfd, "config.json", OCI_CONFIG_MAX_SIZE, err);
  size_t len;

  if (config == NULL)
    return -1;
  plain.idmap_shifted = true; /* what the root looks like from the runtime's side */
  idmap_config_apply (config, &plain);
  out = jnode_to_string (config, &len);
  jnode_free (config);
  return write_file_at (lfd, RUN_CONFIG, out, len, 0600, err);
}

int
ephemeral_overlay_mapped (int dfd, const char *dirpath, const char *lowers,
                          const struct store_meta *m, ctr_error_t *err)
{
  cleanup_free char *layer = xasprintf ("%s/%s", dirpath, EPHEMERAL_LAYER);
  cleanup_free char *target = fd_path (dfd, "rootfs");
  cleanup_free char *data = xasprintf ("%s/%s", layer, DATA);
  cleanup_close int lfd
      = openat (dfd, EPHEMERAL_LAYER, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int userns = -1;

  if (lfd < 0)
    return ctr_error (err, errno, "open `%s`", layer);
  if ((mkdirat (lfd, DATA, 0700) < 0 && errno != EEXIST)
      || (mkdirat (lfd, DATA "/upper", 0755) < 0 && errno != EEXIST)
      || (mkdirat (lfd, DATA "/work", 0700) < 0 && errno != EEXIST))
    return ctr_error (err, errno, "create `%s`", data);
  userns = pool_mapped_userns (m->idmap_uid, m->idmap_gid, m->idmap_count, err);
  if (userns < 0 || pool_mapped_overlay (target, layer, data, lowers, userns, err) < 0)
    return -1;
  return write_run_config (dfd, lfd, m, err);
}

int
ephemeral_upper_owned (int dfd, const struct store_meta *m, ctr_error_t *err)
{
  cleanup_free char *upper = xasprintf ("%s/upper", EPHEMERAL_LAYER);
  if (fchownat (dfd, upper, m->idmap_uid, m->idmap_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return ctr_error (err, errno, "give `%s` to the container's root", upper);
  return 0;
}

int
ephemeral_unmap (int dfd, ctr_error_t *err)
{
  cleanup_free char *layer = fd_path (dfd, EPHEMERAL_LAYER);
  return pool_mapped_unmap (layer, err);
}

char *
ephemeral_run_config (int dfd)
{
  cleanup_free char *rel = xasprintf ("%s/%s", EPHEMERAL_LAYER, RUN_CONFIG);
  if (faccessat (dfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
    return NULL;
  return steal_ptr (rel);
}

/* upper/ and work/ in the layer, and the overlay over lower on rootfs; for an unprivileged
   container (m's range) its layers idmapped, or its upper its root's (a shifted tree). */
static int
mount_layer (int dfd, const char *dirpath, const char *lower, const struct store_meta *m,
             ctr_error_t *err)
{
  cleanup_free char *target = fd_path (dfd, "rootfs");
  cleanup_free char *opts = xasprintf ("lowerdir=%s,upperdir=%s/%s/upper,workdir=%s/%s/work", lower,
                                       dirpath, EPHEMERAL_LAYER, dirpath, EPHEMERAL_LAYER);
  cleanup_close int lfd
      = openat (dfd, EPHEMERAL_LAYER, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

  if (m->idmap_count > 0 && !m->idmap_shifted)
    return ephemeral_overlay_mapped (dfd, dirpath, lower, m, err);
  if (lfd < 0 || (mkdirat (lfd, "upper", 0755) < 0 && errno != EEXIST)
      || (mkdirat (lfd, "work", 0700) < 0 && errno != EEXIST))
    return ctr_error (err, errno, "create `%s/%s`", dirpath, EPHEMERAL_LAYER);
  if (m->idmap_count > 0 && ephemeral_upper_owned (dfd, m, err) < 0)
    return -1;
  if (mount ("overlay", target, "overlay", 0, opts) < 0)
    return ctr_error (err, errno, "mount overlay (%s) on rootfs", opts);
  return 0;
}

/* A tmpfs on the layer's directory, for a store on a filesystem that cannot hold an
   overlay upper (an overlay itself, or one without the xattrs overlay needs). */
static int
mount_tmpfs_layer (int dfd, const char *dirpath, ctr_error_t *err)
{
  cleanup_free char *layer = fd_path (dfd, EPHEMERAL_LAYER);
  if (mount ("ctr-ephemeral", layer, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
    return ctr_error (err, errno, "mount a tmpfs on `%s/%s`", dirpath, EPHEMERAL_LAYER);
  return 0;
}

/* An unprivileged user's run: nothing is mounted on the host (that takes root). The run's
   config (.ephemeral/config.json) has the overlay mounted onto "/" first, by the container's
   setup in its own user and mount namespaces, where the kernel lets the user mount one;
   `userxattr` keeps overlayfs's own attributes in the user.* namespace, which needs no
   privilege. */
static int
rootless_layer (int dfd, const char *dirpath, const char *name, const char *lower, ctr_error_t *err)
{
  cleanup_free char *opts
      = xasprintf ("lowerdir=%s,upperdir=%s/%s/upper,workdir=%s/%s/work,userxattr", lower, dirpath,
                   EPHEMERAL_LAYER, dirpath, EPHEMERAL_LAYER);
  cleanup_close int lfd = -1;

  if (strpbrk (lower, ",") || strpbrk (dirpath, ",:"))
    return ctr_error (err, 0, "container `%s`: --ephemeral: `%s` has a comma or colon in it", name,
                      strpbrk (dirpath, ",:") ? dirpath : lower);
  if (ephemeral_end (dfd, name, err) < 0)
    return -1;
  if (mkdirat (dfd, EPHEMERAL_LAYER, 0700) < 0
      || (lfd = openat (dfd, EPHEMERAL_LAYER, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0
      || mkdirat (lfd, "upper", 0755) < 0 || mkdirat (lfd, "work", 0700) < 0)
    return ctr_error (err, errno, "container `%s`: create `%s`", name, EPHEMERAL_LAYER);
  return pool_overlay_config (dfd, opts, lfd, RUN_CONFIG, err);
}

/* The layer of a run over lower: recorded (the directory) before it is mounted. */
static int
layer_begin (int dfd, const char *dirpath, const char *name, const char *lower,
             const struct store_meta *m, ctr_error_t *err)
{
  struct statfs sfs;
  int r = 0;

  if (strpbrk (lower, ",") || strpbrk (dirpath, ",:"))
    return ctr_error (err, 0, "container `%s`: --ephemeral: `%s` has a comma or colon in it", name,
                      strpbrk (dirpath, ",:") ? dirpath : lower);
  if (ephemeral_end (dfd, name, err) < 0)
    return -1;
  /* recorded before it is made: the directory is the record a kill leaves */
  if (mkdirat (dfd, EPHEMERAL_LAYER, 0700) < 0)
    return ctr_error (err, errno, "container `%s`: create `%s`", name, EPHEMERAL_LAYER);
  if (statfs (dirpath, &sfs) == 0 && sfs.f_type == OVERLAYFS_SUPER_MAGIC)
    r = mount_tmpfs_layer (dfd, dirpath, err);
  if (r == 0 && mount_layer (dfd, dirpath, lower, m, err) < 0 && (*err)->status == EINVAL
      && !is_mountpoint_at (dfd, EPHEMERAL_LAYER))
    {
      /* the store's filesystem refused to be an upper: the layer goes to memory */
      ctr_error_free (err);
      r = ephemeral_unmap (dfd, err);
      if (r == 0)
        r = remove_tree_at (dfd, EPHEMERAL_LAYER, err);
      if (r == 0 && mkdirat (dfd, EPHEMERAL_LAYER, 0700) < 0)
        r = ctr_error (err, errno, "create `%s`", EPHEMERAL_LAYER);
      if (r == 0)
        r = mount_tmpfs_layer (dfd, dirpath, err);
      if (r == 0)
        r = mount_layer (dfd, dirpath, lower, m, err);
    }
  else if (*err)
    r = -1;
  return r;
}

int
ephemeral_begin (int dfd, const char *dirpath, const char *name, ctr_error_t *err)
{
  cleanup_free char *lower = pool_volume_clone_lower (dfd);
  struct store_meta m;
  int r;

  if (store_meta_read (dfd, name, &m, err) < 0)
    return -1;
  /* an overlay pool's layers are stacked on directly (no overlay over an overlay) */
  if (lower == NULL)
    lower = pool_volume_rootfs (dfd, dirpath);
  r = is_rootless () ? rootless_layer (dfd, dirpath, name, lower, err)
                     : layer_begin (dfd, dirpath, name, lower, &m, err);
  store_meta_clear (&m);
  if (r < 0)
    {
      ctr_error_t e2 = NULL;
      if (ephemeral_end (dfd, name, &e2) < 0)
        ctr_error_print (&e2);
      return ctr_error_wrap (err, "container `%s`: --ephemeral", name);
    }
  return 0;
}
