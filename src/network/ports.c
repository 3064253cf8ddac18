/* network/ports: who holds a host port: other containers' leases, host sockets. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "network/network-internal.h"
#include "base/util.h"

int
network_leased_names (char ***out, size_t *n, ctr_error_t *err)
{
  cleanup_dir DIR *dir = opendir (network_run_dir ());
  struct dirent *de;

  *out = NULL;
  *n = 0;
  if (dir == NULL)
    return errno == ENOENT ? 0 : ctr_error (err, errno, "open `%s`", network_run_dir ());
  while ((de = readdir (dir)))
    {
      static const char *const suffixes[] = { ".leases", ".dnsmasq.pid" };
      size_t len = strlen (de->d_name), cut = 0;
      for (size_t s = 0; s < 2 && cut == 0; s++)
        {
          size_t l = strlen (suffixes[s]);
          if (len > l && strcmp (de->d_name + len - l, suffixes[s]) == 0)
            cut = len - l;
        }
      if (cut == 0)
        continue;
      {
        cleanup_free char *name = xstrndup (de->d_name, cut);
        bool seen = false;
        for (size_t i = 0; i < *n && !seen; i++)
          seen = strcmp ((*out)[i], name) == 0;
        if (seen)
          continue;
        *out = xrealloc (*out, (*n + 2) * sizeof (char *));
        (*out)[(*n)++] = steal_ptr (name);
        (*out)[*n] = NULL;
      }
    }
  return 0;
}

static const char *
proto_name (int proto)
{
  return proto == IPPROTO_UDP ? "udp" : "tcp";
}

/* "8080/tcp" or "192.0.2.1:8080/tcp". */
static char *
port_text (const struct network_port *p)
{
  if (p->host_ip)
    return xasprintf ("%s:%u/%s", p->host_ip, p->host_port, proto_name (p->proto));
  return xasprintf ("%u/%s", p->host_port, proto_name (p->proto));
}

char *
network_ports_format (const struct network_port *ports, size_t n)
{
  char *out = NULL;

  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *t = port_text (&ports[i]), *prev = out;
      out = prev ? xasprintf ("%s,%s", prev, t) : xstrdup (t);
    }
  return out;
}

/* Two specs that would catch the same packets: one proto and port, and one address or any. */
static bool
ports_clash (const struct network_port *a, const struct network_port *b)
{
  return a->proto == b->proto && a->host_port == b->host_port
         && (a->host_ip == NULL || b->host_ip == NULL || strcmp (a->host_ip, b->host_ip) == 0);
}

bool
network_port_reaches_loopback (const struct network_port *p)
{
  struct in_addr a;

  return p->host_ip == NULL
         || (inet_pton (AF_INET, p->host_ip, &a) == 1 && (ntohl (a.s_addr) >> 24) == 127);
}

int
network_ports_check (const struct network_port *ports, size_t n, ctr_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++)
      if (ports_clash (&ports[i], &ports[j]))
        {
          cleanup_free char *t = port_text (&ports[i]);
          return ctr_error (err, 0, "publish `%s`: host port published twice", t);
        }
  return 0;
}

/* The lease's ports text ("8080/tcp,...") clashing with p, or false. */
static bool
lease_holds (const char *text, const struct network_port *p)
{
  cleanup_free char *copy = xstrdup (text);
  char *item, *save = NULL;

  for (item = strtok_r (copy, ",", &save); item; item = strtok_r (NULL, ",", &save))
    {
      struct network_port q;
      ctr_error_t ignored = NULL;
      char *slash = strrchr (item, '/');
      cleanup_free char *spec = NULL;
      bool clash;
      /* a lease names the host side only: parse it as HOSTPORT:HOSTPORT */
      if (slash == NULL)
        continue;
      *slash = '\0';
      spec = xasprintf ("%s:%s/%s", item, strrchr (item, ':') ? strrchr (item, ':') + 1 : item,
                        slash + 1);
      if (network_parse_publish (spec, &q, &ignored) < 0)
        {
          ctr_error_free (&ignored);
          continue;
        }
      clash = ports_clash (&q, p);
      network_port_clear (&q);
      if (clash)
        return true;
    }
  return false;
}

