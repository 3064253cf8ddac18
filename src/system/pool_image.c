/* pool_image: a pool's read-only bases (as LXD's image volumes). <pool>/.images/KEY/ holds
   a template's tree, made once per pool, template and options: rootfs/ (a directory, or in
   a btrfs pool a subvolume made read-only), template.conf and the name it was built for;
   an lvm pool's base is a read-only thin volume VG/ctr-.img-KEY, described in
   <store>/.pools/NAME.images/KEY/. Each container's volume starts from it: an overlay upper
   over it, a btrfs or LVM thin snapshot of it, a `cp --reflink=auto` of it. A base is used
   by the containers whose volume record
   names it (no counter to get wrong after a kill); `pool prune` removes the unused ones.
   Everything here runs under the flock of .images, which a create holds from looking the
   base up until its volume record names it, so a prune never removes a base being taken. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "base/log.h"
#include "base/owned_dir.h"
#include "base/util.h"
#include "rootfs/paths.h"
#include "system/pool.h"
#include "system/pool_image.h"
#include "system/pool_volume.h"
#include "system/template.h"

#define IMAGES ".images"
#define TEMPLATE_CONF "template.conf"
#define TEMPLATE_CONF_MAX (64 * 1024)
#define BTRFS_SUBVOL_INO 256 /* the root directory of every btrfs subvolume */

/* Rootless creates in a dir pool make no bases: a copy made outside the user namespace the
   template ran in could not keep the owners of its subordinate range. (An overlay pool's
   volume is always over a base; rootless, the container mounts it itself. A btrfs
   snapshot keeps every owner, and the subvolume's owner may make one.) */
bool
pool_image_shared (const struct pool *p)
{
  if (strcmp (p->name, POOL_DEFAULT) == 0)
    return false;
  return p->type == POOL_OVERLAY || p->type == POOL_BTRFS || !is_rootless ();
}

/* The key of a template's base: the template and a hash of its options (FNV-1a). */
static char *
image_key (const char *tname, char **args, const char *size)
{
  uint64_t h = 14695981039346656037ULL;
  if (size)
    for (const char *c = size; *c; c++)
      h = (h ^ (unsigned char)*c) * 1099511628211ULL;
  for (char **a = args; a && *a; a++)
    for (const char *c = *a;; c++)
      {
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
        if (*c == '\0')
          break;
      }
  return xasprintf ("%s-%016llx", tname, (unsigned long long)h);
}

/* Where the pool's bases are described: <pool>/.images, or for an lvm pool (whose bases
   are LVs) <store>/.pools/NAME.images. *parent and *sub: the directory it is in, its name. */
static char *
images_path (const char *store, const struct pool *p, char **parent, char **sub)
{
  if (p->type == POOL_LVM)
    {
      *parent = xasprintf ("%s/.pools", store);
      *sub = xasprintf ("%s.images", p->name);
    }
  else
    {
      *parent = xstrdup (p->path);
      *sub = xstrdup (IMAGES);
    }
  return xasprintf ("%s/%s", *parent, *sub);
}

