/* privileges: child side — rlimits, scheduling, LSM labels, ids, capabilities, cwd, nnp. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <linux/audit.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "namespaces/namespaces.h"
#include "process/process-internal.h"
#include "base/log.h"
#include "base/util.h"

/* Opens a file under /proc for writing, refusing anything that is not procfs itself:
   a bind mount or another filesystem over the attr files (rule 4) is rejected by
   RESOLVE_NO_XDEV and by the final fstatfs. The procfs is ctr's verified handle, opened
   before the container's mounts, where this process has a pid even when it is outside the
   container's pid namespace (`ctr exec` sets up there, security rule 1). */
static int
proc_open_write (const char *rel, ctr_error_t *err)
{
  struct open_how how = {
    .flags = O_WRONLY | O_CLOEXEC,
    .resolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
  };
  struct statfs st;
  int procfd = ns_procfs_fd (err);
  int fd;

  if (procfd < 0)
    return -1;
  fd = (int)syscall (SYS_openat2, procfd, rel, &how, sizeof (how));
  if (fd < 0 && errno == ENOSYS)
    fd = openat (procfd, rel, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return ctr_error (err, errno, "open `/proc/%s`", rel);
  if (fstatfs (fd, &st) < 0 || st.f_type != PROC_SUPER_MAGIC)
    {
      close (fd);
      return ctr_error (err, EXDEV, "`/proc/%s` is not on procfs", rel);
    }
  return fd;
}

static int
lsm_set_exec_label (const char *key, const char *path, const char *fallback, const char *value,
                    ctr_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_error ctr_error_t first = NULL;
  size_t len = strlen (value);

  /* the per-LSM directory (Linux 5.8) first, the shared attr file on older kernels */
  fd = proc_open_write (path, fallback ? &first : err);
  if (fd < 0 && fallback)
    {
      if (first->status != ENOENT)
        {
          ctr_error_set_raw (err, first->status, first->msg);
          return ctr_error_wrap (err, "%s", key);
        }
      fd = proc_open_write (fallback, err);
    }
  if (fd < 0)
    return ctr_error_wrap (err, "%s", key);
  /* an LSM attribute must be written in one write() */
  if (write (fd, value, len) != (ssize_t)len)
    return ctr_error (err, errno, "%s: write `%s`", key, value);
  return 0;
}

static int
apply_rlimits (const struct process_plan *plan, ctr_error_t *err)
{
  size_t i;

  /* soft and hard go in one call: raising the hard limit needs CAP_SYS_RESOURCE, which
     the setup process still holds here */
  for (i = 0; i < plan->rlimits_len; i++)
    if (setrlimit (plan->rlimits[i].resource, &plan->rlimits[i].limit) < 0)
      return ctr_error (err, errno, "process.rlimits[%zu]: setrlimit %s", i, plan->rlimits[i].name);
  return 0;
}

static int
apply_scheduling (const struct process_plan *plan, ctr_error_t *err)
{
  if (plan->has_ioprio && syscall (SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, plan->ioprio) < 0)
    return ctr_error (err, errno, "process.ioPriority: ioprio_set");
  if (plan->has_sched && syscall (SYS_sched_setattr, 0, &plan->sched, 0) < 0)
    return ctr_error (err, errno, "process.scheduler: sched_setattr");
  if (plan->affinity && sched_setaffinity (0, plan->affinity_size, plan->affinity) < 0)
    return ctr_error (err, errno, "process.execCPUAffinity: sched_setaffinity");
  return 0;
}

int
process_apply_attributes (const struct process_plan *plan, ctr_error_t *err)
{
  umask (plan->umask);
  if (apply_rlimits (plan, err) < 0)
    return -1;
  if (plan->has_personality && personality (plan->personality) < 0)
    return ctr_error (err, errno, "linux.personality: personality");
  if (apply_scheduling (plan, err) < 0 || process_mempolicy_apply (&plan->mempolicy, err) < 0)
    return -1;
  if (plan->apparmor_exec
      && lsm_set_exec_label ("process.apparmorProfile", "thread-self/attr/apparmor/exec",
                             "thread-self/attr/exec", plan->apparmor_exec, err)
             < 0)
    return -1;
  if (plan->selinux_label
      && lsm_set_exec_label ("process.selinuxLabel", "thread-self/attr/exec", NULL,
                             plan->selinux_label, err)
             < 0)
    return -1;
  return 0;
}

int
process_caps_set (uint64_t effective, uint64_t permitted, uint64_t inheritable, ctr_error_t *err)
{
  const uint64_t masks[] = { effective, permitted, inheritable };
  const cap_flag_t flags[] = { CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE };
  cap_value_t list[64];
  cap_t caps;
  size_t f;
  int c, n, ret = 0;

  caps = cap_init ();
  if (caps == NULL)
    return ctr_error (err, errno, "cap_init");
  for (f = 0; f < ARRAY_SIZE (masks); f++)
    {
      for (n = 0, c = 0; c < 64; c++)
        if (masks[f] & PROCESS_CAP_BIT (c))
          list[n++] = c;
      if (n > 0 && cap_set_flag (caps, flags[f], n, list, CAP_SET) < 0)
        ret = ctr_error (err, errno, "cap_set_flag");
    }
  if (ret == 0 && cap_set_proc (caps) < 0)
    ret = ctr_error (err, errno, "capset");
  cap_free (caps);
  return ret;
}

/* In a user namespace whose setgroups is "deny" the call can never work: skip it then. */
static int
set_groups (const struct process_plan *plan, ctr_error_t *err)
{
  cleanup_free char *policy = NULL;
  size_t len;
  int saved, procfd;

  if (setgroups (plan->groups_len, plan->groups) == 0)
    return 0;
  saved = errno;
  if (saved == EPERM && (procfd = ns_procfs_fd (NULL)) >= 0
      && read_file_at (procfd, "self/setgroups", 64, &policy, &len, NULL) == 0
      && strncmp (policy, "deny", 4) == 0)
    return 0;
  return ctr_error (err, saved, "process.user.additionalGids: setgroups");
}

/* The container's own pty becomes its user's (the group stays: devpts gives it tty), as runc
   leaves it, so that a non-root user can use its console. Only the pty ctr made: stdio
   inherited from the caller (a host terminal, its pipes) is never handed to a container
   uid, which may be a real user of the host. An owner that cannot change (unmapped, a
   read-only /dev) stays. */
static void
own_terminal (const struct process_plan *plan)
{
  struct stat st;
  uid_t uid = plan->proc->user.uid;

  if (!plan->proc->terminal || fstat (STDIN_FILENO, &st) < 0 || !S_ISCHR (st.st_mode)
      || st.st_uid == uid || major (st.st_rdev) < 136 || major (st.st_rdev) > 143)
    return;
  for (int fd = 0; fd < 3; fd++)
    if (fchown (fd, uid, (gid_t)-1) == 0)
      break; /* one inode: the same pty on 0, 1 and 2 */
}

static int
set_ids (const struct process_plan *plan, ctr_error_t *err)
{
  const struct oci_user *u = &plan->proc->user;
  cap_t caps;
  int ret = 0;

  own_terminal (plan);
  if (set_groups (plan, err) < 0)
    return -1;
  if (setresgid (u->gid, u->gid, u->gid) < 0)
    return ctr_error (err, errno, "process.user.gid: setresgid %u", u->gid);
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return ctr_error (err, errno, "prctl PR_SET_KEEPCAPS");
  if (setresuid (u->uid, u->uid, u->uid) < 0)
    ret = ctr_error (err, errno, "process.user.uid: setresuid %u", u->uid);
  prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0);
  if (ret < 0)
    return -1;
  /* leaving uid 0 cleared the effective set; CAP_SETPCAP is needed for the bounding set */
  caps = cap_get_proc ();
  if (caps == NULL)
    return ctr_error (err, errno, "capget");
  if (cap_fill (caps, CAP_EFFECTIVE, CAP_PERMITTED) < 0 || cap_set_proc (caps) < 0)
    ret = ctr_error (err, errno, "capset");
  cap_free (caps);
  return ret;
}

