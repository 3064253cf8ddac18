/* oci/linux: the `linux` object of config.json (namespaces, id maps, devices, paths ...). */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "oci/sections.h"
#include "base/util.h"

static const char *const propagation_modes[]
    = { "shared", "slave",    "private",     "unbindable", "rshared",
        "rslave", "rprivate", "runbindable", NULL };

static const char *const personality_domains[] = { "LINUX", "LINUX32", NULL };

static int
ns_type_parse (const char *name)
{
  int t;
  for (t = 0; t < OCI_NS_COUNT; t++)
    if (strcmp (oci_ns_type_name (t), name) == 0)
      return t;
  return -1;
}

static int
parse_namespace (struct oci_pctx *c, const struct json_value *v, void *elem, size_t idx)
{
  struct oci_namespace *ns = elem, *all = ns - idx;
  cleanup_free char *type = NULL;
  bool has;
  size_t j;
  int t;

  if (oci_expect_object (c, v) < 0 || oci_get_string (c, v, "type", &type, NULL) < 0
      || oci_get_string (c, v, "path", &ns->path, &has) < 0)
    return -1;
  t = ns_type_parse (type);
  if (t < 0)
    return oci_perr_key (c, "type", "unknown namespace type \"%s\"", type);
  ns->type = t;
  for (j = 0; j < idx; j++)
    if (all[j].type == ns->type)
      return oci_perr_key (c, "type", "duplicate namespace type \"%s\"", type);
  /* as runc reads it: an empty path is no path, a namespace of its own */
  if (ns->path && ns->path[0] == '\0')
    {
      free (ns->path);
      ns->path = NULL;
    }
  if (ns->path && !oci_path_is_absolute (ns->path))
    return oci_perr_key (c, "path", "must be an absolute path, got \"%s\"", ns->path);
  return 0;
}

static int
parse_time_offset (struct oci_pctx *c, const struct json_value *v, struct oci_time_offset *off)
{
  bool has;
  if (oci_expect_object (c, v) < 0
      || oci_get_i64 (c, v, "secs", INT64_MIN, INT64_MAX, &off->secs, &has) < 0
      || oci_get_u32 (c, v, "nanosecs", &off->nanosecs, &has) < 0)
    return -1;
  if (off->nanosecs >= 1000000000u)
    return oci_perr_key (c, "nanosecs", "must be less than 1000000000");
  off->present = true;
  return 0;
}

static int
parse_time_offsets (struct oci_pctx *c, const struct json_value *t, void *out)
{
  struct oci_linux *l = out;
  size_t i;
  int r = 0;

  for (i = 0; i < t->len && r == 0; i++)
    {
      const char *clock = t->keys[i];
      oci_push_key (c, clock);
      if (strcmp (clock, "monotonic") == 0)
        r = parse_time_offset (c, &t->items[i], &l->time_offset_monotonic);
      else if (strcmp (clock, "boottime") == 0)
        r = parse_time_offset (c, &t->items[i], &l->time_offset_boottime);
      else
        r = oci_perr (c, "unknown clock (expected monotonic or boottime)");
      oci_pop (c);
    }
  return r;
}

