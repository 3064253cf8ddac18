/* parallel: see parallel.h. */
#include <config.h>
#include <pthread.h>
#include <sched.h>

#include "base/parallel.h"

#define PARALLEL_MAX_THREADS 16

struct parallel_job
{
  size_t count;
  size_t next;
  void (*fn) (void *arg, size_t i);
  void *arg;
};

static void *
worker (void *data)
{
  struct parallel_job *job = data;
  size_t i;
  while ((i = __atomic_fetch_add (&job->next, 1, __ATOMIC_RELAXED)) < job->count)
    job->fn (job->arg, i);
  return NULL;
}

/* Threads besides the caller's. */
static size_t
extra_threads (size_t count, size_t per_thread)
{
  cpu_set_t set;
  size_t cpus = 1, want = per_thread ? count / per_thread : count;
  if (sched_getaffinity (0, sizeof set, &set) == 0)
    cpus = (size_t)CPU_COUNT (&set);
  if (want > cpus)
    want = cpus;
  if (want > PARALLEL_MAX_THREADS)
    want = PARALLEL_MAX_THREADS;
  return want > 1 ? want - 1 : 0;
}

void
parallel_for (size_t count, size_t per_thread, void (*fn) (void *arg, size_t i), void *arg)
{
  struct parallel_job job = { .count = count, .fn = fn, .arg = arg };
  pthread_t threads[PARALLEL_MAX_THREADS];
  size_t i, n = extra_threads (count, per_thread), started = 0;

  for (i = 0; i < n; i++)
    if (pthread_create (&threads[started], NULL, worker, &job) == 0)
      started++;
  worker (&job);
  for (i = 0; i < started; i++)
    pthread_join (threads[i], NULL);
}
