/* cgroups/persist: a cgroup as one string in state.json (cgroup_serialize), loaded again by
   every later verb (cgroup_load), and the paused check that state and list make of it. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/driver.h"
#include "base/log.h"
#include "base/util.h"

char *
cgroup_serialize (const struct cgroup *cg)
{
  size_t i, len = 0, size = 64 + strlen (cg->path);
  char *s;

  for (i = 0; i < cg->n; i++)
    size += strlen (cg->m[i].h->key) + 16;
  s = xmalloc (size);
  len += snprintf (s + len, size - len, "%s;", cgroup_layout_name (cg->layout));
  for (i = 0; i < cg->n; i++)
    len += snprintf (s + len, size - len, "%s%s:%d", i ? "," : "", cg->m[i].h->key, cg->m[i].depth);
  /* rootless: how many leading components of the path are the user's delegation root */
  if (cg->deleg_len)
    len += snprintf (s + len, size - len, "%sdelegated:%zu", cg->n ? "," : "",
                     cg_path_components (cg->path) - cg_path_components (cg->path + cg->deleg_len));
  snprintf (s + len, size - len, ";%s", cg->path);
  return s;
}

/* Parses one "<key>:<depth>" item of the serialized form into cg. */
static int
load_member (struct cgroup *cg, char *item, const struct cg_hierarchy *hs, size_t nh,
             ctr_error_t *err)
{
  char *colon = strrchr (item, ':');
  int64_t depth;
  size_t i;

  if (colon == NULL || parse_int64 (colon + 1, &depth) < 0 || depth < 0
      || (size_t)depth > cg_path_components (cg->path))
    return ctr_error (err, EINVAL, "cgroup state: invalid item `%s`", item);
  *colon = '\0';
  for (i = 0; i < nh; i++)
    if (strcmp (hs[i].key, item) == 0)
      {
        cg->m[cg->n].h = &hs[i];
        cg->m[cg->n++].depth = (int)depth;
        return 0;
      }
  ctr_log_debug ("cgroup: hierarchy `%s` of the container is no longer mounted", item);
  return 0;
}

/* "delegated:K": the first K components of the path are the user's delegation root. */
static int
load_delegated (struct cgroup *cg, const char *value, ctr_error_t *err)
{
  size_t comps = cg_path_components (cg->path), i, k;
  int64_t v;

  if (parse_int64 (value, &v) < 0 || v < 1 || (size_t)v >= comps)
    return ctr_error (err, EINVAL, "cgroup state: invalid item `delegated:%s`", value);
  k = (size_t)v;
  for (i = 1; cg->path[i] && k; i++)
    if (cg->path[i] == '/' && --k == 0)
      cg->deleg_len = i;
  return 0;
}

/* Nothing ctr created lies at or above the delegation root. */
static int
check_delegated (const struct cgroup *cg, ctr_error_t *err)
{
  size_t below = cg_path_components (cg->path + cg->deleg_len), i;
  if (cg->deleg_len == 0)
    return 0;
  for (i = 0; i < cg->n; i++)
    if ((size_t)cg->m[i].depth > below)
      return ctr_error (err, EINVAL, "cgroup state: depth %d reaches above the delegated subtree",
                        cg->m[i].depth);
  return 0;
}

