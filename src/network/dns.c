/* network/dns: one dnsmasq per bridge network, answering for its containers by name. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "network/network-internal.h"
#include "cgroups/cgroup.h"
#include "base/owned_dir.h"
#include "base/util.h"

/* Where dnsmasq reads its hosts: it drops root for its own user, which cannot enter ctr's
   0700 run directory, so the names live apart, one directory per bridge (bridge names are
   unique on the host, whatever CTR_NETWORK_ROOT says). Names and addresses are no secret:
   anyone on the host can ask the server. */
#define DNS_ROOT "/run/ctr-dns"
/* Each server runs in a cgroup of its own: out of the cgroup of whoever attached the first
   container (a monitor takes its cgroup with it), and killed whole when the network has no
   container left, whatever its pid file says. */
#define DNS_CGROUP "ctr.dns"
#define HOSTS_FILE "hosts"
#define HOSTS_TMP ".hosts.tmp" /* dnsmasq skips dot files in --hostsdir */
/* --dhcp-hostsdir: a directory of its own under the hosts one (dnsmasq reads only regular
   files of --hostsdir), holding HOSTS_FILE with one MAC,ADDRESS line per container */
#define DHCP_DIR "dhcp"
#define MAX_UPSTREAMS 8

static char *
find_dnsmasq (void)
{
  static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/local/sbin" };
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
    {
      char *p = xasprintf ("%s/dnsmasq", dirs[i]);
      if (access (p, X_OK) == 0)
        return p;
      free (p);
    }
  return NULL;
}

static char *
pid_path (const char *name)
{
  return xasprintf ("%s/%s.dnsmasq.pid", network_run_dir (), name);
}

/* The DHCP lease file of dnsmasq: opened before it drops root, so in the 0700 run dir. */
static char *
dhcp_leases_path (const char *name)
{
  return xasprintf ("%s/%s.dhcp-leases", network_run_dir (), name);
}

static char *
cgroup_path_of (const struct network_def *def)
{
  return xasprintf ("/" DNS_CGROUP "/%s", def->bridge);
}

/* A DNS name dnsmasq takes: letters, digits, '-' and '_' in dot-separated labels. */
static bool
dns_name_ok (const char *s)
{
  size_t label = 0;
  if (*s == '\0' || strlen (s) > 253)
    return false;
  for (; *s; s++)
    {
      if (*s == '.')
        {
          if (label == 0)
            return false;
          label = 0;
          continue;
        }
      if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
            || *s == '-' || *s == '_')
          || ++label > 63)
        return false;
    }
  return label > 0;
}

/* The pid the pid file names, when that process is this network's dnsmasq (in its cgroup);
   else 0. */
static pid_t
running_pid (const struct network_def *def)
{
  cleanup_free char *path = pid_path (def->name), *text = NULL, *cg = NULL, *want = NULL;
  cleanup_free char *comm = NULL;
  ctr_error_t ignored = NULL;
  size_t len;
  int64_t pid;

  if (read_file_at (AT_FDCWD, path, 64, &text, &len, &ignored) < 0)
    {
      ctr_error_free (&ignored);
      return 0;
    }
  text[strcspn (text, "\n")] = '\0';
  if (parse_int64 (text, &pid) < 0 || pid <= 0 || pid > INT32_MAX)
    return 0;
  {
    cleanup_free char *p = xasprintf ("/proc/%d/cgroup", (int)pid);
    cleanup_free char *c = xasprintf ("/proc/%d/stat", (int)pid);
    if (read_file_at (AT_FDCWD, p, 64 * 1024, &cg, &len, &ignored) < 0
        || read_file_at (AT_FDCWD, c, 4096, &comm, &len, &ignored) < 0)
      {
        ctr_error_free (&ignored);
        return 0;
      }
  }
  {
    cleanup_free char *cgp = cgroup_path_of (def);
    want = xasprintf (":%s\n", cgp);
  }
  /* "PID (dnsmasq) S ...": dnsmasq, and not a zombie */
  {
    const char *close_paren = strrchr (comm, ')');
    if (strstr (cg, want) == NULL || strstr (comm, "(dnsmasq)") == NULL || close_paren == NULL
        || close_paren[1] != ' ' || close_paren[2] == 'Z')
      return 0;
  }
  return (pid_t)pid;
}

