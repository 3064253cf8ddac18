/* oci/load: reading a whole config.json (top level, sections, rules across them); freeing it. */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "oci/sections.h"
#include "base/util.h"

static int
parse_root (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_root *root = out;
  bool has;

  if (oci_get_string (c, o, "path", &root->path, NULL) < 0
      || oci_get_bool (c, o, "readonly", &root->readonly, &has) < 0)
    return -1;
  if (root->path[0] == '\0')
    return oci_perr_key (c, "path", "must not be empty");
  return 0;
}

static int
parse_process (struct oci_pctx *c, const struct json_value *o, void *cfg)
{
  return oci_parse_process (c, o, &((struct oci_config *)cfg)->process);
}

static int
parse_mount (struct oci_pctx *c, const struct json_value *v, void *elem, size_t index)
{
  struct oci_mount *m = elem;
  bool has;
  if (oci_expect_object (c, v) < 0
      || oci_get_string (c, v, "destination", &m->destination, NULL) < 0
      || oci_get_string (c, v, "type", &m->type, &has) < 0
      || oci_get_string (c, v, "source", &m->source, &has) < 0
      || oci_get_strv (c, v, "options", &m->options, &m->options_len) < 0
      || oci_get_id_mappings (c, v, "uidMappings", &m->uid_mappings, &m->uid_mappings_len) < 0
      || oci_get_id_mappings (c, v, "gidMappings", &m->gid_mappings, &m->gid_mappings_len) < 0)
    return -1;
  if (m->destination[0] == '\0')
    return oci_perr_key (c, "destination", "must not be empty");
  /* runc accepts relative destinations (taken from the root); they must stay inside. */
  if (!oci_path_is_absolute (m->destination) && oci_path_escapes (m->destination))
    return oci_perr_key (c, "destination", "relative path \"%s\" leaves the container root",
                         m->destination);
  return 0;
}

static int
parse_hook (struct oci_pctx *c, const struct json_value *v, void *elem, size_t index)
{
  struct oci_hook *h = elem;
  if (oci_expect_object (c, v) < 0 || oci_get_string (c, v, "path", &h->path, NULL) < 0
      || oci_get_strv (c, v, "args", &h->args, &h->args_len) < 0
      || oci_get_strv (c, v, "env", &h->env, &h->env_len) < 0
      || oci_get_int (c, v, "timeout", 1, INT32_MAX, &h->timeout, &h->has_timeout) < 0)
    return -1;
  if (!oci_path_is_absolute (h->path))
    return oci_perr_key (c, "path", "must be an absolute path, got \"%s\"", h->path);
  return 0;
}

static int
parse_hooks (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_hooks *hooks = out;
  int stage;

  for (stage = 0; stage < OCI_HOOK_STAGES; stage++)
    if (oci_parse_array (c, o, oci_hook_stage_name (stage), &hooks->hooks[stage],
                         sizeof (struct oci_hook), &hooks->len[stage], parse_hook)
        < 0)
      return -1;
  return 0;
}

static int
parse_linux (struct oci_pctx *c, const struct json_value *o, void *cfg)
{
  return oci_parse_linux (c, o, &((struct oci_config *)cfg)->linux_);
}

/* "/", "//", "/.", "." and "" name the container's root. */
static bool
names_root (const char *dest)
{
  const char *p;
  for (p = dest; *p; p++)
    if (*p != '/' && !(*p == '.' && (p[1] == '/' || p[1] == '\0') && (p == dest || p[-1] == '/')))
      return false;
  return true;
}

/* Without a mount namespace of its own the container shares the caller's: nothing can be
   masked there (runc: "unable to restrict sys entries without a private MNT namespace"),
   and a mount over its root would cover the root ctr chroots into. */
static int
validate_shared_mount_ns (struct oci_pctx *c, const struct oci_config *cfg)
{
  const struct oci_linux *l = cfg->linux_;
  size_t i;

  if (oci_config_namespace (cfg, OCI_NS_MOUNT) != NULL)
    return 0;
  if (l && l->masked_paths_len)
    return oci_perr_key (c, "linux.maskedPaths",
                         "needs a mount namespace (no `mount` entry in linux.namespaces)");
  if (l && l->readonly_paths_len)
    return oci_perr_key (c, "linux.readonlyPaths",
                         "needs a mount namespace (no `mount` entry in linux.namespaces)");
  for (i = 0; i < cfg->mounts_len; i++)
    if (names_root (cfg->mounts[i].destination))
      return oci_perr_entry (c, "mounts", NULL, i,
                             "destination `%s` (the root) needs a mount namespace (no `mount` "
                             "entry in linux.namespaces)",
                             cfg->mounts[i].destination);
  return 0;
}

