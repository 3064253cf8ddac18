/* config_keys_limits: the cgroup-limit keys of `ctr config` (memory, swap, cpus,
   cpu.shares/cpu.weight, cpuset, pids, blkio.weight) and `ctr update`'s persistence. */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/json.h"
#include "base/util.h"
#include "process/cpulist.h"
#include "system/config_keys_limits.h"

#define CPU_PERIOD 100000

/* ------------------------------------------------------------ cgroup limits */

/* memory.limit / memory.swap: a size, or max/none (no limit). */
static int
set_memory_member (struct key_ctx *k, const char *member, const char *value, ctr_error_t *err)
{
  json_node *mem = jnode_path (k->config, RES ".memory", true);
  int64_t v, other;
  bool swap = strcmp (member, "swap") == 0;

  if (is_none (value))
    {
      jnode_remove (mem, member);
      jnode_prune (k->config, RES ".memory");
      return 0;
    }
  if (parse_bytes (value, &v) < 0)
    return ctr_error (err, 0, "%s: `%s` is not a size (bytes, or with K, M, G, T; or max)", k->key,
                      value);
  if (!swap && v < 4 * 1024 * 1024)
    return ctr_error (err, 0, "%s: `%s` is below the 4M an init needs", k->key, value);
  /* OCI's swap is memory + swap, as runc's --memory-swap: never below the memory limit */
  if (jnode_int (jnode_get (mem, swap ? "limit" : "swap"), &other) && other > 0
      && (swap ? v < other : v > other))
    return ctr_error (err, 0, "%s: `%s` %s swap (memory + swap) %s", k->key, value,
                      swap ? "is below memory" : "is above", format_bytes (other));
  jnode_set (mem, member, jnode_new_int (v));
  return 0;
}

static char *
get_memory_member (struct key_ctx *k, const char *member)
{
  int64_t v;
  if (jnode_int (jnode_get (jnode_path (k->config, RES ".memory", false), member), &v) && v > 0)
    return format_bytes (v);
  return xstrdup ("max");
}

int
set_memory (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_memory_member (k, "limit", value, err);
}

char *
get_memory (struct key_ctx *k)
{
  return get_memory_member (k, "limit");
}

int
set_swap (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_memory_member (k, "swap", value, err);
}

char *
get_swap (struct key_ctx *k)
{
  return get_memory_member (k, "swap");
}

/* cpus: quota over a 100 ms period. */
int
set_cpus (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *cpu = jnode_path (k->config, RES ".cpu", true);
  char *end;
  double v;

  if (is_none (value))
    {
      jnode_remove (cpu, "quota");
      jnode_remove (cpu, "period");
      jnode_prune (k->config, RES ".cpu");
      return 0;
    }
  errno = 0;
  v = strtod (value, &end);
  if (errno || end == value || *end || !isdigit ((unsigned char)*value) || v < 0.01 || v > 1024)
    return ctr_error (err, 0, "%s: `%s` is not a number of CPUs (0.01-1024, e.g. 1.5; or max)",
                      k->key, value);
  jnode_set (cpu, "quota", jnode_new_int ((int64_t)(v * CPU_PERIOD + 0.5)));
  jnode_set (cpu, "period", jnode_new_int (CPU_PERIOD));
  return 0;
}

char *
get_cpus (struct key_ctx *k)
{
  json_node *cpu = jnode_path (k->config, RES ".cpu", false);
  int64_t q, p;
  if (jnode_int (jnode_get (cpu, "quota"), &q) && q > 0)
    {
      if (!jnode_int (jnode_get (cpu, "period"), &p) || p <= 0)
        p = CPU_PERIOD;
      return xasprintf ("%g", (double)q / (double)p);
    }
  return xstrdup ("max");
}

/* cgroup v1 shares and v2 weight are one setting: OCI's cpu.shares, which the unified
   driver writes as a weight with crun's conversion. */
static uint64_t
shares_to_weight (uint64_t shares)
{
  return 1 + ((shares - 2) * 9999) / 262142;
}

