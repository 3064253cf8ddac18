/* network/info: listing, inspecting and removing named networks. */
#include <config.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "network/network-internal.h"
#include "netlink/netlink.h"
#include "base/util.h"

void
network_info_clear (struct network_info *info)
{
  size_t i;

  for (i = 0; i < info->n_leases; i++)
    {
      free (info->leases[i].address);
      free (info->leases[i].owner);
      free (info->leases[i].ifname);
      free (info->leases[i].host_ifname);
    }
  free (info->leases);
  free (info->name);
  free (info->bridge);
  free (info->subnet);
  free (info->gateway);
  free (info->subnet6);
  free (info->gateway6);
  strv_free (info->dns_upstream);
  free (info->driver);
  free (info->parent);
  free (info->mode);
  free (info->vlan_link);
  memset (info, 0, sizeof (*info));
}

void
network_info_free_all (struct network_info *infos, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    network_info_clear (&infos[i]);
  free (infos);
}

static void
info_from_def (const struct network_def *d, struct network_info *out)
{
  out->name = xstrdup (d->name);
  out->bridge = xstrdup (d->bridge);
  out->subnet = network_cidr_format (&d->subnet);
  out->gateway = d->no_gateway ? xstrdup ("") : network_addr_format (AF_INET, d->gateway);
  out->driver = xstrdup (network_driver_name (d->driver));
  out->parent = d->parent ? xstrdup (d->parent) : NULL;
  out->mode = d->mode ? xstrdup (d->mode) : NULL;
  out->vlan = d->vlan;
  if (d->vlan)
    {
      char vname[16];
      network_vlan_link_name (d->parent, d->vlan, vname);
      out->vlan_link = xstrdup (vname);
    }
  if (d->has_ipv6)
    {
      out->subnet6 = network_cidr_format (&d->subnet6);
      out->gateway6 = network_addr_format (AF_INET6, d->gateway6);
    }
  out->nat = d->nat;
  out->dns = d->dns;
  out->dhcp = d->dhcp;
  out->dns_upstream = d->dns_upstream ? xstrv_dup (d->dns_upstream) : NULL;
  out->mtu = d->mtu;
}

/* The leases of live owners (read without the lock: a snapshot is all a listing needs). */
static int
info_leases (const char *name, struct network_info *out, ctr_error_t *err)
{
  struct network_leases leases = { 0 }, stale = { 0 };
  size_t i;

  if (network_leases_read (name, &leases, err) < 0)
    return -1;
  network_leases_take_stale (&leases, &stale);
  out->leases = xzalloc ((leases.n + 1) * sizeof (*out->leases));
  for (i = 0; i < leases.n; i++)
    {
      struct network_lease_info *l = &out->leases[out->n_leases++];
      l->address = xstrdup (leases.v[i].address);
      l->owner = xstrdup (leases.v[i].owner);
      l->ifname = xstrdup (leases.v[i].ifname);
      l->host_ifname = xstrdup (leases.v[i].host_ifname);
      l->pid = leases.v[i].pid;
    }
  network_leases_clear (&leases);
  network_leases_clear (&stale);
  return 0;
}

int
network_inspect (const char *name, struct network_info *out, ctr_error_t *err)
{
  struct network_def d;

  memset (out, 0, sizeof (*out));
  if (network_require_root (err) < 0 || network_def_load (name, &d, err) < 0)
    return -1;
  info_from_def (&d, out);
  network_def_clear (&d);
  if (info_leases (name, out, err) < 0)
    {
      network_info_clear (out);
      return -1;
    }
  return 0;
}

int
network_list (struct network_info **out, size_t *n, ctr_error_t *err)
{
  cleanup_strv char **names = NULL;
  size_t count, i;

  *out = NULL;
  *n = 0;
  if (network_require_root (err) < 0)
    return -1;
  network_remove_stale_tmp ();
  if (network_def_names (&names, &count, err) < 0)
    return -1;
  *out = xzalloc ((count + 1) * sizeof (**out));
  for (i = 0; i < count; i++)
    {
      if (network_inspect (names[i], &(*out)[*n], err) < 0)
        {
          network_info_free_all (*out, *n);
          *out = NULL;
          *n = 0;
          return -1;
        }
      (*n)++;
    }
  return 0;
}

