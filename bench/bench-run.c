/* bench-run: the timing driver of bench/run.sh; runs OCI runtimes round-robin and reports wall time
 * and peak RSS. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_RUNTIMES 8
#define MAX_REPORTED_FAILURES 3

struct samples
{
  double *v;
  int n;
};

struct runtime
{
  const char *name;
  const char *path;
  char root[4096];
  char log[4096];
  struct samples run, create, start, delete, conc, cold;
  struct samples plain, limited, limits_cost; /* the limits phase (-L): paired runs */
  struct samples exec;                        /* the exec phase (-E): into PREFIX-NAME-exec */
  struct samples seal_run, seal_exec;         /* the seal phase (-E, ctr): paired costs */
  long *rss;                                  /* KiB, one per `run` sample */
  int fails, reported;
  bool run_only; /* the floor (bench/floor.c): only `run`, in the run, cold and concurrent phases */
};

static struct
{
  const char *bundle, *statedir, *logdir, *prefix, *raw;
  const char *limits_bundle; /* the same bundle with linux.resources (-L) */
  bool exec_phase;           /* -E: every runtime but the floor runs a container PREFIX-NAME-exec */
  int runs, warmup, conc, rounds, timeout, colds, cold_pause_ms;
  struct runtime rt[MAX_RUNTIMES];
  int nrt;
  int devnull;
  FILE *rawf;
} opt = { .runs = 200,
          .warmup = 3,
          .conc = 50,
          .rounds = 5,
          .timeout = 30,
          .colds = 10,
          .cold_pause_ms = 1500,
          .prefix = "ctr-bench" };

static volatile sig_atomic_t interrupted, alarmed;
static bool timed_out; /* the last command was killed by the timeout */

static void
on_signal (int sig)
{
  interrupted = sig;
}

static void
on_alarm (int sig)
{
  alarmed = sig;
}

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *
xcalloc (size_t n, size_t size)
{
  void *p = calloc (n ? n : 1, size);
  if (p == NULL)
    {
      perror ("bench-run: calloc");
      exit (1);
    }
  return p;
}

/* Print what the runtime wrote to its log since OFFSET, so a failure is visible. */
static void
report_failure (struct runtime *rt, const char *what, const char *id, int status, off_t offset)
{
  char buf[1024];
  ssize_t n = 0;
  int fd;

  rt->fails++;
  if (interrupted || rt->reported++ >= MAX_REPORTED_FAILURES)
    return;
  fd = open (rt->log, O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      n = pread (fd, buf, sizeof buf - 1, offset);
      close (fd);
    }
  buf[n > 0 ? n : 0] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  if (timed_out)
    fprintf (stderr, "bench-run: %s %s %s: hung, killed after %ds: %s\n", rt->name, what, id,
             opt.timeout, buf);
  else if (WIFSIGNALED (status))
    fprintf (stderr, "bench-run: %s %s %s: killed by signal %d: %s\n", rt->name, what, id,
             WTERMSIG (status), buf);
  else
    fprintf (stderr, "bench-run: %s %s %s: exit %d: %s\n", rt->name, what, id, WEXITSTATUS (status),
             buf);
}

static off_t
log_size (struct runtime *rt)
{
  struct stat st;
  return stat (rt->log, &st) == 0 ? st.st_size : 0;
}

/* Start `RUNTIME --root ROOT VERB [ARGS...]` with stdin/stdout on /dev/null and stderr in the log.
 */
static pid_t
spawn (struct runtime *rt, const char *verb, const char *a1, const char *a2, const char *a3)
{
  const char *argv[] = { rt->path, "--root", rt->root, verb, a1, a2, a3, NULL };
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int r;

  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, opt.devnull, 0);
  posix_spawn_file_actions_adddup2 (&fa, opt.devnull, 1);
  posix_spawn_file_actions_addopen (&fa, 2, rt->log, O_WRONLY | O_APPEND | O_CREAT, 0600);
  r = posix_spawn (&pid, rt->path, &fa, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  if (r != 0)
    {
      fprintf (stderr, "bench-run: spawn %s: %s\n", rt->path, strerror (r));
      exit (1);
    }
  return pid;
}

/* SIGKILL every child: spawned runtimes and container processes re-parented to us. A hung
   runtime may wait on a process that holds a lock it needs, so all of them go. */
