/* monitor_net: a system container's networks: attached after create, before start. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "system/monitor.h"
#include "system/userns_child.h"
#include "namespaces/namespaces.h"
#include "network/network.h"
#include "rootfs/rootfs.h"
#include "runtime/state.h"
#include "base/util.h"
#include "base/log.h"

/* The user-mode helper of this monitor's container (one monitor = one container). */
static struct network_usermode usermode = { .pidfd = -1, .exit_fd = -1 };

struct etc_files
{
  const char *hosts, *resolv;
};

static int
write_etc_files (const char *rootfs, const struct etc_files *f, ctr_error_t *err)
{
  if (rootfs_write_file (rootfs, "/etc/hosts", f->hosts, strlen (f->hosts), 0644, err) < 0)
    return -1;
  if (f->resolv && *f->resolv
      && rootfs_write_file (rootfs, "/etc/resolv.conf", f->resolv, strlen (f->resolv), 0644, err)
             < 0)
    return -1;
  return 0;
}

/* Rootless, the files go in through the container's own user and mount namespaces (whose
   root is its root, an overlay volume or an ephemeral layer mounted in them, which the
   host's rootfs directory does not show); the monitor owns its user namespace, so it may
   join both, in a child. */
struct etc_inside
{
  int userns, mntns;
  const struct etc_files *f;
};

static int
write_etc_inside (void *arg, char **out, ctr_error_t *err)
{
  const struct etc_inside *a = arg;
  (void)out;
  if (setns (a->userns, CLONE_NEWUSER) < 0 || setns (a->mntns, CLONE_NEWNS) < 0)
    return ctr_error (err, errno, "join the container's namespaces");
  return write_etc_files ("/", a->f, err);
}

/* /etc/hosts and /etc/resolv.conf of the container, as a host would have them. */
static int
write_etc (const struct monitor_config *cfg, int userns, int mntns, char **addresses,
           const char *resolv_text, ctr_error_t *err)
{
  cleanup_free char *rootfs = xasprintf ("%s/rootfs", cfg->bundle);
  cleanup_free char *resolv = resolv_text ? xstrdup (resolv_text) : network_resolv_conf ();
  size_t len = 0, cap = 256;
  cleanup_free char *hosts = xmalloc (cap);
  struct etc_files f;

  len = snprintf (hosts, cap, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
  for (char **a = addresses; a && *a; a++)
    {
      size_t need = strlen (*a) + strlen (cfg->name) + 4;
      if (len + need >= cap)
        hosts = xrealloc (hosts, cap = (len + need) * 2);
      len += snprintf (hosts + len, cap - len, "%.*s\t%s\n", (int)strcspn (*a, "/"), *a, cfg->name);
    }
  f = (struct etc_files){ hosts, resolv };
  if (is_rootless () && userns >= 0 && mntns >= 0)
    {
      struct etc_inside a = { userns, mntns, &f };
      return child_call (write_etc_inside, &a, NULL, err);
    }
  return write_etc_files (rootfs, &f, err);
}

/* slirp4netns or pasta against init's namespaces, owned by this monitor: it ends with the
   container (monitor_net_down) or with the monitor itself. */
static int
usermode_up (const struct monitor_config *cfg, int nsfd, int usfd, int mntns, char ***addresses,
             ctr_error_t *err)
{
  cleanup_close int dirfd = -1;
  struct network_usermode_request req = { .network = cfg->networks[0], .publish = cfg->publish };

  if (cfg->networks[1])
    return ctr_error (err, 0, "net `%s` cannot be combined with other networks", cfg->networks[0]);
  if (cfg->ip)
    return ctr_error (err, 0, "net `%s`: --ip is not supported (the helper picks the address)",
                      cfg->networks[0]);
  req.netns_fd = nsfd;
  req.userns_fd = geteuid () != 0 && !ns_is_own (usfd, "user") ? usfd : -1;
  /* the container's own 0700 state directory holds slirp4netns's socket a moment */
  req.api_dirfd = dirfd = state_dir_open (container_state_root (cfg->ctx), cfg->name, err);
  if (dirfd < 0)
    return -1;
  if (network_usermode_start (&req, &usermode, err) < 0)
    return -1;
  *addresses = xzalloc (2 * sizeof (char *));
  if (usermode.address)
    (*addresses)[0] = xstrdup (usermode.address);
  if (write_etc (cfg, usfd, mntns, *addresses, usermode.resolv_conf, err) < 0)
    {
      network_usermode_stop (&usermode);
      strv_free (*addresses);
      *addresses = NULL;
      return -1;
    }
  return 0;
}

int
monitor_net_up (const struct monitor_config *cfg, pid_t pid, int nsfd, int usfd, int mntns_fd,
                char ***addresses, ctr_error_t *err)
{
  struct network_list_request req = {
    .owner = cfg->name,
    /* the lease lives as long as the container's init, not the monitor: an orphaned
       container keeps its address */
    .owner_pid = pid,
    .netns_fd = nsfd,
    .networks = cfg->networks,
    .ip = cfg->ip,
    .publish = cfg->publish,
  };

  cleanup_free char *resolv = NULL;

  *addresses = NULL;
  if (network_list_empty (cfg->networks)
      && !(cfg->networks && network_is_usermode (cfg->networks[0])))
    return 0;
  if (nsfd < 0 || usfd < 0)
    return ctr_error (err, EPROTO, "net: the container did not hand over its namespaces");
  if (ns_is_own (nsfd, "net"))
    return ctr_error (err, 0,
                      "net `%s`: the container has no network namespace of its own "
                      "(add {\"type\": \"network\"} to linux.namespaces)",
                      cfg->networks[0]);
  if (network_is_usermode (cfg->networks[0]))
    return usermode_up (cfg, nsfd, usfd, mntns_fd, addresses, err);
  if (network_attach_list (&req, addresses, err) < 0)
    return -1;
  /* the networks' DNS servers (which know the containers by name), else the host's */
  resolv = network_dns_resolv_conf (cfg->networks);
  if (write_etc (cfg, usfd, mntns_fd, *addresses, resolv, err) < 0)
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
  /* a helper whose monitor died went with it (exit-fd, parent-death signal): only the
     monitor's own has anything to undo */
  network_usermode_stop (&usermode);
  if (networks && network_is_usermode (networks[0]))
    return;
  if (!network_list_empty (networks) && network_detach_all (name, &err) < 0)
    ctr_error_print (&err);
}
