/* oci: the runtime-spec 1.2 config.json as C structs, and the API of oci/ (declarations only:
   load.c, names.c, spec.c, rootless.c and the section parsers implement it). */
#ifndef CTR_OCI_OCI_H
#define CTR_OCI_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

/* Size cap for config.json and process.json (security rule 8). */
#define OCI_CONFIG_MAX_SIZE (4 * 1024 * 1024)
/* The runtime-spec version ctr implements: in `spec`, `state`, `list`, `features`. */
#define OCI_SPEC_VERSION "1.2.0"
/* All string vectors are NULL-terminated; *_len gives the count. Absent optional
   scalars have has_<field> = false. Absent optional objects are NULL. */

struct oci_kv
{
  char *key;
  char *value;
};

struct oci_id_mapping
{
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
};

struct oci_rlimit
{
  char *type;   /* "RLIMIT_NOFILE" (validated: a known RLIMIT_ name) */
  int resource; /* RLIMIT_NOFILE etc. filled by the parser */
  uint64_t soft;
  uint64_t hard;
};

struct oci_user
{
  uint32_t uid;
  uint32_t gid;
  bool has_umask;
  uint32_t umask;
  uint32_t *additional_gids;
  size_t additional_gids_len;
};

struct oci_capabilities
{
  /* capability names as written ("CAP_CHOWN"); resolved by process/ */
  char **bounding;
  size_t bounding_len;
  char **effective;
  size_t effective_len;
  char **inheritable;
  size_t inheritable_len;
  char **permitted;
  size_t permitted_len;
  char **ambient;
  size_t ambient_len;
};

struct oci_io_priority
{
  char *class_; /* IOPRIO_CLASS_RT | IOPRIO_CLASS_BE | IOPRIO_CLASS_IDLE */
  int priority;
};

struct oci_scheduler
{
  char *policy; /* SCHED_OTHER ... SCHED_DEADLINE */
  bool has_nice;
  int32_t nice;
  bool has_priority;
  int32_t priority;
  char **flags;
  size_t flags_len;
  bool has_runtime;
  uint64_t runtime;
  bool has_deadline;
  uint64_t deadline;
  bool has_period;
  uint64_t period;
};

struct oci_exec_cpu_affinity
{
  char *initial; /* cpu list "0-3,7" or NULL */
  char *final;
};

struct oci_process
{
  bool terminal;
  bool has_console_size;
  uint32_t console_height;
  uint32_t console_width;
  struct oci_user user;
  char **args;
  size_t args_len;
  char **env;
  size_t env_len;
  char *cwd;
  struct oci_capabilities *capabilities;
  struct oci_rlimit *rlimits;
  size_t rlimits_len;
  bool no_new_privileges;
  char *apparmor_profile;
  bool has_oom_score_adj;
  int oom_score_adj;
  char *selinux_label;
  struct oci_io_priority *io_priority;
  struct oci_scheduler *scheduler;
  struct oci_exec_cpu_affinity *exec_cpu_affinity;
};

struct oci_root
{
  char *path;
  bool readonly;
};

struct oci_mount
{
  char *destination;
  char *type;   /* may be NULL (bind mounts) */
  char *source; /* may be NULL */
  char **options;
  size_t options_len;
  struct oci_id_mapping *uid_mappings; /* idmapped mounts */
  size_t uid_mappings_len;
  struct oci_id_mapping *gid_mappings;
  size_t gid_mappings_len;
};

struct oci_hook
{
  char *path;
  char **args;
  size_t args_len;
  char **env;
  size_t env_len;
  bool has_timeout;
  int timeout; /* seconds, > 0 */
};

enum oci_hook_stage
{
  OCI_HOOK_PRESTART,
  OCI_HOOK_CREATE_RUNTIME,
  OCI_HOOK_CREATE_CONTAINER,
  OCI_HOOK_START_CONTAINER,
  OCI_HOOK_POSTSTART,
  OCI_HOOK_POSTSTOP,
  OCI_HOOK_STAGES,
};

