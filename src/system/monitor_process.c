/* monitor_process: the monitor process of a system container: spawn, event loop, teardown. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "namespaces/namespaces.h"
#include "rootfs/lxcfs.h"
#include "system/ephemeral.h"
#include "system/pool_volume.h"
#include "system/monitor.h"
#include "cgroups/cgroup.h"
#include "base/json.h"
#include "base/log.h"
#include "runtime/state.h"
#include "system/store.h"
#include "base/util.h"

#define MAX_CLIENTS 32
/* A guest that reboots more than REBOOT_BURST times within REBOOT_INTERVAL_S seconds is
   stopped instead of booted again (systemd's StartLimitBurst / StartLimitIntervalSec). */
#define REBOOT_BURST 5
#define REBOOT_INTERVAL_S 60

enum client_role
{
  ROLE_NEW,
  ROLE_CONSOLE,
  ROLE_STOP,
};

struct client
{
  int fd;
  enum client_role role;
};

struct monitor
{
  const struct monitor_config *cfg;
  pid_t pid;
  int pidfd, master, listen_fd, sig_fd, peer;
  bool master_open;
  /* console ring buffer */
  char *ring;
  size_t ring_start, ring_len;
  struct client clients[MAX_CLIENTS];
  size_t n_clients;
  /* stop in progress: the deadline after which everything is killed (0: none) */
  uint64_t kill_at;
  bool killed;
  bool signal_due;            /* the stop signal waits for init to catch or block it */
  uint64_t signal_hold_until; /* ... or until then, and then it goes anyway */
  struct cgroup *own;         /* the monitor's own cgroup (NULL: its caller's) */
  /* the start's pipe, until init is through its early setup (-1: reported) */
  int ready_fd;
  uint64_t ready_by;
  uint64_t takes_signal_at; /* when init was first seen taking its stop signal (0: not yet) */
  /* init has a pid namespace of its own: its reboot(2) ends it with SIGHUP or SIGINT */
  bool own_pidns;
  /* boots after the first (guest reboots), and when the last REBOOT_BURST of them began */
  unsigned restarts;
  uint64_t reboot_at[REBOOT_BURST];
  /* the container is already deleted (a reboot that failed half-way) */
  bool gone;
};

static void
ring_append (struct monitor *m, const char *data, size_t len)
{
  if (len >= MONITOR_LOG_SIZE)
    {
      data += len - MONITOR_LOG_SIZE;
      len = MONITOR_LOG_SIZE;
    }
  for (size_t i = 0; i < len; i++)
    {
      size_t pos = (m->ring_start + m->ring_len) % MONITOR_LOG_SIZE;
      m->ring[pos] = data[i];
      if (m->ring_len < MONITOR_LOG_SIZE)
        m->ring_len++;
      else
        m->ring_start = (m->ring_start + 1) % MONITOR_LOG_SIZE;
    }
}

/* The ring in order, as one or two pieces. */
static size_t
ring_pieces (const struct monitor *m, const char **p1, size_t *l1, const char **p2, size_t *l2)
{
  size_t first = MONITOR_LOG_SIZE - m->ring_start;
  *p1 = m->ring + m->ring_start;
  *l1 = m->ring_len < first ? m->ring_len : first;
  *p2 = m->ring;
  *l2 = m->ring_len - *l1;
  return m->ring_len;
}

