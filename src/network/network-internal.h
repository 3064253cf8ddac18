/* network-internal: what the files of network/ share (addresses, definitions, leases, nft). */
#ifndef CTR_NETWORK_INTERNAL_H
#define CTR_NETWORK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

#include "network/network.h"

/* ---- addr.c ---- */
struct network_cidr
{
  int family; /* AF_INET or AF_INET6 */
  uint8_t addr[16];
  unsigned int prefix;
};
/* "A/N"; what names the option in errors ("subnet"). Host bits may be set. */
int network_cidr_parse (const char *s, const char *what, struct network_cidr *out,
                        ctr_error_t *err);
/* A bare address of either family into out (16 bytes), *family set. */
int network_addr_parse (const char *s, const char *what, uint8_t out[16], int *family,
                        ctr_error_t *err);
bool network_cidr_has_host_bits (const struct network_cidr *c);
bool network_cidr_contains (const struct network_cidr *c, int family, const uint8_t *addr);
bool network_cidr_overlaps (const struct network_cidr *a, const struct network_cidr *b);
/* The address at offset (host number) inside the subnet (the low 32 bits of IPv6). */
void network_cidr_nth (const struct network_cidr *c, uint32_t offset, uint8_t out[16]);
/* The host number of addr inside c. */
uint32_t network_cidr_offset (const struct network_cidr *c, const uint8_t *addr);
/* Number of host numbers in c, capped at 2^32 - 1. */
uint32_t network_cidr_size (const struct network_cidr *c);
char *network_addr_format (int family, const uint8_t *addr);
char *network_cidr_format (const struct network_cidr *c);
/* FNV-1a, for stable interface names. */
uint32_t network_hash (const char *a, const char *b);
/* Interface names: at most 15 bytes, no '/', ':' or spaces. */
int network_check_ifname (const char *name, const char *what, ctr_error_t *err);

struct netlink;

/* ---- store.c ---- */
enum network_driver
{
  NETWORK_DRIVER_BRIDGE = 0, /* a definition without "driver" is a bridge */
  NETWORK_DRIVER_MACVLAN,
  NETWORK_DRIVER_IPVLAN,
};
struct network_def
{
  char *name, *bridge;
  struct network_cidr subnet;
  uint8_t gateway[16];
  bool has_ipv6;
  struct network_cidr subnet6;
  uint8_t gateway6[16];
  bool nat;
  unsigned int mtu;
  bool dns;            /* a dnsmasq answers for the containers on the gateway(s) */
  char **dns_upstream; /* NULL: the host's resolvers */
  bool dhcp;           /* the dnsmasq also serves DHCP (needs dns) */
  enum network_driver driver;
  char *parent;      /* NULL, or the host interface children (or the VLAN link) hang from */
  char *mode;        /* macvlan/ipvlan mode, NULL: the driver's default */
  unsigned int vlan; /* 0: none; else the 802.1Q id of the link PARENT.ID ctr makes */
  bool no_gateway;   /* macvlan/ipvlan without --gateway: no default route, none reserved */
};
void network_def_clear (struct network_def *d);
/* 0 and *out filled, or -1 (status ENOENT: "network `x` does not exist"). */
/* The text of a definition (origin names it in errors); network_def_load reads and parses. */
int network_def_parse (const char *name, const char *text, size_t len, const char *origin,
                       struct network_def *out, ctr_error_t *err);
int network_def_load (const char *name, struct network_def *out, ctr_error_t *err);
/* The default network's definition, created (with a free subnet) when missing. */
int network_def_load_default (struct network_def *out, ctr_error_t *err);
/* Network names follow the container id rules (they name files and nft comments). */
int network_check_name (const char *name, ctr_error_t *err);
/* "networks need root; ..." unless euid 0. */
int network_require_root (ctr_error_t *err);
/* An exclusive flock on <run dir>/<file>, created as needed; the fd or -1. */
int network_lock_file (const char *file, ctr_error_t *err);
char *network_run_path (const char *file);
/* Deletes *.json.tmp and *.leases.tmp files no live writer holds the lock of. */
void network_remove_stale_tmp (void);
/* The names of every definition, sorted (a NULL-terminated vector). */
int network_def_names (char ***out, size_t *n, ctr_error_t *err);
char *network_def_path (const char *name);
/* "ctr network NAME": the IFLA_IFALIAS marking a bridge as ctr's. */
char *network_bridge_alias (const char *name);