/* with_fd: open the cgroup2 directory as well, which the verbs that write to it need */
static int
load_serialized (const char *serialized, bool with_fd, struct cgroup **out, ctr_error_t *err)
{
  cleanup_free char *copy = xstrdup (serialized);
  char *layout_end = strchr (copy, ';'), *items, *path, *save = NULL, *item;
  enum cgroup_layout layout = cgroup_layout_detect ();
  const struct cg_hierarchy *hs = NULL;
  struct cgroup *cg;
  size_t nh = 0;

  path = layout_end ? strchr (layout_end + 1, ';') : NULL;
  if (path == NULL || path[1] != '/')
    return ctr_error (err, EINVAL, "cgroup state: invalid value `%s`", serialized);
  *layout_end = '\0';
  *path++ = '\0';
  items = layout_end + 1;
  /* legacy and hybrid differ only by the v2 mount beside the v1 ones, and the items name
     each hierarchy: a state of one loads on the other (a boot that added or dropped
     /sys/fs/cgroup/unified), what is no longer mounted is skipped */
  if (strcmp (copy, cgroup_layout_name (layout)) != 0
      && !(layout != CGROUP_LAYOUT_UNIFIED
           && (strcmp (copy, "legacy") == 0 || strcmp (copy, "hybrid") == 0)))
    return ctr_error (err, 0, "cgroup state: created on a %s cgroup layout, the host is now %s",
                      copy, cgroup_layout_name (layout));
  cg = cg_new (layout, NULL);
  /* state.json is input too: the path must pass the same checks as at create */
  cg->path = cgroup_resolve_path (path, NULL, err);
  if (cg->path == NULL)
    goto fail;
  if (*items)
    {
      if (cg_hierarchies (layout, &hs, &nh, err) < 0)
        goto fail;
      cg->m = xzalloc ((nh + 1) * sizeof (*cg->m));
    }
  for (item = strtok_r (items, ",", &save); item; item = strtok_r (NULL, ",", &save))
    if (strncmp (item, "delegated:", 10) == 0
            ? load_delegated (cg, item + 10, err) < 0
            : cg->n < nh && load_member (cg, item, hs, nh, err) < 0)
      goto fail;
  if (check_delegated (cg, err) < 0)
    goto fail;
  if (with_fd && cg_open_v2_fd (cg, NULL) < 0)
    cg->v2_fd = -1;
  *out = cg;
  return 0;

fail:
  cgroup_free (cg);
  return -1;
}

int
cgroup_load (const char *serialized, struct cgroup **out, ctr_error_t *err)
{
  return load_serialized (serialized, true, out, err);
}

/* The hierarchy holding the freezer, in the same table that load_serialized uses. */
static const struct cg_hierarchy *
freezer_hierarchy (enum cgroup_layout layout)
{
  const struct cg_hierarchy *hs = NULL;
  size_t n = 0, i;
  ctr_error_t ignored = NULL;

  if (cg_hierarchies (layout, &hs, &n, &ignored) < 0)
    {
      ctr_error_free (&ignored);
      return NULL;
    }
  for (i = 0; i < n; i++)
    if (layout == CGROUP_LAYOUT_UNIFIED ? hs[i].v2 : !hs[i].v2 && (hs[i].ctrls & CG_FREEZER))
      return &hs[i];
  return NULL;
}

int
cgroup_freezer_mount_open (void)
{
  const struct cg_hierarchy *h = freezer_hierarchy (cgroup_layout_detect ());
  return h ? open (h->mount, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
}

int
cgroup_state_is_frozen (const char *serialized, int mountfd, bool *frozen, ctr_error_t *err)
{
  struct cgroup *cg = NULL;
  bool unified;
  ssize_t i;
  int r = 0;

  /* state, list and every verb ask this of each running container: one open of the
     freezer's file by its path, not of the cgroup's directories first (cgroup_is_frozen) */
  *frozen = false;
  if (load_serialized (serialized, false, &cg, err) < 0)
    return -1;
  unified = cg->layout == CGROUP_LAYOUT_UNIFIED;
  i = cg->n == 0 ? -1 : unified ? 0 : cg_member_find (cg, CG_FREEZER);
  if (i >= 0)
    {
      const char *name = unified ? "cgroup.freeze" : "freezer.state";
      /* member i is freezer_hierarchy's, the mount mountfd is */
      bool relative = mountfd >= 0;
      cleanup_free char *dir = relative ? NULL : cg_member_dir (cg, (size_t)i);
      cleanup_free char *file
          = relative ? xasprintf ("%s/%s", cg->path + 1, name) : xasprintf ("%s/%s", dir, name);
      cleanup_free char *v = NULL;
      r = cg_read (relative ? mountfd : AT_FDCWD, file, &v, err);
      if (r == 0)
        *frozen = unified ? strcmp (v, "1") == 0 : strcmp (v, "THAWED") != 0;
    }
  else if (cg->n > 0)
    r = ctr_error (err, ENOTSUP, "cgroup: the freezer cgroup controller is not mounted");
  cgroup_free (cg);
  return r;
}
