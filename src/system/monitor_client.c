/* monitor_client: the commands that talk to a running monitor: console, console --log, stop. */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "system/monitor.h"
#include "runtime/state.h"
#include "runtime/terminal.h"
#include "base/util.h"

/* Whether the monitor at the other end of fd sits in the freezer (its cgroup, or a parent
   of it, frozen from outside), as its wchan shows; monitor_cgroup_frozen reads its own
   cgroup's state too (v2's trap does not always show). connect() succeeds through the
   backlog, but no request would ever be answered. */
static bool
monitor_frozen (int fd)
{
  struct ucred cred;
  socklen_t len = sizeof cred;
  char path[64], line[64] = "";
  FILE *f;

  if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0)
    return false;
  snprintf (path, sizeof path, "/proc/%d/wchan", (int)cred.pid);
  f = fopen (path, "re");
  if (f == NULL)
    return false;
  if (fgets (line, sizeof line, f) == NULL)
    line[0] = '\0';
  fclose (f);
  /* v1's freezer parks tasks in __refrigerator, v2's in do_freezer_trap */
  return strstr (line, "refrigerator") || strstr (line, "freezer_trap");
}

int
monitor_connect (const struct ctr_context *ctx, const char *name, ctr_error_t *err)
{
  cleanup_close int dfd = -1;
  ctr_error_t missing = NULL;

  if (validate_container_id (name, err) < 0)
    return -1;
  dfd = state_dir_open (container_state_root (ctx), name, &missing);
  if (dfd < 0)
    {
      /* no state directory: the monitor is not running (the store knows the container) */
      if (errno == ENOENT)
        {
          ctr_error_free (&missing);
          return ctr_error (err, 0, "container `%s` is not running", name);
        }
      *err = missing;
      return -1;
    }
  return monitor_connect_at (dfd, name, err);
}

