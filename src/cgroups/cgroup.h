/* cgroups: one interface over two drivers: `unified` (pure cgroup v2) and `legacy`
   (v1 controllers, and hybrid hosts that also mount cgroup2). */
#ifndef CTR_CGROUP_H
#define CTR_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"
#include "oci/config.h"

enum cgroup_layout
{
  CGROUP_LAYOUT_UNIFIED, /* cgroup2 at /sys/fs/cgroup */
  CGROUP_LAYOUT_HYBRID,  /* v1 controllers + cgroup2 at /sys/fs/cgroup/unified */
  CGROUP_LAYOUT_LEGACY,  /* v1 only */
};

/* Detected once per process. */
enum cgroup_layout cgroup_layout_detect (void);
const char *cgroup_layout_name (enum cgroup_layout l);

struct cgroup;

struct cgroup_config
{
  const char *cgroups_path; /* linux.cgroupsPath; NULL: /ctr/<id> */
  const char *id;
  const struct oci_resources *resources; /* may be NULL */
  bool rootless;
};

/* Creates the container's cgroup in every hierarchy ctr uses and applies the resources,
   before the container process exists. Absolute cgroupsPath as given; relative ones and
   the default under /ctr. Paths are checked to stay under their parent (no `..`).
   Nothing is left behind on failure. A path that already exists is joined but not owned
   (never removed by ctr). */
int cgroup_create (const struct cgroup_config *cfg, struct cgroup **out, ctr_error_t *err);
/* O_DIRECTORY fd of the cgroup2 directory for clone3(CLONE_INTO_CGROUP), -1 if none. */
int cgroup_v2_fd (const struct cgroup *cg);
/* Moves pid into the cgroup in every hierarchy (skipping v2 when it was cloned into it).
   pid 0: a single-threaded caller moves itself, which on v1 avoids a global lock whose
   first use after an idle spell costs an RCU grace period. */
int cgroup_enter (const struct cgroup *cg, pid_t pid, bool skip_v2, ctr_error_t *err);
/* Signals every process in the cgroup (cgroup.kill on v2 for SIGKILL). */
int cgroup_kill (const struct cgroup *cg, int sig, ctr_error_t *err);
int cgroup_freeze (const struct cgroup *cg, bool frozen, ctr_error_t *err);
int cgroup_is_frozen (const struct cgroup *cg, bool *frozen, ctr_error_t *err);
/* PIDs (host view) of every process in the cgroup. */
int cgroup_pids (const struct cgroup *cg, pid_t **pids, size_t *n, ctr_error_t *err);
/* Applies new resources to a live cgroup (`ctr update`). */
int cgroup_update (const struct cgroup *cg, const struct oci_resources *res, ctr_error_t *err);
/* Kills what is left, waits until empty and removes the directories ctr created. */
int cgroup_destroy (struct cgroup *cg, ctr_error_t *err);

/* How many processes the OOM killer killed in the cgroup so far (memory.events oom_kill on
   v2, memory.oom_control oom_kill on v1); 0 when there is no memory cgroup. */
int cgroup_oom_kills (const struct cgroup *cg, uint64_t *count, ctr_error_t *err);

/* Persistence in state.json: one string that cgroup_load understands. */
char *cgroup_serialize (const struct cgroup *cg);
int cgroup_load (const char *serialized, struct cgroup **out, ctr_error_t *err);
/* The cgroup path relative to the hierarchy roots ("/ctr/<id>"). */
const char *cgroup_path (const struct cgroup *cg);
void cgroup_free (struct cgroup *cg);

#endif
