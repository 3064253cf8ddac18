/* cgroups manager: create, enter, kill, freeze, update, destroy, load; hands each to a driver. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/driver.h"
#include "base/log.h"
#include "base/util.h"

/* How long destroy waits for the processes to die and the directories to go. */
#define DESTROY_TIMEOUT_NS (2ULL * 1000000000ULL)

/* Offsets of the ends of each component of full past the mount; 0 when too deep. */
static size_t
path_ends (const char *full, size_t mount_len, size_t *ends, size_t max)
{
  size_t n = 0;
  const char *s;

  for (s = full + mount_len + 1; n < max; s++)
    if (*s == '/' || *s == '\0')
      {
        ends[n++] = (size_t)(s - full);
        if (*s == '\0')
          return n;
      }
  return 0;
}

/* Index of the first component mkdir created top-down; n when the leaf exists after all. */
static size_t
mkdir_first_missing (char *full, const size_t *ends, size_t n, ctr_error_t *err)
{
  size_t i;
  for (i = 0; i < n; i++)
    {
      char saved = full[ends[i]];
      int r;
      full[ends[i]] = '\0';
      r = mkdir (full, 0755);
      if (r < 0 && errno != EEXIST)
        return ctr_error (err, errno, "create cgroup `%s`", full), SIZE_MAX;
      full[ends[i]] = saved;
      if (r == 0)
        return i;
    }
  return n;
}

/* mkdir -p of the cgroup path under one hierarchy; *depth counts what was created. The
   leaf alone first: when its parent (/ctr) exists one mkdir is enough. When it does not
   (the last container removed it), *top_down tells the next hierarchies to start from
   the top: the hierarchies are alike. */
static int
member_mkdir_once (const struct cg_hierarchy *h, const char *path, int *depth, bool *top_down,
                   ctr_error_t *err)
{
  cleanup_free char *full = xasprintf ("%s%s", h->mount, path);
  char *cpuset[2] = { NULL, NULL };
  size_t ends[256], n, i, first, done;
  int ret = -1, e = ENOENT;

  n = path_ends (full, strlen (h->mount), ends, ARRAY_SIZE (ends));
  if (n == 0)
    return ctr_error (err, E2BIG, "create cgroup `%s`: too deep", full);
  *depth = 0;
  first = n - 1;
  if (n == 1 || !*top_down)
    e = mkdir (full, 0755) == 0 ? 0 : errno;
  if (e == EEXIST)
    goto exists;
  if (e != 0 && e != ENOENT)
    return ctr_error (err, e, "create cgroup `%s`", full);
  if (e == ENOENT)
    {
      *top_down = true;
      first = mkdir_first_missing (full, ends, n, err);
      if (first == SIZE_MAX)
        return -1;
      if (first == n)
        goto exists;
    }
  for (i = first, done = first; i < n; i++)
    {
      full[ends[i]] = '\0';
      if (i > first && mkdir (full, 0755) < 0 && errno != EEXIST)
        {
          ctr_error (err, errno, "create cgroup `%s`", full);
          goto fail;
        }
      done = i + 1;
      if ((h->ctrls & CG_CPUSET) && legacy_cpuset_inherit (h->mount, full, cpuset, err) < 0)
        goto fail;
      if (i + 1 < n)
        full[ends[i]] = '/';
    }
  *depth = (int)(n - first);
  ret = 0;
  goto out;

exists:
  return (h->ctrls & CG_CPUSET) ? legacy_cpuset_repair (h->mount, full, err) : 0;

fail:
  /* undo this hierarchy's mkdirs at once: the ownership record only knows whole chains */
  while (done-- > first)
    {
      full[ends[done]] = '\0';
      rmdir (full);
    }
out:
  free (cpuset[0]);
  free (cpuset[1]);
  return ret;
}

/* How many trailing components of path are missing under one hierarchy: what member_mkdir
   is about to create and own. */
