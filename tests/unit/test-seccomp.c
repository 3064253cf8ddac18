/* test-seccomp: the filters process_seccomp_compile makes, run through the interpreter of
   process_seccomp_verdict for every architecture of a profile (x86_64, x86, x32), and loaded
   where seccomp works. */
#include <config.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process/process.h"
#include "tap.h"
#include "base/util.h"

#define S(x) ((char *)(x))
#define X32_BIT 0x40000000U

static uint32_t
verdict (const struct process_seccomp *f, uint32_t arch, uint32_t nr)
{
  struct seccomp_data d = { .nr = (int)nr, .arch = arch };
  return process_seccomp_verdict (f, &d);
}

static uint32_t
nr_of (uint32_t arch, const char *name)
{
  return (uint32_t)seccomp_syscall_resolve_name_arch (arch, name);
}

static char *allowed[] = { S ("read"),         S ("write"),  S ("exit_group"), S ("getpid"),
                           S ("openat"),       S ("execve"), S ("execveat"),   S ("close"),
                           S ("rt_sigreturn"), S ("brk"),    S ("mmap"),       S ("close_range") };
static uint32_t
largest (uint32_t arch)
{
  uint32_t max = 0;
  for (size_t i = 0; i < ARRAY_SIZE (allowed); i++)
    if (nr_of (arch, allowed[i]) > max)
      max = nr_of (arch, allowed[i]);
  return max;
}

static char *arches[] = { S ("SCMP_ARCH_X86_64"), S ("SCMP_ARCH_X86"), S ("SCMP_ARCH_X32") };

static struct oci_seccomp
profile (const char *default_action, struct oci_seccomp_syscall *call, size_t n_arches)
{
  *call = (struct oci_seccomp_syscall){ .names = allowed,
                                        .names_len = ARRAY_SIZE (allowed),
                                        .action = S ("SCMP_ACT_ALLOW") };
  return (struct oci_seccomp){ .default_action = (char *)default_action,
                               .has_default_errno_ret = true,
                               .default_errno_ret = EPERM,
                               .architectures = arches,
                               .architectures_len = n_arches,
                               .syscalls = call,
                               .syscalls_len = 1 };
}

/* Each architecture: a named syscall passes, one the profile does not name but that lies
   below its largest gets the default errno, anything above the largest ENOSYS. */
static void
test_three_arches (void)
{
  const struct
  {
    const char *name;
    uint32_t scmp, audit;
  } a[] = {
    { "x86_64", SCMP_ARCH_X86_64, AUDIT_ARCH_X86_64 },
    { "x86", SCMP_ARCH_X86, AUDIT_ARCH_I386 },
    { "x32", SCMP_ARCH_X32, AUDIT_ARCH_X86_64 },
  };
  const uint32_t eperm = SCMP_ACT_ERRNO (EPERM), enosys = SCMP_ACT_ERRNO (ENOSYS);
  struct oci_seccomp_syscall call;
  struct oci_seccomp sc = profile ("SCMP_ACT_ERRNO", &call, 3);
  struct process_seccomp f;
  ctr_error_t err = NULL;
  size_t i;

  ok (process_seccomp_compile (&sc, &f, &err) == 0, "3-architecture profile compiles");
  for (i = 0; i < ARRAY_SIZE (a); i++)
    {
      uint32_t top = largest (a[i].scmp); /* x32: execveat, one of its own 512 and up */
      uint32_t below = nr_of (a[i].scmp, "sysfs");

      is_int (verdict (&f, a[i].audit, nr_of (a[i].scmp, "getpid")), SCMP_ACT_ALLOW,
              "%s: a named syscall is allowed", a[i].name);
      is_int (verdict (&f, a[i].audit, top), SCMP_ACT_ALLOW, "%s: the largest named is allowed",
              a[i].name);
      is_int (verdict (&f, a[i].audit, below), eperm,
              "%s: one below the largest, not named: the default errno", a[i].name);
      is_int (verdict (&f, a[i].audit, top + 1), enosys, "%s: one above the largest: ENOSYS",
              a[i].name);
      is_int (verdict (&f, a[i].audit, top + 500), enosys, "%s: far above: ENOSYS", a[i].name);
    }
  is_int (verdict (&f, AUDIT_ARCH_AARCH64, 1000), SCMP_ACT_KILL_THREAD,
          "an architecture not in the profile: libseccomp's bad-arch action");
  process_seccomp_release (&f);

  /* without x32, an x32 call is a bad arch for the filter, never ENOSYS */
  sc.architectures_len = 2;
  ok (process_seccomp_compile (&sc, &f, &err) == 0, "x86_64 + x86 profile compiles");
  is_int (verdict (&f, AUDIT_ARCH_X86_64, X32_BIT | 1000), SCMP_ACT_KILL_THREAD,
          "x32 not in the profile: its calls get the bad-arch action");
  is_int (verdict (&f, AUDIT_ARCH_X86_64, 1000), enosys, "x86_64 still gets ENOSYS");
  process_seccomp_release (&f);
  ctr_error_free (&err);
}