struct oci_hooks
{
  struct oci_hook *hooks[OCI_HOOK_STAGES];
  size_t len[OCI_HOOK_STAGES];
};

/* camelCase name of a hook stage ("createRuntime"). */
const char *oci_hook_stage_name (enum oci_hook_stage stage);

enum oci_ns_type
{
  OCI_NS_PID,
  OCI_NS_NETWORK,
  OCI_NS_MOUNT,
  OCI_NS_IPC,
  OCI_NS_UTS,
  OCI_NS_USER,
  OCI_NS_CGROUP,
  OCI_NS_TIME,
  OCI_NS_COUNT,
};

struct oci_namespace
{
  enum oci_ns_type type;
  char *path; /* NULL: a new namespace */
};

/* "pid", "network", "mount", ... */
const char *oci_ns_type_name (enum oci_ns_type t);

struct oci_device
{
  char *path;
  char type; /* 'c', 'b', 'u', 'p' */
  int64_t major;
  int64_t minor;
  bool has_file_mode;
  uint32_t file_mode;
  bool has_uid;
  uint32_t uid;
  bool has_gid;
  uint32_t gid;
};

struct oci_time_offset
{
  bool present;
  int64_t secs;
  uint32_t nanosecs;
};

struct oci_personality
{
  char *domain; /* LINUX | LINUX32 */
  char **flags;
  size_t flags_len;
};

struct oci_device_cgroup
{
  bool allow;
  char type;     /* 'a', 'c', 'b' (default 'a') */
  int64_t major; /* -1: wildcard */
  int64_t minor; /* -1: wildcard */
  char *access;  /* subset of "rwm"; NULL means "rwm" */
};

struct oci_memory
{
  bool has_limit;
  int64_t limit;
  bool has_reservation;
  int64_t reservation;
  bool has_swap;
  int64_t swap;
  bool has_kernel;
  int64_t kernel;
  bool has_kernel_tcp;
  int64_t kernel_tcp;
  bool has_swappiness;
  uint64_t swappiness;
  bool has_disable_oom_killer;
  bool disable_oom_killer;
  bool has_use_hierarchy;
  bool use_hierarchy;
  bool has_check_before_update;
  bool check_before_update;
};

struct oci_cpu
{
  bool has_shares;
  uint64_t shares;
  bool has_quota;
  int64_t quota;
  bool has_burst;
  uint64_t burst;
  bool has_period;
  uint64_t period;
  bool has_realtime_runtime;
  int64_t realtime_runtime;
  bool has_realtime_period;
  uint64_t realtime_period;
  char *cpus;
  char *mems;
  bool has_idle;
  int64_t idle;
};

struct oci_blkio_weight_device
{
  int64_t major;
  int64_t minor;
  bool has_weight;
  uint16_t weight;
  bool has_leaf_weight;
  uint16_t leaf_weight;
};

struct oci_blkio_throttle_device
{
  int64_t major;
  int64_t minor;
  uint64_t rate;
};

struct oci_block_io
{
  bool has_weight;
  uint16_t weight;
  bool has_leaf_weight;
  uint16_t leaf_weight;
  struct oci_blkio_weight_device *weight_device;
  size_t weight_device_len;
  struct oci_blkio_throttle_device *throttle_read_bps_device;
  size_t throttle_read_bps_device_len;
  struct oci_blkio_throttle_device *throttle_write_bps_device;
  size_t throttle_write_bps_device_len;
  struct oci_blkio_throttle_device *throttle_read_iops_device;
  size_t throttle_read_iops_device_len;
  struct oci_blkio_throttle_device *throttle_write_iops_device;
  size_t throttle_write_iops_device_len;
};

struct oci_hugepage_limit
{
  char *page_size; /* "2MB" */
  uint64_t limit;
};

struct oci_net_priority
{
  char *name;
  uint32_t priority;
};

struct oci_rdma
{
  char *device;
  bool has_hca_handles;
  uint32_t hca_handles;
  bool has_hca_objects;
  uint32_t hca_objects;
};

