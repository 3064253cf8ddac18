/* rootfs/cgroupfs: `cgroup`/`cgroup2` config mounts: cgroup2, or a tmpfs of v1 hierarchies
 * (hybrid). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <dirent.h>
#include <unistd.h>
#include <linux/magic.h>

#include "rootfs/cgroupfs.h"
#include "rootfs/context.h"
#include "rootfs/mountinfo.h"
#include "rootfs/mounts.h"
#include "rootfs/paths.h"
#include "base/util.h"

#define HOST_CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

struct cgroup_env
{
  struct rootfs_ctx *ctx;
  const struct mountinfo *mi;
  size_t mi_len;
  char *self_cgroup;   /* /proc/self/cgroup, read when a bind needs it */
  unsigned long flags; /* MS_* for each hierarchy */
};

/* The cgroup path of this process in the hierarchy whose mount has superopts
   (NULL: the v2 "0::" line). */
static char *
own_cgroup_path (const char *self_cgroup, const char *superopts)
{
  cleanup_free char *copy = xstrdup (self_cgroup);
  char *line, *save = NULL;
  for (line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *ctrls = strchr (line, ':'), *path, *tok, *tsave = NULL;
      bool all = true;
      if (ctrls == NULL || (path = strchr (ctrls + 1, ':')) == NULL)
        continue;
      *path++ = '\0';
      ctrls++;
      if (superopts == NULL)
        {
          if (strncmp (line, "0:", 2) == 0 && *ctrls == '\0')
            return xstrdup (path);
          continue;
        }
      if (*ctrls == '\0')
        continue;
      for (tok = strtok_r (ctrls, ",", &tsave); tok; tok = strtok_r (NULL, ",", &tsave))
        all = all && opt_list_has (superopts, tok);
      if (all)
        return xstrdup (path);
    }
  return NULL;
}

/* Host directory of our own cgroup under the hierarchy mounted at h. */
static char *
own_cgroup_dir (struct cgroup_env *env, const struct mountinfo *h, ctr_error_t *err)
{
  bool v2 = strcmp (h->fstype, "cgroup2") == 0;
  cleanup_free char *p = NULL;
  size_t rl = strlen (h->root), len;
  const char *rel;
  if (env->self_cgroup == NULL
      && read_file_at (AT_FDCWD, "/proc/self/cgroup", 1 << 20, &env->self_cgroup, &len, err) < 0)
    return NULL;
  p = own_cgroup_path (env->self_cgroup, v2 ? NULL : h->superopts);
  if (p == NULL)
    return xstrdup (h->mountpoint);
  rel = p;
  if (strcmp (h->root, "/") != 0)
    {
      if (strncmp (p, h->root, rl) != 0 || (p[rl] != '\0' && p[rl] != '/'))
        return xstrdup (h->mountpoint);
      rel = p + rl;
    }
  return xasprintf ("%s%s", h->mountpoint, rel);
}

