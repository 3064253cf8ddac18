/* cgroups legacy: the cgroup v1 driver, also the v1 side of hybrid hosts (direct writes). */
#include <config.h>
#include <dirent.h>
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

#define FREEZE_TIMEOUT_NS (10ULL * 1000000000ULL)
/* The kernel's internal ENOTSUPP, which leaks out of deprecated kmem files. */
#define KERNEL_ENOTSUPP 524

/* Directory fds of the container's cgroups, opened on first use. */
struct dirs
{
  const struct cgroup *cg;
  int *fd;
};

static void
dirs_close (struct dirs *d)
{
  size_t i;
  for (i = 0; d->fd && i < d->cg->n; i++)
    if (d->fd[i] >= 0)
      close (d->fd[i]);
  free (d->fd);
}

/* fd of the hierarchy holding ctrl (0: the cgroup2 one); -1 with err naming `what`. */
static int
dirs_get (struct dirs *d, unsigned ctrl, const char *ctrl_name, const char *what, ctr_error_t *err)
{
  ssize_t i = cg_member_find (d->cg, ctrl);
  if (i < 0)
    return ctr_error (err, ENOTSUP, "%s: the %s cgroup controller is not mounted", what, ctrl_name);
  if (ctrl == 0 && d->cg->v2_fd >= 0)
    return d->cg->v2_fd; /* the cgroup's own: not closed by dirs_close */
  if (d->fd[i] < 0)
    d->fd[i] = cg_member_open (d->cg, (size_t)i, err);
  return d->fd[i];
}

static int
write_i64 (int fd, const char *file, int64_t v, const char *what, ctr_error_t *err)
{
  char buf[32];
  snprintf (buf, sizeof buf, "%" PRId64, v);
  return cg_write (fd, file, buf, what, err);
}

/* Kernel memory files are gone or inert on new kernels; runc and crun only warn. */
static int
write_kmem (int fd, const char *file, int64_t v, const char *what, ctr_error_t *err)
{
  cleanup_error ctr_error_t e = NULL;
  if (write_i64 (fd, file, v, what, &e) == 0)
    return 0;
  if (e->status == ENOENT || e->status == EOPNOTSUPP || e->status == KERNEL_ENOTSUPP)
    {
      ctr_log_warning ("%s: %s is not supported by this kernel, ignored", what, file);
      return 0;
    }
  return ctr_error_set_raw (err, e->status, e->msg);
}

/* memory.limit_in_bytes must stay <= memory.memsw.limit_in_bytes at every step. */
static int
memory_limits_v1 (int fd, const struct oci_memory *m, ctr_error_t *err)
{
  const char *lw = "linux.resources.memory.limit", *sw = "linux.resources.memory.swap";
  bool swap_first = false;

  if (m->has_swap && !cg_file_exists (fd, "memory.memsw.limit_in_bytes"))
    return ctr_error (err, ENOTSUP,
                      "%s: memory.memsw.limit_in_bytes is not available (swap accounting is off)",
                      sw);
  if (m->has_swap && m->has_limit)
    {
      cleanup_free char *cur = NULL;
      int64_t c;
      if (cg_read (fd, "memory.memsw.limit_in_bytes", &cur, err) < 0)
        return -1;
      swap_first = m->swap == -1 || (parse_int64 (cur, &c) == 0 && m->swap > c);
    }
  if (swap_first && write_i64 (fd, "memory.memsw.limit_in_bytes", m->swap, sw, err) < 0)
    return -1;
  if (m->has_limit && write_i64 (fd, "memory.limit_in_bytes", m->limit, lw, err) < 0)
    return -1;
  if (m->has_swap && !swap_first
      && write_i64 (fd, "memory.memsw.limit_in_bytes", m->swap, sw, err) < 0)
    return -1;
  return 0;
}