/* ---- drivers.c (macvlan, ipvlan, VLAN links) ---- */
const char *network_driver_name (enum network_driver d);
/* "bridge", "macvlan", "ipvlan" (NULL: bridge); -1 with an error naming the value. */
int network_driver_parse (const char *s, enum network_driver *out, ctr_error_t *err);
/* The kernel's value of a mode of driver (NULL: the default); -1 naming the valid ones. */
int network_mode_value (enum network_driver d, const char *mode, unsigned int *out,
                        ctr_error_t *err);
/* PARENT.ID cut to 15 bytes (the parent's name is shortened, never the id). */
void network_vlan_link_name (const char *parent, unsigned int vlan, char out[16]);
/* Options of create checked before anything is looked up: the driver, its mode, the VLAN
   id, and options the driver has no use for; errors start "network create NAME: ". */
int network_driver_check_options (const char *name, const struct network_create_options *o,
                                  ctr_error_t *err);
/* Options of create that need the host (the parent exists, the VLAN link's name is free
   or already that VLAN, no other network uses it); defs: the other definitions. */
int network_driver_check_host (struct netlink *nl, struct network_def *d,
                               const struct network_def *defs, size_t n_defs, ctr_error_t *err);
/* Under the network's lock: the VLAN link exists (made, marked, up; a bridge network's is
   its port); returns the index children hang from (parent or VLAN link; 0 for a bridge
   network without a parent). */
int network_lower_ensure (struct netlink *nl, const struct network_def *def, int bridge,
                          ctr_error_t *err);
/* Under the network's lock, when no live lease is left: deletes the VLAN link ctr made. */
void network_lower_release (struct netlink *nl, const struct network_def *def);
/* Creates the macvlan/ipvlan child of lower in netns_fd as ifname. */
int network_child_create (struct netlink *nl, const struct network_def *def, int lower,
                          int netns_fd, const char *ifname, const uint8_t mac[6], ctr_error_t *err);

/* ---- phys.c (--net phys:IFNAME) ---- */
/* Moves the host interface into netns_fd as ifname, recorded first (owner, pid) and the
   namespace held until network_phys_release gives the interface back. */
int network_phys_attach (const struct network_attach_request *req, struct network_attachment *out,
                         ctr_error_t *err);
/* Gives back every interface the owner holds, under its original name. */
int network_phys_release (const char *owner, ctr_error_t *err);
/* --net phys:IFNAME given at create: the interface exists here, is not lo nor ctr's. */
int network_phys_check (const char *network, const char *owner, ctr_error_t *err);

/* ---- ipam.c ---- */
struct network_lease
{
  char *address; /* IPv4 text, no prefix */
  char *owner;
  pid_t pid;
  unsigned long long start; /* /proc/PID/stat field 22 when pid > 0 */
  char ifname[16], host_ifname[16];
  unsigned int n_ports;
  char *ports; /* NULL, or the published host ports: "8080/tcp,192.0.2.1:53/udp" */
};
struct network_leases
{
  struct network_lease *v;
  size_t n;
};
void network_leases_clear (struct network_leases *l);
void network_lease_clear (struct network_lease *e);
/* <run>/<name>.leases, replaced atomically; callers hold network_lock_file ("<name>.lock"). */
/* The lines of a leases file (text, NUL-terminated, is cut up); malformed lines skipped. */
void network_leases_parse (char *text, struct network_leases *out);
int network_leases_read (const char *name, struct network_leases *out, ctr_error_t *err);
int network_leases_write (const char *name, const struct network_leases *l, ctr_error_t *err);
/* Moves the leases whose owner died into *stale. */
void network_leases_take_stale (struct network_leases *l, struct network_leases *stale);
/* The lease's owner lives (or it has no process to watch): its pid and start time (a read
   of /proc/PID/stat). */
