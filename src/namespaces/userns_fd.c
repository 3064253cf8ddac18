/* namespaces/userns_fd: a user namespace holding given id maps, as an fd and without a
   process in it (what an idmapped mount takes, mount_setattr(2) MOUNT_ATTR_IDMAP). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "namespaces/namespaces.h"
#include "base/util.h"

static int
write_map (int procfd, pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
           ctr_error_t *err)
{
  char path[64];
  cleanup_free char *text = xmalloc (n * 40 + 1);
  cleanup_close int fd = -1;
  size_t i, len = 0;

  text[0] = '\0';
  for (i = 0; i < n; i++)
    len += sprintf (text + len, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
  snprintf (path, sizeof path, "%d/%s", pid, file);
  fd = openat (procfd, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return ctr_error (err, errno, "open /proc/%s", path);
  if (write (fd, text, len) != (ssize_t)len)
    return ctr_error (err, errno, "write /proc/%s", path);
  return 0;
}

/* The helper: a child that unshares its user namespace, says so, and waits for the end of
   the pipe (or for ctr's death) to exit. It never runs anything else. */
static void __attribute__ ((noreturn)) userns_helper (int ready_fd, int hold_fd)
{
  char b = 0;
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (unshare (CLONE_NEWUSER) < 0)
    b = 1;
  if (write (ready_fd, &b, 1) != 1)
    _exit (1);
  while (read (hold_fd, &b, 1) < 0 && errno == EINTR)
    ;
  _exit (0);
}

int
ns_userns_fd_with_maps (const struct oci_id_mapping *uids, size_t uids_len,
                        const struct oci_id_mapping *gids, size_t gids_len, ctr_error_t *err)
{
  int ready[2], hold[2], procfd, fd = -1, status;
  char path[64], b = 1;
  pid_t pid;

  procfd = ns_procfs_fd (err);
  if (procfd < 0)
    return -1;
  if (pipe2 (ready, O_CLOEXEC) < 0)
    return ctr_error (err, errno, "pipe");
  if (pipe2 (hold, O_CLOEXEC) < 0)
    {
      close (ready[0]);
      close (ready[1]);
      return ctr_error (err, errno, "pipe");
    }
  pid = fork ();
  if (pid == 0)
    {
      close (ready[0]);
      close (hold[1]);
      userns_helper (ready[1], hold[0]);
    }
  close (ready[1]);
  close (hold[0]);
  if (pid < 0)
    ctr_error (err, errno, "fork");
  else if (read (ready[0], &b, 1) != 1 || b != 0)
    ctr_error (err, EPERM, "unshare a user namespace");
  else if (write_map (procfd, pid, "uid_map", uids, uids_len, err) == 0
           && write_map (procfd, pid, "gid_map", gids, gids_len, err) == 0)
    {
      snprintf (path, sizeof path, "%d/ns/user", pid);
      fd = openat (procfd, path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        ctr_error (err, errno, "open /proc/%s", path);
    }
  close (ready[0]);
  close (hold[1]); /* the helper exits; its namespace lives on in fd */
  if (pid > 0)
    while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
      ;
  return fd;
}