static int
memory_v1 (struct dirs *d, const struct oci_memory *m, bool update, ctr_error_t *err)
{
  int fd = dirs_get (d, CG_MEMORY, "memory", "linux.resources.memory", err);
  if (fd < 0)
    return -1;
  if (update && m->has_check_before_update && m->check_before_update && m->has_limit
      && m->limit > 0)
    {
      cleanup_free char *cur = NULL;
      int64_t c;
      if (cg_read (fd, "memory.usage_in_bytes", &cur, err) < 0)
        return -1;
      if (parse_int64 (cur, &c) == 0 && c > m->limit)
        return ctr_error (err, EBUSY,
                          "linux.resources.memory.limit: %" PRId64
                          " is below the current usage %" PRId64,
                          m->limit, c);
    }
  if (m->has_kernel
      && write_kmem (fd, "memory.kmem.limit_in_bytes", m->kernel, "linux.resources.memory.kernel",
                     err)
             < 0)
    return -1;
  if (m->has_kernel_tcp
      && write_kmem (fd, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp,
                     "linux.resources.memory.kernelTCP", err)
             < 0)
    return -1;
  if (memory_limits_v1 (fd, m, err) < 0)
    return -1;
  if (m->has_reservation
      && write_i64 (fd, "memory.soft_limit_in_bytes", m->reservation,
                    "linux.resources.memory.reservation", err)
             < 0)
    return -1;
  if (m->has_swappiness)
    {
      if (m->swappiness > 100)
        return ctr_error (err, EINVAL,
                          "linux.resources.memory.swappiness: %" PRIu64 " is above 100",
                          m->swappiness);
      if (write_i64 (fd, "memory.swappiness", (int64_t)m->swappiness,
                     "linux.resources.memory.swappiness", err)
          < 0)
        return -1;
    }
  if (m->has_disable_oom_killer
      && cg_write (fd, "memory.oom_control", m->disable_oom_killer ? "1" : "0",
                   "linux.resources.memory.disableOOMKiller", err)
             < 0)
    return -1;
  if (m->has_use_hierarchy
      && cg_write (fd, "memory.use_hierarchy", m->use_hierarchy ? "1" : "0",
                   "linux.resources.memory.useHierarchy", err)
             < 0)
    return -1;
  return 0;
}

static int64_t
read_i64_at (int dirfd, const char *file, int64_t fallback)
{
  cleanup_free char *v = NULL;
  cleanup_error ctr_error_t ignored = NULL;
  int64_t n;
  if (cg_read (dirfd, file, &v, &ignored) < 0 || parse_int64 (v, &n) < 0)
    return fallback;
  return n;
}

/* runtime per period as µs per parent_period, rounded up */
static int64_t
rt_share (int64_t runtime, int64_t period, int64_t parent_period)
{
  if (runtime <= 0 || period <= 0)
    return 0;
  return (int64_t)(((__int128)runtime * parent_period + period - 1) / period);
}

/* The realtime budget of ctr's own parent (/ctr) made to cover its children's plus `need`
   (µs per the parent's period). First the sum of what the live children hold, so that
   what deleted ones held comes back; a child removed a moment ago may still count for the
   kernel, though, and then (again) the current budget plus need. */