/* For an execve through ctr-stub (process.h, via_stub): what to carry across the stub's
   own execve, given the bounding set now in force. A process that execve()s as root gets its
   bounding set from the kernel anyway; any other (SECBIT_NOROOT for root too) keeps only
   its ambient set, so its permitted capabilities ride along as ambient, unless the
   securebits forbid raising any (then it loses them, as it did before). The stub restores
   the config's sets whenever they differ from what its execve leaves. */
#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#define NATIVE_AUDIT_ARCH 0
#endif

/* Whether ctr-stub may restore the sets under the seccomp filter (it runs after it): the
   capget, the capset and each PR_CAP_AMBIENT_LOWER it would make. */
static bool
stub_may_restore (const struct process_plan *plan, const struct process_seccomp *filter)
{
  uint64_t args[6] = { 0 };
  uint64_t lower = plan->stub_carry & plan->caps[PROCESS_CAP_INHERITABLE];
  int c;

  if (!process_seccomp_allows (filter, NATIVE_AUDIT_ARCH, SYS_capget, args)
      || !process_seccomp_allows (filter, NATIVE_AUDIT_ARCH, SYS_capset, args))
    return false;
  args[0] = PR_CAP_AMBIENT;
  args[1] = PR_CAP_AMBIENT_LOWER;
  for (c = 0; c < 64; c++)
    if ((lower & PROCESS_CAP_BIT (c))
        && !process_seccomp_allows (filter, NATIVE_AUDIT_ARCH, SYS_prctl,
                                    (args[2] = (uint64_t)c, args)))
      return false;
  return true;
}