static int
parse_device (struct oci_pctx *c, const struct json_value *v, void *elem, size_t index)
{
  struct oci_device *d = elem;
  cleanup_free char *type = NULL;
  bool has_major = false, has_minor = false;

  if (oci_expect_object (c, v) < 0 || oci_get_string (c, v, "type", &type, NULL) < 0
      || oci_get_string (c, v, "path", &d->path, NULL) < 0
      || oci_get_i64 (c, v, "major", INT64_MIN, INT64_MAX, &d->major, &has_major) < 0
      || oci_get_i64 (c, v, "minor", INT64_MIN, INT64_MAX, &d->minor, &has_minor) < 0
      || oci_get_u32 (c, v, "fileMode", &d->file_mode, &d->has_file_mode) < 0
      || oci_get_u32 (c, v, "uid", &d->uid, &d->has_uid) < 0
      || oci_get_u32 (c, v, "gid", &d->gid, &d->has_gid) < 0)
    return -1;
  if (strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
    return oci_perr_key (c, "type", "unknown device type \"%s\" (expected c, b, u or p)", type);
  d->type = type[0];
  if (!oci_path_is_absolute (d->path))
    return oci_perr_key (c, "path", "must be an absolute path, got \"%s\"", d->path);
  if (d->type != 'p' && (!has_major || !has_minor))
    return oci_perr_key (c, has_major ? "minor" : "major", "required for device type %c", d->type);
  if (d->type != 'p' && (d->major < 0 || d->minor < 0 || d->major > 0xfff || d->minor > 0xfffff))
    return oci_perr (c, "device number %lld:%lld out of range", (long long)d->major,
                     (long long)d->minor);
  return 0;
}

static int
parse_resources (struct oci_pctx *c, const struct json_value *o, void *l)
{
  return oci_parse_resources (c, o, &((struct oci_linux *)l)->resources);
}

static int
parse_personality (struct oci_pctx *c, const struct json_value *p, void *out)
{
  struct oci_linux *l = out;
  struct oci_personality *pers = l->personality = xzalloc (sizeof (*pers));

  if (oci_get_string (c, p, "domain", &pers->domain, NULL) < 0
      || oci_get_strv (c, p, "flags", &pers->flags, &pers->flags_len) < 0)
    return -1;
  if (!oci_str_in (pers->domain, personality_domains))
    return oci_perr_key (c, "domain", "unknown personality domain \"%s\"", pers->domain);
  return 0;
}

static int
check_absolute_paths (struct oci_pctx *c, const char *key, char **paths, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (!oci_path_is_absolute (paths[i]))
      return oci_perr_entry (c, key, NULL, i, "must be an absolute path, got \"%s\"", paths[i]);
  return 0;
}

static int
parse_memory_policy (struct oci_pctx *c, const struct json_value *o, void *l)
{
  return oci_parse_memory_policy (c, o, &((struct oci_linux *)l)->memory_policy);
}

static int
parse_seccomp (struct oci_pctx *c, const struct json_value *o, void *l)
{
  return oci_parse_seccomp (c, o, &((struct oci_linux *)l)->seccomp);
}

int
oci_parse_linux (struct oci_pctx *c, const struct json_value *v, struct oci_linux **out)
{
  struct oci_linux *l;
  bool has;

  if (oci_expect_object (c, v) < 0)
    return -1;
  l = *out = xzalloc (sizeof (*l));
  if (oci_parse_array (c, v, "namespaces", &l->namespaces, sizeof (*l->namespaces),
                       &l->namespaces_len, parse_namespace)
          < 0
      || oci_get_id_mappings (c, v, "uidMappings", &l->uid_mappings, &l->uid_mappings_len) < 0
      || oci_get_id_mappings (c, v, "gidMappings", &l->gid_mappings, &l->gid_mappings_len) < 0
      || oci_parse_object (c, v, "timeOffsets", parse_time_offsets, l) < 0
      || oci_parse_array (c, v, "devices", &l->devices, sizeof (*l->devices), &l->devices_len,
                          parse_device)
             < 0
      || oci_get_string (c, v, "cgroupsPath", &l->cgroups_path, &has) < 0
      || oci_get_string (c, v, "rootfsPropagation", &l->rootfs_propagation, &has) < 0
      || oci_get_kv (c, v, "sysctl", &l->sysctl, &l->sysctl_len) < 0
      || oci_get_strv (c, v, "maskedPaths", &l->masked_paths, &l->masked_paths_len) < 0
      || oci_get_strv (c, v, "readonlyPaths", &l->readonly_paths, &l->readonly_paths_len) < 0
      || oci_get_string (c, v, "mountLabel", &l->mount_label, &has) < 0
      || oci_parse_object (c, v, "personality", parse_personality, l) < 0
      || oci_parse_object (c, v, "resources", parse_resources, l) < 0
      || oci_parse_object (c, v, "seccomp", parse_seccomp, l) < 0
      || oci_parse_object (c, v, "memoryPolicy", parse_memory_policy, l) < 0)
    return -1;
  l->has_intel_rdt = json_member (v, "intelRdt") != NULL;
  if (l->rootfs_propagation && !oci_str_in (l->rootfs_propagation, propagation_modes))
    return oci_perr_key (c, "rootfsPropagation", "unknown propagation mode \"%s\"",
                         l->rootfs_propagation);
  if (check_absolute_paths (c, "maskedPaths", l->masked_paths, l->masked_paths_len) < 0
      || check_absolute_paths (c, "readonlyPaths", l->readonly_paths, l->readonly_paths_len) < 0)
    return -1;
  return 0;
}

void
oci_linux_free (struct oci_linux *l)
{
  size_t i;
  if (l == NULL)
    return;
  for (i = 0; l->namespaces && i < l->namespaces_len; i++)
    free (l->namespaces[i].path);
  free (l->namespaces);
  free (l->uid_mappings);
  free (l->gid_mappings);
  for (i = 0; l->devices && i < l->devices_len; i++)
    free (l->devices[i].path);
  free (l->devices);
  free (l->cgroups_path);
  oci_resources_free (l->resources);
  free (l->rootfs_propagation);
  oci_seccomp_free (l->seccomp);
  oci_memory_policy_free (l->memory_policy);
  oci_kv_free (l->sysctl, l->sysctl_len);
  strv_free (l->masked_paths);
  strv_free (l->readonly_paths);
  free (l->mount_label);
  if (l->personality)
    {
      free (l->personality->domain);
      strv_free (l->personality->flags);
    }
  free (l->personality);
  free (l);
}

/* A sysctl is only allowed where the container has its own namespace for it: anything
   else would change the host (runc's rules). */
int
oci_check_sysctls (const struct oci_config *cfg, const char *origin, ctr_error_t *err)
{
  static const char *const ipc_keys[]
      = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
          "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced" };
  const struct oci_linux *l = cfg->linux_;
  size_t i, k;

  for (i = 0; l && i < l->sysctl_len; i++)
    {
      const char *key = l->sysctl[i].key;
      enum oci_ns_type need = OCI_NS_COUNT;
      /* as runc: the hostname field sets it, and the two would fight */
      if (strcmp (key, "kernel.hostname") == 0)
        return ctr_error (err, 0,
                          "%s: linux.sysctl: `kernel.hostname` is not allowed: it conflicts "
                          "with the `hostname` field (set that instead)",
                          origin);
      for (k = 0; k < ARRAY_SIZE (ipc_keys); k++)
        if (strcmp (key, ipc_keys[k]) == 0)
          need = OCI_NS_IPC;
      if (strncmp (key, "fs.mqueue.", 10) == 0)
        need = OCI_NS_IPC;
      else if (strncmp (key, "net.", 4) == 0)
        need = OCI_NS_NETWORK;
      else if (strcmp (key, "kernel.hostname") == 0 || strcmp (key, "kernel.domainname") == 0)
        need = OCI_NS_UTS;
      if (need == OCI_NS_COUNT)
        return ctr_error (err, 0,
                          "%s: linux.sysctl: `%s` is not namespaced: setting it would "
                          "change the host",
                          origin, key);
      if (oci_config_namespace (cfg, need) == NULL)
        return ctr_error (err, 0, "%s: linux.sysctl: `%s` needs a %s namespace", origin, key,
                          oci_ns_type_name (need));
    }
  return 0;
}