static int
member_planned_depth (const struct cg_hierarchy *h, const char *path)
{
  cleanup_free char *full = xasprintf ("%s%s", h->mount, path);
  size_t ends[256], n, i;

  n = path_ends (full, strlen (h->mount), ends, ARRAY_SIZE (ends));
  for (i = n; i-- > 0;)
    {
      full[ends[i]] = '\0';
      if (access (full, F_OK) == 0)
        return (int)(n - 1 - i);
    }
  return (int)n;
}

/* Hands the caller the ownership record of what is about to be made, before any mkdir: a
   create killed halfway leaves a record that destroy can undo (an over-estimate, from a
   concurrent create making a shared parent, only costs a failed rmdir of a busy cgroup). */
static int
record_plan (struct cgroup *cg, const struct cg_hierarchy *hs, size_t nh,
             const struct cgroup_config *cfg, ctr_error_t *err)
{
  cleanup_free char *planned = NULL;
  size_t i;

  for (i = 0; i < nh; i++)
    {
      cg->m[i].h = &hs[i];
      cg->m[i].depth = member_planned_depth (&hs[i], cg->path);
    }
  cg->n = nh;
  planned = cgroup_serialize (cg);
  cg->n = 0;
  memset (cg->m, 0, nh * sizeof (*cg->m));
  return cfg->record (cfg->record_arg, planned, err);
}

/* A concurrent destroy may remove the empty /ctr between our mkdirs (ENOENT): again. */
static int
member_mkdir (const struct cg_hierarchy *h, const char *path, int *depth, bool *top_down,
              ctr_error_t *err)
{
  int attempt;
  for (attempt = 0;; attempt++)
    {
      if (member_mkdir_once (h, path, depth, top_down, err) == 0)
        return 0;
      if (attempt == 4 || *err == NULL || (*err)->status != ENOENT)
        return -1;
      ctr_error_free (err);
      *top_down = true;
    }
}

/* A cgroupsPath that already holds processes (another container's, a leftover) is joined, as
   runc joins it, but not in silence: kill --all, pause and delete would reach those too. */
static void
warn_if_populated (const struct cgroup *cg)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  ctr_error_t ignored = NULL;

  if (cg->n == 0 || cg->m[0].depth > 0)
    return; /* made just now: empty */
  if (cgroup_pids (cg, &pids, &n, &ignored) == 0 && n > 0)
    ctr_log_warning ("cgroup %s already has %zu process(es): the container shares it with them",
                     cg->path, n);
  ctr_error_free (&ignored);
}

/* A process cloned into a frozen cgroup stops at once, and so would create, waiting for its
   setup child: a joined cgroup that is frozen (paused) is refused before anything runs. */
static int
refuse_frozen (const struct cgroup *cg, ctr_error_t *err)
{
  bool frozen = false;
  ctr_error_t ignored = NULL;

  if (cg->n == 0 || cg->m[0].depth > 0)
    return 0; /* made just now: not frozen */
  if (cgroup_is_frozen (cg, &frozen, &ignored) < 0)
    ctr_error_free (&ignored);
  if (frozen)
    return ctr_error (err, 0, "cgroup %s is frozen (a paused container's?): resume it first",
                      cg->path);
  return 0;
}

