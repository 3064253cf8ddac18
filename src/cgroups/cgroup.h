/* cgroups: ctr's one interface over the `unified` (cgroup v2) and `legacy` (v1, hybrid) drivers. */
#ifndef CTR_CGROUP_H
#define CTR_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"
#include "oci/oci.h"

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
  /* Called once before anything is made, with what cgroup_serialize() will say once it
     is: the caller records it so that a create killed halfway can be undone. */
  int (*record) (void *arg, const char *planned, ctr_error_t *err);
  void *record_arg;
  /* as root, for a container with its own user and cgroup namespaces (an unprivileged
     system container): the host ids of its root, who is given its cgroup directories and
     their cgroup.procs, tasks, cgroup.subtree_control and cgroup.threads (LXC's and crun's
     delegation; limits stay root's); owner_set false: nothing is chowned */
  bool owner_set;
  uid_t owner_uid;
  gid_t owner_gid;
};
/* Sets cfg's owner from the host ids of container id 0 in c's uidMappings/gidMappings,
   when c has both. */
void cgroup_config_owner (struct cgroup_config *cfg, const struct oci_linux *l);

/* Rootless: the delegated cgroup v2 subtree the caller may write to (a path under
   /sys/fs/cgroup: the topmost ancestor of its own cgroup owned by its euid, e.g.
   "/user.slice/user-1000.slice/user@1000.service"); NULL with *reason (to free) when there
   is none (not a pure cgroup v2 host, or ctr's own cgroup is not the user's). */
char *cgroup_delegation_root (char **reason);

/* Creates the container's cgroup in every hierarchy ctr uses and applies the resources,
   before the container process exists. Absolute cgroupsPath as given; relative ones and
   the default under /ctr. Paths are checked to stay under their parent (no `..`).
   Nothing is left behind on failure. A path that already exists is joined but not owned
   (never removed by ctr). Rootless: inside cgroup_delegation_root() (default and relative
   paths under <root>/ctr; an absolute one must lie inside it), else no cgroup at all:
   limits are then refused and other resources skipped with a warning. */
int cgroup_create (const struct cgroup_config *cfg, struct cgroup **out, ctr_error_t *err);
/* The cgroup a container of cfg would have, without making anything, its leaf taken as
   ctr's own in every hierarchy where it exists: for a container whose ownership record
   (state.json) is lost. Rootless: only an absolute path inside the caller's delegated
   subtree (else NULL in *out). */
int cgroup_open_leaf (const struct cgroup_config *cfg, struct cgroup **out, ctr_error_t *err);
/* The calling (single-threaded) process, and whatever else is still in cg (what it
   started), move to the sibling `pivot` (made when missing) in every hierarchy, and cg's
   directories go: how a process takes its own cgroup with it when it ends. */
int cgroup_leave (struct cgroup *cg, const char *pivot, ctr_error_t *err);
/* O_DIRECTORY fd of the cgroup2 directory for clone3(CLONE_INTO_CGROUP), -1 if none. */
int cgroup_v2_fd (const struct cgroup *cg);
/* Moves pid into the cgroup in every hierarchy (skipping v2 when it was cloned into it).
   pid 0: a single-threaded caller moves itself, which on v1 avoids a global lock whose
   first use after an idle spell costs an RCU grace period. */
int cgroup_enter (const struct cgroup *cg, pid_t pid, bool skip_v2, ctr_error_t *err);
/* False for a container that runs without a cgroup of its own (rootless without a
   delegated subtree). */
bool cgroup_exists (const struct cgroup *cg);
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
/* Removes the cgroup directory `path` and then its parents, `levels` directories in all,
   in every hierarchy, each only when it is empty: how the last user of a parent that ctr
   shares between containers (/ctr.dns, /ctr.monitor) takes it away. Busy or missing
   directories are no error. */
void cgroup_prune (const char *path, int levels);

/* How many processes the OOM killer killed in the cgroup so far (memory.events oom_kill on
   v2, memory.oom_control oom_kill on v1); 0 when there is no memory cgroup. */
int cgroup_oom_kills (const struct cgroup *cg, uint64_t *count, ctr_error_t *err);

/* Persistence in state.json: one string that cgroup_load understands. */
char *cgroup_serialize (const struct cgroup *cg);
int cgroup_load (const char *serialized, struct cgroup **out, ctr_error_t *err);
/* Whether the cgroup a state.json names is frozen (paused), without keeping it loaded.
   mountfd: -1, or what cgroup_freezer_mount_open gave, to open the freezer's file relative
   to its mount (`list`, for every container: the walk to the mount is a third of the open). */
int cgroup_state_is_frozen (const char *serialized, int mountfd, bool *frozen, ctr_error_t *err);
/* An O_PATH fd of the mount of the hierarchy holding the freezer on this host (cgroup2 on a
   unified host), or -1 when there is none. The caller closes it. */