static void
kill_children (void)
{
  char path[64], buf[8192];
  ssize_t n;
  int fd;

  snprintf (path, sizeof path, "/proc/self/task/%d/children", (int)getpid ());
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  buf[n > 0 ? n : 0] = '\0';
  for (char *p = buf, *end; *p; p = end)
    {
      long pid = strtol (p, &end, 10);
      if (end == p)
        break;
      if (pid > 1)
        kill ((pid_t)pid, SIGKILL);
    }
}

/* wait4 that gives up after opt.timeout seconds: then every child is killed (timed_out). */
static pid_t
wait4_deadline (pid_t pid, int *status, struct rusage *ru)
{
  pid_t r;

  alarmed = 0;
  alarm (opt.timeout);
  while ((r = wait4 (pid, status, 0, ru)) < 0 && errno == EINTR)
    if (alarmed)
      {
        timed_out = true;
        alarmed = 0;
        kill_children ();
      }
  alarm (0);
  return r;
}

/* Reap processes re-parented to us (we are a subreaper) without blocking. */
static void
reap_orphans (void)
{
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
}

/* Run one runtime command to completion; returns its wait status, the wall time and max RSS. */
static int
timed (struct runtime *rt, const char *verb, const char *a1, const char *a2, const char *a3,
       double *ms, long *rss_kib)
{
  struct rusage ru;
  int status = 0;
  double t0 = now_ms ();
  pid_t pid = spawn (rt, verb, a1, a2, a3);

  timed_out = false;
  if (wait4_deadline (pid, &status, &ru) < 0)
    {
      perror ("bench-run: wait4");
      exit (1);
    }
  *ms = now_ms () - t0;
  if (rss_kib)
    *rss_kib = ru.ru_maxrss;
  reap_orphans ();
  return status;
}

static void
untimed (struct runtime *rt, const char *verb, const char *a1, const char *a2)
{
  double ms;
  timed (rt, verb, a1, a2, NULL, &ms, NULL);
}

static void
raw (const char *phase, struct runtime *rt, int i, double ms, long rss, int status)
{
  if (opt.rawf)
    fprintf (opt.rawf, "%s\t%s\t%d\t%.4f\t%ld\t%d\n", phase, rt->name, i, ms, rss, status);
}

static void
one_run (struct runtime *rt, int i, bool record)
{
  char id[256];
  double ms;
  long rss;
  off_t off = log_size (rt);
  int st;

  snprintf (id, sizeof id, "%s-%s-r%d", opt.prefix, rt->name, i);
  st = timed (rt, "run", "--bundle", opt.bundle, id, &ms, &rss);
  if (st != 0)
    {
      report_failure (rt, "run", id, st, off);
      untimed (rt, "delete", "--force", id);
      return;
    }
  if (!record)
    return;
  rt->rss[rt->run.n] = rss;
  rt->run.v[rt->run.n++] = ms;
  raw ("run", rt, i, ms, rss, st);
}

/* A `run` after an idle pause, as a user's single `podman run` sees it: kernel paths that
   are cheap back to back (RCU-synchronised locks, caches) pay their full price here. */
static void
one_cold (struct runtime *rt, int i)
{
  char id[256];
  double ms;
  off_t off = log_size (rt);
  int st;

  usleep ((useconds_t)opt.cold_pause_ms * 1000);
  snprintf (id, sizeof id, "%s-%s-c%d", opt.prefix, rt->name, i);
  st = timed (rt, "run", "--bundle", opt.bundle, id, &ms, NULL);
  if (st != 0)
    {
      report_failure (rt, "run (cold)", id, st, off);
      untimed (rt, "delete", "--force", id);
      return;
    }
  rt->cold.v[rt->cold.n++] = ms;
  raw ("cold", rt, i, ms, 0, st);
}

/* One timed `run` of bundle; the time in *ms, false on failure (reported). */
static bool
run_bundle (struct runtime *rt, const char *bundle, const char *id, double *ms)
{
  off_t off = log_size (rt);
  int st = timed (rt, "run", "--bundle", bundle, id, ms, NULL);
  if (st == 0)
    return true;
  report_failure (rt, "run", id, st, off);
  untimed (rt, "delete", "--force", id);
  return false;
}

