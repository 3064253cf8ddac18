/* oci/seccomp_default: the default linux.seccomp profile `ctr spec` writes (an allow list). */
#include <config.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/seccomp_default.h"
#include "base/util.h"

/* Everything not allowed below fails with EPERM, like the common container default profile.
   Left out on purpose (so denied): the keyring (add_key, keyctl, request_key), mounting and
   the new mount API, pivot_root, chroot, unshare, setns, module loading, kexec, reboot,
   swapon/swapoff, setting the clock, acct, bpf, perf_event_open, userfaultfd,
   open_by_handle_at, ptrace and its relatives (process_vm_*, pidfd_getfd, kcmp),
   ioperm/iopl, syslog, vhangup, quotactl, lookup_dcookie, nfsservctl and io_uring; those a
   capability governs come back with the capability (cap_groups). Names the
   kernel or libseccomp does not know on an architecture are skipped when the filter is built. */

static const char allow_files[]
    = "access chdir chmod chown chown32 close close_range copy_file_range creat dup dup2 dup3 "
      "faccessat faccessat2 fadvise64 fadvise64_64 fallocate fchdir fchmod fchmodat fchmodat2 "
      "fchown fchown32 fchownat fcntl fcntl64 fdatasync flock fstat fstat64 fstatat64 fstatfs "
      "fstatfs64 fsync ftruncate ftruncate64 futimesat getcwd getdents getdents64 lchown "
      "lchown32 link linkat _llseek lseek lstat lstat64 mkdir mkdirat mknod mknodat "
      "newfstatat open openat openat2 pread64 preadv preadv2 pwrite64 pwritev pwritev2 read "
      "readahead readdir readlink readlinkat readv rename renameat renameat2 rmdir sendfile "
      "sendfile64 splice stat stat64 statfs statfs64 statx symlink symlinkat sync "
      "sync_file_range syncfs tee truncate truncate64 umask unlink unlinkat utime utimensat "
      "utimensat_time64 utimes write writev name_to_handle_at";

static const char allow_xattr[]
    = "fgetxattr flistxattr fremovexattr fsetxattr getxattr lgetxattr listxattr llistxattr "
      "lremovexattr lsetxattr removexattr setxattr";

static const char allow_events[]
    = "_newselect epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 "
      "epoll_wait epoll_wait_old eventfd eventfd2 fanotify_mark inotify_add_watch "
      "inotify_init inotify_init1 inotify_rm_watch io_cancel io_destroy io_getevents io_setup "
      "io_submit pause poll ppoll "
      "ppoll_time64 pselect6 pselect6_time64 select signalfd signalfd4 timerfd timerfd_create "
      "timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64";

static const char allow_memory[]
    = "brk get_mempolicy madvise mbind membarrier memfd_create memfd_secret mincore mlock "
      "mlock2 mlockall mmap mmap2 mprotect mremap msync munlock munlockall munmap pkey_alloc "
      "pkey_free pkey_mprotect remap_file_pages set_mempolicy set_mempolicy_home_node";

static const char allow_processes[]
    = "capget capset execve execveat exit exit_group fork getcpu getegid getegid32 geteuid "
      "geteuid32 getgid getgid32 getgroups getgroups32 getpgid getpgrp getpid getppid "
      "getpriority getresgid getresgid32 getresuid getresuid32 getrlimit getrusage getsid "
      "gettid getuid getuid32 ioprio_get ioprio_set landlock_add_rule landlock_create_ruleset "
      "landlock_restrict_self pidfd_open pidfd_send_signal prctl prlimit64 process_mrelease "
      "restart_syscall rseq sched_get_priority_max sched_get_priority_min sched_getaffinity "
      "sched_getattr sched_getparam sched_getscheduler sched_rr_get_interval "
      "sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam "
      "sched_setscheduler sched_yield seccomp set_robust_list get_robust_list set_thread_area "
      "get_thread_area set_tid_address setfsgid setfsgid32 setfsuid setfsuid32 setgid "
      "setgid32 setgroups setgroups32 setpgid setpriority setregid setregid32 setresgid "
      "setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit setsid setuid setuid32 "
      "syscall ugetrlimit uname vfork wait4 waitid waitpid";

