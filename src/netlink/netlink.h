/* netlink: rtnetlink via libmnl (veth, bridges, addresses, routes); knows nothing of containers. */
#ifndef CTR_NETLINK_H
#define CTR_NETLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

/* One NETLINK_ROUTE socket bound to the network namespace it was opened in. */
struct netlink;

struct netlink *netlink_open (ctr_error_t *err);
/* Opens the socket while inside netns_fd (setns there and back on this thread), so the
   caller keeps working in its own namespace and talks to the other one. */
struct netlink *netlink_open_in_netns (int netns_fd, ctr_error_t *err);
void netlink_close (struct netlink *nl);
void cleanup_netlinkp (struct netlink **nl);
#define cleanup_netlink __attribute__ ((cleanup (cleanup_netlinkp)))

#define NETLINK_IFNAME_MAX 16 /* IFNAMSIZ, with the NUL */

struct netlink_link_info
{
  int index;
  int master; /* 0: none */
  unsigned int flags;
  unsigned int mtu;
  char name[NETLINK_IFNAME_MAX];
  char kind[16];        /* "bridge", "veth", ... ("" when the kernel reports none) */
  char alias[64];       /* IFLA_IFALIAS */
  int link;             /* IFLA_LINK: the lower device (vlan, macvlan, ipvlan), 0: none */
  unsigned int vlan_id; /* kind "vlan": its id */
  uint8_t mac[6];       /* IFLA_ADDRESS (zero when the link has none of 6 bytes) */
};

/* 1 and *out filled when the link exists, 0 when it does not, -1 on error. */
int netlink_link_get (struct netlink *nl, const char *name, struct netlink_link_info *out,
                      ctr_error_t *err);
/* The same by index. */
int netlink_link_get_by_index (struct netlink *nl, int index, struct netlink_link_info *out,
                               ctr_error_t *err);
/* The index of a link (0 when absent), -1 on error. */
int netlink_link_index (struct netlink *nl, const char *name, ctr_error_t *err);

struct netlink_veth
{
  const char *name;        /* host end */
  const char *peer_name;   /* other end */
  int peer_netns_fd;       /* -1: the peer stays here; else created directly in that netns */
  pid_t peer_netns_pid;    /* used when peer_netns_fd < 0 and this is > 0 */
  int master;              /* bridge index for the host end, 0: none */
  unsigned int mtu;        /* 0: kernel default */
  const uint8_t *peer_mac; /* 6 bytes or NULL */
  bool up;                 /* bring the host end up (the peer cannot be: veth_open needs the
                              pair complete; set it up in its namespace afterwards) */
};
/* One RTM_NEWLINK creates both ends (the peer already in its namespace). */
int netlink_veth_create (struct netlink *nl, const struct netlink_veth *v, ctr_error_t *err);
/* A bridge, down, with an optional MTU and alias (IFLA_IFALIAS, marks its owner). */
int netlink_bridge_create (struct netlink *nl, const char *name, unsigned int mtu,
                           const char *alias, ctr_error_t *err);
/* A child of a lower device (index link) created directly in netns_fd (-1: here) as name:
   kind "macvlan" (mode MACVLAN_MODE_*) or "ipvlan" (mode IPVLAN_MODE_*), mtu 0: the
   lower's, mac NULL: the kernel's (ipvlan takes the lower's whatever is asked). */
struct netlink_child
{
  const char *kind;
  const char *name;
  int link;
  int netns_fd;
  unsigned int mode;
  unsigned int mtu;
  const uint8_t *mac;
};
int netlink_child_create (struct netlink *nl, const struct netlink_child *c, ctr_error_t *err);
/* An 802.1Q link name on lower index link with id, down, with an optional alias. */
int netlink_vlan_create (struct netlink *nl, const char *name, int link, unsigned int id,
                         unsigned int mtu, const char *alias, ctr_error_t *err);
/* Moves link index into netns_fd and renames it there (new_name NULL: keeps its name), in one
   message: the name is checked in the target namespace. */
int netlink_link_move (struct netlink *nl, int index, int netns_fd, const char *new_name,
                       ctr_error_t *err);
/* 1 when deleted, 0 when no such link, -1 on error. */
int netlink_link_del (struct netlink *nl, const char *name, ctr_error_t *err);

int netlink_link_set_up (struct netlink *nl, int index, bool up, ctr_error_t *err);
int netlink_link_set_master (struct netlink *nl, int index, int master, ctr_error_t *err);
int netlink_link_set_mtu (struct netlink *nl, int index, unsigned int mtu, ctr_error_t *err);
int netlink_link_set_mac (struct netlink *nl, int index, const uint8_t mac[6], ctr_error_t *err);
int netlink_link_rename (struct netlink *nl, int index, const char *name, ctr_error_t *err);
int netlink_link_set_netns_fd (struct netlink *nl, int index, int netns_fd, ctr_error_t *err);
int netlink_link_set_netns_pid (struct netlink *nl, int index, pid_t pid, ctr_error_t *err);

/* family AF_INET or AF_INET6; addr 4 or 16 bytes. IPv6 addresses skip DAD (NODAD). */
int netlink_addr_add (struct netlink *nl, int index, int family, const void *addr,
                      unsigned int prefix_len, ctr_error_t *err);
/* Default route via gw (4 or 16 bytes) out of index. EEXIST comes back as an error with
   status EEXIST when a default route exists. */
int netlink_route_add_default (struct netlink *nl, int family, const void *gw, int index,
                               ctr_error_t *err);

struct netlink_route
{
  int family;
  uint8_t dst[16];
  unsigned int dst_len;
  int oif;
  unsigned int table;
};
/* Calls fn for every route of family (AF_INET, AF_INET6) in the main table. */
int netlink_route_foreach (struct netlink *nl, int family,
                           void (*fn) (const struct netlink_route *r, void *data), void *data,
                           ctr_error_t *err);

#endif