/* The limits phase: the plain bundle and the one with cgroup limits back to back (the
   order alternates), so the difference of the pair is what creating the cgroup's limits
   costs, with the drift of the machine cancelled out. */
static void
one_limits (struct runtime *rt, int i, bool record)
{
  char plain_id[256], lim_id[256];
  double plain = 0, lim = 0;
  bool ok;

  if (rt->run_only)
    return;
  snprintf (plain_id, sizeof plain_id, "%s-%s-p%d", opt.prefix, rt->name, i);
  snprintf (lim_id, sizeof lim_id, "%s-%s-l%d", opt.prefix, rt->name, i);
  if (i % 2 == 0)
    ok = run_bundle (rt, opt.bundle, plain_id, &plain)
         && run_bundle (rt, opt.limits_bundle, lim_id, &lim);
  else
    ok = run_bundle (rt, opt.limits_bundle, lim_id, &lim)
         && run_bundle (rt, opt.bundle, plain_id, &plain);
  if (!ok || !record)
    return;
  rt->plain.v[rt->plain.n++] = plain;
  rt->limited.v[rt->limited.n++] = lim;
  rt->limits_cost.v[rt->limits_cost.n++] = lim - plain;
  raw ("limits-plain", rt, i, plain, 0, 0);
  raw ("limits-limited", rt, i, lim, 0, 0);
}

/* The seal phase (ctr only): what the protection of ctr's binary (security rule 1: the
   container's programs are executed by ctr-stub from a sealed memfd) costs `run` and
   `exec`, measured as pairs with and without it (CTR_BENCH_NO_SEAL=1), order alternating. */
static double
seal_pair (int i, bool (*one) (struct runtime *, const char *, double *), struct runtime *rt,
           const char *id_base, bool *ok)
{
  char id_on[256], id_off[256];
  double on = 0, off = 0;

  snprintf (id_on, sizeof id_on, "%s-s%d", id_base, i);
  snprintf (id_off, sizeof id_off, "%s-u%d", id_base, i);
  for (int k = 0; k < 2 && *ok; k++)
    {
      bool sealed = (i + k) % 2 == 0;
      if (!sealed)
        setenv ("CTR_BENCH_NO_SEAL", "1", 1);
      *ok = one (rt, sealed ? id_on : id_off, sealed ? &on : &off);
      unsetenv ("CTR_BENCH_NO_SEAL");
    }
  return on - off;
}

static bool
seal_run_one (struct runtime *rt, const char *id, double *ms)
{
  return run_bundle (rt, opt.bundle, id, ms);
}

static char seal_target[256]; /* the running container that seal_exec_one execs into */

/* The exec phase: `exec /bin/true` into the runtime's running container, as a probe or
   `kubectl exec` does, one per runtime per iteration like `run`. */
static void
one_exec (struct runtime *rt, int i, bool record)
{
  char target[256];
  double ms;
  off_t off = log_size (rt);
  int st;

  if (rt->run_only || !opt.exec_phase)
    return;
  snprintf (target, sizeof target, "%s-%s-exec", opt.prefix, rt->name);
  st = timed (rt, "exec", target, "/bin/true", NULL, &ms, NULL);
  if (st != 0)
    {
      report_failure (rt, "exec", target, st, off);
      return;
    }
  if (!record)
    return;
  rt->exec.v[rt->exec.n++] = ms;
  raw ("exec", rt, i, ms, 0, st);
}

static bool
seal_exec_one (struct runtime *rt, const char *id, double *ms)
{
  off_t off = log_size (rt);
  int st = timed (rt, "exec", seal_target, "/bin/true", NULL, ms, NULL);
  (void)id;
  if (st == 0)
    return true;
  report_failure (rt, "exec", seal_target, st, off);
  return false;
}

static void
one_seal (struct runtime *rt, int i, bool record)
{
  char base[256];
  bool ok = true;
  double run_cost, exec_cost;

  snprintf (base, sizeof base, "%s-%s-seal", opt.prefix, rt->name);
  run_cost = seal_pair (i, seal_run_one, rt, base, &ok);
  exec_cost = ok ? seal_pair (i, seal_exec_one, rt, base, &ok) : 0;
  if (!ok || !record)
    return;
  rt->seal_run.v[rt->seal_run.n++] = run_cost;
  rt->seal_exec.v[rt->seal_exec.n++] = exec_cost;
  raw ("seal-run-cost", rt, i, run_cost, 0, 0);
  raw ("seal-exec-cost", rt, i, exec_cost, 0, 0);
}

