/* ctr-stub: the last program ctr runs before the container's own (CVE-2019-5736 class).

   ctr's setup process ends by executing this tiny program from a sealed memfd, and this
   program executes the container's. So the process that execve()s the container's
   program, and every process ctr puts into a running container's pid namespace, has a
   sealed in-memory /proc/PID/exe: a `#!/proc/self/exe` entrypoint runs this stub, never
   the host's ctr, and nothing in the container can write the host's binary through it.
   Being free of libc, it starts in tens of microseconds where a glibc program needs
   hundreds (see docs/security.md).

   It runs after ctr has finished the whole setup: ids, capabilities, no_new_privs,
   seccomp and LSM labels are already in force, so it can do nothing the container's own
   processes cannot. Invocation, by ctr only:

     argv = { "ctr-stub:FLAGS:SYNCFD[:EFF:INH:LOWER]", PATH, ARG0, ARG1, ..., NULL },
     envp = the process's

   FLAGS: STUB_FORK (fork first; the parent reports the child's pid on SYNCFD and exits: the
   child is born in the pid namespace ctr joined for its children), STUB_SETSID (a new
   session), STUB_CTTY (fd 0 becomes the controlling terminal), STUB_CAPS (EFF, INH, LOWER
   follow, as hex capability masks). SYNCFD (-1: none) receives errors as sync messages;
   without it errors go to stderr.

   STUB_CAPS: a non-root process loses on this stub's execve all but its ambient
   capabilities, where runc executes the program with the config's sets in force (with
   CAP_DAC_OVERRIDE effective it may execute a file it has no execute bit for; under
   no_new_privs a setuid or file-capability program gets no more than the permitted set).
   So ctr raises the permitted set as ambient (and inheritable) for this execve only, and
   here, before the program's execve, the config's sets come back: effective EFF (within
   what is permitted), inheritable INH (which also takes the raised ones that INH lacks out
   of the ambient set), and the ambient capabilities of LOWER (the raised ones INH holds)
   lowered. The program's execve then starts from the sets runc's starts from. */
#include <stddef.h>
#include <stdint.h>
#include <asm/unistd.h>
#include <linux/capability.h>
#include <linux/fcntl.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <linux/signal.h>

/* No TLS here for a canary to live in, whatever CFLAGS the build brings. */
#pragma GCC optimize("no-stack-protector")

#include "stub.h"

#define TIOCSCTTY_ 0x540E

#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call stub_main\n"
        "  hlt\n");

static long
sys6 (long n, long a, long b, long c, long d, long e, long f)
{
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  mov x29, #0\n"
        "  mov x30, #0\n"
        "  mov x0, sp\n"
        "  and x1, x0, #-16\n"
        "  mov sp, x1\n"
        "  bl stub_main\n"
        "  brk #0\n");

static long
sys6 (long n, long a, long b, long c, long d, long e, long f)
{
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc #0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory", "cc");
  return x0;
}
#else
#error "ctr-stub supports x86_64 and aarch64; configure leaves it out elsewhere"
#endif

#define sys1(n, a) sys6 (n, (long)(a), 0, 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6 (n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

/* gcc may turn loops into calls to strlen, memcpy and memset even in freestanding mode: these
   are they (asm labels), named apart from libc's in the source */
size_t stub_strlen (const char *s) __asm__("strlen");
void *stub_memcpy (void *d, const void *s, size_t n) __asm__("memcpy");
void *stub_memset (void *d, int c, size_t n) __asm__("memset");
size_t
stub_strlen (const char *s)
{
  const char *p = s;
  while (*p)
    p++;
  return (size_t)(p - s);
}
void *
stub_memcpy (void *d, const void *s, size_t n)
{
  char *dp = d;
  const char *sp = s;
  while (n--)
    *dp++ = *sp++;
  return d;
}
void *
stub_memset (void *d, int c, size_t n)
{
  char *dp = d;
  while (n--)
    *dp++ = (char)c;
  return d;
}