int
cgroup_create (const struct cgroup_config *cfg, struct cgroup **out, ctr_error_t *err)
{
  enum cgroup_layout layout = cgroup_layout_detect ();
  const struct cg_hierarchy *hs;
  struct cgroup *cg;
  char *path;
  bool top_down = false;
  size_t nh, i, deleg_len = 0;
  int r;

  if (cfg->rootless)
    {
      /* inside the user's delegated subtree, or no cgroup at all */
      r = rootless_prepare (cfg, &path, &deleg_len, err);
      if (r < 0)
        return -1;
      cg = cg_new (layout, path);
      cg->deleg_len = deleg_len;
      if (r == 0)
        {
          cleanup_free char *none = cfg->record ? cgroup_serialize (cg) : NULL;
          if (none && cfg->record (cfg->record_arg, none, err) < 0)
            goto fail;
          *out = cg;
          return 0;
        }
    }
  else
    {
      path = cgroup_resolve_path (cfg->cgroups_path, cfg->id, err);
      if (path == NULL)
        return -1;
      cg = cg_new (layout, path);
    }
  if (cg_hierarchies (layout, &hs, &nh, err) < 0)
    goto fail;
  if (nh == 0)
    {
      ctr_error (err, 0, "cgroup: no cgroup hierarchy is mounted under " CGROUP_ROOT);
      goto fail;
    }
  cg->m = xzalloc (nh * sizeof (*cg->m));
  if (cfg->record && record_plan (cg, hs, nh, cfg, err) < 0)
    goto fail;
  for (i = 0; i < nh; i++)
    {
      cg->m[i].h = &hs[i];
      if (member_mkdir (&hs[i], path, &cg->m[i].depth, &top_down, err) < 0)
        goto fail;
      cg->n++;
    }
  /* opened first: the drivers use it for the cgroup2 directory */
  if (cg_open_v2_fd (cg, err) < 0)
    goto fail;
  warn_if_populated (cg);
  if (refuse_frozen (cg, err) < 0 || (cfg->owner_set && cgroup_chown (cg, cfg, err) < 0))
    goto fail;
  if (layout == CGROUP_LAYOUT_UNIFIED)
    r = unified_setup (cg, cfg->resources, true, err);
  else
    r = legacy_apply (cg, cfg->resources, true, err);
  if (r < 0)
    goto fail;
  *out = cg;
  return 0;

fail:
  cgroup_destroy (cg, NULL);
  cgroup_free (cg);
  return -1;
}

int
cgroup_v2_fd (const struct cgroup *cg)
{
  return cg ? cg->v2_fd : -1;
}

int
cgroup_enter (const struct cgroup *cg, pid_t pid, bool skip_v2, ctr_error_t *err)
{
  char buf[32];
  size_t i;

  snprintf (buf, sizeof buf, "%d", (int)pid);
  for (i = 0; i < cg->n; i++)
    {
      cleanup_free char *dir = NULL;
      /* pid 0 is the caller moving itself: on v1 "0" into `tasks` moves just this
         thread, which the kernel does without cgroup_threadgroup_rwsem (whose write
         side waits for an RCU grace period: ~16 ms after an idle spell). The caller
         is single-threaded, so the thread is the whole process. */
      const char *file = pid == 0 && !cg->m[i].h->v2 ? "tasks" : "cgroup.procs";
      if (skip_v2 && cg->m[i].h->v2)
        continue;
      /* by path: no directory fd to open and close per hierarchy */
      dir = cg_member_dir (cg, i);
      if (cg_write_in (dir, file, buf, dir, err) < 0)
        return ctr_error_wrap (err, "enter cgroup");
    }
  return 0;
}

static int
no_cgroup (const struct cgroup *cg, ctr_error_t *err)
{
  return ctr_error (err, ENOTSUP, "cgroup: the container has no cgroup (%s)", cg->path);
}

bool
cgroup_exists (const struct cgroup *cg)
{
  return cg && cg->n > 0;
}

int
cgroup_kill (const struct cgroup *cg, int sig, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  if (cg->n == 0)
    return no_cgroup (cg, err);
  if (cg->layout != CGROUP_LAYOUT_UNIFIED)
    return legacy_kill (cg, sig, err);
  fd = cg_member_open (cg, 0, err);
  return fd < 0 ? -1 : unified_kill (fd, sig, err);
}

int
cgroup_freeze (const struct cgroup *cg, bool frozen, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  if (cg->n == 0)
    return no_cgroup (cg, err);
  if (cg->layout != CGROUP_LAYOUT_UNIFIED)
    return legacy_freeze (cg, frozen, err);
  fd = cg_member_open (cg, 0, err);
  return fd < 0 ? -1 : unified_freeze (fd, frozen, err);
}