/* Rules that tie sections together (runc's config validator, minus the kernel probes). */
static int
validate_config (struct oci_pctx *c, const struct oci_config *cfg)
{
  const struct oci_namespace *user = oci_config_namespace (cfg, OCI_NS_USER);
  const struct oci_linux *l = cfg->linux_;
  bool mappings = l && (l->uid_mappings || l->gid_mappings);

  if ((cfg->hostname && cfg->hostname[0]) && !oci_config_namespace (cfg, OCI_NS_UTS))
    return oci_perr_key (c, "hostname", "cannot be set without a uts namespace");
  if ((cfg->domainname && cfg->domainname[0]) && !oci_config_namespace (cfg, OCI_NS_UTS))
    return oci_perr_key (c, "domainname", "cannot be set without a uts namespace");
  if (user == NULL && mappings)
    return oci_perr_key (c, "linux.uidMappings",
                         "user namespace mappings given but no user namespace is configured");
  if (user && user->path == NULL && !mappings)
    return oci_perr_key (c, "linux.namespaces",
                         "a new user namespace needs linux.uidMappings and linux.gidMappings");
  if (user && user->path == NULL && (l->uid_mappings == NULL || l->gid_mappings == NULL))
    return oci_perr_key (c, l->uid_mappings ? "linux.gidMappings" : "linux.uidMappings",
                         "required with a new user namespace");
  if (l && (l->time_offset_monotonic.present || l->time_offset_boottime.present)
      && oci_config_namespace (cfg, OCI_NS_TIME) == NULL)
    return oci_perr_key (c, "linux.timeOffsets", "given but no time namespace is configured");
  if (oci_check_mount_idmaps (c, cfg) < 0)
    return -1;
  return validate_shared_mount_ns (c, cfg);
}

static int
parse_document (struct oci_pctx *c, const struct json_value *doc, struct oci_config *cfg)
{
  bool has;
  if (oci_expect_object (c, doc) < 0)
    return -1;
  if (oci_get_string (c, doc, "ociVersion", &cfg->oci_version, &has) < 0)
    return -1;
  if (json_member (doc, "root") == NULL)
    return oci_perr_key (c, "root", "required but missing");
  if (oci_parse_object (c, doc, "root", parse_root, &cfg->root) < 0
      || oci_parse_object (c, doc, "process", parse_process, cfg) < 0
      || oci_get_string (c, doc, "hostname", &cfg->hostname, &has) < 0
      || oci_get_string (c, doc, "domainname", &cfg->domainname, &has) < 0
      || oci_parse_array (c, doc, "mounts", &cfg->mounts, sizeof (*cfg->mounts), &cfg->mounts_len,
                          parse_mount)
             < 0
      || oci_parse_object (c, doc, "hooks", parse_hooks, &cfg->hooks) < 0
      || oci_get_kv (c, doc, "annotations", &cfg->annotations, &cfg->annotations_len) < 0
      || oci_parse_object (c, doc, "linux", parse_linux, cfg) < 0)
    return -1;
  return validate_config (c, cfg);
}

int
oci_config_parse (const char *data, size_t len, const char *origin, struct oci_config **out,
                  ctr_error_t *err)
{
  struct oci_config *cfg;
  struct oci_pctx c;
  json_value *doc;
  int r;

  doc = oci_parse_begin (&c, data, len, origin ? origin : "config.json", err);
  if (doc == NULL)
    return -1;
  cfg = xzalloc (sizeof (*cfg));
  r = parse_document (&c, doc, cfg);
  json_value_free (doc);
  if (r < 0)
    {
      oci_config_free (cfg);
      return -1;
    }
  *out = cfg;
  return 0;
}

int
oci_config_load_at (int dirfd, const char *path, struct oci_config **out, ctr_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;

  if (read_file_at (dirfd, path, OCI_CONFIG_MAX_SIZE, &data, &len, err) < 0)
    return -1;
  return oci_config_parse (data, len, path, out, err);
}

static void
mount_free (struct oci_mount *m)
{
  free (m->destination);
  free (m->type);
  free (m->source);
  strv_free (m->options);
  free (m->uid_mappings);
  free (m->gid_mappings);
}

static void
hooks_free (struct oci_hooks *h)
{
  size_t s, i;
  for (s = 0; s < OCI_HOOK_STAGES; s++)
    {
      for (i = 0; h->hooks[s] && i < h->len[s]; i++)
        {
          free (h->hooks[s][i].path);
          strv_free (h->hooks[s][i].args);
          strv_free (h->hooks[s][i].env);
        }
      free (h->hooks[s]);
    }
}

void
oci_config_free (struct oci_config *c)
{
  size_t i;
  if (c == NULL)
    return;
  free (c->oci_version);
  free (c->root.path);
  oci_process_free (c->process);
  free (c->hostname);
  free (c->domainname);
  for (i = 0; c->mounts && i < c->mounts_len; i++)
    mount_free (&c->mounts[i]);
  free (c->mounts);
  hooks_free (&c->hooks);
  oci_kv_free (c->annotations, c->annotations_len);
  oci_linux_free (c->linux_);
  free (c);
}
