/* network/drivers: macvlan and ipvlan networks and the VLAN links ctr makes on a parent. */
#include <config.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_link.h>

#include "network/network-internal.h"
#include "netlink/netlink.h"
#include "base/util.h"

static const char *const driver_names[] = { "bridge", "macvlan", "ipvlan" };

static const struct
{
  enum network_driver driver;
  const char *name;
  unsigned int value;
} modes[] = {
  { NETWORK_DRIVER_MACVLAN, "bridge", MACVLAN_MODE_BRIDGE },
  { NETWORK_DRIVER_MACVLAN, "private", MACVLAN_MODE_PRIVATE },
  { NETWORK_DRIVER_MACVLAN, "vepa", MACVLAN_MODE_VEPA },
  { NETWORK_DRIVER_MACVLAN, "passthru", MACVLAN_MODE_PASSTHRU },
  { NETWORK_DRIVER_IPVLAN, "l2", IPVLAN_MODE_L2 },
  { NETWORK_DRIVER_IPVLAN, "l3", IPVLAN_MODE_L3 },
  { NETWORK_DRIVER_IPVLAN, "l3s", IPVLAN_MODE_L3S },
};

const char *
network_driver_name (enum network_driver d)
{
  return (size_t)d < ARRAY_SIZE (driver_names) ? driver_names[d] : "bridge";
}

int
network_driver_parse (const char *s, enum network_driver *out, ctr_error_t *err)
{
  *out = NETWORK_DRIVER_BRIDGE;
  if (s == NULL)
    return 0;
  for (size_t i = 0; i < ARRAY_SIZE (driver_names); i++)
    if (strcmp (s, driver_names[i]) == 0)
      {
        *out = (enum network_driver)i;
        return 0;
      }
  return ctr_error (err, 0, "--driver %s: unknown driver (bridge, macvlan or ipvlan)", s);
}

int
network_mode_value (enum network_driver d, const char *mode, unsigned int *out, ctr_error_t *err)
{
  *out = d == NETWORK_DRIVER_IPVLAN ? IPVLAN_MODE_L2 : MACVLAN_MODE_BRIDGE;
  if (mode == NULL)
    return 0;
  if (d == NETWORK_DRIVER_BRIDGE)
    return ctr_error (err, 0, "--mode %s: the bridge driver has no modes (macvlan and ipvlan do)",
                      mode);
  for (size_t i = 0; i < ARRAY_SIZE (modes); i++)
    if (modes[i].driver == d && strcmp (modes[i].name, mode) == 0)
      {
        *out = modes[i].value;
        return 0;
      }
  return ctr_error (err, 0, "--mode %s: not a mode of %s (%s)", mode, network_driver_name (d),
                    d == NETWORK_DRIVER_MACVLAN ? "bridge, private, vepa or passthru"
                                                : "l2, l3 or l3s");
}

void
network_vlan_link_name (const char *parent, unsigned int vlan, char out[16])
{
  char id[8];
  int idlen = snprintf (id, sizeof (id), ".%u", vlan);

  /* "enp0s31f6.1234" fits; a longer parent loses its end, never the id */
  snprintf (out, 16, "%.*s%s", 15 - idlen, parent, id);
}

int
network_driver_check_options (const char *name, const struct network_create_options *o,
                              ctr_error_t *err)
{
  enum network_driver d;
  unsigned int mode;
  const char *dn;

  if (network_driver_parse (o->driver, &d, err) < 0
      || network_mode_value (d, o->mode, &mode, err) < 0
      || (o->parent && network_check_ifname (o->parent, "--parent", err) < 0))
    return ctr_error_wrap (err, "network create %s", name);
  dn = network_driver_name (d);
  if (o->vlan > 4094)
    return ctr_error (err, 0, "network create %s: --vlan %u: out of range (1 to 4094)", name,
                      o->vlan);
  if (o->vlan && o->parent == NULL)
    return ctr_error (err, 0, "network create %s: --vlan needs --parent IFNAME", name);
  if (d == NETWORK_DRIVER_BRIDGE)
    {
      if (o->parent && o->vlan == 0)
        return ctr_error (err, 0,
                          "network create %s: --parent on a bridge network needs --vlan ID "
                          "(ctr enslaves only the VLAN link it makes)",
                          name);
      return 0;
    }
  if (o->parent == NULL)
    return ctr_error (err, 0, "network create %s: --driver %s needs --parent IFNAME", name, dn);
  if (o->bridge)
    return ctr_error (err, 0, "network create %s: --bridge is not an option of driver %s", name,
                      dn);
  if (o->no_nat)
    return ctr_error (err, 0,
                      "network create %s: --no-nat is not an option of driver %s (it never "
                      "NATs)",
                      name, dn);
  if (o->dns_upstream && o->dns_upstream[0])
    return ctr_error (err, 0,
                      "network create %s: --dns-upstream is not an option of driver %s (no "
                      "DNS server on its networks)",
                      name, dn);
  if (o->dhcp)
    return ctr_error (err, 0,
                      "network create %s: --dhcp is not an option of driver %s (no DNS/DHCP "
                      "server on its networks)",
                      name, dn);
  if (o->gateway && o->subnet == NULL)
    return ctr_error (err, 0, "network create %s: --gateway needs --subnet with driver %s", name,
                      dn);
  return 0;
}