int
cgroup_is_frozen (const struct cgroup *cg, bool *frozen, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  if (cg->n == 0)
    {
      *frozen = false;
      return 0;
    }
  if (cg->layout != CGROUP_LAYOUT_UNIFIED)
    return legacy_is_frozen (cg, frozen, err);
  fd = cg_member_open (cg, 0, err);
  return fd < 0 ? -1 : unified_is_frozen (fd, frozen, err);
}

int
cgroup_pids (const struct cgroup *cg, pid_t **pids, size_t *n, ctr_error_t *err)
{
  static const unsigned prefer[] = { CG_PIDS, CG_FREEZER, CG_MEMORY, CG_CPU, CG_DEVICES };
  cleanup_close int fd = -1;
  ssize_t idx = cg->layout == CGROUP_LAYOUT_UNIFIED ? 0 : -1;
  size_t i;

  *pids = NULL;
  *n = 0;
  if (cg->n == 0)
    return no_cgroup (cg, err);
  for (i = 0; idx < 0 && i < ARRAY_SIZE (prefer); i++)
    idx = cg_member_find (cg, prefer[i]);
  if (idx < 0)
    idx = 0;
  fd = cg_member_open (cg, (size_t)idx, err);
  if (fd < 0 || cg_read_pids (fd, pids, n, err) < 0)
    {
      free (*pids);
      *pids = NULL;
      *n = 0;
      return -1;
    }
  return 0;
}

int
cgroup_update (const struct cgroup *cg, const struct oci_resources *res, ctr_error_t *err)
{
  if (res == NULL)
    return 0;
  if (cg->n == 0)
    return cg_resources_requested (res)
               ? ctr_error (err, 0,
                            "rootless: the container has no cgroup (no delegated cgroup v2 "
                            "subtree when it was created): limits cannot be applied")
               : 0;
  if (cg->layout == CGROUP_LAYOUT_UNIFIED)
    return unified_setup (cg, res, false, err);
  return legacy_apply (cg, res, false, err);
}

/* SIGKILLs what is left in the leaves ctr owns and waits until they are empty. */
static void
destroy_kill (struct cgroup *cg, uint64_t deadline)
{
  ssize_t freezer = cg_member_find (cg, CG_FREEZER);
  unsigned step = 0;
  size_t i, j;

  for (i = 0; i < cg->n; i++)
    if (cg->m[i].depth > 0 && cg->m[i].h->v2)
      {
        cleanup_close int fd = cg_member_open (cg, i, NULL);
        if (fd >= 0 && cg_file_exists (fd, "cgroup.kill"))
          cg_write (fd, "cgroup.kill", "1", "cgroup", NULL);
      }
  for (;;)
    {
      bool busy = false;
      for (i = 0; i < cg->n; i++)
        {
          cleanup_free pid_t *pids = NULL;
          cleanup_close int fd = -1;
          size_t n = 0;
          if (cg->m[i].depth == 0 || (fd = cg_member_open (cg, i, NULL)) < 0)
            continue;
          if (cg_read_pids (fd, &pids, &n, NULL) < 0 || n == 0)
            continue;
          busy = true;
          for (j = 0; j < n; j++)
            kill (pids[j], SIGKILL);
        }
      if (!busy || now_ns () > deadline)
        break;
      /* frozen v1 tasks only die once thawed */
      if (freezer >= 0 && cg->m[freezer].depth > 0)
        {
          cleanup_close int fd = cg_member_open (cg, (size_t)freezer, NULL);
          if (fd >= 0)
            cg_write (fd, "freezer.state", "THAWED", "cgroup", NULL);
        }
      cg_backoff (&step);
    }
}

