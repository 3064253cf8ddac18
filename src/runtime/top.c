/* top: one sample of every running container's cgroup counters, for `ctr top`. */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "base/memory.h"
#include "base/util.h"
#include "cgroups/cgroup.h"
#include "runtime/container.h"
#include "runtime/loaded.h"
#include "runtime/state.h"

static uint64_t
io_sum (const struct cgroup_blkio_entry *e, size_t n, const char *op)
{
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++)
    if (strcasecmp (e[i].op, op) == 0)
      sum += e[i].value;
  return sum;
}

static void
sample_one (const struct ctr_context *ctx, const struct container_info *info,
            struct container_top_row *row)
{
  struct loaded l;
  struct cgroup *cg = NULL;
  struct cgroup_stats st;
  ctr_error_t err = NULL;

  row->id = xstrdup (info->id);
  row->status = xstrdup (info->status);
  if (loaded_open (ctx, info->id, false, &l, &err) < 0)
    {
      ctr_error_free (&err);
      return;
    }
  if (loaded_cgroup (&l, &cg, &err) == 0 && cg && cgroup_stats (cg, &st, &err) == 0)
    {
      row->has_cpu = st.has_cpu;
      row->cpu_ns = st.cpu_usage_ns;
      row->has_memory = st.has_memory;
      row->memory = st.memory_usage;
      row->memory_limit = st.memory_limit;
      row->has_pids = st.has_pids;
      row->pids = st.pids_current;
      row->has_io = st.has_blkio;
      row->io_read = io_sum (st.io_service_bytes, st.io_service_bytes_len, "Read");
      row->io_write = io_sum (st.io_service_bytes, st.io_service_bytes_len, "Write");
      cgroup_stats_clear (&st);
    }
  ctr_error_free (&err);
  if (cg)
    cgroup_free (cg);
  loaded_release (&l);
}

int
container_top_sample (const struct ctr_context *ctx, struct container_top_row **out, size_t *n,
                      ctr_error_t *err)
{
  struct container_info *list = NULL;
  size_t count = 0, k = 0;

  if (container_list (ctx, &list, &count, err) < 0)
    return -1;
  *out = xzalloc ((count + 1) * sizeof **out);
  for (size_t i = 0; i < count; i++)
    if (list[i].pid > 0
        && (strcmp (list[i].status, "running") == 0 || strcmp (list[i].status, "paused") == 0))
      sample_one (ctx, &list[i], &(*out)[k++]);
  *n = k;
  container_info_free (list, count);
  return 0;
}

void
container_top_free (struct container_top_row *rows, size_t n)
{
  for (size_t i = 0; rows && i < n; i++)
    {
      free (rows[i].id);
      free (rows[i].status);
    }
  free (rows);
}
