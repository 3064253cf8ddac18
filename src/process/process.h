/* process: everything about the process that is executed: user and groups, capabilities
   (libcap), rlimits, personality, io priority, scheduler, LSM labels, no_new_privs,
   seccomp (libseccomp), fd closing and execve. */
#ifndef CTR_PROCESS_H
#define CTR_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "oci/oci.h"

struct process_plan;

/* Parent side, before the child exists: resolves capability names, rlimit types,
   personality, scheduler and io priority, LSM availability; every bad value is an error
   naming the key ("process.capabilities.bounding[2]: unknown capability `CAP_FOO`").
   linux_ may be NULL. */
int process_plan_new (const struct oci_process *proc, const struct oci_linux *linux_,
                      struct process_plan **out, ctr_error_t *err);
void process_plan_free (struct process_plan *plan);

/* Child side, while still privileged (after pivot_root): rlimits, personality, ioPriority,
   scheduler, execCPUAffinity, linux.memoryPolicy, umask, apparmor/selinux exec labels. The
   child has already joined its cgroup here, so execCPUAffinity.final is applied when given,
   else .initial, and the memory policy's nodes meet the cgroup's cpuset.mems.
   The LSM labels are written through /proc opened with RESOLVE_NO_XDEV and checked to be
   procfs (rule 4). */
int process_apply_attributes (const struct process_plan *plan, ctr_error_t *err);
/* Whether the host's kernel enforces AppArmor profiles, and SELinux labels. */
bool process_apparmor_enabled (void);
bool process_selinux_enabled (void);

/* Child side, after process_apply_attributes: setgroups -> setresgid -> setresuid
   (keeping capabilities across the change), then capabilities (bounding first, then
   effective/permitted/inheritable, then ambient), chdir(cwd) checked to stay inside the
   root, then no_new_privs. When linux.seccomp is set without process.noNewPrivileges,
   CAP_SYS_ADMIN stays in the effective and permitted sets until process_exec has loaded
   the filter (the kernel requires one of the two to load it).
   via_stub: the program will be executed through ctr-stub (process_exec_with_listener with a
   stub), whose own execve would leave a non-root process nothing but its ambient set: the
   permitted set is then carried across it as ambient (and inheritable), and the stub puts
   the config's effective, inheritable and ambient sets back before the program's execve,
   which so starts from the sets it would start from without the stub (as under runc).
   filter (NULL: none), the seccomp filter process_exec will load: when it would refuse the
   stub's capget, capset or prctl, nothing is carried. */
struct process_seccomp;
int process_drop_privileges (struct process_plan *plan, bool via_stub,
                             const struct process_seccomp *filter, ctr_error_t *err);

/* Finds args[0] through the process's PATH (from its env) as the container sees it.
   Fails with "executable file `x` not found in $PATH". */
int process_resolve_executable (const struct process_plan *plan, char **path, ctr_error_t *err);

/* A compiled seccomp filter (BPF), produced in the parent and loaded by the child. */
struct process_seccomp
{
  void *bpf;      /* struct sock_filter array */
  size_t len;     /* bytes */
  unsigned flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
  bool notify;    /* the filter uses SCMP_ACT_NOTIFY: loading returns a listener fd */
};

/* Compiles linux.seccomp to BPF. Syscall names unknown on this architecture are skipped. */
int process_seccomp_compile (const struct oci_seccomp *sc, struct process_seccomp *out,
                             ctr_error_t *err);
void process_seccomp_release (struct process_seccomp *s);
/* Loads the filter (seccomp(2) with its flags). Returns the listener fd when s->notify,
   else 0; -1 on error. */
int process_seccomp_load (const struct process_seccomp *s, ctr_error_t *err);

struct seccomp_data;
/* The filter's answer (SECCOMP_RET_*, with its data) to one call, worked out in user space
   by a classic BPF interpreter; an invalid program answers SECCOMP_RET_KILL_PROCESS. */
uint32_t process_seccomp_verdict (const struct process_seccomp *s, const struct seccomp_data *data);
/* Whether the filter lets the calling thread make syscall nr with args on arch (an
   AUDIT_ARCH_*): its verdict, worked out in user space, is SCMP_ACT_ALLOW or SCMP_ACT_LOG.
   Only this filter: one that ctr's caller installed is not seen. s may be NULL (true). */
bool process_seccomp_allows (const struct process_seccomp *s, uint32_t arch, int nr,
                             const uint64_t args[6]);

/* Last step in the child: closes every fd >= 3 + preserve_fds except keep_fd (made
   O_CLOEXEC; -1 for none), loads the seccomp filter (s may be NULL), execve(path, args,
   env) where env gains HOME from the container's /etc/passwd when it has none (as runc).
   Returns only on failure; a failed execve is reported with its errno. */
int process_exec (const struct process_plan *plan, const char *path,
                  const struct process_seccomp *s, int preserve_fds, int keep_fd, ctr_error_t *err);

/* Receives the seccomp listener fd (s->notify) right after the filter is loaded and before
   execve. The fd is O_CLOEXEC: execve closes it, so pass it on now (write its number and
   let the parent take it with pidfd_getfd(2), or send it with SCM_RIGHTS). The filter is
   already active: only write(2) is guaranteed not to be notified. */
/* The last execve goes through ctr-stub (security rule 1, src/selfexec.h): fd is its sealed
   memfd, flags its STUB_* flags, sync_fd (kept open across the stub's execve, -1: none)
   where it reports. */
struct process_stub
{
  int fd;
  unsigned flags;
  int sync_fd;
};

typedef int (*process_listener_fn) (int listener_fd, void *data, ctr_error_t *err);

/* process_exec, with a receiver for the seccomp listener fd. process_exec is this with
   fn = NULL, which refuses a filter that needs a listener.
   Exact order: clear CLOEXEC on [3, 3+preserve_fds) -> close the other fds >= 3 except
   keep_fd and listener_sock (the socket fn sends on; -1: none) -> load seccomp -> fn(listener) ->
   drop CAP_SYS_ADMIN if it was kept only to load the filter without no_new_privs -> execve. After
   the filter only seccomp's own listener hand-off, capset(2) and execve(2) run. keep_fd and
   listener_sock must be >= 3 + preserve_fds. */
int process_exec_with_listener (const struct process_plan *plan, const char *path,
                                const struct process_seccomp *s, int preserve_fds, int keep_fd,
                                int listener_sock, process_listener_fn fn, void *data,
                                const struct process_stub *stub, ctr_error_t *err);

/* The filter loaded ahead of process_exec_with_listener, where runc 1.1's create loads it
   (standard_init_linux.go: before the wait for start): loads it, hands the listener to fn
   (s->notify) and drops the CAP_SYS_ADMIN the plan kept only to load it, so that what runs
   next (startContainer hooks) runs confined and without it. process_exec_with_listener
   then takes s = NULL. s may be NULL. */
int process_seccomp_enter (struct process_plan *plan, const struct process_seccomp *s,
                           process_listener_fn fn, void *data, ctr_error_t *err);

/* The plan's process (for terminal, args, env lookups). */
const struct oci_process *process_plan_process (const struct process_plan *plan);

/* Whether name is a capability libcap knows (CAP_CHOWN ... ), whatever the kernel. */
bool process_cap_known (const char *name);

#endif