/* Removes a cgroup directory after its descendants (made by the container itself). */
static int
rmdir_tree (int parentfd, const char *name, uint64_t deadline)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  unsigned step = 0;
  int fd;

  fd = openat (parentfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT ? 0 : -1;
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return -1;
    }
  while ((de = readdir (d)))
    if (de->d_type == DT_DIR && strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      rmdir_tree (fd, de->d_name, deadline);
  while (unlinkat (parentfd, name, AT_REMOVEDIR) < 0)
    {
      if (errno == ENOENT)
        return 0;
      if (errno != EBUSY || now_ns () > deadline)
        return -1;
      cg_backoff (&step);
    }
  return 0;
}

static int
member_remove (struct cgroup *cg, size_t i, uint64_t deadline, ctr_error_t *err)
{
  cleanup_free char *dir = cg_member_dir (cg, i);
  cleanup_close int parentfd = -1;
  char *slash = strrchr (dir, '/');
  int k;

  *slash = '\0';
  parentfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parentfd < 0 && errno != ENOENT)
    return ctr_error (err, errno, "remove cgroup: open `%s`", dir);
  if (parentfd >= 0 && rmdir_tree (parentfd, slash + 1, deadline) < 0)
    {
      *slash = '/';
      return ctr_error (err, errno, "remove cgroup `%s`", dir);
    }
  /* created parents go only when empty: others may share them */
  for (k = 1; k < cg->m[i].depth; k++)
    {
      if (rmdir (dir) < 0 && errno != ENOENT)
        break;
      *strrchr (dir, '/') = '\0';
    }
  cg->m[i].depth = 0;
  return 0;
}

/* The container's processes are normally gone when it is destroyed: then one rmdir per
   created directory, leaf first, is all it takes. False as soon as one fails other than
   with ENOENT (EBUSY: processes or nested cgroups left): the careful path takes over
   for the members not removed yet. */
static bool
destroy_fast (struct cgroup *cg)
{
  size_t i;
  int k;

  for (i = 0; i < cg->n; i++)
    {
      cleanup_free char *dir = NULL;
      if (cg->m[i].depth == 0)
        continue;
      dir = cg_member_dir (cg, i);
      if (rmdir (dir) < 0 && errno != ENOENT)
        return false;
      /* created parents go only when empty: others may share them */
      for (k = 1; k < cg->m[i].depth; k++)
        {
          *strrchr (dir, '/') = '\0';
          if (rmdir (dir) < 0 && errno != ENOENT)
            break;
        }
      cg->m[i].depth = 0;
    }
  return true;
}

/* /ctr is ctr's own parent for default and relative paths: remove it once it is empty,
   whichever container happened to create it (rmdir fails while others live there). */
static void
remove_ctr_parent (const struct cgroup *cg)
{
  size_t i;
  /* rootless: <delegation root>/ctr; the delegation root itself is never touched */
  if (strncmp (cg->path + cg->deleg_len, "/ctr/", 5) != 0)
    return;
  for (i = 0; i < cg->n; i++)
    {
      cleanup_free char *dir
          = xasprintf ("%s%.*s/ctr", cg->m[i].h->mount, (int)cg->deleg_len, cg->path);
      rmdir (dir);
    }
}

int
cgroup_destroy (struct cgroup *cg, ctr_error_t *err)
{
  uint64_t deadline = now_ns () + DESTROY_TIMEOUT_NS;
  int ret = 0;
  size_t i;

  if (cg == NULL)
    return 0;
  if (!destroy_fast (cg))
    {
      destroy_kill (cg, deadline);
      for (i = 0; i < cg->n; i++)
        if (cg->m[i].depth > 0 && member_remove (cg, i, deadline, ret < 0 ? NULL : err) < 0)
          ret = -1;
    }
  if (ret == 0)
    remove_ctr_parent (cg);
  if (cg->v2_fd >= 0)
    close (cg->v2_fd);
  cg->v2_fd = -1;
  return ret;
}