static int
set_shares_value (struct key_ctx *k, const char *value, bool weight, ctr_error_t *err)
{
  json_node *cpu = jnode_path (k->config, RES ".cpu", true);
  int64_t v;

  if (is_none (value))
    {
      jnode_remove (cpu, "shares");
      jnode_prune (k->config, RES ".cpu");
      return 0;
    }
  if (weight ? parse_range (value, 1, 10000, &v) < 0 : parse_range (value, 2, 262144, &v) < 0)
    return ctr_error (err, 0, "%s: `%s` is not a number from %s", k->key, value,
                      weight ? "1 to 10000" : "2 to 262144");
  /* the smallest shares that convert back to this weight */
  if (weight)
    v = 2 + ((v - 1) * 262142 + 9998) / 9999;
  jnode_set (cpu, "shares", jnode_new_int (v));
  return 0;
}

int
set_shares (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_shares_value (k, value, false, err);
}

int
set_weight (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_shares_value (k, value, true, err);
}

char *
get_shares (struct key_ctx *k)
{
  return int_text (jnode_get (jnode_path (k->config, RES ".cpu", false), "shares"), "default");
}

char *
get_weight (struct key_ctx *k)
{
  int64_t v;
  if (jnode_int (jnode_get (jnode_path (k->config, RES ".cpu", false), "shares"), &v) && v >= 2
      && v <= 262144)
    return xasprintf ("%" PRIu64, shares_to_weight ((uint64_t)v));
  return xstrdup ("default");
}

static int
set_cpuset (struct key_ctx *k, const char *member, const char *value, ctr_error_t *err)
{
  json_node *cpu = jnode_path (k->config, RES ".cpu", true);
  cpu_set_t *set = NULL;
  size_t size;

  if (is_none (value))
    {
      jnode_remove (cpu, member);
      jnode_prune (k->config, RES ".cpu");
      return 0;
    }
  if (process_parse_cpu_list (value, &set, &size) < 0)
    return ctr_error (err, 0, "%s: `%s` is not a list like 0-2,5", k->key, value);
  CPU_FREE (set);
  jnode_set (cpu, member, jnode_new_string (value));
  return 0;
}

int
set_cpuset_cpus (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_cpuset (k, "cpus", value, err);
}

int
set_cpuset_mems (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_cpuset (k, "mems", value, err);
}

static char *
get_cpuset_member (struct key_ctx *k, const char *member)
{
  const char *s = jnode_string (jnode_get (jnode_path (k->config, RES ".cpu", false), member));
  return xstrdup (s ? s : "all");
}

char *
get_cpuset_cpus (struct key_ctx *k)
{
  return get_cpuset_member (k, "cpus");
}

char *
get_cpuset_mems (struct key_ctx *k)
{
  return get_cpuset_member (k, "mems");
}

int
set_pids (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *pids = jnode_path (k->config, RES ".pids", true);
  int64_t v;

  if (is_none (value))
    {
      jnode_remove (pids, "limit");
      jnode_prune (k->config, RES ".pids");
      return 0;
    }
  if (parse_range (value, 1, 4194304, &v) < 0)
    return ctr_error (err, 0, "%s: `%s` is not a number of processes (1-4194304, or max)", k->key,
                      value);
  jnode_set (pids, "limit", jnode_new_int (v));
  return 0;
}

char *
get_pids (struct key_ctx *k)
{
  int64_t v;
  if (jnode_int (jnode_get (jnode_path (k->config, RES ".pids", false), "limit"), &v) && v > 0)
    return xasprintf ("%" PRId64, v);
  return xstrdup ("max");
}

