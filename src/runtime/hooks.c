/* hooks: running one stage of OCI hooks — fork, exec, state on stdin, timeout via pidfd. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "runtime/hooks.h"
#include "base/util.h"

static void __attribute__ ((noreturn)) hook_child (const struct oci_hook *h, int in_fd, int err_fd)
{
  char *default_argv[] = { h->path, NULL };
  sigset_t none;
  int sig, e;

  /* the hook must not inherit ctr's ignored signals or mask (SIGPIPE above all) */
  for (sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  /* its own process group, so that a timeout kills whatever the hook started */
  setpgid (0, 0);
  if (in_fd == 0)
    fcntl (0, F_SETFD, 0);
  else
    dup2 (in_fd, 0);
  /* stdio and the state on stdin only: an fd ctr's caller left open (without CLOEXEC)
     never reaches a hook, which may run inside the container (createContainer,
     startContainer); err_fd is CLOEXEC and goes with the execve */
  if (err_fd > 3)
    syscall (SYS_close_range, 3, err_fd - 1, 0);
  syscall (SYS_close_range, err_fd + 1, ~0U, 0);
  /* a hook without env gets ctr's environment, as runc (Go's exec) gives it */
  execve (h->path, h->args_len > 0 ? h->args : default_argv, h->env ? h->env : environ);
  e = errno;
  if (write (err_fd, &e, sizeof e) < 0)
    {
    }
  _exit (127);
}

/* write() that neither dies of nor leaves behind a SIGPIPE: the hook may exit without
   reading its stdin. */
static ssize_t
write_no_sigpipe (int fd, const void *buf, size_t len)
{
  sigset_t pipe_set, old, pending;
  bool was_pending;
  ssize_t r;
  int saved;

  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  sigprocmask (SIG_BLOCK, &pipe_set, &old);
  sigpending (&pending);
  was_pending = sigismember (&pending, SIGPIPE);
  r = write (fd, buf, len);
  saved = errno;
  if (r < 0 && saved == EPIPE && !was_pending)
    {
      const struct timespec zero = { 0, 0 };
      sigtimedwait (&pipe_set, NULL, &zero);
    }
  sigprocmask (SIG_SETMASK, &old, NULL);
  errno = saved;
  return r;
}

static int
wait_status (pid_t pid, int *status)
{
  pid_t r;

  do
    r = waitpid (pid, status, 0);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : 0;
}

/* Feeds the state to the hook and reaps it, within the timeout. Without a pidfd
   (pidfd_open failed or missing: old kernels, valgrind) the exit is polled every 20ms.
   Returns 1 when the deadline passed (the hook is then still running). */
static int
feed_and_wait (pid_t pid, int pidfd, int *in_fd, const char *state, size_t len, int timeout,
               int *status, ctr_error_t *err)
{
  uint64_t deadline = timeout > 0 ? now_ns () + (uint64_t)timeout * 1000000000ULL : 0;
  size_t off = 0;

  for (;;)
    {
      struct pollfd pfd[2];
      int wait_ms = -1, n = 0, r;
      pid_t w;

      if (deadline)
        {
          uint64_t now = now_ns ();
          if (now >= deadline)
            return 1;
          wait_ms = (int)((deadline - now + 999999) / 1000000);
        }
      if (pidfd < 0 && (wait_ms < 0 || wait_ms > 20))
        wait_ms = 20;
      if (pidfd >= 0)
        pfd[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
      if (*in_fd >= 0)
        pfd[n++] = (struct pollfd){ .fd = *in_fd, .events = POLLOUT };
      r = poll (pfd, (nfds_t)n, wait_ms);
      if (r < 0 && errno != EINTR)
        return ctr_error (err, errno, "poll");
      if (r < 0)
        continue;
      if (pidfd < 0 || pfd[0].revents)
        {
          w = waitpid (pid, status, WNOHANG);
          if (w == pid)
            return 0;
          if (w < 0 && errno != EINTR)
            {
              *status = -1; /* reaped by someone else: not ours to kill any more */
              return ctr_error (err, errno, "waitpid");
            }
        }
      if (*in_fd >= 0 && pfd[n - 1].revents)
        {
          ssize_t wr = off < len ? write_no_sigpipe (*in_fd, state + off, len - off) : 0;
          if (wr > 0)
            off += (size_t)wr;
          if (off >= len || (wr < 0 && errno != EAGAIN && errno != EINTR))
            {
              close (*in_fd); /* EOF for the hook; EPIPE means it does not read: fine */
              *in_fd = -1;
            }
        }
    }
}

static int
exit_status_error (int status, ctr_error_t *err)
{
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status))
    return ctr_error (err, 0, "exited with status %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return ctr_error (err, 0, "killed by signal %d", WTERMSIG (status));
  return ctr_error (err, 0, "ended with wait status %#x", (unsigned)status);
}