void
cgroup_prune (const char *path, int levels)
{
  const struct cg_hierarchy *hs = NULL;
  size_t nh = 0;
  ctr_error_t ignored = NULL;

  if (path[0] != '/' || cg_hierarchies (cgroup_layout_detect (), &hs, &nh, &ignored) < 0)
    {
      ctr_error_free (&ignored);
      return;
    }
  for (size_t i = 0; i < nh; i++)
    {
      cleanup_free char *dir = xasprintf ("%s%s", hs[i].mount, path);
      size_t floor = strlen (hs[i].mount);
      for (int k = 0; k < levels; k++)
        {
          char *slash = strrchr (dir, '/');
          if ((rmdir (dir) < 0 && errno != ENOENT) || slash == NULL
              || (size_t)(slash - dir) <= floor)
            break;
          *slash = '\0';
        }
    }
}

int
cgroup_sub (const struct cgroup *cg, const char *sub, struct cgroup **out, ctr_error_t *err)
{
  cleanup_free char *joined = NULL;
  struct cgroup *s;
  size_t len = strlen (cg->path), i;
  char *path;

  *out = NULL;
  if (cg->n == 0)
    return ctr_error (err, 0, "--cgroup %s: the container has no cgroup", sub);
  if (strchr (sub, ':'))
    return ctr_error (err, 0,
                      "--cgroup %s: CONTROLLER:PATH is not supported, only one PATH for every "
                      "controller",
                      sub);
  if (sub[0] == '/' || sub[0] == '\0')
    return ctr_error (err, 0, "--cgroup `%s`: a path inside the container's cgroup, relative", sub);
  joined = xasprintf ("%s/%s", cg->path, sub);
  path = cgroup_resolve_path (joined, NULL, err);
  if (path == NULL)
    return ctr_error_wrap (err, "--cgroup %s", sub);
  if (strncmp (path, cg->path, len) != 0 || path[len] != '/')
    {
      free (path);
      return ctr_error (err, 0, "--cgroup %s: leaves the container's cgroup", sub);
    }
  s = cg_new (cg->layout, path);
  s->deleg_len = cg->deleg_len;
  s->m = xzalloc (cg->n * sizeof (*s->m));
  for (i = 0; i < cg->n; i++, s->n++)
    {
      cleanup_close int fd = -1;
      s->m[i].h = cg->m[i].h;
      s->m[i].depth = 0; /* an existing cgroup of the container's: never removed */
      fd = cg_member_open (s, i, err);
      if (fd < 0)
        goto fail;
    }
  if (cg_open_v2_fd (s, err) < 0)
    goto fail;
  *out = s;
  return 0;
fail:
  ctr_error_wrap (err, "--cgroup %s", sub);
  cgroup_free (s);
  return -1;
}

int
cgroup_open_leaf (const struct cgroup_config *cfg, struct cgroup **out, ctr_error_t *err)
{
  enum cgroup_layout layout = cgroup_layout_detect ();
  const struct cg_hierarchy *hs;
  struct cgroup *cg;
  char *path;
  size_t nh, i;

  size_t deleg_len = 0;

  *out = NULL;
  if (cfg->rootless)
    {
      /* only an absolute path inside the caller's delegated subtree: a relative one's
         place depends on the session that made it, not guessed */
      cleanup_free char *reason = NULL;
      cleanup_free char *deleg = cgroup_delegation_root (&reason);
      if (deleg == NULL || cfg->cgroups_path == NULL || cfg->cgroups_path[0] != '/')
        return 0;
      path = cgroup_resolve_path (cfg->cgroups_path, cfg->id, err);
      if (path == NULL)
        return -1;
      deleg_len = strlen (deleg);
      if (strncmp (path, deleg, deleg_len) != 0 || path[deleg_len] != '/')
        {
          free (path);
          return 0;
        }
    }
  else
    path = cgroup_resolve_path (cfg->cgroups_path, cfg->id, err);
  if (path == NULL)
    return -1;
  cg = cg_new (layout, path);
  cg->deleg_len = deleg_len;
  if (cg_hierarchies (layout, &hs, &nh, err) < 0)
    {
      cgroup_free (cg);
      return -1;
    }
  cg->m = xzalloc ((nh + 1) * sizeof (*cg->m));
  for (i = 0; i < nh; i++)
    {
      cleanup_free char *full = xasprintf ("%s%s", hs[i].mount, path);
      if (access (full, F_OK) < 0)
        continue;
      cg->m[cg->n].h = &hs[i];
      cg->m[cg->n++].depth = 1;
    }
  if (cg_open_v2_fd (cg, NULL) < 0)
    cg->v2_fd = -1;
  *out = cg;
  return 0;
}

