/* monitor/net: a system container's networks: attached after create, before start. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/monitor.h"
#include "network/network.h"
#include "rootfs/rootfs.h"
#include "util.h"

/* /etc/hosts and /etc/resolv.conf of the container, as a host would have them. */
static int
write_etc (const struct monitor_config *cfg, char **addresses, ctr_error_t *err)
{
  cleanup_free char *rootfs = xasprintf ("%s/rootfs", cfg->bundle);
  cleanup_free char *resolv = network_resolv_conf ();
  size_t len = 0, cap = 256;
  cleanup_free char *hosts = xmalloc (cap);

  len = snprintf (hosts, cap, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
  for (char **a = addresses; a && *a; a++)
    {
      size_t need = strlen (*a) + strlen (cfg->name) + 4;
      if (len + need >= cap)
        hosts = xrealloc (hosts, cap = (len + need) * 2);
      len += snprintf (hosts + len, cap - len, "%.*s\t%s\n", (int)strcspn (*a, "/"), *a, cfg->name);
    }
  if (rootfs_write_file (rootfs, "/etc/hosts", hosts, len, 0644, err) < 0)
    return -1;
  if (resolv && *resolv
      && rootfs_write_file (rootfs, "/etc/resolv.conf", resolv, strlen (resolv), 0644, err) < 0)
    return -1;
  return 0;
}

int
monitor_net_up (const struct monitor_config *cfg, pid_t pid, char ***addresses, ctr_error_t *err)
{
  cleanup_free char *nspath = NULL;
  cleanup_close int nsfd = -1;
  struct network_list_request req = {
    .owner = cfg->name,
    /* the lease lives as long as the container's init, not the monitor: an orphaned
       container keeps its address */
    .owner_pid = pid,
    .networks = cfg->networks,
    .ip = cfg->ip,
    .publish = cfg->publish,
  };

  *addresses = NULL;
  if (network_list_empty (cfg->networks))
    return 0;
  /* pid is the monitor's own child: it cannot be recycled while we look at it */
  nspath = xasprintf ("/proc/%d/ns/net", pid);
  req.netns_fd = nsfd = open (nspath, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0)
    return ctr_error (err, errno, "open `%s`", nspath);
  if (network_attach_list (&req, addresses, err) < 0)
    return -1;
  if (write_etc (cfg, *addresses, err) < 0)
    {
      monitor_net_down (cfg->name, cfg->networks);
      strv_free (*addresses);
      *addresses = NULL;
      return -1;
    }
  return 0;
}

void
monitor_net_down (const char *name, char *const *networks)
{
  ctr_error_t err = NULL;
  if (!network_list_empty (networks) && network_detach_all (name, &err) < 0)
    ctr_error_print (&err);
}