/* The DNS directory of a bridge: made (0755 in a 0755 root of root's) when create is set;
   -1 with ENOENT in err when missing. */
static int
open_dns_dir_once (const struct network_def *def, bool create, ctr_error_t *err)
{
  cleanup_close int root = -1;
  cleanup_free char *path = xasprintf (DNS_ROOT "/%s", def->bridge);

  root = owned_dir_open (DNS_ROOT, "DNS directory",
                         create ? OWNED_DIR_CREATE : OWNED_DIR_MISSING_OK, err);
  if (root == OWNED_DIR_MISSING)
    return ctr_error (err, ENOENT, "`%s` does not exist", DNS_ROOT);
  if (root < 0)
    return -1;
  if (create
      && (fchmod (root, 0755) < 0 || (mkdirat (root, def->bridge, 0755) < 0 && errno != EEXIST)))
    return ctr_error (err, errno, "make `%s`", path);
  {
    int fd = owned_subdir_open (root, def->bridge, path, "DNS directory", err);
    if (fd >= 0 && create && fchmod (fd, 0755) < 0)
      {
        close (fd);
        return ctr_error (err, errno, "chmod `%s`", path);
      }
    return fd;
  }
}

/* Again when DNS_ROOT went between its open and the mkdir in it: the last server of
   another network removes it when it stops. */
static int
open_dns_dir (const struct network_def *def, bool create, ctr_error_t *err)
{
  for (int attempt = 0;; attempt++)
    {
      int fd = open_dns_dir_once (def, create, err);
      if (fd >= 0 || !create || attempt == 3 || (*err)->status != ENOENT)
        return fd;
      ctr_error_free (err);
    }
}

/* NAME and NAME.NETWORK of every live lease, IPv4 and (with a prefix) IPv6. */
static char *
hosts_text (const struct network_def *def, const struct network_leases *leases, size_t *len)
{
  char *out = NULL;
  FILE *f = open_memstream (&out, len);
  bool domain = dns_name_ok (def->name);

  for (size_t i = 0; f && i < leases->n; i++)
    {
      const struct network_lease *e = &leases->v[i];
      uint8_t a[16], a6[16];
      int family;
      ctr_error_t ignored = NULL;

      if (network_lease_gone (e) || !dns_name_ok (e->owner)
          || network_addr_parse (e->address, "address", a, &family, &ignored) < 0)
        {
          ctr_error_free (&ignored);
          continue;
        }
      fprintf (f, "%s\t%s", e->address, e->owner);
      if (domain)
        fprintf (f, " %s.%s", e->owner, def->name);
      fputc ('\n', f);
      if (def->has_ipv6)
        {
          cleanup_free char *t = NULL;
          network_cidr_nth (&def->subnet6, network_cidr_offset (&def->subnet, a), a6);
          t = network_addr_format (AF_INET6, a6);
          fprintf (f, "%s\t%s", t, e->owner);
          if (domain)
            fprintf (f, " %s.%s", e->owner, def->name);
          fputc ('\n', f);
        }
    }
  if (f)
    fclose (f);
  return out ? out : xstrdup ("");
}

/* MAC,ADDRESS of every live lease: the MAC attach.c gives the container's end (0a:58: and
   the IPv4 address), so a lease's entry never changes while the address is the same. */
