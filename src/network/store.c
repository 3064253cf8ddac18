/* network/store: network definitions on disk (create with validation, load), paths, locks. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include "network/network-internal.h"
#include "netlink/netlink.h"
#include "base/json.h"
#include "base/util.h"

#define DEF_MAX_SIZE (64 * 1024)
#define DEFAULT_MTU 1500

const char *
network_config_dir (void)
{
  static char *dir;
  const char *root = getenv ("CTR_NETWORK_ROOT");

  if (dir == NULL)
    dir = root && *root ? xasprintf ("%s/networks", root) : xstrdup ("/var/lib/ctr/networks");
  return dir;
}

const char *
network_run_dir (void)
{
  static char *dir;
  const char *root = getenv ("CTR_NETWORK_ROOT");

  if (dir == NULL)
    dir = root && *root ? xasprintf ("%s/run", root) : xstrdup ("/run/ctr-networks");
  return dir;
}

char *
network_run_path (const char *file)
{
  return xasprintf ("%s/%s", network_run_dir (), file);
}

int
network_check_name (const char *name, ctr_error_t *err)
{
  ctr_error_t e = NULL;

  if (validate_container_id (name, &e) < 0)
    {
      ctr_error_free (&e);
      return ctr_error (err, 0, "invalid network name `%s`: use [A-Za-z0-9_+-][A-Za-z0-9_+.-]*",
                        name ? name : "");
    }
  return 0;
}

int
network_require_root (ctr_error_t *err)
{
  if (geteuid () != 0)
    return ctr_error (err, 0, "networks need root; rootless containers get --net none or pasta");
  return 0;
}

/* mkdir_p, and whether the last component was made here (to undo on a later failure). */
static int
make_dir (const char *path, bool *made, ctr_error_t *err)
{
  *made = access (path, F_OK) < 0 && errno == ENOENT;
  return mkdir_p (path, 0700, err);
}

int
network_lock_file (const char *file, ctr_error_t *err)
{
  cleanup_free char *path = network_run_path (file);
  cleanup_close int fd = -1;
  bool made = false;

  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == ENOENT)
    {
      if (make_dir (network_run_dir (), &made, err) < 0)
        return -1;
      fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
  if (fd < 0)
    {
      int saved = errno;
      if (made)
        rmdir (network_run_dir ()); /* a failed open leaves no empty directory */
      return ctr_error (err, saved, "open `%s`", path);
    }
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return ctr_error (err, errno, "lock `%s`", path);
  return steal_fd (fd);
}

/* A lock file of the run directory, locked without waiting: the fd, -2 when the file is
   missing (so nobody holds it: writers create it first), -1 when a live ctr holds it. */
static int
try_lock (const char *file)
{
  cleanup_free char *path = network_run_path (file);
  cleanup_close int fd = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0)
    return errno == ENOENT ? -2 : -1;
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    return -1;
  return steal_fd (fd);
}

/* Removes the files of dir ending in suffix whose writer is gone: lock_for gives the lock
   file its writer holds while the file exists ("networks.lock", or "<name>.lock"). */
static void
remove_stale_in (const char *dir, const char *suffix, bool per_network)
{
  cleanup_dir DIR *d = opendir (dir);
  size_t slen = strlen (suffix);
  struct dirent *de;

  while (d && (de = readdir (d)))
    {
      size_t len = strlen (de->d_name);
      cleanup_free char *lock_name = NULL;
      cleanup_close int lock = -1;
      if (len <= slen || strcmp (de->d_name + len - slen, suffix) != 0)
        continue;
      lock_name = per_network ? xasprintf ("%.*s.lock", (int)(len - slen), de->d_name)
                              : xstrdup ("networks.lock");
      lock = try_lock (lock_name);
      if (lock != -1)
        unlinkat (dirfd (d), de->d_name, 0);
    }
}

/* State files are written as NAME.tmp then renamed, under a lock: a writer killed between
   the two leaves the .tmp. It is stale once nobody holds that lock. */
void
network_remove_stale_tmp (void)
{
  remove_stale_in (network_config_dir (), ".json.tmp", false);
  remove_stale_in (network_run_dir (), ".leases.tmp", true);
}