static int
rt_grow_ctr_parent (int parentfd, const char *leaf, int64_t need, bool again, ctr_error_t *err)
{
  if (again)
    {
      int64_t cur = read_i64_at (parentfd, "cpu.rt_runtime_us", 0);
      return write_i64 (parentfd, "cpu.rt_runtime_us", cur + need, "cgroup /ctr: cpu.rt_runtime_us",
                        err);
    }
  cleanup_close int dfd = openat (parentfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *dir = NULL;
  int64_t pperiod = read_i64_at (parentfd, "cpu.rt_period_us", 1000000), sum = need;
  struct dirent *de;

  dir = dfd >= 0 ? fdopendir (dfd) : NULL;
  if (dir == NULL)
    return ctr_error (err, errno, "read cgroup /ctr");
  dfd = -1;
  while ((de = readdir (dir)) != NULL)
    {
      cleanup_close int cfd = -1;
      if (de->d_type != DT_DIR || de->d_name[0] == '.' || strcmp (de->d_name, leaf) == 0)
        continue;
      cfd = openat (dirfd (dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (cfd >= 0)
        sum += rt_share (read_i64_at (cfd, "cpu.rt_runtime_us", 0),
                         read_i64_at (cfd, "cpu.rt_period_us", 1000000), pperiod);
    }
  if (sum > pperiod)
    return ctr_error (err, EINVAL,
                      "the containers' realtime runtimes add up to more than /ctr's period");
  return write_i64 (parentfd, "cpu.rt_runtime_us", sum, "cgroup /ctr: cpu.rt_runtime_us", err);
}

/* cpu.rt_runtime_us of a v1 cgroup must fit in its parent's budget, which is 0 for a new
   cgroup: the kernel says EINVAL. ctr's own parent (/ctr) is given what its containers
   ask for (out of the host's budget above it); any other parent is the caller's to set,
   and the error says which. */
static int
write_rt_runtime (struct dirs *d, int fd, const struct oci_cpu *c, ctr_error_t *err)
{
  static const char *const what = "linux.resources.cpu.realtimeRuntime";
  cleanup_error ctr_error_t e = NULL;
  cleanup_close int parentfd = -1;
  cleanup_free char *path = xstrdup (d->cg->path), *parent = NULL;
  const char *leaf = strrchr (path, '/') + 1;
  int64_t period;

  if (write_i64 (fd, "cpu.rt_runtime_us", c->realtime_runtime, what, &e) == 0)
    return 0;
  if (e->status != EINVAL)
    return ctr_error_set_raw (err, e->status, e->msg);
  parent = strndup (path, (size_t)(leaf - 1 - path));
  if (*parent == '\0')
    return ctr_error_set_raw (err, e->status, e->msg);
  parentfd = openat (fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  period = c->has_realtime_period && c->realtime_period
               ? (int64_t)c->realtime_period
               : read_i64_at (fd, "cpu.rt_period_us", 1000000);
  if (parentfd >= 0 && strcmp (parent, "/ctr") == 0)
    {
      int64_t pperiod = read_i64_at (parentfd, "cpu.rt_period_us", 1000000);
      int64_t need = rt_share (c->realtime_runtime, period, pperiod);
      for (int again = 0; again < 2; again++)
        {
          ctr_error_free (&e);
          if (rt_grow_ctr_parent (parentfd, leaf, need, again, &e) == 0
              && write_i64 (fd, "cpu.rt_runtime_us", c->realtime_runtime, what, &e) == 0)
            return 0;
        }
      return ctr_error (err, e->status,
                        "%s: %" PRId64 " µs per %" PRId64
                        " µs does not fit in the host's realtime budget (%s): lower it, or "
                        "raise cpu.rt_runtime_us of the cgroup above /ctr",
                        what, c->realtime_runtime, period, e->msg);
    }
  return ctr_error (err, EINVAL,
                    "%s: %" PRId64 " µs per %" PRId64
                    " µs does not fit in the realtime budget of the parent cgroup %s "
                    "(cpu.rt_runtime_us %" PRId64 "): raise that first",
                    what, c->realtime_runtime, period, parent,
                    parentfd >= 0 ? read_i64_at (parentfd, "cpu.rt_runtime_us", 0) : 0);
}

static int
cpu_v1 (struct dirs *d, const struct oci_cpu *c, ctr_error_t *err)
{
  cleanup_error ctr_error_t period_err = NULL;
  bool period_again = false;
  int fd = -1;

  if (c->has_shares || c->has_quota || c->has_period || c->has_burst || c->has_idle
      || c->has_realtime_period || c->has_realtime_runtime)
    {
      fd = dirs_get (d, CG_CPU, "cpu", "linux.resources.cpu", err);
      if (fd < 0)
        return -1;
    }
  if (c->has_shares && c->shares != 0
      && write_i64 (fd, "cpu.shares", (int64_t)c->shares, "linux.resources.cpu.shares", err) < 0)
    return -1;
  if (c->has_period && c->period != 0
      && write_i64 (fd, "cpu.cfs_period_us", (int64_t)c->period, "linux.resources.cpu.period",
                    &period_err)
             < 0)
    {
      /* as runc: a smaller period can make the old quota exceed a parent's limit (EINVAL);
         with a new quota coming, the period goes again after it */
      if (period_err->status != EINVAL || !c->has_quota || c->quota == 0)
        return ctr_error_set_raw (err, period_err->status, period_err->msg);
      period_again = true;
    }
  if (c->has_quota && c->quota != 0
      && write_i64 (fd, "cpu.cfs_quota_us", c->quota, "linux.resources.cpu.quota", err) < 0)
    return -1;
  if (period_again
      && write_i64 (fd, "cpu.cfs_period_us", (int64_t)c->period, "linux.resources.cpu.period", err)
             < 0)
    return -1;
  if (c->has_burst
      && write_i64 (fd, "cpu.cfs_burst_us", (int64_t)c->burst, "linux.resources.cpu.burst", err)
             < 0)
    return -1;
  /* the period first: the runtime must fit in it */
  if (c->has_realtime_period && c->realtime_period != 0
      && write_i64 (fd, "cpu.rt_period_us", (int64_t)c->realtime_period,
                    "linux.resources.cpu.realtimePeriod", err)
             < 0)
    return -1;
  if (c->has_realtime_runtime && c->realtime_runtime != 0 && write_rt_runtime (d, fd, c, err) < 0)
    return -1;
  if (c->has_idle && write_i64 (fd, "cpu.idle", c->idle, "linux.resources.cpu.idle", err) < 0)
    return -1;
  if (c->cpus || c->mems)
    {
      fd = dirs_get (d, CG_CPUSET, "cpuset", "linux.resources.cpu", err);
      if (fd < 0)
        return -1;
      if (c->cpus && cg_write (fd, "cpuset.cpus", c->cpus, "linux.resources.cpu.cpus", err) < 0)
        return -1;
      if (c->mems && cg_write (fd, "cpuset.mems", c->mems, "linux.resources.cpu.mems", err) < 0)
        return -1;
    }
  return 0;
}

static int
blkio_throttle (int fd, const char *file, const char *name,
                const struct oci_blkio_throttle_device *t, size_t n, ctr_error_t *err)
{
  char buf[96], what[96];
  size_t i;
  for (i = 0; i < n; i++)
    {
      snprintf (buf, sizeof buf, "%" PRId64 ":%" PRId64 " %" PRIu64, t[i].major, t[i].minor,
                t[i].rate);
      snprintf (what, sizeof what, "linux.resources.blockIO.%s[%zu]", name, i);
      if (cg_write (fd, file, buf, what, err) < 0)
        return -1;
    }
  return 0;
}

static int
blkio_weights (int fd, const struct oci_block_io *b, ctr_error_t *err)
{
  bool plain = cg_file_exists (fd, "blkio.weight");
  char buf[96], what[96];
  size_t i;

  /* the weight files come with an I/O scheduler: CFQ (gone since Linux 5.0) or BFQ */
  if (((b->has_weight && b->weight != 0) || b->weight_device_len > 0) && !plain
      && !cg_file_exists (fd, "blkio.bfq.weight"))
    return ctr_error (err, ENOTSUP,
                      "linux.resources.blockIO.%s: this host's blkio controller has no weights "
                      "(they need the BFQ I/O scheduler)",
                      b->has_weight && b->weight != 0 ? "weight" : "weightDevice");

  if (b->has_weight && b->weight != 0
      && write_i64 (fd, plain ? "blkio.weight" : "blkio.bfq.weight", b->weight,
                    "linux.resources.blockIO.weight", err)
             < 0)
    return -1;
  if (b->has_leaf_weight && b->leaf_weight != 0
      && write_i64 (fd, "blkio.leaf_weight", b->leaf_weight, "linux.resources.blockIO.leafWeight",
                    err)
             < 0)
    return -1;
  for (i = 0; i < b->weight_device_len; i++)
    {
      const struct oci_blkio_weight_device *w = &b->weight_device[i];
      snprintf (what, sizeof what, "linux.resources.blockIO.weightDevice[%zu]", i);
      snprintf (buf, sizeof buf, "%" PRId64 ":%" PRId64 " %u", w->major, w->minor, w->weight);
      if (w->has_weight
          && cg_write (fd, plain ? "blkio.weight_device" : "blkio.bfq.weight_device", buf, what,
                       err)
                 < 0)
        return -1;
      snprintf (buf, sizeof buf, "%" PRId64 ":%" PRId64 " %u", w->major, w->minor, w->leaf_weight);
      if (w->has_leaf_weight && cg_write (fd, "blkio.leaf_weight_device", buf, what, err) < 0)
        return -1;
    }
  return 0;
}

static int
blkio_v1 (struct dirs *d, const struct oci_block_io *b, ctr_error_t *err)
{
  int fd = dirs_get (d, CG_BLKIO, "blkio", "linux.resources.blockIO", err);
  if (fd < 0 || blkio_weights (fd, b, err) < 0)
    return -1;
  if (blkio_throttle (fd, "blkio.throttle.read_bps_device", "throttleReadBpsDevice",
                      b->throttle_read_bps_device, b->throttle_read_bps_device_len, err)
          < 0
      || blkio_throttle (fd, "blkio.throttle.write_bps_device", "throttleWriteBpsDevice",
                         b->throttle_write_bps_device, b->throttle_write_bps_device_len, err)
             < 0
      || blkio_throttle (fd, "blkio.throttle.read_iops_device", "throttleReadIOPSDevice",
                         b->throttle_read_iops_device, b->throttle_read_iops_device_len, err)
             < 0
      || blkio_throttle (fd, "blkio.throttle.write_iops_device", "throttleWriteIOPSDevice",
                         b->throttle_write_iops_device, b->throttle_write_iops_device_len, err)
             < 0)
    return -1;
  return 0;
}

/* hugetlb: the v1 controller, or on hybrid hosts the cgroup2 one (where it usually lives). */
static int
hugetlb_v1 (struct dirs *d, const struct oci_resources *r, ctr_error_t *err)
{
  const char *what = "linux.resources.hugepageLimits";
  char file[96], buf[32];
  ssize_t v2 = cg_member_find (d->cg, 0);
  size_t i;
  int fd;

  if (cg_member_find (d->cg, CG_HUGETLB) < 0 && v2 >= 0)
    {
      if (unified_enable (d->cg, (size_t)v2, CG2_HUGETLB, 0, err) < 0)
        return -1;
      fd = dirs_get (d, 0, "hugetlb", what, err);
      return fd < 0 ? -1 : unified_hugetlb (fd, r, err);
    }
  fd = dirs_get (d, CG_HUGETLB, "hugetlb", what, err);
  if (fd < 0)
    return -1;
  /* same page size checks as v2 */
  for (i = 0; i < r->hugepage_limits_len; i++)
    {
      const char *ps = r->hugepage_limits[i].page_size;
      char w[64];
      snprintf (w, sizeof w, "%s[%zu]", what, i);
      if (ps == NULL || strlen (ps) > 32 || strchr (ps, '/') || strchr (ps, '.'))
        return ctr_error (err, EINVAL, "%s.pageSize: invalid page size `%s`", w, ps ? ps : "");
      snprintf (file, sizeof file, "hugetlb.%s.limit_in_bytes", ps);
      snprintf (buf, sizeof buf, "%" PRIu64, r->hugepage_limits[i].limit);
      if (cg_write (fd, file, buf, w, err) < 0)
        return -1;
    }
  return 0;
}

static int
network_v1 (struct dirs *d, const struct oci_resources *r, ctr_error_t *err)
{
  char buf[128], what[96];
  size_t i;
  int fd;

  if (r->has_network_class_id)
    {
      fd = dirs_get (d, CG_NET_CLS, "net_cls", "linux.resources.network.classID", err);
      if (fd < 0
          || write_i64 (fd, "net_cls.classid", r->network_class_id,
                        "linux.resources.network.classID", err)
                 < 0)
        return -1;
    }
  for (i = 0; i < r->network_priorities_len; i++)
    {
      const struct oci_net_priority *p = &r->network_priorities[i];
      snprintf (what, sizeof what, "linux.resources.network.priorities[%zu]", i);
      fd = dirs_get (d, CG_NET_PRIO, "net_prio", what, err);
      if (fd < 0)
        return -1;
      if (p->name == NULL || strpbrk (p->name, " \n") || strlen (p->name) > 64)
        return ctr_error (err, EINVAL, "%s.name: invalid interface name", what);
      snprintf (buf, sizeof buf, "%s %" PRIu32, p->name, p->priority);
      if (cg_write (fd, "net_prio.ifpriomap", buf, what, err) < 0)
        return -1;
    }
  return 0;
}

static int
rdma_v1 (struct dirs *d, const struct oci_resources *r, ctr_error_t *err)
{
  char buf[256], what[128];
  size_t i;
  int fd;

  for (i = 0; i < r->rdma_len; i++)
    {
      const struct oci_rdma *x = &r->rdma[i];
      int len;
      snprintf (what, sizeof what, "linux.resources.rdma.%.64s", x->device ? x->device : "");
      if (x->device == NULL || strpbrk (x->device, " \n") || strlen (x->device) > 64)
        return ctr_error (err, EINVAL, "%s: invalid device name", what);
      if (!x->has_hca_handles && !x->has_hca_objects)
        continue;
      fd = dirs_get (d, CG_RDMA, "rdma", what, err);
      if (fd < 0)
        return -1;
      len = snprintf (buf, sizeof buf, "%s", x->device);
      if (x->has_hca_handles)
        len += snprintf (buf + len, sizeof buf - len, " hca_handle=%" PRIu32, x->hca_handles);
      if (x->has_hca_objects)
        snprintf (buf + len, sizeof buf - len, " hca_object=%" PRIu32, x->hca_objects);
      if (cg_write (fd, "rdma.max", buf, what, err) < 0)
        return -1;
    }
  return 0;
}

int
legacy_device_rule (const struct oci_device_cgroup *d, char *buf, size_t size)
{
  char maj[24] = "*", min[24] = "*";
  const char *access = d->access ? d->access : "rwm";

  if (d->type == 'a')
    return snprintf (buf, size, "a"); /* the kernel reads "a" as every device */
  if (d->type != 'c' && d->type != 'b')
    return -1;
  if (d->major >= 0)
    snprintf (maj, sizeof maj, "%" PRId64, d->major);
  if (d->minor >= 0)
    snprintf (min, sizeof min, "%" PRId64, d->minor);
  return snprintf (buf, size, "%c %s:%s %s", d->type, maj, min, access);
}

/* One open devices.allow and devices.deny for all the rules: the kernel takes one rule
   per write. */
struct dev_files
{
  const char *dir;
  int fd[2]; /* deny, allow */
  char last[96];
  bool last_allow;
};

static int
dev_write (struct dev_files *f, bool allow, const char *rule, const char *what, ctr_error_t *err)
{
  const char *file = allow ? "devices.allow" : "devices.deny";
  size_t len = strlen (rule);
  ssize_t r;

  /* the same rule twice in a row changes nothing (the config's usual leading "deny all"
     after ctr's own) */
  if (allow == f->last_allow && strcmp (rule, f->last) == 0)
    return 0;
  if (f->fd[allow] < 0)
    {
      cleanup_free char *path = xasprintf ("%s/%s", f->dir, file);
      f->fd[allow] = open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
      if (f->fd[allow] < 0)
        return ctr_error (err, errno, "%s: write %s", what, file);
    }
  r = write (f->fd[allow], rule, len);
  if (r < 0)
    return ctr_error (err, errno, "%s: write %s", what, file);
  if ((size_t)r != len)
    return ctr_error (err, EIO, "%s: write %s: short write", what, file);
  if (ctr_log_debug_enabled ())
    ctr_log_debug ("cgroup: %s <- %s", file, rule);
  snprintf (f->last, sizeof f->last, "%s", rule);
  f->last_allow = allow;
  return 0;
}

static int
devices_v1 (struct dirs *d, const struct oci_resources *r, bool create, ctr_error_t *err)
{
  cleanup_free struct oci_device_cgroup *rules = NULL;
  const char *what = "linux.resources.devices";
  ssize_t v2 = cg_member_find (d->cg, 0);
  size_t n, i, ncfg = r ? r->devices_len : 0;
  struct dev_files f = { .fd = { -1, -1 } };
  cleanup_free char *dir = NULL;
  char buf[96], w[64];
  ssize_t m;
  int ret = 0, fd;

  rules = cg_device_rules (r, &n);
  if (cg_member_find (d->cg, CG_DEVICES) < 0)
    {
      /* the eBPF filter of the cgroup2 directory guards the same processes */
      if (v2 >= 0)
        return (fd = dirs_get (d, 0, "devices", what, err)) < 0
                   ? -1
                   : devices_bpf_apply (fd, rules, n, create && d->cg->m[v2].depth > 0, err);
      if (ncfg == 0)
        return 0;
    }
  m = cg_member_find (d->cg, CG_DEVICES);
  if (m < 0)
    return dirs_get (d, CG_DEVICES, "devices", what, err); /* the error */
  /* the files by path: no directory fd just to open two files */
  f.dir = dir = xasprintf ("%s%s", d->cg->m[m].h->mount, d->cg->path);
  for (i = 0; i < n && ret == 0; i++)
    {
      /* rule 0 is ctr's deny-all, the config's rules start at 1 */
      if (i == 0 || i > ncfg)
        snprintf (w, sizeof w, "%s", what);
      else
        snprintf (w, sizeof w, "%s[%zu]", what, i - 1);
      if (legacy_device_rule (&rules[i], buf, sizeof buf) < 0)
        ret = ctr_error (err, EINVAL, "%s: invalid type `%c`", w, rules[i].type);
      else
        ret = dev_write (&f, rules[i].allow, buf, w, err);
    }
  for (i = 0; i < 2; i++)
    if (f.fd[i] >= 0)
      close (f.fd[i]);
  return ret;
}

static int
apply_all (struct dirs *d, const struct oci_resources *r, bool create, ctr_error_t *err)
{
  char buf[32];
  int fd;

  if (r && r->unified_len)
    return ctr_error (err, ENOTSUP, "linux.resources.unified: requires cgroup v2");
  if (r && r->memory && memory_v1 (d, r->memory, !create, err) < 0)
    return -1;
  if (r && r->cpu && cpu_v1 (d, r->cpu, err) < 0)
    return -1;
  if (r && r->has_pids_limit)
    {
      const char *what = "linux.resources.pids.limit";
      if (r->pids_limit > 0)
        snprintf (buf, sizeof buf, "%" PRId64, r->pids_limit);
      else
        strcpy (buf, "max");
      fd = dirs_get (d, CG_PIDS, "pids", what, err);
      if (fd < 0 || cg_write (fd, "pids.max", buf, what, err) < 0)
        return -1;
    }
  if (r && r->block_io && blkio_v1 (d, r->block_io, err) < 0)
    return -1;
  if (r && r->hugepage_limits_len && hugetlb_v1 (d, r, err) < 0)
    return -1;
  if (r && (network_v1 (d, r, err) < 0 || rdma_v1 (d, r, err) < 0))
    return -1;
  if (create || (r && r->devices_len))
    return devices_v1 (d, r, create, err);
  return 0;
}

int
legacy_apply (const struct cgroup *cg, const struct oci_resources *res, bool create,
              ctr_error_t *err)
{
  struct dirs d = { .cg = cg, .fd = xmalloc ((cg->n + 1) * sizeof (int)) };
  size_t i;
  int r;

  for (i = 0; i < cg->n; i++)
    d.fd[i] = -1;
  r = apply_all (&d, res, create, err);
  dirs_close (&d);
  return r;
}

/* A new v1 cpuset directory starts with empty cpus and mems: nothing could join it. The
   parent's values are written without reading the new directory's first: when the
   parent has cgroup.clone_children the kernel copied these very values already. vals
   carries them down a chain of new directories: read once, from the first existing
   ancestor. */
/* Reads an ancestor's cpuset file; one that is still empty (a parent another create made a
   moment ago) gets its value from further up first, as runc's cpusetEnsureParent does.
   The walk stops at the hierarchy's mount, which is read but never written. */
static int
cpuset_value (const char *mount, const char *dir, const char *file, char **out, ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  cleanup_free char *parent = NULL;

  if (cg_read (AT_FDCWD, path, out, err) < 0)
    return -1;
  if (**out != '\0' || strcmp (dir, mount) == 0)
    return 0;
  parent = xstrdup (dir);
  *strrchr (parent, '/') = '\0';
  free (*out);
  *out = NULL;
  if (cpuset_value (mount, parent, file, out, err) < 0)
    return -1;
  if (**out != '\0')
    {
      /* the empty level between gets the value too, else nothing below it can run */
      cleanup_error ctr_error_t ignored = NULL;
      cg_write_in (dir, file, *out, dir, &ignored);
    }
  return 0;
}

/* cpuset.cpus and cpuset.mems start empty in a new v1 cgroup, and a task can't join it
   then (ENOSPC): copy the parent's. vals carries them down a chain of new directories:
   read once, from the first ancestor that has them. */
int
legacy_cpuset_inherit (const char *mount, const char *dir, char *vals[2], ctr_error_t *err)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  size_t i;

  for (i = 0; i < ARRAY_SIZE (files); i++)
    {
      if (vals[i] == NULL)
        {
          cleanup_free char *parent = xstrdup (dir);
          *strrchr (parent, '/') = '\0';
          if (cpuset_value (mount, parent, files[i], &vals[i], err) < 0)
            return ctr_error_wrap (err, "cgroup: copy the parent's cpuset");
        }
      if (*vals[i] == '\0')
        continue;
      if (cg_write_in (dir, files[i], vals[i], dir, err) < 0)
        return ctr_error_wrap (err, "cgroup: copy the parent's cpuset");
    }
  return 0;
}

/* A cpuset directory that exists already (a create killed between its mkdir and the copy)
   may still be empty, and then nothing can join it: filled from above, as a new one is. */
int
legacy_cpuset_repair (const char *mount, const char *dir, ctr_error_t *err)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  size_t i;

  for (i = 0; i < ARRAY_SIZE (files); i++)
    {
      cleanup_free char *v = NULL;
      if (cpuset_value (mount, dir, files[i], &v, err) < 0)
        return ctr_error_wrap (err, "cgroup: fill the cpuset of `%s`", dir);
    }
  return 0;
}

static int
freezer_fd (const struct cgroup *cg, ctr_error_t *err)
{
  ssize_t i = cg_member_find (cg, CG_FREEZER);
  if (i < 0)
    return ctr_error (err, ENOTSUP, "cgroup: the freezer cgroup controller is not mounted");
  return cg_member_open (cg, (size_t)i, err);
}

static int
freezer_state (int fd, char **state, ctr_error_t *err)
{
  return cg_read (fd, "freezer.state", state, err);
}

int
legacy_freeze (const struct cgroup *cg, bool frozen, ctr_error_t *err)
{
  const char *want = frozen ? "FROZEN" : "THAWED", *what = frozen ? "pause" : "resume";
  uint64_t deadline = now_ns () + FREEZE_TIMEOUT_NS;
  cleanup_close int fd = freezer_fd (cg, err);
  unsigned step = 0;

  if (fd < 0)
    return -1;
  for (;;)
    {
      cleanup_free char *state = NULL;
      /* rewriting FROZEN retries tasks that could not be frozen on the first pass */
      if (cg_write (fd, "freezer.state", want, what, err) < 0
          || freezer_state (fd, &state, err) < 0)
        return -1;
      if (strcmp (state, want) == 0)
        return 0;
      if (now_ns () > deadline)
        break;
      cg_backoff (&step);
    }
  if (frozen)
    cg_write (fd, "freezer.state", "THAWED", "resume", NULL);
  return ctr_error (err, ETIMEDOUT, "%s: freezer.state did not become %s", what, want);
}

int
legacy_is_frozen (const struct cgroup *cg, bool *frozen, ctr_error_t *err)
{
  cleanup_close int fd = freezer_fd (cg, err);
  cleanup_free char *state = NULL;
  if (fd < 0 || freezer_state (fd, &state, err) < 0)
    return -1;
  *frozen = strcmp (state, "THAWED") != 0;
  return 0;
}

int
legacy_kill (const struct cgroup *cg, int sig, ctr_error_t *err)
{
  static const unsigned prefer[] = { CG_PIDS, CG_FREEZER, CG_MEMORY, CG_CPU, CG_DEVICES };
  cleanup_close int fd = -1;
  ssize_t idx = -1, fz;
  size_t i;

  for (i = 0; idx < 0 && i < ARRAY_SIZE (prefer); i++)
    idx = cg_member_find (cg, prefer[i]);
  fd = cg_member_open (cg, idx < 0 ? 0 : (size_t)idx, err);
  if (fd < 0 || cg_signal_all (fd, sig, false, err) < 0)
    return -1;
  if (sig != SIGKILL)
    return 0;
  /* frozen tasks die only once thawed */
  fz = cg_member_find (cg, CG_FREEZER);
  if (fz >= 0)
    {
      cleanup_close int ffd = cg_member_open (cg, (size_t)fz, NULL);
      cleanup_free char *state = NULL;
      if (ffd >= 0 && freezer_state (ffd, &state, NULL) == 0 && strcmp (state, "THAWED") != 0)
        cg_write (ffd, "freezer.state", "THAWED", "kill", NULL);
    }
  return cg_signal_all (fd, sig, true, err);
}
