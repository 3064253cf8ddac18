/* rootfs/lxcfs: a running lxcfs, found by its fuse.lxcfs mount, and its files lent to a
   container over /proc and /sys (LXC's lxcfs mount hook). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json_edit.h"
#include "base/util.h"
#include "rootfs/lxcfs.h"
#include "rootfs/mountinfo.h"

#define LXCFS_FSTYPE "fuse.lxcfs"

/* What lxcfs virtualises from the reader's cgroup: free, top, uptime and nproc read these. */
static const char *const lxcfs_files[] = {
  "/proc/cpuinfo", "/proc/diskstats", "/proc/loadavg", "/proc/meminfo",
  "/proc/stat",    "/proc/swaps",     "/proc/uptime",  "/sys/devices/system/cpu/online",
};

/* mountpoint is the top mount at its path, lxcfs's whole tree, and its daemon answers
   (a mount left by a killed lxcfs fails every call with ENOTCONN). */
static bool
lxcfs_usable (const struct mountinfo *mi, size_t n, const char *mountpoint)
{
  const struct mountinfo *top = mountinfo_find_parent (mi, n, mountpoint);
  cleanup_free char *probe = NULL;
  cleanup_close int fd = -1;
  char c;

  if (top == NULL || strcmp (top->mountpoint, mountpoint) != 0
      || strcmp (top->fstype, LXCFS_FSTYPE) != 0 || strcmp (top->root, "/") != 0)
    return false;
  /* a read, not a stat: FUSE answers stat from its cache after the daemon is gone */
  probe = xasprintf ("%s/proc/meminfo", mountpoint);
  fd = open (probe, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  return fd >= 0 && read (fd, &c, 1) == 1;
}

char *
lxcfs_find (char **why, ctr_error_t *err)
{
  const char *env = getenv (LXCFS_DIR_ENV);
  struct mountinfo *mi = NULL;
  char *found = NULL;
  size_t n;

  *why = NULL;
  if (mountinfo_read (&mi, &n, err) < 0)
    return NULL;
  if (env && *env)
    {
      if (lxcfs_usable (mi, n, env))
        found = xstrdup (env);
      else
        *why = xasprintf ("no running lxcfs mounted at `%s` ($%s)", env, LXCFS_DIR_ENV);
    }
  else if (lxcfs_usable (mi, n, LXCFS_DEFAULT_DIR))
    found = xstrdup (LXCFS_DEFAULT_DIR);
  else
    {
      for (size_t i = 0; i < n && found == NULL; i++)
        if (strcmp (mi[i].fstype, LXCFS_FSTYPE) == 0 && lxcfs_usable (mi, n, mi[i].mountpoint))
          found = xstrdup (mi[i].mountpoint);
      if (found == NULL)
        *why = xstrdup ("no running lxcfs (no " LXCFS_FSTYPE " mount in /proc/self/mountinfo)");
    }
  mountinfo_free (mi, n);
  return found;
}

char **
lxcfs_binds (const char *mountpoint)
{
  char **v = xzalloc ((2 * ARRAY_SIZE (lxcfs_files) + 1) * sizeof *v);
  size_t k = 0;

  for (size_t i = 0; i < ARRAY_SIZE (lxcfs_files); i++)
    {
      char *src = xasprintf ("%s%s", mountpoint, lxcfs_files[i]);
      struct stat st;
      if (stat (src, &st) < 0 || !S_ISREG (st.st_mode))
        {
          free (src);
          continue;
        }
      v[k++] = src;
      v[k++] = xstrdup (lxcfs_files[i]);
    }
  return v;
}

bool
lxcfs_mode_valid (const char *value)
{
  return strcmp (value, "auto") == 0 || strcmp (value, "true") == 0 || strcmp (value, "false") == 0;
}

int
lxcfs_container_binds (const char *mode, char ***out, ctr_error_t *err)
{
  cleanup_free char *mnt = NULL, *why = NULL;

  *out = NULL;
  if (mode && strcmp (mode, "false") == 0)
    return *out = xzalloc (sizeof **out), 0;
  mnt = lxcfs_find (&why, err);
  if (mnt == NULL && why == NULL)
    return -1;
  if (mnt == NULL && mode && strcmp (mode, "true") == 0)
    return ctr_error (err, 0, "lxcfs is required (`lxcfs` is true) but absent: %s", why);
  *out = mnt ? lxcfs_binds (mnt) : xzalloc (sizeof **out);
  if (mode && strcmp (mode, "true") == 0 && (*out)[0] == NULL)
    return ctr_error (err, 0,
                      "lxcfs is required (`lxcfs` is true) but `%s` offers none of its files", mnt);
  return 0;
}

static json_node *
ro_bind (const char *source, const char *destination)
{
  static const char *const options[] = { "bind", "ro", "nosuid", "nodev", "noexec" };
  json_node *m = jnode_new_object (), *opts = jnode_new_array ();
  for (size_t i = 0; i < ARRAY_SIZE (options); i++)
    jnode_append (opts, jnode_new_string (options[i]));
  jnode_set (m, "destination", jnode_new_string (destination));
  jnode_set (m, "type", jnode_new_string ("bind"));
  jnode_set (m, "source", jnode_new_string (source));
  jnode_set (m, "options", opts);
  return m;
}

int
lxcfs_config_add_binds (char **text, size_t *len, char *const *binds, const char *origin,
                        ctr_error_t *err)
{
  json_node *root, *mounts;

  if (binds == NULL || binds[0] == NULL)
    return 0;
  root = jnode_parse (*text, origin, err);
  if (root == NULL)
    return -1;
  if (!jnode_is_object (root))
    {
      jnode_free (root);
      return ctr_error (err, 0, "%s: not a JSON object", origin);
    }
  mounts = jnode_array_member (root, "mounts", true);
  for (size_t i = 0; binds[i] && binds[i + 1]; i += 2)
    jnode_append (mounts, ro_bind (binds[i], binds[i + 1]));
  free (*text);
  *text = jnode_to_string (root, len);
  jnode_free (root);
  return 0;
}
