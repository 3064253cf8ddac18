/* oci/resources: linux.resources (cgroup limits) of config.json and of `ctr update`. */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "oci/sections.h"
#include "base/util.h"

static int
parse_device_cgroup (struct oci_pctx *c, const struct json_value *v, void *elem, size_t index)
{
  struct oci_device_cgroup *d = elem;
  cleanup_free char *type = NULL;
  bool has;
  const char *p;

  d->major = d->minor = -1;
  if (oci_expect_object (c, v) < 0 || oci_get_bool (c, v, "allow", &d->allow, NULL) < 0
      || oci_get_string (c, v, "type", &type, &has) < 0
      || oci_get_i64 (c, v, "major", -1, INT64_MAX, &d->major, &has) < 0
      || oci_get_i64 (c, v, "minor", -1, INT64_MAX, &d->minor, &has) < 0
      || oci_get_string (c, v, "access", &d->access, &has) < 0)
    return -1;
  d->type = 'a';
  if (type && (strlen (type) != 1 || strchr ("acb", type[0]) == NULL))
    return oci_perr_key (c, "type", "unknown device type \"%s\" (expected a, c or b)", type);
  if (type)
    d->type = type[0];
  /* as runc: an empty or missing access is refused; letters may repeat and come in any
     order, and are kept as the set they name ("mrw", "rrw" -> "rwm", "rw"): the v1
     devices.allow parser reads three letters at most */
  if (d->access == NULL || d->access[0] == '\0')
    return oci_perr_key (c, "access", "required, and must not be empty (r, w and m)");
  for (p = d->access; *p; p++)
    if (strchr ("rwm", *p) == NULL)
      return oci_perr_key (c, "access", "invalid access \"%s\" (a combination of r, w and m)",
                           d->access);
  {
    char set[4];
    int n = 0;
    for (p = "rwm"; *p; p++)
      if (strchr (d->access, *p))
        set[n++] = *p;
    set[n] = '\0';
    strcpy (d->access, set); /* never longer than what it replaces */
  }
  return 0;
}

static int
parse_memory (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_resources *r = out;
  struct oci_memory *m = r->memory = xzalloc (sizeof (*m));

  /* Byte counts, -1 meaning unlimited. */
  if (oci_get_i64 (c, o, "limit", -1, INT64_MAX, &m->limit, &m->has_limit) < 0
      || oci_get_i64 (c, o, "reservation", -1, INT64_MAX, &m->reservation, &m->has_reservation) < 0
      || oci_get_i64 (c, o, "swap", -1, INT64_MAX, &m->swap, &m->has_swap) < 0
      || oci_get_i64 (c, o, "kernel", -1, INT64_MAX, &m->kernel, &m->has_kernel) < 0
      || oci_get_i64 (c, o, "kernelTCP", -1, INT64_MAX, &m->kernel_tcp, &m->has_kernel_tcp) < 0
      || oci_get_u64 (c, o, "swappiness", 100, &m->swappiness, &m->has_swappiness) < 0
      || oci_get_bool (c, o, "disableOOMKiller", &m->disable_oom_killer, &m->has_disable_oom_killer)
             < 0
      || oci_get_bool (c, o, "useHierarchy", &m->use_hierarchy, &m->has_use_hierarchy) < 0
      || oci_get_bool (c, o, "checkBeforeUpdate", &m->check_before_update,
                       &m->has_check_before_update)
             < 0)
    return -1;
  return 0;
}

static int
parse_cpu (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_resources *r = out;
  struct oci_cpu *cpu = r->cpu = xzalloc (sizeof (*cpu));
  bool has;

  if (oci_get_u64 (c, o, "shares", UINT64_MAX, &cpu->shares, &cpu->has_shares) < 0
      || oci_get_i64 (c, o, "quota", INT64_MIN, INT64_MAX, &cpu->quota, &cpu->has_quota) < 0
      || oci_get_u64 (c, o, "burst", UINT64_MAX, &cpu->burst, &cpu->has_burst) < 0
      || oci_get_u64 (c, o, "period", UINT64_MAX, &cpu->period, &cpu->has_period) < 0
      || oci_get_i64 (c, o, "realtimeRuntime", INT64_MIN, INT64_MAX, &cpu->realtime_runtime,
                      &cpu->has_realtime_runtime)
             < 0
      || oci_get_u64 (c, o, "realtimePeriod", UINT64_MAX, &cpu->realtime_period,
                      &cpu->has_realtime_period)
             < 0
      || oci_get_string (c, o, "cpus", &cpu->cpus, &has) < 0
      || oci_get_string (c, o, "mems", &cpu->mems, &has) < 0
      || oci_get_i64 (c, o, "idle", INT64_MIN, INT64_MAX, &cpu->idle, &cpu->has_idle) < 0)
    return -1;
  if (cpu->has_burst && cpu->has_quota && cpu->quota > 0 && cpu->burst > (uint64_t)cpu->quota)
    return oci_perr_key (c, "burst", "must not be larger than quota");
  return 0;
}

