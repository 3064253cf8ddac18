/* ephemeral: a run on a throw-away overlay layer stacked on a system container's rootfs
   (<store>/NAME/.ephemeral), and the mark of clones destroyed with their run. When they are
   undone (the monitor's end, `stop` of an orphan, `destroy`, the next `start` or `ls` after
   a kill or a reboot) is system_run.c's. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
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
#include "system/ephemeral.h"
#include "system/store.h"
#include "system/pool_volume.h"

#define MAX_STACK 8

bool
ephemeral_active (int dfd)
{
  return faccessat (dfd, EPHEMERAL_LAYER, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

bool
ephemeral_marked (int dfd)
{
  return faccessat (dfd, EPHEMERAL_MARK, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
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
  cleanup_free char *needle = xasprintf ("/%s/%s/upper", name, EPHEMERAL_LAYER);
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
        const char *p = strstr (mi[i].superopts, needle);
        yes = p && (p[strlen (needle)] == ',' || p[strlen (needle)] == '\0');
      }
  mountinfo_free (mi, n);
  return yes;
}

static bool
is_mountpoint_at (int dfd, const char *name)
{
  struct stat a, b;
  return fstatat (dfd, name, &a, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (a.st_mode)
         && fstat (dfd, &b) == 0 && a.st_dev != b.st_dev;
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
  if (is_mountpoint_at (dfd, EPHEMERAL_LAYER) && unmount (layer, err) < 0)
    return ctr_error_wrap (err, "container `%s`: ephemeral layer", name);
  if (remove_tree_at (dfd, EPHEMERAL_LAYER, err) < 0)
    return ctr_error_wrap (err, "container `%s`: ephemeral layer", name);
  return 0;
}

/* upper/ and work/ in the layer, and the overlay over lower on rootfs. */
static int
mount_layer (int dfd, const char *dirpath, const char *lower, ctr_error_t *err)
{
  cleanup_free char *target = fd_path (dfd, "rootfs");
  cleanup_free char *opts = xasprintf ("lowerdir=%s,upperdir=%s/%s/upper,workdir=%s/%s/work", lower,
                                       dirpath, EPHEMERAL_LAYER, dirpath, EPHEMERAL_LAYER);
  cleanup_close int lfd
      = openat (dfd, EPHEMERAL_LAYER, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

  if (lfd < 0 || (mkdirat (lfd, "upper", 0755) < 0 && errno != EEXIST)
      || (mkdirat (lfd, "work", 0700) < 0 && errno != EEXIST))
    return ctr_error (err, errno, "create `%s/%s`", dirpath, EPHEMERAL_LAYER);
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

/* An unprivileged container: where its root is an idmapped mount, overlayfs refuses to be
   idmapped (EINVAL at start); where its tree was shifted, the layer's upper directory,
   made by host root, is not its root's to write. */
static bool
unprivileged (int dfd, const char *name)
{
  struct store_meta m;
  ctr_error_t ignored = NULL;
  bool r;

  if (store_meta_read (dfd, name, &m, &ignored) < 0)
    {
      ctr_error_free (&ignored);
      return false;
    }
  r = m.idmap_count > 0;
  store_meta_clear (&m);
  return r;
}

int
ephemeral_begin (int dfd, const char *dirpath, const char *name, ctr_error_t *err)
{
  cleanup_free char *lower = pool_volume_clone_lower (dfd);
  struct statfs sfs;
  int r;

  if (is_rootless ())
    return ctr_error (err, 0, "container `%s`: --ephemeral needs root (an overlay mount)", name);
  if (unprivileged (dfd, name))
    return ctr_error (err, 0,
                      "container `%s`: --ephemeral: it is unprivileged (a user namespace of its "
                      "own), which an ephemeral layer does not serve yet; `ctr config %s set "
                      "privileged true` makes it privileged",
                      name, name);
  /* an overlay pool's layers are stacked on directly (no overlay over an overlay) */
  if (lower == NULL)
    lower = pool_volume_rootfs (dfd, dirpath);
  if (strpbrk (lower, ",") || strpbrk (dirpath, ",:"))
    return ctr_error (err, 0, "container `%s`: --ephemeral: `%s` has a comma or colon in it", name,
                      strpbrk (dirpath, ",:") ? dirpath : lower);
  if (ephemeral_end (dfd, name, err) < 0)
    return -1;
  /* recorded before it is made: the directory is the record a kill leaves */
  if (mkdirat (dfd, EPHEMERAL_LAYER, 0700) < 0)
    return ctr_error (err, errno, "container `%s`: create `%s`", name, EPHEMERAL_LAYER);
  r = 0;
  if (statfs (dirpath, &sfs) == 0 && sfs.f_type == OVERLAYFS_SUPER_MAGIC)
    r = mount_tmpfs_layer (dfd, dirpath, err);
  if (r == 0 && mount_layer (dfd, dirpath, lower, err) < 0 && (*err)->status == EINVAL
      && !is_mountpoint_at (dfd, EPHEMERAL_LAYER))
    {
      /* the store's filesystem refused to be an upper: the layer goes to memory */
      ctr_error_free (err);
      r = remove_tree_at (dfd, EPHEMERAL_LAYER, err);
      if (r == 0 && mkdirat (dfd, EPHEMERAL_LAYER, 0700) < 0)
        r = ctr_error (err, errno, "create `%s`", EPHEMERAL_LAYER);
      if (r == 0)
        r = mount_tmpfs_layer (dfd, dirpath, err);
      if (r == 0)
        r = mount_layer (dfd, dirpath, lower, err);
    }
  else if (*err)
    r = -1;
  if (r < 0)
    {
      ctr_error_t e2 = NULL;
      if (ephemeral_end (dfd, name, &e2) < 0)
        ctr_error_print (&e2);
      return ctr_error_wrap (err, "container `%s`: --ephemeral", name);
    }
  return 0;
}
