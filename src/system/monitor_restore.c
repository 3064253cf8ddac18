/* monitor_restore: a system container brought back by its (new) monitor from a criu image:
   a network namespace made here with the networks attached again, then criu restores init
   into it as the monitor's child, as a started init would be. An unprivileged container's
   network namespace must belong to its user namespace, which only criu makes: criu makes
   that one too, empty, and the networks are attached to it before the tasks run. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "system/monitor.h"
#include "base/log.h"
#include "base/memory.h"
#include "base/util.h"

/* A new network namespace, open: the monitor (single-threaded) enters it a moment to get
   an fd of it, then goes back to its own. */
static int
new_netns (ctr_error_t *err)
{
  cleanup_close int own = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd;

  if (own < 0)
    return ctr_error (err, errno, "open /proc/self/ns/net");
  if (unshare (CLONE_NEWNET) < 0)
    return ctr_error (err, errno, "restore: a network namespace for the container");
  fd = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (setns (own, CLONE_NEWNET) < 0)
    {
      /* a monitor left in the wrong namespace would attach nothing right: stop here */
      fprintf (stderr, "ctr: restore: back to the monitor's network namespace: %s\n",
               strerror (errno));
      _exit (1);
    }
  if (fd < 0)
    return ctr_error (err, errno, "restore: open the new network namespace");
  return fd;
}

struct attach_later
{
  const struct monitor_config *cfg;
  char ***addresses;
};

/* criu's setup-namespaces: init's namespaces exist, no task runs yet */
static int
attach_restored (void *arg, pid_t init, ctr_error_t *err)
{
  struct attach_later *a = arg;
  cleanup_free char *net = xasprintf ("/proc/%d/ns/net", init);
  cleanup_free char *user = xasprintf ("/proc/%d/ns/user", init);
  cleanup_close int netns = open (net, O_RDONLY | O_CLOEXEC);
  cleanup_close int userns = open (user, O_RDONLY | O_CLOEXEC);

  if (netns < 0 || userns < 0)
    return ctr_error (err, errno, "restore: the namespaces of the restored init (pid %d)", init);
  return monitor_net_up (a->cfg, getpid (), netns, userns, -1, a->addresses, err);
}

int
monitor_restore (const struct monitor_config *cfg, pid_t *pid, int *master, char ***addresses,
                 ctr_error_t *err)
{
  const struct monitor_restore_image *img = cfg->restore;
  cleanup_close int netns = -1, userns = -1;
  struct container_criu_options o = {
    .image_path = img->dir,
    .work_path = img->work,
    .bundle = cfg->bundle,
    .detach = true,
    .status_fd = -1,
    .console_master = master,
    .pid_out = pid,
    .tcp_established = true,
  };
  struct attach_later later = { cfg, addresses };
  int status;

  *addresses = NULL;
  if (img->netns && img->userns)
    {
      o.setup_netns = attach_restored;
      o.setup_netns_arg = &later;
    }
  else if (img->netns)
    {
      netns = new_netns (err);
      userns = open ("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
      if (netns < 0)
        return -1;
      if (userns < 0)
        return ctr_error (err, errno, "open /proc/self/ns/user");
      o.netns_fd = &netns;
      /* attached before init runs again: it finds its address (the lease is the monitor's,
         which lives as long as the restored init) */
      if (monitor_net_up (cfg, getpid (), netns, userns, -1, addresses, err) < 0)
        return -1;
    }
  if (container_restore (cfg->ctx, cfg->name, &o, &status, err) < 0)
    {
      monitor_net_down (cfg->name, cfg->networks);
      strv_free (*addresses);
      *addresses = NULL;
      return -1;
    }
  ctr_log_debug ("monitor of `%s`: init restored as pid %d", cfg->name, *pid);
  return 0;
}