static const char *
errname (long e)
{
  switch (e)
    {
    case 1:
      return "Operation not permitted";
    case 2:
      return "No such file or directory";
    case 7:
      return "Argument list too long";
    case 8:
      return "Exec format error";
    case 9:
      return "Bad file descriptor";
    case 11:
      return "Resource temporarily unavailable";
    case 12:
      return "Cannot allocate memory";
    case 13:
      return "Permission denied";
    case 14:
      return "Bad address";
    case 20:
      return "Not a directory";
    case 21:
      return "Is a directory";
    case 22:
      return "Invalid argument";
    case 25:
      return "Inappropriate ioctl for device";
    case 26:
      return "Text file busy";
    case 36:
      return "File name too long";
    case 38:
      return "Function not implemented";
    case 40:
      return "Too many levels of symbolic links";
    default:
      return "error";
    }
}

static int sync_fd = -1;

/* One sync message (the header of src/sync.c, then the payload) in one sendto(). */
static void
stub_report (uint32_t type, int32_t status, const char *a, const char *b)
{
  char buf[STUB_MSG_MAX];
  struct stub_sync_header h = { type, status, 0 };
  size_t la = a ? stub_strlen (a) : 0, lb = b ? stub_strlen (b) : 0;

  if (la > sizeof buf - sizeof h)
    la = sizeof buf - sizeof h;
  if (lb > sizeof buf - sizeof h - la)
    lb = sizeof buf - sizeof h - la;
  h.len = (uint32_t)(la + lb);
  stub_memcpy (buf, &h, sizeof h);
  stub_memcpy (buf + sizeof h, a, la);
  stub_memcpy (buf + sizeof h + la, b, lb);
  /* create's exec fifo (read by `start`) is no socket */
  if (sys6 (__NR_sendto, sync_fd, (long)buf, (long)(sizeof h + la + lb), 0x4000 /* MSG_NOSIGNAL */,
            0, 0)
      == -88 /* ENOTSOCK */)
    sys3 (__NR_write, sync_fd, (long)buf, (long)(sizeof h + la + lb));
}

/* "WHAT`ARG`: strerror" on the sync socket (the parent adds the errno text), else stderr. */
static void __attribute__ ((noreturn)) fail (const char *what, const char *arg, long neg_errno)
{
  long e = -neg_errno;

  if (sync_fd >= 0)
    {
      char ctx[STUB_MSG_MAX / 2];
      size_t lw = stub_strlen (what), la = arg ? stub_strlen (arg) : 0;
      if (lw + la + 3 > sizeof ctx)
        la = 0;
      stub_memcpy (ctx, what, lw);
      if (la)
        {
          ctx[lw++] = ' ';
          ctx[lw++] = '`';
          stub_memcpy (ctx + lw, arg, la);
          lw += la;
          ctx[lw++] = '`';
        }
      ctx[lw] = '\0';
      stub_report (e == 1 || e == 38 ? STUB_SYNC_REFUSED : STUB_SYNC_ERRNO, (int32_t)e, ctx, NULL);
    }
  else
    {
      const char *parts[] = { "ctr: ",        what, arg ? " `" : "", arg ? arg : "",
                              arg ? "`" : "", ": ", errname (e),     "\n" };
      size_t i;
      for (i = 0; i < sizeof parts / sizeof parts[0]; i++)
        sys3 (__NR_write, 2, parts[i], stub_strlen (parts[i]));
    }
  sys1 (__NR_exit_group, 127);
  for (;;)
    ;
}

static int
parse_int (const char **s, long *out)
{
  long v = 0;
  int neg = 0, digits = 0;
  if (**s == '-')
    {
      neg = 1;
      (*s)++;
    }
  while (**s >= '0' && **s <= '9' && digits < 9)
    {
      v = v * 10 + (**s - '0');
      (*s)++;
      digits++;
    }
  *out = neg ? -v : v;
  return digits > 0;
}