int
set_blkio_weight (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *b = jnode_path (k->config, RES ".blockIO", true);
  int64_t v;

  if (is_none (value))
    {
      jnode_remove (b, "weight");
      jnode_prune (k->config, RES ".blockIO");
      return 0;
    }
  if (parse_range (value, 10, 1000, &v) < 0)
    return ctr_error (err, 0, "%s: `%s` is not a number from 10 to 1000", k->key, value);
  /* v1 weights come with an I/O scheduler (BFQ); without one start would fail */
  if (access ("/sys/fs/cgroup/blkio", F_OK) == 0
      && access ("/sys/fs/cgroup/blkio/blkio.weight", F_OK) < 0
      && access ("/sys/fs/cgroup/blkio/blkio.bfq.weight", F_OK) < 0)
    return ctr_error (err, ENOTSUP,
                      "%s: `%s`: this host's blkio controller has no weights (they need the BFQ "
                      "I/O scheduler)",
                      k->key, value);
  jnode_set (b, "weight", jnode_new_int (v));
  return 0;
}

char *
get_blkio_weight (struct key_ctx *k)
{
  return int_text (jnode_get (jnode_path (k->config, RES ".blockIO", false), "weight"), "default");
}

/* ------------------------------------------------------------ ctr update --persist */

/* Members of from copied into to, objects merged member by member. */
static void
merge_into (json_node *to, const json_node *from)
{
  for (size_t i = 0; i < jnode_len (from); i++)
    {
      const char *key = jnode_key_at (from, i);
      const json_node *v = jnode_value_at (from, i);
      if (jnode_is_object (v) && jnode_is_object (jnode_get (to, key)))
        merge_into (jnode_get (to, key), v);
      else
        jnode_set (to, key, jnode_copy (v));
    }
}

struct persist_flag
{
  const char *flag;
  size_t field;
  const char *path, *member;
  bool size;
};

#define FLAG(f) offsetof (struct container_update_options, f)
static const struct persist_flag persist_flags[] = {
  { "--memory", FLAG (memory), RES ".memory", "limit", true },
  { "--memory-swap", FLAG (memory_swap), RES ".memory", "swap", true },
  { "--memory-reservation", FLAG (memory_reservation), RES ".memory", "reservation", true },
  { "--cpu-shares", FLAG (cpu_shares), RES ".cpu", "shares", false },
  { "--cpu-quota", FLAG (cpu_quota), RES ".cpu", "quota", false },
  { "--cpu-period", FLAG (cpu_period), RES ".cpu", "period", false },
  { "--cpu-rt-period", FLAG (cpu_rt_period), RES ".cpu", "realtimePeriod", false },
  { "--cpu-rt-runtime", FLAG (cpu_rt_runtime), RES ".cpu", "realtimeRuntime", false },
  { "--pids-limit", FLAG (pids_limit), RES ".pids", "limit", false },
  { "--blkio-weight", FLAG (blkio_weight), RES ".blockIO", "weight", false },
};

int
config_keys_persist_update (json_node *config, const struct container_update_options *o,
                            ctr_error_t *err)
{
  if (o->resources_json)
    {
      cleanup_free char *text = xstrndup (o->resources_json, o->resources_json_len);
      json_node *res = jnode_parse (text, "resources", err);
      if (res == NULL)
        return -1;
      merge_into (jnode_path (config, RES, true), res);
      jnode_free (res);
    }
  for (size_t i = 0; i < ARRAY_SIZE (persist_flags); i++)
    {
      const struct persist_flag *f = &persist_flags[i];
      const char *v = *(const char *const *)((const char *)o + f->field);
      int64_t n;
      if (v == NULL)
        continue;
      if (strcmp (v, "-1") == 0 && f->size)
        n = -1;
      else if (f->size ? parse_bytes (v, &n) < 0 : parse_int64 (v, &n) < 0)
        return ctr_error (err, 0, "%s: invalid %s `%s`", f->flag, f->size ? "size" : "number", v);
      jnode_set (jnode_path (config, f->path, true), f->member, jnode_new_int (n));
    }
  if (o->cpuset_cpus)
    jnode_set (jnode_path (config, RES ".cpu", true), "cpus", jnode_new_string (o->cpuset_cpus));
  if (o->cpuset_mems)
    jnode_set (jnode_path (config, RES ".cpu", true), "mems", jnode_new_string (o->cpuset_mems));
  return 0;
}
