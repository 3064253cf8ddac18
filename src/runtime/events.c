/* events: `ctr events`: stats and OOM events of a container in runc's event format. */
#include <config.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/loaded.h"
#include "runtime/events.h"
#include "base/log.h"
#include "base/json.h"
#include "base/util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* v1 signals the OOM eventfd before the kill is counted: after a wakeup without a new
   count, look again this often for a while. */
#define OOM_RECHECK_MS 10
#define OOM_RECHECKS 100
/* Without a watch fd (no memory cgroup files yet), the counter is polled. */
#define OOM_POLL_MS 250

int
events_parse_duration (const char *s, uint64_t *ns)
{
  static const struct
  {
    const char *unit;
    double ns;
  } units[] = {
    { "ns", 1 },   { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "\xce\xbcs", 1e3 },
    { "ms", 1e6 }, { "s", 1e9 },  { "m", 60e9 },        { "h", 3600e9 },
  };
  double total = 0;

  if (s == NULL || *s == '\0' || *s == '-')
    return -1;
  if (*s == '+')
    s++;
  while (*s)
    {
      size_t digits = strspn (s, "0123456789."), i, best = ARRAY_SIZE (units), best_len = 0;
      char *end;
      double v;
      if (digits == 0 || strspn (s, ".") == digits)
        return -1;
      v = strtod (s, &end);
      if (end != s + digits)
        return -1;
      s = end;
      for (i = 0; i < ARRAY_SIZE (units); i++)
        {
          size_t len = strlen (units[i].unit);
          if (strncmp (s, units[i].unit, len) == 0 && len > best_len)
            best = i, best_len = len;
        }
      if (best == ARRAY_SIZE (units))
        return -1;
      total += v * units[best].ns;
      s += best_len;
    }
  if (!(total >= 1) || total > 9.2e18)
    return -1;
  *ns = (uint64_t)(total + 0.5);
  return 0;
}

static void
kv_uint (json_writer *w, const char *key, uint64_t v)
{
  json_key (w, key);
  json_uint (w, v);
}

/* Go's omitempty: zero values are left out. */
static void
kv_uint_opt (json_writer *w, const char *key, uint64_t v)
{
  if (v != 0)
    kv_uint (w, key, v);
}

static void
kv_uint_array (json_writer *w, const char *key, const uint64_t *v, size_t n)
{
  size_t i;
  if (n == 0)
    return;
  json_key (w, key);
  json_array_open (w);
  for (i = 0; i < n; i++)
    json_uint (w, v[i]);
  json_array_close (w);
}

static void
write_cpu (json_writer *w, const struct cgroup_stats *s)
{
  json_key (w, "cpu");
  json_map_open (w);
  json_key (w, "usage");
  json_map_open (w);
  kv_uint_opt (w, "total", s->cpu_usage_ns);
  kv_uint_array (w, "percpu", s->cpu_percpu_ns, s->cpu_percpu_len);
  kv_uint_array (w, "percpu_kernel", s->cpu_percpu_kernel_ns, s->cpu_percpu_split_len);
  kv_uint_array (w, "percpu_user", s->cpu_percpu_user_ns, s->cpu_percpu_split_len);
  kv_uint (w, "kernel", s->cpu_kernel_ns);
  kv_uint (w, "user", s->cpu_user_ns);
  json_map_close (w);
  json_key (w, "throttling");
  json_map_open (w);
  kv_uint_opt (w, "periods", s->cpu_periods);
  kv_uint_opt (w, "throttledPeriods", s->cpu_throttled_periods);
  kv_uint_opt (w, "throttledTime", s->cpu_throttled_ns);
  json_map_close (w);
  json_map_close (w);
}

/* "0-2,5" as [0,1,2,5]; omitted when empty. */
static void
kv_cpu_list (json_writer *w, const char *key, const char *list)
{
  const char *p = list;
  bool open = false;

  while (p && *p)
    {
      char *end;
      unsigned long a = strtoul (p, &end, 10), b = a, i;
      if (end == p)
        break;
      if (*end == '-')
        {
          p = end + 1;
          b = strtoul (p, &end, 10);
          if (end == p || b < a || b - a > 65535)
            break;
        }
      if (!open)
        {
          json_key (w, key);
          json_array_open (w);
          open = true;
        }
      for (i = a; i <= b; i++)
        json_uint (w, i);
      p = *end == ',' ? end + 1 : NULL;
    }
  if (open)
    json_array_close (w);
}

