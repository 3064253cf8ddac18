/* migrate_wire: the frames of `ctr migrate`, its addresses, and the tar streams it carries
   (Debian's tar makes and unpacks them; this file only moves the bytes). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "base/memory.h"
#include "base/util.h"
#include "system/migrate.h"

int
mig_send (int fd, char type, const void *buf, size_t len, ctr_error_t *err)
{
  unsigned char h[5] = { (unsigned char)type, len >> 24, len >> 16, len >> 8, len };
  if (len > MIG_MAX_FRAME)
    return ctr_error (err, 0, "migrate: a message of %zu bytes is too long", len);
  if (write_all (fd, h, sizeof h) < 0 || (len > 0 && write_all (fd, buf, len) < 0))
    {
      if (errno == EPIPE || errno == ECONNRESET)
        return ctr_error (err, 0, "the other side closed the connection");
      return ctr_error (err, errno, "send to the other side");
    }
  return 0;
}

int
mig_recv (int fd, char *type, char **buf, size_t *len, ctr_error_t *err)
{
  unsigned char h[5];
  ssize_t n = read_all (fd, h, sizeof h);
  size_t l;

  *buf = NULL;
  if (n < 0)
    return ctr_error (err, errno, "receive from the other side");
  if (n < (ssize_t)sizeof h)
    return ctr_error (err, 0, "the other side closed the connection");
  l = ((size_t)h[1] << 24) | ((size_t)h[2] << 16) | ((size_t)h[3] << 8) | h[4];
  if (l > MIG_MAX_FRAME)
    return ctr_error (err, 0, "migrate: a message of %zu bytes: not a ctr migrate peer", l);
  *buf = xmalloc (l + 1);
  n = read_all (fd, *buf, l);
  if (n < 0 || (size_t)n < l)
    {
      free (*buf);
      *buf = NULL;
      return ctr_error (err, n < 0 ? errno : 0, "the other side closed the connection");
    }
  (*buf)[l] = '\0';
  *type = (char)h[0];
  if (len)
    *len = l;
  return 0;
}

int
mig_wait_ok (int fd, const char *what, char **note, ctr_error_t *err)
{
  cleanup_free char *buf = NULL;
  char type;

  if (mig_recv (fd, &type, &buf, NULL, err) < 0)
    return ctr_error_wrap (err, "%s", what);
  if (type == MIG_ERR)
    return ctr_error (err, 0, "%s: the target says: %s", what, buf);
  if (type != MIG_OK)
    return ctr_error (err, 0, "%s: unexpected message '%c' from the target", what, type);
  if (note)
    {
      *note = buf;
      buf = NULL;
    }
  return 0;
}

/* "HOST:PORT" with HOST possibly "[v6]": the two parts (free them). */
static int
split_host_port (const char *s, const char *addr, char **host, char **port, ctr_error_t *err)
{
  const char *colon = strrchr (s, ':');
  if (colon == NULL || colon == s || colon[1] == '\0')
    return ctr_error (err, 0, "migrate: address `%s`: want tcp:HOST:PORT", addr);
  if (s[0] == '[' && colon[-1] == ']')
    *host = xstrndup (s + 1, colon - s - 2);
  else
    *host = xstrndup (s, colon - s);
  *port = xstrdup (colon + 1);
  return 0;
}