static const char allow_signals_time[]
    = "alarm kill rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn "
      "rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sigaction "
      "sigaltstack signal sigpending sigprocmask sigreturn sigsuspend tgkill tkill futex "
      "futex_time64 futex_waitv adjtimex clock_adjtime clock_adjtime64 clock_getres "
      "clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep "
      "clock_nanosleep_time64 getitimer gettimeofday nanosleep setitimer sysinfo time "
      "timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime "
      "timer_settime64 times getrandom ioctl";

static const char allow_ipc_net[]
    = "ipc mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 "
      "mq_timedsend mq_timedsend_time64 mq_unlink msgctl msgget msgrcv msgsnd semctl semget "
      "semop semtimedop semtimedop_time64 shmat shmctl shmdt shmget accept accept4 bind "
      "connect getpeername getsockname getsockopt listen pipe pipe2 recv recvfrom recvmmsg "
      "recvmmsg_time64 recvmsg send sendmmsg sendmsg sendto setsockopt shutdown socketcall "
      "socketpair";

/* Architecture-specific calls, for the architectures of the profile. */
static const char allow_arch[] =
#if defined(__x86_64__) || defined(__i386__)
    "arch_prctl modify_ldt"
#elif defined(__aarch64__) || defined(__arm__)
    "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls"
#endif
    "";

static const char *const allow_groups[] = {
  allow_files,     allow_xattr,        allow_events,  allow_memory,
  allow_processes, allow_signals_time, allow_ipc_net, allow_arch,
};

/* Calls a capability makes safe, allowed when the process holds it (as Docker's and runc's
   default profiles do): without the capability the kernel refuses them anyway, with it the
   profile must not take back what the capability grants (sshd's privilege separation
   chroots; init halts with reboot(2), which in a pid namespace ends only that namespace). */
static const struct
{
  const char *cap;
  const char *names;
} cap_groups[] = {
  { "CAP_SYS_BOOT", "reboot" },
  { "CAP_SYS_CHROOT", "chroot" },
  { "CAP_SYS_PTRACE",
    "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace" },
  { "CAP_SYS_MODULE", "delete_module finit_module init_module" },
  { "CAP_SYS_RAWIO", "ioperm iopl" },
  { "CAP_SYS_PACCT", "acct" },
  { "CAP_SYS_TIME", "clock_settime clock_settime64 settimeofday stime" },
  { "CAP_SYS_TTY_CONFIG", "vhangup" },
  { "CAP_SYSLOG", "syslog" },
  { "CAP_BPF", "bpf" },
  { "CAP_PERFMON", "perf_event_open" },
  /* clone with namespace flags as unshare(2) allows them */
  { "CAP_SYS_ADMIN", "bpf clone fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount "
                     "mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd "
                     "setdomainname sethostname setns syslog umount umount2 unshare" },
};

/* personality(2) values that change nothing dangerous: PER_LINUX, PER_LINUX32,
   UNAME26, UNAME26|PER_LINUX32 and the 0xffffffff query. */
static const uint64_t safe_personalities[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };

/* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone may create a thread or a
   process, never a namespace. */
#define CLONE_NAMESPACE_BITS 0x7E020000ULL

/* clone's flags are its first argument except on s390, where the stack comes first. */
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_INDEX 1
#else
#define CLONE_FLAGS_INDEX 0
#endif

#define AF_VSOCK_FAMILY 40
#define ERRNO_ENOSYS 38

static const char *const default_archs[] = {
#if defined(__x86_64__) || defined(__i386__)
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X32",
#elif defined(__aarch64__) || defined(__arm__)
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_ARM",
#endif
  NULL,
};

static void
write_arg (json_writer *w, uint32_t index, uint64_t value, uint64_t value_two, const char *op)
{
  json_map_open (w);
  json_kv_int (w, "index", index);
  json_key (w, "value");
  json_uint (w, value);
  json_key (w, "valueTwo");
  json_uint (w, value_two);
  json_kv_string (w, "op", op);
  json_map_close (w);
}

