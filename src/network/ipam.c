/* network/ipam: the lease file of a network, address allocation, dead-owner reclaim. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "network/network-internal.h"
#include "base/util.h"

#define LEASES_MAX_SIZE (16 * 1024 * 1024)

void
network_lease_clear (struct network_lease *e)
{
  free (e->address);
  free (e->owner);
  free (e->ports);
  e->address = e->owner = e->ports = NULL;
}

void
network_leases_clear (struct network_leases *l)
{
  for (size_t i = 0; i < l->n; i++)
    network_lease_clear (&l->v[i]);
  free (l->v);
  l->v = NULL;
  l->n = 0;
}

void
network_leases_add (struct network_leases *l, const struct network_lease *lease)
{
  l->v = xrealloc (l->v, (l->n + 1) * sizeof (*l->v));
  l->v[l->n] = *lease;
  l->v[l->n].address = xstrdup (lease->address);
  l->v[l->n].owner = xstrdup (lease->owner);
  l->v[l->n].ports = lease->ports ? xstrdup (lease->ports) : NULL;
  l->n++;
}

unsigned long long
network_pid_start_time (pid_t pid)
{
  char path[64], buf[1024];
  cleanup_close int fd = -1;
  unsigned long long start = 0;
  const char *p;
  ssize_t n;
  int field;

  snprintf (path, sizeof (path), "/proc/%d/stat", (int)pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  n = read (fd, buf, sizeof (buf) - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* the command name (field 2) may hold spaces and ')': count from the last ')' */
  p = strrchr (buf, ')');
  if (p == NULL)
    return 0;
  for (field = 2; field < 22 && p; field++)
    p = strchr (p + 1, ' ');
  if (p == NULL || sscanf (p + 1, "%llu", &start) != 1)
    return 0;
  return start;
}

/* "ADDR OWNER PID START IFNAME HOSTIF NPORTS [PORTS]"; false for a malformed line. */
static bool
parse_line (char *line, struct network_lease *out)
{
  char addr[64], owner[1100], ifname[32], hostif[32], ports[4096];
  struct in_addr a;
  int pid, end = 0;

  memset (out, 0, sizeof (*out));
  if (sscanf (line, "%63s %1099s %d %llu %31s %31s %u%n", addr, owner, &pid, &out->start, ifname,
              hostif, &out->n_ports, &end)
          != 7
      || inet_pton (AF_INET, addr, &a) != 1 || strlen (ifname) > 15 || strlen (hostif) > 15)
    return false;
  /* the ports field came later: a line without it publishes nothing ctr can name */
  if (sscanf (line + end, " %4095s", ports) == 1 && strcmp (ports, "-") != 0)
    out->ports = xstrdup (ports);
  out->address = xstrdup (addr);
  out->owner = xstrdup (owner);
  out->pid = pid;
  strcpy (out->ifname, strcmp (ifname, "-") ? ifname : "");
  strcpy (out->host_ifname, strcmp (hostif, "-") ? hostif : "");
  return true;
}

void
network_leases_parse (char *text, struct network_leases *out)
{
  char *line, *save = NULL;

  memset (out, 0, sizeof (*out));
  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      struct network_lease lease;
      if (!parse_line (line, &lease))
        continue; /* a torn or hand-edited line must not block every allocation */
      out->v = xrealloc (out->v, (out->n + 1) * sizeof (*out->v));
      out->v[out->n++] = lease;
    }
}

int
network_leases_read (const char *name, struct network_leases *out, ctr_error_t *err)
{
  cleanup_free char *path = NULL, *text = NULL;
  size_t len;

  memset (out, 0, sizeof (*out));
  path = xasprintf ("%s/%s.leases", network_run_dir (), name);
  if (read_file_at (AT_FDCWD, path, LEASES_MAX_SIZE, &text, &len, err) < 0)
    {
      if ((*err)->status != ENOENT)
        return -1;
      ctr_error_free (err);
      return 0;
    }
  network_leases_parse (text, out);
  return 0;
}

int
network_leases_write (const char *name, const struct network_leases *l, ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s.leases", network_run_dir (), name);
  char *text = NULL;
  size_t len = 0, i;
  FILE *f = open_memstream (&text, &len);
  int r;

  if (f == NULL)
    return ctr_error (err, errno, "open_memstream");
  for (i = 0; i < l->n; i++)
    {
      const struct network_lease *e = &l->v[i];
      fprintf (f, "%s %s %d %llu %s %s %u %s\n", e->address, e->owner, (int)e->pid, e->start,
               e->ifname[0] ? e->ifname : "-", e->host_ifname[0] ? e->host_ifname : "-", e->n_ports,
               e->ports ? e->ports : "-");
    }
  fclose (f);
  if (l->n == 0)
    r = unlink (path) < 0 && errno != ENOENT ? ctr_error (err, errno, "remove `%s`", path) : 0;
  else if (mkdir_p (network_run_dir (), 0700, err) < 0)
    r = -1;
  else
    r = write_file_atomic_at (AT_FDCWD, path, text, len, 0600, err);
  free (text);
  return r;
}