struct oci_resources
{
  struct oci_device_cgroup *devices;
  size_t devices_len;
  struct oci_memory *memory;
  struct oci_cpu *cpu;
  bool has_pids_limit;
  int64_t pids_limit;
  struct oci_block_io *block_io;
  struct oci_hugepage_limit *hugepage_limits;
  size_t hugepage_limits_len;
  bool has_network_class_id;
  uint32_t network_class_id;
  struct oci_net_priority *network_priorities;
  size_t network_priorities_len;
  struct oci_rdma *rdma;
  size_t rdma_len;
  struct oci_kv *unified;
  size_t unified_len;
};

struct oci_seccomp_arg
{
  uint32_t index;
  uint64_t value;
  uint64_t value_two;
  char *op; /* validated: SCMP_CMP_NE|LT|LE|EQ|GE|GT|MASKED_EQ */
};

struct oci_seccomp_syscall
{
  char **names;
  size_t names_len;
  char *action; /* validated: one of the SCMP_ACT_* names */
  bool has_errno_ret;
  uint32_t errno_ret;
  struct oci_seccomp_arg *args;
  size_t args_len;
};

struct oci_seccomp
{
  char *default_action;
  bool has_default_errno_ret;
  uint32_t default_errno_ret;
  char **architectures; /* SCMP_ARCH_X86_64 ... */
  size_t architectures_len;
  char **flags; /* SECCOMP_FILTER_FLAG_* */
  size_t flags_len;
  char *listener_path;
  char *listener_metadata;
  struct oci_seccomp_syscall *syscalls;
  size_t syscalls_len;
};

/* linux.memoryPolicy: names checked against the runtime-spec's lists, nodes given exactly
   when the mode takes them; the node list's syntax and the host's nodes are process/'s. */
struct oci_memory_policy
{
  char *mode;   /* MPOL_DEFAULT, MPOL_BIND ... */
  char *nodes;  /* "0-3,7"; NULL for MPOL_DEFAULT and MPOL_LOCAL */
  char **flags; /* MPOL_F_NUMA_BALANCING, MPOL_F_RELATIVE_NODES, MPOL_F_STATIC_NODES */
  size_t flags_len;
};

struct oci_linux
{
  struct oci_namespace *namespaces;
  size_t namespaces_len;
  struct oci_id_mapping *uid_mappings;
  size_t uid_mappings_len;
  struct oci_id_mapping *gid_mappings;
  size_t gid_mappings_len;
  struct oci_time_offset time_offset_monotonic;
  struct oci_time_offset time_offset_boottime;
  struct oci_device *devices;
  size_t devices_len;
  char *cgroups_path;
  struct oci_resources *resources;
  char
      *rootfs_propagation; /* shared|slave|private|unbindable|rshared|rslave|rprivate|runbindable */
  struct oci_seccomp *seccomp;
  struct oci_kv *sysctl;
  size_t sysctl_len;
  char **masked_paths;
  size_t masked_paths_len;
  char **readonly_paths;
  size_t readonly_paths_len;
  char *mount_label;
  struct oci_personality *personality;
  bool has_intel_rdt; /* present: refused (not supported) */
  struct oci_memory_policy *memory_policy;
};

struct oci_config
{
  char *oci_version;
  struct oci_root root;
  struct oci_process *process;
  char *hostname;
  char *domainname;
  struct oci_mount *mounts;
  size_t mounts_len;
  struct oci_hooks hooks;
  struct oci_kv *annotations;
  size_t annotations_len;
  struct oci_linux *linux_;
};

/* Parses and validates config.json text. Errors name the JSON path of the key at fault:
   "config.json: process.rlimits[2].hard: expected a number". `origin` names the file
   in messages ("config.json"). */
int oci_config_parse (const char *data, size_t len, const char *origin, struct oci_config **out,
                      ctr_error_t *err);