/* An existing link named like our VLAN link must be that VLAN of the parent. */
static int
check_vlan_link (const char *name, const struct netlink_link_info *v, int parent, unsigned int id,
                 const char *net, ctr_error_t *err)
{
  if (strcmp (v->kind, "vlan") != 0 || v->link != parent || v->vlan_id != id)
    return ctr_error (err, 0,
                      "network create %s: --vlan %u: a link `%s` exists and is not VLAN %u of "
                      "the parent",
                      net, id, name, id);
  return 0;
}

int
network_driver_check_host (struct netlink *nl, struct network_def *d,
                           const struct network_def *defs, size_t n_defs, ctr_error_t *err)
{
  struct netlink_link_info p, v;
  char vname[16];
  int r;

  if (d->parent == NULL)
    return 0;
  r = netlink_link_get (nl, d->parent, &p, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return ctr_error (err, 0, "network create %s: --parent %s: no such interface", d->name,
                      d->parent);
  if (p.index == 1 || strcmp (p.kind, "bridge") == 0 || strcmp (d->parent, "lo") == 0)
    return ctr_error (err, 0, "network create %s: --parent %s: %s cannot be a parent", d->name,
                      d->parent, strcmp (p.kind, "bridge") == 0 ? "a bridge" : "loopback");
  if (d->mtu == 0)
    d->mtu = p.mtu ? p.mtu : 1500;
  else if (d->driver != NETWORK_DRIVER_BRIDGE && p.mtu && d->mtu > p.mtu)
    return ctr_error (err, 0, "network create %s: --mtu %u: above the MTU %u of parent %s", d->name,
                      d->mtu, p.mtu, d->parent);
  if (d->vlan == 0)
    return 0;
  network_vlan_link_name (d->parent, d->vlan, vname);
  for (size_t i = 0; i < n_defs; i++)
    if (defs[i].parent && defs[i].vlan == d->vlan && strcmp (defs[i].parent, d->parent) == 0)
      return ctr_error (err, 0, "network create %s: --vlan %u on %s: network `%s` has it", d->name,
                        d->vlan, d->parent, defs[i].name);
  r = netlink_link_get (nl, vname, &v, err);
  if (r < 0)
    return -1;
  return r == 0 ? 0 : check_vlan_link (vname, &v, p.index, d->vlan, d->name, err);
}

int
network_lower_ensure (struct netlink *nl, const struct network_def *def, int bridge,
                      ctr_error_t *err)
{
  cleanup_free char *alias = NULL;
  struct netlink_link_info p, v;
  char vname[16];
  int r;

  if (def->parent == NULL)
    return 0;
  r = netlink_link_get (nl, def->parent, &p, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return ctr_error (err, 0, "network `%s`: parent %s: no such interface", def->name, def->parent);
  if (!(p.flags & IFF_UP) && netlink_link_set_up (nl, p.index, true, err) < 0)
    return -1;
  if (def->vlan == 0)
    return p.index;
  network_vlan_link_name (def->parent, def->vlan, vname);
  r = netlink_link_get (nl, vname, &v, err);
  if (r < 0)
    return -1;
  if (r == 0)
    {
      /* marked as the bridge is: only a link with ctr's mark is deleted again */
      alias = network_bridge_alias (def->name);
      if (netlink_vlan_create (nl, vname, p.index, def->vlan,
                               def->driver == NETWORK_DRIVER_BRIDGE ? 0 : def->mtu, alias, err)
              < 0
          || netlink_link_get (nl, vname, &v, err) <= 0)
        {
          if (*err == NULL)
            ctr_error (err, ENODEV, "VLAN link `%s` vanished after creation", vname);
          network_lower_release (nl, def);
          return ctr_error_wrap (err, "network `%s`", def->name);
        }
    }
  else if (strcmp (v.kind, "vlan") != 0 || v.link != p.index || v.vlan_id != def->vlan)
    return ctr_error (err, 0, "network `%s`: a link `%s` exists and is not VLAN %u of %s",
                      def->name, vname, def->vlan, def->parent);
  if (bridge > 0 && v.master != bridge && netlink_link_set_master (nl, v.index, bridge, err) < 0)
    return -1;
  if (!(v.flags & IFF_UP) && netlink_link_set_up (nl, v.index, true, err) < 0)
    return -1;
  return v.index;
}

void
network_lower_release (struct netlink *nl, const struct network_def *def)
{
  cleanup_free char *alias = NULL;
  struct netlink_link_info v;
  ctr_error_t ignored = NULL;
  char vname[16];

  if (def->parent == NULL || def->vlan == 0)
    return;
  network_vlan_link_name (def->parent, def->vlan, vname);
  alias = network_bridge_alias (def->name);
  if (netlink_link_get (nl, vname, &v, &ignored) > 0 && strcmp (v.kind, "vlan") == 0
      && strcmp (v.alias, alias) == 0 && netlink_link_del (nl, vname, &ignored) >= 0)
    return;
  ctr_error_free (&ignored);
}

int
network_child_create (struct netlink *nl, const struct network_def *def, int lower, int netns_fd,
                      const char *ifname, const uint8_t mac[6], ctr_error_t *err)
{
  struct netlink_child c = { .kind = network_driver_name (def->driver),
                             .name = ifname,
                             .link = lower,
                             .netns_fd = netns_fd,
                             .mtu = def->mtu,
                             .mac = mac };

  if (network_mode_value (def->driver, def->mode, &c.mode, err) < 0)
    return -1;
  return netlink_child_create (nl, &c, err);
}
