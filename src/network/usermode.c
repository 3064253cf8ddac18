/* network/usermode: user-mode networking through a helper process (slirp4netns or pasta). */
#include <config.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "network/network.h"
#include "base/util.h"

/* The fds the helper finds at fixed numbers (named as /proc/self/fd/N in its arguments,
   so it opens the namespaces itself without ptrace access to the container's processes,
   which pasta, once it dropped its capabilities, would not have as root). */
enum
{
  FD_NETNS = 3,
  FD_USERNS = 4,
  FD_READY = 5,
  FD_EXIT = 6,
  FD_APIDIR = 7,
  FD_COUNT = 8,
};

#define SLIRP_ADDRESS "10.0.2.100"
#define SLIRP_DNS "10.0.2.3"
/* pasta forwards DNS queries sent to this address to the host's resolver */
#define PASTA_DNS "169.254.1.1"
#define API_SOCKET "slirp4netns.sock"
#define READY_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 1000
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

bool
network_is_usermode (const char *network)
{
  return network
         && (strcmp (network, "user") == 0 || strcmp (network, "pasta") == 0
             || strcmp (network, "slirp4netns") == 0);
}

static char *
find_program (const char *name)
{
  const char *path = getenv ("PATH");
  if (path == NULL || *path == '\0')
    path = DEFAULT_PATH;
  while (*path)
    {
      size_t len = strcspn (path, ":");
      char *f = xasprintf ("%.*s/%s", (int)len, len ? path : ".", name);
      if (access (f, X_OK) == 0)
        return f;
      free (f);
      path += len + (path[len] == ':');
    }
  return NULL;
}

/* The helper's program path and name for a network name. */
static int
resolve_helper (const char *network, char **program, const char **helper, ctr_error_t *err)
{
  bool any = strcmp (network, "user") == 0;
  if (any || strcmp (network, "pasta") == 0)
    {
      *helper = "pasta";
      if ((*program = find_program ("pasta")) != NULL)
        return 0;
      if (!any)
        return ctr_error (err, 0, "pasta not found in PATH: install the Debian package passt");
    }
  *helper = "slirp4netns";
  if ((*program = find_program ("slirp4netns")) != NULL)
    return 0;
  if (!any)
    return ctr_error (err, 0,
                      "slirp4netns not found in PATH: install the Debian package slirp4netns");
  return ctr_error (err, 0,
                    "neither pasta nor slirp4netns found in PATH: install the Debian package "
                    "passt or slirp4netns");
}

static void
argv_push (char ***argv, size_t *n, char *arg)
{
  *argv = xrealloc (*argv, (*n + 2) * sizeof **argv);
  (*argv)[(*n)++] = arg;
  (*argv)[*n] = NULL;
}

static char **
slirp_argv (const char *program, const struct network_usermode_request *req, bool ports)
{
  char **argv = NULL;
  size_t n = 0;
  argv_push (&argv, &n, xstrdup (program));
  /* the container reaches the host through its other addresses, never its loopback
     (CVE-2020-8558 class; podman's default too) */
  argv_push (&argv, &n, xstrdup ("--configure"));
  argv_push (&argv, &n, xstrdup ("--mtu=65520"));
  argv_push (&argv, &n, xstrdup ("--disable-host-loopback"));
  /* its sandbox (a mount namespace and pivot_root of its own) needs root of the user
     namespace it runs in: an unprivileged caller gets the seccomp filter only */
  if (geteuid () == 0)
    argv_push (&argv, &n, xstrdup ("--enable-sandbox"));
  argv_push (&argv, &n, xstrdup ("--enable-seccomp"));
  argv_push (&argv, &n, xasprintf ("--exit-fd=%d", FD_EXIT));
  argv_push (&argv, &n, xasprintf ("--ready-fd=%d", FD_READY));
  if (ports)
    argv_push (&argv, &n, xasprintf ("--api-socket=/proc/self/fd/%d/%s", FD_APIDIR, API_SOCKET));
  if (req->userns_fd >= 0)
    argv_push (&argv, &n, xasprintf ("--userns-path=/proc/self/fd/%d", FD_USERNS));
  argv_push (&argv, &n, xstrdup ("--netns-type=path"));
  argv_push (&argv, &n, xasprintf ("/proc/self/fd/%d", FD_NETNS));
  argv_push (&argv, &n, xstrdup ("eth0"));
  return argv;
}

