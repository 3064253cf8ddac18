/* idmap_shift: an unprivileged container's rootfs on a filesystem that cannot be idmapped
   (overlayfs, NFS): the one-time chown of its tree into the container's range and back. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/capability.h>

#include "base/log.h"
#include "base/util.h"
#include "namespaces/namespaces.h"
#include "system/idmap_shift.h"
#include "system/pool_volume.h"

#define CAPS_XATTR "security.capability"

int
idmap_probe (const char *rootfs, ctr_error_t *err)
{
  struct oci_id_mapping one = { .container_id = 0, .host_id = 1000000, .size = 1 };
  cleanup_close int tree = -1, userns = -1;
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };

  tree = open_tree (AT_FDCWD, rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0)
    return ctr_error (err, errno, "rootfs `%s`", rootfs);
  userns = ns_userns_fd_with_maps (&one, 1, &one, 1, err);
  if (userns < 0)
    return -1;
  attr.userns_fd = (uint64_t)userns;
  if (mount_setattr (tree, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0)
    return 1;
  if (errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)
    return 0;
  return ctr_error (err, errno, "rootfs `%s`: idmap", rootfs);
}

struct shift
{
  struct idmap_shift_req r;
  const char *top; /* for messages */
};

static bool
in_range (uint32_t id, uint32_t from, uint32_t count)
{
  return id >= from && id - from < count;
}

/* File capabilities: chown drops them. Written back as version 3 with the new owner of
   root as their root id (a version 2 one means host root, which the container does not
   map), and as version 2 again when shifted back to 0. */
static void
caps_restore (int fd, const char *value, ssize_t len, uid_t rootid)
{
  struct vfs_ns_cap_data c = { 0 };
  if (len < (ssize_t)sizeof (struct vfs_cap_data))
    return;
  memcpy (&c, value, sizeof (struct vfs_cap_data));
  c.magic_etc = (c.magic_etc & VFS_CAP_FLAGS_EFFECTIVE)
                | (rootid ? VFS_CAP_REVISION_3 : VFS_CAP_REVISION_2);
  c.rootid = rootid;
  fsetxattr (fd, CAPS_XATTR, &c, rootid ? sizeof c : sizeof (struct vfs_cap_data), 0);
}

static int
shift_entry (struct shift *s, int dirfd, const char *name, const struct stat *st, ctr_error_t *err)
{
  uid_t u = st->st_uid;
  gid_t g = st->st_gid;
  char caps[sizeof (struct vfs_ns_cap_data)];
  ssize_t caps_len = -1;
  cleanup_close int fd = -1;

  if (in_range (u, s->r.from_uid, s->r.count))
    u = s->r.to_uid + (u - s->r.from_uid);
  if (in_range (g, s->r.from_gid, s->r.count))
    g = s->r.to_gid + (g - s->r.from_gid);
  if (u == st->st_uid && g == st->st_gid)
    return 0;
  if (S_ISREG (st->st_mode))
    {
      fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      if (fd >= 0)
        caps_len = fgetxattr (fd, CAPS_XATTR, caps, sizeof caps);
    }
  if (fd >= 0 ? fchown (fd, u, g) < 0 : fchownat (dirfd, name, u, g, AT_SYMLINK_NOFOLLOW) < 0)
    return ctr_error (err, errno, "shift the owner of `%s/.../%s`", s->top, name);
  /* chown clears setuid and setgid: they are the file's, not the owner's */
  if (!S_ISLNK (st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID))
      && (fd >= 0 ? fchmod (fd, st->st_mode & 07777)
                  : fchmodat (dirfd, name, st->st_mode & 07777, 0))
             < 0)
    return ctr_error (err, errno, "keep the mode of `%s/.../%s`", s->top, name);
  if (caps_len > 0)
    caps_restore (fd, caps, caps_len, in_range (0, s->r.from_uid, s->r.count) ? s->r.to_uid : 0);
  return 0;
}

/* Depth first, never through a symlink, never onto another filesystem (a mount under the
   rootfs is not the rootfs's). */
