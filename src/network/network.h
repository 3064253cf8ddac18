/* network: named networks (bridge, subnet, IPAM leases, NAT, published ports), attach, detach. */
#ifndef CTR_NETWORK_H
#define CTR_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

/* The default network, created on first use by network_attach. */
#define NETWORK_DEFAULT_NAME "ctr0"

/* ---- what ctr run / the monitor call ---- */

struct network_port
{                /* parsed --publish */
  char *host_ip; /* NULL: every local address */
  uint16_t host_port, port;
  int proto; /* IPPROTO_TCP/UDP */
};
/* [HOSTIP:]HOSTPORT:PORT[/tcp|udp] (HOSTIP an IPv4 address). */
int network_parse_publish (const char *spec, struct network_port *out, ctr_error_t *err);
void network_port_clear (struct network_port *p);
/* Every --publish spec of a list (*ports has *n entries, even after a failure: free them
   with network_ports_free). */
int network_parse_ports (char *const *publish, struct network_port **ports, size_t *n,
                         ctr_error_t *err);
void network_ports_free (struct network_port *ports, size_t n);

struct network_attach_request
{
  const char *network;   /* NULL or "ctr0": the default network, created on first use */
  const char *owner;     /* the container's id/name: tags leases and nft rules */
  pid_t owner_pid;       /* the process whose death frees the lease (monitor or ctr run) */
  const char *ifname;    /* name inside the container: "eth0", "eth1", ... */
  const char *static_ip; /* NULL, or an address inside the subnet */
  int netns_fd;          /* the container's network namespace */
  const struct network_port *ports;
  size_t n_ports;
};

struct network_attachment
{
  char *network, *ifname, *host_ifname, *address /* "10.88.0.5/16" */, *gateway, *mac;
  char *address6, *gateway6; /* NULL unless the network has IPv6 */
};

/* Leases an address, creates the veth pair (host end in the bridge, peer created in
   netns_fd as ifname), sets the addresses, brings up lo and ifname, adds the default route
   via the gateway unless the namespace already has one, adds the NAT/port rules. Undoes
   everything on failure. */
int network_attach (const struct network_attach_request *req, struct network_attachment *out,
                    ctr_error_t *err);
/* Removes everything the owner holds on every network: host veths, leases, nft rules.
   Idempotent; fine to call when nothing is held. */
int network_detach_all (const char *owner, ctr_error_t *err);
void network_attachment_clear (struct network_attachment *a);
/* resolv.conf text for containers: the host's /etc/resolv.conf minus 127.* nameservers
   (systemd-resolved stubs), falling back to nothing (an empty string). */
char *network_resolv_conf (void);
/* resolv.conf text for a container on networks: the gateway of each bridge network whose
   DNS server runs (at most 3) and `search` with their names, then the host's search domains
   and options; NULL when none of them has a server. */
char *network_dns_resolv_conf (char *const *networks);

/* A container's list of networks, attached as eth0, eth1, ... (ip and the published ports
   go to the first). "none" or "host" alone (or an empty list) attaches nothing. */
struct network_list_request
{
  const char *owner;
  pid_t owner_pid;
  int netns_fd;
  char *const *networks;
  const char *ip;
  char *const *publish;
};
bool network_list_empty (char *const *networks);
/* *addresses: NULL-terminated "10.88.0.5/16" (and IPv6) strings. All or nothing. */
int network_attach_list (const struct network_list_request *req, char ***addresses,
                         ctr_error_t *err);

/* A container's settings checked when given (create, config set) rather than at start:
   every bridge network of the list exists (the default one may be missing: it is made on
   first use), ip is a free host address of the first one, and no published host port is
   taken by another container (on any network) or a host socket. The owner's own leases
   do not count. Nothing to check (0) for none, host, user-mode or a non-root caller. */
int network_check_settings (const struct network_list_request *req, ctr_error_t *err);

/* ---- what `ctr network` calls ---- */