/* pasta's -t/-u SPEC for one port: [ADDR/]HOSTPORT:PORT. */
static char *
pasta_port_spec (const struct network_port *p)
{
  if (p->host_ip)
    return xasprintf ("%s/%u:%u", p->host_ip, p->host_port, p->port);
  return xasprintf ("%u:%u", p->host_port, p->port);
}

static char **
pasta_argv (const char *program, const struct network_usermode_request *req,
            const struct network_port *ports, size_t n_ports)
{
  char **argv = NULL;
  size_t n = 0;
  bool tcp = false, udp = false;
  argv_push (&argv, &n, xstrdup (program));
  argv_push (&argv, &n, xstrdup ("--foreground"));
  argv_push (&argv, &n, xstrdup ("--quiet"));
  /* pasta drops root to nobody, who cannot join a root-owned namespace */
  if (geteuid () == 0)
    {
      argv_push (&argv, &n, xstrdup ("--runas"));
      argv_push (&argv, &n, xstrdup ("0"));
    }
  argv_push (&argv, &n, xstrdup ("--config-net"));
  argv_push (&argv, &n, xstrdup ("--ns-ifname"));
  argv_push (&argv, &n, xstrdup ("eth0"));
  /* no path to the host's loopback: not through the gateway address, not by ports bound
     on the host's loopback (-T/-U), and no port of the container is published unless
     asked (-t/-u default to "auto") */
  argv_push (&argv, &n, xstrdup ("--no-map-gw"));
  argv_push (&argv, &n, xstrdup ("--dns-forward"));
  argv_push (&argv, &n, xstrdup (PASTA_DNS));
  for (const char *o = "TU"; *o; o++)
    {
      argv_push (&argv, &n, xasprintf ("-%c", *o));
      argv_push (&argv, &n, xstrdup ("none"));
    }
  for (size_t i = 0; i < n_ports; i++)
    {
      bool is_udp = ports[i].proto == IPPROTO_UDP;
      argv_push (&argv, &n, xstrdup (is_udp ? "-u" : "-t"));
      argv_push (&argv, &n, pasta_port_spec (&ports[i]));
      *(is_udp ? &udp : &tcp) = true;
    }
  if (!tcp)
    argv_push (&argv, &n, xstrdup ("-t")), argv_push (&argv, &n, xstrdup ("none"));
  if (!udp)
    argv_push (&argv, &n, xstrdup ("-u")), argv_push (&argv, &n, xstrdup ("none"));
  /* it writes its pid once the namespace is configured and its ports are bound */
  argv_push (&argv, &n, xstrdup ("--pid"));
  argv_push (&argv, &n, xasprintf ("/proc/self/fd/%d", FD_READY));
  if (req->userns_fd >= 0)
    {
      argv_push (&argv, &n, xstrdup ("--userns"));
      argv_push (&argv, &n, xasprintf ("/proc/self/fd/%d", FD_USERNS));
    }
  argv_push (&argv, &n, xstrdup ("--netns"));
  argv_push (&argv, &n, xasprintf ("/proc/self/fd/%d", FD_NETNS));
  return argv;
}

