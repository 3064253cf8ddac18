/* events: `ctr events`: a container's cgroup stats and OOM events in runc's event format. */
#ifndef CTR_EVENTS_H
#define CTR_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroups/cgroup.h"
#include "runtime/container.h"
#include "base/error.h"

#define EVENTS_DEFAULT_INTERVAL_NS (5ULL * 1000000000ULL)

struct events_options
{
  uint64_t interval_ns; /* between stats events; 0: the default (5 s) */
  bool stats_only;      /* one stats event, then return */
};

/* Called with each event: one compact JSON document, no trailing newline. */
typedef void (*events_emit_fn) (const char *json, size_t len, void *data);

/* Emits a stats event every interval and an oom event as soon as the cgroup's OOM kill
   counter grows; returns 0 once the container's init has exited. A stopped container is
   an error, as in runc. */
int container_events (const struct ctr_context *ctx, const char *id,
                      const struct events_options *opts, events_emit_fn emit, void *data,
                      ctr_error_t *err);

/* A Go duration ("5s", "500ms", "1m30s", "1.5h"); -1 when invalid, zero or negative. */
int events_parse_duration (const char *s, uint64_t *ns);
/* {"type":"stats","id":ID,"data":{...}} with runc's field names and omissions. */
char *events_stats_json (const char *id, const struct cgroup_stats *s, size_t *len);
/* {"type":"oom","id":ID} */
char *events_oom_json (const char *id, size_t *len);

#endif
