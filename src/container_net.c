/* container_net: `ctr run --net`: an OCI container on named networks. The list is kept in
   the state directory so that `delete` (or the end of a foreground run) detaches it. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container_internal.h"
#include "network/network.h"
#include "util.h"

#define STATE_NETWORKS "networks"

int
container_net_attach (const char *id, int dirfd, pid_t pid,
                      const struct container_create_options *opts, ctr_error_t *err)
{
  cleanup_free char *nspath = xasprintf ("/proc/%d/ns/net", pid);
  cleanup_close int nsfd = -1;
  cleanup_strv char **addresses = NULL;
  struct network_list_request req = {
    .owner = id,
    .owner_pid = pid,
    .networks = opts->networks,
    .ip = opts->ip,
    .publish = opts->publish,
  };
  size_t len = 0;
  cleanup_free char *names = NULL;
  struct stat ns, self;

  for (char **n = opts->networks; n && *n; n++)
    len += strlen (*n) + 1;
  names = xzalloc (len + 1);
  for (char **n = opts->networks; n && *n; n++)
    strcat (strcat (names, *n), "\n");
  /* written first: a run killed halfway still gets its networks detached by delete */
  if (write_file_at (dirfd, STATE_NETWORKS, names, len, 0600, err) < 0)
    return -1;
  /* pid is our own child (or grandchild under our subreaper): it cannot be recycled */
  req.netns_fd = nsfd = open (nspath, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0)
    return ctr_error (err, errno, "open `%s`", nspath);
  if (fstat (nsfd, &ns) < 0 || stat ("/proc/self/ns/net", &self) < 0)
    return ctr_error (err, errno, "stat network namespace");
  if (ns.st_ino == self.st_ino && ns.st_dev == self.st_dev)
    return ctr_error (err, 0,
                      "--net: the container has no network namespace of its own "
                      "(add {\"type\": \"network\"} to linux.namespaces)");
  return network_attach_list (&req, &addresses, err);
}

void
container_net_detach (const char *id, int dirfd)
{
  ctr_error_t err = NULL;
  if (faccessat (dirfd, STATE_NETWORKS, F_OK, 0) < 0)
    return;
  if (network_detach_all (id, &err) < 0)
    ctr_error_print (&err);
}
