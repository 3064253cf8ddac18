/* cgroups stats: usage counters of a container's cgroup (both drivers), OOM kills, OOM watch. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroups/driver.h"
#include "base/log.h"
#include "base/util.h"

#define HUGEPAGES_DIR "/sys/kernel/mm/hugepages"

/* Reads a cgroup file; false when it is missing or unreadable (the stat is then absent). */
static bool
read_opt (int dirfd, const char *file, char **out)
{
  ctr_error_t err = NULL;
  *out = NULL;
  if (dirfd < 0)
    return false;
  if (cg_read (dirfd, file, out, &err) == 0)
    return true;
  ctr_log_debug ("cgroup stats: %s", err->msg);
  ctr_error_free (&err);
  return false;
}

/* One number file ("max" reads UINT64_MAX, as runc does). */
static bool
read_u64 (int dirfd, const char *file, uint64_t *v)
{
  cleanup_free char *text = NULL;
  if (!read_opt (dirfd, file, &text))
    return false;
  if (strcmp (text, "max") == 0)
    {
      *v = UINT64_MAX;
      return true;
    }
  return parse_uint64 (text, v) == 0;
}

bool
cg_stat_kv (const char *text, const char *key, uint64_t *v)
{
  size_t klen = strlen (key);
  const char *line;

  for (line = text; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    if (strncmp (line, key, klen) == 0 && line[klen] == ' ')
      {
        char num[32];
        size_t n = strcspn (line + klen + 1, "\n");
        if (n == 0 || n >= sizeof num)
          return false;
        memcpy (num, line + klen + 1, n);
        num[n] = '\0';
        return parse_uint64 (num, v) == 0;
      }
  return false;
}

static int
compare_stat_value (const void *a, const void *b)
{
  return strcmp (((const struct cgroup_stat_value *)a)->key,
                 ((const struct cgroup_stat_value *)b)->key);
}

struct cgroup_stat_value *
cg_stat_parse_flat (const char *text, size_t *n)
{
  struct cgroup_stat_value *v = NULL;
  cleanup_free char *copy = xstrdup (text);
  char *save = NULL, *line;

  *n = 0;
  for (line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *sp = strchr (line, ' ');
      uint64_t value;
      if (sp == NULL || sp == line)
        continue;
      *sp = '\0';
      if (parse_uint64 (sp + 1, &value) < 0)
        continue;
      v = xrealloc (v, (*n + 1) * sizeof (*v));
      v[*n].key = xstrdup (line);
      v[(*n)++].value = value;
    }
  if (*n > 1)
    qsort (v, *n, sizeof (*v), compare_stat_value);
  return v;
}

uint64_t *
cg_stat_parse_list (const char *text, size_t *n)
{
  uint64_t *v = NULL;
  const char *p = text;

  *n = 0;
  while (*p)
    {
      char *end;
      unsigned long long x;
      if (*p == ' ' || *p == '\n')
        {
          p++;
          continue;
        }
      errno = 0;
      x = strtoull (p, &end, 10);
      if (end == p || errno != 0)
        break;
      v = xrealloc (v, (*n + 1) * sizeof (*v));
      v[(*n)++] = x;
      p = end;
    }
  return v;
}

void
cg_stat_blkio_push (struct cgroup_blkio_entry **v, size_t *n, uint64_t major, uint64_t minor,
                    const char *op, uint64_t value)
{
  *v = xrealloc (*v, (*n + 1) * sizeof (**v));
  (*v)[*n] = (struct cgroup_blkio_entry){ .major = major, .minor = minor, .value = value };
  snprintf ((*v)[*n].op, sizeof (*v)[*n].op, "%s", op);
  (*n)++;
}

/* v1 blkio: "8:0 Read 4096" lines; the closing "Total N" line has no device. */
void
cg_stat_parse_blkio_v1 (const char *text, struct cgroup_blkio_entry **v, size_t *n)
{
  cleanup_free char *copy = xstrdup (text);
  char *save = NULL, *line;

  for (line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      unsigned long long major, minor, value;
      char op[16];
      if (sscanf (line, "%llu:%llu %15s %llu", &major, &minor, op, &value) == 4)
        cg_stat_blkio_push (v, n, major, minor, op, value);
    }
}

/* v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
void
cg_stat_parse_io_v2 (const char *text, struct cgroup_stats *s)
{
  static const struct
  {
    const char *key, *op;
    bool bytes;
  } map[] = {
    { "rbytes", "Read", true },
    { "wbytes", "Write", true },
    { "rios", "Read", false },
    { "wios", "Write", false },
  };
  cleanup_free char *copy = xstrdup (text);
  char *save = NULL, *line;
  size_t i;

  for (line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      unsigned long long major, minor, value;
      char *tok, *tsave = NULL;
      if (sscanf (line, "%llu:%llu", &major, &minor) != 2)
        continue;
      strtok_r (line, " ", &tsave);
      for (tok = strtok_r (NULL, " ", &tsave); tok; tok = strtok_r (NULL, " ", &tsave))
        {
          char *eq = strchr (tok, '=');
          if (eq == NULL)
            continue;
          *eq = '\0';
          value = strtoull (eq + 1, NULL, 10);
          for (i = 0; i < ARRAY_SIZE (map); i++)
            if (strcmp (tok, map[i].key) == 0)
              {
                if (map[i].bytes)
                  cg_stat_blkio_push (&s->io_service_bytes, &s->io_service_bytes_len, major, minor,
                                      map[i].op, value);
                else
                  cg_stat_blkio_push (&s->io_serviced, &s->io_serviced_len, major, minor, map[i].op,
                                      value);
              }
        }
    }
}

void
cg_stat_hugepage_name (uint64_t kb, char *buf, size_t size)
{
  if (kb >= 1048576 && kb % 1048576 == 0)
    snprintf (buf, size, "%" PRIu64 "GB", kb / 1048576);
  else if (kb >= 1024 && kb % 1024 == 0)
    snprintf (buf, size, "%" PRIu64 "MB", kb / 1024);
  else
    snprintf (buf, size, "%" PRIu64 "KB", kb);
}

/* The huge page sizes of the machine as the hugetlb files name them, read once. */
static const char *const *
hugepage_sizes (size_t *n)
{
  static char **sizes;
  static size_t count;
  static bool done;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (!done)
    {
      done = true;
      d = opendir (HUGEPAGES_DIR);
      while (d && (de = readdir (d)))
        {
          uint64_t kb;
          char name[32], *end;
          if (strncmp (de->d_name, "hugepages-", 10) != 0)
            continue;
          kb = strtoull (de->d_name + 10, &end, 10);
          if (strcmp (end, "kB") != 0)
            continue;
          cg_stat_hugepage_name (kb, name, sizeof name);
          sizes = xrealloc (sizes, (count + 1) * sizeof (*sizes));
          sizes[count++] = xstrdup (name);
        }
    }
  *n = count;
  return (const char *const *)sizes;
}

static void
hugetlb_read (int fd, bool v2, struct cgroup_stats *s)
{
  const char *const *sizes;
  size_t n, i;

  sizes = hugepage_sizes (&n);
  for (i = 0; i < n && fd >= 0; i++)
    {
      struct cgroup_hugetlb_stats h = { .usage = 0 };
      char file[64];
      snprintf (file, sizeof file, v2 ? "hugetlb.%s.current" : "hugetlb.%s.usage_in_bytes",
                sizes[i]);
      if (!read_u64 (fd, file, &h.usage))
        continue;
      snprintf (h.page_size, sizeof h.page_size, "%s", sizes[i]);
      if (v2)
        {
          cleanup_free char *events = NULL;
          snprintf (file, sizeof file, "hugetlb.%s.events", sizes[i]);
          if (read_opt (fd, file, &events))
            cg_stat_kv (events, "max", &h.failcnt);
        }
      else
        {
          snprintf (file, sizeof file, "hugetlb.%s.max_usage_in_bytes", sizes[i]);
          read_u64 (fd, file, &h.max_usage);
          snprintf (file, sizeof file, "hugetlb.%s.failcnt", sizes[i]);
          read_u64 (fd, file, &h.failcnt);
        }
      s->hugetlb = xrealloc (s->hugetlb, (s->hugetlb_len + 1) * sizeof (*s->hugetlb));
      s->hugetlb[s->hugetlb_len++] = h;
    }
}

static void
pids_read (int fd, struct cgroup_stats *s)
{
  if (!read_u64 (fd, "pids.current", &s->pids_current))
    return;
  s->has_pids = true;
  /* runc's convention: 0 is "no limit" */
  if (read_u64 (fd, "pids.max", &s->pids_limit) && s->pids_limit == UINT64_MAX)
    s->pids_limit = 0;
}

static void
cpuset_read (int fd, bool v2, struct cgroup_stats *s)
{
  static const struct
  {
    const char *file;
    size_t off;
  } flags[] = {
    { "cpuset.cpu_exclusive", offsetof (struct cgroup_stats, cpu_exclusive) },
    { "cpuset.mem_hardwall", offsetof (struct cgroup_stats, mem_hardwall) },
    { "cpuset.mem_exclusive", offsetof (struct cgroup_stats, mem_exclusive) },
    { "cpuset.memory_migrate", offsetof (struct cgroup_stats, memory_migrate) },
    { "cpuset.memory_spread_page", offsetof (struct cgroup_stats, memory_spread_page) },
    { "cpuset.memory_spread_slab", offsetof (struct cgroup_stats, memory_spread_slab) },
    { "cpuset.memory_pressure", offsetof (struct cgroup_stats, memory_pressure) },
    { "cpuset.sched_load_balance", offsetof (struct cgroup_stats, sched_load_balance) },
  };
  cleanup_free char *relax = NULL;
  size_t i;

  if (!read_opt (fd, v2 ? "cpuset.cpus.effective" : "cpuset.cpus", &s->cpuset_cpus))
    return;
  s->has_cpuset = true;
  read_opt (fd, v2 ? "cpuset.mems.effective" : "cpuset.mems", &s->cpuset_mems);
  if (v2)
    return;
  for (i = 0; i < ARRAY_SIZE (flags); i++)
    read_u64 (fd, flags[i].file, (uint64_t *)((char *)s + flags[i].off));
  if (read_opt (fd, "cpuset.sched_relax_domain_level", &relax))
    parse_int64 (relax, &s->sched_relax_domain_level);
}

/* v1 cpuacct.usage_all: "cpu user system" then one line per cpu. */
static void
cpu_usage_all_v1 (int fd, struct cgroup_stats *s)
{
  cleanup_free char *text = NULL;
  char *line, *save = NULL;

  if (!read_opt (fd, "cpuacct.usage_all", &text))
    return;
  strtok_r (text, "\n", &save);
  for (line = strtok_r (NULL, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      unsigned long long cpu, user, sys;
      size_t n = s->cpu_percpu_split_len;
      if (sscanf (line, "%llu %llu %llu", &cpu, &user, &sys) != 3)
        continue;
      s->cpu_percpu_user_ns = xrealloc (s->cpu_percpu_user_ns, (n + 1) * sizeof (uint64_t));
      s->cpu_percpu_kernel_ns = xrealloc (s->cpu_percpu_kernel_ns, (n + 1) * sizeof (uint64_t));
      s->cpu_percpu_user_ns[n] = user;
      s->cpu_percpu_kernel_ns[n] = sys;
      s->cpu_percpu_split_len = n + 1;
    }
}

static void
cpu_read_v1 (int acct, int cpu, struct cgroup_stats *s)
{
  cleanup_free char *text = NULL;
  uint64_t ticks;
  long hz = sysconf (_SC_CLK_TCK);

  if (read_u64 (acct, "cpuacct.usage", &s->cpu_usage_ns))
    {
      s->has_cpu = true;
      if (read_opt (acct, "cpuacct.usage_percpu", &text))
        s->cpu_percpu_ns = cg_stat_parse_list (text, &s->cpu_percpu_len);
      free (steal_ptr (text));
      /* cpuacct.stat counts USER_HZ ticks */
      if (hz > 0 && read_opt (acct, "cpuacct.stat", &text))
        {
          if (cg_stat_kv (text, "user", &ticks))
            s->cpu_user_ns = ticks * (1000000000ULL / (uint64_t)hz);
          if (cg_stat_kv (text, "system", &ticks))
            s->cpu_kernel_ns = ticks * (1000000000ULL / (uint64_t)hz);
        }
      free (steal_ptr (text));
      cpu_usage_all_v1 (acct, s);
    }
  if (read_opt (cpu, "cpu.stat", &text) && cg_stat_kv (text, "nr_periods", &s->cpu_periods))
    {
      s->has_cpu_throttling = true;
      cg_stat_kv (text, "nr_throttled", &s->cpu_throttled_periods);
      cg_stat_kv (text, "throttled_time", &s->cpu_throttled_ns);
    }
}

void
cg_stat_parse_cpu_v2 (const char *text, struct cgroup_stats *s)
{
  uint64_t v;
  if (cg_stat_kv (text, "usage_usec", &v))
    {
      s->has_cpu = true;
      s->cpu_usage_ns = v * 1000;
    }
  if (cg_stat_kv (text, "user_usec", &v))
    s->cpu_user_ns = v * 1000;
  if (cg_stat_kv (text, "system_usec", &v))
    s->cpu_kernel_ns = v * 1000;
  if (cg_stat_kv (text, "nr_periods", &s->cpu_periods))
    {
      s->has_cpu_throttling = true;
      cg_stat_kv (text, "nr_throttled", &s->cpu_throttled_periods);
      if (cg_stat_kv (text, "throttled_usec", &v))
        s->cpu_throttled_ns = v * 1000;
    }
}

/* One v1 memory counter: <prefix>.usage_in_bytes and its max/limit/failcnt files. */
static bool
memory_entry_v1 (int fd, const char *prefix, struct cgroup_memory_entry *e)
{
  char file[64];
  snprintf (file, sizeof file, "%s.usage_in_bytes", prefix);
  if (!read_u64 (fd, file, &e->usage))
    return false;
  snprintf (file, sizeof file, "%s.max_usage_in_bytes", prefix);
  read_u64 (fd, file, &e->max_usage);
  snprintf (file, sizeof file, "%s.limit_in_bytes", prefix);
  read_u64 (fd, file, &e->limit);
  snprintf (file, sizeof file, "%s.failcnt", prefix);
  read_u64 (fd, file, &e->failcnt);
  return true;
}

static void
memory_raw (int fd, const char *cache_key, struct cgroup_stats *s)
{
  cleanup_free char *text = NULL;
  size_t i;
  if (!read_opt (fd, "memory.stat", &text))
    return;
  s->memory_raw = cg_stat_parse_flat (text, &s->memory_raw_len);
  for (i = 0; i < s->memory_raw_len; i++)
    if (strcmp (s->memory_raw[i].key, cache_key) == 0)
      s->memory_cache = s->memory_raw[i].value;
}

static void
memory_read_v1 (int fd, struct cgroup_stats *s)
{
  struct cgroup_memory_entry m = { 0 };
  if (!memory_entry_v1 (fd, "memory", &m))
    return;
  s->has_memory = true;
  s->memory_usage = m.usage;
  s->memory_max_usage = m.max_usage;
  s->memory_limit = m.limit;
  s->memory_failcnt = m.failcnt;
  s->has_swap = memory_entry_v1 (fd, "memory.memsw", &s->swap);
  s->has_kernel = memory_entry_v1 (fd, "memory.kmem", &s->kernel);
  s->has_kernel_tcp = memory_entry_v1 (fd, "memory.kmem.tcp", &s->kernel_tcp);
  memory_raw (fd, "cache", s);
}

static void
memory_read_v2 (int fd, struct cgroup_stats *s)
{
  uint64_t swap_usage, swap_limit = UINT64_MAX;

  if (!read_u64 (fd, "memory.current", &s->memory_usage))
    return;
  s->has_memory = true;
  s->memory_limit = UINT64_MAX;
  read_u64 (fd, "memory.max", &s->memory_limit);
  read_u64 (fd, "memory.peak", &s->memory_max_usage);
  memory_raw (fd, "file", s);
  /* runc reports swap as memory + swap, the v1 meaning, with no max usage */
  if (read_u64 (fd, "memory.swap.current", &swap_usage))
    {
      s->has_swap = true;
      read_u64 (fd, "memory.swap.max", &swap_limit);
      s->swap.usage = swap_usage + s->memory_usage;
      s->swap.limit = swap_limit == UINT64_MAX || s->memory_limit == UINT64_MAX
                          ? UINT64_MAX
                          : swap_limit + s->memory_limit;
    }
}

static int
member_fd (const struct cgroup *cg, unsigned ctrl, int *fds)
{
  ssize_t i = cg_member_find (cg, ctrl);
  return i < 0 ? -1 : fds[i];
}

/* v1 controllers first; a group without its controller falls back to the cgroup2
   directory (hybrid hosts keep hugetlb there; cpu.stat exists in every v2 cgroup). */
static void
stats_legacy (const struct cgroup *cg, int *fds, struct cgroup_stats *s)
{
  int v2 = member_fd (cg, 0, fds), fd;
  cleanup_free char *text = NULL;

  cpu_read_v1 (member_fd (cg, CG_CPUACCT, fds), member_fd (cg, CG_CPU, fds), s);
  if (!s->has_cpu && read_opt (v2, "cpu.stat", &text))
    cg_stat_parse_cpu_v2 (text, s);
  cpuset_read (member_fd (cg, CG_CPUSET, fds), false, s);
  memory_read_v1 (member_fd (cg, CG_MEMORY, fds), s);
  pids_read (member_fd (cg, CG_PIDS, fds), s);
  fd = member_fd (cg, CG_BLKIO, fds);
  free (steal_ptr (text));
  if (read_opt (fd, "blkio.throttle.io_service_bytes_recursive", &text))
    {
      s->has_blkio = true;
      cg_stat_parse_blkio_v1 (text, &s->io_service_bytes, &s->io_service_bytes_len);
      free (steal_ptr (text));
      if (read_opt (fd, "blkio.throttle.io_serviced_recursive", &text))
        cg_stat_parse_blkio_v1 (text, &s->io_serviced, &s->io_serviced_len);
    }
  fd = member_fd (cg, CG_HUGETLB, fds);
  hugetlb_read (fd >= 0 ? fd : v2, fd < 0, s);
}

static void
stats_unified (int fd, struct cgroup_stats *s)
{
  cleanup_free char *text = NULL;

  if (read_opt (fd, "cpu.stat", &text))
    cg_stat_parse_cpu_v2 (text, s);
  cpuset_read (fd, true, s);
  memory_read_v2 (fd, s);
  pids_read (fd, s);
  free (steal_ptr (text));
  if (read_opt (fd, "io.stat", &text))
    {
      s->has_blkio = true;
      cg_stat_parse_io_v2 (text, s);
    }
  hugetlb_read (fd, true, s);
}

int
cgroup_stats (const struct cgroup *cg, struct cgroup_stats *s, ctr_error_t *err)
{
  cleanup_free int *fds = NULL;
  size_t i;
  int ret = -1;

  memset (s, 0, sizeof *s);
  if (cg->n == 0)
    return ctr_error (err, ENOTSUP, "cgroup: the container has no cgroup (%s)", cg->path);
  fds = xmalloc (cg->n * sizeof (int));
  for (i = 0; i < cg->n; i++)
    fds[i] = -1;
  for (i = 0; i < cg->n; i++)
    if ((fds[i] = cg_member_open (cg, i, err)) < 0)
      goto out;
  if (cg->layout == CGROUP_LAYOUT_UNIFIED)
    stats_unified (fds[0], s);
  else
    stats_legacy (cg, fds, s);
  if (cgroup_oom_kills (cg, &s->oom_kills, NULL) == 0 && s->has_memory)
    s->has_oom_kills = true;
  ret = 0;
out:
  for (i = 0; i < cg->n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  return ret;
}

void
cgroup_stats_clear (struct cgroup_stats *s)
{
  size_t i;
  free (s->cpu_percpu_ns);
  free (s->cpu_percpu_user_ns);
  free (s->cpu_percpu_kernel_ns);
  free (s->cpuset_cpus);
  free (s->cpuset_mems);
  for (i = 0; i < s->memory_raw_len; i++)
    free (s->memory_raw[i].key);
  free (s->memory_raw);
  free (s->io_service_bytes);
  free (s->io_serviced);
  free (s->hugetlb);
  memset (s, 0, sizeof *s);
}

int
cgroup_oom_kills (const struct cgroup *cg, uint64_t *count, ctr_error_t *err)
{
  bool v2 = cg->layout == CGROUP_LAYOUT_UNIFIED;
  ssize_t i = v2 ? (cg->n ? 0 : -1) : cg_member_find (cg, CG_MEMORY);
  const char *file = v2 ? "memory.events" : "memory.oom_control";
  cleanup_free char *text = NULL;
  cleanup_close int fd = -1;
  char *line;

  *count = 0;
  if (i < 0)
    return 0;
  fd = cg_member_open (cg, (size_t)i, err);
  if (fd < 0)
    return -1;
  if (!cg_file_exists (fd, file))
    return 0; /* v2 memory controller not enabled */
  if (cg_read (fd, file, &text, err) < 0)
    return -1;
  for (line = text; line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    if (strncmp (line, "oom_kill ", 9) == 0)
      {
        line[strcspn (line, "\n")] = '\0';
        if (parse_uint64 (line + 9, count) < 0)
          return ctr_error (err, EINVAL, "read %s: bad oom_kill value", file);
        return 0;
      }
  return 0;
}

/* v1: an eventfd registered through cgroup.event_control on memory.oom_control. The
   registration holds what it needs: the oom_control fd can be closed right after. */
static int
oom_watch_v1 (int dirfd, ctr_error_t *err)
{
  cleanup_close int efd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  cleanup_close int ofd = -1;
  char buf[64];

  if (efd < 0)
    return ctr_error (err, errno, "eventfd");
  ofd = openat (dirfd, "memory.oom_control", O_RDONLY | O_CLOEXEC);
  if (ofd < 0)
    return ctr_error (err, errno, "open `memory.oom_control`");
  snprintf (buf, sizeof buf, "%d %d", efd, ofd);
  if (cg_write (dirfd, "cgroup.event_control", buf, "cgroup oom watch", err) < 0)
    return -1;
  return steal_fd (efd);
}

/* v2: memory.events is modified (inotify IN_MODIFY) whenever one of its counters moves. */
static int
oom_watch_v2 (int dirfd, ctr_error_t *err)
{
  cleanup_close int ifd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  char path[64];

  if (ifd < 0)
    return ctr_error (err, errno, "inotify_init1");
  /* inotify has no *at variant: reach the file through the directory fd */
  snprintf (path, sizeof path, "/proc/self/fd/%d/memory.events", dirfd);
  if (inotify_add_watch (ifd, path, IN_MODIFY) < 0)
    return ctr_error (err, errno, "watch `memory.events`");
  return steal_fd (ifd);
}

int
cgroup_oom_watch (const struct cgroup *cg, int *fd, ctr_error_t *err)
{
  bool v2 = cg->layout == CGROUP_LAYOUT_UNIFIED;
  ssize_t i = v2 ? (cg->n ? 0 : -1) : cg_member_find (cg, CG_MEMORY);
  cleanup_close int dirfd = -1;

  *fd = -1;
  if (i < 0)
    return 0;
  dirfd = cg_member_open (cg, (size_t)i, err);
  if (dirfd < 0)
    return -1;
  if (!cg_file_exists (dirfd, v2 ? "memory.events" : "memory.oom_control"))
    return 0;
  *fd = v2 ? oom_watch_v2 (dirfd, err) : oom_watch_v1 (dirfd, err);
  return *fd < 0 ? -1 : 0;
}

void
cgroup_oom_watch_drain (int fd)
{
  char buf[4096];
  while (read (fd, buf, sizeof buf) > 0)
    ;
}
