/* pool_image: a pool's read-only bases (as LXD's image volumes). <pool>/.images/KEY/ holds
   a template's tree, made once per pool, template and options: rootfs/ (a directory, or in
   a btrfs pool a subvolume made read-only), template.conf and the name it was built for.
   Each container's volume starts from it: an overlay upper over it, a btrfs snapshot of
   it, a `cp --reflink=auto` of it. A base is used by the containers whose volume record
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
   volume is always over a base; rootless, its mount is refused.) */
bool
pool_image_shared (const struct pool *p)
{
  if (strcmp (p->name, POOL_DEFAULT) == 0 || p->type == POOL_LVM)
    return false;
  return p->type == POOL_OVERLAY || !is_rootless ();
}

/* The key of a template's base: the template and a hash of its options (FNV-1a). */
static char *
image_key (const char *tname, char **args)
{
  uint64_t h = 14695981039346656037ULL;
  for (char **a = args; a && *a; a++)
    for (const char *c = *a;; c++)
      {
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
        if (*c == '\0')
          break;
      }
  return xasprintf ("%s-%016llx", tname, (unsigned long long)h);
}

/* <pool>/.images, locked (made when missing with create); OWNED_DIR_MISSING without. */
static int
images_open (const struct pool *p, bool create, ctr_error_t *err)
{
  cleanup_free char *images = xasprintf ("%s/" IMAGES, p->path);
  cleanup_close int pfd
      = owned_dir_open (p->path, "pool path", create ? 0 : OWNED_DIR_MISSING_OK, err);
  int fd;

  if (pfd == OWNED_DIR_MISSING)
    return OWNED_DIR_MISSING;
  if (pfd < 0)
    return ctr_error_wrap (err, "pool `%s`", p->name);
  if (create && mkdirat (pfd, IMAGES, 0700) < 0 && errno != EEXIST)
    return ctr_error (err, errno, "create `%s`", images);
  if (!create && faccessat (pfd, IMAGES, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
    return OWNED_DIR_MISSING;
  fd = owned_subdir_open (pfd, IMAGES, images, "pool images", err);
  if (fd >= 0 && flock (fd, LOCK_EX) < 0)
    {
      close (fd);
      return ctr_error (err, errno, "lock `%s`", images);
    }
  return fd;
}

/* Removes the base (or half-made base) name of the images directory ifd at images: its
   rootfs first when that is a btrfs subvolume (read-only ones too), then the rest. */
static int
image_remove (int ifd, const char *images, const char *name, ctr_error_t *err)
{
  cleanup_free char *rootfs = xasprintf ("%s/%s/rootfs", images, name);
  cleanup_close int kfd = openat (ifd, name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct statfs sfs;
  struct stat st;

  if (kfd >= 0 && fstatat (kfd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode)
      && st.st_ino == BTRFS_SUBVOL_INO && fstatfs (kfd, &sfs) == 0
      && sfs.f_type == BTRFS_SUPER_MAGIC)
    {
      const char *argv[] = { "btrfs", "-q", "subvolume", "delete", rootfs, NULL };
      if (pool_run_tool (argv, NULL, err) < 0)
        return -1;
    }
  return remove_tree_at (ifd, name, err);
}

/* Builds the base key in the locked images directory ifd: in `.KEY.new` (what a killed
   build left there is removed first: no one builds without the lock), renamed when whole. */
static int
image_build (const struct pool *p, int ifd, const char *images, const char *key, const char *tpath,
             const char *tname, char **args, const char *name, ctr_error_t *err)
{
  cleanup_free char *tmpname = xasprintf (".%s.new", key);
  cleanup_free char *tmp = xasprintf ("%s/%s", images, tmpname);
  cleanup_free char *rootfs = xasprintf ("%s/rootfs", tmp);
  cleanup_close int tfd = -1;
  const char *create[] = { "btrfs", "-q", "subvolume", "create", rootfs, NULL };
  const char *ro[] = { "btrfs", "property", "set", "-ts", rootfs, "ro", "true", NULL };
  int interrupted = 0;
  ctr_error_t e2 = NULL;

  if (faccessat (ifd, tmpname, F_OK, AT_SYMLINK_NOFOLLOW) == 0
      && image_remove (ifd, images, tmpname, err) < 0)
    return -1;
  if (mkdirat (ifd, tmpname, 0700) < 0)
    return ctr_error (err, errno, "create `%s`", tmp);
  tfd = openat (ifd, tmpname, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (tfd < 0)
    return ctr_error (err, errno, "open `%s`", tmp);
  ctr_log_debug ("pool `%s`: building the base `%s`", p->name, key);
  if ((p->type == POOL_BTRFS
           ? pool_run_tool (create, NULL, err)
           : (mkdirat (tfd, "rootfs", 0755) < 0 ? ctr_error (err, errno, "create `%s`", rootfs)
                                                : 0))
          < 0
      || template_run (tpath, tname, name, tmp, args, &interrupted, err) < 0
      || write_file_at (tfd, "name", name, strlen (name), 0600, err) < 0
      || (p->type == POOL_BTRFS && pool_run_tool (ro, NULL, err) < 0))
    {
      if (image_remove (ifd, images, tmpname, &e2) < 0)
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

int
pool_image_volume (const struct pool *p, const char *tpath, const char *tname, char **args,
                   const char *name, int dfd, const char *dirpath, char **built_for,
                   ctr_error_t *err)
{
  cleanup_free char *key = image_key (tname, args), *images = xasprintf ("%s/" IMAGES, p->path);
  cleanup_free char *base = xasprintf ("%s/%s/rootfs", images, key);
  cleanup_free char *text = NULL;
  cleanup_close int ifd = -1, kfd = -1;
  size_t len;

  ifd = images_open (p, true, err);
  if (ifd < 0)
    return -1;
  kfd = openat (ifd, key, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (kfd < 0)
    {
      if (image_build (p, ifd, images, key, tpath, tname, args, name, err) < 0)
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
  if (pool_volume_create (p, dfd, dirpath, name, NULL, base, err) < 0)
    return -1;
  renew_machine_id (dfd);
  return 0;
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

/* The bases in ifd (leftovers of killed builds, `.KEY.new`, with stale set). */
static void
images_scan (const char *store, int ifd, const char *images, struct pool_image **out, size_t *n,
             bool with_stale)
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
      base = xasprintf ("%s/%s/rootfs", images, de->d_name);
      *out = xrealloc (*out, (*n + 1) * sizeof **out);
      (*out)[*n].key = xstrdup (de->d_name);
      (*out)[*n].size = pool_tree_size (base); /* (a btrfs subvolume is a device of its own) */
      (*out)[*n].users = stale ? xzalloc (sizeof (char *)) : base_users (store, base);
      (*n)++;
    }
  if (*n)
    qsort (*out, *n, sizeof **out, compare_images);
}

int
pool_image_list (const char *store, const struct pool *p, struct pool_image **out, size_t *n,
                 ctr_error_t *err)
{
  cleanup_free char *images = NULL;
  cleanup_close int ifd = -1;

  *out = NULL;
  *n = 0;
  if (!pool_image_shared (p))
    return 0;
  images = xasprintf ("%s/" IMAGES, p->path);
  ifd = images_open (p, false, err);
  if (ifd == OWNED_DIR_MISSING)
    return 0;
  if (ifd < 0)
    return -1;
  images_scan (store, ifd, images, out, n, false);
  return 0;
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
  cleanup_free char *images = NULL;
  cleanup_close int ifd = -1, pfd = -1;
  struct pool_image *l = NULL;
  size_t n = 0, k = 0;
  int r = 0;

  if (removed)
    *removed = xzalloc (sizeof (char *));
  if (!pool_image_shared (p))
    return 0;
  images = xasprintf ("%s/" IMAGES, p->path);
  ifd = images_open (p, false, err);
  if (ifd == OWNED_DIR_MISSING)
    return 0;
  if (ifd < 0)
    return -1;
  images_scan (store, ifd, images, &l, &n, true);
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
      r = image_remove (ifd, images, l[i].key, err);
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
      pfd = open (p->path, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (pfd < 0 || unlinkat (pfd, IMAGES, AT_REMOVEDIR) < 0)
        r = ctr_error (err, errno, "remove `%s`", images);
    }
  return r;
}