static void
write_cpuset (json_writer *w, const struct cgroup_stats *s)
{
  json_key (w, "cpuset");
  json_map_open (w);
  kv_cpu_list (w, "cpus", s->cpuset_cpus);
  kv_uint (w, "cpu_exclusive", s->cpu_exclusive);
  kv_cpu_list (w, "mems", s->cpuset_mems);
  kv_uint (w, "mem_hardwall", s->mem_hardwall);
  kv_uint (w, "mem_exclusive", s->mem_exclusive);
  kv_uint (w, "memory_migrate", s->memory_migrate);
  kv_uint (w, "memory_spread_page", s->memory_spread_page);
  kv_uint (w, "memory_spread_slab", s->memory_spread_slab);
  kv_uint (w, "memory_pressure", s->memory_pressure);
  kv_uint (w, "sched_load_balance", s->sched_load_balance);
  json_kv_int (w, "sched_relax_domain_level", s->sched_relax_domain_level);
  json_map_close (w);
}

static void
write_memory_entry (json_writer *w, const char *key, const struct cgroup_memory_entry *e)
{
  json_key (w, key);
  json_map_open (w);
  kv_uint (w, "limit", e->limit);
  kv_uint_opt (w, "usage", e->usage);
  kv_uint_opt (w, "max", e->max_usage);
  kv_uint (w, "failcnt", e->failcnt);
  json_map_close (w);
}

static void
write_memory (json_writer *w, const struct cgroup_stats *s)
{
  struct cgroup_memory_entry usage = { .usage = s->memory_usage,
                                       .max_usage = s->memory_max_usage,
                                       .limit = s->memory_limit,
                                       .failcnt = s->memory_failcnt };
  size_t i;

  json_key (w, "memory");
  json_map_open (w);
  kv_uint_opt (w, "cache", s->memory_cache);
  write_memory_entry (w, "usage", &usage);
  write_memory_entry (w, "swap", &s->swap);
  write_memory_entry (w, "kernel", &s->kernel);
  write_memory_entry (w, "kernelTCP", &s->kernel_tcp);
  if (s->memory_raw_len)
    {
      json_key (w, "raw");
      json_map_open (w);
      for (i = 0; i < s->memory_raw_len; i++)
        kv_uint (w, s->memory_raw[i].key, s->memory_raw[i].value);
      json_map_close (w);
    }
  json_map_close (w);
}

static void
write_blkio_list (json_writer *w, const char *key, const struct cgroup_blkio_entry *e, size_t n)
{
  size_t i;
  if (n == 0)
    return;
  json_key (w, key);
  json_array_open (w);
  for (i = 0; i < n; i++)
    {
      json_map_open (w);
      kv_uint_opt (w, "major", e[i].major);
      kv_uint_opt (w, "minor", e[i].minor);
      if (e[i].op[0])
        json_kv_string (w, "op", e[i].op);
      kv_uint_opt (w, "value", e[i].value);
      json_map_close (w);
    }
  json_array_close (w);
}

static int
compare_hugetlb (const void *a, const void *b)
{
  return strcmp (((const struct cgroup_hugetlb_stats *)a)->page_size,
                 ((const struct cgroup_hugetlb_stats *)b)->page_size);
}

static void
write_rest (json_writer *w, const struct cgroup_stats *s)
{
  cleanup_free struct cgroup_hugetlb_stats *h = NULL;
  size_t i;

  json_key (w, "pids");
  json_map_open (w);
  kv_uint_opt (w, "current", s->pids_current);
  kv_uint_opt (w, "limit", s->pids_limit);
  json_map_close (w);
  json_key (w, "blkio");
  json_map_open (w);
  write_blkio_list (w, "ioServiceBytesRecursive", s->io_service_bytes, s->io_service_bytes_len);
  write_blkio_list (w, "ioServicedRecursive", s->io_serviced, s->io_serviced_len);
  json_map_close (w);
  /* Go writes map keys sorted */
  h = xmalloc ((s->hugetlb_len + 1) * sizeof (*h));
  if (s->hugetlb_len)
    memcpy (h, s->hugetlb, s->hugetlb_len * sizeof (*h));
  qsort (h, s->hugetlb_len, sizeof (*h), compare_hugetlb);
  json_key (w, "hugetlb");
  json_map_open (w);
  for (i = 0; i < s->hugetlb_len; i++)
    {
      json_key (w, h[i].page_size);
      json_map_open (w);
      kv_uint_opt (w, "usage", h[i].usage);
      kv_uint_opt (w, "max", h[i].max_usage);
      kv_uint (w, "failcnt", h[i].failcnt);
      json_map_close (w);
    }
  json_map_close (w);
  json_key (w, "intel_rdt");
  json_map_open (w);
  json_map_close (w);
  json_key (w, "network_interfaces");
  json_null (w);
}

char *
events_stats_json (const char *id, const struct cgroup_stats *s, size_t *len)
{
  json_writer *w = json_writer_new (false);

  json_map_open (w);
  json_kv_string (w, "type", "stats");
  json_kv_string (w, "id", id);
  json_key (w, "data");
  json_map_open (w);
  write_cpu (w, s);
  write_cpuset (w, s);
  write_memory (w, s);
  write_rest (w, s);
  json_map_close (w);
  json_map_close (w);
  return json_writer_finish (w, len);
}