/* After `start` the container's init is our child (subreaper): wait until it is gone. */
static void
wait_container_exit (void)
{
  double deadline = now_ms () + 5000;

  for (;;)
    {
      pid_t r = waitpid (-1, NULL, WNOHANG);
      if (r < 0 && errno == ECHILD)
        return;
      if (r > 0)
        continue;
      if (now_ms () > deadline)
        {
          fprintf (stderr, "bench-run: a container process still runs 5s after start: killed\n");
          kill_children ();
          deadline = now_ms () + 5000;
        }
      usleep (100);
    }
}

static void
one_split (struct runtime *rt, int i, bool record)
{
  char id[256];
  double c, s, d;
  off_t off = log_size (rt);
  int st;

  if (rt->run_only)
    return;
  snprintf (id, sizeof id, "%s-%s-s%d", opt.prefix, rt->name, i);
  st = timed (rt, "create", "--bundle", opt.bundle, id, &c, NULL);
  if (st != 0)
    {
      report_failure (rt, "create", id, st, off);
      untimed (rt, "delete", "--force", id);
      return;
    }
  st = timed (rt, "start", id, NULL, NULL, &s, NULL);
  if (st != 0)
    {
      report_failure (rt, "start", id, st, off);
      untimed (rt, "delete", "--force", id);
      return;
    }
  wait_container_exit ();
  st = timed (rt, "delete", id, NULL, NULL, &d, NULL);
  if (st != 0)
    {
      report_failure (rt, "delete", id, st, off);
      untimed (rt, "delete", "--force", id);
      return;
    }
  if (!record)
    return;
  rt->create.v[rt->create.n++] = c;
  rt->start.v[rt->start.n++] = s;
  rt->delete.v[rt->delete.n++] = d;
  raw ("create", rt, i, c, 0, 0);
  raw ("start", rt, i, s, 0, 0);
  raw ("delete", rt, i, d, 0, 0);
}