int cgroup_freezer_mount_open (void);
/* `exec --cgroup SUB`: the existing sub-cgroup SUB of cg (relative, staying inside it) in
   every hierarchy cg has; it is never removed. */
int cgroup_sub (const struct cgroup *cg, const char *sub, struct cgroup **out, ctr_error_t *err);
/* Where `exec` puts a process: on cgroup v2, a container's cgroup that enables controllers
   for its children (an init such as systemd delegating them) can hold no process, so, as
   runc does, init's own cgroup below it (*out NULL: cg itself). */
int cgroup_for_exec (const struct cgroup *cg, pid_t init, struct cgroup **out, ctr_error_t *err);
/* The cgroup path relative to the hierarchy roots ("/ctr/<id>"). */
const char *cgroup_path (const struct cgroup *cg);
void cgroup_free (struct cgroup *cg);

/* ---- usage statistics (`ctr events`, `ctr info`) ---- */

/* One line of blkio.throttle.io_service_bytes_recursive / io_serviced (v1) or one counter of
   io.stat (v2: op "Read" or "Write"). */
struct cgroup_blkio_entry
{
  uint64_t major, minor, value;
  char op[16];
};

/* usage / max usage / limit / failcnt of one v1 memory counter (memory, memsw, kmem,
   kmem.tcp); on v2 max usage is memory.peak and failcnt stays 0. */
struct cgroup_memory_entry
{
  uint64_t usage, max_usage, limit, failcnt;
};

struct cgroup_hugetlb_stats
{
  char page_size[16]; /* "2MB", "1GB": the key of the hugetlb.<size>.* files */
  uint64_t usage, max_usage, failcnt;
};

struct cgroup_stat_value
{
  char *key;
  uint64_t value;
};

/* What the kernel reports, in bytes and nanoseconds, with runc's conventions. A group
   whose files do not exist has its has_* flag false (never an error). Unlimited memory
   limits read UINT64_MAX on v2 and the kernel's page-rounded maximum on v1; pids_limit is 0
   when unlimited. On hybrid hosts a group without its v1 controller is read from the
   cgroup2 directory when the files are there (hugetlb, cpu.stat). */
struct cgroup_stats
{
  bool has_cpu;
  uint64_t cpu_usage_ns, cpu_user_ns, cpu_kernel_ns;
  uint64_t *cpu_percpu_ns; /* v1 only */
  size_t cpu_percpu_len;
  uint64_t *cpu_percpu_user_ns, *cpu_percpu_kernel_ns; /* v1 cpuacct.usage_all */
  size_t cpu_percpu_split_len;
  bool has_cpu_throttling;
  uint64_t cpu_periods, cpu_throttled_periods, cpu_throttled_ns;

  bool has_cpuset;
  char *cpuset_cpus, *cpuset_mems; /* list syntax ("0-3,5"); NULL when absent */
  uint64_t cpu_exclusive, mem_hardwall, mem_exclusive, memory_migrate, memory_spread_page,
      memory_spread_slab, memory_pressure, sched_load_balance;
  int64_t sched_relax_domain_level;

  bool has_memory;
  uint64_t memory_usage, memory_max_usage, memory_limit, memory_failcnt;
  uint64_t memory_cache; /* memory.stat "cache" (v1) or "file" (v2) */
  bool has_swap;         /* v1: memory+swap (memsw); v2: memory + swap, as runc reports it */
  struct cgroup_memory_entry swap;
  bool has_kernel, has_kernel_tcp; /* v1 only */
  struct cgroup_memory_entry kernel, kernel_tcp;
  struct cgroup_stat_value *memory_raw; /* memory.stat, sorted by key */
  size_t memory_raw_len;

  bool has_pids;
  uint64_t pids_current, pids_limit;

  bool has_blkio;
  struct cgroup_blkio_entry *io_service_bytes, *io_serviced;
  size_t io_service_bytes_len, io_serviced_len;

  struct cgroup_hugetlb_stats *hugetlb;
  size_t hugetlb_len;

  bool has_oom_kills;
  uint64_t oom_kills;
};

/* Fills *out (cleared first; release it with cgroup_stats_clear). Fails only when the
   cgroup itself is gone or the container has none. */
int cgroup_stats (const struct cgroup *cg, struct cgroup_stats *out, ctr_error_t *err);
void cgroup_stats_clear (struct cgroup_stats *s);

/* A non-blocking pollable fd (O_CLOEXEC) that becomes readable when the OOM state of the
   cgroup may have changed (v2: inotify on memory.events; v1: an eventfd registered on
   memory.oom_control) or when the cgroup is removed; *fd is -1 when there is no memory
   cgroup to watch. Callers re-read cgroup_oom_kills after each wakeup and drain the fd
   with cgroup_oom_watch_drain. */
int cgroup_oom_watch (const struct cgroup *cg, int *fd, ctr_error_t *err);
void cgroup_oom_watch_drain (int fd);

#endif
