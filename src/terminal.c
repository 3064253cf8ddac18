/* terminal: container ptys, console-socket hand-over, raw mode and window sizes. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "terminal.h"
#include "util.h"

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

int
terminal_make_controlling (int slave, ctr_error_t *err)
{
  int i;
  if (setsid () < 0)
    return ctr_error (err, errno, "setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return ctr_error (err, errno, "set controlling terminal");
  for (i = 0; i < 3; i++)
    if (dup2 (slave, i) < 0)
      return ctr_error (err, errno, "dup2 terminal to fd %d", i);
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
  if (ioctl (from, TIOCGWINSZ, &ws) == 0)
    ioctl (to, TIOCSWINSZ, &ws);
}

int
terminal_send_to_socket (const char *path, int fd, ctr_error_t *err)
{
  cleanup_close int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  char name[] = "/dev/ptmx";
  struct iovec iov = { name, sizeof name - 1 };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } ctl;
  struct msghdr mh = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf
  };
  struct cmsghdr *c;

  if (sock < 0)
    return ctr_error (err, errno, "console socket");
  if (strlen (path) >= sizeof addr.sun_path)
    return ctr_error (err, ENAMETOOLONG, "console socket `%s`", path);
  strcpy (addr.sun_path, path);
  if (connect (sock, (struct sockaddr *)&addr, sizeof addr) < 0)
    return ctr_error (err, errno, "connect to console socket `%s`", path);
  memset (&ctl, 0, sizeof ctl);
  c = CMSG_FIRSTHDR (&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &fd, sizeof (int));
  while (sendmsg (sock, &mh, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return ctr_error (err, errno, "send terminal to console socket `%s`", path);
  return 0;
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
