/* userns_child: a child of an unprivileged ctr as root of a user namespace with the
   user's own mapping (its id as 0, its subordinate range from 1), as the containers it
   makes have: templates run there, and trees holding files of the range are removed there. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "namespaces/namespaces.h"
#include "oci/oci.h"
#include "base/util.h"
#include "system/userns_child.h"

/* Child side: a new user namespace, then wait for the parent to map it; pipes: [0] child
   reads "go", [3] child writes "ready". */
int
userns_child_enter (int p[4])
{
  char c = 0;
  close (p[1]);
  close (p[2]);
  if (unshare (CLONE_NEWUSER) < 0)
    {
      fprintf (stderr, "ctr: unshare a user namespace: %s\n", strerror (errno));
      return -1;
    }
  if (write (p[3], "r", 1) != 1 || read (p[0], &c, 1) != 1 || c != 'g')
    return -1;
  if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
    {
      fprintf (stderr, "ctr: become root of a user namespace: %s\n", strerror (errno));
      return -1;
    }
  return 0;
}

/* Parent side: the container's own mapping (ranges through newuidmap when there are). */
int
userns_child_map (pid_t pid, int p[4], ctr_error_t *err)
{
  struct oci_rootless_ids ids;
  struct oci_id_mapping um[2], gm[2];
  struct oci_linux l = { .uid_mappings = um, .gid_mappings = gm };
  char c = 0;
  int r = -1;

  close (p[0]);
  close (p[3]);
  ns_rootless_ids (&ids);
  um[0] = (struct oci_id_mapping){ .container_id = 0, .host_id = ids.uid, .size = 1 };
  gm[0] = (struct oci_id_mapping){ .container_id = 0, .host_id = ids.gid, .size = 1 };
  um[1] = (struct oci_id_mapping){ .container_id = 1,
                                   .host_id = ids.subuid_start,
                                   .size = ids.subuid_count };
  gm[1] = (struct oci_id_mapping){ .container_id = 1,
                                   .host_id = ids.subgid_start,
                                   .size = ids.subgid_count };
  l.uid_mappings_len = ids.subuid_count ? 2 : 1;
  l.gid_mappings_len = ids.subgid_count ? 2 : 1;
  if (read (p[2], &c, 1) != 1)
    ctr_error (err, 0, "could not enter a user namespace");
  else if (ns_write_id_maps (pid, &l, err) == 0)
    r = write (p[1], "g", 1) == 1 ? 0 : ctr_error (err, errno, "pipe");
  close (p[1]);
  close (p[2]);
  return r;
}

/* The fd the verb hands back with its answer (userns_handback_fd); in the child's memory,
   or the caller's when the verb ran in place. */
static int handback = -1;

void
userns_handback_fd (int fd)
{
  if (handback >= 0)
    close (handback);
  handback = fd;
}

static int
take_handback (void)
{
  int fd = handback;
  handback = -1;
  return fd;
}

/* The child's answer, one message: "o" and *out, or "e", the error's status, a newline
   and its message; with the handed-back fd when it succeeded. */
static void
send_answer (int sock, int r, const char *out, const ctr_error_t e)
{
  cleanup_free char *msg = NULL;
  cleanup_close int fd = take_handback ();

  if (r == 0)
    msg = xasprintf ("o%s", out ? out : "");
  else
    msg = xasprintf ("e%d\n%s", e ? e->status : 0, e && e->msg ? e->msg : "failed");
  if (strlen (msg) > USERNS_ANSWER_MAX)
    msg[USERNS_ANSWER_MAX] = '\0';
  (void)unix_send_fd (sock, msg, strlen (msg), r == 0 ? fd : -1);
}

static int
take_answer (const char *msg, size_t n, int status, char **out, ctr_error_t *err)
{
  const char *nl;

  if (n > 0 && msg[0] == 'o' && WIFEXITED (status) && WEXITSTATUS (status) == 0)
    {
      if (out)
        *out = n > 1 ? xstrdup (msg + 1) : NULL;
      return 0;
    }
  if (n > 0 && msg[0] == 'e' && (nl = strchr (msg, '\n')) != NULL)
    return ctr_error_set_raw (err, atoi (msg + 1), nl + 1);
  if (WIFSIGNALED (status))
    return ctr_error (err, 0, "as root of a user namespace: killed by signal %d",
                      WTERMSIG (status));
  return ctr_error (err, 0, "could not work as root of a user namespace");
}

/* fn in a forked child, its answer (and an fd it hands back, into *fd when fd is given)
   back through a socket pair; userns: the child becomes root of a user namespace with the
   user's mapping, with a mount namespace of its own. */
