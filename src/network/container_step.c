/* container_step: `ctr run --net`: an OCI container on named networks, as the attach step
   the lifecycle is handed (runtime/container.h). The list is kept in
   the state directory so that `delete` (or the end of a foreground run) detaches it; a
   user-mode helper belongs to the foreground `run` process itself. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/container.h"
#include "namespaces/namespaces.h"
#include "network/network.h"
#include "base/util.h"
#include "base/log.h"

#define STATE_NETWORKS "networks"

/* The user-mode helper of the container this (foreground) `run` process owns. */
static struct network_usermode usermode = { .pidfd = -1, .exit_fd = -1 };

/* Refused before a helper starts: what a detached run cannot keep. */
static int
usermode_check (const struct container_create_options *opts, ctr_error_t *err)
{
  const char *net = opts->networks[0];
  if (opts->networks[1])
    return ctr_error (err, 0, "--net %s cannot be combined with other networks", net);
  if (opts->ip)
    return ctr_error (err, 0, "--net %s: --ip is not supported (the helper picks the address)",
                      net);
  if (opts->detach)
    return ctr_error (err, 0,
                      "--net %s needs the foreground: a detached run has no process to own "
                      "its network helper (run without -d, or use a system container)",
                      net);
  return 0;
}

static int
usermode_attach (int dirfd, int nsfd, int usfd, const struct container_create_options *opts,
                 ctr_error_t *err)
{
  struct network_usermode_request req = {
    .network = opts->networks[0],
    .netns_fd = nsfd,
    .api_dirfd = dirfd,
    .publish = opts->publish,
  };
  req.userns_fd = geteuid () != 0 && !ns_is_own (usfd, "user") ? usfd : -1;
  return network_usermode_start (&req, &usermode, err);
}

static int
step_attach (const char *id, int dirfd, pid_t pid, int nsfd, int usfd,
             const struct container_create_options *opts, ctr_error_t *err)
{
  cleanup_strv char **addresses = NULL;
  struct network_list_request req = {
    .owner = id,
    .owner_pid = pid,
    .netns_fd = nsfd,
    .networks = opts->networks,
    .ip = opts->ip,
    .publish = opts->publish,
  };
  size_t len = 0;
  cleanup_free char *names = NULL;
  bool user = network_is_usermode (opts->networks[0]);

  if (user && usermode_check (opts, err) < 0)
    return -1;
  for (char **n = opts->networks; n && *n; n++)
    len += strlen (*n) + 1;
  names = xzalloc (len + 1);
  for (char **n = opts->networks; n && *n; n++)
    strcat (strcat (names, *n), "\n");
  /* written first: a run killed halfway still gets its networks detached by delete */
  if (write_file_at (dirfd, STATE_NETWORKS, names, len, 0600, err) < 0)
    return -1;
  if (nsfd < 0 || usfd < 0)
    return ctr_error (err, EPROTO, "--net: the container did not hand over its namespaces");
  if (ns_is_own (nsfd, "net"))
    return ctr_error (err, 0,
                      "--net: the container has no network namespace of its own "
                      "(add {\"type\": \"network\"} to linux.namespaces)");
  if (user)
    return usermode_attach (dirfd, nsfd, usfd, opts, err);
  return network_attach_list (&req, &addresses, err);
}

static void
step_detach (const char *id, int dirfd)
{
  ctr_error_t err = NULL;
  network_usermode_stop (&usermode);
  if (faccessat (dirfd, STATE_NETWORKS, F_OK, 0) < 0)
    return;
  if (network_detach_all (id, &err) < 0)
    ctr_error_print (&err);
}

const struct container_attach_step network_container_step = {
  .attach = step_attach,
  .detach = step_detach,
};