static void
plan_stub_caps (struct process_plan *plan, uint64_t bset, const struct process_seccomp *filter)
{
  const uint64_t *caps = plan->caps;
  int bits = prctl (PR_GET_SECUREBITS, 0, 0, 0, 0);
  uint64_t after; /* the effective set the stub's execve leaves */

  if (bits < 0)
    bits = 0;
  plan->stub_carry = 0;
  if (plan->proc->user.uid == 0 && !(bits & SECBIT_NOROOT))
    {
      after = bset | caps[PROCESS_CAP_INHERITABLE];
      /* under no_new_privs no execve gains what was not permitted */
      if (plan->proc->no_new_privileges)
        after &= caps[PROCESS_CAP_PERMITTED];
    }
  else
    {
      if (!(bits & SECBIT_NO_CAP_AMBIENT_RAISE))
        plan->stub_carry = caps[PROCESS_CAP_PERMITTED] & bset & ~caps[PROCESS_CAP_AMBIENT];
      after = caps[PROCESS_CAP_AMBIENT] | plan->stub_carry;
    }
  plan->stub_restore = plan->stub_carry != 0 || after != caps[PROCESS_CAP_EFFECTIVE];
  /* a filter that refuses the stub what it needs: nothing carried, the sets the stub's
     execve leaves (the process loses what it holds only in its effective set) */
  if (plan->stub_restore && !stub_may_restore (plan, filter))
    {
      ctr_log_debug ("linux.seccomp refuses ctr-stub capget, capset or prctl: capabilities "
                     "that are not ambient are not carried across it");
      plan->stub_carry = 0;
      plan->stub_restore = false;
    }
}

static int
set_capabilities (struct process_plan *plan, bool via_stub, const struct process_seccomp *filter,
                  ctr_error_t *err)
{
  const uint64_t *caps = plan->caps;
  uint64_t eff = caps[PROCESS_CAP_EFFECTIVE], perm = caps[PROCESS_CAP_PERMITTED];
  uint64_t bset = 0, ambient;
  int c;

  /* one call per capability: a kept one is read, any other dropped unread (a drop of an
     absent one is a no-op, refused only without CAP_SETPCAP: then it is read) */
  for (c = 0; c <= plan->cap_last; c++)
    {
      if (caps[PROCESS_CAP_BOUNDING] & PROCESS_CAP_BIT (c))
        {
          if (prctl (PR_CAPBSET_READ, c) > 0)
            bset |= PROCESS_CAP_BIT (c);
          continue;
        }
      if (prctl (PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
        {
          int e = errno;
          if (e != EPERM || prctl (PR_CAPBSET_READ, c) != 0)
            return ctr_error (err, e, "process.capabilities.bounding: dropping capability %d", c);
        }
    }
  plan->stub_carry = 0;
  plan->stub_restore = false;
  if (via_stub)
    plan_stub_caps (plan, bset, filter);
  if (plan->keep_sys_admin)
    {
      eff |= PROCESS_CAP_BIT (CAP_SYS_ADMIN);
      perm |= PROCESS_CAP_BIT (CAP_SYS_ADMIN);
    }
  if (process_caps_set (eff, perm, caps[PROCESS_CAP_INHERITABLE] | plan->stub_carry, err) < 0)
    return ctr_error_wrap (err, "process.capabilities");
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0
      && (errno != EINVAL || caps[PROCESS_CAP_AMBIENT]))
    return ctr_error (err, errno, "process.capabilities.ambient: clearing");
  for (c = 0; c <= plan->cap_last; c++)
    if ((caps[PROCESS_CAP_AMBIENT] & PROCESS_CAP_BIT (c))
        && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      return ctr_error (err, errno, "process.capabilities.ambient: raising capability %d", c);
  /* for ctr-stub's execve only (plan_stub_caps) */
  ambient = plan->stub_carry;
  for (c = 0; c <= plan->cap_last; c++)
    if ((ambient & PROCESS_CAP_BIT (c))
        && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      return ctr_error (err, errno, "capability %d: raising it as ambient across ctr-stub", c);
  return 0;
}

/* CVE-2024-21626: a cwd reached through a leaked fd lies outside the root, and the
   kernel reports it as "(unreachable)/..." (glibc turns that into ENOENT). */
static int
check_cwd (const char *cwd, ctr_error_t *err)
{
  char buf[PATH_MAX];

  if (getcwd (buf, sizeof buf) == NULL)
    return ctr_error (err, errno, "process.cwd: `%s`: getcwd", cwd);
  if (buf[0] != '/')
    return ctr_error (err, 0, "process.cwd: `%s`: is outside the container root", cwd);
  return 0;
}

int
process_drop_privileges (struct process_plan *plan, bool via_stub,
                         const struct process_seccomp *filter, ctr_error_t *err)
{
  bool in_cwd;

  /* As runc: try the cwd while still root (it may be closed to the user), and again as
     the user when root was refused (root squashing on network filesystems). */
  in_cwd = chdir (plan->cwd) == 0;
  if (!in_cwd && errno != EACCES && errno != EPERM)
    return ctr_error (err, errno, "process.cwd: `%s`", plan->cwd);
  if (set_ids (plan, err) < 0 || set_capabilities (plan, via_stub, filter, err) < 0)
    return -1;
  if (!in_cwd && chdir (plan->cwd) < 0)
    return ctr_error (err, errno, "process.cwd: `%s`", plan->cwd);
  if (check_cwd (plan->cwd, err) < 0)
    return -1;
  if (plan->proc->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return ctr_error (err, errno, "process.noNewPrivileges: prctl PR_SET_NO_NEW_PRIVS");
  return 0;
}