/* Controllers and name= of a v1 hierarchy, without rw/ro and release_agent. */
static char *
v1_mount_data (const char *superopts)
{
  cleanup_free char *copy = xstrdup (superopts);
  char *tok, *save = NULL, *out = xstrdup (""), *next;
  for (tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    {
      if (strcmp (tok, "rw") == 0 || strcmp (tok, "ro") == 0
          || strncmp (tok, "release_agent=", 14) == 0)
        continue;
      next = *out ? xasprintf ("%s,%s", out, tok) : xstrdup (tok);
      free (out);
      out = next;
    }
  return out;
}

/* Whether a v1 hierarchy holds controllers (cpu, memory...), not only a name= (systemd's
   own `name=systemd` tracking hierarchy has none). */
static bool
v1_has_controllers (const char *superopts)
{
  static const char *const options[] = { "rw",
                                         "ro",
                                         "none",
                                         "xattr",
                                         "noprefix",
                                         "clone_children",
                                         "cpuset_v2_mode",
                                         "favordynmods",
                                         "nofavordynmods",
                                         NULL };
  cleanup_free char *copy = xstrdup (superopts);
  char *tok, *save = NULL;
  for (tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    {
      size_t i;
      if (strncmp (tok, "name=", 5) == 0 || strncmp (tok, "release_agent=", 14) == 0)
        continue;
      for (i = 0; options[i] && strcmp (tok, options[i]) != 0; i++)
        ;
      if (options[i] == NULL)
        return true;
    }
  return false;
}

static int
bind_host_dir (const char *src, const char *target)
{
  cleanup_close int src_fd = open (src, O_PATH | O_DIRECTORY | O_CLOEXEC);
  char buf[FD_PATH_SIZE];
  if (src_fd < 0)
    return -1;
  return mount (fd_path (buf, src_fd), target, NULL, MS_BIND | MS_REC, NULL);
}

/* One hierarchy at <tmpfs>/<name>: a fresh mount when we have our own cgroup namespace
   (the kernel roots it at our cgroup), else a bind of our own cgroup directory. A v1
   hierarchy with controllers stays read-only even in a writable mount, as systemd-nspawn
   mounts them: the files at its top are the container's own limits, which v1, unlike the
   cgroup2 of a cgroup namespace, lets the container's root rewrite; `name=systemd` and
   the cgroup2 `unified` are what an init inside needs to write. The
   tmpfs was mounted by us a moment ago and nothing else runs in this mount namespace:
   the directory just made in it is reached by name below the tmpfs fd. */
static int
mount_hierarchy (struct cgroup_env *env, int tmp_fd, const struct mountinfo *h, ctr_error_t *err)
{
  const char *name = strrchr (h->mountpoint, '/') + 1;
  bool v2 = strcmp (h->fstype, "cgroup2") == 0;
  cleanup_free char *data = v2 ? NULL : v1_mount_data (h->superopts);
  cleanup_free char *src = NULL, *target = NULL;
  cleanup_close int top = -1;
  char buf[FD_PATH_SIZE];
  unsigned long flags = env->flags | (!v2 && v1_has_controllers (h->superopts) ? MS_RDONLY : 0);
  int r = -1;

  if (mkdirat (tmp_fd, name, 0755) < 0 && errno != EEXIST)
    return ctr_error (err, errno, "mkdir cgroup `%s`", name);
  target = xasprintf ("%s/%s", fd_path (buf, tmp_fd), name);
  if (env->ctx->new_cgroupns)
    r = mount (h->fstype, target, h->fstype, flags, data);
  if (r == 0)
    return 0;
  if (env->ctx->new_cgroupns && errno != EPERM && errno != EBUSY)
    return ctr_error (err, errno, "mount %s `%s`", h->fstype, name);
  src = own_cgroup_dir (env, h, err);
  if (src == NULL)
    return -1;
  if (bind_host_dir (src, target) < 0)
    return ctr_error (err, errno, "bind cgroup `%s`", src);
  top = openat (tmp_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (top < 0 || remount_bind (top, flags, 0) < 0)
    return ctr_error (err, errno, "remount cgroup `%s`", src);
  return 0;
}

/* cpu -> cpu,cpuacct and friends, as the host has them. */
static int
copy_cgroup_symlinks (int tmp_fd, ctr_error_t *err)
{
  cleanup_close int dir = open (HOST_CGROUP_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char ents[8192] __attribute__ ((aligned (8)));
  ssize_t n, off;

  if (dir < 0)
    return 0;
  while ((n = getdents64 (dir, ents, sizeof ents)) > 0)
    for (off = 0; off < n;)
      {
        struct dirent64 *de = (struct dirent64 *)(ents + off);
        char target[256];
        ssize_t len;
        off += de->d_reclen;
        if (de->d_type != DT_LNK)
          continue;
        len = readlinkat (dir, de->d_name, target, sizeof target - 1);
        if (len < 0)
          continue;
        target[len] = '\0';
        if (symlinkat (target, tmp_fd, de->d_name) < 0 && errno != EEXIST)
          return ctr_error (err, errno, "symlink cgroup `%s`", de->d_name);
      }
  return 0;
}

static bool
is_host_hierarchy (const struct mountinfo *m)
{
  const char *slash = strrchr (m->mountpoint, '/');
  if (strcmp (m->fstype, "cgroup") != 0 && strcmp (m->fstype, "cgroup2") != 0)
    return false;
  return slash && slash[1] && (size_t)(slash - m->mountpoint) == strlen (HOST_CGROUP_ROOT)
         && strncmp (m->mountpoint, HOST_CGROUP_ROOT, slash - m->mountpoint) == 0;
}

/* Later mounts on the same mountpoint hide earlier ones: only the last one counts. */
static bool
is_hidden (const struct mountinfo *mi, size_t len, size_t i)
{
  size_t j;
  for (j = i + 1; j < len; j++)
    if (strcmp (mi[j].mountpoint, mi[i].mountpoint) == 0)
      return true;
  return false;
}

static int
mount_cgroup_v1 (struct cgroup_env *env, const char *path, int dst_fd, const struct mount_opts *o,
                 ctr_error_t *err)
{
  struct rootfs_ctx *ctx = env->ctx;
  cleanup_close int tmp_fd = -1;
  size_t i;

  if (mount_on_fd ("tmpfs", dst_fd, "tmpfs", CGROUP_FLAGS, "mode=755") < 0)
    return ctr_error (err, errno, "mount tmpfs for cgroup hierarchies");
  tmp_fd = reopen_mounted (ctx->rootfs_fd, path, dst_fd, err);
  if (tmp_fd < 0)
    return -1;
  for (i = 0; i < env->mi_len; i++)
    if (is_host_hierarchy (&env->mi[i]) && !is_hidden (env->mi, env->mi_len, i)
        && mount_hierarchy (env, tmp_fd, &env->mi[i], err) < 0)
      return -1;
  if (copy_cgroup_symlinks (tmp_fd, err) < 0)
    return -1;
  /* read-only also in a writable mount, as systemd-nspawn leaves it: an init that finds
     the tmpfs writable makes directories and links in it for hierarchies it then cannot
     mount */
  if (mount_on_fd (NULL, tmp_fd, NULL, MS_REMOUNT | MS_RDONLY | CGROUP_FLAGS, NULL) < 0)
    return ctr_error (err, errno, "remount cgroup tmpfs read-only");
  return mount_apply_post (tmp_fd, o, err);
}

/* A fresh cgroup2 made detached (fsopen, fsmount) and moved onto dst_fd. mount(2) refuses
   one where the same filesystem already sits at the root of the mount on dst (EBUSY): a
   rootless /sys is an rbind of the host's, which brings the host's cgroup2 along, locked
   in place; move_mount does not refuse. -1 with errno set. */
static int
mount_cgroup2_detached (unsigned long flags, const char *data, int dst_fd)
{
  cleanup_close int fs = -1, mnt = -1;
  cleanup_free char *copy = data ? xstrdup (data) : NULL;
  struct mount_attr attr;
  char *tok, *save = NULL;

  fs = fsopen ("cgroup2", FSOPEN_CLOEXEC);
  if (fs < 0 || fsconfig (fs, FSCONFIG_SET_STRING, "source", "cgroup2", 0) < 0)
    return -1;
  for (tok = copy ? strtok_r (copy, ",", &save) : NULL; tok; tok = strtok_r (NULL, ",", &save))
    {
      char *eq = strchr (tok, '=');
      if (eq)
        *eq++ = '\0';
      if (fsconfig (fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, tok, eq, 0) < 0)
        return -1;
    }
  if (fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return -1;
  mount_attrs_of_flags (flags, 0, &attr);
  mnt = fsmount (fs, FSMOUNT_CLOEXEC, (unsigned int)attr.attr_set);
  if (mnt < 0)
    return -1;
  return move_mount (mnt, "", dst_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

/* cgroup2: a fresh mount; without the rights for one (a user namespace without its own
   cgroup namespace) a bind of our own cgroup directory, as runc does. */
static int
mount_cgroup_v2 (struct cgroup_env *env, const char *path, int dst_fd, const struct mount_opts *o,
                 ctr_error_t *err)
{
  cleanup_close int new_fd = -1;
  const struct mountinfo *h = NULL;
  cleanup_free char *src = NULL;
  struct mount_opts bind_opts = *o;
  size_t i;

  if (mount_on_fd ("cgroup2", dst_fd, "cgroup2", env->flags, o->data) == 0
      || (errno == EBUSY && mount_cgroup2_detached (env->flags, o->data, dst_fd) == 0))
    {
      if (!o->propagation_len && !o->attr_set && !o->attr_clr)
        return 0;
      new_fd = reopen_mounted (env->ctx->rootfs_fd, path, dst_fd, err);
      return new_fd < 0 ? -1 : mount_apply_post (new_fd, o, err);
    }
  if (errno != EPERM && errno != EBUSY)
    return ctr_error (err, errno, "mount cgroup2");
  if (rootfs_mountinfo (env->ctx, &env->mi, &env->mi_len, err) < 0)
    return -1;
  for (i = 0; i < env->mi_len; i++)
    if (strcmp (env->mi[i].fstype, "cgroup2") == 0)
      h = &env->mi[i];
  if (h == NULL)
    return ctr_error (err, EPERM, "mount cgroup2 (and no host cgroup2 mount to bind)");
  src = own_cgroup_dir (env, h, err);
  if (src == NULL)
    return -1;
  bind_opts.flags = env->flags | MS_BIND | MS_REC;
  bind_opts.data = NULL;
  return mount_bind (env->ctx, src, path, &bind_opts, err);
}

int
mount_cgroup (struct rootfs_ctx *ctx, const char *path, int dst_fd, bool v2_requested,
              const struct mount_opts *o, ctr_error_t *err)
{
  struct cgroup_env env = { .ctx = ctx };
  struct statfs sf;
  int r;

  env.flags = (o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) | CGROUP_FLAGS;
  if (v2_requested || (statfs (HOST_CGROUP_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC))
    r = mount_cgroup_v2 (&env, path, dst_fd, o, err);
  else if (rootfs_mountinfo (ctx, &env.mi, &env.mi_len, err) < 0)
    r = -1;
  else
    r = mount_cgroup_v1 (&env, path, dst_fd, o, err);
  free (env.self_cgroup);
  return r;
}