/* Moves every process of dir (the caller and what it started: a background link removal,
   a helper) into to, so that dir can go. */
static int
move_all (const char *dir, const char *to, ctr_error_t *err)
{
  for (int round = 0; round < 8; round++)
    {
      cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      cleanup_free pid_t *pids = NULL;
      size_t n = 0;
      if (fd < 0 || cg_read_pids (fd, &pids, &n, err) < 0)
        return fd < 0 ? ctr_error (err, errno, "open cgroup `%s`", dir) : -1;
      if (n == 0)
        return 0;
      for (size_t k = 0; k < n; k++)
        {
          char pid[16];
          cleanup_error ctr_error_t gone = NULL; /* one that exited meanwhile */
          snprintf (pid, sizeof pid, "%d", (int)pids[k]);
          cg_write_in (to, "cgroup.procs", pid, to, &gone);
        }
    }
  return 0;
}

int
cgroup_leave (struct cgroup *cg, const char *pivot, ctr_error_t *err)
{
  int ret = 0;

  for (size_t i = 0; i < cg->n; i++)
    {
      cleanup_free char *dir = cg_member_dir (cg, i);
      cleanup_free char *to = xasprintf ("%.*s/%s", (int)(strrchr (dir, '/') - dir), dir, pivot);
      /* again when the pivot went meanwhile: the last one out of a shared parent prunes
         an empty pivot (cgroup_prune) */
      for (int attempt = 0;; attempt++)
        {
          if (mkdir (to, 0755) < 0 && errno != EEXIST)
            ret = ctr_error (err, errno, "cgroup: create `%s`", to);
          else if (((cg->m[i].h->ctrls & CG_CPUSET)
                    && legacy_cpuset_repair (cg->m[i].h->mount, to, err) < 0)
                   || move_all (dir, to, err) < 0)
            ret = -1;
          else if (rmdir (dir) < 0 && errno != ENOENT)
            {
              if (errno == EBUSY && attempt < 3)
                continue;
              ret = ctr_error (err, errno, "remove cgroup `%s`", dir);
            }
          break;
        }
    }
  return ret;
}

const char *
cgroup_path (const struct cgroup *cg)
{
  return cg->path;
}

int
cgroup_for_exec (const struct cgroup *cg, pid_t init, struct cgroup **out, ctr_error_t *err)
{
  cleanup_free char *ctl = NULL, *own = NULL;
  char file[64], *line, *save = NULL;
  size_t len = strlen (cg->path);

  *out = NULL;
  if (cg->n == 0 || cg->layout != CGROUP_LAYOUT_UNIFIED || cg->v2_fd < 0
      || cg_read (cg->v2_fd, "cgroup.subtree_control", &ctl, err) < 0)
    {
      ctr_error_free (err);
      return 0;
    }
  if (ctl[strspn (ctl, " \n")] == '\0')
    return 0;
  snprintf (file, sizeof file, "/proc/%d/cgroup", (int)init);
  if (read_file_at (AT_FDCWD, file, 1 << 16, &own, NULL, err) < 0)
    return -1;
  for (line = strtok_r (own, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if (strncmp (line, "0::", 3) == 0)
      break;
  /* init's cgroup lies inside the container's: anything else, and exec stays put */
  if (line == NULL || strncmp (line + 3, cg->path, len) != 0 || line[3 + len] != '/')
    return 0;
  return cgroup_sub (cg, line + 3 + len + 1, out, err);
}
