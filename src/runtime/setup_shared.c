/* setup_shared: signals, preserved fds, oom_score_adj, pid files and the seccomp filter's
   trip to the setup child: what `create` and `exec` both do. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "base/json.h"
#include "base/util.h"
#include "oci/oci.h"
#include "namespaces/namespaces.h"
#include "runtime/seccomp_cache.h"
#include "runtime/setup_shared.h"
#include "runtime/sync.h"

/* The flags travel in the status word, with the notify bit on top. */
#define SECCOMP_NOTIFY_BIT 0x80000000u

/* The signals whose disposition is not the default (SigIgn | SigCgt of procfs's status),
   or every one when procfs cannot say: 4 system calls where asking each signal takes 62.
   Read first thing in a setup child, from ctr's own /proc, before any namespace changes. */
static uint64_t
signals_not_default (void)
{
  cleanup_close int fd = open ("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
  unsigned long long ign, cgt;
  struct statfs sf;
  char buf[4096], *p, *q;
  ssize_t n;

  if (fd < 0 || fstatfs (fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC
      || (n = read (fd, buf, sizeof buf - 1)) <= 0)
    return UINT64_MAX;
  buf[n] = '\0';
  if ((p = strstr (buf, "\nSigIgn:\t")) == NULL || (q = strstr (buf, "\nSigCgt:\t")) == NULL
      || sscanf (p + 9, "%llx", &ign) != 1 || sscanf (q + 9, "%llx", &cgt) != 1)
    return UINT64_MAX;
  return ign | cgt;
}

/* Signal s to its default: a zeroed kernel sigaction is SIG_DFL with no flags and an empty
   mask whatever the architecture's field order. Not glibc's sigaction, which refuses its
   own two signals (32 and 33) and so would leave them ignored when ctr's caller did. */
static void
signal_default (int s)
{
  unsigned long zero[8] = { 0 };
  syscall (SYS_rt_sigaction, s, zero, NULL, (size_t)(_NSIG - 1) / 8);
}

void
reset_signals (void)
{
  uint64_t set = signals_not_default ();
  sigset_t all;
  int s;
  for (s = 1; s < NSIG && s <= 64; s++)
    if (s != SIGKILL && s != SIGSTOP && (set & (1ull << (s - 1))))
      signal_default (s);
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
}

void
reserve_preserved_fds (int n)
{
  int fd;
  for (fd = 3; fd < 3 + n; fd++)
    if (fcntl (fd, F_GETFD) < 0 && errno == EBADF)
      {
        int nul = open ("/dev/null", O_RDWR);
        if (nul >= 0 && nul != fd)
          {
            dup2 (nul, fd);
            close (nul);
          }
      }
}

int
write_self_oom_score_adj (int value, ctr_error_t *err)
{
  char buf[16];
  int procfd = ns_procfs_fd (err);
  cleanup_close int fd = -1;
  if (procfd < 0)
    return -1;
  fd = openat (procfd, "self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return ctr_error (err, errno, "process.oomScoreAdj: open /proc/self/oom_score_adj");
  snprintf (buf, sizeof buf, "%d", value);
  if (write (fd, buf, strlen (buf)) < 0)
    return ctr_error (err, errno, "process.oomScoreAdj: write %d", value);
  return 0;
}

int
write_pid_file (const char *path, pid_t pid, ctr_error_t *err)
{
  char buf[32];
  int n = snprintf (buf, sizeof buf, "%d", pid);
  if (write_file_atomic_at (AT_FDCWD, path, buf, n, 0644, err) < 0)
    return ctr_error_wrap (err, "pid file");
  return 0;
}

int
seccomp_send (int sock, const struct oci_linux *l, ctr_error_t *err)
{
  struct process_seccomp s = { 0 };
  int r;
  if (l == NULL || l->seccomp == NULL)
    return 0;
  if (seccomp_cache_compile (l->seccomp, &s, err) < 0)
    return -1;
  r = sync_send (sock, SYNC_SECCOMP,
                 (int32_t)((s.flags & ~SECCOMP_NOTIFY_BIT) | (s.notify ? SECCOMP_NOTIFY_BIT : 0)),
                 s.bpf, s.len, -1, err);
  process_seccomp_release (&s);
  return r;
}

void
seccomp_from_msg (struct sync_msg *msg, struct process_seccomp *out)
{
  out->bpf = steal_ptr (msg->data);
  out->len = msg->len;
  out->flags = (unsigned)msg->status & ~SECCOMP_NOTIFY_BIT;
  out->notify = ((unsigned)msg->status & SECCOMP_NOTIFY_BIT) != 0;
  sync_msg_release (msg);
}

char *
listener_state_json (const struct oci_seccomp *sc, pid_t pid, const char *state_json, size_t *len)
{
  json_writer *w = json_writer_new (false);
  json_map_open (w);
  json_kv_string (w, "ociVersion", OCI_SPEC_VERSION);
  json_key (w, "fds");
  json_array_open (w);
  json_string (w, "seccompFd");
  json_array_close (w);
  json_kv_int (w, "pid", pid);
  json_kv_string (w, "metadata", sc->listener_metadata ? sc->listener_metadata : "");
  json_key (w, "state");
  json_raw (w, state_json, strlen (state_json));
  json_map_close (w);
  return json_writer_finish (w, len);
}
