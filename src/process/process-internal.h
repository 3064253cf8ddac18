/* process-internal: the resolved plan shared by the files of src/process/ (not a contract). */
#ifndef CTR_PROCESS_INTERNAL_H
#define CTR_PROCESS_INTERNAL_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "process/cpulist.h"
#include "process/mempolicy.h"
#include "process/process.h"

enum process_capset
{
  PROCESS_CAP_BOUNDING,
  PROCESS_CAP_EFFECTIVE,
  PROCESS_CAP_PERMITTED,
  PROCESS_CAP_INHERITABLE,
  PROCESS_CAP_AMBIENT,
  PROCESS_CAP_SETS,
};

struct process_rlimit
{
  int resource;
  const char *name;
  struct rlimit limit;
};

/* struct sched_attr of sched_setattr(2), SCHED_ATTR_SIZE_VER1 (as runc passes it). */
struct process_sched_attr
{
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

struct process_plan
{
  const struct oci_process *proc; /* borrowed: must outlive the plan */
  const char *cwd;

  /* bit N = capability N; names the kernel lacks are already dropped */
  uint64_t caps[PROCESS_CAP_SETS];
  int cap_last; /* highest capability the kernel knows */
  /* seccomp is loaded without no_new_privs and the final effective set lacks
     CAP_SYS_ADMIN: keep it until process_exec has loaded the filter */
  bool keep_sys_admin;
  /* set by process_drop_privileges when ctr-stub executes the program (src/stub/ctr-stub.c,
     STUB_CAPS): the permitted capabilities raised in the inheritable and ambient sets for
     the stub's execve only, and whether the stub must restore the config's sets */
  uint64_t stub_carry;
  bool stub_restore;

  gid_t *groups;
  size_t groups_len;

  struct process_rlimit *rlimits;
  size_t rlimits_len;

  mode_t umask;

  bool has_personality;
  unsigned long personality;

  bool has_ioprio;
  int ioprio;

  bool has_sched;
  struct process_sched_attr sched;

  cpu_set_t *affinity; /* execCPUAffinity (final when given, else initial) */
  size_t affinity_size;

  char *apparmor_exec; /* "exec <profile>" */
  const char *selinux_label;

  struct process_mempolicy mempolicy; /* linux.memoryPolicy */
};

#define PROCESS_CAP_BIT(c) (UINT64_C (1) << (c))

/* Applies the given capability sets with capset(2). */
int process_caps_set (uint64_t effective, uint64_t permitted, uint64_t inheritable,
                      ctr_error_t *err);

#endif
