/* supervise: the foreground side of `run` and `exec`: signal forwarding, pty proxying,
   and turning the container process's wait status into an exit status. */
#include <config.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "runtime/supervise.h"
#include "runtime/terminal.h"

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

void
supervise_block_signals (sigset_t *oldmask)
{
  sigset_t all;
  sigfillset (&all);
  sigdelset (&all, SIGSEGV);
  sigdelset (&all, SIGBUS);
  sigdelset (&all, SIGFPE);
  sigdelset (&all, SIGILL);
  sigprocmask (SIG_BLOCK, &all, oldmask);
}

/* Copies what is readable on from to to; false on EOF or error. */
static bool
pump (int from, int to)
{
  char buf[8192];
  ssize_t r = read (from, buf, sizeof buf);
  if (r < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (r <= 0)
    return false;
  return write_all (to, buf, r) >= 0;
}

static void
forward_signal (pid_t pid, int pidfd, int sig)
{
  if (pidfd >= 0)
    syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
  else
    kill (pid, sig);
}

static int
wait_status (pid_t pid, int *exit_status, ctr_error_t *err)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return ctr_error (err, errno, "wait for container process %d", pid);
  *exit_status = wait_status_code (status);
  return 0;
}

int
supervise (pid_t pid, int pidfd, int master, int *exit_status, ctr_error_t *err)
{
  sigset_t all;
  cleanup_close int sfd = -1;
  struct terminal_saved saved = { 0 };
  bool stdin_open = master >= 0;
  cleanup_close int peer = -1;
  int r;

  sigfillset (&all);
  sfd = signalfd (-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0)
    return ctr_error (err, errno, "signalfd");
  if (master >= 0)
    {
      if (terminal_raw (0, &saved, err) < 0)
        return -1;
      terminal_copy_size (0, master);
      /* an init that closes its console between writes (sysvinit) must not look like an
         exit: with a slave of our own open the master never hangs up, and the process's
         end comes through the pidfd */
      peer = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    }
  for (;;)
    {
      struct pollfd pfd[4] = { { pidfd, POLLIN, 0 },
                               { sfd, POLLIN, 0 },
                               { master, POLLIN, 0 },
                               { stdin_open ? 0 : -1, POLLIN, 0 } };
      if (poll (pfd, 4, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          r = ctr_error (err, errno, "poll");
          break;
        }
      if (pfd[1].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          while (read (sfd, &si, sizeof si) == sizeof si)
            {
              if (si.ssi_signo == SIGCHLD)
                continue;
              if (si.ssi_signo == SIGWINCH && master >= 0)
                terminal_copy_size (0, master);
              else
                forward_signal (pid, pidfd, si.ssi_signo);
            }
        }
      if (master >= 0 && (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)))
        {
          if (!pump (master, 1))
            master = -1; /* hang-up: the process is exiting */
        }
      if (stdin_open && (pfd[3].revents & (POLLIN | POLLHUP | POLLERR)))
        stdin_open = pump (0, master);
      if (pfd[0].revents & POLLIN)
        {
          /* drain what is left of the output before reporting the exit */
          for (;;)
            {
              /* poll first: our own peer keeps the master open, so a read would wait */
              struct pollfd p = { master, POLLIN, 0 };
              if (master < 0 || poll (&p, 1, 0) <= 0 || !pump (master, 1))
                break;
            }
          r = wait_status (pid, exit_status, err);
          break;
        }
    }
  terminal_restore (&saved);
  return r;
}
