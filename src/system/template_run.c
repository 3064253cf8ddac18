/* template_run: running a template (`ctr create -t`) so that nothing of it outlives ctr.
   The template runs under a keeper: ctr's child, the template's parent, and a subreaper for
   whatever the template starts (debootstrap, tar, ...). The template is a process group
   of its own. The keeper ends that group, and anything that left it, when ctr passes on
   an interrupt (Ctrl-C, SIGTERM, SIGHUP) or dies, SIGKILL included: its parent-death
   signal. Then it exits with the template's status. */
#include <config.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "oci/oci.h"
#include "namespaces/namespaces.h"
#include "base/log.h"
#include "system/template.h"
#include "system/userns_child.h"
#include "base/util.h"

/* How long a stopped template gets for its own cleanup before everything is killed. */
#define TEMPLATE_GRACE_MS 5000

static const char *
init_path (void)
{
  const char *env = getenv ("CTR_INIT");
  return env && *env ? env : CTR_LIBEXECDIR "/ctr-init";
}

/* SIGKILL to every child of the caller (a subreaper: orphans of the template's tree are
   its children); how many there were. */
static int
kill_children (void)
{
  cleanup_dir DIR *d = opendir ("/proc");
  struct dirent *de;
  pid_t self = getpid ();
  int n = 0;

  while (d && (de = readdir (d)) != NULL)
    {
      char path[300], buf[512], *p;
      cleanup_close int fd = -1;
      ssize_t r;
      int ppid;
      if (de->d_name[0] < '1' || de->d_name[0] > '9')
        continue;
      snprintf (path, sizeof path, "/proc/%s/stat", de->d_name);
      fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0 || (r = read (fd, buf, sizeof buf - 1)) <= 0)
        continue;
      buf[r] = '\0';
      p = strrchr (buf, ')');
      if (p && sscanf (p + 2, "%*c %d", &ppid) == 1 && ppid == self)
        n += kill (atoi (de->d_name), SIGKILL) == 0;
    }
  return n;
}

/* Kills and reaps everything left of the template's tree. */
static void
kill_all (pid_t group)
{
  kill (-group, SIGKILL);
  for (;;)
    {
      kill_children ();
      if (waitpid (-1, NULL, 0) < 0 && errno == ECHILD)
        return;
    }
}

/* CTR_CGROUP tells the template whether the container will have a cgroup its root may
   write (systemd needs one): "own", or "none: WHY" for an unprivileged user without a
   delegated cgroup v2 subtree. Asked before the user namespace, from ctr's own cgroup. */
static void
template_cgroup_env (void)
{
  cleanup_free char *reason = NULL, *deleg = NULL, *value = NULL;
  if (is_rootless () && (deleg = cgroup_delegation_root (&reason)) == NULL)
    value = xasprintf ("none: %s", reason ? reason : "no delegated cgroup subtree");
  setenv ("CTR_CGROUP", value ? value : "own", 1);
}

static void __attribute__ ((noreturn))
template_exec (pid_t keeper, const char *path, char **argv, int userns[4])
{
  sigset_t none;
  setpgid (0, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL); /* the keeper is never killed but by SIGKILL */
  if (getppid () != keeper)
    _exit (125); /* it was, before the parent-death signal was armed */
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  template_cgroup_env ();
  if (userns[0] >= 0 && userns_child_enter (userns) < 0)
    _exit (126);
  setenv ("CTR_INIT", init_path (), 1);
  dup2 (STDERR_FILENO, STDOUT_FILENO); /* progress goes where diagnostics go */
  /* stdio only (DESIGN.md §4 rule 2): what ctr's caller left open is not the template's,
     and tools count on low descriptors (mmdebstrap hands apt `cat >&N`, which dash
     refuses for N > 9) */
  syscall (SYS_close_range, 3, ~0U, 0);
  execv (path, argv);
  fprintf (stderr, "ctr: exec template `%s`: %s\n", path, strerror (errno));
  _exit (127);
}