static char *
dhcp_hosts_text (const struct network_leases *leases, size_t *len)
{
  char *out = NULL;
  FILE *f = open_memstream (&out, len);

  for (size_t i = 0; f && i < leases->n; i++)
    {
      uint8_t a[16];
      int family;
      ctr_error_t ignored = NULL;
      if (network_lease_gone (&leases->v[i])
          || network_addr_parse (leases->v[i].address, "address", a, &family, &ignored) < 0
          || family != AF_INET)
        {
          ctr_error_free (&ignored);
          continue;
        }
      fprintf (f, "0a:58:%02x:%02x:%02x:%02x,%s\n", a[0], a[1], a[2], a[3], leases->v[i].address);
    }
  if (f)
    fclose (f);
  return out ? out : xstrdup ("");
}

/* HOSTS_FILE of dirfd replaced atomically: dnsmasq reads the file again when it is renamed
   into place. */
static int
replace_hosts_file (int dirfd, const char *shown, const char *text, size_t len, ctr_error_t *err)
{
  cleanup_close int fd
      = openat (dirfd, HOSTS_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);

  if (fd < 0 || fchmod (fd, 0644) < 0 || write_all (fd, text, len) < 0)
    return ctr_error (err, errno, "write `%s/" HOSTS_TMP "`", shown);
  if (renameat (dirfd, HOSTS_TMP, dirfd, HOSTS_FILE) < 0)
    return ctr_error (err, errno, "rename `%s/" HOSTS_FILE "`", shown);
  return 0;
}

/* The names, and with DHCP the containers' MAC,ADDRESS lines. */
static int
write_hosts (int dirfd, const struct network_def *def, const struct network_leases *leases,
             ctr_error_t *err)
{
  cleanup_free char *shown = xasprintf (DNS_ROOT "/%s", def->bridge), *text = NULL;
  cleanup_free char *dshown = xasprintf ("%s/" DHCP_DIR, shown);
  cleanup_close int dfd = -1;
  size_t len = 0;

  text = hosts_text (def, leases, &len);
  if (replace_hosts_file (dirfd, shown, text, len, err) < 0)
    return -1;
  if (!def->dhcp)
    return 0;
  if (mkdirat (dirfd, DHCP_DIR, 0755) < 0 && errno != EEXIST)
    return ctr_error (err, errno, "make `%s`", dshown);
  dfd = openat (dirfd, DHCP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0 || fchmod (dfd, 0755) < 0)
    return ctr_error (err, errno, "open `%s`", dshown);
  free (text);
  text = dhcp_hosts_text (leases, &len);
  return replace_hosts_file (dfd, dshown, text, len, err);
}

/* The nameservers of a resolv.conf text (NULL-terminated, at most MAX_UPSTREAMS). */
static char **
nameservers_of (const char *path)
{
  cleanup_free char *text = NULL;
  ctr_error_t ignored = NULL;
  char **v = xzalloc ((MAX_UPSTREAMS + 1) * sizeof (char *)), *line, *save = NULL;
  size_t len, n = 0;

  if (read_file_at (AT_FDCWD, path, 64 * 1024, &text, &len, &ignored) < 0)
    {
      ctr_error_free (&ignored);
      return v;
    }
  for (line = strtok_r (text, "\n", &save); line && n < MAX_UPSTREAMS;
       line = strtok_r (NULL, "\n", &save))
    {
      char server[128];
      if (sscanf (line, " nameserver %127s", server) == 1)
        v[n++] = xstrdup (server);
    }
  return v;
}

/* The upstream servers: the definition's, else the host's; systemd-resolved's stub
   (127.0.0.53) stands for resolved's own upstreams, which it lists in its own file. */
static char **
upstreams (const struct network_def *def)
{
  char **v;

  if (def->dns_upstream && def->dns_upstream[0])
    return xstrv_dup (def->dns_upstream);
  v = nameservers_of ("/etc/resolv.conf");
  for (size_t i = 0; v[i]; i++)
    if (strcmp (v[i], "127.0.0.53") == 0)
      {
        char **real = nameservers_of ("/run/systemd/resolve/resolv.conf");
        if (real[0] == NULL)
          {
            strv_free (real);
            break;
          }
        strv_free (v);
        return real;
      }
  return v;
}

