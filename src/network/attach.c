/* network/attach: joining a netns to a network (bridge, lease, veth, rules) and undoing it. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "network/network-internal.h"
#include "namespaces/namespaces.h"
#include "netlink/netlink.h"
#include "base/util.h"

/* Turns IPv4 forwarding on (NAT needs it), saying so once. */
static int
enable_ip_forward (const char *network, ctr_error_t *err)
{
  static const char path[] = "/proc/sys/net/ipv4/ip_forward";
  cleanup_free char *cur = NULL;
  size_t len;

  if (read_file_at (AT_FDCWD, path, 64, &cur, &len, err) < 0)
    return -1;
  if (cur[0] != '0')
    return 0;
  if (write_file_at (AT_FDCWD, path, "1", 1, 0644, err) < 0)
    return -1;
  fprintf (stderr, "ctr: enabled IPv4 forwarding (net.ipv4.ip_forward=1) for NAT network `%s`\n",
           network);
  return 0;
}

/* route_localnet=1 on the bridge, written through the trusted procfs handle (security rule
   4): a connection of the host's to a port published on 127.0.0.1 leaves through it. Its
   guard (nft.c, loopback_rules) goes in first: a bridge of an older ctr lacks it. */
static int
enable_route_localnet (const struct network_def *def, ctr_error_t *err)
{
  cleanup_free char *rel = xasprintf ("sys/net/ipv4/conf/%s/route_localnet", def->bridge);
  struct open_how how
      = { .flags = O_RDWR | O_CLOEXEC, .resolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS };
  int procfd = ns_procfs_fd (err);
  cleanup_close int fd = -1;
  struct statfs st;
  char cur = '0';

  if (procfd < 0)
    return -1;
  fd = (int)syscall (SYS_openat2, procfd, rel, &how, sizeof (how));
  if (fd < 0 && errno == ENOSYS)
    fd = openat (procfd, rel, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return ctr_error (err, errno, "open `/proc/%s`", rel);
  if (fstatfs (fd, &st) < 0 || st.f_type != PROC_SUPER_MAGIC)
    return ctr_error (err, EXDEV, "`/proc/%s` is not on procfs", rel);
  if (pread (fd, &cur, 1, 0) == 1 && cur == '1')
    return 0;
  if (network_nft_add_network (def, err) < 0)
    return -1;
  if (pwrite (fd, "1", 1, 0) != 1)
    return ctr_error (err, errno, "write `/proc/%s`", rel);
  return 0;
}

/* Some published port is reached through the host's loopback. */
static bool
wants_loopback (const struct network_attach_request *req)
{
  for (size_t i = 0; i < req->n_ports; i++)
    if (network_port_reaches_loopback (&req->ports[i]))
      return true;
  return false;
}

/* Creates the bridge with its gateway addresses and NAT rules (lock of the network held). */
static int
create_bridge (struct netlink *nl, const struct network_def *def, ctr_error_t *err)
{
  cleanup_free char *alias = network_bridge_alias (def->name);
  int index;

  if (netlink_bridge_create (nl, def->bridge, def->mtu, alias, err) < 0)
    return -1;
  index = netlink_link_index (nl, def->bridge, err);
  if (index <= 0)
    goto fail;
  /* a bridge without an address of its own takes the lowest of its ports', which changes
     when a container leaves: the others' ARP entries for the gateway (their DNS server and
     route) would point nowhere until they expire. 0a:58: + the gateway's IPv4 address, as
     containers get theirs, is stable and taken by no container of the network. */
  {
    uint8_t mac[6] = { 0x0a, 0x58 };
    memcpy (mac + 2, def->gateway, 4);
    if (netlink_link_set_mac (nl, index, mac, err) < 0)
      goto fail;
  }
  if (netlink_addr_add (nl, index, AF_INET, def->gateway, def->subnet.prefix, err) < 0
      || (def->has_ipv6
          && netlink_addr_add (nl, index, AF_INET6, def->gateway6, def->subnet6.prefix, err) < 0)
      || netlink_link_set_up (nl, index, true, err) < 0)
    goto fail;
  if (network_nft_add_network (def, err) < 0
      || (def->nat && enable_ip_forward (def->name, err) < 0))
    goto fail;
  return index;
fail:
  if (*err == NULL)
    ctr_error (err, ENODEV, "bridge `%s` vanished after creation", def->bridge);
  {
    ctr_error_t ignored = NULL;
    netlink_link_del (nl, def->bridge, &ignored);
    ctr_error_free (&ignored);
  }
  return ctr_error_wrap (err, "create bridge `%s` of network `%s`", def->bridge, def->name);
}

/* The bridge's index, creating it on the network's first attach. */
static int
ensure_bridge (struct netlink *nl, const struct network_def *def, ctr_error_t *err)
{
  struct netlink_link_info info;
  int r = netlink_link_get (nl, def->bridge, &info, err);

  if (r < 0)
    return -1;
  if (r == 0)
    return create_bridge (nl, def, err);
  if (!(info.flags & IFF_UP) && netlink_link_set_up (nl, info.index, true, err) < 0)
    return -1;
  return info.index;
}

/* Deletes what dead owners' leases held (their host veths, their port rules). */
void
network_release_stale (struct netlink *nl, struct network_leases *stale)
{
  size_t i;

  for (i = 0; i < stale->n; i++)
    {
      ctr_error_t ignored = NULL;
      /* macvlan/ipvlan leases have no host end: the child went with its namespace */
      if ((stale->v[i].host_ifname[0]
           && netlink_link_del (nl, stale->v[i].host_ifname, &ignored) < 0)
          || (stale->v[i].n_ports
              && network_nft_del_owner (stale->v[i].owner, stale->v[i].ifname, &ignored) < 0))
        ctr_error_free (&ignored); /* best effort: the address is free either way */
    }
  network_leases_clear (stale);
}

/* Under the network's lock: the bridge (and VLAN link) exists, a lease is written. Returns
   the bridge index, or for macvlan/ipvlan the index of the link children hang from. */
static int
lease_address (struct netlink *nl, const struct network_def *def,
               const struct network_attach_request *req, const char *host_ifname, uint8_t addr[16],
               ctr_error_t *err)
{
  cleanup_free char *lock_name = xasprintf ("%s.lock", def->name), *text = NULL;
  struct network_leases leases = { 0 }, stale = { 0 };
  int picked;
  struct network_lease lease = { 0 };
  cleanup_close int lock = network_lock_file (lock_name, err), ports_lock = -1;
  cleanup_free char *def_path = network_def_path (def->name), *ports = NULL;
  int bridge = -1;

  if (lock < 0)
    return -1;
  if (access (def_path, F_OK) < 0) /* removed while we waited for the lock */
    return ctr_error (err, ENOENT, "network `%s` does not exist", def->name);
  /* ports.lock until the lease is written: two networks' attaches cannot take one port */
  if (req->n_ports
      && ((ports_lock = network_lock_file ("ports.lock", err)) < 0
          || network_ports_check_free (req->owner, req->ports, req->n_ports, err) < 0))
    return -1;
  ports = network_ports_format (req->ports, req->n_ports);
  if (def->driver == NETWORK_DRIVER_BRIDGE)
    {
      bridge = ensure_bridge (nl, def, err);
      if (bridge >= 0 && network_lower_ensure (nl, def, bridge, err) < 0)
        bridge = -1;
    }
  else
    bridge = network_lower_ensure (nl, def, 0, err);
  if (bridge >= 0 && wants_loopback (req) && enable_route_localnet (def, err) < 0)
    bridge = -1;
  if (bridge < 0 || network_leases_read (def->name, &leases, err) < 0)
    goto out;
  /* a published port is checked against every live lease's: then every lease is read */
  if (req->n_ports)
    network_leases_take_stale (&leases, &stale);
  else
    network_leases_take_gone (&leases, req->owner, &stale);
  picked = network_leases_pick (def, &leases, req->static_ip, addr, err);
  if (picked < 0 && !req->n_ports)
    {
      /* a lease whose owner died with its pid taken again may hold what is asked */
      ctr_error_free (err);
      network_leases_take_stale (&leases, &stale);
      picked = network_leases_pick (def, &leases, req->static_ip, addr, err);
    }
  if (picked < 0)
    {
      if (leases.n == 0)
        network_lower_release (nl, def); /* made for nobody */
      bridge = -1;
      goto out;
    }
  text = network_addr_format (AF_INET, addr);
  lease.address = text;
  lease.owner = (char *)req->owner;
  lease.pid = req->owner_pid;
  lease.start = req->owner_pid > 0 ? network_pid_start_time (req->owner_pid) : 0;
  snprintf (lease.ifname, sizeof (lease.ifname), "%s", req->ifname);
  snprintf (lease.host_ifname, sizeof (lease.host_ifname), "%s", host_ifname);
  lease.n_ports = (unsigned int)req->n_ports;
  lease.ports = ports;
  network_leases_add (&leases, &lease);
  /* the server (started with the first container) knows the name before the lease is
     written: a failure here leaves no lease to undo */
  if (network_dns_update (def, &leases, err) < 0)
    bridge = -1;
  else if (network_leases_write (def->name, &leases, err) < 0)
    {
      ctr_error_t ignored = NULL;
      bridge = -1;
      leases.n--;
      network_lease_clear (&leases.v[leases.n]);
      if (network_dns_update (def, &leases, &ignored) < 0)
        ctr_error_free (&ignored);
    }
out:
  network_leases_clear (&leases);
  network_release_stale (nl, &stale);
  return bridge;
}

/* With the network's lock held and leases what is left: the VLAN link ctr made goes with
   the network's last live container. */
static void
release_lower_if_unused (const char *network, const struct network_leases *leases)
{
  struct network_def def;
  ctr_error_t ignored = NULL;
  struct netlink *nl;

  for (size_t i = 0; i < leases->n; i++)
    if (network_lease_alive (&leases->v[i]))
      return;
  if (network_def_load (network, &def, &ignored) < 0)
    {
      ctr_error_free (&ignored);
      return;
    }
  if (def.vlan && (nl = netlink_open (&ignored)) != NULL)
    {
      network_lower_release (nl, &def);
      netlink_close (nl);
    }
  ctr_error_free (&ignored);
  network_def_clear (&def);
}

/* Drops the owner's leases (all, or the one of ifname) from one network; *removed gets them. */
static int
drop_leases (const char *network, const char *owner, const char *ifname,
             struct network_leases *removed, ctr_error_t *err)
{
  cleanup_free char *lock_name = xasprintf ("%s.lock", network);
  cleanup_close int lock = network_lock_file (lock_name, err);
  struct network_leases leases = { 0 };
  size_t i, kept = 0;
  int r = 0;

  if (lock < 0 || network_leases_read (network, &leases, err) < 0)
    return -1;
  for (i = 0; i < leases.n; i++)
    {
      struct network_lease *e = &leases.v[i];
      if (strcmp (e->owner, owner) == 0 && (ifname == NULL || strcmp (e->ifname, ifname) == 0))
        {
          removed->v = xrealloc (removed->v, (removed->n + 1) * sizeof (*removed->v));
          removed->v[removed->n++] = *e;
        }
      else
        leases.v[kept++] = *e;
    }
  if (kept != leases.n)
    {
      leases.n = kept;
      r = network_leases_write (network, &leases, err);
    }
  leases.n = kept;
  if (r == 0 && removed->n)
    release_lower_if_unused (network, &leases);
  /* the name goes from the server; the last container takes the server with it, and a
     server whose starter was killed is found here too */
  if (r == 0 && network_dns_recorded (network))
    {
      struct network_def def;
      ctr_error_t ignored = NULL;
      if (network_def_load (network, &def, &ignored) < 0
          || network_dns_update (&def, &leases, &ignored) < 0)
        ctr_error_free (&ignored);
      network_def_clear (&def);
    }
  network_leases_clear (&leases);
  return r;
}

/* The container's end: created in its namespace (a veth's peer, or a macvlan/ipvlan child
   of lower), addressed, up, default route. */
static int
wire_container (struct netlink *nl, int lower, const struct network_def *def,
                const struct network_attach_request *req, const char *host_ifname,
                const uint8_t addr[16], uint8_t addr6[16], const uint8_t mac[6], ctr_error_t *err)
{
  cleanup_netlink struct netlink *ns = netlink_open_in_netns (req->netns_fd, err);
  struct netlink_veth v = { .name = host_ifname,
                            .peer_name = req->ifname,
                            .peer_netns_fd = req->netns_fd,
                            .master = lower,
                            .mtu = def->mtu,
                            .peer_mac = mac,
                            .up = true };
  int index;

  if (ns == NULL)
    return -1;
  if (def->driver == NETWORK_DRIVER_BRIDGE
          ? netlink_veth_create (nl, &v, err) < 0
          : network_child_create (nl, def, lower, req->netns_fd, req->ifname, mac, err) < 0)
    return -1;
  if (netlink_link_set_up (ns, 1 /* lo */, true, err) < 0)
    return -1;
  index = netlink_link_index (ns, req->ifname, err);
  if (index <= 0)
    return index < 0
               ? -1
               : ctr_error (err, ENODEV, "interface `%s` missing in the namespace", req->ifname);
  if (netlink_link_set_up (ns, index, true, err) < 0
      || netlink_addr_add (ns, index, AF_INET, addr, def->subnet.prefix, err) < 0)
    return -1;
  if (def->has_ipv6 && netlink_addr_add (ns, index, AF_INET6, addr6, def->subnet6.prefix, err) < 0)
    return -1;
  if (def->no_gateway)
    return 0; /* a macvlan/ipvlan network without --gateway: on-link only */
  /* the namespace's first attachment gets the default route; later ones find it (EEXIST) */
  if (netlink_route_add_default (ns, AF_INET, def->gateway, index, err) < 0)
    {
      if ((*err)->status != EEXIST)
        return -1;
      ctr_error_free (err);
    }
  if (def->has_ipv6 && netlink_route_add_default (ns, AF_INET6, def->gateway6, index, err) < 0)
    {
      if ((*err)->status != EEXIST)
        return -1;
      ctr_error_free (err);
    }
  return 0;
}

static void
fill_attachment (const struct network_def *def, const char *ifname, const char *host_ifname,
                 const uint8_t addr[16], const uint8_t addr6[16], const uint8_t mac[6],
                 struct network_attachment *out)
{
  cleanup_free char *a = network_addr_format (AF_INET, addr);

  out->network = xstrdup (def->name);
  out->ifname = xstrdup (ifname);
  out->host_ifname = xstrdup (host_ifname);
  out->address = xasprintf ("%s/%u", a, def->subnet.prefix);
  out->gateway = def->no_gateway ? NULL : network_addr_format (AF_INET, def->gateway);
  out->mac
      = xasprintf ("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  if (def->has_ipv6)
    {
      cleanup_free char *a6 = network_addr_format (AF_INET6, addr6);
      out->address6 = xasprintf ("%s/%u", a6, def->subnet6.prefix);
      out->gateway6 = network_addr_format (AF_INET6, def->gateway6);
    }
}

static int
check_request (const struct network_attach_request *req, ctr_error_t *err)
{
  if (network_require_root (err) < 0)
    return -1;
  if (validate_container_id (req->owner, err) < 0)
    return ctr_error_wrap (err, "network owner");
  if (network_check_ifname (req->ifname, "interface name", err) < 0)
    return -1;
  if (req->netns_fd < 0)
    return ctr_error (err, 0, "network attach: no network namespace fd");
  return network_ports_check (req->ports, req->n_ports, err);
}

/* Undoes an attach after its lease was written. */
static void
undo_attach (struct netlink *nl, const struct network_def *def,
             const struct network_attach_request *req, const char *host_ifname)
{
  struct network_leases removed = { 0 };
  ctr_error_t ignored = NULL;

  if (*host_ifname && netlink_link_del (nl, host_ifname, &ignored) < 0)
    ctr_error_free (&ignored);
  if (req->n_ports && network_nft_del_owner (req->owner, req->ifname, &ignored) < 0)
    ctr_error_free (&ignored);
  if (drop_leases (def->name, req->owner, req->ifname, &removed, &ignored) < 0)
    ctr_error_free (&ignored);
  network_leases_clear (&removed);
}

int
network_attach (const struct network_attach_request *req, struct network_attachment *out,
                ctr_error_t *err)
{
  cleanup_netlink struct netlink *nl = NULL;
  struct network_def def = { 0 };
  char host_ifname[16];
  uint32_t rnd;
  uint8_t addr[16], addr6[16] = { 0 }, mac[6] = { 0x0a, 0x58 };
  cleanup_free char *text = NULL;
  int bridge, r = -1;

  memset (out, 0, sizeof (*out));
  if (check_request (req, err) < 0)
    return -1;
  if (req->network && network_is_phys (req->network))
    return network_phys_attach (req, out, err);
  if (req->network == NULL || strcmp (req->network, NETWORK_DEFAULT_NAME) == 0
          ? network_def_load_default (&def, err) < 0
          : network_def_load (req->network, &def, err) < 0)
    return -1;
  /* random, not derived from the owner: the lease records it, and a restarted container
     must not collide with its previous veth that the kernel may still be tearing down */
  if (getrandom (&rnd, sizeof rnd, 0) != sizeof rnd)
    rnd = network_hash (req->owner, req->ifname) ^ (uint32_t)now_ns ();
  snprintf (host_ifname, sizeof (host_ifname), "veth%08x", rnd);
  if (def.driver != NETWORK_DRIVER_BRIDGE)
    {
      host_ifname[0] = '\0'; /* the child lives in the container only */
      if (req->n_ports)
        {
          ctr_error (err, 0,
                     "--publish: network `%s` is a %s network: it publishes no ports (its "
                     "containers are reachable on their own address)",
                     def.name, network_driver_name (def.driver));
          goto out;
        }
    }
  nl = netlink_open (err);
  if (nl == NULL)
    goto out;
  bridge = lease_address (nl, &def, req, host_ifname, addr, err);
  if (bridge < 0)
    goto out;
  memcpy (mac + 2, addr, 4);
  if (def.has_ipv6)
    network_cidr_nth (&def.subnet6, network_cidr_offset (&def.subnet, addr), addr6);
  text = network_addr_format (AF_INET, addr);
  if (wire_container (nl, bridge, &def, req, host_ifname, addr, addr6, mac, err) < 0
      || (req->n_ports
          && network_nft_add_ports (req->owner, req->ifname, text, req->ports, req->n_ports, err)
                 < 0))
    {
      undo_attach (nl, &def, req, host_ifname);
      ctr_error_wrap (err, "attach `%s` to network `%s`", req->ifname, def.name);
      goto out;
    }
  fill_attachment (&def, req->ifname, host_ifname, addr, addr6, mac, out);
  r = 0;
out:
  network_def_clear (&def);
  return r;
}

/* Keeps the first error of a best-effort sequence in *err; returns -1. */
static int
keep_first (ctr_error_t *err, ctr_error_t *e)
{
  if (*err == NULL)
    *err = steal_ptr (*e);
  ctr_error_free (e);
  return -1;
}

/* Deleting a veth whose other end lives in a namespace costs a network-wide RCU grace
   period (~20 ms here), and when the container has just died the kernel is already
   tearing the pair down with its namespace. So the host ends are deleted by a detached
   grandchild: the caller (delete, stop, the end of a run) does not wait, the lease is
   already free, and a name that is gone meanwhile is no error. */
static void
delete_links_async (const struct network_leases *removed)
{
  pid_t pid = fork ();
  if (pid < 0)
    return;
  if (pid > 0)
    {
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      return;
    }
  if (fork () != 0)
    _exit (0);
  {
    ctr_error_t e = NULL;
    struct netlink *nl = netlink_open (&e);
    for (size_t i = 0; nl && i < removed->n; i++)
      if (removed->v[i].host_ifname[0] && netlink_link_del (nl, removed->v[i].host_ifname, &e) < 0)
        ctr_error_free (&e);
    _exit (0);
  }
}

int
network_detach_all (const char *owner, ctr_error_t *err)
{
  cleanup_strv char **names = NULL;
  struct network_leases removed = { 0 };
  ctr_error_t e = NULL;
  bool ports = false;
  size_t n, i;
  int r = 0;

  if (geteuid () != 0)
    return 0; /* nothing can be held without root */
  if (validate_container_id (owner, err) < 0)
    return ctr_error_wrap (err, "network owner");
  /* a writer killed between write and rename left its .tmp (holding this owner's lease) */
  network_remove_stale_tmp ();
  if (network_leased_names (&names, &n, err) < 0)
    return -1;
  for (i = 0; i < n; i++)
    if (drop_leases (names[i], owner, NULL, &removed, &e) < 0)
      r = keep_first (err, &e);
  if (network_phys_release (owner, &e) < 0)
    r = keep_first (err, &e);
  if (removed.n == 0)
    return r < 0 ? ctr_error_wrap (err, "detach `%s` from its networks", owner) : 0;
  for (i = 0; i < removed.n; i++)
    ports |= removed.v[i].n_ports > 0;
  delete_links_async (&removed);
  if (ports && network_nft_del_owner (owner, NULL, &e) < 0)
    r = keep_first (err, &e);
  network_leases_clear (&removed);
  return r < 0 ? ctr_error_wrap (err, "detach `%s` from its networks", owner) : 0;
}

void
network_attachment_clear (struct network_attachment *a)
{
  free (a->network);
  free (a->ifname);
  free (a->host_ifname);
  free (a->address);
  free (a->gateway);
  free (a->mac);
  free (a->address6);
  free (a->gateway6);
  memset (a, 0, sizeof (*a));
}