char *
events_oom_json (const char *id, size_t *len)
{
  json_writer *w = json_writer_new (false);
  json_map_open (w);
  json_kv_string (w, "type", "oom");
  json_kv_string (w, "id", id);
  json_map_close (w);
  return json_writer_finish (w, len);
}

static int
emit_stats (const char *id, const struct cgroup *cg, events_emit_fn emit, void *data,
            ctr_error_t *err)
{
  struct cgroup_stats s;
  cleanup_free char *json = NULL;
  size_t len;

  if (cgroup_stats (cg, &s, err) < 0)
    return -1;
  json = events_stats_json (id, &s, &len);
  cgroup_stats_clear (&s);
  emit (json, len, data);
  return 0;
}

/* What the watch loop follows. */
struct watch
{
  const char *id;
  const struct cgroup *cg;
  events_emit_fn emit;
  void *data;
  uint64_t oom_kills;
  int rechecks; /* OOM re-reads left after a wakeup */
};

/* An oom event when the counter grew since last time; true when it did. */
static bool
check_oom (struct watch *wt)
{
  uint64_t n = 0;
  if (cgroup_oom_kills (wt->cg, &n, NULL) < 0 || n <= wt->oom_kills)
    return false;
  wt->oom_kills = n;
  {
    size_t len;
    cleanup_free char *json = events_oom_json (wt->id, &len);
    wt->emit (json, len, wt->data);
  }
  return true;
}

static int
poll_timeout_ms (const struct watch *wt, uint64_t next_stats, int oomfd)
{
  uint64_t now = now_ns ();
  uint64_t ms = next_stats > now ? (next_stats - now + 999999) / 1000000 : 0;
  if (wt->rechecks > 0 && ms > OOM_RECHECK_MS)
    ms = OOM_RECHECK_MS;
  if (oomfd < 0 && ms > OOM_POLL_MS)
    ms = OOM_POLL_MS;
  return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* Until the container's init exits (pidfd readable). */
static int
watch_loop (struct watch *wt, int pidfd, int oomfd, uint64_t interval)
{
  uint64_t next_stats = now_ns () + interval;

  for (;;)
    {
      struct pollfd p[2] = { { pidfd, POLLIN, 0 }, { oomfd, POLLIN, 0 } };
      int r = poll (p, oomfd >= 0 ? 2 : 1, poll_timeout_ms (wt, next_stats, oomfd));
      if (r < 0 && errno != EINTR)
        return -1;
      if (oomfd >= 0 && (p[1].revents & POLLIN))
        {
          cgroup_oom_watch_drain (oomfd);
          wt->rechecks = OOM_RECHECKS;
        }
      if (check_oom (wt))
        wt->rechecks = 0;
      else if (wt->rechecks > 0)
        wt->rechecks--;
      if (p[0].revents)
        return 0;
      if (now_ns () >= next_stats)
        {
          ctr_error_t err = NULL;
          /* a failed read is reported and the watch goes on, as runc does */
          if (emit_stats (wt->id, wt->cg, wt->emit, wt->data, &err) < 0)
            {
              ctr_log_warning ("events: %s", err->msg);
              ctr_error_free (&err);
            }
          next_stats += interval;
          if (next_stats < now_ns ())
            next_stats = now_ns () + interval;
        }
    }
}

int
container_events (const struct ctr_context *ctx, const char *id, const struct events_options *opts,
                  events_emit_fn emit, void *data, ctr_error_t *err)
{
  struct loaded l;
  struct cgroup *cg = NULL;
  cleanup_close int pidfd = -1, oomfd = -1;
  struct watch wt = { .id = id, .emit = emit, .data = data };
  int ret = -1;

  if (loaded_open (ctx, id, false, &l, err) < 0)
    return -1;
  if (l.status == CTR_STATUS_STOPPED)
    {
      ctr_error (err, 0, "container `%s` is not running", id);
      goto out;
    }
  if (loaded_cgroup (&l, &cg, err) < 0)
    goto out;
  if (cg == NULL)
    {
      ctr_error (err, 0, "container `%s` has no cgroup", id);
      goto out;
    }
  wt.cg = cg;
  if (opts->stats_only)
    {
      ret = emit_stats (id, cg, emit, data, err);
      goto out;
    }
  /* the pid is checked against its start time after the pidfd pins it */
  pidfd = (int)syscall (SYS_pidfd_open, l.state->pid, 0);
  if (pidfd < 0 || pid_start_time (l.state->pid) != l.state->pid_start)
    {
      ret = 0;
      goto out;
    }
  if (cgroup_oom_watch (cg, &oomfd, err) < 0 || cgroup_oom_kills (cg, &wt.oom_kills, err) < 0)
    goto out;
  ret = watch_loop (&wt, pidfd, oomfd,
                    opts->interval_ns ? opts->interval_ns : EVENTS_DEFAULT_INTERVAL_NS);
  if (ret < 0)
    ctr_error (err, errno, "events: poll");
out:
  cgroup_free (cg);
  loaded_release (&l);
  return ret;
}