struct network_create_options
{
  const char *subnet;  /* NULL: the first free 10.N.0.0/16 */
  const char *gateway; /* NULL: the first address of the subnet */
  const char *bridge;  /* NULL: the network's name when it fits, else ctr-<hash> */
  const char *ipv6;    /* NULL: no IPv6 */
  bool no_nat;
  unsigned int mtu;          /* 0: 1500 */
  bool no_dns;               /* no dnsmasq for the network */
  bool dhcp;                 /* its dnsmasq also serves DHCP (containers' leases, then a range) */
  char *const *dns_upstream; /* NULL: the host's resolvers; else addresses */
  const char *driver;        /* NULL or "bridge", "macvlan", "ipvlan" */
  const char *parent;        /* host interface (macvlan/ipvlan: needed; bridge: with vlan) */
  const char *mode;          /* macvlan: bridge|private|vepa|passthru; ipvlan: l2|l3|l3s */
  unsigned int vlan;         /* 0: none; 1..4094: a VLAN link PARENT.ID is the parent */
};
int network_create (const char *name, const struct network_create_options *opts, ctr_error_t *err);
/* Refused while leases of live owners exist; deletes the bridge, rules, leases. */
int network_remove (const char *name, ctr_error_t *err);
struct network_remove_options
{
  char *const *users; /* NULL, or who else names the network (stored system containers) */
  bool force;         /* remove it anyway, with a warning; live owners' veths and rules go */
};
/* Refused while live leases exist or users is not empty, unless forced. */
int network_remove_with (const char *name, const struct network_remove_options *o,
                         ctr_error_t *err);

struct network_lease_info
{
  char *address, *owner, *ifname, *host_ifname;
  pid_t pid;
};
struct network_info
{
  char *name, *bridge, *subnet, *gateway, *subnet6, *gateway6;
  bool nat, dns, dhcp;
  unsigned int mtu;
  char **dns_upstream;
  char *driver, *parent, *mode, *vlan_link; /* parent, mode, vlan_link: NULL when none */
  unsigned int vlan;
  struct network_lease_info *leases;
  size_t n_leases;
};
/* Every network, sorted by name (leases of live owners only). */
int network_list (struct network_info **out, size_t *n, ctr_error_t *err);
int network_inspect (const char *name, struct network_info *out, ctr_error_t *err);
void network_info_clear (struct network_info *info);
void network_info_free_all (struct network_info *infos, size_t n);

/* Where definitions and runtime files live: $CTR_NETWORK_ROOT/{networks,run} when set
   (tests), else /var/lib/ctr/networks and /run/ctr-networks. */
const char *network_config_dir (void);
const char *network_run_dir (void);

/* ---- user-mode networking (usermode.c): a helper process, no privilege, no bridge ---- */

/* "phys:IFNAME": a host interface moved into the container for its life (phys.c). */
bool network_is_phys (const char *network);

/* "slirp4netns", "pasta", or "user" (pasta when installed, else slirp4netns). */
bool network_is_usermode (const char *network);

struct network_usermode_request
{
  const char *network; /* "user", "pasta" or "slirp4netns" */
  int netns_fd;        /* the container's network namespace */
  int userns_fd;       /* the user namespace owning it when not ours (rootless), else -1 */
  int api_dirfd;       /* a private directory: slirp4netns's socket while ports are added */
  char *const *publish;
};

struct network_usermode
{
  const char *helper; /* "pasta" or "slirp4netns" */
  pid_t pid;          /* our child, 0 once reaped */
  int pidfd;
  int exit_fd;       /* slirp4netns --exit-fd: it leaves when the holder closes it or dies */
  char *address;     /* the container's IPv4 address, "10.0.2.100/24" */
  char *resolv_conf; /* what the container's /etc/resolv.conf should say */
};

/* Starts the helper as a child of the caller against netns_fd and returns once the
   namespace has eth0 with an address, a default route and a DNS forwarder, and the ports
   are published (--publish specs, as for bridges). The helper dies with the caller
   (exit-fd, parent-death signal) and leaves no file behind. All or nothing. */
int network_usermode_start (const struct network_usermode_request *req,
                            struct network_usermode *out, ctr_error_t *err);
/* Ends and reaps the helper, frees *u; fine on a stopped one. */
void network_usermode_stop (struct network_usermode *u);

/* `ctr run --net`: attaches an OCI container to opts->networks as the lifecycle's attach
   step (runtime/container.h), and detaches it; what it attached is recorded in the
   container's state directory first, so `delete` undoes even a run killed halfway. */
struct container_attach_step;
extern const struct container_attach_step network_container_step;

#endif
