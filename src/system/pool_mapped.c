/* pool_mapped: see pool_mapped.h. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "namespaces/namespaces.h"
#include "oci/oci.h"
#include "rootfs/idmap.h"
#include "system/pool_mapped.h"

#define MAPPED_DIR "mapped"
#define MAX_LOWERS 64

int
pool_mapped_parse (const char *mapped, unsigned *uid, unsigned *gid, unsigned *count)
{
  char tail;
  if (mapped == NULL || sscanf (mapped, "%u:%u:%u%c", uid, gid, count, &tail) != 3 || *count == 0)
    return -1;
  return 0;
}

int
pool_mapped_unmap (const char *dir, ctr_error_t *err)
{
  cleanup_close int dfd = open (dir, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  char name[32];

  if (dfd < 0)
    return errno == ENOENT ? 0 : ctr_error (err, errno, "open `%s`", dir);
  for (int i = -1; i < MAX_LOWERS; i++)
    {
      if (i < 0)
        snprintf (name, sizeof name, "%s", MAPPED_DIR);
      else
        snprintf (name, sizeof name, "lower.%d", i);
      while (is_mountpoint_at (dfd, name))
        {
          cleanup_free char *p = xasprintf ("%s/%s", dir, name);
          if (umount2 (p, UMOUNT_NOFOLLOW) < 0 && umount2 (p, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
            return ctr_error (err, errno, "unmount `%s`", p);
        }
      if (i >= 0 && unlinkat (dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return ctr_error (err, errno, "remove `%s/%s`", dir, name);
    }
  return 0;
}

/* Host root is the id just past the range: overlayfs works in its upper with the mounter's
   credentials (its work directory, a copy-up's first steps), which the idmapped upper must
   be able to write down; the container's own files keep their ids (a copy-up and a new
   file get their owner's). */
int
pool_mapped_userns (unsigned uid, unsigned gid, unsigned count, ctr_error_t *err)
{
  struct oci_id_mapping u[2] = { { 0, uid, count }, { count, 0, 1 } };
  struct oci_id_mapping g[2] = { { 0, gid, count }, { count, 0, 1 } };
  return ns_userns_fd_with_maps (u, 2, g, 2, err);
}

/* src idmapped with userns, attached at <dir>/name (made for it). */
static int
attach (int dfd, const char *dir, const char *src, const char *name, int userns, ctr_error_t *err)
{
  cleanup_close int tree = rootfs_idmap_clone (src, userns, err);
  if (tree < 0)
    return -1;
  if (mkdirat (dfd, name, 0700) < 0 && errno != EEXIST)
    return ctr_error (err, errno, "create `%s/%s`", dir, name);
  if (move_mount (tree, "", dfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return ctr_error (err, errno, "attach the idmapped `%s/%s`", dir, name);
  return 0;
}

int
pool_mapped_overlay (const char *target, const char *dir, const char *data, const char *lowers,
                     int userns, ctr_error_t *err)
{
  cleanup_close int dfd = -1;
  cleanup_free char *copy = xstrdup (lowers), *dirs = xstrdup (""), *opts = NULL;
  char *save = NULL, *one;
  size_t n = 0;

  if (pool_mapped_unmap (dir, err) < 0)
    return -1;
  dfd = open (dir, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return ctr_error (err, errno, "open `%s`", dir);
  for (one = strtok_r (copy, ":", &save); one; one = strtok_r (NULL, ":", &save), n++)
    {
      char name[32];
      char *next;
      if (n >= MAX_LOWERS)
        return ctr_error (err, E2BIG, "more than %d lower layers", MAX_LOWERS);
      snprintf (name, sizeof name, "lower.%zu", n);
      if (attach (dfd, dir, one, name, userns, err) < 0)
        return -1;
      next = xasprintf ("%s%s%s/%s", dirs, *dirs ? ":" : "", dir, name);
      free (dirs);
      dirs = next;
    }
  if (attach (dfd, dir, data, MAPPED_DIR, userns, err) < 0)
    return -1;
  opts = xasprintf ("lowerdir=%s,upperdir=%s/" MAPPED_DIR "/upper,workdir=%s/" MAPPED_DIR "/work",
                    dirs, dir, dir);
  if (mount ("overlay", target, "overlay", 0, opts) < 0)
    return ctr_error (err, errno, "mount overlay (%s) on rootfs", opts);
  return 0;
}

int
pool_mapped_mount (const char *target, const char *path, const char *lowers, const char *mapped,
                   ctr_error_t *err)
{
  cleanup_close int userns = -1;
  unsigned uid, gid, count;

  if (pool_mapped_parse (mapped, &uid, &gid, &count) < 0)
    return ctr_error (err, 0, "volume record: bad id range `%s`", mapped);
  userns = pool_mapped_userns (uid, gid, count, err);
  if (userns < 0)
    return -1;
  return pool_mapped_overlay (target, path, path, lowers, userns, err);
}

char *
pool_mapped_layers (const char *path, const char *lowers)
{
  size_t n = 1;
  char *out = xasprintf ("%s/" MAPPED_DIR "/upper", path);
  for (const char *p = lowers; p && *p; p++)
    n += *p == ':';
  for (size_t i = 0; lowers && *lowers && i < n; i++)
    {
      char *next = xasprintf ("%s:%s/lower.%zu", out, path, i);
      free (out);
      out = next;
    }
  return out;
}
