/* ctr-init: the tiny static PID 1 of single-application containers (reaps, forwards signals). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Signals of a fault (or abort) of ctr-init itself: never forwarded, never waited for
   (blocking them would turn a fault into a silent kill anyway). */
static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT };

static void
usage (FILE *out)
{
  fputs ("Usage: ctr-init [--] PROGRAM [ARGS...]\n"
         "       ctr-init --no-ctty [--] INIT [ARGS...]\n"
         "Runs PROGRAM as the only child of PID 1: forwards signals to it, reaps every\n"
         "zombie, and exits with its status (128+N when killed by signal N).\n"
         "--no-ctty gives up the controlling terminal and execs INIT in place.\n",
         out);
}

/* The signals ctr-init waits for: every catchable one but the faults. */
static void
waited_signals (sigset_t *set)
{
  size_t i;

  sigfillset (set);
  for (i = 0; i < sizeof fault_signals / sizeof fault_signals[0]; i++)
    sigdelset (set, fault_signals[i]);
}

static pid_t
spawn (char **argv, const sigset_t *saved_mask)
{
  pid_t pid = fork ();
  if (pid != 0)
    return pid;

  /* Its own process group, the terminal's foreground one when there is a terminal: ^C and
     SIGWINCH reach it once, from the terminal, and not again through ctr-init. SIGTTOU
     is still blocked here, so tcsetpgrp from the background works. */
  setpgid (0, 0);
  if (isatty (STDIN_FILENO))
    tcsetpgrp (STDIN_FILENO, getpid ());
  sigprocmask (SIG_SETMASK, saved_mask, NULL);
  execvp (argv[0], argv);
  int saved = errno;
  fprintf (stderr, "ctr-init: exec %s: %s\n", argv[0], strerror (saved));
  _exit (saved == ENOENT ? 127 : 126);
}

/* A full-OS init finds its console as a booted kernel leaves it: stdio on /dev/console but
   no controlling terminal, so that the getty or shell it starts in a new session can take
   the console as theirs (job control, ^C). The runtime made it ours: give it back. */
static int
exec_without_ctty (char **argv)
{
  if (ioctl (STDIN_FILENO, TIOCNOTTY) < 0 && errno != ENOTTY)
    fprintf (stderr, "ctr-init: release the controlling terminal: %s\n", strerror (errno));
  execvp (argv[0], argv);
  int saved = errno;
  fprintf (stderr, "ctr-init: exec %s: %s\n", argv[0], strerror (saved));
  return saved == ENOENT ? 127 : 126;
}

static int
exit_code (int status)
{
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return WEXITSTATUS (status);
}

/* Reaps every child that has exited; returns 1 and fills *status once MAIN is among them. */
static int
reap_all (pid_t main_pid, int *status)
{
  int found = 0;

  for (;;)
    {
      int st;
      pid_t pid = waitpid (-1, &st, WNOHANG);
      if (pid < 0 && errno == EINTR)
        continue;
      if (pid <= 0)
        return found;
      if (pid == main_pid)
        {
          *status = st;
          found = 1;
        }
    }
}

static int
forward_and_reap (pid_t main_pid)
{
  sigset_t set;
  int status = 0;

  waited_signals (&set);
  for (;;)
    {
      siginfo_t info;
      int sig = sigwaitinfo (&set, &info);
      if (sig < 0)
        {
          if (errno == EINTR)
            continue;
          perror ("ctr-init: sigwaitinfo");
          return 1;
        }
      if (sig == SIGCHLD)
        {
          if (reap_all (main_pid, &status))
            return exit_code (status);
          continue;
        }
      /* A failure means the child just exited: its SIGCHLD is on the way. */
      kill (main_pid, sig);
    }
}

int
main (int argc, char **argv)
{
  sigset_t set, saved_mask;
  int first = 1, no_ctty = 0;

  if (argc > 1 && strcmp (argv[1], "--no-ctty") == 0)
    no_ctty = first = 2;
  if (argc > first && strcmp (argv[first], "--") == 0)
    first++;
  else if (argc > 1 && (strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "--help") == 0))
    {
      usage (stdout);
      return 0;
    }
  if (first >= argc)
    {
      usage (stderr);
      return 2;
    }
  if (no_ctty)
    return exec_without_ctty (argv + first);

  /* Outside a PID namespace (tests on the host) orphans still come back to us. */
  if (getpid () != 1)
    prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  /* Blocked before fork so that no signal, SIGCHLD above all, slips by unseen. */
  waited_signals (&set);
  if (sigprocmask (SIG_BLOCK, &set, &saved_mask) < 0)
    {
      perror ("ctr-init: sigprocmask");
      return 1;
    }

  pid_t pid = spawn (argv + first, &saved_mask);
  if (pid < 0)
    {
      fprintf (stderr, "ctr-init: fork: %s\n", strerror (errno));
      return 1;
    }
  return forward_and_reap (pid);
}