static void
argv_add (char ***argv, size_t *n, char *arg)
{
  *argv = xrealloc (*argv, (*n + 2) * sizeof **argv);
  (*argv)[(*n)++] = arg;
  (*argv)[*n] = NULL;
}

/* One --dhcp-range of host numbers [first, last], when not empty. */
static void
dhcp_range (char ***argv, size_t *n, const struct network_def *def, uint32_t first, uint32_t last)
{
  uint8_t a[16], b[16], mask[16] = { 0 };
  cleanup_free char *ta = NULL, *tb = NULL, *tm = NULL;
  uint32_t m = def->subnet.prefix ? ~0u << (32 - def->subnet.prefix) : 0;

  if (first > last)
    return;
  network_cidr_nth (&def->subnet, first, a);
  network_cidr_nth (&def->subnet, last, b);
  mask[0] = (uint8_t)(m >> 24), mask[1] = (uint8_t)(m >> 16), mask[2] = (uint8_t)(m >> 8);
  mask[3] = (uint8_t)m;
  ta = network_addr_format (AF_INET, a);
  tb = network_addr_format (AF_INET, b);
  tm = network_addr_format (AF_INET, mask);
  argv_add (argv, n, xasprintf ("--dhcp-range=%s,%s,%s", ta, tb, tm));
}

/* DHCP on the bridge: the subnet's host addresses but the gateway; a container's MAC gets
   its lease's address (DHCP_DIR, read again on change); leases kept in the run dir. */
static void
dhcp_args (char ***argv, size_t *n, const struct network_def *def)
{
  uint32_t size = network_cidr_size (&def->subnet);
  uint32_t gw = network_cidr_offset (&def->subnet, def->gateway);

  dhcp_range (argv, n, def, 1, gw - 1);
  dhcp_range (argv, n, def, gw + 1, size - 2);
  argv_add (argv, n, xasprintf ("--dhcp-hostsdir=" DNS_ROOT "/%s/" DHCP_DIR, def->bridge));
  {
    cleanup_free char *leases = dhcp_leases_path (def->name);
    argv_add (argv, n, xasprintf ("--dhcp-leasefile=%s", leases));
  }
  /* the only server of the bridge: a client asking for an address it holds elsewhere is
     told no at once, rather than after a timeout */
  argv_add (argv, n, xstrdup ("--dhcp-authoritative"));
}

static char **
dnsmasq_argv (char *program, const struct network_def *def)
{
  char **argv = NULL;
  size_t n = 0;
  cleanup_strv char **servers = upstreams (def);
  cleanup_free char *gw = network_addr_format (AF_INET, def->gateway);

  argv_add (&argv, &n, program);
  argv_add (&argv, &n, xstrdup ("--conf-file=/dev/null")); /* nothing of the host's config */
  argv_add (&argv, &n, xstrdup ("--no-hosts"));
  argv_add (&argv, &n, xstrdup ("--no-resolv"));
  argv_add (&argv, &n, xstrdup ("--no-poll"));
  /* bind-dynamic: bind-interfaces that also takes an IPv6 gateway still in DAD */
  argv_add (&argv, &n, xstrdup ("--bind-dynamic"));
  argv_add (&argv, &n, xstrdup ("--except-interface=lo"));
  argv_add (&argv, &n, xasprintf ("--listen-address=%s", gw));
  if (def->has_ipv6)
    {
      cleanup_free char *gw6 = network_addr_format (AF_INET6, def->gateway6);
      argv_add (&argv, &n, xasprintf ("--listen-address=%s", gw6));
    }
  /* container names stay here: a bare NAME, or NAME.NETWORK, is never asked upstream */
  argv_add (&argv, &n, xstrdup ("--domain-needed"));
  if (dns_name_ok (def->name))
    argv_add (&argv, &n, xasprintf ("--local=/%s/", def->name));
  argv_add (&argv, &n, xasprintf ("--hostsdir=" DNS_ROOT "/%s", def->bridge));
  if (def->dhcp)
    dhcp_args (&argv, &n, def);
  argv_add (&argv, &n, pid_path (def->name));
  {
    char *p = argv[n - 1];
    argv[n - 1] = xasprintf ("--pid-file=%s", p);
    free (p);
  }
  if (getpwnam ("dnsmasq") != NULL)
    argv_add (&argv, &n, xstrdup ("--user=dnsmasq"));
  for (size_t i = 0; servers[i]; i++)
    argv_add (&argv, &n, xasprintf ("--server=%s", servers[i]));
  return argv;
}

