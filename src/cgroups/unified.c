/* cgroups unified: the cgroup v2 driver (controllers, limits, freeze, kill). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/driver.h"
#include "base/log.h"
#include "base/util.h"

/* How long freeze waits for cgroup.events to report the new state. */
#define FREEZE_TIMEOUT_NS (10ULL * 1000000000ULL)

uint64_t
unified_cpu_weight (uint64_t shares)
{
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

/* runc's ConvertMemorySwapToCgroupV2Value: v1 swap is memory+swap, v2 is swap alone.
 *out: -1 max, -2 leave unset, else the value. */
int
unified_swap_max (int64_t swap, int64_t limit, int64_t *out, ctr_error_t *err)
{
  if (limit == -1 && swap == 0)
    *out = -1;
  else if (swap == 0)
    *out = -2;
  else if (swap == -1)
    *out = -1;
  else if (limit <= 0)
    return ctr_error (err, EINVAL,
                      "linux.resources.memory.swap: a swap limit needs a memory limit");
  else if (swap < limit)
    return ctr_error (err, EINVAL,
                      "linux.resources.memory.swap: %" PRId64 " is below the memory limit %" PRId64
                      " (swap counts memory+swap)",
                      swap, limit);
  else
    *out = swap - limit;
  return 0;
}

static unsigned
needed_controllers (const struct oci_resources *r)
{
  unsigned need = 0;
  size_t i;

  if (r == NULL)
    return 0;
  if (r->memory && (r->memory->has_limit || r->memory->has_reservation || r->memory->has_swap))
    need |= CG2_MEMORY;
  if (r->cpu
      && (r->cpu->has_shares || r->cpu->has_quota || r->cpu->has_period || r->cpu->has_burst
          || r->cpu->has_idle))
    need |= CG2_CPU;
  if (r->cpu && (r->cpu->cpus || r->cpu->mems))
    need |= CG2_CPUSET;
  if (r->has_pids_limit)
    need |= CG2_PIDS;
  if (r->block_io)
    need |= CG2_IO;
  if (r->hugepage_limits_len)
    need |= CG2_HUGETLB;
  if (r->rdma_len)
    need |= CG2_RDMA;
  for (i = 0; i < r->unified_len; i++)
    {
      const char *dot = strchr (r->unified[i].key, '.');
      if (dot)
        need |= cg2_controller_bit (r->unified[i].key, (size_t)(dot - r->unified[i].key));
    }
  return need;
}

/* Enables controllers in one ancestor, by path (no directory fd per ancestor). */
static int
enable_in (const char *dir, unsigned need, unsigned want, ctr_error_t *err)
{
  cleanup_free char *cur = NULL, *file = xasprintf ("%s/cgroup.subtree_control", dir);
  char buf[128], what[256];
  unsigned missing, bit;
  size_t len = 0;

  if (cg_read (AT_FDCWD, file, &cur, err) < 0)
    return -1;
  missing = (need | want) & ~cg2_parse_controllers (cur);
  if (missing == 0)
    return 0;
  for (bit = 1; bit != 0 && bit <= missing; bit <<= 1)
    if (missing & bit)
      {
        const char *res, *name = cg2_controller_name (bit, &res);
        len += snprintf (buf + len, sizeof buf - len, "%s+%s", len ? " " : "", name);
      }
  if (cg_write_in (dir, "cgroup.subtree_control", buf, dir, NULL) == 0)
    return 0;
  /* one by one, to tell which controller the kernel refused */
  for (bit = 1; bit != 0 && bit <= missing; bit <<= 1)
    {
      const char *res, *name;
      if (!(missing & bit))
        continue;
      name = cg2_controller_name (bit, &res);
      snprintf (buf, sizeof buf, "+%s", name);
      snprintf (what, sizeof what, "%s: enable the %s controller in `%s`", res, name, dir);
      if (cg_write_in (dir, "cgroup.subtree_control", buf, what, err) < 0 && (need & bit))
        return -1;
    }
  return 0;
}

int
unified_enable (const struct cgroup *cg, size_t member, unsigned need, unsigned want,
                ctr_error_t *err)
{
  cleanup_free char *dir = xasprintf ("%s%s", cg->m[member].h->mount, cg->path);
  /* rootless: from the delegation root down, never above it */
  char *s = dir + strlen (cg->m[member].h->mount) + cg->deleg_len;

  if ((need | want) == 0)
    return 0;
  /* dir[0..s) is the ancestor being handled; it grows one component at a time */
  for (;;)
    {
      char saved = *s;
      *s = '\0';
      if (enable_in (dir, need, want, err) < 0)
        return -1;
      *s = saved;
      s = strchr (s + 1, '/');
      if (s == NULL)
        return 0; /* the next component is the container's own directory */
    }
}

static int
write_max (int fd, const char *file, int64_t v, const char *what, ctr_error_t *err)
{
  char buf[32];
  if (v < 0)
    strcpy (buf, "max");
  else
    snprintf (buf, sizeof buf, "%" PRId64, v);
  return cg_write (fd, file, buf, what, err);
}

static int
read_max (int fd, const char *file, int64_t *v, ctr_error_t *err)
{
  cleanup_free char *s = NULL;
  if (cg_read (fd, file, &s, err) < 0)
    return -1;
  s[strcspn (s, " ")] = '\0'; /* cpu.max: "<quota> <period>" */
  *v = -1;
  if (strncmp (s, "max", 3) != 0 && parse_int64 (s, v) < 0)
    return ctr_error (err, EINVAL, "read %s: unexpected value `%s`", file, s);
  return 0;
}

static int
memory_v2 (int fd, const struct oci_memory *m, bool update, ctr_error_t *err)
{
  int64_t limit = m->has_limit ? m->limit : 0, swap;

  if (update && m->has_check_before_update && m->check_before_update && m->has_limit
      && m->limit > 0)
    {
      int64_t cur;
      if (read_max (fd, "memory.current", &cur, err) < 0)
        return -1;
      if (cur > m->limit)
        return ctr_error (err, EBUSY,
                          "linux.resources.memory.limit: %" PRId64
                          " is below the current usage %" PRId64,
                          m->limit, cur);
    }
  if (m->has_limit
      && write_max (fd, "memory.max", m->limit, "linux.resources.memory.limit", err) < 0)
    return -1;
  if (m->has_reservation
      && write_max (fd, "memory.low", m->reservation, "linux.resources.memory.reservation", err)
             < 0)
    return -1;
  if (m->has_swap)
    {
      if (!m->has_limit && update && read_max (fd, "memory.max", &limit, err) < 0)
        return -1;
      if (unified_swap_max (m->swap, limit, &swap, err) < 0)
        return -1;
      /* no swap accounting and nothing to limit: fine */
      if (swap == -1 && !cg_file_exists (fd, "memory.swap.max"))
        swap = -2;
      if (swap != -2
          && write_max (fd, "memory.swap.max", swap, "linux.resources.memory.swap", err) < 0)
        return -1;
    }
  if (m->has_kernel || m->has_kernel_tcp)
    ctr_log_warning ("linux.resources.memory.kernel: kernel memory limits do not exist on cgroup "
                     "v2, ignored");
  if (m->has_swappiness)
    ctr_log_warning ("linux.resources.memory.swappiness: not supported on cgroup v2, ignored");
  if (m->has_disable_oom_killer && m->disable_oom_killer)
    ctr_log_warning (
        "linux.resources.memory.disableOOMKiller: not supported on cgroup v2, ignored");
  return 0;
}

static int
cpu_max_v2 (int fd, const struct oci_cpu *c, ctr_error_t *err)
{
  bool quota = c->has_quota && c->quota != 0, period = c->has_period && c->period != 0;
  char buf[64];
  int64_t q;

  if (!quota && !period)
    return 0;
  if (quota)
    q = c->quota < 0 ? -1 : c->quota;
  else if (read_max (fd, "cpu.max", &q, err) < 0)
    return -1;
  if (q < 0)
    strcpy (buf, "max");
  else
    snprintf (buf, sizeof buf, "%" PRId64, q);
  if (period)
    snprintf (buf + strlen (buf), sizeof buf - strlen (buf), " %" PRIu64, c->period);
  return cg_write (fd, "cpu.max", buf,
                   quota ? "linux.resources.cpu.quota" : "linux.resources.cpu.period", err);
}

static int
cpu_v2 (int fd, const struct oci_cpu *c, ctr_error_t *err)
{
  char buf[32];

  if (c->has_shares && c->shares != 0)
    {
      snprintf (buf, sizeof buf, "%" PRIu64, unified_cpu_weight (c->shares));
      if (cg_write (fd, "cpu.weight", buf, "linux.resources.cpu.shares", err) < 0)
        return -1;
    }
  if (cpu_max_v2 (fd, c, err) < 0)
    return -1;
  if (c->has_burst)
    {
      snprintf (buf, sizeof buf, "%" PRIu64, c->burst);
      if (cg_write (fd, "cpu.max.burst", buf, "linux.resources.cpu.burst", err) < 0)
        return -1;
    }
  if (c->has_idle)
    {
      snprintf (buf, sizeof buf, "%" PRId64, c->idle);
      if (cg_write (fd, "cpu.idle", buf, "linux.resources.cpu.idle", err) < 0)
        return -1;
    }
  if ((c->has_realtime_runtime && c->realtime_runtime != 0)
      || (c->has_realtime_period && c->realtime_period != 0))
    return ctr_error (err, ENOTSUP,
                      "linux.resources.cpu.realtimeRuntime: realtime limits are not supported on "
                      "cgroup v2");
  if (c->cpus && cg_write (fd, "cpuset.cpus", c->cpus, "linux.resources.cpu.cpus", err) < 0)
    return -1;
  if (c->mems && cg_write (fd, "cpuset.mems", c->mems, "linux.resources.cpu.mems", err) < 0)
    return -1;
  return 0;
}

/* blkio weights (10-1000) to io.weight (1-10000), as runc converts them. */
static uint64_t
io_weight (uint64_t w)
{
  return w < 10 ? 1 : 1 + (w - 10) * 9999 / 990;
}

static int
io_throttle (int fd, const char *key, const char *name, const struct oci_blkio_throttle_device *t,
             size_t n, ctr_error_t *err)
{
  char buf[128], what[96];
  size_t i;

  for (i = 0; i < n; i++)
    {
      if (t[i].rate == 0)
        snprintf (buf, sizeof buf, "%" PRId64 ":%" PRId64 " %s=max", t[i].major, t[i].minor, key);
      else
        snprintf (buf, sizeof buf, "%" PRId64 ":%" PRId64 " %s=%" PRIu64, t[i].major, t[i].minor,
                  key, t[i].rate);
      snprintf (what, sizeof what, "linux.resources.blockIO.%s[%zu]", name, i);
      if (cg_write (fd, "io.max", buf, what, err) < 0)
        return -1;
    }
  return 0;
}

static int
io_v2 (int fd, const struct oci_block_io *b, ctr_error_t *err)
{
  bool bfq = cg_file_exists (fd, "io.bfq.weight");
  const char *wfile = bfq ? "io.bfq.weight" : "io.weight";
  char buf[96], what[96];
  size_t i;

  if (b->has_weight && b->weight != 0)
    {
      snprintf (buf, sizeof buf, "%" PRIu64, bfq ? b->weight : io_weight (b->weight));
      if (cg_write (fd, wfile, buf, "linux.resources.blockIO.weight", err) < 0)
        return -1;
    }
  if (b->has_leaf_weight)
    ctr_log_warning ("linux.resources.blockIO.leafWeight: not supported on cgroup v2, ignored");
  for (i = 0; i < b->weight_device_len; i++)
    {
      const struct oci_blkio_weight_device *d = &b->weight_device[i];
      if (!d->has_weight)
        continue;
      snprintf (buf, sizeof buf, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                bfq ? d->weight : io_weight (d->weight));
      snprintf (what, sizeof what, "linux.resources.blockIO.weightDevice[%zu]", i);
      if (cg_write (fd, wfile, buf, what, err) < 0)
        return -1;
    }
  if (io_throttle (fd, "rbps", "throttleReadBpsDevice", b->throttle_read_bps_device,
                   b->throttle_read_bps_device_len, err)
          < 0
      || io_throttle (fd, "wbps", "throttleWriteBpsDevice", b->throttle_write_bps_device,
                      b->throttle_write_bps_device_len, err)
             < 0
      || io_throttle (fd, "riops", "throttleReadIOPSDevice", b->throttle_read_iops_device,
                      b->throttle_read_iops_device_len, err)
             < 0
      || io_throttle (fd, "wiops", "throttleWriteIOPSDevice", b->throttle_write_iops_device,
                      b->throttle_write_iops_device_len, err)
             < 0)
    return -1;
  return 0;
}

static bool
valid_page_size (const char *s)
{
  size_t digits = strspn (s, "0123456789");
  return digits > 0 && strchr ("KMG", s[digits]) && s[digits] != '\0'
         && strcmp (s + digits + 1, "B") == 0;
}

int
unified_hugetlb (int fd, const struct oci_resources *r, ctr_error_t *err)
{
  char file[96], what[64], buf[32];
  size_t i;

  for (i = 0; i < r->hugepage_limits_len; i++)
    {
      const struct oci_hugepage_limit *h = &r->hugepage_limits[i];
      snprintf (what, sizeof what, "linux.resources.hugepageLimits[%zu]", i);
      if (h->page_size == NULL || !valid_page_size (h->page_size) || strlen (h->page_size) > 32)
        return ctr_error (err, EINVAL, "%s.pageSize: invalid page size `%s`", what,
                          h->page_size ? h->page_size : "");
      snprintf (file, sizeof file, "hugetlb.%s.max", h->page_size);
      snprintf (buf, sizeof buf, "%" PRIu64, h->limit);
      if (cg_write (fd, file, buf, what, err) < 0)
        return -1;
    }
  return 0;
}

static int
rdma_v2 (int fd, const struct oci_resources *r, ctr_error_t *err)
{
  char buf[256], what[128];
  size_t i;

  for (i = 0; i < r->rdma_len; i++)
    {
      const struct oci_rdma *d = &r->rdma[i];
      int len = snprintf (buf, sizeof buf, "%s", d->device ? d->device : "");
      if (!d->has_hca_handles && !d->has_hca_objects)
        continue;
      if (d->has_hca_handles)
        len += snprintf (buf + len, sizeof buf - len, " hca_handle=%" PRIu32, d->hca_handles);
      if (d->has_hca_objects)
        snprintf (buf + len, sizeof buf - len, " hca_object=%" PRIu32, d->hca_objects);
      snprintf (what, sizeof what, "linux.resources.rdma.%s", d->device ? d->device : "");
      if (d->device == NULL || strpbrk (d->device, " \n") || strlen (d->device) > 64)
        return ctr_error (err, EINVAL, "%s: invalid device name", what);
      if (cg_write (fd, "rdma.max", buf, what, err) < 0)
        return -1;
    }
  return 0;
}

static int
unified_map (int fd, const struct oci_resources *r, ctr_error_t *err)
{
  static const char *const refused[]
      = { "cgroup.procs", "cgroup.threads", "cgroup.kill", "cgroup.subtree_control" };
  char what[300];
  size_t i, j;

  for (i = 0; i < r->unified_len; i++)
    {
      const char *key = r->unified[i].key;
      snprintf (what, sizeof what, "linux.resources.unified.%.256s", key);
      if (*key == '\0' || *key == '.' || strchr (key, '/'))
        return ctr_error (err, EINVAL, "%s: not a cgroup file name", what);
      for (j = 0; j < ARRAY_SIZE (refused); j++)
        if (strcmp (key, refused[j]) == 0)
          return ctr_error (err, EPERM, "%s: ctr manages this file itself", what);
      if (cg_write (fd, key, r->unified[i].value ? r->unified[i].value : "", what, err) < 0)
        return -1;
    }
  return 0;
}

static int
unified_apply (int fd, const struct oci_resources *r, bool update, ctr_error_t *err)
{
  char buf[32];

  if (r->memory && memory_v2 (fd, r->memory, update, err) < 0)
    return -1;
  if (r->cpu && cpu_v2 (fd, r->cpu, err) < 0)
    return -1;
  if (r->has_pids_limit)
    {
      if (r->pids_limit > 0)
        snprintf (buf, sizeof buf, "%" PRId64, r->pids_limit);
      else
        strcpy (buf, "max");
      if (cg_write (fd, "pids.max", buf, "linux.resources.pids.limit", err) < 0)
        return -1;
    }
  if (r->block_io && io_v2 (fd, r->block_io, err) < 0)
    return -1;
  if (unified_hugetlb (fd, r, err) < 0 || rdma_v2 (fd, r, err) < 0)
    return -1;
  if (r->has_network_class_id || r->network_priorities_len)
    return ctr_error (err, ENOTSUP,
                      "linux.resources.network: net_cls and net_prio do not exist on cgroup v2");
  /* last: the raw map may refine anything above */
  return unified_map (fd, r, err);
}

int
unified_setup (const struct cgroup *cg, const struct oci_resources *res, bool create,
               ctr_error_t *err)
{
  /* memory and pids always: memory.events (OOM reporting) and usage stats need them */
  unsigned want = create ? CG2_MEMORY | CG2_PIDS : 0, need = needed_controllers (res);
  cleanup_close int own = -1;
  int fd = cg->v2_fd;

  if (cg->deleg_len && rootless_controllers (cg, need, &want, err) < 0)
    return -1;
  if (unified_enable (cg, 0, need, want, err) < 0)
    return -1;
  if (fd < 0 && (fd = own = cg_member_open (cg, 0, err)) < 0)
    return -1;
  if (res && unified_apply (fd, res, !create, err) < 0)
    return -1;
  /* rootless: no device cgroup (loading the program needs privilege), as runc and crun;
     the user namespace already keeps the container from making device nodes */
  if (!cg->deleg_len && (create || (res && res->devices_len)))
    {
      size_t n;
      cleanup_free struct oci_device_cgroup *rules = cg_device_rules (res, &n);
      if (devices_bpf_apply (fd, rules, n, create && cg->m[0].depth > 0, err) < 0)
        return -1;
    }
  return 0;
}

/* Reads "<key> <0|1>" from cgroup.events. */
static int
events_field (int fd, const char *key, bool *value, ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t klen = strlen (key);
  char *line;

  if (cg_read (fd, "cgroup.events", &text, err) < 0)
    return -1;
  for (line = text; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    if (strncmp (line, key, klen) == 0 && line[klen] == ' ')
      {
        *value = line[klen + 1] == '1';
        return 0;
      }
  return ctr_error (err, ENOENT, "read cgroup.events: no `%s` field", key);
}

int
unified_kill (int fd, int sig, ctr_error_t *err)
{
  if (sig == SIGKILL && cg_file_exists (fd, "cgroup.kill"))
    return cg_write (fd, "cgroup.kill", "1", "kill the container", err);
  return cg_signal_all (fd, sig, sig == SIGKILL, err);
}

int
unified_freeze (int fd, bool frozen, ctr_error_t *err)
{
  uint64_t deadline = now_ns () + FREEZE_TIMEOUT_NS;
  unsigned step = 0;
  bool state = !frozen;

  if (cg_write (fd, "cgroup.freeze", frozen ? "1" : "0", frozen ? "pause" : "resume", err) < 0)
    return -1;
  for (;;)
    {
      if (events_field (fd, "frozen", &state, err) < 0)
        return -1;
      if (state == frozen)
        return 0;
      if (now_ns () > deadline)
        break;
      cg_backoff (&step);
    }
  if (frozen)
    cg_write (fd, "cgroup.freeze", "0", "resume", NULL);
  return ctr_error (err, ETIMEDOUT, "%s: cgroup.events did not report frozen %d",
                    frozen ? "pause" : "resume", frozen);
}

int
unified_is_frozen (int fd, bool *frozen, ctr_error_t *err)
{
  cleanup_free char *s = NULL;
  if (cg_read (fd, "cgroup.freeze", &s, err) < 0)
    return -1;
  *frozen = strcmp (s, "1") == 0;
  return 0;
}