int
monitor_connect_at (int dfd, const char *name, ctr_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int fd = -1;

  /* reached through the checked directory's fd: the path is not walked again */
  snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dfd, MONITOR_SOCKET);
  fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return ctr_error (err, errno, "socket");
  if (connect (fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    {
      if (errno == ENOENT || errno == ECONNREFUSED)
        return ctr_error (err, 0, "container `%s` is not running", name);
      return ctr_error (err, errno, "connect to the monitor of `%s`", name);
    }
  return steal_fd (fd);
}

/* A connection for a request that waits on the answer: refused at once when the monitor
   is frozen (alive all the same: nothing is cleaned up behind it). */
static int
monitor_connect_serving (const struct ctr_context *ctx, const char *name, ctr_error_t *err)
{
  int fd = monitor_connect (ctx, name, err);
  if (fd >= 0 && (monitor_frozen (fd) || monitor_cgroup_frozen (name)))
    {
      close (fd);
      return ctr_error (err, 0,
                        "the monitor of `%s` is frozen (its cgroup `ctr.monitor/%s` or a parent "
                        "was frozen from outside): thaw it first",
                        name, name);
    }
  return fd;
}

static bool
connected (int fd, ctr_error_t *err)
{
  if (fd < 0)
    {
      ctr_error_free (err);
      return false;
    }
  close (fd);
  return true;
}

bool
monitor_alive (const struct ctr_context *ctx, const char *name)
{
  ctr_error_t err = NULL;
  return connected (monitor_connect (ctx, name, &err), &err);
}

bool
monitor_alive_at (int dfd, const char *name)
{
  ctr_error_t err = NULL;
  return connected (monitor_connect_at (dfd, name, &err), &err);
}

static int
request (int fd, char type, const void *data, size_t len, ctr_error_t *err)
{
  char buf[64];
  buf[0] = type;
  memcpy (buf + 1, data, len);
  if (send (fd, buf, len + 1, MSG_NOSIGNAL) < 0)
    return ctr_error (err, errno, "send to monitor");
  return 0;
}

/* One message from the monitor: its type, or 0 when the monitor went away. */
static int
receive (int fd, char *buf, size_t size, ssize_t *len, ctr_error_t *err)
{
  ssize_t n;
  bool reset = false;
  /* a monitor that ends with a request of ours unread resets the connection; for a
     SOCK_SEQPACKET socket the kernel reports that error (once) before the messages it sent
     first, its EXIT among them: those are read after it */
  while ((n = recv (fd, buf, size, 0)) < 0
         && (errno == EINTR || (errno == ECONNRESET && !reset && (reset = true))))
    ;
  if (n < 0)
    return ctr_error (err, errno, "receive from monitor");
  *len = n;
  return n == 0 ? 0 : (unsigned char)buf[0];
}

int
monitor_log (const struct ctr_context *ctx, const char *name, int out, ctr_error_t *err)
{
  cleanup_close int fd = monitor_connect_serving (ctx, name, err);
  char buf[1 + 4096];
  ssize_t len;
  int type;

  if (fd < 0 || request (fd, MON_LOG, NULL, 0, err) < 0)
    return -1;
  while ((type = receive (fd, buf, sizeof buf, &len, err)) == MON_DATA)
    if (write_all (out, buf + 1, len - 1) < 0)
      return ctr_error (err, errno, "write console log");
  return type < 0 ? -1 : 0;
}

int
monitor_exit_decode (const char *buf, size_t n, int32_t *status, int32_t *flags)
{
  *flags = 0;
  if (n < 1 + sizeof *status || buf[0] != MON_EXIT)
    return -1;
  memcpy (status, buf + 1, sizeof *status);
  /* a monitor of the previous release sends the status alone */
  if (n >= 1 + sizeof *status + sizeof *flags)
    memcpy (flags, buf + 1 + sizeof *status, sizeof *flags);
  return 0;
}

/* A pidfd of the monitor at the other end of fd, -1 when there is none. */
static int
monitor_pidfd (int fd)
{
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (fd < 0 || getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0)
    return -1;
  return (int)syscall (SYS_pidfd_open, cred.pid, 0);
}

/* The monitor sends EXIT from the pivot cgroup it left its own for, just before it ends:
   once it has (briefly waited for), the pivot and /ctr.monitor go when nobody else uses
   them. */
static void
tidy_after (int pidfd)
{
  struct pollfd p = { .fd = pidfd, .events = POLLIN };
  if (pidfd < 0)
    return;
  if (poll (&p, 1, 2000) == 1)
    monitor_cgroup_tidy ();
}

int
monitor_stop (const struct ctr_context *ctx, const char *name, int timeout, int *exit_status,
              bool *killed, ctr_error_t *err)
{
  cleanup_close int fd = monitor_connect_serving (ctx, name, err);
  cleanup_close int pidfd = monitor_pidfd (fd);
  int32_t t = timeout, flags = 0;
  char buf[1 + 4096];
  ssize_t len;
  int type;

  /* the monitor kills at the timeout; what is left is its teardown, bounded too */
  struct timeval tv = { .tv_sec = timeout + 60 };

  if (fd < 0 || request (fd, MON_STOP, &t, sizeof t, err) < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while ((type = receive (fd, buf, sizeof buf, &len, err)) > 0 && type != MON_EXIT)
    ;
  if (type < 0 && ((*err)->status == EAGAIN || (*err)->status == EWOULDBLOCK))
    return ctr_error (err, 0, "container `%s` did not stop within %d seconds of its kill", name,
                      60);
  if (type < 0)
    return -1;
  if (type == 0 || monitor_exit_decode (buf, len, &t, &flags) < 0)
    return ctr_error (err, 0, "container `%s`: the monitor went away while stopping", name);
  *exit_status = t;
  *killed = flags & MON_EXIT_KILLED;
  tidy_after (pidfd);
  return 0;
}

struct console
{
  int sock;
  bool tty;
  unsigned char key; /* the escape key (Ctrl-a unless -e): KEY q detaches, KEY KEY sends KEY */
  bool escape;       /* the last key was the escape key */
  bool detach;
};

static void
send_size (struct console *c)
{
  struct winsize ws;
  char buf[1 + sizeof ws];
  if (!c->tty || ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
    return;
  buf[0] = MON_RESIZE;
  memcpy (buf + 1, &ws, sizeof ws);
  send (c->sock, buf, sizeof buf, MSG_NOSIGNAL);
}

/* Forwards keys, watching for KEY q (detach) and KEY KEY (a literal KEY). */
static bool
console_input (struct console *c)
{
  char in[1024], out[1 + 2048];
  size_t n = 1;
  ssize_t r = read (STDIN_FILENO, in, sizeof in);

  if (r < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (r <= 0)
    return false;
  out[0] = MON_DATA;
  for (ssize_t i = 0; i < r; i++)
    {
      unsigned char k = in[i];
      if (c->tty && c->escape)
        {
          c->escape = false;
          if (k == 'q' || k == 'Q')
            {
              c->detach = true;
              break;
            }
          if (k != c->key)
            out[n++] = c->key;
        }
      else if (c->tty && k == c->key)
        {
          c->escape = true;
          continue;
        }
      out[n++] = k;
    }
  if (n > 1)
    send (c->sock, out, n, MSG_NOSIGNAL);
  return true;
}

/* The loop: 1 when the container ended (*exit_status), 0 on detach. Without a terminal on
   stdin, the end of input detaches once the output has been quiet for a moment, unless in
   the foreground (`start -F`), which waits for the end. */
static int
console_loop (struct console *c, int sfd, bool foreground, int *exit_status, ctr_error_t *err)
{
  bool input = true;
  for (;;)
    {
      struct pollfd p[3] = {
        { .fd = c->sock, .events = POLLIN },
        { .fd = input ? STDIN_FILENO : -1, .events = POLLIN },
        { .fd = sfd, .events = POLLIN },
      };
      char buf[1 + 4096];
      ssize_t len;
      int type, r = poll (p, 3, input || foreground ? -1 : 500);

      if (r < 0 && errno != EINTR)
        return ctr_error (err, errno, "poll");
      if (r == 0)
        return 0;
      if (p[2].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          while (read (sfd, &si, sizeof si) == sizeof si)
            send_size (c);
        }
      if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
        {
          input = console_input (c);
          if (c->detach)
            return 0;
        }
      if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      type = receive (c->sock, buf, sizeof buf, &len, err);
      if (type < 0)
        return -1;
      if (type == MON_DATA)
        write_all (STDOUT_FILENO, buf + 1, len - 1);
      else if (type == MON_EXIT && len >= 1 + (ssize_t)sizeof (int32_t))
        {
          int32_t st;
          memcpy (&st, buf + 1, sizeof st);
          *exit_status = st;
          return 1;
        }
      else if (type == 0)
        return ctr_error (err, 0, "the monitor went away");
    }
}

static int console_session (struct console *c, const char *name, bool foreground, int *exit_status,
                            ctr_error_t *err);

int
monitor_console (const struct ctr_context *ctx, const char *name, bool foreground, int escape,
                 int *exit_status, ctr_error_t *err)
{
  struct console c = { .sock = monitor_connect_serving (ctx, name, err),
                       .key = escape > 0 ? (unsigned char)escape : MONITOR_ESCAPE_DEFAULT };

  if (c.sock < 0)
    return -1;
  /* in the foreground the run began before this client: what it printed first comes
     from the monitor's buffer */
  if (request (c.sock, MON_CONSOLE, &(char){ 1 }, foreground ? 1 : 0, err) < 0)
    {
      close (c.sock);
      return -1;
    }
  return console_session (&c, name, foreground, exit_status, err);
}

int
monitor_console_paired (const char *name, int sock, int *exit_status, ctr_error_t *err)
{
  struct console c = { .sock = sock, .key = MONITOR_ESCAPE_DEFAULT };
  return console_session (&c, name, true, exit_status, err);
}

static int
console_session (struct console *c_, const char *name, bool foreground, int *exit_status,
                 ctr_error_t *err)
{
  struct console c = *c_;
  struct terminal_saved saved = { 0 };
  cleanup_close int sfd = -1;
  sigset_t set, old;
  int r;

  c.tty = isatty (STDIN_FILENO);
  sigemptyset (&set);
  sigaddset (&set, SIGWINCH);
  sigprocmask (SIG_BLOCK, &set, &old);
  sfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (c.tty)
    {
      char key[8];
      if (c.key < 0x20)
        snprintf (key, sizeof key, "Ctrl-%c", c.key | 0x60);
      else
        snprintf (key, sizeof key, "%c", c.key);
      fprintf (stderr,
               "Connected to the console of `%s`: type %s q to detach, %s %s for a literal "
               "%s\r\n",
               name, key, key, key, key);
    }
  if (c.tty && terminal_raw (STDIN_FILENO, &saved, err) < 0)
    {
      close (c.sock);
      return -1;
    }
  send_size (&c);
  r = console_loop (&c, sfd, foreground, exit_status, err);
  if (c.tty)
    terminal_restore (&saved);
  sigprocmask (SIG_SETMASK, &old, NULL);
  close (c.sock);
  if (r == 0 && c.tty)
    fprintf (stderr, "\nDetached from `%s`; it keeps running.\n", name);
  return r;
}

int
monitor_parse_escape (const char *text)
{
  unsigned char k;
  if (text[0] == '^' && text[1] && !text[2])
    {
      k = (unsigned char)toupper ((unsigned char)text[1]);
      return k >= '@' && k <= '_' ? k & 0x1f : -1;
    }
  if (!text[0] || text[1])
    return -1;
  k = (unsigned char)text[0];
  return k == 'q' || k == 'Q' ? -1 : k;
}