/* The keeper: exits with the template's exit status (128 + its signal when killed). */
static void __attribute__ ((noreturn))
template_keeper (pid_t ctr, const char *tname, const char *path, char **argv, int userns[4])
{
  sigset_t set;
  struct signalfd_siginfo si;
  ctr_error_t err = NULL;
  int sfd, status = 0;
  bool ended = false;
  uint64_t kill_at = 0;
  pid_t t, self = getpid ();

  /* still blocked (ctr's mask), but no longer ignored when ctr's caller ignored them (a
     background job ignores SIGINT): the parent-death SIGTERM must get through */
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  signal (SIGHUP, SIG_DFL);
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != ctr)
    _exit (125); /* ctr was gone before the parent-death signal was armed */
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGHUP);
  sigaddset (&set, SIGCHLD);
  sigprocmask (SIG_BLOCK, &set, NULL);
  sfd = signalfd (-1, &set, SFD_CLOEXEC);
  t = fork ();
  if (t < 0)
    _exit (125);
  if (t == 0)
    template_exec (self, path, argv, userns);
  setpgid (t, t);
  if (userns[0] >= 0 && userns_child_map (t, userns, &err) < 0)
    {
      ctr_error_wrap (&err, "template `%s`", tname);
      ctr_error_print (&err);
      kill_all (t);
      _exit (125);
    }
  while (!ended)
    {
      struct pollfd p = { sfd, POLLIN, 0 };
      int timeout = -1;
      if (kill_at)
        {
          uint64_t now = now_ns ();
          timeout = kill_at > now ? (int)((kill_at - now) / 1000000 + 1) : 0;
        }
      if (poll (&p, 1, timeout) == 0)
        {
          kill (-t, SIGKILL); /* its grace is over */
          kill_children ();
          kill_at = 0;
          continue;
        }
      if (read (sfd, &si, sizeof si) != sizeof si)
        continue;
      if (si.ssi_signo != SIGCHLD && kill_at == 0)
        {
          /* stopped: SIGINT as from the terminal, else SIGTERM, then a grace */
          kill (-t, si.ssi_signo == SIGINT ? SIGINT : SIGTERM);
          kill_at = now_ns () + TEMPLATE_GRACE_MS * 1000000ull;
        }
      for (pid_t p2; (p2 = waitpid (-1, &status, WNOHANG)) > 0;)
        if (p2 == t)
          {
            ended = true;
            break;
          }
    }
  kill_all (t); /* what the template left running goes with it */
  if (WIFSIGNALED (status))
    _exit (128 + WTERMSIG (status));
  _exit (WEXITSTATUS (status));
}

int
template_run (const char *path, const char *tname, const char *name, const char *dir, char **args,
              int *interrupted, ctr_error_t *err)
{
  cleanup_free char *rootfs = xasprintf ("%s/rootfs", dir);
  const char *fixed[] = { path, "--name", name, "--path", dir, "--rootfs", rootfs };
  size_t nargs = strv_len (args), i, k = 0;
  cleanup_free char **argv = xzalloc ((ARRAY_SIZE (fixed) + nargs + 1) * sizeof *argv);
  int status = 0, userns[4] = { -1, -1, -1, -1 };
  sigset_t wait_for, old;
  struct sigaction old_chld;
  siginfo_t si;
  pid_t ctr = getpid (), keeper;

  *interrupted = 0;
  /* rootless: the template runs as root of a user namespace with the container's own
     mapping, so that what it creates gets the owners the container will see */
  if (is_rootless () && (pipe2 (userns, O_CLOEXEC) < 0 || pipe2 (userns + 2, O_CLOEXEC) < 0))
    return ctr_error (err, errno, "pipe");
  for (i = 0; i < ARRAY_SIZE (fixed); i++)
    argv[k++] = (char *)fixed[i];
  for (i = 0; i < nargs; i++)
    argv[k++] = args[i];
  /* the caller blocks SIGINT, SIGTERM and SIGHUP until it has cleaned up; SIGCHLD too here */
  sigemptyset (&wait_for);
  sigaddset (&wait_for, SIGINT);
  sigaddset (&wait_for, SIGTERM);
  sigaddset (&wait_for, SIGHUP);
  sigaddset (&wait_for, SIGCHLD);
  sigprocmask (SIG_BLOCK, &wait_for, &old);
  /* an ignored SIGCHLD (inherited) would never be pending, and children be reaped unseen */
  sigaction (SIGCHLD, &(struct sigaction){ .sa_handler = SIG_DFL }, &old_chld);
  keeper = fork ();
  if (keeper < 0)
    {
      sigaction (SIGCHLD, &old_chld, NULL);
      sigprocmask (SIG_SETMASK, &old, NULL);
      return ctr_error (err, errno, "fork");
    }
  if (keeper == 0)
    template_keeper (ctr, tname, path, argv, userns);
  for (i = 0; i < 4; i++)
    if (userns[i] >= 0)
      close (userns[i]);
  for (;;)
    {
      pid_t r = waitpid (keeper, &status, WNOHANG);
      if (r == keeper)
        break;
      if (r < 0 && errno == ECHILD)
        {
          status = 125 << 8; /* cannot be: SIGCHLD is not ignored */
          break;
        }
      if (sigwaitinfo (&wait_for, &si) < 0 || si.si_signo == SIGCHLD)
        continue;
      /* an interrupt: passed on, and the template's end is waited for */
      if (*interrupted == 0)
        kill (keeper, si.si_signo);
      *interrupted = si.si_signo;
    }
  /* SIGCHLD back as it was; the interrupts stay blocked (the caller's) for its cleanup */
  sigaction (SIGCHLD, &old_chld, NULL);
  sigprocmask (SIG_SETMASK, &old, NULL);
  if (*interrupted)
    {
      /* pending again (sigwaitinfo took it): it ends ctr once the caller unblocks it */
      kill (getpid (), *interrupted);
      return ctr_error (err, 0, "template `%s` stopped: %s", tname, strsignal (*interrupted));
    }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status) && WEXITSTATUS (status) > 128)
    return ctr_error (err, 0, "template `%s` was killed by signal %d", tname,
                      WEXITSTATUS (status) - 128);
  return ctr_error (err, 0, "template `%s` failed (exit status %d)", tname,
                    WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
}
