/* cli/autostart: `ctr start --autostart`, boots the containers marked autostart as a host does
   at boot: by autostart.order, the containers of one order in parallel. */
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

/* Reaps one start; says what it started (its failure it printed itself). */
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
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    printf ("started %s\n", b->jobs[i].name);
  else
    b->rc = CLI_EXIT_FAILURE;
  fflush (stdout);
  b->jobs[i] = b->jobs[--b->n];
}

static void
reap_all (struct batch *b)
{
  while (b->n > 0)
    reap_one (b);
}

/* One start in a child of its own, so that the next ones need not wait for it. */
static void
start_one (struct batch *b, const char *name)
{
  ctr_error_t err = NULL;
  int status;
  pid_t pid;

  while (b->n >= b->max)
    reap_one (b);
  fflush (stdout);
  pid = fork ();
  if (pid < 0)
    {
      /* no child: start it here, in turn */
      if (system_start (b->ctx, name, false, &status, &err) < 0)
        b->rc = cli_fail (&err);
      else
        printf ("started %s\n", name);
      return;
    }
  if (pid == 0)
    _exit (system_start (b->ctx, name, false, &status, &err) < 0 ? cli_fail (&err) : 0);
  b->jobs[b->n++] = (struct job){ .pid = pid, .name = name };
}

static bool
wanted (const struct system_info *c, const char *group)
{
  return c->autostart && c->status == SYSTEM_STOPPED
         && (group == NULL || strcmp (c->autostart_group ?: "", group) == 0);
}

/* Every stopped container marked autostart (of group, when given); one failure does not
   stop the others. One order's containers start together, at most jobs at once (0: a few
   per CPU); the next order waits for them. A container with an autostart.delay starts
   after those before it and holds the next ones back for its delay, as lxc-autostart's
   delay does. */
int
cli_start_autostart (const struct ctr_context *ctx, const char *group, unsigned jobs)
{
  struct system_info *list = NULL;
  ctr_error_t err = NULL;
  struct batch b = { .ctx = ctx, .rc = CLI_EXIT_OK };
  bool first = true;
  int order = 0;
  long cpus;
  size_t n, i;

  if (system_list (ctx, &list, &n, &err) < 0)
    return cli_fail (&err);
  qsort (list, n, sizeof *list, compare_autostart);
  cpus = sysconf (_SC_NPROCESSORS_ONLN);
  b.max = jobs ? jobs : (size_t)(cpus > 0 ? cpus : 1) * JOBS_PER_CPU;
  b.jobs = xzalloc ((b.max + 1) * sizeof *b.jobs);
  for (i = 0; i < n; i++)
    {
      if (!wanted (&list[i], group))
        continue;
      if (!first && (list[i].autostart_order != order || list[i].autostart_delay > 0))
        reap_all (&b);
      first = false;
      order = list[i].autostart_order;
      start_one (&b, list[i].name);
      if (list[i].autostart_delay > 0 && i + 1 < n)
        {
          reap_all (&b);
          sleep ((unsigned)list[i].autostart_delay);
        }
    }
  reap_all (&b);
  for (i = 0; i < n; i++)
    system_info_clear (&list[i]);
  free (list);
  free (b.jobs);
  return b.rc;
}
