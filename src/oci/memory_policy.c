/* oci/memory_policy: linux.memoryPolicy (runtime-spec 1.3): mode, nodes, flags, and the rules
   that tie them together; the host's nodes are checked by process/ at create. */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "oci/sections.h"
#include "base/util.h"

const char *const oci_memory_policy_modes[] = {
  "MPOL_DEFAULT",   "MPOL_BIND",           "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
  "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL",      NULL,
};

const char *const oci_memory_policy_flags[] = {
  "MPOL_F_NUMA_BALANCING",
  "MPOL_F_RELATIVE_NODES",
  "MPOL_F_STATIC_NODES",
  NULL,
};

static bool
has_flag (const struct oci_memory_policy *mp, const char *flag)
{
  size_t i;
  for (i = 0; i < mp->flags_len; i++)
    if (strcmp (mp->flags[i], flag) == 0)
      return true;
  return false;
}

int
oci_parse_memory_policy (struct oci_pctx *c, const struct json_value *v,
                         struct oci_memory_policy **out)
{
  struct oci_memory_policy *mp = *out = xzalloc (sizeof (*mp));
  bool has, local;
  size_t i;

  if (oci_get_string (c, v, "mode", &mp->mode, NULL) < 0
      || oci_get_string (c, v, "nodes", &mp->nodes, &has) < 0
      || oci_get_strv (c, v, "flags", &mp->flags, &mp->flags_len) < 0)
    return -1;
  if (!oci_str_in (mp->mode, oci_memory_policy_modes))
    return oci_perr_key (c, "mode", "unknown mode \"%s\"", mp->mode);
  for (i = 0; i < mp->flags_len; i++)
    if (!oci_str_in (mp->flags[i], oci_memory_policy_flags))
      return oci_perr_entry (c, "flags", NULL, i, "unknown flag \"%s\"", mp->flags[i]);
  /* an empty string is no list, as runc reads it */
  if (mp->nodes && mp->nodes[0] == '\0')
    {
      free (mp->nodes);
      mp->nodes = NULL;
    }
  /* set_mempolicy(2): the default and local policies take no nodes, the others need some */
  local = strcmp (mp->mode, "MPOL_DEFAULT") == 0 || strcmp (mp->mode, "MPOL_LOCAL") == 0;
  if (local && mp->nodes)
    return oci_perr_key (c, "nodes", "must not be given with mode %s, got \"%s\"", mp->mode,
                         mp->nodes);
  if (!local && mp->nodes == NULL)
    return oci_perr_key (c, "nodes", "required with mode %s", mp->mode);
  if (has_flag (mp, "MPOL_F_STATIC_NODES") && has_flag (mp, "MPOL_F_RELATIVE_NODES"))
    return oci_perr_key (c, "flags",
                         "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other");
  return 0;
}

void
oci_memory_policy_free (struct oci_memory_policy *mp)
{
  if (mp == NULL)
    return;
  free (mp->mode);
  free (mp->nodes);
  strv_free (mp->flags);
  free (mp);
}