/* The images directory, locked (made when missing with create); OWNED_DIR_MISSING without. */
static int
images_open (const char *store, const struct pool *p, bool create, ctr_error_t *err)
{
  cleanup_free char *parent = NULL, *sub = NULL;
  cleanup_free char *images = images_path (store, p, &parent, &sub);
  cleanup_close int pfd
      = owned_dir_open (parent, "pool path", create ? 0 : OWNED_DIR_MISSING_OK, err);
  int fd;

  if (pfd == OWNED_DIR_MISSING)
    return OWNED_DIR_MISSING;
  if (pfd < 0)
    return ctr_error_wrap (err, "pool `%s`", p->name);
  if (create && mkdirat (pfd, sub, 0700) < 0 && errno != EEXIST)
    return ctr_error (err, errno, "create `%s`", images);
  if (!create && faccessat (pfd, sub, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
    return OWNED_DIR_MISSING;
  fd = owned_subdir_open (pfd, sub, images, "pool images", err);
  if (fd >= 0 && flock (fd, LOCK_EX) < 0)
    {
      close (fd);
      return ctr_error (err, errno, "lock `%s`", images);
    }
  return fd;
}

/* What names the base key (or the half-made `.KEY.new`) in volume records: its rootfs, or
   in an lvm pool its thin volume VG/ctr-.img-KEY (no container's LV, ctr-NAME, starts
   with a dot). */
static char *
base_id (const struct pool *p, const char *images, const char *name)
{
  if (p->type == POOL_LVM)
    {
      const char *key = name + (name[0] == '.');
      size_t len = strlen (key);
      if (name[0] == '.' && len > 4 && strcmp (key + len - 4, ".new") == 0)
        len -= 4;
      return xasprintf ("%s/ctr-.img-%.*s", p->vg, (int)len, key);
    }
  return xasprintf ("%s/%s/rootfs", images, name);
}

/* lvm: the base's thin volume, unmounted (a build killed while the template ran leaves it
   mounted on the base's rootfs) and removed. */
static int
image_remove_lv (const struct pool *p, int kfd, const char *images, const char *name,
                 ctr_error_t *err)
{
  cleanup_free char *lv = base_id (p, images, name);
  const char *argv[] = { "lvremove", "-f", "-q", lv, NULL };
  struct stat a, b;

  if (kfd >= 0 && fstatat (kfd, "rootfs", &a, AT_SYMLINK_NOFOLLOW) == 0 && fstat (kfd, &b) == 0
      && a.st_dev != b.st_dev)
    {
      cleanup_free char *target = xasprintf ("/proc/self/fd/%d/rootfs", kfd);
      if (umount2 (target, UMOUNT_NOFOLLOW | MNT_DETACH) < 0)
        return ctr_error (err, errno, "unmount `%s/%s/rootfs`", images, name);
    }
  if (pool_lv_exists (lv) && pool_run_tool (argv, NULL, -1, err) < 0)
    return -1;
  return 0;
}

/* Removes the base (or half-made base) name of the images directory ifd at images: its
   rootfs first when that is a btrfs subvolume (read-only ones too) or an LV, then the
   rest. */
static int
image_remove (const struct pool *p, int ifd, const char *images, const char *name, ctr_error_t *err)
{
  cleanup_free char *rootfs = xasprintf ("%s/%s/rootfs", images, name);
  cleanup_close int kfd = openat (ifd, name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct statfs sfs;
  struct stat st;

  if (p->type == POOL_LVM)
    {
      if (image_remove_lv (p, kfd, images, name, err) < 0)
        return -1;
    }
  else if (kfd >= 0 && fstatat (kfd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) == 0
           && S_ISDIR (st.st_mode) && st.st_ino == BTRFS_SUBVOL_INO && fstatfs (kfd, &sfs) == 0
           && sfs.f_type == BTRFS_SUPER_MAGIC)
    {
      if (pool_subvolume_delete (rootfs, ifd, err) < 0)
        return -1;
    }
  return remove_tree_at (ifd, name, err);
}

/* The base's rootfs in its directory tfd (at path): a directory, a btrfs subvolume, or a
   new thin volume mounted there. */
static int
image_root (const struct pool *p, int ifd, int tfd, const char *path, const char *key,
            const char *size, ctr_error_t *err)
{
  const char *create[] = { "btrfs", "-q", "subvolume", "create", path, NULL };
  cleanup_free char *lv = NULL;

  if (p->type == POOL_BTRFS)
    return pool_run_tool (create, NULL, ifd, err);
  if (mkdirat (tfd, "rootfs", 0755) < 0)
    return ctr_error (err, errno, "create `%s`", path);
  if (p->type != POOL_LVM)
    return 0;
  lv = xasprintf ("ctr-.img-%s", key);
  return pool_lv_create_mounted (p, tfd, lv, size, ifd, err);
}

/* lvm: the base's thin volume, unmounted from mounted (path: rootfs for messages) and
   made read-only (lvchange -pr; the containers' thin snapshots of it are writable). */
static int
image_lv_seal (const struct pool *p, const char *key, const char *mounted, const char *path,
               ctr_error_t *err)
{
  cleanup_free char *lv = xasprintf ("%s/ctr-.img-%s", p->vg, key);
  const char *ro[] = { "lvchange", "-q", "-pr", lv, NULL };
  if (umount2 (mounted, UMOUNT_NOFOLLOW) < 0)
    return ctr_error (err, errno, "unmount `%s`", path);
  return pool_run_tool (ro, NULL, -1, err);
}

/* Builds the base key in the locked images directory ifd: in `.KEY.new` (what a killed
   build left there is removed first: no one builds without the lock), renamed when whole. */
static int
image_build (const struct pool *p, int ifd, const char *images, const char *key,
             const struct pool_image_request *rq, ctr_error_t *err)
{
  cleanup_free char *tmpname = xasprintf (".%s.new", key);
  cleanup_free char *tmp = xasprintf ("%s/%s", images, tmpname);
  cleanup_free char *rootfs = xasprintf ("%s/rootfs", tmp), *mounted = NULL;
  cleanup_close int tfd = -1;
  const char *ro[] = { "btrfs", "property", "set", "-ts", rootfs, "ro", "true", NULL };
  int interrupted = 0;
  ctr_error_t e2 = NULL;

  if (faccessat (ifd, tmpname, F_OK, AT_SYMLINK_NOFOLLOW) == 0
      && image_remove (p, ifd, images, tmpname, err) < 0)
    return -1;
  if (mkdirat (ifd, tmpname, 0700) < 0)
    return ctr_error (err, errno, "create `%s`", tmp);
  tfd = openat (ifd, tmpname, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (tfd < 0)
    return ctr_error (err, errno, "open `%s`", tmp);
  mounted = xasprintf ("/proc/self/fd/%d/rootfs", tfd);
  ctr_log_debug ("pool `%s`: building the base `%s`", p->name, key);
  /* (the directory `.KEY.new`, made first, is the record of the LV made next) */
  if (image_root (p, ifd, tfd, rootfs, key, rq->size, err) < 0
      || template_run (rq->tpath, rq->tname, rq->name, tmp, rq->args, &interrupted, err) < 0
      || write_file_at (tfd, "name", rq->name, strlen (rq->name), 0600, err) < 0
      || (p->type == POOL_BTRFS && pool_run_tool (ro, NULL, ifd, err) < 0)
      || (p->type == POOL_LVM && image_lv_seal (p, key, mounted, rootfs, err) < 0))
    {
      if (image_remove (p, ifd, images, tmpname, &e2) < 0)
        ctr_error_print (&e2);
      return -1;
    }
  if (renameat2 (ifd, tmpname, ifd, key, RENAME_NOREPLACE) < 0)
    return ctr_error (err, errno, "rename `%s`", tmp);
  return 0;
}

/* The container's own /etc/machine-id (the one in the base was written once for all):
   a new random id where the base has a non-empty one (empty means "make one at boot"). */
static void
renew_machine_id (int dfd)
{
  cleanup_close int rootfd = openat (dfd, "rootfs", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  cleanup_close int etc = -1, fd = -1;
  unsigned char id[16];
  char hex[34];
  struct stat st;

  if (rootfd < 0 || (etc = resolve_in_root (rootfd, "/etc", O_PATH | O_DIRECTORY, 0)) < 0)
    return;
  fd = openat (etc, "machine-id", O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size == 0)
    return;
  if (getrandom (id, sizeof id, 0) != sizeof id)
    return;
  for (size_t i = 0; i < sizeof id; i++)
    snprintf (hex + 2 * i, 3, "%02x", id[i]);
  hex[32] = '\n';
  if (ftruncate (fd, 0) < 0 || pwrite (fd, hex, 33, 0) != 33)
    ctr_log_warning ("could not write a new /etc/machine-id: %s", strerror (errno));
}

/* The container's own name in its /etc/hosts where the base's says the name it was built
   for (a whole word: `127.0.1.1 NAME`); the monitor writes the file again at each start
   on a network, not with `--net none`. Reached inside the root, a plain file only. */
static void
rename_etc_hosts (int dfd, const char *old, const char *new)
{
  cleanup_close int rootfd = openat (dfd, "rootfs", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  cleanup_close int etc = -1, fd = -1;
  cleanup_free char *text = NULL, *out = NULL;
  size_t olen = strlen (old), nlen = strlen (new), len = 0, n = 0;
  struct stat st;

  if (rootfd < 0 || (etc = resolve_in_root (rootfd, "/etc", O_PATH | O_DIRECTORY, 0)) < 0)
    return;
  fd = openat (etc, "hosts", O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size > 65536)
    return;
  text = xzalloc (st.st_size + 1);
  if (pread (fd, text, st.st_size, 0) != st.st_size)
    return;
  out = xzalloc ((size_t)st.st_size * (nlen + 1) + 1);
  for (size_t i = 0; i < (size_t)st.st_size;)
    {
      bool start = i == 0 || strchr (" \t\n", text[i - 1]);
      if (start && strncmp (text + i, old, olen) == 0 && strchr (" \t\n", text[i + olen]))
        {
          memcpy (out + len, new, nlen), len += nlen, i += olen, n++;
          continue;
        }
      out[len++] = text[i++];
    }
  if (n && (ftruncate (fd, 0) < 0 || pwrite (fd, out, len, 0) != (ssize_t)len))
    ctr_log_warning ("could not write the new name to /etc/hosts: %s", strerror (errno));
}

int
pool_image_volume (const char *store, const struct pool *p, const struct pool_image_request *rq,
                   int dfd, const char *dirpath, char **built_for, ctr_error_t *err)
{
  cleanup_free char *key = image_key (rq->tname, rq->args, p->type == POOL_LVM ? rq->size : NULL);
  cleanup_free char *parent = NULL, *sub = NULL, *images = images_path (store, p, &parent, &sub);
  cleanup_free char *base = base_id (p, images, key);
  cleanup_free char *text = NULL;
  cleanup_close int ifd = -1, kfd = -1;
  size_t len;

  ifd = images_open (store, p, true, err);
  if (ifd < 0)
    return -1;
  kfd = openat (ifd, key, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (kfd < 0)
    {
      if (image_build (p, ifd, images, key, rq, err) < 0)
        return -1;
      kfd = openat (ifd, key, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (kfd < 0)
        return ctr_error (err, errno, "open `%s/%s`", images, key);
    }
  if (read_file_at (kfd, TEMPLATE_CONF, TEMPLATE_CONF_MAX, &text, &len, err) < 0
      || write_file_at (dfd, TEMPLATE_CONF, text, len, 0600, err) < 0
      || read_file_at (kfd, "name", 1024, built_for, &len, err) < 0)
    return ctr_error_wrap (err, "pool `%s`: base `%s`", p->name, key);
  /* the record naming the base is written before the lock goes */
  return pool_volume_create (p, dfd, dirpath, rq->name, NULL, base, err);
}

void
pool_image_personalize (int dfd, const char *built_for, const char *name)
{
  renew_machine_id (dfd);
  rename_etc_hosts (dfd, built_for, name);
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* The entries of the store (staging directories too) whose volume starts from base. */
static char **
base_users (const char *store, const char *base)
{
  ctr_error_t e = NULL;
  cleanup_close int rootfd = owned_dir_open (store, "store", OWNED_DIR_MISSING_OK, &e);
  cleanup_dir DIR *d = NULL;
  char **out = xzalloc (sizeof *out);
  size_t n = 0;
  struct dirent *de;

  ctr_error_free (&e);
  if (rootfd < 0 || (d = fdopendir (dup (rootfd))) == NULL)
    return out;
  while ((de = readdir (d)) != NULL)
    {
      cleanup_close int fd = -1;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      fd = openat (rootfd, de->d_name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 || !pool_volume_uses_base (fd, base))
        continue;
      out = xrealloc (out, (n + 2) * sizeof *out);
      out[n++] = xstrdup (de->d_name);
      out[n] = NULL;
    }
  qsort (out, n, sizeof *out, compare_strings);
  return out;
}

static int
compare_images (const void *a, const void *b)
{
  return strcmp (((const struct pool_image *)a)->key, ((const struct pool_image *)b)->key);
}

/* The bytes of the thin volume vglv's blocks (size times data%), 0 when unknown. */
static uint64_t
lv_used (const char *vglv)
{
  const char *argv[]
      = { "lvs", "--noheadings",         "--units", "b", "--nosuffix", "--separator", ";",
          "-o",  "lv_size,data_percent", vglv,      NULL };
  cleanup_free char *text = NULL;
  unsigned long long size = 0;
  double pct = 0;
  ctr_error_t e = NULL;

  if (pool_run_tool (argv, &text, -1, &e) < 0)
    {
      ctr_error_free (&e);
      return 0;
    }
  if (sscanf (text, " %llu;%lf", &size, &pct) != 2)
    return 0;
  return (uint64_t)(size * pct / 100.0);
}

/* The bases in ifd (leftovers of killed builds, `.KEY.new`, with stale set). */
static void
images_scan (const char *store, const struct pool *p, int ifd, const char *images,
             struct pool_image **out, size_t *n, bool with_stale)
{
  cleanup_dir DIR *d = fdopendir (dup (ifd));
  struct dirent *de;

  *out = NULL;
  *n = 0;
  while (d && (de = readdir (d)) != NULL)
    {
      bool stale = de->d_name[0] == '.';
      cleanup_free char *base = NULL;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0 || (stale && !with_stale))
        continue;
      base = base_id (p, images, de->d_name);
      *out = xrealloc (*out, (*n + 1) * sizeof **out);
      (*out)[*n].key = xstrdup (de->d_name);
      /* (a btrfs subvolume is a device of its own: the walk starts in it) */
      (*out)[*n].size = p->type == POOL_LVM ? lv_used (base) : pool_tree_size (base);
      (*out)[*n].users = stale ? xzalloc (sizeof (char *)) : base_users (store, base);
      (*n)++;
    }
  if (*n)
    qsort (*out, *n, sizeof **out, compare_images);
}

/* The bases of p with their users (half-made ones too with prune), its images directory
   open and locked in *ifd and its path in *images; nothing when p shares none or has none. */
static int
images_load (const char *store, const struct pool *p, bool prune, int *ifd, char **images,
             char **parent, char **sub, struct pool_image **out, size_t *n, ctr_error_t *err)
{
  *out = NULL;
  *n = 0;
  *ifd = -1;
  if (!pool_image_shared (p))
    return 0;
  *images = images_path (store, p, parent, sub);
  *ifd = images_open (store, p, false, err);
  if (*ifd == OWNED_DIR_MISSING)
    {
      *ifd = -1;
      return 0;
    }
  if (*ifd < 0)
    return -1;
  images_scan (store, p, *ifd, *images, out, n, prune);
  return 0;
}

int
pool_image_list (const char *store, const struct pool *p, struct pool_image **out, size_t *n,
                 ctr_error_t *err)
{
  cleanup_free char *images = NULL, *parent = NULL, *sub = NULL;
  cleanup_close int ifd = -1;
  return images_load (store, p, false, &ifd, &images, &parent, &sub, out, n, err);
}

void
pool_image_list_free (struct pool_image *l, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (l[i].key);
      strv_free (l[i].users);
    }
  free (l);
}

int
pool_image_prune (const char *store, const struct pool *p, bool all, char ***removed,
                  ctr_error_t *err)
{
  cleanup_free char *images = NULL, *parent = NULL, *sub = NULL;
  cleanup_close int ifd = -1, pfd = -1;
  struct pool_image *l = NULL;
  size_t n = 0, k = 0;
  int r = 0;

  if (removed)
    *removed = xzalloc (sizeof (char *));
  if (images_load (store, p, true, &ifd, &images, &parent, &sub, &l, &n, err) < 0)
    return -1;
  if (ifd < 0)
    return 0;
  for (size_t i = 0; all && i < n && r == 0; i++)
    if (l[i].users[0])
      {
        cleanup_free char *who = xstrv_join (l[i].users, ", ");
        r = ctr_error (err, 0, "base `%s` is used by: %s", l[i].key, who);
      }
  for (size_t i = 0; i < n && r == 0; i++)
    {
      if (l[i].users[0])
        continue;
      r = image_remove (p, ifd, images, l[i].key, err);
      if (r == 0 && removed && l[i].key[0] != '.')
        {
          *removed = xrealloc (*removed, (k + 2) * sizeof (char *));
          (*removed)[k++] = xstrdup (l[i].key);
          (*removed)[k] = NULL;
        }
    }
  pool_image_list_free (l, n);
  if (r == 0 && all)
    {
      pfd = open (parent, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (pfd < 0 || unlinkat (pfd, sub, AT_REMOVEDIR) < 0)
        r = ctr_error (err, errno, "remove `%s`", images);
    }
  return r;
}
