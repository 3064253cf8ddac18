/* cli/autostart: `ctr start --autostart`, boots the containers marked autostart as a host does
   at boot: by autostart.order, the containers of one order in parallel; `ctr stop --all`,
   stops the running ones as a host's shutdown does: the last order first. */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/memory.h"
#include "cli/cli.h"
#include "system/system.h"

/* The starts running at once: a start is mostly the kernel's work (namespaces, mounts,
   cgroups, links) and waits on the monitor's report, so a few per CPU keep the CPUs busy. */
#define JOBS_PER_CPU 4

struct job
{
  pid_t pid;
  const char *name;
};

struct batch
{
  const struct ctr_context *ctx;
  struct job *jobs;
  size_t n, max;
  int rc;
  bool stop;   /* stops, not starts */
  int timeout; /* a stop's (-1: each container's stop_timeout) */
  int killed;  /* stops that ended in SIGKILL */
};

/* autostart.order, then the name (lxc-autostart's order). */
static int
compare_autostart (const void *a, const void *b)
{
  const struct system_info *x = a, *y = b;
  if (x->autostart_order != y->autostart_order)
    return x->autostart_order < y->autostart_order ? -1 : 1;
  return strcmp (x->name, y->name);
}

/* What one start or stop ended with (r: its exit status): said when it started or stopped
   (its failure it printed itself), counted. */
static void
report (struct batch *b, const char *name, int r)
{
  if (r == 0 || (b->stop && r == CLI_EXIT_STOP_KILLED))
    printf ("%s %s%s\n", b->stop ? "stopped" : "started", name, r ? " (killed)" : "");
  if (r == CLI_EXIT_STOP_KILLED && b->stop)
    b->killed++;
  else if (r != 0)
    b->rc = CLI_EXIT_FAILURE;
  fflush (stdout);
}

/* Reaps one start or stop and reports it. */
static void
reap_one (struct batch *b)
{
  int status;
  size_t i;
  pid_t pid = waitpid (-1, &status, 0);

  if (pid < 0)
    {
      if (errno != EINTR)
        b->n = 0; /* no child left: nothing more to wait for */
      return;
    }
  for (i = 0; i < b->n && b->jobs[i].pid != pid; i++)
    ;
  if (i == b->n)
    return;
  report (b, b->jobs[i].name, WIFEXITED (status) ? WEXITSTATUS (status) : CLI_EXIT_FAILURE);
  b->jobs[i] = b->jobs[--b->n];
}

static void
reap_all (struct batch *b)
{
  while (b->n > 0)
    reap_one (b);
}

int
cli_stop_status (const char *name, const struct system_stopped *how)
{
  /* a stop that had to kill is not a clean shutdown: said, and told apart by the status */
  if (!how->killed || how->timeout <= 0 || how->orphaned)
    return CLI_EXIT_OK;
  fprintf (stderr,
           "ctr: warning: `%s` did not shut down within %d s of %s: everything in it was "
           "killed (SIGKILL)\n",
           name, how->timeout, how->stop_signal);
  return CLI_EXIT_STOP_KILLED;
}

/* One stop, as `ctr stop NAME` does it: 0, CLI_EXIT_STOP_KILLED (warned) or a failure. */
static int
stop_here (const struct ctr_context *ctx, const char *name, int timeout)
{
  struct system_stopped how;
  ctr_error_t err = NULL;

  if (system_stop (ctx, name, timeout, &how, &err) < 0)
    return cli_fail (&err);
  return cli_stop_status (name, &how);
}

static int
act_here (const struct batch *b, const char *name)
{
  ctr_error_t err = NULL;
  int status;

  if (b->stop)
    return stop_here (b->ctx, name, b->timeout);
  return system_start (b->ctx, name, false, &status, &err) < 0 ? cli_fail (&err) : 0;
}

/* One start or stop in a child of its own, so that the next ones need not wait for it. */
static void
act_one (struct batch *b, const char *name)
{
  pid_t pid;

  while (b->n >= b->max)
    reap_one (b);
  fflush (stdout);
  pid = fork ();
  if (pid == 0)
    _exit (act_here (b, name));
  if (pid > 0)
    {
      b->jobs[b->n++] = (struct job){ .pid = pid, .name = name };
      return;
    }
  /* no child: here, in turn */
  report (b, name, act_here (b, name));
}

static bool
wanted (const struct system_info *c, const char *group, bool stop)
{
  if (stop ? c->status == SYSTEM_STOPPED : !c->autostart || c->status != SYSTEM_STOPPED)
    return false;
  return group == NULL || strcmp (c->autostart_group ?: "", group) == 0;
}

/* Every stopped container marked autostart (of group, when given) started, or with stop
   every running one (of group) stopped; one failure does not stop the others. One order's
   containers go together, at most jobs at once (0: a few per CPU); the next order waits for
   them. Starts go by autostart.order, lowest first; a container with an autostart.delay
   starts after those before it and holds the next ones back for its delay, as
   lxc-autostart's delay does. Stops go the other way, highest order first, without delays. */
static int
run_batch (const struct ctr_context *ctx, const struct cli_batch *opt, bool stop)
{
  struct system_info *list = NULL;
  ctr_error_t err = NULL;
  struct batch b = { .ctx = ctx, .rc = CLI_EXIT_OK, .stop = stop, .timeout = opt->timeout };
  const char *group = opt->group;
  unsigned long jobs = 0;
  bool first = true;
  int order = 0;
  long cpus;
  size_t n, k;

  if (opt->jobs)
    {
      char *end;
      errno = 0;
      jobs = strtoul (opt->jobs, &end, 10);
      if (errno || end == opt->jobs || *end || jobs < 1 || jobs > 1024 || opt->jobs[0] == '-')
        return cli_usage_error (stop ? "stop" : "start",
                                "--jobs `%s`: a whole number from 1 to 1024", opt->jobs);
    }
  if (system_list (ctx, &list, &n, &err) < 0)
    return cli_fail (&err);
  qsort (list, n, sizeof *list, compare_autostart);
  cpus = sysconf (_SC_NPROCESSORS_ONLN);
  b.max = jobs ? jobs : (size_t)(cpus > 0 ? cpus : 1) * JOBS_PER_CPU;
  b.jobs = xzalloc ((b.max + 1) * sizeof *b.jobs);
  for (k = 0; k < n; k++)
    {
      const struct system_info *c = &list[stop ? n - 1 - k : k];
      bool delay = !stop && c->autostart_delay > 0;

      if (!wanted (c, group, stop))
        continue;
      if (!first && (c->autostart_order != order || delay))
        reap_all (&b);
      first = false;
      order = c->autostart_order;
      act_one (&b, c->name);
      if (delay && k + 1 < n)
        {
          reap_all (&b);
          sleep ((unsigned)c->autostart_delay);
        }
    }
  reap_all (&b);
  for (k = 0; k < n; k++)
    system_info_clear (&list[k]);
  free (list);
  free (b.jobs);
  return b.rc == CLI_EXIT_OK && b.killed ? CLI_EXIT_STOP_KILLED : b.rc;
}

int
cli_start_autostart (const struct ctr_context *ctx, const struct cli_batch *opt)
{
  return run_batch (ctx, opt, false);
}

int
cli_stop_all (const struct ctr_context *ctx, const struct cli_batch *opt)
{
  return run_batch (ctx, opt, true);
}