/* As runc: no check where the default lets calls through, or names no architecture. */
static void
test_no_stub (void)
{
  struct oci_seccomp_syscall call;
  struct oci_seccomp sc;
  struct process_seccomp f;
  ctr_error_t err = NULL;

  sc = profile ("SCMP_ACT_ALLOW", &call, 3);
  call.action = S ("SCMP_ACT_ERRNO");
  ok (process_seccomp_compile (&sc, &f, &err) == 0
          && verdict (&f, AUDIT_ARCH_X86_64, 1000) == SCMP_ACT_ALLOW,
      "default allow: a new syscall passes to the kernel");
  process_seccomp_release (&f);
  sc = profile ("SCMP_ACT_LOG", &call, 3);
  call.action = S ("SCMP_ACT_ERRNO");
  ok (process_seccomp_compile (&sc, &f, &err) == 0
          && verdict (&f, AUDIT_ARCH_X86_64, 1000) == SCMP_ACT_LOG,
      "default log: a new syscall is logged");
  process_seccomp_release (&f);
  sc = profile ("SCMP_ACT_ERRNO", &call, 0);
  ok (process_seccomp_compile (&sc, &f, &err) == 0
          && verdict (&f, seccomp_arch_native (), 1000) == SCMP_ACT_ERRNO (EPERM),
      "no architectures named: the default errno, as runc");
  process_seccomp_release (&f);
  sc = profile ("SCMP_ACT_KILL_PROCESS", &call, 3);
  ok (process_seccomp_compile (&sc, &f, &err) == 0
          && verdict (&f, AUDIT_ARCH_X86_64, 1000) == SCMP_ACT_ERRNO (ENOSYS)
          && verdict (&f, AUDIT_ARCH_X86_64, nr_of (SCMP_ARCH_X86_64, "sysfs"))
                 == SCMP_ACT_KILL_PROCESS,
      "default kill: a new syscall gets ENOSYS, a known one is killed");
  process_seccomp_release (&f);
  ctr_error_free (&err);
}

static int
child_load (void *data)
{
  ctr_error_t err = NULL;

  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || process_seccomp_load (data, &err) != 0)
    return 10;
  if (syscall (1000) != -1 || errno != ENOSYS)
    return 11;
  if (syscall (SYS_getppid) != -1 || errno != EPERM)
    return 12;
  return syscall (SYS_getpid) > 0 ? 0 : 13;
}

/* The kernel takes the patched program, and answers as the interpreter says. */
static void
test_load (void)
{
  char *names[ARRAY_SIZE (allowed) + 2];
  struct oci_seccomp_syscall call;
  struct oci_seccomp sc = profile ("SCMP_ACT_ERRNO", &call, 3);
  struct process_seccomp f;
  ctr_error_t err = NULL;
  int status = -1;
  pid_t pid;

  /* what a static child needs to return from main and exit */
  memcpy (names, allowed, sizeof allowed);
  names[ARRAY_SIZE (allowed)] = S ("exit");
  names[ARRAY_SIZE (allowed) + 1] = S ("munmap");
  call.names = names;
  call.names_len = ARRAY_SIZE (names);
  if (process_seccomp_compile (&sc, &f, &err) < 0)
    {
      fail ("compile: %s", err->msg);
      ctr_error_free (&err);
      return;
    }
  fflush (stdout);
  pid = fork ();
  if (pid == 0)
    _exit (child_load (&f));
  waitpid (pid, &status, 0);
  is_int (WIFEXITED (status) ? WEXITSTATUS (status) : 100 + WTERMSIG (status), 0,
          "loaded: syscall 1000 ENOSYS, getppid EPERM, getpid allowed");
  process_seccomp_release (&f);
}

int
main (void)
{
  test_three_arches ();
  test_no_stub ();
  if (syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, NULL) < 0 && errno == EFAULT)
    test_load ();
  else
    pass ("loading # SKIP seccomp(2) unavailable (valgrind?)");
  return done_testing ();
}