static int
send_msg (int fd, char type, const void *data, size_t len)
{
  char buf[1 + 4096];
  if (len > sizeof buf - 1)
    len = sizeof buf - 1;
  buf[0] = type;
  if (len)
    memcpy (buf + 1, data, len);
  return send (fd, buf, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -1 : 0;
}

static void
send_chunks (int fd, char type, const char *data, size_t len, int flags)
{
  while (len > 0)
    {
      char buf[1 + 4096];
      size_t n = len < 4096 ? len : 4096;
      buf[0] = type;
      memcpy (buf + 1, data, n);
      if (send (fd, buf, n + 1, MSG_NOSIGNAL | flags) < 0)
        return;
      data += n;
      len -= n;
    }
}

static void
client_drop (struct monitor *m, size_t i)
{
  close (m->clients[i].fd);
  m->clients[i] = m->clients[--m->n_clients];
}

static void
console_output (struct monitor *m)
{
  char buf[4096];
  ssize_t n = read (m->master, buf, sizeof buf);
  if (n <= 0)
    {
      /* EIO: no process holds the terminal now; init's exit arrives through the pidfd */
      if (n == 0 || (errno != EINTR && errno != EAGAIN))
        m->master_open = false;
      return;
    }
  ring_append (m, buf, n);
  for (size_t i = 0; i < m->n_clients; i++)
    if (m->clients[i].role == ROLE_CONSOLE)
      send_msg (m->clients[i].fd, MON_DATA, buf, n); /* a slow reader loses output */
}

/* Whether init catches or blocks SIG. The kernel drops a signal whose action is the
   default when it is sent to a namespace's init: one sent before init set up its handlers
   (right after start) would be lost, and the stop would wait out its timeout and kill.
   SigBlk does not show a mask that sigtimedwait() lifted while it sleeps (busybox init,
   ctr-init): a process asleep there counts as blocking. Unknown: true, the signal goes. */
static bool
init_takes_signal (pid_t pid, int sig)
{
  char path[64], line[128];
  bool takes = false, known = false;
  FILE *f;

  snprintf (path, sizeof path, "/proc/%d/status", (int)pid);
  f = fopen (path, "re");
  if (f == NULL)
    return true;
  while (fgets (line, sizeof line, f))
    if (strncmp (line, "SigBlk:", 7) == 0 || strncmp (line, "SigCgt:", 7) == 0)
      {
        unsigned long long mask = strtoull (line + 7, NULL, 16);
        known = true;
        takes |= (mask >> (sig - 1)) & 1;
      }
  fclose (f);
  if (takes || !known)
    return true;
  snprintf (path, sizeof path, "/proc/%d/wchan", (int)pid);
  f = fopen (path, "re");
  if (f == NULL)
    return false;
  takes = fgets (line, sizeof line, f) && strstr (line, "sigtimedwait");
  fclose (f);
  return takes;
}

/* Sends the stop signal once init takes it, or after a grace of STOP_SIGNAL_HOLD_NS (an
   init that never will is killed at the deadline all the same). */
#define STOP_SIGNAL_HOLD_NS 3000000000ull
static void
stop_signal (struct monitor *m)
{
  ctr_error_t err = NULL;
  uint64_t now = now_ns ();
  if (!m->signal_due || m->killed)
    return;
  if (!init_takes_signal (m->pid, m->cfg->stop_signal) && now < m->signal_hold_until
      && now < m->kill_at)
    return;
  m->signal_due = false;
  if (container_kill (m->cfg->ctx, m->cfg->name, m->cfg->stop_signal, false, &err) < 0)
    ctr_error_print (&err);
}

static void
begin_stop (struct monitor *m, int timeout)
{
  uint64_t at = now_ns () + (uint64_t)timeout * 1000000000ull;
  ctr_log_debug ("monitor of `%s`: stop: signal %d, SIGKILL after %d s", m->cfg->name,
                 m->cfg->stop_signal, timeout);
  if (timeout == 0 || m->kill_at == 0 || at < m->kill_at)
    m->kill_at = at ? at : 1;
  m->signal_due = timeout > 0;
  m->signal_hold_until = now_ns () + STOP_SIGNAL_HOLD_NS;
  stop_signal (m);
}

static void
stop_deadline (struct monitor *m)
{
  ctr_error_t err = NULL;
  if (m->kill_at == 0 || m->killed || now_ns () < m->kill_at)
    return;
  m->killed = true;
  ctr_log_debug ("monitor of `%s`: stop timeout: SIGKILL to every process", m->cfg->name);
  if (container_kill (m->cfg->ctx, m->cfg->name, SIGKILL, true, &err) < 0)
    ctr_error_print (&err);
}

static void report_ready (int fd, ctr_error_t *err);
static int monitor_setup (struct monitor *m, ctr_error_t *err);

/* Whether init has started a child yet (/proc/PID/task/PID/children; unknown: true). */
static bool
init_has_children (pid_t pid)
{
  char path[64], c;
  cleanup_close int fd = -1;
  snprintf (path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  return fd < 0 || read (fd, &c, 1) != 0;
}

/* `ctr start` hears "running" once init is through its early setup: it has started a child
   (busybox runs its rcS, sysvinit its rc, systemd its generators: the first thing after its
   manager is made), or it has taken its stop signal (set up its handlers) and lived on for
   BOOT_SETTLE_NS since: systemd sets up its signals before its cgroups, and one that cannot
   make its cgroup (an unprivileged user's without a delegated one) ends right after. Or
   after the same grace as the stop signal's. An init that ends before is reported with its
   last console lines instead (boot_failed). */
#define BOOT_SETTLE_NS 1000000000ull
static void
boot_report (struct monitor *m)
{
  uint64_t now = now_ns ();
  if (m->ready_fd < 0)
    return;
  if (now < m->ready_by && !init_has_children (m->pid))
    {
      if (!init_takes_signal (m->pid, m->cfg->stop_signal))
        return;
      if (m->takes_signal_at == 0)
        m->takes_signal_at = now;
      if (now - m->takes_signal_at < BOOT_SETTLE_NS)
        return;
    }
  report_ready (m->ready_fd, NULL);
  m->ready_fd = -1;
}

/* The last lines of the console, escape sequences and carriage returns left out. */
static char *
console_tail (const struct monitor *m, int lines)
{
  const char *p1, *p2;
  size_t l1, l2, n = ring_pieces (m, &p1, &l1, &p2, &l2), i, o = 0, start;
  cleanup_free char *all = xmalloc (n + 1);
  char *out = xmalloc (n + 1);
  bool esc = false;

  memcpy (all, p1, l1);
  memcpy (all + l1, p2, l2);
  for (i = 0; i < n; i++)
    {
      char c = all[i];
      if (c == '\033')
        esc = true;
      else if (esc)
        esc = !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'));
      else if (c != '\r' && (c == '\n' || c == '\t' || (unsigned char)c >= ' '))
        out[o++] = c;
    }
  while (o > 0 && out[o - 1] == '\n')
    o--;
  out[o] = '\0';
  for (start = o; start > 0; start--)
    if (out[start - 1] == '\n' && --lines == 0)
      break;
  memmove (out, out + start, o - start + 1);
  return out;
}

static void
boot_failed (struct monitor *m, int code)
{
  cleanup_free char *tail = console_tail (m, 10);
  ctr_error_t err = NULL;
  ctr_error (&err, 0, "container `%s`: init exited with status %d while it booted%s%s",
             m->cfg->name, code, *tail ? "; the console's last lines:\n" : "", tail);
  report_ready (m->ready_fd, &err);
  ctr_error_free (&err);
  m->ready_fd = -1;
}

int
monitor_request_decode (const char *buf, size_t n, struct monitor_request *req)
{
  memset (req, 0, sizeof *req);
  if (n < 1)
    return -1;
  req->type = buf[0];
  switch (buf[0])
    {
    case MON_CONSOLE:
      req->replay = n >= 2 && buf[1] == 1;
      return 1;
    case MON_LOG:
      return 1;
    case MON_DATA:
      req->data = buf + 1;
      req->len = n - 1;
      return 1;
    case MON_RESIZE:
      if (n != 1 + sizeof req->ws)
        return 0;
      memcpy (&req->ws, buf + 1, sizeof req->ws);
      return 1;
    case MON_STOP:
      if (n != 1 + sizeof req->timeout)
        return 0;
      memcpy (&req->timeout, buf + 1, sizeof req->timeout);
      if (req->timeout < 0)
        req->timeout = 0;
      return 1;
    default:
      return -1;
    }
}

static void
client_request (struct monitor *m, size_t i)
{
  struct client *c = &m->clients[i];
  char buf[1 + 4096];
  ssize_t n = recv (c->fd, buf, sizeof buf, MSG_DONTWAIT);
  struct monitor_request req;
  const char *p1, *p2;
  size_t l1, l2;
  int r;

  if (n <= 0)
    {
      if (n == 0 || (errno != EAGAIN && errno != EINTR))
        client_drop (m, i);
      return;
    }
  r = monitor_request_decode (buf, n, &req);
  if (r < 0)
    client_drop (m, i);
  if (r <= 0)
    return;
  switch (req.type)
    {
    case MON_CONSOLE:
      /* one step, as nothing else runs here: no output falls between replay and live */
      if (req.replay)
        {
          ring_pieces (m, &p1, &l1, &p2, &l2);
          send_chunks (c->fd, MON_DATA, p1, l1, 0);
          send_chunks (c->fd, MON_DATA, p2, l2, 0);
        }
      c->role = ROLE_CONSOLE;
      break;
    case MON_DATA:
      if (c->role == ROLE_CONSOLE && m->master_open)
        write_all (m->master, req.data, req.len);
      break;
    case MON_RESIZE:
      if (c->role == ROLE_CONSOLE)
        ioctl (m->master, TIOCSWINSZ, &req.ws);
      break;
    case MON_LOG:
      ring_pieces (m, &p1, &l1, &p2, &l2);
      send_chunks (c->fd, MON_DATA, p1, l1, 0);
      send_chunks (c->fd, MON_DATA, p2, l2, 0);
      send_msg (c->fd, MON_END, NULL, 0);
      client_drop (m, i);
      break;
    case MON_STOP:
      c->role = ROLE_STOP;
      begin_stop (m, req.timeout);
      break;
    }
}

/* Only root and the monitor's own user may talk to it (DESIGN.md §4 rule 9). */
static void
client_accept (struct monitor *m)
{
  struct ucred cred;
  socklen_t len = sizeof cred;
  int fd = accept4 (m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0)
    return;
  if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0
      || (cred.uid != 0 && cred.uid != geteuid ()) || m->n_clients == MAX_CLIENTS)
    {
      close (fd);
      return;
    }
  m->clients[m->n_clients++] = (struct client){ .fd = fd, .role = ROLE_NEW };
}

/* The store keeps what survives the container: its console output and how it ended. */
static void
save_exit (struct monitor *m, int code)
{
  ctr_error_t err = NULL;
  struct store_meta meta;
  const char *p1, *p2;
  size_t l1, l2;
  int fd;

  ring_pieces (m, &p1, &l1, &p2, &l2);
  fd = openat (m->cfg->store_fd, STORE_CONSOLE_LOG, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0)
    {
      write_all (fd, p1, l1);
      write_all (fd, p2, l2);
      close (fd);
    }
  if (store_lock (m->cfg->store_fd, &err) < 0
      || store_meta_read (m->cfg->store_fd, m->cfg->name, &meta, &err) < 0)
    {
      ctr_error_print (&err);
      return;
    }
  meta.has_last_exit = true;
  meta.last_exit = code;
  free (meta.last_exit_time);
  meta.last_exit_time = rfc3339_now ();
  if (store_meta_write (m->cfg->store_fd, &meta, &err) < 0)
    ctr_error_print (&err);
  store_meta_clear (&meta);
  flock (m->cfg->store_fd, LOCK_UN);
}

static void
teardown (struct monitor *m, int code)
{
  ctr_error_t err = NULL;
  int32_t reply[2] = { code, m->killed ? MON_EXIT_KILLED : 0 };

  ctr_log_debug ("monitor of `%s`: init ended (%d): removing network, cgroup and state",
                 m->cfg->name, code);
  /* the store says how it ended before the state directory goes: whoever sees the
     container stopped also sees its last exit */
  save_exit (m, code);
  if (!m->gone)
    {
      monitor_net_down (m->cfg->name, m->cfg->networks);
      if (container_delete (m->cfg->ctx, m->cfg->name, true, &err) < 0)
        ctr_error_print (&err);
    }
  /* gone before anyone hears of the end: after `stop`, nothing of the container is left */
  monitor_cgroup_leave (m->own);
  m->own = NULL;
  if (m->cfg->ended)
    m->cfg->ended (m->cfg);
  for (size_t i = 0; i < m->n_clients; i++)
    {
      int fl = fcntl (m->clients[i].fd, F_GETFL);
      fcntl (m->clients[i].fd, F_SETFL, fl & ~O_NONBLOCK);
      send_msg (m->clients[i].fd, MON_EXIT, reply, sizeof reply);
      /* what the client sent last (a window size, keys) is read first: a close with it
         unread would reset the connection */
      {
        char sink[4096];
        fcntl (m->clients[i].fd, F_SETFL, fl | O_NONBLOCK);
        while (recv (m->clients[i].fd, sink, sizeof sink, 0) > 0)
          ;
      }
      close (m->clients[i].fd);
    }
  m->n_clients = 0;
}

/* The status recorded for init's end. reboot(2) in init's own pid namespace ends init with
   SIGINT for power-off and halt (kernel/pid_namespace.c, reboot_pid_ns): a clean shutdown,
   0, as of a machine that powered off. No other SIGINT can end a namespace's init: the
   kernel drops a default-action signal sent to it. */
static int
exit_code (const struct monitor *m, int status)
{
  if (status < 0)
    return 255;
  if (m->own_pidns && status == SIGINT)
    return 0;
  return wait_status_code (status);
}

/* reboot(2) with LINUX_REBOOT_CMD_RESTART in init's own pid namespace ends init with SIGHUP.
   A stop under way wins: the container then stays down. */
static bool
reboot_requested (const struct monitor *m, int status)
{
  return m->own_pidns && status == SIGHUP && m->kill_at == 0;
}

/* Whether this reboot is one too many: REBOOT_BURST of them began within the last
   REBOOT_INTERVAL_S seconds. Otherwise its time is kept for the next ones. */
static bool
reboot_limited (struct monitor *m)
{
  uint64_t now = now_ns (), *slot = &m->reboot_at[m->restarts % REBOOT_BURST];
  if (m->restarts >= REBOOT_BURST && now - *slot < REBOOT_INTERVAL_S * 1000000000ull)
    return true;
  *slot = now;
  return false;
}

/* The guest rebooted: the run is torn down as at a stop (network, cgroup, state directory
   with the socket and monitor.json) and the container created and started again from its
   definition, with a new init. The console's clients, the console log and the monitor's
   cgroup stay. On failure the container is down (m->gone). */
static int
monitor_reboot (struct monitor *m, ctr_error_t *err)
{
  const struct monitor_config *cfg = m->cfg;
  ctr_error_t e2 = NULL;
  int r;

  fprintf (stderr, "ctr: container `%s`: init rebooted: starting it again (restart %u)\n",
           cfg->name, m->restarts + 1);
  /* start, stop and destroy read the status under the store lock, ls and info see the
     marker: none of them takes it for stopped while it is down */
  if (store_lock (cfg->store_fd, err) < 0)
    return -1;
  {
    char pid[32];
    int n = snprintf (pid, sizeof pid, "%d\n", (int)getpid ());
    if (write_file_atomic_at (cfg->store_fd, STORE_REBOOTING, pid, n, 0600, err) < 0)
      {
        flock (cfg->store_fd, LOCK_UN);
        return -1;
      }
  }
  monitor_net_down (cfg->name, cfg->networks);
  if (container_delete (cfg->ctx, cfg->name, true, &e2) < 0)
    ctr_error_print (&e2);
  close (m->pidfd);
  if (m->master >= 0)
    close (m->master);
  if (m->peer >= 0)
    close (m->peer);
  if (m->listen_fd >= 0)
    close (m->listen_fd);
  m->pidfd = m->master = m->peer = m->listen_fd = -1;
  m->master_open = false;
  m->pid = 0;
  m->restarts++;
  if (m->ready_fd >= 0 && m->cfg->report_boot)
    m->ready_by = now_ns () + STOP_SIGNAL_HOLD_NS;
  m->takes_signal_at = 0;
  r = monitor_setup (m, err);
  unlinkat (cfg->store_fd, STORE_REBOOTING, 0);
  flock (cfg->store_fd, LOCK_UN);
  if (r < 0)
    m->gone = true;
  return r;
}

static void
on_signal (struct monitor *m)
{
  struct signalfd_siginfo si;
  while (read (m->sig_fd, &si, sizeof si) == sizeof si)
    if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
      begin_stop (m, m->cfg->stop_timeout);
}

/* Polls until init is gone; returns its wait status. */
static int
event_loop (struct monitor *m)
{
  for (;;)
    {
      struct pollfd p[4 + MAX_CLIENTS];
      size_t n = 0, i, nc = m->n_clients;
      int timeout = -1;
      siginfo_t si = { 0 };

      p[n++] = (struct pollfd){ .fd = m->pidfd, .events = POLLIN };
      p[n++] = (struct pollfd){ .fd = m->listen_fd, .events = POLLIN };
      p[n++] = (struct pollfd){ .fd = m->sig_fd, .events = POLLIN };
      p[n++] = (struct pollfd){ .fd = m->master_open ? m->master : -1, .events = POLLIN };
      for (i = 0; i < nc; i++)
        p[n++] = (struct pollfd){ .fd = m->clients[i].fd, .events = POLLIN };
      if (m->kill_at && !m->killed)
        {
          uint64_t now = now_ns ();
          timeout = m->kill_at > now ? (int)((m->kill_at - now) / 1000000 + 1) : 0;
          if (m->signal_due && timeout > 20)
            timeout = 20; /* init is still setting up its handlers */
        }
      if (m->ready_fd >= 0 && (timeout < 0 || timeout > 20))
        timeout = 20; /* the start waits for init to set up its handlers */
      if (poll (p, n, timeout) < 0 && errno != EINTR)
        return -1;
      stop_signal (m);
      stop_deadline (m);
      if (p[3].revents & (POLLIN | POLLHUP | POLLERR))
        console_output (m);
      if (p[2].revents & POLLIN)
        on_signal (m);
      if (p[1].revents & POLLIN)
        client_accept (m);
      /* backwards: client_drop moves the last client into the freed slot */
      for (i = nc; i-- > 0;)
        if (p[4 + i].revents)
          client_request (m, i);
      if ((p[0].revents & POLLIN) && waitid (P_PIDFD, m->pidfd, &si, WEXITED | WNOHANG) == 0
          && si.si_pid != 0)
        {
          /* the console's last words */
          while (m->master_open && poll (&p[3], 1, 0) > 0)
            console_output (m);
          if (si.si_code == CLD_EXITED)
            return si.si_status << 8;
          return si.si_status & 0x7f;
        }
      boot_report (m);
    }
}

static int
listen_socket (const struct monitor_config *cfg, ctr_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  const char *root = container_state_root (cfg->ctx);
  cleanup_close int fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  cleanup_close int dfd = state_dir_open (root, cfg->name, err);

  if (dfd < 0)
    return -1;
  if (fd < 0)
    return ctr_error (err, errno, "monitor socket");
  /* bound through the checked directory's fd: the path is not walked again */
  snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dfd, MONITOR_SOCKET);
  unlinkat (dfd, MONITOR_SOCKET, 0);
  if (bind (fd, (struct sockaddr *)&addr, sizeof addr) < 0
      || fchmodat (dfd, MONITOR_SOCKET, 0600, 0) < 0 || listen (fd, 16) < 0)
    return ctr_error (err, errno, "monitor socket `%s/%s/%s`", root, cfg->name, MONITOR_SOCKET);
  return steal_fd (fd);
}

