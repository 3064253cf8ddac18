/* cgroups rootless: the delegated cgroup v2 subtree an unprivileged user may write to. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/driver.h"
#include "base/log.h"
#include "base/util.h"

char *
cg_own_v2_path (const char *proc_self_cgroup)
{
  const char *line = proc_self_cgroup;

  while (line && *line)
    {
      const char *end = strchrnul (line, '\n');
      if (strncmp (line, "0::/", 4) == 0)
        return xstrndup (line + 3, (size_t)(end - line - 3));
      line = *end ? end + 1 : NULL;
    }
  return NULL;
}

/* Delegated the way systemd (Delegate=) and an admin's `chown -R` delegate: the directory
   and the files that move processes and enable controllers belong to the user. */
static bool
owned_by (const char *dir, uid_t uid)
{
  static const char *const files[] = { ".", "cgroup.procs", "cgroup.subtree_control" };
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  size_t i;

  if (fd < 0)
    return false;
  for (i = 0; i < ARRAY_SIZE (files); i++)
    if (fstatat (fd, files[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_uid != uid)
      return false;
  return true;
}

char *
cg_delegation_find (const char *mount, const char *own, uid_t uid, char **reason)
{
  cleanup_free char *full = xasprintf ("%s%s", mount, own);
  size_t mlen = strlen (mount), end = strlen (full);
  char *slash;

  *reason = NULL;
  if (own[0] != '/' || own[1] == '\0')
    {
      *reason = xstrdup ("ctr runs in the root cgroup");
      return NULL;
    }
  if (!owned_by (full, uid))
    {
      *reason = xasprintf ("ctr's own cgroup `%s` is not owned by uid %u", full, (unsigned)uid);
      return NULL;
    }
  /* the topmost owned ancestor; the root of the hierarchy is never a delegation */
  while ((slash = strrchr (full + mlen, '/')) != NULL && slash > full + mlen)
    {
      *slash = '\0';
      if (!owned_by (full, uid))
        break;
      end = (size_t)(slash - full);
    }
  return xstrndup (own, end - mlen);
}

/* path lies strictly below dir (both normalized, absolute). */
static bool
path_below (const char *path, const char *dir)
{
  size_t len = strlen (dir);
  return strncmp (path, dir, len) == 0 && path[len] == '/' && path[len + 1] != '\0';
}

char *
cg_rootless_path (const char *deleg, const char *own, const char *cgroups_path, const char *id,
                  ctr_error_t *err)
{
  cleanup_free char *p = cgroup_resolve_path (cgroups_path, id, err);
  char *out;

  if (p == NULL)
    return NULL;
  if (cgroups_path && cgroups_path[0] == '/')
    {
      if (!path_below (p, deleg))
        return ctr_error (err, 0,
                          "rootless: linux.cgroupsPath: \"%s\": outside the delegated cgroup "
                          "subtree `%s`",
                          cgroups_path, deleg),
               NULL;
      out = steal_ptr (p);
    }
  else
    out = xasprintf ("%s%s", deleg, p); /* "/ctr/<id>" under the delegation root */
  if (own && (strcmp (out, own) == 0 || path_below (own, out)))
    {
      ctr_error (err, 0, "rootless: linux.cgroupsPath: \"%s\": holds ctr's own cgroup `%s`",
                 cgroups_path ? cgroups_path : out, own);
      free (out);
      return NULL;
    }
  return out;
}

/* The delegation root, with ctr's own cgroup in *own when found. */
static char *
delegation_root (char **own, char **reason)
{
  enum cgroup_layout layout = cgroup_layout_detect ();
  cleanup_free char *text = NULL;
  cleanup_error ctr_error_t err = NULL;
  size_t len;

  *own = NULL;
  if (layout != CGROUP_LAYOUT_UNIFIED)
    {
      *reason = xasprintf ("the host's cgroup layout is %s: only a pure cgroup v2 host "
                           "delegates subtrees",
                           cgroup_layout_name (layout));
      return NULL;
    }
  if (read_file_at (AT_FDCWD, "/proc/self/cgroup", 1 << 16, &text, &len, &err) < 0)
    {
      *reason = xasprintf ("read /proc/self/cgroup: %s", err->msg);
      return NULL;
    }
  *own = cg_own_v2_path (text);
  if (*own == NULL)
    {
      *reason = xstrdup ("/proc/self/cgroup has no cgroup v2 entry");
      return NULL;
    }
  return cg_delegation_find (CGROUP_ROOT, *own, geteuid (), reason);
}

char *
cgroup_delegation_root (char **reason)
{
  cleanup_free char *own = NULL;
  return delegation_root (&own, reason);
}

/* The first resource that needs a cgroup controller, for messages. */
static const char *
first_limit (const struct oci_resources *r)
{
  return r->memory                                              ? "linux.resources.memory"
         : r->cpu                                               ? "linux.resources.cpu"
         : r->has_pids_limit                                    ? "linux.resources.pids"
         : r->block_io                                          ? "linux.resources.blockIO"
         : r->hugepage_limits_len                               ? "linux.resources.hugepageLimits"
         : r->has_network_class_id || r->network_priorities_len ? "linux.resources.network"
         : r->rdma_len                                          ? "linux.resources.rdma"
                                                                : "linux.resources.unified";
}

int
rootless_prepare (const struct cgroup_config *cfg, char **path, size_t *deleg_len, ctr_error_t *err)
{
  cleanup_free char *own = NULL, *reason = NULL, *deleg = NULL;

  *deleg_len = 0;
  deleg = delegation_root (&own, &reason);
  if (deleg)
    {
      *path = cg_rootless_path (deleg, own, cfg->cgroups_path, cfg->id, err);
      if (*path == NULL)
        return -1;
      *deleg_len = strlen (deleg);
      ctr_log_debug ("cgroup: rootless in the delegated subtree `%s`", deleg);
      return 1;
    }
  *path = cgroup_resolve_path (cfg->cgroups_path, cfg->id, err);
  if (*path == NULL)
    return -1;
  if (cg_resources_requested (cfg->resources))
    {
      ctr_error (err, 0,
                 "rootless: %s: limits need a delegated cgroup v2 subtree: %s (see `ctr "
                 "check-config`)",
                 first_limit (cfg->resources), reason);
      free (steal_ptr (*path));
      return -1;
    }
  if (cfg->resources)
    ctr_log_warning ("rootless: linux.resources skipped: no delegated cgroup v2 subtree (%s; see "
                     "`ctr check-config`)",
                     reason);
  return 0;
}

/* Controllers missing from dir's subtree_control, and whether processes live in dir. */
static int
ancestor_state (const char *dir, unsigned *enabled, bool *busy, ctr_error_t *err)
{
  cleanup_free char *sub = xasprintf ("%s/cgroup.subtree_control", dir);
  cleanup_free char *procs = xasprintf ("%s/cgroup.procs", dir);
  cleanup_free char *text = NULL, *pids = NULL;

  if (cg_read (AT_FDCWD, sub, &text, err) < 0 || cg_read (AT_FDCWD, procs, &pids, err) < 0)
    return -1;
  *enabled = cg2_parse_controllers (text);
  *busy = pids[0] != '\0';
  return 0;
}

/* cgroup v2 enables no controller in a cgroup with processes: the delegation root may
   be the user's shell's own cgroup (an admin delegated it as it was). */
static int
check_no_internal_procs (const struct cgroup *cg, unsigned need, unsigned *want, ctr_error_t *err)
{
  const char *mount = cg->m[0].h->mount;
  cleanup_free char *dir = xasprintf ("%s%s", mount, cg->path);
  char *s = dir + strlen (mount) + cg->deleg_len;

  for (;;)
    {
      unsigned enabled, missing;
      bool busy;
      *s = '\0';
      if (ancestor_state (dir, &enabled, &busy, err) < 0)
        return -1;
      missing = (need | *want) & ~enabled;
      if (missing && busy)
        {
          const char *what, *name;
          if ((need & ~enabled) == 0)
            {
              ctr_log_debug ("cgroup: `%s` holds processes: no controllers for usage stats", dir);
              *want = 0;
              return 0;
            }
          name = cg2_controller_name (need & ~enabled, &what);
          return ctr_error (err, 0,
                            "rootless: %s: cannot enable the %s controller below `%s`: it holds "
                            "processes (cgroup v2 allows no controllers there); run ctr from a "
                            "child cgroup of it, e.g. with `systemd-run --user --scope`",
                            what, name, dir);
        }
      *s = '/';
      s = strchr (s + 1, '/');
      if (s == NULL)
        return 0; /* the next component is the container's own directory */
    }
}

int
rootless_controllers (const struct cgroup *cg, unsigned need, unsigned *want, ctr_error_t *err)
{
  const char *mount = cg->m[0].h->mount;
  cleanup_free char *dir = xasprintf ("%s%.*s", mount, (int)cg->deleg_len, cg->path);
  cleanup_free char *file = xasprintf ("%s/cgroup.controllers", dir);
  cleanup_free char *text = NULL, *copy = NULL;
  unsigned avail, missing;

  if (cg_read (AT_FDCWD, file, &text, err) < 0)
    return -1;
  copy = xstrdup (text);
  avail = cg2_parse_controllers (copy);
  missing = need & ~avail;
  if (missing)
    {
      const char *what, *name = cg2_controller_name (missing, &what);
      return ctr_error (err, 0,
                        "rootless: %s: the %s controller is not delegated to `%s` "
                        "(cgroup.controllers: %s)",
                        what, name, dir, *text ? text : "none");
    }
  *want &= avail;
  if ((need | *want) == 0)
    return 0;
  return check_no_internal_procs (cg, need, want, err);
}