void
network_def_clear (struct network_def *d)
{
  free (d->name);
  free (d->bridge);
  strv_free (d->dns_upstream);
  free (d->parent);
  free (d->mode);
  memset (d, 0, sizeof (*d));
}

char *
network_def_path (const char *name)
{
  return xasprintf ("%s/%s.json", network_config_dir (), name);
}

static int
get_string (const json_value *root, const char *key, const char *path, const char **out,
            ctr_error_t *err)
{
  if (!json_as_string (json_get (root, key), out))
    return ctr_error (err, 0, "`%s`: missing or non-string key `%s`", path, key);
  return 0;
}

/* The addresses of a definition, re-validated (the file may have been edited). */
static int
def_parse_addresses (const json_value *root, const char *path, struct network_def *d,
                     ctr_error_t *err)
{
  const char *subnet, *gateway, *s6 = NULL, *g6 = NULL;
  int family;

  /* macvlan and ipvlan networks have a gateway only when one was given */
  d->no_gateway = d->driver != NETWORK_DRIVER_BRIDGE && json_get (root, "gateway") == NULL;
  family = AF_INET;
  if (get_string (root, "subnet", path, &subnet, err) < 0
      || (!d->no_gateway && get_string (root, "gateway", path, &gateway, err) < 0)
      || network_cidr_parse (subnet, "subnet", &d->subnet, err) < 0
      || (!d->no_gateway && network_addr_parse (gateway, "gateway", d->gateway, &family, err) < 0))
    return ctr_error_wrap (err, "`%s`", path);
  if (d->subnet.family != AF_INET || family != AF_INET)
    return ctr_error (err, 0, "`%s`: subnet and gateway must be IPv4", path);
  if (json_as_string (json_get (root, "ipv6"), &s6))
    {
      if (get_string (root, "gateway6", path, &g6, err) < 0
          || network_cidr_parse (s6, "ipv6", &d->subnet6, err) < 0
          || network_addr_parse (g6, "gateway6", d->gateway6, &family, err) < 0)
        return ctr_error_wrap (err, "`%s`", path);
      d->has_ipv6 = true;
    }
  return 0;
}

/* "dns_upstream": bare addresses, each checked (they become dnsmasq arguments). */
static int
def_parse_upstreams (const json_value *root, const char *origin, struct network_def *out,
                     ctr_error_t *err)
{
  const json_value *v = json_get (root, "dns_upstream");
  size_t n;

  if (v == NULL)
    return 0;
  if (!json_is_array (v))
    return ctr_error (err, 0, "%s: dns_upstream: not an array", origin);
  n = json_len (v);
  out->dns_upstream = xzalloc ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    {
      const char *s;
      uint8_t a[16];
      int family;
      if (!json_as_string (json_at (v, i), &s)
          || network_addr_parse (s, "dns upstream", a, &family, err) < 0)
        {
          if (*err == NULL)
            ctr_error (err, 0, "not a string");
          return ctr_error_wrap (err, "%s: dns_upstream[%zu]", origin, i);
        }
      out->dns_upstream[i] = xstrdup (s);
    }
  return 0;
}

/* "driver", "parent", "mode", "vlan": absent in a bridge's definition (of any ctr). */
static int
def_parse_driver (const json_value *root, const char *origin, struct network_def *out,
                  ctr_error_t *err)
{
  const char *driver = NULL, *parent = NULL, *mode = NULL;
  int64_t vlan = 0;
  unsigned int value;

  json_as_string (json_get (root, "driver"), &driver);
  json_as_string (json_get (root, "parent"), &parent);
  json_as_string (json_get (root, "mode"), &mode);
  json_as_int64 (json_get (root, "vlan"), &vlan);
  if (network_driver_parse (driver, &out->driver, err) < 0
      || network_mode_value (out->driver, mode, &value, err) < 0
      || (parent && network_check_ifname (parent, "parent", err) < 0))
    return ctr_error_wrap (err, "%s", origin);
  if (vlan < 0 || vlan > 4094 || (vlan && parent == NULL)
      || (out->driver != NETWORK_DRIVER_BRIDGE && parent == NULL))
    return ctr_error (err, 0, "%s: parent and vlan: missing or out of range", origin);
  out->parent = parent ? xstrdup (parent) : NULL;
  out->mode = mode ? xstrdup (mode) : NULL;
  out->vlan = (unsigned int)vlan;
  return 0;
}

