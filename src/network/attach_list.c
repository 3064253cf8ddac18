/* network/attach_list: a container's whole list of networks at once (eth0, eth1, ...). */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "network/network.h"
#include "base/log.h"
#include "base/util.h"

bool
network_list_empty (char *const *networks)
{
  return networks == NULL || networks[0] == NULL || strcmp (networks[0], "none") == 0
         || strcmp (networks[0], "host") == 0;
}

int
network_parse_ports (char *const *publish, struct network_port **ports, size_t *n, ctr_error_t *err)
{
  size_t count = strv_len (publish);
  *ports = xzalloc ((count + 1) * sizeof **ports);
  for (*n = 0; *n < count; (*n)++)
    if (network_parse_publish (publish[*n], &(*ports)[*n], err) < 0)
      return ctr_error_wrap (err, "publish");
  return 0;
}

void
network_ports_free (struct network_port *ports, size_t n)
{
  for (size_t i = 0; i < n; i++)
    network_port_clear (&ports[i]);
  free (ports);
}

int
network_attach_list (const struct network_list_request *req, char ***addresses, ctr_error_t *err)
{
  struct network_port *ports = NULL;
  size_t n_ports = 0, k = 0, count = strv_len (req->networks);
  ctr_error_t ignored = NULL;
  int r = -1;

  *addresses = xzalloc ((2 * count + 1) * sizeof (char *));
  if (network_list_empty (req->networks))
    return 0;
  if (network_parse_ports (req->publish, &ports, &n_ports, err) < 0)
    goto out;
  for (size_t i = 0; i < count; i++)
    {
      cleanup_free char *ifname = xasprintf ("eth%zu", i);
      struct network_attach_request a_req = {
        .network = req->networks[i],
        .owner = req->owner,
        .owner_pid = req->owner_pid,
        .ifname = ifname,
        .static_ip = i == 0 ? req->ip : NULL,
        .netns_fd = req->netns_fd,
        .ports = i == 0 ? ports : NULL,
        .n_ports = i == 0 ? n_ports : 0,
      };
      struct network_attachment a = { 0 };
      if (network_attach (&a_req, &a, err) < 0)
        {
          ctr_error_wrap (err, "net `%s`", req->networks[i]);
          goto out;
        }
      ctr_log_debug ("net `%s`: %s of `%s` is %s", req->networks[i], ifname, req->owner,
                     a.address ? a.address : "up");
      if (a.address) /* phys: interfaces get no address from ctr */
        (*addresses)[k++] = steal_ptr (a.address);
      if (a.address6)
        (*addresses)[k++] = steal_ptr (a.address6);
      network_attachment_clear (&a);
    }
  r = 0;
out:
  network_ports_free (ports, n_ports);
  if (r < 0)
    {
      if (network_detach_all (req->owner, &ignored) < 0)
        ctr_error_free (&ignored);
      strv_free (*addresses);
      *addresses = NULL;
    }
  return r;
}
