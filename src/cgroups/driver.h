/* cgroups driver: the cgroup types and functions the files of cgroups/ share (not for others). */
#ifndef CTR_CGROUPS_DRIVER_H
#define CTR_CGROUPS_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroups/cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* v1 controllers, as bits of cg_hierarchy.ctrls. */
enum
{
  CG_BLKIO = 1u << 0,
  CG_CPU = 1u << 1,
  CG_CPUACCT = 1u << 2,
  CG_CPUSET = 1u << 3,
  CG_DEVICES = 1u << 4,
  CG_FREEZER = 1u << 5,
  CG_HUGETLB = 1u << 6,
  CG_MEMORY = 1u << 7,
  CG_NET_CLS = 1u << 8,
  CG_NET_PRIO = 1u << 9,
  CG_PERF_EVENT = 1u << 10,
  CG_PIDS = 1u << 11,
  CG_RDMA = 1u << 12,
  CG_MISC = 1u << 13,
};

/* cgroup v2 controllers, as bits for cgroup.subtree_control (enabled in the order of the bits). */
enum
{
  CG2_CPUSET = 1u << 0,
  CG2_CPU = 1u << 1,
  CG2_IO = 1u << 2,
  CG2_MEMORY = 1u << 3,
  CG2_HUGETLB = 1u << 4,
  CG2_PIDS = 1u << 5,
  CG2_RDMA = 1u << 6,
  CG2_MISC = 1u << 7,
};

/* One mounted hierarchy. Discovered once per process; never freed. */
struct cg_hierarchy
{
  char *key;      /* serialization key: "memory", "cpu+cpuacct", "name=systemd", "unified" */
  char *mount;    /* "/sys/fs/cgroup/memory" */
  unsigned ctrls; /* CG_* (v1 only) */
  bool v2;
};

/* The container's directory in one hierarchy: <mount><path>. */
struct cg_member
{
  const struct cg_hierarchy *h;
  int depth; /* trailing components of the path ctr created; 0: joined, never removed */
};

struct cgroup
{
  enum cgroup_layout layout;
  char *path; /* "/ctr/<id>", normalized */
  struct cg_member *m;
  size_t n;
  int v2_fd; /* O_DIRECTORY fd of the cgroup2 directory, -1 if none */
  /* rootless: the first deleg_len bytes of path are the delegated subtree (the user's), the
     only place ctr writes to; 0 as root */
  size_t deleg_len;
};

/* The sections below go bottom first and each file calls only the ones above its own, so
   that no two files depend on each other: cgroupfs.c, devices_bpf.c, rootless.c, unified.c,
   legacy.c (hybrid hosts use the v2 mount), stats.c (cgroupfs.c alone). manager.c, which
   picks the driver per layout, is called by none of them: what drivers and manager.c both
   need lives in cgroupfs.c. */

/* cgroupfs.c: helpers of every driver */
/* The container's directory in every hierarchy, and the files that let its owner move
   processes and make sub-cgroups, given to cfg's owner. */
int cgroup_chown (const struct cgroup *cg, const struct cgroup_config *cfg, ctr_error_t *err);
/* linux.cgroupsPath (NULL: /ctr/<id>) to a normalized absolute path without `..`. */
char *cgroup_resolve_path (const char *cgroups_path, const char *id, ctr_error_t *err);
/* The hierarchies ctr uses for a layout (v1 ones from /proc/self/mountinfo, parsed once). */
int cg_hierarchies (enum cgroup_layout layout, const struct cg_hierarchy **out, size_t *n,
                    ctr_error_t *err);
/* The layout a mountinfo text shows (when statfs cannot tell; exposed for tests). */
enum cgroup_layout cg_layout_from_mountinfo (const char *text);
/* Parses a mountinfo text into v1 hierarchies (exposed for tests). */
struct cg_hierarchy *cg_parse_mountinfo (const char *text, size_t *n);
/* The CG2_* bit of a controller name of len bytes; 0 when unknown. */
unsigned cg2_controller_bit (const char *name, size_t len);
/* Controller bits of a space-separated list (cgroup.controllers); modifies list. */
unsigned cg2_parse_controllers (char *list);
/* The name of the first controller in bits, and in *what the resource that needs it. */
const char *cg2_controller_name (unsigned bits, const char **what);
/* Writes value to a cgroup file; errors read "<what>: write <file>". */
int cg_write (int dirfd, const char *file, const char *value, const char *what, ctr_error_t *err);
/* The same by path, without a directory fd: "<dir>/<file>" (errors still name file). */
int cg_write_in (const char *dir, const char *file, const char *value, const char *what,
                 ctr_error_t *err);
/* Reads a (small) cgroup file, trailing newline stripped. */
int cg_read (int dirfd, const char *file, char **out, ctr_error_t *err);
/* Appends the pids of cgroup.procs in dirfd and in every descendant directory. */
int cg_read_pids (int dirfd, pid_t **pids, size_t *n, ctr_error_t *err);
bool cg_file_exists (int dirfd, const char *file);
/* Signals every process of the cgroup tree; with until_empty, repeats until none is left
   (a few seconds at most). */
int cg_signal_all (int dirfd, int sig, bool until_empty, ctr_error_t *err);
/* Sleeps a little more each call (1 ms doubling up to 16 ms). */
void cg_backoff (unsigned *step);
/* The container's directory in member i: <mount><path> (to free). */
char *cg_member_dir (const struct cgroup *cg, size_t i);
/* O_DIRECTORY fd of the container's directory in member i. */
int cg_member_open (const struct cgroup *cg, size_t i, ctr_error_t *err);
/* Index of the member holding a v1 controller (CG_*), or of the cgroup2 member when
   ctrl is 0; -1 when none. */
