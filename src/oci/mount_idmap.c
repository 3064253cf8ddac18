/* oci/mount_idmap: the rules of idmapped mounts (mounts[].uidMappings/gidMappings and the
   idmap/ridmap options, runtime-spec 1.2), checked when config.json is read. */
#include <config.h>
#include <string.h>

#include "oci/sections.h"
#include "base/util.h"

/* The kernel takes at most this many lines in a uid_map or gid_map. */
#define ID_MAP_MAX_LINES 340

static bool
has_option (const struct oci_mount *m, const char *a, const char *b)
{
  size_t i;
  for (i = 0; i < m->options_len; i++)
    if (strcmp (m->options[i], a) == 0 || (b && strcmp (m->options[i], b) == 0))
      return true;
  return false;
}

static bool
ranges_overlap (uint32_t a, uint32_t b, uint32_t size_a, uint32_t size_b)
{
  return (uint64_t)a < (uint64_t)b + size_b && (uint64_t)b < (uint64_t)a + size_a;
}

/* A map the kernel would refuse: too many lines, or ranges that overlap inside or outside
   (writing it says only EINVAL). */
static int
check_ranges (struct oci_pctx *c, const char *key, const struct oci_id_mapping *m, size_t n)
{
  size_t i, j;

  if (n > ID_MAP_MAX_LINES)
    return oci_perr_key (c, key, "%zu ranges, more than the kernel's %d", n, ID_MAP_MAX_LINES);
  for (i = 0; i < n; i++)
    for (j = 0; j < i; j++)
      if (ranges_overlap (m[i].container_id, m[j].container_id, m[i].size, m[j].size)
          || ranges_overlap (m[i].host_id, m[j].host_id, m[i].size, m[j].size))
        return oci_perr_entry (c, key, NULL, i, "overlaps %s[%zu]", key, j);
  return 0;
}

static int
check_mount (struct oci_pctx *c, const struct oci_mount *m)
{
  bool mappings = m->uid_mappings_len || m->gid_mappings_len;
  bool idmap = has_option (m, "idmap", "ridmap");
  bool bind = has_option (m, "bind", "rbind")
              || (m->type && (strcmp (m->type, "bind") == 0 || strcmp (m->type, "rbind") == 0));

  if (!mappings && !idmap)
    return 0;
  if (m->uid_mappings_len == 0 && m->gid_mappings_len)
    return oci_perr_key (c, "uidMappings", "required with gidMappings");
  if (m->gid_mappings_len == 0 && m->uid_mappings_len)
    return oci_perr_key (c, "gidMappings", "required with uidMappings");
  /* the spec's SHOULD, made a rule: a runtime that ignored the mappings would hand the
     container the source's own ids, and the option is what makes an older one refuse */
  if (mappings && !idmap)
    return oci_perr_key (c, "options",
                         "uidMappings and gidMappings need the option \"idmap\" (or \"ridmap\" "
                         "for the submounts of an rbind too)");
  if (!bind)
    return oci_perr_key (c, "options",
                         "an idmapped mount must be a bind mount (option \"bind\" or \"rbind\")");
  /* idmap without mappings needs a user namespace: checked at create (rootfs/idmap.c), as a
     rootless container gets one only then */
  if (check_ranges (c, "uidMappings", m->uid_mappings, m->uid_mappings_len) < 0
      || check_ranges (c, "gidMappings", m->gid_mappings, m->gid_mappings_len) < 0)
    return -1;
  return 0;
}

int
oci_check_mount_idmaps (struct oci_pctx *c, const struct oci_config *cfg)
{
  size_t i;
  int r = 0;

  oci_push_key (c, "mounts");
  for (i = 0; i < cfg->mounts_len && r == 0; i++)
    {
      oci_push_index (c, i);
      r = check_mount (c, &cfg->mounts[i]);
      oci_pop (c);
    }
  oci_pop (c);
  return r;
}