int
network_def_parse (const char *name, const char *text, size_t len, const char *origin,
                   struct network_def *out, ctr_error_t *err)
{
  json_value *root;
  const char *bridge;
  int64_t mtu = DEFAULT_MTU;

  memset (out, 0, sizeof (*out));
  root = json_parse (text, len, origin, err);
  if (root == NULL)
    return -1;
  out->nat = true;
  out->dns = true; /* a definition of an older ctr: DNS as for a new one */
  bridge = "";
  if (def_parse_driver (root, origin, out, err) < 0
      || (out->driver == NETWORK_DRIVER_BRIDGE
          && get_string (root, "bridge", origin, &bridge, err) < 0)
      || def_parse_addresses (root, origin, out, err) < 0)
    {
      json_value_free (root);
      network_def_clear (out);
      return -1;
    }
  out->name = xstrdup (name);
  out->bridge = xstrdup (bridge);
  json_as_bool (json_get (root, "nat"), &out->nat);
  json_as_int64 (json_get (root, "mtu"), &mtu);
  out->mtu = mtu >= 68 && mtu <= 65535 ? (unsigned int)mtu : DEFAULT_MTU;
  json_as_bool (json_get (root, "dns"), &out->dns);
  json_as_bool (json_get (root, "dhcp"), &out->dhcp);
  out->dhcp = out->dhcp && out->dns;
  if (def_parse_upstreams (root, origin, out, err) < 0)
    {
      json_value_free (root);
      network_def_clear (out);
      return -1;
    }
  json_value_free (root);
  return 0;
}

int
network_def_load (const char *name, struct network_def *out, ctr_error_t *err)
{
  cleanup_free char *path = NULL, *text = NULL;
  size_t len;

  memset (out, 0, sizeof (*out));
  if (network_check_name (name, err) < 0)
    return -1;
  path = network_def_path (name);
  if (read_file_at (AT_FDCWD, path, DEF_MAX_SIZE, &text, &len, err) < 0)
    {
      if ((*err)->status == ENOENT)
        return ctr_error (err, ENOENT, "network `%s` does not exist", name);
      return -1;
    }
  return network_def_parse (name, text, len, path, out, err);
}