/* The device of a blockIO entry. */
static int
get_block_device (struct oci_pctx *c, const struct json_value *v, int64_t *major, int64_t *minor)
{
  if (oci_expect_object (c, v) < 0 || oci_get_i64 (c, v, "major", 0, INT64_MAX, major, NULL) < 0
      || oci_get_i64 (c, v, "minor", 0, INT64_MAX, minor, NULL) < 0)
    return -1;
  return 0;
}

static int
parse_weight_device (struct oci_pctx *c, const struct json_value *v, void *elem, size_t index)
{
  struct oci_blkio_weight_device *d = elem;
  if (get_block_device (c, v, &d->major, &d->minor) < 0
      || oci_get_u16 (c, v, "weight", &d->weight, &d->has_weight) < 0
      || oci_get_u16 (c, v, "leafWeight", &d->leaf_weight, &d->has_leaf_weight) < 0)
    return -1;
  if (!d->has_weight && !d->has_leaf_weight)
    return oci_perr (c, "needs weight or leafWeight");
  return 0;
}

static int
parse_throttle_device (struct oci_pctx *c, const struct json_value *v, void *elem, size_t index)
{
  struct oci_blkio_throttle_device *d = elem;
  if (get_block_device (c, v, &d->major, &d->minor) < 0
      || oci_get_u64 (c, v, "rate", UINT64_MAX, &d->rate, NULL) < 0)
    return -1;
  return 0;
}

static int
parse_throttle_list (struct oci_pctx *c, const struct json_value *o, const char *key,
                     struct oci_blkio_throttle_device **out, size_t *len)
{
  return oci_parse_array (c, o, key, out, sizeof (**out), len, parse_throttle_device);
}

static int
parse_block_io (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_resources *r = out;
  struct oci_block_io *b = r->block_io = xzalloc (sizeof (*b));

  if (oci_get_u16 (c, o, "weight", &b->weight, &b->has_weight) < 0
      || oci_get_u16 (c, o, "leafWeight", &b->leaf_weight, &b->has_leaf_weight) < 0
      || oci_parse_array (c, o, "weightDevice", &b->weight_device, sizeof (*b->weight_device),
                          &b->weight_device_len, parse_weight_device)
             < 0
      || parse_throttle_list (c, o, "throttleReadBpsDevice", &b->throttle_read_bps_device,
                              &b->throttle_read_bps_device_len)
             < 0
      || parse_throttle_list (c, o, "throttleWriteBpsDevice", &b->throttle_write_bps_device,
                              &b->throttle_write_bps_device_len)
             < 0
      || parse_throttle_list (c, o, "throttleReadIOPSDevice", &b->throttle_read_iops_device,
                              &b->throttle_read_iops_device_len)
             < 0
      || parse_throttle_list (c, o, "throttleWriteIOPSDevice", &b->throttle_write_iops_device,
                              &b->throttle_write_iops_device_len)
             < 0)
    return -1;
  return 0;
}

/* "2MB": the size becomes part of a cgroup file name, so nothing but digits and a unit. */
static bool
valid_page_size (const char *s)
{
  const char *p = s;
  while (*p >= '0' && *p <= '9')
    p++;
  if (p == s)
    return false;
  if (*p && strchr ("KMGTPE", *p))
    p++;
  return strcmp (p, "B") == 0;
}

static int
parse_hugepage_limit (struct oci_pctx *c, const struct json_value *v, void *elem, size_t index)
{
  struct oci_hugepage_limit *h = elem;
  if (oci_expect_object (c, v) < 0 || oci_get_string (c, v, "pageSize", &h->page_size, NULL) < 0
      || oci_get_u64 (c, v, "limit", UINT64_MAX, &h->limit, NULL) < 0)
    return -1;
  if (!valid_page_size (h->page_size))
    return oci_perr_key (c, "pageSize", "invalid page size \"%s\" (like 2MB or 1GB)", h->page_size);
  return 0;
}

/* Names that end up inside cgroup files as "name value" lines. */
static bool
valid_token (const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '/')
      return false;
  return true;
}

static int
parse_net_priority (struct oci_pctx *c, const struct json_value *v, void *elem, size_t index)
{
  struct oci_net_priority *p = elem;
  if (oci_expect_object (c, v) < 0 || oci_get_string (c, v, "name", &p->name, NULL) < 0
      || oci_get_u32 (c, v, "priority", &p->priority, NULL) < 0)
    return -1;
  if (!valid_token (p->name))
    return oci_perr_key (c, "name", "invalid interface name \"%s\"", p->name);
  return 0;
}

static int
parse_network (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_resources *r = out;

  if (oci_get_u32 (c, o, "classID", &r->network_class_id, &r->has_network_class_id) < 0
      || oci_parse_array (c, o, "priorities", &r->network_priorities,
                          sizeof (*r->network_priorities), &r->network_priorities_len,
                          parse_net_priority)
             < 0)
    return -1;
  return 0;
}