ssize_t cg_member_find (const struct cgroup *cg, unsigned ctrl);
/* A cgroup with no members yet (path taken); opens the cgroup2
   member's directory into v2_fd; how many components a path has. */
struct cgroup *cg_new (enum cgroup_layout layout, char *path);
int cg_open_v2_fd (struct cgroup *cg, ctr_error_t *err);
size_t cg_path_components (const char *path);
/* True when the resources ask for more than device rules (rootless check). */
bool cg_resources_requested (const struct oci_resources *res);

/* devices_bpf.c: the device rules as an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program */
/* The rules ctr enforces: deny all, the config's rules, then runc's default devices. */
struct oci_device_cgroup *cg_device_rules (const struct oci_resources *res, size_t *n);
/* fresh: the directory was just created by ctr (no old program to detach). */
int devices_bpf_apply (int dirfd, const struct oci_device_cgroup *rules, size_t n, bool fresh,
                       ctr_error_t *err);
/* The program text (exposed for tests); returns the instruction count, -1 on bad rules. */
int devices_bpf_build (const struct oci_device_cgroup *rules, size_t n, void **insns,
                       ctr_error_t *err);

/* rootless.c: the delegated subtree of an unprivileged user (pure cgroup v2 only) */
/* "/a/b" from the "0::/a/b" line of a /proc/self/cgroup text; NULL when absent. */
char *cg_own_v2_path (const char *proc_self_cgroup);
/* The topmost ancestor of own (a cgroup path under mount) whose directory, cgroup.procs and
   cgroup.subtree_control belong to uid; never the root. NULL with *reason when own itself
   is not the user's. */
char *cg_delegation_find (const char *mount, const char *own, uid_t uid, char **reason);
/* The container's cgroup in the delegated subtree deleg: the default and relative paths
   under deleg (<deleg>/ctr/<id>); an absolute one must lie below deleg and, like any, must
   not hold own (ctr's own cgroup, may be NULL). */
char *cg_rootless_path (const char *deleg, const char *own, const char *cgroups_path,
                        const char *id, ctr_error_t *err);
/* cgroup_create of a rootless caller: 1 with *path in the delegated subtree (its first
   *deleg_len bytes), 0 with the path of a container without cgroup (limits refused,
   other resources skipped with a warning), -1 on error. */
int rootless_prepare (const struct cgroup_config *cfg, char **path, size_t *deleg_len,
                      ctr_error_t *err);
/* Checks that the controllers the resources need are delegated and can be enabled below
   the delegation root; drops the wanted ones that cannot. */
int rootless_controllers (const struct cgroup *cg, unsigned need, unsigned *want, ctr_error_t *err);

/* unified.c: cgroup v2 */
/* Enables controllers in cgroup.subtree_control of every ancestor of the member's
   directory, root first; `need` failures are errors naming the resource, `want` ones not. */
int unified_enable (const struct cgroup *cg, size_t member, unsigned need, unsigned want,
                    ctr_error_t *err);
/* Create or update on a pure cgroup v2 host: controllers, limits, device filter. */
int unified_setup (const struct cgroup *cg, const struct oci_resources *res, bool create,
                   ctr_error_t *err);
int unified_hugetlb (int dirfd, const struct oci_resources *res, ctr_error_t *err);
int unified_kill (int dirfd, int sig, ctr_error_t *err);
int unified_freeze (int dirfd, bool frozen, ctr_error_t *err);
int unified_is_frozen (int dirfd, bool *frozen, ctr_error_t *err);
/* runc's conversions (exposed for tests). */
uint64_t unified_cpu_weight (uint64_t shares);
int unified_swap_max (int64_t swap, int64_t limit, int64_t *out, ctr_error_t *err);

/* legacy.c: cgroup v1 */
int legacy_apply (const struct cgroup *cg, const struct oci_resources *res, bool create,
                  ctr_error_t *err);
/* Copies the parent's cpuset.cpus/mems into a new directory; vals (NULL at first, freed
   by the caller) keeps them for the next new directory below. */
int legacy_cpuset_inherit (const char *mount, const char *dir, char *vals[2], ctr_error_t *err);
int legacy_cpuset_repair (const char *mount, const char *dir, ctr_error_t *err);
int legacy_kill (const struct cgroup *cg, int sig, ctr_error_t *err);
int legacy_freeze (const struct cgroup *cg, bool frozen, ctr_error_t *err);
int legacy_is_frozen (const struct cgroup *cg, bool *frozen, ctr_error_t *err);
int legacy_device_rule (const struct oci_device_cgroup *d, char *buf, size_t size);

/* stats.c: parsers of the stat files (exposed for tests) */
/* The value of "key N" in a flat keyed file (cpu.stat, memory.events...). */
bool cg_stat_kv (const char *text, const char *key, uint64_t *v);
/* Every "key N" line, sorted by key. */
struct cgroup_stat_value *cg_stat_parse_flat (const char *text, size_t *n);
/* Space-separated numbers (cpuacct.usage_percpu). */
uint64_t *cg_stat_parse_list (const char *text, size_t *n);
void cg_stat_blkio_push (struct cgroup_blkio_entry **v, size_t *n, uint64_t major, uint64_t minor,
                         const char *op, uint64_t value);
void cg_stat_parse_blkio_v1 (const char *text, struct cgroup_blkio_entry **v, size_t *n);
void cg_stat_parse_io_v2 (const char *text, struct cgroup_stats *s);
void cg_stat_parse_cpu_v2 (const char *text, struct cgroup_stats *s);
/* 2048 (kB) -> "2MB", the page size name of the hugetlb files. */
void cg_stat_hugepage_name (uint64_t kb, char *buf, size_t size);

#endif