/* -1 naming the live container of another owner whose lease publishes p. */
static int
check_leases (char *const *names, const char *owner, const struct network_port *p, ctr_error_t *err)
{
  for (char *const *name = names; name && *name; name++)
    {
      struct network_leases l = { 0 }, stale = { 0 };
      ctr_error_t ignored = NULL;
      int r = 0;

      if (network_leases_read (*name, &l, &ignored) < 0)
        {
          ctr_error_free (&ignored);
          continue;
        }
      network_leases_take_stale (&l, &stale);
      for (size_t i = 0; i < l.n && r == 0; i++)
        if (l.v[i].ports && strcmp (l.v[i].owner, owner) != 0 && lease_holds (l.v[i].ports, p))
          {
            cleanup_free char *t = port_text (p);
            r = ctr_error (
                err, 0, "publish `%s`: the host port is already published by `%s` (network `%s`)",
                t, l.v[i].owner, *name);
          }
      network_leases_clear (&l);
      network_leases_clear (&stale);
      if (r < 0)
        return -1;
    }
  return 0;
}

/* The socket inode bound to port in a /proc/net table (tcp: listening only), or 0. */
static unsigned long
table_inode (const char *table, bool tcp, uint16_t port)
{
  cleanup_free char *path = xasprintf ("/proc/net/%s", table);
  FILE *f = fopen (path, "re");
  char line[512];
  unsigned long inode = 0;

  if (f == NULL)
    return 0;
  while (inode == 0 && fgets (line, sizeof (line), f))
    {
      char local[64];
      unsigned int lport, state;
      unsigned long ino;
      char *colon;
      if (sscanf (line, " %*d: %63s %*s %x %*s %*s %*s %*d %*d %lu", local, &state, &ino) != 3)
        continue;
      colon = strrchr (local, ':');
      if (colon == NULL || sscanf (colon + 1, "%x", &lport) != 1 || lport != port)
        continue;
      if (!tcp || state == 0x0A /* TCP_LISTEN */)
        inode = ino;
    }
  fclose (f);
  return inode;
}

/* "pid N (comm)" of a process holding socket inode, or NULL. */
static char *
inode_holder (unsigned long inode)
{
  cleanup_dir DIR *proc = opendir ("/proc");
  cleanup_free char *want = xasprintf ("socket:[%lu]", inode);
  struct dirent *de;

  while (proc && (de = readdir (proc)))
    {
      cleanup_free char *fddir = NULL;
      cleanup_dir DIR *fds = NULL;
      struct dirent *fe;
      int pid = atoi (de->d_name);
      if (pid <= 0)
        continue;
      fddir = xasprintf ("/proc/%d/fd", pid);
      fds = opendir (fddir);
      while (fds && (fe = readdir (fds)))
        {
          char link[64] = "";
          cleanup_free char *path = xasprintf ("%s/%s", fddir, fe->d_name);
          ssize_t len = readlink (path, link, sizeof (link) - 1);
          if (len <= 0 || strcmp (link, want) != 0)
            continue;
          cleanup_free char *comm = proc_comm (pid);
          return xasprintf ("pid %d (%s)", pid, comm ? comm : "");
        }
    }
  return NULL;
}

/* -1 when a host socket is bound to p's port: DNAT would steal its traffic. */
static int
check_host (const struct network_port *p, ctr_error_t *err)
{
  bool tcp = p->proto != IPPROTO_UDP;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (p->host_port) };
  cleanup_close int fd = socket (AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  cleanup_free char *t = port_text (p), *holder = NULL;
  unsigned long inode;
  int one = 1;

  if (fd < 0)
    return 0; /* nothing to learn: the rule is still correct */
  /* tcp: only a listener is a holder, not a connection lingering in TIME_WAIT */
  if (tcp)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one));
  if (p->host_ip)
    inet_pton (AF_INET, p->host_ip, &sa.sin_addr);
  if (bind (fd, (struct sockaddr *)&sa, sizeof (sa)) == 0 || errno != EADDRINUSE)
    return 0;
  inode = table_inode (tcp ? "tcp" : "udp", tcp, p->host_port);
  if (inode == 0)
    inode = table_inode (tcp ? "tcp6" : "udp6", tcp, p->host_port);
  holder = inode ? inode_holder (inode) : NULL;
  return ctr_error (err, 0, "publish `%s`: the host port is in use by a host socket%s%s", t,
                    holder ? " of " : "", holder ? holder : "");
}

int
network_ports_check_free (const char *owner, const struct network_port *ports, size_t n,
                          ctr_error_t *err)
{
  cleanup_strv char **names = NULL;
  size_t count;

  if (n == 0)
    return 0;
  if (network_leased_names (&names, &count, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (check_leases (names, owner, &ports[i], err) < 0 || check_host (&ports[i], err) < 0)
      return -1;
  return 0;
}