static int
shift_dir (struct shift *s, int fd, dev_t dev, int depth, ctr_error_t *err)
{
  cleanup_dir DIR *d = fdopendir (fcntl (fd, F_DUPFD_CLOEXEC, 0));
  struct dirent *de;

  if (d == NULL)
    return ctr_error (err, errno, "read `%s`", s->top);
  if (depth > 256)
    return ctr_error (err, ELOOP, "`%s`: deeper than 256 directories", s->top);
  while ((de = readdir (d)) != NULL)
    {
      struct stat st;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fstatat (fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return ctr_error (err, errno, "stat `%s/.../%s`", s->top, de->d_name);
      if (st.st_dev != dev)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          cleanup_close int sub
              = openat (fd, de->d_name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0 || shift_dir (s, sub, dev, depth + 1, err) < 0)
            return sub < 0 ? ctr_error (err, errno, "open `%s/.../%s`", s->top, de->d_name) : -1;
        }
      if (shift_entry (s, fd, de->d_name, &st, err) < 0)
        return -1;
    }
  return 0;
}

int
idmap_shift_tree (int rootfd, const char *path, const struct idmap_shift_req *r, ctr_error_t *err)
{
  struct shift s = { .r = *r, .top = path };
  struct stat st;

  if (fstat (rootfd, &st) < 0)
    return ctr_error (err, errno, "stat `%s`", path);
  /* the ranges never overlap (root's subordinate ids start above 65535): an id already
     shifted is not shifted again, so an interrupted shift is finished by the next one */
  if (shift_dir (&s, rootfd, st.st_dev, 0, err) < 0)
    return -1;
  return shift_entry (&s, rootfd, ".", &st, err);
}

/* The container's tree: its pool's volume (where `rootfs` is a link to it) or its own. */
static int
open_rootfs (int dirfd, const char *dirpath)
{
  cleanup_free char *vol = pool_volume_rootfs (dirfd, dirpath);
  cleanup_free char *own = xasprintf ("%s/rootfs", dirpath);
  if (strcmp (vol, own) != 0)
    return open (vol, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  return openat (dirfd, "rootfs", O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* The range as a volume records it (pool_mapped.h). */
static char *
range_text (const struct store_meta *m)
{
  return xasprintf ("%u:%u:%u", (unsigned)m->idmap_uid, (unsigned)m->idmap_gid,
                    (unsigned)m->idmap_count);
}

int
idmap_shift_rootfs (int dirfd, const char *dirpath, struct store_meta *m, bool back,
                    ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/rootfs", dirpath);
  cleanup_close int fd = -1;
  struct idmap_shift_req r = { 0, 0, m->idmap_uid, m->idmap_gid, m->idmap_count };
  int ok;

  if (m->idmap_count == 0 || (back && !m->idmap_shifted))
    return 0;
  /* an overlay volume: its layers idmapped, its files unchanged (docs/storage.md) */
  if (!m->idmap_shifted || back)
    {
      cleanup_free char *mapped = back ? NULL : range_text (m);
      ok = pool_volume_map (dirfd, mapped, back, err);
      if (ok != 0)
        {
          if (ok > 0)
            m->idmap_shifted = !back;
          return ok < 0 ? -1 : 0;
        }
    }
  if (!back && !m->idmap_shifted)
    {
      ok = idmap_probe (path, err);
      if (ok != 0)
        return ok < 0 ? -1 : 0;
    }
  if (back)
    r = (struct idmap_shift_req){ m->idmap_uid, m->idmap_gid, 0, 0, m->idmap_count };
  fd = open_rootfs (dirfd, dirpath);
  if (fd < 0)
    return ctr_error (err, errno, "rootfs `%s`", path);
  if (!back)
    ctr_log_debug ("`%s` cannot be idmapped: chowning it into %u-%u once", path,
                   (unsigned)m->idmap_uid, (unsigned)(m->idmap_uid + m->idmap_count - 1));
  if (idmap_shift_tree (fd, path, &r, err) < 0)
    return -1;
  m->idmap_shifted = !back;
  return 0;
}

int
idmap_shift_clone (int dirfd, const char *name, const struct store_meta *from,
                   const struct store_meta *to, ctr_error_t *err)
{
  cleanup_free char *mapped = range_text (to);
  int mapped_done = pool_volume_map (dirfd, mapped, true, err);
  if (mapped_done != 0)
    return mapped_done < 0 ? -1 : 0;
  cleanup_close int fd = open_rootfs (dirfd, "");
  struct idmap_shift_req r
      = { from->idmap_uid, from->idmap_gid, to->idmap_uid, to->idmap_gid, to->idmap_count };
  if (fd < 0)
    return ctr_error (err, errno, "clone `%s`: rootfs", name);
  return idmap_shift_tree (fd, name, &r, err);
}