/* Reads <dirfd>/<path> (size-capped) and parses it. */
int oci_config_load_at (int dirfd, const char *path, struct oci_config **out, ctr_error_t *err);
void oci_config_free (struct oci_config *c);

/* Parses a process object (runc exec --process FILE). */
/* "RLIMIT_NOFILE" and the other process.rlimits[].type names ctr knows. */
bool oci_rlimit_known (const char *name);
int oci_process_parse (const char *data, size_t len, const char *origin, struct oci_process **out,
                       ctr_error_t *err);
void oci_process_free (struct oci_process *p);

/* Parses a linux.resources object on its own (`ctr update --resources FILE`). */
int oci_resources_parse (const char *data, size_t len, const char *origin,
                         struct oci_resources **out, ctr_error_t *err);
void oci_resources_free (struct oci_resources *r);

/* Every field of a seccomp profile that shapes the compiled filter, as deterministic JSON
   text: the exact key of the compiled-filter cache. */
char *oci_seccomp_canonical (const struct oci_seccomp *s, size_t *len);

/* Looks up a namespace entry; NULL when the config does not list it. */
const struct oci_namespace *oci_config_namespace (const struct oci_config *c, enum oci_ns_type t);
/* linux.sysctl: each key only where the container has its own namespace for it, and not
   kernel.hostname (the hostname field sets it), as runc; errors name origin (the file). */
int oci_check_sysctls (const struct oci_config *cfg, const char *origin, ctr_error_t *err);

/* The maskedPaths and readonlyPaths of the generated config.json (NULL-terminated). */
extern const char *const oci_default_masked_paths[];
extern const char *const oci_default_readonly_paths[];
/* The capabilities an unprivileged system container adds to the generated set. */
extern const char *const oci_system_userns_caps[];

/* Default config.json for `ctr spec` (runc's defaults; rootless variant adds a user
   namespace with the caller's uid/gid mapped to 0 and drops what needs host root). */
char *oci_spec_default (bool rootless, uid_t uid, gid_t gid, size_t *len);

/* What a generated config.json may differ in from `ctr spec`'s (NULL/0: the default). */
struct oci_spec_options
{
  bool rootless;
  uid_t uid, gid;          /* the caller, mapped to root when rootless */
  const char *const *args; /* process.args */
  const char *const *env;  /* process.env entries added after the defaults */
  const char *cwd;         /* process.cwd */
  uid_t user_uid;          /* process.user */
  gid_t user_gid;
  const char *hostname;
  /* A system container (an OS init or a long-running application in a named, persistent
     container, as LXC makes them): a writable root, the broader capability set such an
     init needs, setuid programs allowed (no noNewPrivileges), the console on a pty. */
  bool system;
  /* A system container booting systemd (its "Container Interface"): /run, /run/lock and
     /tmp on tmpfs, and its own cgroup subtree writable (/sys/fs/cgroup mounted rw inside
     its cgroup namespace). */
  bool systemd;
  bool container_env; /* container=ctr in init's environment, as LXC sets container=lxc */
  bool host_network;  /* no network namespace of its own */
  /* rootless: subordinate ranges mapped from container id 1 on (count 0: only the caller) */
  uint32_t subuid_start, subuid_count, subgid_start, subgid_count;
};
char *oci_spec_generate (const struct oci_spec_options *o, size_t *len);

/* The caller's ids and subordinate ranges (count 0: none) for a rootless container. */
struct oci_rootless_ids
{
  uid_t uid;
  gid_t gid;
  uint32_t subuid_start, subuid_count, subgid_start, subgid_count;
};
/* A config without a user namespace gets one: root inside is the caller, ids 1..N the
   caller's subordinate range when there is one; devpts options naming an unmapped gid are
   dropped. Returns whether it changed the config (a config with a user namespace is the
   author's business and is left alone). */
bool oci_config_make_rootless (struct oci_config *c, const struct oci_rootless_ids *ids);

/* The runtime-spec "features" document (`ctr features`). */
char *oci_features_json (size_t *len);

#endif