/* Up to 16 hex digits, at least one. */
static int
parse_hex (const char **s, uint64_t *out)
{
  uint64_t v = 0;
  int digits = 0;
  for (;; (*s)++, digits++)
    {
      char c = **s;
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0 || digits == 16)
        break;
      v = v << 4 | (uint64_t)d;
    }
  *out = v;
  return digits > 0;
}

/* ":EFF:INH:LOWER" */
static int
parse_caps (const char **p, uint64_t caps[3])
{
  int i;
  for (i = 0; i < 3; i++)
    if (*(*p)++ != ':' || !parse_hex (p, &caps[i]))
      return 0;
  return 1;
}

/* STUB_CAPS: the config's effective, inheritable and ambient sets again (see the top). */
static void
restore_caps (uint64_t eff, uint64_t inh, uint64_t lower)
{
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  long r;
  int i;

  if ((r = sys3 (__NR_capget, &hdr, data, 0)) < 0)
    fail ("restore process.capabilities: capget", NULL, r);
  for (i = 0; i < 2; i++)
    {
      data[i].effective = (uint32_t)(eff >> (32 * i)) & data[i].permitted;
      data[i].inheritable = (uint32_t)(inh >> (32 * i));
    }
  if ((r = sys3 (__NR_capset, &hdr, data, 0)) < 0)
    fail ("restore process.capabilities: capset", NULL, r);
  for (i = 0; i < 64; i++)
    if ((lower >> i & 1)
        && (r = sys6 (__NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, i, 0, 0, 0)) < 0)
      fail ("restore process.capabilities: lower an ambient capability", NULL, r);
}

/* stub_main's argument is the initial stack: argc, argv[], NULL, envp[], NULL, auxv. */
void __attribute__ ((noreturn, used)) stub_main (long *sp);
void
stub_main (long *sp)
{
  long argc = sp[0], flags = 0, fd = -1;
  uint64_t caps[3] = { 0, 0, 0 };
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  const char *p = argc >= 3 ? argv[0] : "";
  static const char prefix[] = STUB_ARGV0_PREFIX;
  size_t i;
  long r;

  for (i = 0; prefix[i] && p[i] == prefix[i]; i++)
    ;
  p += i;
  if (prefix[i] || !parse_int (&p, &flags) || *p++ != ':' || !parse_int (&p, &fd)
      || ((flags & STUB_CAPS) && !parse_caps (&p, caps)) || *p)
    {
      static const char msg[] = "ctr-stub: a part of ctr, not a command\n";
      sys3 (__NR_write, 2, msg, sizeof msg - 1);
      sys1 (__NR_exit_group, 127);
    }
  sync_fd = (int)fd;
  /* the sync socket crossed our execve; it must not cross the container's */
  if (sync_fd >= 0 && sys3 (__NR_fcntl, sync_fd, F_SETFD, FD_CLOEXEC) < 0)
    sync_fd = -1;

  if (flags & STUB_FORK)
    {
      r = sys6 (__NR_clone, SIGCHLD, 0, 0, 0, 0, 0);
      if (r < 0)
        fail ("fork into the container's pid namespace", NULL, r);
      if (r > 0)
        {
          stub_report (STUB_SYNC_PID, (int32_t)r, NULL, NULL);
          sys1 (__NR_exit_group, 0);
        }
    }
  if ((flags & STUB_SETSID) && (r = sys1 (__NR_setsid, 0)) < 0)
    fail ("setsid", NULL, r);
  if ((flags & STUB_CTTY) && (r = sys3 (__NR_ioctl, 0, TIOCSCTTY_, 0)) < 0)
    fail ("make the terminal the controlling one: TIOCSCTTY", NULL, r);
  if (flags & STUB_CAPS)
    restore_caps (caps[0], caps[1], caps[2]);
  r = sys3 (__NR_execve, argv[1], argv + 2, envp);
  fail ("exec", argv[1], r);
}