/* After fork: the exec result (the error pipe closes on success), then the state, the
   wait with the timeout; the child is always reaped. */
static int
hook_supervise (const struct oci_hook *h, pid_t pid, int in_fd, int err_fd, const char *state,
                ctr_error_t *err)
{
  cleanup_close int pidfd = -1;
  int exec_errno = 0, status = 0, r;
  ssize_t n;

  n = read_all (err_fd, &exec_errno, sizeof exec_errno);
  if (n == (ssize_t)sizeof exec_errno)
    {
      close (in_fd);
      wait_status (pid, &status);
      return ctr_error (err, exec_errno, "exec");
    }
  pidfd = (int)syscall (SYS_pidfd_open, pid, 0); /* -1: feed_and_wait polls instead */
  fcntl (in_fd, F_SETFL, O_NONBLOCK);
  r = feed_and_wait (pid, pidfd, &in_fd, state ? state : "", state ? strlen (state) : 0,
                     h->has_timeout ? h->timeout : 0, &status, err);
  if (in_fd >= 0)
    close (in_fd);
  if (r == 1 || (r < 0 && status != -1))
    {
      /* not reaped yet, so neither the pid nor the group can have been reused */
      kill (-pid, SIGKILL);
      kill (pid, SIGKILL);
      wait_status (pid, &status);
    }
  if (r == 1)
    return ctr_error (err, 0, "timed out after %ds", h->timeout);
  if (r < 0)
    return -1;
  return exit_status_error (status, err);
}

static int
hook_run (const struct oci_hook *h, const char *state, ctr_error_t *err)
{
  int in[2], errp[2];
  pid_t pid;
  int r;

  if (pipe2 (in, O_CLOEXEC) < 0)
    return ctr_error (err, errno, "pipe");
  if (pipe2 (errp, O_CLOEXEC) < 0)
    {
      r = ctr_error (err, errno, "pipe");
      close (in[0]);
      close (in[1]);
      return r;
    }
  pid = fork ();
  if (pid == 0)
    hook_child (h, in[0], errp[1]);
  r = pid < 0 ? ctr_error (err, errno, "fork") : 0;
  close (in[0]);
  close (errp[1]);
  if (r == 0)
    r = hook_supervise (h, pid, in[1], errp[0], state, err);
  else
    close (in[1]);
  close (errp[0]);
  return r;
}

int
hooks_run (const struct oci_hook *hooks, size_t n, enum oci_hook_stage stage,
           const char *state_json, ctr_error_t *err)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (hook_run (&hooks[i], state_json, err) < 0)
      return ctr_error_wrap (err, "%s hook #%zu `%s`", oci_hook_stage_name (stage), i,
                             hooks[i].path);
  return 0;
}

int
hooks_run_stage (const struct oci_hooks *hooks, enum oci_hook_stage stage, const char *state_json,
                 ctr_error_t *err)
{
  return hooks_run (hooks->hooks[stage], hooks->len[stage], stage, state_json, err);
}

void
hooks_run_warn (const struct oci_hooks *hooks, enum oci_hook_stage stage, const char *state_json)
{
  const struct oci_hook *h = hooks->hooks[stage];

  /* runtime-spec: a failing poststart/poststop hook is a warning, and the remaining hooks
     still run */
  for (size_t i = 0; i < hooks->len[stage]; i++)
    {
      ctr_error_t err = NULL;
      if (hook_run (&h[i], state_json, &err) < 0)
        {
          char *s = ctr_error_string (err);
          ctr_log_warning ("%s hook #%zu `%s`: %s", oci_hook_stage_name (stage), i, h[i].path, s);
          free (s);
          ctr_error_free (&err);
        }
    }
}
