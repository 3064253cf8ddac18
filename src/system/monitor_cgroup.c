/* monitor_cgroup: a monitor's cgroup of its own, <root>/ctr.monitor/<name> (LXC gives each
   monitor one too): it is charged for what it uses and, above all, it is not in the
   cgroup of whoever ran `ctr start`, so the end of that session or unit (logind's
   KillUserProcesses, `systemctl stop`) does not take the monitor, and with it the
   container's console and supervision. Rootless: inside the user's delegated subtree,
   else (no delegation) where the caller is, with a note. */
#include <config.h>
#include <stdlib.h>

#include "system/monitor.h"
#include "cgroups/cgroup.h"
#include "base/log.h"
#include "base/util.h"

/* Where the monitors of the caller's containers go; NULL (and a note) when nowhere. */
static char *
monitor_cgroup_path (const char *name, bool quiet)
{
  cleanup_free char *reason = NULL, *deleg = NULL;

  if (!is_rootless ())
    return xasprintf ("/" MONITOR_CGROUP "/%s", name);
  deleg = cgroup_delegation_root (&reason);
  if (deleg == NULL)
    {
      if (!quiet)
        ctr_log_warning ("rootless: the monitor of `%s` stays in your session's cgroup and "
                         "ends with it (%s; see `ctr check-config`)",
                         name, reason ? reason : "no delegated cgroup");
      return NULL;
    }
  return xasprintf ("%s/" MONITOR_CGROUP "/%s", deleg, name);
}

struct cgroup *
monitor_cgroup_enter (const char *name)
{
  cleanup_free char *path = monitor_cgroup_path (name, false);
  struct cgroup_config cgc = { .cgroups_path = path, .id = name, .rootless = is_rootless () };
  struct cgroup *cg = NULL;
  ctr_error_t err = NULL;

  if (path == NULL)
    return NULL;
  /* a monitor killed outright left its (empty) directory: gone before a new one */
  monitor_cgroup_remove (name);
  if (cgroup_create (&cgc, &cg, &err) < 0 || cgroup_enter (cg, 0, false, &err) < 0)
    {
      char *msg = ctr_error_string (err);
      ctr_log_warning ("the monitor of `%s` stays in its caller's cgroup: %s", name, msg);
      free (msg);
      ctr_error_free (&err);
      if (cg)
        {
          cgroup_destroy (cg, NULL);
          cgroup_free (cg);
        }
      return NULL;
    }
  return cg;
}

void
monitor_cgroup_leave (struct cgroup *cg)
{
  ctr_error_t err = NULL;
  if (cg == NULL)
    return;
  if (cgroup_leave (cg, MONITOR_CGROUP_PIVOT, &err) < 0)
    ctr_error_print (&err);
  cgroup_free (cg);
}

void
monitor_cgroup_remove (const char *name)
{
  cleanup_free char *path = monitor_cgroup_path (name, true);
  struct cgroup_config cgc = { .cgroups_path = path, .id = name, .rootless = is_rootless () };
  struct cgroup *cg = NULL;
  ctr_error_t err = NULL;

  if (path == NULL)
    return;
  if (cgroup_open_leaf (&cgc, &cg, &err) < 0 || (cg && cgroup_destroy (cg, &err) < 0))
    ctr_error_print (&err);
  if (cg)
    cgroup_free (cg);
  monitor_cgroup_tidy ();
}

void
monitor_cgroup_tidy (void)
{
  cleanup_free char *pivot = monitor_cgroup_path (MONITOR_CGROUP_PIVOT, true);
  if (pivot)
    cgroup_prune (pivot, 2);
}

bool
monitor_cgroup_frozen (const char *name)
{
  cleanup_free char *path = monitor_cgroup_path (name, true);
  struct cgroup_config cgc = { .cgroups_path = path, .id = name, .rootless = is_rootless () };
  struct cgroup *cg = NULL;
  ctr_error_t err = NULL;
  bool frozen = false;

  if (path && cgroup_open_leaf (&cgc, &cg, &err) == 0 && cg)
    cgroup_is_frozen (cg, &frozen, &err);
  ctr_error_free (&err);
  if (cg)
    cgroup_free (cg);
  return frozen;
}