/* Kills whatever runs in the network's DNS cgroup and removes it. */
static void
destroy_cgroup (const struct network_def *def)
{
  cleanup_free char *path = cgroup_path_of (def);
  struct cgroup_config cgc = { .cgroups_path = path, .id = def->bridge };
  struct cgroup *cg = NULL;
  ctr_error_t ignored = NULL;

  if (cgroup_open_leaf (&cgc, &cg, &ignored) < 0 || (cg && cgroup_destroy (cg, &ignored) < 0))
    ctr_error_free (&ignored);
  if (cg)
    cgroup_free (cg);
  /* the parent all networks' servers share goes with the last of them */
  cgroup_prune ("/" DNS_CGROUP, 1);
}

/* The server and its files go; the pid file, which records that one may run, goes last. */
static void
dns_stop (const struct network_def *def)
{
  cleanup_free char *pidf = pid_path (def->name);
  cleanup_free char *dir = xasprintf (DNS_ROOT "/%s", def->bridge);
  ctr_error_t ignored = NULL;
  pid_t pid = running_pid (def);

  if (pid > 0)
    kill (pid, SIGTERM);
  destroy_cgroup (def);
  {
    cleanup_close int fd = open_dns_dir (def, false, &ignored);
    if (fd >= 0)
      {
        cleanup_close int dfd
            = openat (fd, DHCP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd >= 0)
          {
            unlinkat (dfd, HOSTS_FILE, 0);
            unlinkat (dfd, HOSTS_TMP, 0);
            unlinkat (fd, DHCP_DIR, AT_REMOVEDIR);
          }
        unlinkat (fd, HOSTS_FILE, 0);
        unlinkat (fd, HOSTS_TMP, 0);
        rmdir (dir);
        rmdir (DNS_ROOT);
      }
    ctr_error_free (&ignored);
  }
  {
    cleanup_free char *leases = dhcp_leases_path (def->name);
    unlink (leases);
  }
  unlink (pidf);
}