/* Start opt.conc `run`s at once; the sample is the time until the last one exits. */
static void
one_concurrent (struct runtime *rt, int round)
{
  pid_t *pids = xcalloc (opt.conc, sizeof *pids);
  char id[256];
  int left = opt.conc, failed = 0, status;
  off_t off = log_size (rt);
  double t0 = now_ms ();

  for (int k = 0; k < opt.conc; k++)
    {
      snprintf (id, sizeof id, "%s-%s-c%d-%d", opt.prefix, rt->name, round, k);
      pids[k] = spawn (rt, "run", "--bundle", opt.bundle, id);
    }
  timed_out = false;
  while (left > 0)
    {
      pid_t p = wait4_deadline (-1, &status, NULL);
      if (p < 0)
        break;
      for (int k = 0; k < opt.conc; k++)
        if (pids[k] == p)
          {
            pids[k] = 0;
            left--;
            if (status != 0)
              {
                failed++;
                snprintf (id, sizeof id, "%s-%s-c%d-%d", opt.prefix, rt->name, round, k);
                report_failure (rt, "concurrent run", id, status, off);
                untimed (rt, "delete", "--force", id);
              }
          }
    }
  double ms = now_ms () - t0;
  reap_orphans ();
  if (failed == 0)
    rt->conc.v[rt->conc.n++] = ms;
  raw ("concurrent", rt, round, ms, 0, failed);
  free (pids);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile of the samples (P in 0..100); NAN when there are none. */
static double
percentile (struct samples *s, double p)
{
  if (s->n == 0)
    return NAN;
  qsort (s->v, s->n, sizeof *s->v, cmp_double);
  if (p == 50 && s->n % 2 == 0)
    return (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
  int idx = (int)ceil (p / 100 * s->n) - 1;
  return s->v[idx < 0 ? 0 : idx];
}

static long
max_rss (struct runtime *rt)
{
  long m = 0;
  for (int i = 0; i < rt->run.n; i++)
    if (rt->rss[i] > m)
      m = rt->rss[i];
  return m;
}

static double
median_rss (struct runtime *rt)
{
  struct samples s = { xcalloc (rt->run.n, sizeof (double)), rt->run.n };
  for (int i = 0; i < s.n; i++)
    s.v[i] = rt->rss[i];
  double m = percentile (&s, 50);
  free (s.v);
  return m;
}

static struct runtime *
find (const char *name)
{
  for (int i = 0; i < opt.nrt; i++)
    if (strcmp (opt.rt[i].name, name) == 0)
      return &opt.rt[i];
  return NULL;
}

/* A column of the table: "-" where the runtime has no sample (the floor only runs). */
static const char *
col (char *buf, size_t size, int width, double v, int prec)
{
  if (isnan (v))
    snprintf (buf, size, "%*s", width, "-");
  else
    snprintf (buf, size, "%*.*f", width, prec, v);
  return buf;
}

static void
print_table (void)
{
  printf ("\n%-8s %9s %9s %9s %9s %9s %9s %9s %10s %10s %11s %6s\n", "runtime", "run med",
          "run p95", "cold run", "create", "start", "delete", "exec", "RSS peak", "RSS med",
          "concurrent", "fails");
  printf ("%-8s %9s %9s %9s %9s %9s %9s %9s %10s %10s %11s %6s\n", "", "ms", "ms", "med ms",
          "med ms", "med ms", "med ms", "med ms", "KiB", "KiB", "med ms", "");
  for (int i = 0; i < opt.nrt; i++)
    {
      struct runtime *rt = &opt.rt[i];
      char b[7][32];
      printf ("%-8s %9.2f %9.2f %s %s %s %s %s %10ld %10.0f %s %6d\n", rt->name,
              percentile (&rt->run, 50), percentile (&rt->run, 95),
              col (b[0], sizeof b[0], 9, percentile (&rt->cold, 50), 2),
              col (b[1], sizeof b[1], 9, percentile (&rt->create, 50), 2),
              col (b[2], sizeof b[2], 9, percentile (&rt->start, 50), 2),
              col (b[3], sizeof b[3], 9, percentile (&rt->delete, 50), 2),
              col (b[5], sizeof b[5], 9, percentile (&rt->exec, 50), 2), max_rss (rt),
              median_rss (rt), col (b[4], sizeof b[4], 11, percentile (&rt->conc, 50), 1),
              rt->fails);
    }
}

static void
ratio_line (struct runtime *a, struct runtime *b, const char *what, double x, double y)
{
  if (isnan (x) || isnan (y) || y <= 0)
    printf ("%s/%s %s: n/a\n", a->name, b->name, what);
  else
    printf ("%s/%s %s: %.2fx\n", a->name, b->name, what, x / y);
}

static void
print_ratios (struct runtime *a, struct runtime *b)
{
  ratio_line (a, b, "run p95", percentile (&a->run, 95), percentile (&b->run, 95));
  ratio_line (a, b, "create median", percentile (&a->create, 50), percentile (&b->create, 50));
  ratio_line (a, b, "start median", percentile (&a->start, 50), percentile (&b->start, 50));
  ratio_line (a, b, "delete median", percentile (&a->delete, 50), percentile (&b->delete, 50));
  ratio_line (a, b, "exec median", percentile (&a->exec, 50), percentile (&b->exec, 50));
  ratio_line (a, b, "peak RSS", max_rss (a), max_rss (b));
  ratio_line (a, b, "concurrent", percentile (&a->conc, 50), percentile (&b->conc, 50));
  ratio_line (a, b, "cold run median", percentile (&a->cold, 50), percentile (&b->cold, 50));
  ratio_line (a, b, "run median", percentile (&a->run, 50), percentile (&b->run, 50));
}

/* One target line: A/B of a statistic against its bound (nothing when either is missing). */
static void
target_ratio (const char *what, double x, double y, double bound)
{
  if (isnan (x) || isnan (y) || y <= 0)
    return;
  printf ("target %s <= %.2fx: %s (%.2fx)\n", what, bound, x / y <= bound ? "MET" : "NOT MET",
          x / y);
}

/* The targets: ctr's `run` and `exec` medians at most half crun's (issue 20; the first
   target was 0.6x), `run` at most 1.25x the kernel floor, peak RSS at most crun's. */
static void
print_targets (void)
{
  struct runtime *ctr = find ("ctr"), *crun = find ("crun"), *floor = find ("floor");
  if (ctr == NULL || ctr->run.n == 0)
    return;
  printf ("\n");
  if (crun)
    {
      target_ratio ("ctr/crun run median", percentile (&ctr->run, 50), percentile (&crun->run, 50),
                    0.5);
      target_ratio ("ctr/crun exec median", percentile (&ctr->exec, 50),
                    percentile (&crun->exec, 50), 0.5);
    }
  if (floor)
    target_ratio ("ctr/floor run median", percentile (&ctr->run, 50), percentile (&floor->run, 50),
                  1.25);
  if (crun && crun->run.n)
    printf ("target ctr peak RSS <= crun: %s (%ld KiB vs %ld KiB)\n",
            max_rss (ctr) <= max_rss (crun) ? "MET" : "NOT MET", max_rss (ctr), max_rss (crun));
}

/* The cgroups issue's budget: creating the cgroup and applying typical limits adds at most
   1 ms to ctr's `run`. */
static void
print_limits (void)
{
  struct runtime *ctr = find ("ctr");
  if (opt.limits_bundle == NULL)
    return;
  printf ("\ncgroup limits (memory, pids, cpu quota): run with - without, paired\n");
  printf ("%-8s %12s %12s %14s %14s\n", "runtime", "plain med", "limited med", "cost med",
          "cost p25/p75");
  for (int i = 0; i < opt.nrt; i++)
    {
      struct runtime *rt = &opt.rt[i];
      if (rt->run_only)
        continue;
      printf ("%-8s %12.2f %12.2f %14.3f %7.3f/%.3f\n", rt->name, percentile (&rt->plain, 50),
              percentile (&rt->limited, 50), percentile (&rt->limits_cost, 50),
              percentile (&rt->limits_cost, 25), percentile (&rt->limits_cost, 75));
    }
  if (ctr && ctr->limits_cost.n)
    {
      double c = percentile (&ctr->limits_cost, 50);
      printf ("target ctr cgroup limits cost <= 1 ms: %s (%.3f ms)\n", c <= 1.0 ? "MET" : "NOT MET",
              c);
    }
}

/* Security rule 1's budget: the protection of the binary costs at most 0.5 ms a command. */
static void
print_seal (void)
{
  struct runtime *ctr = find ("ctr");
  if (ctr == NULL || ctr->seal_run.n == 0)
    return;
  printf ("\nbinary protection (ctr-stub from a sealed memfd): with - without, paired, ms\n");
  printf ("%-8s %10s %14s\n", "command", "cost med", "cost p25/p75");
  printf ("%-8s %10.3f %7.3f/%.3f\n", "run", percentile (&ctr->seal_run, 50),
          percentile (&ctr->seal_run, 25), percentile (&ctr->seal_run, 75));
  printf ("%-8s %10.3f %7.3f/%.3f\n", "exec", percentile (&ctr->seal_exec, 50),
          percentile (&ctr->seal_exec, 25), percentile (&ctr->seal_exec, 75));
  double worst = percentile (&ctr->seal_run, 50) > percentile (&ctr->seal_exec, 50)
                     ? percentile (&ctr->seal_run, 50)
                     : percentile (&ctr->seal_exec, 50);
  printf ("target ctr binary protection <= 0.5 ms per command: %s (%.3f ms)\n",
          worst <= 0.5 ? "MET" : "NOT MET", worst);
}

/* Against the floor only what it does: `run` (warm, cold, concurrent) and the peak RSS. */
static void
print_floor_ratios (struct runtime *a, struct runtime *f)
{
  ratio_line (a, f, "run p95", percentile (&a->run, 95), percentile (&f->run, 95));
  ratio_line (a, f, "peak RSS", max_rss (a), max_rss (f));
  ratio_line (a, f, "concurrent", percentile (&a->conc, 50), percentile (&f->conc, 50));
  ratio_line (a, f, "cold run median", percentile (&a->cold, 50), percentile (&f->cold, 50));
  ratio_line (a, f, "run median", percentile (&a->run, 50), percentile (&f->run, 50));
}

static void
print_all_ratios (void)
{
  struct runtime *base[] = { find ("crun"), find ("runc"), find ("floor") };
  for (int b = 0; b < 3; b++)
    {
      if (base[b] == NULL)
        continue;
      for (int i = 0; i < opt.nrt; i++)
        {
          struct runtime *rt = &opt.rt[i];
          if (rt == base[b] || rt->run_only || (b == 1 && rt == base[0]))
            continue;
          printf ("\n");
          if (base[b]->run_only)
            print_floor_ratios (rt, base[b]);
          else
            print_ratios (rt, base[b]);
        }
    }
  /* one line per runtime: its run median against each base, side by side */
  printf ("\nrun median ratios:");
  for (int b = 0; b < 3; b++)
    if (base[b])
      printf (" %9s", base[b]->name);
  printf ("\n");
  for (int i = 0; i < opt.nrt; i++)
    {
      struct runtime *rt = &opt.rt[i];
      if (rt->run_only)
        continue;
      printf ("%-18s", rt->name);
      for (int b = 0; b < 3; b++)
        if (base[b])
          {
            double x = percentile (&rt->run, 50), y = percentile (&base[b]->run, 50);
            if (isnan (x) || isnan (y) || y <= 0)
              printf (" %9s", "n/a");
            else
              printf (" %8.2fx", x / y);
          }
      printf ("\n");
    }
}

static void
usage (void)
{
  fprintf (stderr,
           "usage: bench-run -b BUNDLE -s STATEDIR -l LOGDIR [-p PREFIX] [-n RUNS] "
           "[-w WARMUP] [-c CONC] [-r ROUNDS] [-t TIMEOUT] [-k COLD_RUNS] [-P COLD_PAUSE_MS] "
           "[-o RAW.tsv] [-L LIMITS_BUNDLE] [-E] NAME=PATH...\n");
  exit (2);
}

static void
parse_args (int argc, char **argv)
{
  int c;
  while ((c = getopt (argc, argv, "b:s:l:p:n:w:c:r:o:t:k:P:L:E")) != -1)
    switch (c)
      {
      case 'b':
        opt.bundle = optarg;
        break;
      case 's':
        opt.statedir = optarg;
        break;
      case 'l':
        opt.logdir = optarg;
        break;
      case 'p':
        opt.prefix = optarg;
        break;
      case 'n':
        opt.runs = atoi (optarg);
        break;
      case 'w':
        opt.warmup = atoi (optarg);
        break;
      case 'c':
        opt.conc = atoi (optarg);
        break;
      case 'r':
        opt.rounds = atoi (optarg);
        break;
      case 'o':
        opt.raw = optarg;
        break;
      case 't':
        opt.timeout = atoi (optarg);
        break;
      case 'k':
        opt.colds = atoi (optarg);
        break;
      case 'P':
        opt.cold_pause_ms = atoi (optarg);
        break;
      case 'E':
        opt.exec_phase = true;
        break;
      case 'L':
        opt.limits_bundle = optarg;
        break;
      default:
        usage ();
      }
  if (!opt.bundle || !opt.statedir || !opt.logdir || optind == argc || opt.runs < 1 || opt.conc < 0
      || opt.rounds < 0 || opt.warmup < 0 || opt.timeout < 1 || argc - optind > MAX_RUNTIMES)
    usage ();
  for (; optind < argc; optind++)
    {
      struct runtime *rt = &opt.rt[opt.nrt++];
      char *eq = strchr (argv[optind], '=');
      if (eq == NULL)
        usage ();
      *eq = '\0';
      rt->name = argv[optind];
      rt->path = eq + 1;
      rt->run_only = strcmp (rt->name, "floor") == 0;
      snprintf (rt->root, sizeof rt->root, "%s/%s", opt.statedir, rt->name);
      snprintf (rt->log, sizeof rt->log, "%s/%s.log", opt.logdir, rt->name);
      rt->run.v = xcalloc (opt.runs, sizeof (double));
      rt->create.v = xcalloc (opt.runs, sizeof (double));
      rt->start.v = xcalloc (opt.runs, sizeof (double));
      rt->delete.v = xcalloc (opt.runs, sizeof (double));
      rt->conc.v = xcalloc (opt.rounds, sizeof (double));
      rt->cold.v = xcalloc (opt.colds + 1, sizeof (double));
      rt->rss = xcalloc (opt.runs, sizeof (long));
      rt->plain.v = xcalloc (opt.runs, sizeof (double));
      rt->limited.v = xcalloc (opt.runs, sizeof (double));
      rt->limits_cost.v = xcalloc (opt.runs, sizeof (double));
      rt->exec.v = xcalloc (opt.runs, sizeof (double));
      rt->seal_run.v = xcalloc (opt.runs, sizeof (double));
      rt->seal_exec.v = xcalloc (opt.runs, sizeof (double));
    }
}

static void
setup (void)
{
  struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  sa.sa_handler = on_alarm;
  sa.sa_flags = 0; /* interrupt wait4 */
  sigaction (SIGALRM, &sa, NULL);
  if (prctl (PR_SET_CHILD_SUBREAPER, 1) < 0)
    perror ("bench-run: PR_SET_CHILD_SUBREAPER");
  opt.devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (opt.devnull < 0)
    {
      perror ("bench-run: /dev/null");
      exit (1);
    }
  if (opt.raw)
    {
      opt.rawf = fopen (opt.raw, "we");
      if (opt.rawf == NULL)
        {
          perror (opt.raw);
          exit (1);
        }
      fprintf (opt.rawf, "phase\truntime\titeration\tms\tmaxrss_kib\tstatus\n");
    }
}

int
main (int argc, char **argv)
{
  parse_args (argc, argv);
  setup ();
  setvbuf (stdout, NULL, _IOLBF, 0);

  /* the exec and seal phases exec into containers that run.sh started (not our children:
     the split phase waits for every child of ours to be gone) */
  if (opt.exec_phase && find ("ctr"))
    snprintf (seal_target, sizeof seal_target, "%s-ctr-exec", opt.prefix);

  /* Round-robin, and rotate who goes first, so drift and cache effects hit all runtimes. */
  for (int i = -opt.warmup; i < opt.runs && !interrupted; i++)
    {
      for (int k = 0; k < opt.nrt && !interrupted; k++)
        one_run (&opt.rt[(i + opt.warmup + k) % opt.nrt], i, i >= 0);
      for (int k = 0; k < opt.nrt && !interrupted; k++)
        one_split (&opt.rt[(i + opt.warmup + k) % opt.nrt], i, i >= 0);
      for (int k = 0; k < opt.nrt && opt.exec_phase && !interrupted; k++)
        one_exec (&opt.rt[(i + opt.warmup + k) % opt.nrt], i, i >= 0);
      for (int k = 0; k < opt.nrt && opt.limits_bundle && !interrupted; k++)
        one_limits (&opt.rt[(i + opt.warmup + k) % opt.nrt], i, i >= 0);
      if (seal_target[0] && !interrupted)
        one_seal (find ("ctr"), i, i >= 0);
      if (i >= 0 && (i + 1) % 50 == 0)
        fprintf (stderr, "bench-run: %d/%d iterations\n", i + 1, opt.runs);
    }
  for (int i = 0; i < opt.colds && !interrupted; i++)
    for (int k = 0; k < opt.nrt && !interrupted; k++)
      one_cold (&opt.rt[(i + k) % opt.nrt], i);
  for (int r = 0; r < opt.rounds && opt.conc > 0 && !interrupted; r++)
    for (int k = 0; k < opt.nrt && !interrupted; k++)
      one_concurrent (&opt.rt[(r + k) % opt.nrt], r);
  if (opt.rawf)
    fclose (opt.rawf);
  if (interrupted)
    {
      fprintf (stderr, "bench-run: interrupted\n");
      return 130;
    }

  printf ("%d runs of /bin/true per runtime (+%d warm-up), interleaved; %d cold runs after "
          "%d ms idle; %d rounds of %d concurrent runs\n",
          opt.runs, opt.warmup, opt.colds, opt.cold_pause_ms, opt.rounds, opt.conc);
  print_table ();
  print_targets ();
  print_limits ();
  print_seal ();
  print_all_ratios ();
  for (int i = 0; i < opt.nrt; i++)
    if (opt.rt[i].fails)
      return 1;
  return 0;
}