static int
tcp_socket (const char *addr, bool listen_, struct addrinfo **res, ctr_error_t *err)
{
  cleanup_free char *host = NULL, *port = NULL;
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = listen_ ? AI_PASSIVE : 0 };
  int r;

  if (split_host_port (addr + 4, addr, &host, &port, err) < 0)
    return -1;
  r = getaddrinfo (host, port, &hints, res);
  if (r != 0)
    return ctr_error (err, 0, "migrate: address `%s`: %s", addr, gai_strerror (r));
  return socket ((*res)->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static int
unix_addr (const char *addr, struct sockaddr_un *sun, ctr_error_t *err)
{
  const char *path = addr + 5;
  memset (sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  if (path[0] == '\0' || strlen (path) >= sizeof sun->sun_path)
    return ctr_error (err, 0, "migrate: address `%s`: want unix:PATH (at most %zu bytes)", addr,
                      sizeof sun->sun_path - 1);
  strcpy (sun->sun_path, path);
  return 0;
}

static int
bad_address (const char *addr, ctr_error_t *err)
{
  return ctr_error (err, 0, "migrate: address `%s`: want unix:PATH, tcp:HOST:PORT or ssh://HOST",
                    addr);
}

/* ssh://[USER@]HOST: HOST goes to ssh(1) as one argument, never as an option. */
static int
ssh_host (const char *dest, ctr_error_t *err)
{
  const char *h = dest + 6;
  if (h[0] == '\0' || h[0] == '-' || h[strcspn (h, "/: \t\n")] != '\0')
    return ctr_error (err, 0, "migrate: address `%s`: want ssh://[USER@]HOST", dest);
  return 0;
}

/* `ssh -T HOST ctr migrate --listen stdio` on the other end of a socket pair. */
static int
ssh_connect (const char *dest, pid_t *child, ctr_error_t *err)
{
  int sv[2];
  pid_t pid;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return ctr_error (err, errno, "migrate: socketpair");
  pid = fork ();
  if (pid < 0)
    {
      close (sv[0]);
      close (sv[1]);
      return ctr_error (err, errno, "migrate: fork ssh");
    }
  if (pid == 0)
    {
      signal (SIGPIPE, SIG_DFL);
      dup2 (sv[1], 0);
      dup2 (sv[1], 1);
      execlp ("ssh", "ssh", "-T", "-o", "BatchMode=yes", "--", dest + 6, "ctr", "migrate",
              "--listen", "stdio", (char *)NULL);
      fprintf (stderr, "ctr: migrate: ssh: %s (install the Debian package openssh-client)\n",
               strerror (errno));
      _exit (127);
    }
  close (sv[1]);
  *child = pid;
  return sv[0];
}

int
mig_check_address (const char *dest, ctr_error_t *err)
{
  cleanup_free char *host = NULL, *port = NULL;
  struct sockaddr_un sun;

  if (strncmp (dest, "unix:", 5) == 0)
    return unix_addr (dest, &sun, err);
  if (strncmp (dest, "tcp:", 4) == 0)
    return split_host_port (dest + 4, dest, &host, &port, err);
  if (strncmp (dest, "ssh://", 6) == 0)
    return ssh_host (dest, err);
  return bad_address (dest, err);
}

int
mig_connect (const char *dest, pid_t *child, ctr_error_t *err)
{
  struct addrinfo *res = NULL;
  struct sockaddr_un sun;
  int fd;

  *child = 0;
  if (strncmp (dest, "ssh://", 6) == 0)
    return ssh_host (dest, err) < 0 ? -1 : ssh_connect (dest, child, err);
  if (strncmp (dest, "unix:", 5) == 0)
    {
      if (unix_addr (dest, &sun, err) < 0)
        return -1;
      return unix_connect (sun.sun_path, "the migration receiver", err);
    }
  if (strncmp (dest, "tcp:", 4) != 0)
    return bad_address (dest, err);
  fd = tcp_socket (dest, false, &res, err);
  if (fd < 0 && res == NULL)
    return -1;
  if (fd < 0 || connect (fd, res->ai_addr, res->ai_addrlen) < 0)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      freeaddrinfo (res);
      return ctr_error (err, e, "migrate: connect to the migration receiver `%s`", dest);
    }
  freeaddrinfo (res);
  return fd;
}

static bool
wildcard (const struct sockaddr *sa)
{
  static const unsigned char any6[16] = { 0 };
  if (sa->sa_family == AF_INET)
    return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == 0;
  return sa->sa_family == AF_INET6
         && memcmp (&((const struct sockaddr_in6 *)sa)->sin6_addr, any6, 16) == 0;
}

static int
listen_tcp (const char *addr, bool insecure, ctr_error_t *err)
{
  struct addrinfo *res = NULL;
  int fd = tcp_socket (addr, true, &res, err), one = 1, e;

  if (fd < 0 && res == NULL)
    return -1;
  if (fd >= 0 && wildcard (res->ai_addr) && !insecure)
    {
      close (fd);
      freeaddrinfo (res);
      return ctr_error (err, 0,
                        "migrate --listen: address `%s` is every interface and the receiver "
                        "authenticates nobody: name a trusted address (or --insecure-listen)",
                        addr);
    }
  if (fd >= 0)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind (fd, res->ai_addr, res->ai_addrlen) < 0 || listen (fd, 1) < 0)
    {
      e = errno;
      if (fd >= 0)
        close (fd);
      freeaddrinfo (res);
      return ctr_error (err, e, "migrate --listen: `%s`", addr);
    }
  freeaddrinfo (res);
  return fd;
}

