/* terminal: container ptys, console-socket hand-over, raw mode and window sizes. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/terminal.h"
#include "base/util.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO ('T', 0x41)
#endif

int
terminal_open_pty (int *master, int *slave, ctr_error_t *err)
{
  cleanup_close int m = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  int s;

  if (m < 0)
    return ctr_error (err, errno, "open /dev/ptmx");
  if (unlockpt (m) < 0)
    return ctr_error (err, errno, "unlockpt");
  /* TIOCGPTPEER opens the peer without a path lookup: no race with a swapped /dev/pts */
  s = ioctl (m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0)
    return ctr_error (err, errno, "open pty peer");
  *master = steal_fd (m);
  *slave = s;
  return 0;
}

/* True when this process has a controlling terminal. */
static bool
has_ctty (void)
{
  int fd = open ("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return errno != ENXIO;
  close (fd);
  return true;
}

static int
dup_stdio (int slave, ctr_error_t *err)
{
  int i;
  for (i = 0; i < 3; i++)
    if (dup2 (slave, i) < 0)
      return ctr_error (err, errno, "dup2 terminal to fd %d", i);
  return 0;
}

int
terminal_make_console (int slave, ctr_error_t *err)
{
  /* Not a session leader: such a process never acquires a terminal by opening it, and
     sysvinit opens /dev/console without O_NOCTTY before its own setsid(). A caller's
     controlling terminal must not reach the container (TIOCSTI); the caller's process
     group neither (kill(0, ...) in the container would reach it): the parent put this
     process in a group of its own making (terminal_group_make). */
  if (has_ctty () && setsid () < 0)
    return ctr_error (err, errno, "setsid");
  return dup_stdio (slave, err);
}

pid_t
terminal_group_make (ctr_error_t *err)
{
  siginfo_t si;
  pid_t maker = fork ();

  if (maker < 0)
    return ctr_error (err, errno, "fork");
  if (maker == 0)
    _exit (setpgid (0, 0) < 0 ? 1 : 0);
  memset (&si, 0, sizeof si);
  /* exited but not reaped: its group lives on */
  while (waitid (P_PID, maker, &si, WEXITED | WNOWAIT) < 0)
    if (errno != EINTR)
      {
        int e = errno;
        waitpid (maker, NULL, 0);
        return ctr_error (err, e, "wait for the console's process group");
      }
  return maker;
}

int
terminal_group_join (pid_t child, pid_t maker, ctr_error_t *err)
{
  /* a maker that could not make it has no group of its own: joining it fails too */
  int r = child > 0 && setpgid (child, maker) < 0
              ? ctr_error (err, errno, "new process group for the console's init")
              : 0;
  while (waitpid (maker, NULL, 0) < 0 && errno == EINTR)
    ;
  return r;
}

int
terminal_make_controlling (int slave, ctr_error_t *err)
{
  if (setsid () < 0)
    return ctr_error (err, errno, "setsid");
  if (dup_stdio (slave, err) < 0)
    return -1;
  if (ioctl (0, TIOCSCTTY, 0) < 0)
    return ctr_error (err, errno, "set controlling terminal");
  return 0;
}

int
terminal_set_size (int fd, unsigned rows, unsigned cols, ctr_error_t *err)
{
  struct winsize ws = { .ws_row = rows, .ws_col = cols };
  if (ioctl (fd, TIOCSWINSZ, &ws) < 0)
    return ctr_error (err, errno, "set terminal size");
  return 0;
}

void
terminal_copy_size (int from, int to)
{
  struct winsize ws;
  /* a terminal that knows no size (0x0: script's, a serial line) would erase the one the
     pty has, process.consoleSize's among them */
  if (ioctl (from, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
    ioctl (to, TIOCSWINSZ, &ws);
}

int
terminal_connect_console_socket (const char *path, ctr_error_t *err)
{
  struct stat st;
  if (stat (path, &st) < 0)
    return ctr_error (err, errno, "--console-socket `%s`", path);
  if (!S_ISSOCK (st.st_mode))
    return ctr_error (err, 0, "--console-socket `%s`: not a socket", path);
  return unix_connect (path, "console socket", err);
}

int
terminal_send_to_connected (int sock, const char *path, int fd, ctr_error_t *err)
{
  static const char name[] = "/dev/ptmx";
  if (unix_send_fd (sock, name, sizeof name - 1, fd) < 0)
    return ctr_error (err, errno, "send terminal to console socket `%s`", path);
  return 0;
}

int
terminal_send_to_socket (const char *path, int fd, ctr_error_t *err)
{
  cleanup_close int sock = terminal_connect_console_socket (path, err);
  if (sock < 0)
    return -1;
  return terminal_send_to_connected (sock, path, fd, err);
}

int
terminal_raw (int fd, struct terminal_saved *saved, ctr_error_t *err)
{
  struct termios raw;
  saved->active = false;
  saved->fd = fd;
  if (!isatty (fd))
    return 0;
  if (tcgetattr (fd, &saved->tio) < 0)
    return ctr_error (err, errno, "tcgetattr");
  raw = saved->tio;
  /* fully raw, output too: the container's own pty already turns \n into \r\n */
  cfmakeraw (&raw);
  if (tcsetattr (fd, TCSANOW, &raw) < 0)
    return ctr_error (err, errno, "tcsetattr");
  saved->active = true;
  return 0;
}

void
terminal_restore (struct terminal_saved *saved)
{
  if (saved->active)
    tcsetattr (saved->fd, TCSANOW, &saved->tio);
  saved->active = false;
}

void
terminal_plain_newlines_unless_tty (int master)
{
  struct termios t;
  if (isatty (STDOUT_FILENO) || tcgetattr (master, &t) < 0)
    return;
  t.c_oflag &= ~ONLCR;
  tcsetattr (master, TCSANOW, &t);
}
