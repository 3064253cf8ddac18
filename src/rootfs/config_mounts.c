/* config_mounts: the config's mounts[] (bind, tmpfs, proc, sysfs, mqueue, cgroup, others),
   each by its type, onto the destinations mounts.c resolves. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "rootfs/cgroupfs.h"
#include "rootfs/config_mounts.h"
#include "rootfs/copyup.h"
#include "rootfs/idmap.h"
#include "rootfs/mountopts.h"
#include "rootfs/mounts.h"
#include "rootfs/paths.h"

/* A copy of the directory under the new tmpfs (tmpcopyup), and its mode when the config
   gives none, as runc does: the mount should look like the directory it covers. */
static int
tmpfs_fill (int lower_fd, int new_fd, const struct stat *old, const struct mount_opts *o,
            ctr_error_t *err)
{
  cleanup_close int upper = openat (new_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (upper < 0)
    return ctr_error (err, errno, "open new tmpfs");
  if (!(o->data && strstr (o->data, "mode=")) && fchmod (upper, old->st_mode & 07777) < 0)
    return ctr_error (err, errno, "chmod new tmpfs");
  if (lower_fd >= 0 && copy_tree (lower_fd, upper, 0, err) < 0)
    return ctr_error_wrap (err, "tmpcopyup");
  return 0;
}

static int
mount_tmpfs (struct rootfs_ctx *ctx, const char *source, const char *dest,
             const struct mount_opts *o, ctr_error_t *err)
{
  cleanup_close int new_fd = -1, lower = -1;
  cleanup_mount_dest struct mount_dest d = { .fd = -1 };
  struct stat st;
  bool mode_given = o->data && strstr (o->data, "mode=");
  bool fill = false, rw_first;
  unsigned long flags = o->flags;

  if (mount_dest_open (ctx, dest, true, false, -1, &d, err) < 0)
    return -1;
  /* as runc: a read-only /dev is mounted writable, for its devices, pts and console, and
     turned read-only at the end (rootfs_finalize) */
  if ((flags & MS_RDONLY) && d.where && strcmp (d.where, "/dev") == 0)
    {
      flags &= ~MS_RDONLY;
      ctx->dev_readonly = true;
    }
  /* a tmpfs over an existing directory takes its mode (unless given) and, with tmpcopyup,
     its content, filled in before the tmpfs turns read-only */
  if (!d.created && (o->tmpcopyup || !mode_given))
    fill = fstat (d.fd, &st) == 0 && S_ISDIR (st.st_mode);
  if (fill && o->tmpcopyup)
    {
      lower = openat (d.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (lower < 0)
        return ctr_error (err, errno, "open `%s` for tmpcopyup", dest);
    }
  rw_first = (flags & MS_RDONLY) && fill;
  if (rw_first)
    flags &= ~MS_RDONLY;
  if (mount_on_fd (source ? source : "tmpfs", d.fd, "tmpfs", flags, o->data) < 0)
    return ctr_error (err, errno, "mount tmpfs");
  if (d.where && strcmp (d.where, "/dev") == 0)
    ctx->dev_fresh_tmpfs = true;
  if (!fill && !mount_needs_post (o))
    return 0;
  new_fd = reopen_mounted (ctx->rootfs_fd, dest, d.fd, err);
  if (new_fd < 0)
    return -1;
  if (fill && tmpfs_fill (lower, new_fd, &st, o, err) < 0)
    return -1;
  if (rw_first && mount_on_fd (NULL, new_fd, NULL, o->flags | MS_REMOUNT, NULL) < 0)
    return ctr_error (err, errno, "remount tmpfs read-only");
  return mount_apply_post (new_fd, o, err);
}

/* sysfs needs a network namespace of the user namespace; mqueue an ipc one. Without them
   the kernel says EPERM and, like runc, we bind the host's instance instead. */
static const char *
fallback_source (const char *type, int errnum)
{
  struct stat st;
  if (errnum != EPERM && errnum != EBUSY)
    return NULL;
  if (strcmp (type, "sysfs") == 0)
    return "/sys";
  if (strcmp (type, "mqueue") == 0 && stat ("/dev/mqueue", &st) == 0)
    return "/dev/mqueue";
  return NULL;
}

static int
mount_fs (struct rootfs_ctx *ctx, const struct oci_mount *m, const struct mount_opts *o,
          ctr_error_t *err)
{
  cleanup_close int new_fd = -1;
  cleanup_mount_dest struct mount_dest d = { .fd = -1 };
  const char *type = m->type, *fallback;
  bool is_proc = strcmp (type, "proc") == 0;

  if (mount_dest_open (ctx, m->destination, true, is_proc, -1, &d, err) < 0)
    return -1;
  /* as runc: a procfs or sysfs goes only onto a real directory, never through a symlink
     (a /proc -> elsewhere link would put the masks beside it) */
  if (is_proc || strcmp (type, "sysfs") == 0)
    {
      cleanup_free char *plain = path_clean (m->destination);
      struct stat st;
      if (d.where == NULL || strcmp (plain, d.where) != 0 || fstat (d.fd, &st) < 0
          || !S_ISDIR (st.st_mode))
        return ctr_error (err, 0, "a %s mount needs an ordinary directory, and `%s` is not", type,
                          m->destination);
    }
  if (strcmp (type, "cgroup") == 0 || strcmp (type, "cgroup2") == 0)
    return mount_cgroup (ctx, m->destination, d.fd, strcmp (type, "cgroup2") == 0, o, err);
  if (mount_on_fd (m->source ? m->source : type, d.fd, type, o->flags, o->data) < 0)
    {
      int saved = errno;
      struct mount_opts bind_opts = *o;
      if ((fallback = fallback_source (type, saved)) == NULL)
        return ctr_error (err, saved, "mount %s", type);
      bind_opts.flags |= MS_BIND | MS_REC;
      bind_opts.data = NULL;
      return mount_bind (ctx, fallback, m->destination, &bind_opts, err);
    }
  if (!mount_needs_post (o))
    return 0;
  new_fd = reopen_mounted (ctx->rootfs_fd, m->destination, d.fd, err);
  if (new_fd < 0)
    return -1;
  return mount_apply_post (new_fd, o, err);
}

static bool
is_bind_type (const char *type)
{
  return type && (strcmp (type, "bind") == 0 || strcmp (type, "rbind") == 0);
}

/* "/dev", "//dev/", "dev" all name /dev. */
static bool
dest_is (const char *dest, const char *want)
{
  size_t n;
  dest += strspn (dest, "/");
  want += strspn (want, "/");
  n = strlen (want);
  return strncmp (dest, want, n) == 0 && dest[n + strspn (dest + n, "/")] == '\0';
}

static int
mount_one (struct rootfs_ctx *ctx, size_t index, bool *dev_bound, ctr_error_t *err)
{
  const struct oci_mount *m = &ctx->config->mounts[index];
  struct mount_opts o;
  int r;

  if (m->destination == NULL || m->destination[0] == '\0')
    return ctr_error (err, EINVAL, "missing destination");
  mount_opts_parse (m->options, m->options_len, &o);
  if (m->type && strcmp (m->type, "rbind") == 0)
    o.flags |= MS_BIND | MS_REC;
  if (is_bind_type (m->type))
    o.flags |= MS_BIND;
  if (m->uid_mappings_len || m->gid_mappings_len || o.idmap)
    r = rootfs_idmap_mount (ctx, index, m, &o, err);
  else if (o.flags & MS_BIND)
    {
      r = mount_bind (ctx, m->source, m->destination, &o, err);
      if (r == 0 && dest_is (m->destination, "/dev"))
        *dev_bound = true;
    }
  else if (m->type == NULL || m->type[0] == '\0')
    r = ctr_error (err, EINVAL, "missing type");
  else if (strcmp (m->type, "tmpfs") == 0)
    r = mount_tmpfs (ctx, m->source, m->destination, &o, err);
  else
    r = mount_fs (ctx, m, &o, err);
  mount_opts_release (&o);
  return r;
}

int
rootfs_mount_config (struct rootfs_ctx *ctx, bool *dev_bound, ctr_error_t *err)
{
  const struct oci_config *c = ctx->config;
  size_t i;

  *dev_bound = false;
  for (i = 0; i < c->mounts_len; i++)
    if (mount_one (ctx, i, dev_bound, err) < 0)
      return ctr_error_wrap (err, "mounts[%zu] (%s)", i,
                             c->mounts[i].destination ? c->mounts[i].destination : "");
  return 0;
}