static int
parse_rdma_entry (struct oci_pctx *c, const char *name, const struct json_value *v,
                  struct oci_rdma *d)
{
  d->device = xstrdup (name);
  if (!valid_token (name))
    return oci_perr (c, "invalid rdma device name");
  if (oci_expect_object (c, v) < 0
      || oci_get_u32 (c, v, "hcaHandles", &d->hca_handles, &d->has_hca_handles) < 0
      || oci_get_u32 (c, v, "hcaObjects", &d->hca_objects, &d->has_hca_objects) < 0)
    return -1;
  if (!d->has_hca_handles && !d->has_hca_objects)
    return oci_perr (c, "needs hcaHandles or hcaObjects");
  return 0;
}

static int
parse_rdma (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_resources *r = out;
  size_t i;
  int ret = 0;

  r->rdma = xzalloc ((o->len ? o->len : 1) * sizeof (*r->rdma));
  r->rdma_len = o->len;
  for (i = 0; i < o->len && ret == 0; i++)
    {
      oci_push_map (c, o->keys[i]);
      ret = parse_rdma_entry (c, o->keys[i], &o->items[i], &r->rdma[i]);
      oci_pop (c);
    }
  return ret;
}

/* unified keys are cgroup file names: a slash or a dot-name would leave the cgroup. */
static int
check_unified (struct oci_pctx *c, const struct oci_resources *r)
{
  size_t i;
  for (i = 0; i < r->unified_len; i++)
    {
      const char *k = r->unified[i].key;
      if (*k == '\0' || *k == '.' || strchr (k, '/'))
        return oci_perr_entry (c, "unified", k, 0, "not a cgroup file name");
    }
  return 0;
}

static int
parse_pids (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_resources *r = out;
  return oci_get_i64 (c, o, "limit", INT64_MIN, INT64_MAX, &r->pids_limit, &r->has_pids_limit);
}

int
oci_parse_resources (struct oci_pctx *c, const struct json_value *v, struct oci_resources **out)
{
  struct oci_resources *r;

  if (oci_expect_object (c, v) < 0)
    return -1;
  r = *out = xzalloc (sizeof (*r));
  if (oci_parse_array (c, v, "devices", &r->devices, sizeof (*r->devices), &r->devices_len,
                       parse_device_cgroup)
          < 0
      || oci_parse_object (c, v, "memory", parse_memory, r) < 0
      || oci_parse_object (c, v, "cpu", parse_cpu, r) < 0
      || oci_parse_object (c, v, "pids", parse_pids, r) < 0
      || oci_parse_object (c, v, "blockIO", parse_block_io, r) < 0
      || oci_parse_array (c, v, "hugepageLimits", &r->hugepage_limits, sizeof (*r->hugepage_limits),
                          &r->hugepage_limits_len, parse_hugepage_limit)
             < 0
      || oci_parse_object (c, v, "network", parse_network, r) < 0
      || oci_parse_object (c, v, "rdma", parse_rdma, r) < 0
      || oci_get_kv (c, v, "unified", &r->unified, &r->unified_len) < 0)
    return -1;
  return check_unified (c, r);
}

static void
block_io_free (struct oci_block_io *b)
{
  if (b == NULL)
    return;
  free (b->weight_device);
  free (b->throttle_read_bps_device);
  free (b->throttle_write_bps_device);
  free (b->throttle_read_iops_device);
  free (b->throttle_write_iops_device);
  free (b);
}

void
oci_resources_free (struct oci_resources *r)
{
  size_t i;
  if (r == NULL)
    return;
  for (i = 0; r->devices && i < r->devices_len; i++)
    free (r->devices[i].access);
  free (r->devices);
  free (r->memory);
  if (r->cpu)
    {
      free (r->cpu->cpus);
      free (r->cpu->mems);
    }
  free (r->cpu);
  block_io_free (r->block_io);
  for (i = 0; r->hugepage_limits && i < r->hugepage_limits_len; i++)
    free (r->hugepage_limits[i].page_size);
  free (r->hugepage_limits);
  for (i = 0; r->network_priorities && i < r->network_priorities_len; i++)
    free (r->network_priorities[i].name);
  free (r->network_priorities);
  for (i = 0; r->rdma && i < r->rdma_len; i++)
    free (r->rdma[i].device);
  free (r->rdma);
  oci_kv_free (r->unified, r->unified_len);
  free (r);
}

int
oci_resources_parse (const char *data, size_t len, const char *origin, struct oci_resources **out,
                     ctr_error_t *err)
{
  struct oci_pctx c;
  json_value *doc;
  int r;

  doc = oci_parse_begin (&c, data, len, origin ? origin : "resources", err);
  if (doc == NULL)
    return -1;
  *out = NULL;
  r = oci_parse_resources (&c, doc, out);
  json_value_free (doc);
  if (r < 0)
    {
      oci_resources_free (*out);
      *out = NULL;
    }
  return r;
}
