/* oci/rootless: a config meant for root, made to run for an unprivileged user. */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "oci/oci.h"
#include "base/util.h"

static size_t
id_map (struct oci_id_mapping **out, uint32_t self, uint32_t start, uint32_t count)
{
  size_t n = 0;
  *out = xzalloc (2 * sizeof **out);
  (*out)[n++] = (struct oci_id_mapping){ .container_id = 0, .host_id = self, .size = 1 };
  if (count > 0)
    (*out)[n++] = (struct oci_id_mapping){ .container_id = 1, .host_id = start, .size = count };
  return n;
}

static bool
gid_mapped (const struct oci_linux *l, unsigned long gid)
{
  for (size_t i = 0; i < l->gid_mappings_len; i++)
    if (gid >= l->gid_mappings[i].container_id
        && gid - l->gid_mappings[i].container_id < l->gid_mappings[i].size)
      return true;
  return false;
}

/* devpts gid=N with N not mapped is EINVAL for the kernel: drop the option (runc's
   rootless spec leaves it out). */
static void
drop_unmapped_devpts_gid (struct oci_config *c)
{
  for (size_t i = 0; i < c->mounts_len; i++)
    {
      struct oci_mount *m = &c->mounts[i];
      if (m->type == NULL || strcmp (m->type, "devpts") != 0)
        continue;
      for (size_t k = 0; k < m->options_len; k++)
        if (strncmp (m->options[k], "gid=", 4) == 0
            && !gid_mapped (c->linux_, strtoul (m->options[k] + 4, NULL, 10)))
          {
            free (m->options[k]);
            memmove (&m->options[k], &m->options[k + 1], (m->options_len - k) * sizeof (char *));
            m->options_len--;
            k--;
          }
    }
}

bool
oci_config_make_rootless (struct oci_config *c, const struct oci_rootless_ids *ids)
{
  struct oci_linux *l;

  if (c->linux_ == NULL)
    c->linux_ = xzalloc (sizeof *c->linux_);
  l = c->linux_;
  if (oci_config_namespace (c, OCI_NS_USER) != NULL)
    return false;
  l->namespaces = xrealloc (l->namespaces, (l->namespaces_len + 1) * sizeof *l->namespaces);
  l->namespaces[l->namespaces_len++] = (struct oci_namespace){ .type = OCI_NS_USER };
  free (l->uid_mappings);
  free (l->gid_mappings);
  l->uid_mappings_len = id_map (&l->uid_mappings, ids->uid, ids->subuid_start, ids->subuid_count);
  l->gid_mappings_len = id_map (&l->gid_mappings, ids->gid, ids->subgid_start, ids->subgid_count);
  drop_unmapped_devpts_gid (c);
  return true;
}
