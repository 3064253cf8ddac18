/* network/check: a container's network settings checked when they are given (create,
   config set), not first when it starts. */
#include <config.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "network/network-internal.h"
#include "base/util.h"

/* A network that needs a definition (not none, host or user-mode). */
static bool
is_bridge (const char *name)
{
  return strcmp (name, "none") != 0 && strcmp (name, "host") != 0 && !network_is_usermode (name)
         && !network_is_phys (name);
}

/* ip on the first network: a free host address of its subnet (the owner's own lease aside). */
static int
check_ip (const struct network_def *def, const char *owner, const char *ip, ctr_error_t *err)
{
  struct network_leases l = { 0 }, stale = { 0 };
  size_t kept = 0;
  uint8_t addr[16];
  int r;

  if (network_leases_read (def->name, &l, err) < 0)
    return -1;
  network_leases_take_stale (&l, &stale);
  for (size_t i = 0; i < l.n; i++)
    {
      if (strcmp (l.v[i].owner, owner) != 0)
        {
          l.v[kept++] = l.v[i];
          continue;
        }
      stale.v = xrealloc (stale.v, (stale.n + 1) * sizeof (*stale.v));
      stale.v[stale.n++] = l.v[i];
    }
  l.n = kept;
  r = network_leases_pick (def, &l, ip, addr, err);
  network_leases_clear (&l);
  network_leases_clear (&stale);
  return r;
}

static int
check_publish (const char *owner, char *const *publish, ctr_error_t *err)
{
  struct network_port *ports = NULL;
  size_t n = 0;
  int r = network_parse_ports (publish, &ports, &n, err);

  if (r == 0)
    r = network_ports_check (ports, n, err);
  if (r == 0)
    r = network_ports_check_free (owner, ports, n, err);
  network_ports_free (ports, n);
  return r;
}

int
network_check_settings (const struct network_list_request *req, ctr_error_t *err)
{
  char *const *nets = req->networks;
  struct network_def def = { 0 };
  bool have_def = false;
  int r = 0;

  if (geteuid () != 0 || network_list_empty (nets)
      || (!is_bridge (nets[0]) && !network_is_phys (nets[0])))
    return 0; /* nothing of a bridge: the callers check rootless and user-mode rules */
  for (size_t i = 0; nets[i] && r == 0; i++)
    {
      struct network_def d;
      if (network_is_phys (nets[i]) && network_phys_check (nets[i], req->owner, err) < 0)
        return -1;
      if (!is_bridge (nets[i]))
        continue;
      if (network_def_load (nets[i], &d, err) < 0)
        {
          /* the default network is made on first use */
          if ((*err)->status != ENOENT || strcmp (nets[i], NETWORK_DEFAULT_NAME) != 0)
            return ctr_error_wrap (err, "net");
          ctr_error_free (err);
          continue;
        }
      if (i == 0)
        def = d, have_def = true;
      else
        network_def_clear (&d);
    }
  if (req->ip && have_def && check_ip (&def, req->owner, req->ip, err) < 0)
    r = ctr_error_wrap (err, "ip");
  if (r == 0 && req->publish && req->publish[0]
      && (network_is_phys (nets[0]) || (have_def && def.driver != NETWORK_DRIVER_BRIDGE)))
    r = ctr_error (err, 0,
                   "publish: net `%s` publishes no ports (a %s network: its containers are "
                   "reachable on their own address)",
                   nets[0], have_def ? network_driver_name (def.driver) : "phys");
  if (r == 0 && req->publish)
    r = check_publish (req->owner, req->publish, err);
  network_def_clear (&def);
  return r;
}