static int
def_save (const struct network_def *d, ctr_error_t *err)
{
  json_writer *w = json_writer_new (true);
  cleanup_free char *path = network_def_path (d->name), *subnet = network_cidr_format (&d->subnet);
  cleanup_free char *gw = network_addr_format (AF_INET, d->gateway), *text = NULL;
  bool made = false;
  size_t len;

  json_map_open (w);
  json_kv_string (w, "name", d->name);
  json_kv_string (w, "driver", network_driver_name (d->driver));
  if (d->driver == NETWORK_DRIVER_BRIDGE)
    json_kv_string (w, "bridge", d->bridge);
  if (d->parent)
    json_kv_string (w, "parent", d->parent);
  if (d->mode)
    json_kv_string (w, "mode", d->mode);
  if (d->vlan)
    json_kv_int (w, "vlan", d->vlan);
  json_kv_string (w, "subnet", subnet);
  if (!d->no_gateway)
    json_kv_string (w, "gateway", gw);
  if (d->has_ipv6)
    {
      cleanup_free char *s6 = network_cidr_format (&d->subnet6);
      cleanup_free char *g6 = network_addr_format (AF_INET6, d->gateway6);
      json_kv_string (w, "ipv6", s6);
      json_kv_string (w, "gateway6", g6);
    }
  json_kv_bool (w, "nat", d->nat);
  json_kv_int (w, "mtu", d->mtu);
  json_kv_bool (w, "dns", d->dns);
  if (d->dhcp)
    json_kv_bool (w, "dhcp", true);
  if (d->dns_upstream)
    {
      json_key (w, "dns_upstream");
      json_array_open (w);
      for (size_t i = 0; d->dns_upstream[i]; i++)
        json_string (w, d->dns_upstream[i]);
      json_array_close (w);
    }
  json_map_close (w);
  text = json_writer_finish (w, &len);
  if (make_dir (network_config_dir (), &made, err) < 0)
    return -1;
  if (write_file_atomic_at (AT_FDCWD, path, text, len, 0600, err) == 0)
    return 0;
  if (made)
    rmdir (network_config_dir ());
  return -1;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* The names of every definition (sorted). */
int
network_def_names (char ***out, size_t *n, ctr_error_t *err)
{
  cleanup_dir DIR *dir = opendir (network_config_dir ());
  struct dirent *de;

  *out = NULL;
  *n = 0;
  if (dir == NULL)
    return errno == ENOENT ? 0 : ctr_error (err, errno, "open `%s`", network_config_dir ());
  while ((de = readdir (dir)))
    {
      size_t len = strlen (de->d_name);
      cleanup_free char *name = NULL;
      if (len <= 5 || strcmp (de->d_name + len - 5, ".json") != 0)
        continue;
      name = xstrndup (de->d_name, len - 5);
      *out = xrealloc (*out, (*n + 2) * sizeof (char *));
      (*out)[(*n)++] = steal_ptr (name);
      (*out)[*n] = NULL;
    }
  if (*n > 1)
    qsort (*out, *n, sizeof (char *), compare_names);
  return 0;
}

/* What a new network must not collide with: other definitions and the host's routes. */
struct taken
{
  struct network_def *defs;
  size_t n_defs;
  struct network_cidr *routes;
  size_t n_routes;
};

static void
taken_clear (struct taken *t)
{
  size_t i;

  for (i = 0; i < t->n_defs; i++)
    network_def_clear (&t->defs[i]);
  free (t->defs);
  free (t->routes);
  memset (t, 0, sizeof (*t));
}

static void
collect_route (const struct netlink_route *r, void *data)
{
  struct taken *t = data;

  if (r->dst_len == 0)
    return; /* the default route overlaps everything and means nothing here */
  t->routes = xrealloc (t->routes, (t->n_routes + 1) * sizeof (*t->routes));
  memset (&t->routes[t->n_routes], 0, sizeof (*t->routes));
  t->routes[t->n_routes].family = r->family;
  t->routes[t->n_routes].prefix = r->dst_len;
  memcpy (t->routes[t->n_routes].addr, r->dst, 16);
  t->n_routes++;
}

static int
taken_load (struct netlink *nl, struct taken *t, ctr_error_t *err)
{
  cleanup_strv char **names = NULL;
  size_t n, i;

  memset (t, 0, sizeof (*t));
  if (network_def_names (&names, &n, err) < 0)
    return -1;
  t->defs = xzalloc ((n + 1) * sizeof (*t->defs));
  for (i = 0; i < n; i++)
    {
      if (network_def_load (names[i], &t->defs[t->n_defs], err) < 0)
        return -1;
      t->n_defs++;
    }
  if (netlink_route_foreach (nl, AF_INET, collect_route, t, err) < 0
      || netlink_route_foreach (nl, AF_INET6, collect_route, t, err) < 0)
    return -1;
  return 0;
}

/* 0 when c is free, else -1 with an error naming what it overlaps. */
static int
check_overlap (const struct taken *t, const struct network_cidr *c, const char *what,
               ctr_error_t *err)
{
  cleanup_free char *text = network_cidr_format (c);
  size_t i;

  for (i = 0; i < t->n_defs; i++)
    {
      const struct network_def *d = &t->defs[i];
      const struct network_cidr *other = c->family == AF_INET ? &d->subnet : &d->subnet6;
      if ((c->family == AF_INET || d->has_ipv6) && network_cidr_overlaps (c, other))
        {
          cleanup_free char *o = network_cidr_format (other);
          return ctr_error (err, 0, "%s `%s` overlaps network `%s` (%s)", what, text, d->name, o);
        }
    }
  for (i = 0; i < t->n_routes; i++)
    if (network_cidr_overlaps (c, &t->routes[i]))
      {
        cleanup_free char *o = network_cidr_format (&t->routes[i]);
        return ctr_error (err, 0, "%s `%s` overlaps the host route %s", what, text, o);
      }
  return 0;
}

/* The first free 10.N.0.0/16 from 10.<first>. */
static int
pick_subnet (const struct taken *t, unsigned int first, struct network_cidr *out, ctr_error_t *err)
{
  unsigned int n;

  for (n = first; n < 256; n++)
    {
      ctr_error_t ignored = NULL;
      memset (out, 0, sizeof (*out));
      out->family = AF_INET;
      out->prefix = 16;
      out->addr[0] = 10;
      out->addr[1] = (uint8_t)n;
      if (check_overlap (t, out, "subnet", &ignored) == 0)
        return 0;
      ctr_error_free (&ignored);
    }
  return ctr_error (err, 0, "no free 10.N.0.0/16 subnet left: pass --subnet");
}

/* Address ranges a bridge's subnet must not touch, and why. */
static const struct
{
  int family;
  const char *cidr, *why;
} reserved[] = {
  { AF_INET, "0.0.0.0/8", "\"this network\" (0.0.0.0/8) is not routable" },
  { AF_INET, "127.0.0.0/8", "loopback (127.0.0.0/8) never leaves the host" },
  { AF_INET, "169.254.0.0/16", "link-local (169.254.0.0/16) is not routed" },
  { AF_INET, "224.0.0.0/4", "multicast (224.0.0.0/4) addresses no single host" },
  { AF_INET, "240.0.0.0/4", "reserved and broadcast (240.0.0.0/4) addresses are not usable" },
  { AF_INET6, "::/128", "the unspecified address (::) names no host" },
  { AF_INET6, "::1/128", "loopback (::1) never leaves the host" },
  { AF_INET6, "fe80::/10", "link-local (fe80::/10) is configured per link by the kernel" },
  { AF_INET6, "ff00::/8", "multicast (ff00::/8) addresses no single host" },
};

static int
check_reserved (const struct network_cidr *c, const char *what, const char *spec, ctr_error_t *err)
{
  for (size_t i = 0; i < ARRAY_SIZE (reserved); i++)
    {
      struct network_cidr r;
      ctr_error_t ignored = NULL;
      if (reserved[i].family != c->family
          || network_cidr_parse (reserved[i].cidr, "reserved", &r, &ignored) < 0)
        {
          ctr_error_free (&ignored);
          continue;
        }
      if (network_cidr_overlaps (c, &r))
        return ctr_error (err, 0, "invalid %s `%s`: %s", what, spec, reserved[i].why);
    }
  return 0;
}

static int
setup_subnet (const struct taken *t, const struct network_create_options *o, bool is_default,
              struct network_def *d, ctr_error_t *err)
{
  uint32_t size, gw_off;
  int family;

  if (o->subnet == NULL)
    return pick_subnet (t, is_default ? 88 : 89, &d->subnet, err) < 0 ? -1 : 0;
  if (network_cidr_parse (o->subnet, "subnet", &d->subnet, err) < 0)
    return -1;
  if (d->subnet.family != AF_INET || d->subnet.prefix < 8)
    return ctr_error (err, 0, "invalid subnet `%s`: an IPv4 subnet from /8 to /30 is needed",
                      o->subnet);
  if (d->subnet.prefix > 30)
    return ctr_error (err, 0,
                      "invalid subnet `%s`: too small for a gateway and one container "
                      "(an IPv4 subnet from /8 to /30 is needed)",
                      o->subnet);
  if (network_cidr_has_host_bits (&d->subnet))
    return ctr_error (err, 0, "invalid subnet `%s`: host bits are set", o->subnet);
  if (check_reserved (&d->subnet, "subnet", o->subnet, err) < 0)
    return -1;
  if (o->gateway == NULL)
    return 0;
  if (network_addr_parse (o->gateway, "gateway", d->gateway, &family, err) < 0)
    return -1;
  size = network_cidr_size (&d->subnet);
  gw_off = network_cidr_offset (&d->subnet, d->gateway);
  if (!network_cidr_contains (&d->subnet, family, d->gateway) || gw_off == 0 || gw_off == size - 1)
    return ctr_error (err, 0, "gateway `%s` is not a host address of subnet `%s`", o->gateway,
                      o->subnet);
  return 0;
}

static int
setup_ipv6 (const char *spec, struct network_def *d, ctr_error_t *err)
{
  if (network_cidr_parse (spec, "ipv6 subnet", &d->subnet6, err) < 0)
    return -1;
  if (d->subnet6.family != AF_INET6 || d->subnet6.prefix > 120)
    return ctr_error (err, 0, "invalid ipv6 subnet `%s`: an IPv6 prefix up to /120 is needed",
                      spec);
  if (network_cidr_has_host_bits (&d->subnet6))
    return ctr_error (err, 0, "invalid ipv6 subnet `%s`: host bits are set", spec);
  if (check_reserved (&d->subnet6, "ipv6 subnet", spec, err) < 0)
    return -1;
  network_cidr_nth (&d->subnet6, 1, d->gateway6);
  d->has_ipv6 = true;
  return 0;
}

/* Fills and validates *d against the host and the other networks (lock held). */
static int
def_build (struct netlink *nl, const char *name, const struct network_create_options *o,
           struct network_def *d, ctr_error_t *err)
{
  struct taken t;
  size_t i;
  int r = -1;

  if (taken_load (nl, &t, err) < 0)
    goto out;
  d->name = xstrdup (name);
  d->bridge = o->bridge             ? xstrdup (o->bridge)
              : strlen (name) <= 15 ? xstrdup (name)
                                    : xasprintf ("ctr-%08x", network_hash (name, NULL));
  d->nat = !o->no_nat;
  d->mtu = o->mtu ? o->mtu : DEFAULT_MTU;
  d->dns = !o->no_dns;
  d->dhcp = o->dhcp;
  if (o->dns_upstream && o->dns_upstream[0])
    d->dns_upstream = xstrv_dup (o->dns_upstream);
  if (network_driver_parse (o->driver, &d->driver, err) < 0)
    goto out;
  d->parent = o->parent ? xstrdup (o->parent) : NULL;
  d->mode = o->mode ? xstrdup (o->mode) : NULL;
  if (d->mode == NULL && d->driver != NETWORK_DRIVER_BRIDGE) /* shown by ls and inspect */
    d->mode = xstrdup (d->driver == NETWORK_DRIVER_IPVLAN ? "l2" : "bridge");
  d->vlan = o->vlan;
  if (d->driver != NETWORK_DRIVER_BRIDGE)
    {
      /* no bridge, no NAT, no DNS server: the children are on the parent's own link */
      free (d->bridge);
      d->bridge = xstrdup ("");
      d->nat = d->dns = false;
      d->no_gateway = o->gateway == NULL;
      d->mtu = o->mtu; /* 0: the parent's, read by the host check below */
      /* the subnet is normally the parent's LAN, which has a host route */
      free (t.routes);
      t.routes = NULL;
      t.n_routes = 0;
    }
  if (network_driver_check_host (nl, d, t.defs, t.n_defs, err) < 0)
    goto out;
  if (d->driver == NETWORK_DRIVER_BRIDGE
      && network_check_ifname (d->bridge, "bridge name", err) < 0)
    goto out;
  if (setup_subnet (&t, o, strcmp (name, NETWORK_DEFAULT_NAME) == 0, d, err) < 0
      || (o->subnet && check_overlap (&t, &d->subnet, "subnet", err) < 0))
    goto out;
  if (o->gateway == NULL && !d->no_gateway)
    network_cidr_nth (&d->subnet, 1, d->gateway);
  if (o->ipv6
      && (setup_ipv6 (o->ipv6, d, err) < 0
          || check_overlap (&t, &d->subnet6, "ipv6 subnet", err) < 0))
    goto out;
  if (d->driver != NETWORK_DRIVER_BRIDGE)
    {
      r = 0;
      goto out;
    }
  for (i = 0; i < t.n_defs; i++)
    if (strcmp (t.defs[i].bridge, d->bridge) == 0)
      {
        ctr_error (err, 0, "bridge name `%s` is used by network `%s`", d->bridge, t.defs[i].name);
        goto out;
      }
  r = netlink_link_index (nl, d->bridge, err);
  if (r > 0)
    ctr_error (err, 0, "bridge name `%s` is busy: a link with that name exists", d->bridge);
  r = r == 0 ? 0 : -1;
out:
  taken_clear (&t);
  return r;
}

static int
network_create_locked (const char *name, const struct network_create_options *o, ctr_error_t *err)
{
  cleanup_free char *path = network_def_path (name);
  cleanup_netlink struct netlink *nl = NULL;
  struct network_def d = { 0 };
  int r;

  if (access (path, F_OK) == 0)
    return ctr_error (err, 0, "network `%s` already exists", name);
  nl = netlink_open (err);
  if (nl == NULL)
    return -1;
  r = def_build (nl, name, o, &d, err);
  if (r == 0)
    r = def_save (&d, err);
  network_def_clear (&d);
  return r;
}

/* What needs neither the lock nor the host: refused before anything is made on disk. */
static int
check_options (const char *name, const struct network_create_options *o, ctr_error_t *err)
{
  struct network_def d = { 0 };

  if (network_driver_check_options (name, o, err) < 0)
    return -1;
  if (o->bridge && network_check_ifname (o->bridge, "bridge name", err) < 0)
    return -1;
  if (o->subnet && setup_subnet (NULL, o, false, &d, err) < 0)
    return -1;
  if (o->ipv6 && setup_ipv6 (o->ipv6, &d, err) < 0)
    return -1;
  /* the DHCP server is the network's dnsmasq: no DHCP-only server without DNS */
  if (o->dhcp && o->no_dns)
    return ctr_error (err, 0,
                      "--dhcp: DHCP is served by the network's DNS server (dnsmasq), "
                      "which --no-dns turns off");
  for (size_t i = 0; o->dns_upstream && o->dns_upstream[i]; i++)
    {
      uint8_t a[16];
      int family;
      if (o->no_dns)
        return ctr_error (err, 0, "--dns-upstream: the network has no DNS (--no-dns)");
      if (network_addr_parse (o->dns_upstream[i], "dns upstream", a, &family, err) < 0)
        return -1;
    }
  return 0;
}

int
network_create (const char *name, const struct network_create_options *opts, ctr_error_t *err)
{
  cleanup_close int lock = -1;

  if (network_require_root (err) < 0)
    return -1;
  if (network_check_name (name, err) < 0)
    return -1;
  if (opts->mtu && (opts->mtu < 68 || opts->mtu > 65535))
    return ctr_error (err, 0, "invalid mtu `%u`: from 68 to 65535", opts->mtu);
  if (check_options (name, opts, err) < 0)
    return -1;
  network_remove_stale_tmp ();
  lock = network_lock_file ("networks.lock", err);
  if (lock < 0)
    return -1;
  return network_create_locked (name, opts, err);
}

int
network_def_load_default (struct network_def *out, ctr_error_t *err)
{
  struct network_create_options o = { 0 };
  cleanup_close int lock = -1;

  if (network_def_load (NETWORK_DEFAULT_NAME, out, err) == 0)
    return 0;
  if ((*err)->status != ENOENT)
    return -1;
  ctr_error_free (err);
  lock = network_lock_file ("networks.lock", err);
  if (lock < 0)
    return -1;
  /* another ctr may have created it while we waited for the lock */
  if (network_def_load (NETWORK_DEFAULT_NAME, out, err) == 0)
    return 0;
  ctr_error_free (err);
  if (network_create_locked (NETWORK_DEFAULT_NAME, &o, err) < 0)
    return ctr_error_wrap (err, "create default network `%s`", NETWORK_DEFAULT_NAME);
  return network_def_load (NETWORK_DEFAULT_NAME, out, err);
}