/* One syscalls[] rule for a single name with at most one argument condition. */
static void
write_rule (json_writer *w, const char *name, const char *action, int errno_ret, const char *op,
            uint32_t index, uint64_t value, uint64_t value_two)
{
  json_map_open (w);
  json_key (w, "names");
  json_array_open (w);
  json_string (w, name);
  json_array_close (w);
  json_kv_string (w, "action", action);
  if (errno_ret >= 0)
    json_kv_int (w, "errnoRet", errno_ret);
  if (op)
    {
      json_key (w, "args");
      json_array_open (w);
      write_arg (w, index, value, value_two, op);
      json_array_close (w);
    }
  json_map_close (w);
}

/* The groups above are space-separated name lists, compact to read and review. */
static void
write_names (json_writer *w, const char *list)
{
  char name[64];
  size_t n;

  while (*list)
    {
      n = strcspn (list, " ");
      if (n > 0 && n < sizeof (name))
        {
          memcpy (name, list, n);
          name[n] = '\0';
          json_string (w, name);
        }
      list += n + (list[n] == ' ');
    }
}

static void
write_allow_list (json_writer *w)
{
  size_t g;

  json_map_open (w);
  json_key (w, "names");
  json_array_open (w);
  for (g = 0; g < ARRAY_SIZE (allow_groups); g++)
    write_names (w, allow_groups[g]);
  json_array_close (w);
  json_kv_string (w, "action", "SCMP_ACT_ALLOW");
  json_map_close (w);
}

static void
write_conditional_rules (json_writer *w)
{
  size_t i;

  for (i = 0; i < ARRAY_SIZE (safe_personalities); i++)
    write_rule (w, "personality", "SCMP_ACT_ALLOW", -1, "SCMP_CMP_EQ", 0, safe_personalities[i], 0);
  write_rule (w, "clone", "SCMP_ACT_ALLOW", -1, "SCMP_CMP_MASKED_EQ", CLONE_FLAGS_INDEX,
              CLONE_NAMESPACE_BITS, 0);
  /* clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc fall back to
     clone, which the rule above checks. */
  write_rule (w, "clone3", "SCMP_ACT_ERRNO", ERRNO_ENOSYS, NULL, 0, 0, 0);
  /* vsock reaches the hypervisor host, outside the container's network namespace. */
  write_rule (w, "socket", "SCMP_ACT_ALLOW", -1, "SCMP_CMP_NE", 0, AF_VSOCK_FAMILY, 0);
}

static bool
has_cap (const char *const *caps, const char *cap)
{
  for (; caps && *caps; caps++)
    if (strcmp (*caps, cap) == 0)
      return true;
  return false;
}

static void
write_cap_rules (json_writer *w, const char *const *caps)
{
  for (size_t i = 0; i < ARRAY_SIZE (cap_groups); i++)
    {
      if (!has_cap (caps, cap_groups[i].cap))
        continue;
      json_map_open (w);
      json_key (w, "names");
      json_array_open (w);
      write_names (w, cap_groups[i].names);
      json_array_close (w);
      json_kv_string (w, "action", "SCMP_ACT_ALLOW");
      json_map_close (w);
    }
}

void
oci_seccomp_default_write (json_writer *w, const char *const *caps)
{
  json_key (w, "seccomp");
  json_map_open (w);
  json_kv_string (w, "defaultAction", "SCMP_ACT_ERRNO");
  json_kv_int (w, "defaultErrnoRet", 1);
  json_key (w, "architectures");
  json_array_open (w);
  for (const char *const *a = default_archs; *a; a++)
    json_string (w, *a);
  json_array_close (w);
  json_key (w, "syscalls");
  json_array_open (w);
  write_allow_list (w);
  write_conditional_rules (w);
  write_cap_rules (w, caps);
  json_array_close (w);
  json_map_close (w);
}