/* The last line dnsmasq wrote before it gave up. */
static char *
last_line (int fd)
{
  char buf[2048];
  ssize_t n, len = 0;
  char *end;

  while ((n = read (fd, buf + len, sizeof buf - 1 - len)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0 && (len += n) >= (ssize_t)sizeof buf - 1)
      break;
  buf[len] = '\0';
  while (len > 0 && buf[len - 1] == '\n')
    buf[--len] = '\0';
  end = strrchr (buf, '\n');
  return len ? xstrdup (end ? end + 1 : buf) : NULL;
}

/* In the child: its cgroup is set once the parent writes a byte; then dnsmasq. */
static void __attribute__ ((noreturn)) exec_dnsmasq (char **argv, int go, int errfd)
{
  sigset_t none;
  struct sigaction dfl = { .sa_handler = SIG_DFL };
  char c;
  int nul = open ("/dev/null", O_RDWR | O_CLOEXEC);

  if (read (go, &c, 1) != 1)
    _exit (127);
  setsid (); /* nothing of the caller's terminal or session */
  for (int s = 1; s < NSIG; s++)
    sigaction (s, &dfl, NULL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  if (nul < 0 || dup2 (nul, 0) < 0 || dup2 (nul, 1) < 0 || dup2 (errfd, 2) < 0)
    _exit (127);
  syscall (SYS_close_range, 3, ~0U, 0);
  execv (argv[0], argv);
  _exit (127);
}

/* Starts dnsmasq in its cgroup; returns once it serves (it forks itself away and its first
   process exits 0 then, or with its error on stderr). */
static int
dns_start (const struct network_def *def, char *program, ctr_error_t *err)
{
  cleanup_free char *cgpath = cgroup_path_of (def);
  struct cgroup_config cgc = { .cgroups_path = cgpath, .id = def->bridge };
  struct cgroup *cg = NULL;
  char **argv = dnsmasq_argv (program, def);
  int go[2] = { -1, -1 }, ep[2] = { -1, -1 }, status = 0, r = -1, reaper = 0;
  pid_t pid = -1;

  if (cgroup_create (&cgc, &cg, err) < 0)
    goto out;
  /* a monitor or `ctr run` is a child subreaper: the daemon dnsmasq forks off would become
     its child (and a zombie of it once killed). Off while dnsmasq starts, so that the
     daemon goes to init like any other; its first process has exited when it is back on. */
  if (prctl (PR_GET_CHILD_SUBREAPER, &reaper) < 0)
    reaper = 0;
  if (reaper)
    prctl (PR_SET_CHILD_SUBREAPER, 0);
  if (pipe2 (go, O_CLOEXEC) < 0 || pipe2 (ep, O_CLOEXEC) < 0)
    {
      ctr_error (err, errno, "pipe");
      goto out;
    }
  pid = fork ();
  if (pid < 0)
    {
      ctr_error (err, errno, "fork dnsmasq");
      goto out;
    }
  if (pid == 0)
    {
      /* the parent's ends: a parent killed before its go must mean EOF, not a wait */
      close (go[1]);
      close (ep[0]);
      exec_dnsmasq (argv, go[0], ep[1]);
    }
  close (ep[1]);
  ep[1] = -1;
  if (cgroup_enter (cg, pid, false, err) < 0)
    {
      kill (pid, SIGKILL);
      goto reap;
    }
  if (write_all (go[1], "g", 1) < 0)
    {
      ctr_error (err, errno, "start dnsmasq");
      goto reap;
    }
  r = 0;
reap:
  close (go[1]);
  go[1] = -1;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (reaper)
    prctl (PR_SET_CHILD_SUBREAPER, 1);
  reaper = 0;
  if (r == 0 && !(WIFEXITED (status) && WEXITSTATUS (status) == 0))
    {
      cleanup_free char *msg = last_line (ep[0]);
      r = msg ? ctr_error (err, 0, "%s", msg)
              : ctr_error (err, 0, "dnsmasq failed (status %d)", wait_status_code (status));
    }
out:
  if (reaper)
    prctl (PR_SET_CHILD_SUBREAPER, 1);
  for (int i = 0; i < 2; i++)
    {
      if (go[i] >= 0)
        close (go[i]);
      if (ep[i] >= 0)
        close (ep[i]);
    }
  if (cg)
    cgroup_free (cg);
  strv_free (argv);
  return r;
}

int
network_dns_update (const struct network_def *def, const struct network_leases *leases,
                    ctr_error_t *err)
{
  cleanup_free char *pidf = pid_path (def->name), *program = NULL;
  cleanup_close int dirfd = -1;
  bool recorded = access (pidf, F_OK) == 0, live = false;

  for (size_t i = 0; i < leases->n && !live && def->dns; i++)
    live = !network_lease_gone (&leases->v[i]);
  if (!live || !def->dns)
    {
      if (recorded)
        dns_stop (def);
      return 0;
    }
  program = find_dnsmasq ();
  if (program == NULL)
    {
      if (recorded)
        dns_stop (def);
      fprintf (stderr,
               "ctr: network `%s` has no DNS: dnsmasq not found (install the Debian package "
               "dnsmasq-base)\n",
               def->name);
      return 0;
    }
  if (recorded && running_pid (def) > 0)
    {
      /* dnsmasq reads the hosts file again by itself (inotify) */
      dirfd = open_dns_dir (def, true, err);
      return dirfd < 0 || write_hosts (dirfd, def, leases, err) < 0 ? -1 : 0;
    }
  if (recorded)
    dns_stop (def); /* a stale pid file: a server that died, or one whose starter did */
  /* recorded before it is made (DESIGN.md rule 12): the next update, detach or rm finds it */
  if (write_file_at (AT_FDCWD, pidf, "", 0, 0600, err) < 0)
    return -1;
  dirfd = open_dns_dir (def, true, err);
  if (dirfd < 0 || write_hosts (dirfd, def, leases, err) < 0
      || dns_start (def, steal_ptr (program), err) < 0)
    {
      dns_stop (def);
      return ctr_error_wrap (err, "network `%s`: DNS server", def->name);
    }
  return 0;
}

bool
network_dns_recorded (const char *name)
{
  cleanup_free char *pidf = pid_path (name);
  return access (pidf, F_OK) == 0;
}

void
network_dns_stop (const struct network_def *def)
{
  cleanup_free char *pidf = pid_path (def->name);
  if (access (pidf, F_OK) == 0)
    dns_stop (def);
}

bool
network_dns_running (const struct network_def *def)
{
  return def->dns && running_pid (def) > 0;
}

char *
network_resolv_conf (void)
{
  cleanup_free char *text = NULL;
  char *out = NULL, *line, *save = NULL;
  size_t len, out_len = 0;
  ctr_error_t ignored = NULL;
  FILE *f;

  if (read_file_at (AT_FDCWD, "/etc/resolv.conf", 64 * 1024, &text, &len, &ignored) < 0)
    {
      ctr_error_free (&ignored);
      return xstrdup ("");
    }
  f = open_memstream (&out, &out_len);
  if (f == NULL)
    return xstrdup ("");
  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char server[128];
      /* a loopback resolver (systemd-resolved's stub) is unreachable from the container */
      if (sscanf (line, " nameserver %127s", server) == 1
          && (strncmp (server, "127.", 4) == 0 || strcmp (server, "::1") == 0))
        continue;
      fprintf (f, "%s\n", line);
    }
  fclose (f);
  return out;
}

/* One resolv.conf line of the host's (search and domain merged, nameservers dropped). */
static void
host_resolv_lines (FILE *f, char **search_out)
{
  cleanup_free char *host = network_resolv_conf ();
  for (char *line = host, *next; line && *line; line = next)
    {
      size_t l = strcspn (line, "\n");
      next = line + l + (line[l] == '\n');
      line[l] = '\0';
      if (strncmp (line, "search", 6) == 0 || strncmp (line, "domain", 6) == 0)
        {
          char *prev = *search_out;
          *search_out = xasprintf ("%s%s", prev ? prev : "", line + 6);
          free (prev);
        }
      else if (strncmp (line, "nameserver", 10) != 0 && l > 0)
        fprintf (f, "%s\n", line);
    }
}

char *
network_dns_resolv_conf (char *const *networks)
{
  char *out = NULL, *search = NULL;
  size_t len = 0, servers = 0;
  FILE *f;

  if (networks == NULL || geteuid () != 0)
    return NULL;
  f = open_memstream (&out, &len);
  if (f == NULL)
    return NULL;
  for (size_t i = 0; networks[i] && servers < 3; i++)
    {
      struct network_def def;
      ctr_error_t ignored = NULL;
      if (network_def_load (networks[i], &def, &ignored) < 0)
        {
          ctr_error_free (&ignored);
          continue;
        }
      if (network_dns_running (&def))
        {
          cleanup_free char *gw = network_addr_format (AF_INET, def.gateway);
          char *prev = search;
          fprintf (f, "nameserver %s\n", gw);
          servers++;
          if (dns_name_ok (def.name))
            {
              search = xasprintf ("%s %s", prev ? prev : "", def.name);
              free (prev);
            }
        }
      network_def_clear (&def);
    }
  if (servers == 0)
    {
      fclose (f);
      free (out);
      free (search);
      return NULL;
    }
  host_resolv_lines (f, &search);
  if (search)
    fprintf (f, "search%s\n", search);
  fclose (f);
  free (search);
  return out;
}