bool network_lease_alive (const struct network_lease *e);
/* The lease's owner is gone for sure: no process has its pid (one kill 0, where
   network_lease_alive opens and reads a procfs file). A pid taken again by another process
   passes for alive; network_lease_alive tells. */
bool network_lease_gone (const struct network_lease *e);
/* What an attach reclaims on its way, in time that does not grow with the leases'
   number (one kill 0 each, no procfs read): the leases whose owner is gone, and owner's
   own leases (a container run again after a kill) whose owner died. The rest of the stale
   ones (pid reused) wait for network_leases_take_stale: when the subnet has no address
   left, and the network-wide verbs (inspect, ls, rm). */
void network_leases_take_gone (struct network_leases *l, const char *owner,
                               struct network_leases *stale);
/* Picks an address for a new lease (static_ip checked when given) into out (16 bytes). */
int network_leases_pick (const struct network_def *def, const struct network_leases *l,
                         const char *static_ip, uint8_t out[16], ctr_error_t *err);
void network_leases_add (struct network_leases *l, const struct network_lease *lease);
/* The names of the networks with a lease file, or a DNS server record (a server whose
   starter was killed before it wrote the first lease): a NULL-terminated vector. */
int network_leased_names (char ***out, size_t *n, ctr_error_t *err);
/* The lease text of published ports: "8080/tcp,192.0.2.1:53/udp" (NULL when n is 0). */
char *network_ports_format (const struct network_port *ports, size_t n);
/* 0 when no live lease of another owner than owner, on any network, publishes one of
   ports, and no host socket is bound to one; else -1 naming the port and its holder. */
int network_ports_check_free (const char *owner, const struct network_port *ports, size_t n,
                              ctr_error_t *err);
/* Bridge publish specs: no host port twice. */
int network_ports_check (const struct network_port *ports, size_t n, ctr_error_t *err);
/* The port is published on the host's loopback too (no host address, or one of 127.0.0.0/8):
   its network's bridge needs route_localnet. */
bool network_port_reaches_loopback (const struct network_port *p);
/* /proc/PID/stat field 22, or 0 when the process is gone. */
unsigned long long network_pid_start_time (pid_t pid);

/* ---- nft.c (libnftables, loaded on demand) ---- */
/* Forward (isolation) and, with NAT, masquerade rules of a network, tagged "ctr-net:<name>". */
int network_nft_add_network (const struct network_def *def, ctr_error_t *err);
/* Deletes the network's rules, and the table when nothing is left in it. */
int network_nft_del_network (const char *name, ctr_error_t *err);
/* DNAT rules for published ports to address (IPv4 text), tagged by owner and ifname. */
int network_nft_add_ports (const char *owner, const char *ifname, const char *address,
                           const struct network_port *ports, size_t n, ctr_error_t *err);
/* Deletes the owner's rules (ifname NULL: of every interface). */
int network_nft_del_owner (const char *owner, const char *ifname, ctr_error_t *err);

/* ---- dns.c (dnsmasq, one per network) ---- */
/* With the network's lock held, after its leases changed (leases: what the file now
   holds): the hosts file names every live lease, and the server runs while one exists,
   started on the first; stopped (and a stale one cleaned up) when none is left. */
int network_dns_update (const struct network_def *def, const struct network_leases *leases,
                        ctr_error_t *err);
/* A server may run: its pid file (made before it starts) exists. */
bool network_dns_recorded (const char *name);
/* Stops the network's server, if one may run (network rm). */
void network_dns_stop (const struct network_def *def);
bool network_dns_running (const struct network_def *def);

/* ---- attach.c ---- */
struct netlink;
/* Deletes what dead owners' leases held (host veths, port rules) and clears *stale. */
void network_release_stale (struct netlink *nl, struct network_leases *stale);

#endif