/* Deletes the bridge when it carries ctr's mark for this network. */
static int
remove_bridge (struct netlink *nl, const struct network_def *d, ctr_error_t *err)
{
  cleanup_free char *alias = network_bridge_alias (d->name);
  struct netlink_link_info info;
  int r = netlink_link_get (nl, d->bridge, &info, err);

  if (r <= 0)
    return r;
  if (strcmp (info.alias, alias) != 0 || strcmp (info.kind, "bridge") != 0)
    return 0; /* someone else's link took the name after ours went: not ours to delete */
  return netlink_link_del (nl, d->bridge, err) < 0 ? -1 : 0;
}

static int
unlink_run_file (const char *name, const char *suffix, ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s%s", network_run_dir (), name, suffix);

  if (unlink (path) < 0 && errno != ENOENT)
    return ctr_error (err, errno, "remove `%s`", path);
  return 0;
}

/* "`a`, `b`" of the live leases' owners and the users the caller named, each once. */
static char *
users_text (const struct network_leases *leases, char *const *users)
{
  char *out = NULL;

  for (size_t i = 0; i < leases->n + strv_len (users); i++)
    {
      const char *u = i < leases->n ? leases->v[i].owner : users[i - leases->n];
      cleanup_free char *needle = xasprintf ("`%s`", u), *prev = out;
      if (prev && strstr (prev, needle))
        {
          out = steal_ptr (prev);
          continue;
        }
      out = prev ? xasprintf ("%s, %s", prev, needle) : xstrdup (needle);
    }
  return out;
}

/* With the network's lock held: refuses while it is used (unless forced), then tears down.
   Forced, live owners' veths and port rules go as a dead owner's would. */
static int
remove_locked (const struct network_def *d, const struct network_remove_options *o,
               ctr_error_t *err)
{
  struct network_leases leases = { 0 }, stale = { 0 };
  cleanup_netlink struct netlink *nl = NULL;
  cleanup_free char *path = network_def_path (d->name), *users = NULL;
  int r = -1;

  if (network_leases_read (d->name, &leases, err) < 0)
    return -1;
  network_leases_take_stale (&leases, &stale);
  users = users_text (&leases, o->users);
  if (users && !o->force)
    {
      ctr_error (err, 0, "network `%s` is in use by %s: remove it from them first, or pass --force",
                 d->name, users);
      goto out;
    }
  if (users)
    fprintf (stderr, "ctr: warning: removing network `%s` still used by %s\n", d->name, users);
  nl = netlink_open (err);
  if (nl == NULL)
    goto out;
  network_release_stale (nl, &stale);
  network_release_stale (nl, &leases);
  network_dns_stop (d);
  network_lower_release (nl, d);
  if (remove_bridge (nl, d, err) < 0 || network_nft_del_network (d->name, err) < 0
      || unlink_run_file (d->name, ".leases", err) < 0
      || unlink_run_file (d->name, ".leases.tmp", err) < 0)
    goto out;
  if (unlink (path) < 0 && errno != ENOENT)
    {
      ctr_error (err, errno, "remove `%s`", path);
      goto out;
    }
  r = unlink_run_file (d->name, ".lock", err);
out:
  network_leases_clear (&leases);
  network_leases_clear (&stale);
  return r;
}

int
network_remove_with (const char *name, const struct network_remove_options *o, ctr_error_t *err)
{
  cleanup_close int global = -1, lock = -1;
  cleanup_free char *lock_name = NULL;
  struct network_def d;
  int r;

  if (network_require_root (err) < 0)
    return -1;
  network_remove_stale_tmp ();
  global = network_lock_file ("networks.lock", err);
  if (global < 0 || network_def_load (name, &d, err) < 0)
    return -1;
  lock_name = xasprintf ("%s.lock", name);
  lock = network_lock_file (lock_name, err);
  r = lock < 0 ? -1 : remove_locked (&d, o, err);
  network_def_clear (&d);
  return r;
}

int
network_remove (const char *name, ctr_error_t *err)
{
  struct network_remove_options o = { 0 };
  return network_remove_with (name, &o, err);
}