static int
write_info (const struct monitor_config *cfg, pid_t pid, char **addresses, unsigned restarts,
            ctr_error_t *err)
{
  cleanup_free char *text = NULL, *started = rfc3339_now ();
  cleanup_close int dfd = state_dir_open (container_state_root (cfg->ctx), cfg->name, err);
  json_writer *w = json_writer_new (false);
  size_t len;

  json_map_open (w);
  json_kv_int (w, "monitor_pid", getpid ());
  json_kv_int (w, "pid", pid);
  json_kv_string (w, "started", started);
  json_kv_int (w, "started_ns", (int64_t)now_ns ());
  json_kv_int (w, "restarts", restarts);
  json_kv_strv (w, "addresses", addresses);
  json_map_close (w);
  text = json_writer_finish (w, &len);
  if (dfd < 0)
    return -1;
  return write_file_atomic_at (dfd, MONITOR_INFO, text, len, 0600, err);
}

/* Whether pid shares the monitor's pid namespace (unknown: true, no reboot is assumed).
   /proc/PID/status's NSpid (one id per namespace level from ours down) is readable while
   init is not dumpable (rootless), which /proc/PID/ns/pid is not. */
static bool
same_pid_namespace (pid_t pid)
{
  char path[64], line[256];
  struct stat a, b;
  bool found = false, same = true;
  FILE *f;

  snprintf (path, sizeof path, "/proc/%d/status", (int)pid);
  if ((f = fopen (path, "re")) != NULL)
    {
      while (!found && fgets (line, sizeof line, f))
        if (strncmp (line, "NSpid:", 6) == 0)
          {
            char *save = NULL;
            int levels = 0;
            for (char *t = strtok_r (line + 6, " \t\n", &save); t;
                 t = strtok_r (NULL, " \t\n", &save))
              levels++;
            found = levels > 0;
            same = levels <= 1;
          }
      fclose (f);
    }
  if (found)
    return same;
  snprintf (path, sizeof path, "/proc/%d/ns/pid", (int)pid);
  if (stat (path, &a) < 0 || stat ("/proc/self/ns/pid", &b) < 0)
    return true;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Create → network → socket → start. On failure everything made so far is undone. */
static int
monitor_setup (struct monitor *m, ctr_error_t *err)
{
  const struct monitor_config *cfg = m->cfg;
  cleanup_close int netns = -1, userns = -1, mntns = -1;
  struct container_create_options opts = { .bundle = cfg->bundle,
                                           .console_master = &m->master,
                                           .pid_out = &m->pid,
                                           .netns_fd_out = &netns,
                                           .userns_fd_out = &userns };
  cleanup_strv char **addresses = NULL, **lxcfs = NULL;
  /* an unprivileged container's ephemeral run: its root is idmapped already (its layers) */
  cleanup_free char *run_config = ephemeral_run_config (cfg->store_fd);
  bool restored = cfg->restore && m->restarts == 0;

  ctr_log_debug ("monitor of `%s`: %s the container from %s", cfg->name,
                 restored ? "restoring" : "creating", restored ? cfg->restore->dir : cfg->bundle);
  if (!restored && lxcfs_container_binds (cfg->lxcfs, &lxcfs, err) < 0)
    return ctr_error_wrap (err, "container `%s`", cfg->name);
  opts.ro_binds = lxcfs;
  /* rootless, /etc/hosts is written inside the container's own mount namespace */
  opts.mntns_fd_out = is_rootless () ? &mntns : NULL;
  /* rootless, an overlay volume is mounted by the container itself (pool_volume_start) */
  opts.config_file = run_config ? run_config : pool_volume_run_config (cfg->store_fd);
  if (restored ? monitor_restore (cfg, &m->pid, &m->master, &addresses, err) < 0
               : container_create (cfg->ctx, cfg->name, &opts, err) < 0)
    return -1;
  ctr_log_debug ("monitor of `%s`: init is pid %d, waiting to start", cfg->name, m->pid);
  m->pidfd = syscall (SYS_pidfd_open, m->pid, 0);
  if (m->pidfd < 0)
    {
      ctr_error (err, errno, "pidfd_open %d", m->pid);
      goto fail;
    }
  m->own_pidns = !same_pid_namespace (m->pid);
  m->master_open = m->master >= 0;
  if (m->master >= 0)
    {
      fcntl (m->master, F_SETFL, fcntl (m->master, F_GETFL) | O_NONBLOCK);
      /* sysvinit closes /dev/console between writes: a slave of our own keeps the master
         from hanging up meanwhile (init's end comes through the pidfd) */
      m->peer = ioctl (m->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    }
  if (!restored && monitor_net_up (cfg, m->pid, netns, userns, mntns, &addresses, err) < 0)
    goto fail;
  m->listen_fd = listen_socket (cfg, err);
  if (m->listen_fd < 0 || write_info (cfg, m->pid, addresses, m->restarts, err) < 0)
    goto fail;
  if (!restored && container_start (cfg->ctx, cfg->name, err) < 0)
    goto fail;
  ctr_log_debug ("monitor of `%s`: started%s%s", cfg->name,
                 addresses && addresses[0] ? ", at " : "",
                 addresses && addresses[0] ? addresses[0] : "");
  return 0;
fail:
  {
    ctr_error_t e2 = NULL;
    monitor_net_down (cfg->name, cfg->networks);
    if (container_delete (cfg->ctx, cfg->name, true, &e2) < 0)
      ctr_error_free (&e2);
    return -1;
  }
}

static void
report_ready (int fd, ctr_error_t *err)
{
  if (err == NULL || *err == NULL)
    write_all (fd, "O", 1);
  else
    {
      cleanup_free char *msg = ctr_error_string (*err);
      write_all (fd, "E", 1);
      write_all (fd, msg, strlen (msg));
    }
  close (fd);
}

/* A monitor lives on after its caller: it keeps none of the caller's files but the two it
   needs (the container's own setup never sees them either: they close on exec). */
static int
compare_int (const void *a, const void *b)
{
  return *(const int *)a - *(const int *)b;
}

/* Closes every fd from 3 up but those in keep (-1 entries are ignored). */
static void
close_other_fds (int *keep, size_t n)
{
  unsigned next = 3;
  qsort (keep, n, sizeof *keep, compare_int);
  for (size_t i = 0; i < n; i++)
    if (keep[i] >= (int)next)
      {
        if ((unsigned)keep[i] > next)
          syscall (SYS_close_range, next, keep[i] - 1, 0);
        next = keep[i] + 1;
      }
  syscall (SYS_close_range, next, ~0U, 0);
  ns_procfs_forget ();
}

/* start -F's end of the pair: a console client from before init runs (monitor_config) */
static void
add_console_client (struct monitor *m)
{
  int fd = m->cfg->console_client, fl;
  if (fd < 0)
    return;
  fl = fcntl (fd, F_GETFL);
  fcntl (fd, F_SETFL, fl | O_NONBLOCK);
  m->clients[m->n_clients++] = (struct client){ .fd = fd, .role = ROLE_CONSOLE };
}

/* The monitor process: never returns. */
static void __attribute__ ((noreturn))
monitor_main (const struct monitor_config *cfg, int ready, struct cgroup *own)
{
  struct monitor m = {
    .cfg = cfg, .pidfd = -1, .master = -1, .listen_fd = -1, .peer = -1, .own = own, .ready_fd = -1
  };
  ctr_error_t err = NULL;
  sigset_t set;
  int status, nul;

  prctl (PR_SET_NAME, "ctr-monitor");
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  {
    /* the --log file stays: the monitor's work is logged where its caller's is; its own
       cgroup's fd too, or cgroup_free would close whatever took that number meanwhile */
    int keep[] = { ready, cfg->store_fd, ctr_log_fd (), cgroup_v2_fd (own), cfg->console_client };
    close_other_fds (keep, ARRAY_SIZE (keep));
  }
  /* a monitor holds no terminal and none of its caller's files; its own errors go to the
     store's monitor.log */
  nul = open ("/dev/null", O_RDWR | O_CLOEXEC);
  dup2 (nul, 0);
  dup2 (nul, 1);
  close (nul);
  nul = openat (cfg->store_fd, "monitor.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (nul >= 0)
    {
      dup2 (nul, 2);
      close (nul);
    }
  sigemptyset (&set);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGHUP);
  sigaddset (&set, SIGPIPE);
  sigaddset (&set, SIGCHLD);
  sigprocmask (SIG_BLOCK, &set, NULL);
  m.sig_fd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  m.ring = xmalloc (MONITOR_LOG_SIZE);
  add_console_client (&m);
  if (monitor_setup (&m, &err) < 0)
    {
      report_ready (ready, &err);
      monitor_cgroup_leave (own);
      _exit (1);
    }
  /* what the start parsed and the setup built is freed by now: give the pages back, as the
     monitor idles for the container's whole life (one per container, bench/scale.sh) */
  malloc_trim (0);
  m.ready_fd = ready;
  m.ready_by = cfg->report_boot ? now_ns () + STOP_SIGNAL_HOLD_NS : 0;
  /* the store lock the start took is shared with us (one open file): let go of it here as
     the start does, also when the start was killed meanwhile and never will */
  flock (cfg->store_fd, LOCK_UN);
  boot_report (&m);
  for (;;)
    {
      status = event_loop (&m);
      if (!reboot_requested (&m, status))
        break;
      if (reboot_limited (&m))
        {
          ctr_log_warning ("container `%s` rebooted more than %d times within %d s: "
                           "left stopped; `ctr start %s` boots it again",
                           cfg->name, REBOOT_BURST, REBOOT_INTERVAL_S, cfg->name);
          break;
        }
      if (monitor_reboot (&m, &err) < 0)
        {
          ctr_error_wrap (&err, "container `%s`: reboot", cfg->name);
          ctr_error_print (&err);
          break;
        }
    }
  teardown (&m, exit_code (&m, status));
  /* after the teardown: a start that hears of the failure can start again at once */
  if (m.ready_fd >= 0)
    boot_failed (&m, exit_code (&m, status));
  _exit (0);
}

pid_t
monitor_spawn (const struct monitor_config *cfg, ctr_error_t *err)
{
  int fds[2];
  pid_t pid, monitor_pid = 0;
  char buf[4096];
  ssize_t n, len = 0;
  int status;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return ctr_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return ctr_error (err, errno, "fork monitor");
    }
  if (pid == 0)
    {
      /* detach: a new session, a cgroup of its own (its warnings still reach the caller),
         and a grandchild so that the caller need not reap it */
      struct cgroup *own;
      close (fds[0]);
      setsid ();
      own = monitor_cgroup_enter (cfg->name);
      pid = fork ();
      if (pid != 0)
        _exit (pid < 0);
      pid = getpid ();
      write_all (fds[1], &pid, sizeof pid);
      monitor_main (cfg, fds[1], own);
    }
  close (fds[1]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (read_all (fds[0], &monitor_pid, sizeof monitor_pid) != sizeof monitor_pid)
    {
      close (fds[0]);
      return ctr_error (err, 0, "container `%s`: the monitor could not be started", cfg->name);
    }
  while ((n = read (fds[0], buf + len, sizeof buf - 1 - len)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      len += n;
  close (fds[0]);
  buf[len] = '\0';
  if (len > 0 && buf[0] == 'O')
    return monitor_pid;
  if (len > 1 && buf[0] == 'E')
    return ctr_error_set_raw (err, 0, buf + 1);
  return ctr_error (err, 0, "container `%s`: the monitor exited before the container started",
                    cfg->name);
}