int
mig_listen (const char *addr, bool insecure, char **unix_path, ctr_error_t *err)
{
  struct sockaddr_un sun;
  mode_t old;
  int fd, r;

  *unix_path = NULL;
  if (strncmp (addr, "tcp:", 4) == 0)
    return listen_tcp (addr, insecure, err);
  if (strncmp (addr, "unix:", 5) != 0)
    return ctr_error (
        err, 0, "migrate --listen: address `%s`: want unix:PATH, tcp:HOST:PORT or stdio", addr);
  if (unix_addr (addr, &sun, err) < 0)
    return -1;
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return ctr_error (err, errno, "migrate --listen: socket");
  /* 0600 from the start: no moment at which another user could connect */
  old = umask (0177);
  r = bind (fd, (struct sockaddr *)&sun, sizeof sun);
  umask (old);
  if (r < 0 || listen (fd, 1) < 0)
    {
      int e = errno;
      close (fd);
      return ctr_error (err, e, "migrate --listen: `%s`", sun.sun_path);
    }
  *unix_path = xstrdup (sun.sun_path);
  return fd;
}

/* tar with its stdin or stdout (which) a pipe: the pid, *pipe_fd our end. */
static pid_t
spawn_tar (char *const *args, bool input, int *pipe_fd, ctr_error_t *err)
{
  cleanup_strv char **argv = NULL;
  size_t n = 0;
  int p[2];
  pid_t pid;

  while (args[n])
    n++;
  argv = xzalloc ((n + 2) * sizeof *argv);
  argv[0] = xstrdup ("tar");
  for (size_t i = 0; i < n; i++)
    argv[i + 1] = xstrdup (args[i]);
  if (pipe2 (p, O_CLOEXEC) < 0)
    return ctr_error (err, errno, "migrate: pipe");
  pid = fork ();
  if (pid < 0)
    return ctr_error (err, errno, "migrate: fork tar");
  if (pid == 0)
    {
      signal (SIGPIPE, SIG_DFL);
      dup2 (input ? p[0] : p[1], input ? 0 : 1);
      execvp ("tar", argv);
      fprintf (stderr, "ctr: migrate: tar: %s (install the Debian package tar)\n",
               strerror (errno));
      _exit (127);
    }
  close (input ? p[0] : p[1]);
  *pipe_fd = input ? p[1] : p[0];
  return pid;
}

static int
wait_tar (pid_t pid, const char *what, ctr_error_t *err)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return ctr_error (err, errno, "migrate: wait for tar");
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  return ctr_error (err, 0, "migrate: tar %s failed (exit %d; its message is above)", what,
                    wait_status_code (status));
}

int
mig_send_tar (int fd, char *const *args, uint64_t *bytes, ctr_error_t *err)
{
  cleanup_free char *buf = xmalloc (MIG_MAX_FRAME);
  cleanup_close int out = -1;
  ssize_t n;
  pid_t pid = spawn_tar (args, false, &out, err);

  *bytes = 0;
  if (pid < 0)
    return -1;
  while ((n = read (out, buf, MIG_MAX_FRAME)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || mig_send (fd, MIG_DATA, buf, n, err) < 0)
        {
          if (n < 0)
            ctr_error (err, errno, "migrate: read from tar");
          kill (pid, SIGKILL);
          waitpid (pid, NULL, 0);
          return -1;
        }
      *bytes += n;
    }
  if (wait_tar (pid, "-c", err) < 0)
    return -1;
  return mig_send (fd, MIG_END, NULL, 0, err);
}

/* Copies MIG_DATA frames into tar's stdin until MIG_END. */
static int
feed_tar (int fd, int in, ctr_error_t *err)
{
  for (;;)
    {
      cleanup_free char *buf = NULL;
      size_t len;
      char type;
      if (mig_recv (fd, &type, &buf, &len, err) < 0)
        return -1;
      if (type == MIG_END)
        return 0;
      if (type != MIG_DATA)
        return ctr_error (err, 0, "migrate: unexpected message '%c' inside a tar stream", type);
      if (write_all (in, buf, len) < 0)
        return ctr_error (err, errno, "migrate: write to tar -x");
    }
}

int
mig_recv_tar (int fd, const char *dir, char *const *extra, ctr_error_t *err)
{
  char *args[16] = { "-x", "-f", "-", "-C", (char *)dir, "--numeric-owner", "--xattrs", NULL };
  size_t n = 7;
  int in = -1, r;
  pid_t pid;

  for (size_t i = 0; extra && extra[i] && n < ARRAY_SIZE (args) - 1; i++)
    args[n++] = extra[i];
  args[n] = NULL;
  pid = spawn_tar (args, true, &in, err);
  if (pid < 0)
    return -1;
  r = feed_tar (fd, in, err);
  close (in);
  if (r < 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return -1;
    }
  return wait_tar (pid, "-x", err);
}