/* In the child: only async-signal-safe calls. src[i] goes to fd i (-1: closed). */
static void __attribute__ ((noreturn))
exec_helper (char **argv, const int src[FD_COUNT], pid_t parent)
{
  int moved[FD_COUNT];
  sigset_t none;
  struct sigaction dfl = { .sa_handler = SIG_DFL };

  /* the helper lives as long as its owner; a new session keeps the terminal's Ctrl-C,
     meant for the container, away from it */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != parent)
    _exit (127);
  setsid ();
  for (int s = 1; s < NSIG; s++)
    sigaction (s, &dfl, NULL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int i = 0; i < FD_COUNT; i++)
    moved[i] = src[i] >= 0 ? fcntl (src[i], F_DUPFD_CLOEXEC, 100) : -1;
  for (int i = 0; i < FD_COUNT; i++)
    {
      if (moved[i] >= 0)
        {
          if (dup2 (moved[i], i) < 0)
            _exit (127);
        }
      else if (i > 2)
        close (i);
    }
  /* nothing of the owner's beyond what it was given (DESIGN.md §4 rule 2) */
  syscall (SYS_close_range, FD_COUNT, ~0U, 0);
  execv (argv[0], argv);
  _exit (127);
}

/* The helper's last words (stderr went to a memfd): its last meaningful line. */
static char *
helper_message (int logfd)
{
  char buf[4096];
  off_t size = lseek (logfd, 0, SEEK_END);
  off_t from = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
  ssize_t n = pread (logfd, buf, sizeof buf - 1, from);
  char *line, *save = NULL, *last = NULL;
  if (n <= 0)
    return NULL;
  buf[n] = '\0';
  for (line = strtok_r (buf, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    /* pasta without a syslog says so before each message */
    if (*line && strncmp (line, "Failed to send", 14) != 0)
      last = line;
  return last ? xstrdup (last) : NULL;
}

static void
reap (struct network_usermode *u, int timeout_ms)
{
  siginfo_t si;
  struct pollfd p = { .fd = u->pidfd, .events = POLLIN };
  if (u->pid <= 0)
    return;
  if (poll (&p, 1, timeout_ms) <= 0)
    syscall (SYS_pidfd_send_signal, u->pidfd, SIGKILL, NULL, 0);
  while (waitid (P_PIDFD, u->pidfd, &si, WEXITED) < 0 && errno == EINTR)
    ;
  u->pid = 0;
}

void
network_usermode_stop (struct network_usermode *u)
{
  if (u->exit_fd >= 0)
    close (u->exit_fd); /* slirp4netns: its signal to leave */
  u->exit_fd = -1;
  if (u->pid > 0)
    {
      syscall (SYS_pidfd_send_signal, u->pidfd, SIGTERM, NULL, 0);
      reap (u, STOP_TIMEOUT_MS);
    }
  if (u->pidfd >= 0)
    close (u->pidfd);
  u->pidfd = -1;
  free (u->address);
  free (u->resolv_conf);
  u->address = u->resolv_conf = NULL;
}

/* Waits for the helper's first word on the ready pipe; its exit before that is the error. */
static int
wait_ready (struct network_usermode *u, int ready, int logfd, ctr_error_t *err)
{
  struct pollfd p = { .fd = ready, .events = POLLIN };
  char c;
  int r = poll (&p, 1, READY_TIMEOUT_MS);
  ssize_t n = r > 0 ? read (ready, &c, 1) : -1;
  cleanup_free char *msg = NULL;
  siginfo_t si = { 0 };

  if (n == 1)
    return 0;
  if (r == 0)
    {
      network_usermode_stop (u);
      return ctr_error (err, ETIMEDOUT, "%s: not ready after %d s", u->helper,
                        READY_TIMEOUT_MS / 1000);
    }
  while (waitid (P_PIDFD, u->pidfd, &si, WEXITED) < 0 && errno == EINTR)
    ;
  u->pid = 0;
  msg = helper_message (logfd);
  network_usermode_stop (u);
  if (msg)
    return ctr_error (err, 0, "%s: %s", u->helper, msg);
  return ctr_error (err, 0, "%s exited with status %d before the network was ready", u->helper,
                    si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status);
}

/* One request on slirp4netns's API socket (one connection each); the reply names an error. */
static int
slirp_add_port (int api_dirfd, const struct network_port *p, ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("/proc/self/fd/%d/%s", api_dirfd, API_SOCKET);
  cleanup_free char *req = xasprintf (
      "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"%s\", \"host_addr\": "
      "\"%s\", \"host_port\": %u, \"guest_addr\": \"" SLIRP_ADDRESS "\", \"guest_port\": %u}}",
      p->proto == IPPROTO_UDP ? "udp" : "tcp", p->host_ip ? p->host_ip : "0.0.0.0", p->host_port,
      p->port);
  char reply[1024];
  ssize_t n, len = 0;
  const char *desc;
  cleanup_close int fd = unix_connect (path, "slirp4netns API socket", err);

  if (fd < 0)
    return -1;
  if (write_all (fd, req, strlen (req)) < 0 || shutdown (fd, SHUT_WR) < 0)
    return ctr_error (err, errno, "slirp4netns API socket");
  while ((n = read (fd, reply + len, sizeof reply - 1 - len)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      len += n;
  reply[len] = '\0';
  if (strstr (reply, "\"return\""))
    return 0;
  desc = strstr (reply, "\"desc\"");
  if (desc && (desc = strchr (desc + 6, '"')) != NULL)
    return ctr_error (err, 0, "publish %u:%u: slirp4netns: %.*s", p->host_port, p->port,
                      (int)strcspn (desc + 1, "\""), desc + 1);
  return ctr_error (err, 0, "publish %u:%u: slirp4netns: %s", p->host_port, p->port,
                    len ? reply : "no reply");
}

/* pasta gives the container the address of the host's interface with the default route. */
static char *
host_default_address (void)
{
  cleanup_file FILE *f = fopen ("/proc/net/route", "re");
  char line[256], ifname[IF_NAMESIZE + 1] = "";
  unsigned long dst;
  struct ifaddrs *ifa = NULL;
  char *out = NULL;

  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "%16s %lx", ifname, &dst) == 2 && dst == 0)
      break;
    else
      ifname[0] = '\0';
  if (ifname[0] == '\0' || getifaddrs (&ifa) < 0)
    return NULL;
  for (struct ifaddrs *a = ifa; a && out == NULL; a = a->ifa_next)
    if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET && a->ifa_netmask
        && strcmp (a->ifa_name, ifname) == 0)
      {
        char buf[INET_ADDRSTRLEN];
        struct in_addr in = ((struct sockaddr_in *)(void *)a->ifa_addr)->sin_addr;
        uint32_t mask = ntohl (((struct sockaddr_in *)(void *)a->ifa_netmask)->sin_addr.s_addr);
        inet_ntop (AF_INET, &in, buf, sizeof buf);
        out = xasprintf ("%s/%d", buf, __builtin_popcount (mask));
      }
  freeifaddrs (ifa);
  return out;
}

/* The host's resolv.conf without its nameservers (search, options), after ours. */
static char *
resolv_conf_for (const char *nameserver)
{
  cleanup_free char *host = network_resolv_conf ();
  size_t len = strlen (nameserver) + 16 + (host ? strlen (host) : 0);
  char *out = xmalloc (len), *p = out;
  p += sprintf (p, "nameserver %s\n", nameserver);
  for (char *line = host, *next; line && *line; line = next)
    {
      size_t l = strcspn (line, "\n");
      next = line + l + (line[l] == '\n');
      if (strncmp (line, "nameserver", 10) != 0 && l > 0)
        p += sprintf (p, "%.*s\n", (int)l, line);
    }
  return out;
}

/* Forks and execs the helper with its fds in place; *ready is the read end of FD_READY. */
static int
spawn_helper (struct network_usermode *u, char **argv, const struct network_usermode_request *req,
              bool slirp, int logfd, int *ready, ctr_error_t *err)
{
  int rp[2], ep[2] = { -1, -1 }, src[FD_COUNT], nul;
  pid_t parent = getpid ();

  if (pipe2 (rp, O_CLOEXEC) < 0 || (slirp && pipe2 (ep, O_CLOEXEC) < 0))
    return ctr_error (err, errno, "pipe");
  nul = open ("/dev/null", O_RDWR | O_CLOEXEC);
  src[0] = src[1] = nul;
  src[2] = logfd;
  src[FD_NETNS] = req->netns_fd;
  src[FD_USERNS] = req->userns_fd;
  src[FD_READY] = rp[1];
  src[FD_EXIT] = ep[0];
  src[FD_APIDIR] = slirp ? req->api_dirfd : -1;
  u->pid = fork ();
  if (u->pid == 0)
    exec_helper (argv, src, parent);
  close (rp[1]);
  if (ep[0] >= 0)
    close (ep[0]);
  if (nul >= 0)
    close (nul);
  *ready = rp[0];
  u->exit_fd = ep[1];
  if (u->pid < 0)
    {
      u->pid = 0;
      return ctr_error (err, errno, "fork %s", u->helper);
    }
  u->pidfd = syscall (SYS_pidfd_open, u->pid, 0);
  if (u->pidfd < 0)
    {
      ctr_error (err, errno, "pidfd_open %s", u->helper);
      kill (u->pid, SIGKILL);
      waitpid (u->pid, NULL, 0);
      u->pid = 0;
      return -1;
    }
  return 0;
}

static int
usermode_start (const struct network_usermode_request *req, struct network_usermode *u,
                const struct network_port *ports, size_t n_ports, ctr_error_t *err)
{
  cleanup_free char *program = NULL;
  cleanup_strv char **argv = NULL;
  cleanup_close int logfd = -1, ready = -1;
  bool slirp, api = false;

  if (resolve_helper (req->network, &program, &u->helper, err) < 0)
    return -1;
  /* the helper opens the tun device as its caller: a bare "Failed to open tun socket" from
     it would not say that the device's mode is at fault */
  if (access ("/dev/net/tun", R_OK | W_OK) < 0)
    return ctr_error (err, errno,
                      "%s needs /dev/net/tun (udev makes it mode 0666 on Debian; as root: "
                      "chmod 0666 /dev/net/tun)",
                      u->helper);
  slirp = strcmp (u->helper, "slirp4netns") == 0;
  if (slirp && n_ports > 0)
    {
      if (req->api_dirfd < 0)
        return ctr_error (err, EINVAL, "publish: slirp4netns needs a directory for its socket");
      api = true;
      unlinkat (req->api_dirfd, API_SOCKET, 0);
    }
  argv = slirp ? slirp_argv (program, req, api) : pasta_argv (program, req, ports, n_ports);
  logfd = memfd_create ("ctr-usermode-stderr", MFD_CLOEXEC);
  if (logfd < 0)
    return ctr_error (err, errno, "memfd_create");
  if (spawn_helper (u, argv, req, slirp, logfd, &ready, err) < 0
      || wait_ready (u, ready, logfd, err) < 0)
    return -1;
  for (size_t i = 0; api && i < n_ports; i++)
    if (slirp_add_port (req->api_dirfd, &ports[i], err) < 0)
      {
        unlinkat (req->api_dirfd, API_SOCKET, 0);
        network_usermode_stop (u);
        return -1;
      }
  /* the socket is only needed while ports are added: nothing is left to find later */
  if (api)
    unlinkat (req->api_dirfd, API_SOCKET, 0);
  /* its later diagnostics land in a hole of a sparse memfd rather than in memory */
  if (ftruncate (logfd, 0) < 0)
    errno = 0; /* only memory is at stake */
  u->address = slirp ? xstrdup (SLIRP_ADDRESS "/24") : host_default_address ();
  u->resolv_conf = resolv_conf_for (slirp ? SLIRP_DNS : PASTA_DNS);
  return 0;
}

int
network_usermode_start (const struct network_usermode_request *req, struct network_usermode *out,
                        ctr_error_t *err)
{
  struct network_port *ports = NULL;
  size_t n_ports = 0;
  int r = -1;

  *out = (struct network_usermode){ .pidfd = -1, .exit_fd = -1 };
  if (network_parse_ports (req->publish, &ports, &n_ports, err) == 0)
    r = usermode_start (req, out, ports, n_ports, err);
  network_ports_free (ports, n_ports);
  if (r < 0)
    network_usermode_stop (out);
  return r < 0 ? ctr_error_wrap (err, "net `%s`", req->network) : 0;
}