static bool
owner_alive (const struct network_lease *e)
{
  if (e->pid <= 0)
    return true; /* no process to watch: freed by detach only */
  return network_pid_start_time (e->pid) == e->start;
}

bool
network_lease_alive (const struct network_lease *e)
{
  return owner_alive (e);
}

bool
network_lease_gone (const struct network_lease *e)
{
  return e->pid > 0 && kill (e->pid, 0) < 0 && errno == ESRCH;
}

/* Moves the leases for which stale_if says so into *stale. */
static void
take_if (struct network_leases *l, struct network_leases *stale,
         bool (*stale_if) (const struct network_lease *, const char *), const char *owner)
{
  size_t i, kept = 0;

  for (i = 0; i < l->n; i++)
    {
      if (!stale_if (&l->v[i], owner))
        l->v[kept++] = l->v[i];
      else
        {
          stale->v = xrealloc (stale->v, (stale->n + 1) * sizeof (*stale->v));
          stale->v[stale->n++] = l->v[i];
        }
    }
  l->n = kept;
}

static bool
dead (const struct network_lease *e, const char *owner)
{
  (void)owner;
  return !owner_alive (e);
}

void
network_leases_take_stale (struct network_leases *l, struct network_leases *stale)
{
  take_if (l, stale, dead, NULL);
}

static bool
gone_or_owners_dead (const struct network_lease *e, const char *owner)
{
  return network_lease_gone (e) || (strcmp (e->owner, owner) == 0 && !owner_alive (e));
}

void
network_leases_take_gone (struct network_leases *l, const char *owner, struct network_leases *stale)
{
  take_if (l, stale, gone_or_owners_dead, owner);
}

static int
compare_u32 (const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* The sorted host numbers in use (leases and the gateway). */
static uint32_t *
used_offsets (const struct network_def *def, const struct network_leases *l, size_t *n)
{
  uint32_t *v = xmalloc ((l->n + 1) * sizeof (*v));
  size_t i;

  *n = 0;
  if (!def->no_gateway)
    v[(*n)++] = network_cidr_offset (&def->subnet, def->gateway);
  for (i = 0; i < l->n; i++)
    {
      uint8_t a[16] = { 0 };
      if (inet_pton (AF_INET, l->v[i].address, a) == 1
          && network_cidr_contains (&def->subnet, AF_INET, a))
        v[(*n)++] = network_cidr_offset (&def->subnet, a);
    }
  qsort (v, *n, sizeof (*v), compare_u32);
  return v;
}

static int
check_static (const struct network_def *def, const struct network_leases *l, const char *ip,
              uint8_t out[16], ctr_error_t *err)
{
  cleanup_free char *subnet = network_cidr_format (&def->subnet);
  uint32_t off, size = network_cidr_size (&def->subnet);
  uint8_t taken[16];
  int family;
  size_t i;

  if (network_addr_parse (ip, "address", out, &family, err) < 0)
    return -1;
  if (!network_cidr_contains (&def->subnet, family, out))
    return ctr_error (err, 0, "address `%s` is outside the subnet %s of network `%s`", ip, subnet,
                      def->name);
  off = network_cidr_offset (&def->subnet, out);
  if (off == 0 || off == size - 1 || (!def->no_gateway && memcmp (out, def->gateway, 4) == 0))
    return ctr_error (err, 0, "address `%s` is the %s address of subnet %s of network `%s`", ip,
                      off == 0          ? "network"
                      : off == size - 1 ? "broadcast"
                                        : "gateway",
                      subnet, def->name);
  for (i = 0; i < l->n; i++)
    if (inet_pton (AF_INET, l->v[i].address, taken) == 1 && memcmp (taken, out, 4) == 0)
      return ctr_error (err, 0, "address `%s` of network `%s` is already leased to `%s`", ip,
                        def->name, l->v[i].owner);
  return 0;
}

int
network_leases_pick (const struct network_def *def, const struct network_leases *l,
                     const char *static_ip, uint8_t out[16], ctr_error_t *err)
{
  cleanup_free uint32_t *used = NULL;
  uint32_t size = network_cidr_size (&def->subnet), candidate = 1;
  size_t n, i;

  if (static_ip)
    return check_static (def, l, static_ip, out, err);
  used = used_offsets (def, l, &n);
  for (i = 0; i < n && used[i] <= candidate; i++)
    if (used[i] == candidate)
      candidate++;
  if (candidate >= size - 1)
    return ctr_error (err, 0, "network `%s`: no free address left", def->name);
  network_cidr_nth (&def->subnet, candidate, out);
  return 0;
}