static int
call_in_child (userns_fn fn, void *arg, char **out, int *fd, bool userns, ctr_error_t *err)
{
  int p[4] = { -1, -1, -1, -1 }, ep[2] = { -1, -1 }, status = 0;
  cleanup_free char *msg = xmalloc (USERNS_ANSWER_MAX + 1);
  cleanup_close int got = -1;
  pid_t pid, parent = getpid ();
  ssize_t n = 0;

  if ((userns && (pipe2 (p, O_CLOEXEC) < 0 || pipe2 (p + 2, O_CLOEXEC) < 0))
      || socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ep) < 0 || (pid = fork ()) < 0)
    {
      int e = errno;
      for (size_t i = 0; i < 4; i++)
        if (p[i] >= 0)
          close (p[i]);
      for (size_t i = 0; i < 2; i++)
        if (ep[i] >= 0)
          close (ep[i]);
      return ctr_error (err, e, "a child to work in");
    }
  if (pid == 0)
    {
      ctr_error_t e = NULL;
      char *o = NULL;
      int r;

      close (ep[0]);
      handback = -1;
      /* a kill of ctr ends its work too, where a kill of a root ctr would have */
      if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
        _exit (126);
      if (userns && userns_child_enter (p) < 0)
        _exit (126);
      /* mounts of its own (a rootless overlay volume's), gone with it but for one an fd
         handed back holds; the fds it was given stay in the caller's namespace
         (userns_reopen_dir) */
      if (userns
          && (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0))
        r = ctr_error (&e, errno, "a mount namespace of its own");
      else
        r = fn (arg, out ? &o : NULL, &e);
      send_answer (ep[1], r, o, e);
      _exit (r == 0 ? 0 : 1);
    }
  close (ep[1]);
  if (userns && userns_child_map (pid, p, err) < 0)
    kill (pid, SIGKILL);
  else
    n = unix_recv_fd (ep[0], msg, USERNS_ANSWER_MAX, &got);
  close (ep[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (*err)
    return -1;
  msg[n > 0 ? n : 0] = '\0';
  if (take_answer (msg, n > 0 ? (size_t)n : 0, status, out, err) < 0)
    return -1;
  if (fd)
    *fd = steal_fd (got);
  return 0;
}

/* fn as root (see userns_as_root); fd: where its handed-back fd goes */
static int
as_root (userns_fn fn, void *arg, char **out, int *fd, ctr_error_t *err)
{
  int r;

  if (out)
    *out = NULL;
  if (fd)
    *fd = -1;
  /* root on the host, or already root of the user's namespace */
  if (geteuid () == 0)
    {
      int was = handback;
      handback = -1;
      r = fn (arg, out, err);
      if (r == 0 && fd)
        *fd = take_handback ();
      else
        userns_handback_fd (-1);
      handback = was;
      return r;
    }
  /* read before the fork: the child is root in its namespace */
  (void)is_rootless ();
  (void)ns_rootless_ids (&(struct oci_rootless_ids){ 0 });
  return call_in_child (fn, arg, out, fd, true, err);
}

int
userns_as_root (userns_fn fn, void *arg, char **out, ctr_error_t *err)
{
  return as_root (fn, arg, out, NULL, err);
}

int
userns_as_root_fd (userns_fn fn, void *arg, char **out, int *fd, ctr_error_t *err)
{
  return as_root (fn, arg, out, fd, err);
}

int
child_call (userns_fn fn, void *arg, char **out, ctr_error_t *err)
{
  if (out)
    *out = NULL;
  return call_in_child (fn, arg, out, NULL, false, err);
}

int
userns_reopen_dir (int fd, ctr_error_t *err)
{
  cleanup_free char *link = xasprintf ("/proc/self/fd/%d", fd);
  char path[PATH_MAX];
  ssize_t n = readlink (link, path, sizeof path - 1);
  int nfd;

  if (n < 0 || (size_t)n >= sizeof path - 1)
    return ctr_error (err, n < 0 ? errno : ENAMETOOLONG, "readlink `%s`", link);
  path[n] = '\0';
  nfd = open (path, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (nfd < 0)
    return ctr_error (err, errno, "open `%s` again", path);
  return nfd;
}

/* A tree whose directories belong to the container's other users (a package's 0700
   directory, systemd's /run/systemd/netif/links) cannot be emptied by the user itself:
   its root in the user namespace can (CAP_DAC_OVERRIDE over the ids mapped there). */
struct remove_args
{
  int dirfd;
  const char *name;
};

static int
remove_fn (void *arg, char **out, ctr_error_t *err)
{
  struct remove_args *a = arg;
  (void)out;
  return remove_tree_at (a->dirfd, a->name, err);
}

int
store_remove_tree_at (int dirfd, const char *name, ctr_error_t *err)
{
  struct remove_args a = { dirfd, name };

  if (remove_tree_at (dirfd, name, err) == 0)
    return 0;
  if (geteuid () == 0 || !is_rootless () || ((*err)->status != EACCES && (*err)->status != EPERM))
    return -1;
  ctr_error_free (err);
  if (userns_as_root (remove_fn, &a, NULL, err) == 0)
    return 0;
  return ctr_error_wrap (err, "as root of the user namespace");
}
