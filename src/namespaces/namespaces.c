/* namespaces: namespace planning, clone3, setns/unshare, id maps, time offsets. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "namespaces/namespaces.h"
#include "base/util.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif
#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE _IO (0xb7, 0x3)
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

int
ns_flag (enum oci_ns_type t)
{
  static const int flags[OCI_NS_COUNT] = {
    [OCI_NS_PID] = CLONE_NEWPID,       [OCI_NS_NETWORK] = CLONE_NEWNET,
    [OCI_NS_MOUNT] = CLONE_NEWNS,      [OCI_NS_IPC] = CLONE_NEWIPC,
    [OCI_NS_UTS] = CLONE_NEWUTS,       [OCI_NS_USER] = CLONE_NEWUSER,
    [OCI_NS_CGROUP] = CLONE_NEWCGROUP, [OCI_NS_TIME] = CLONE_NEWTIME,
  };
  return flags[t];
}

void
ns_plan_release (struct ns_plan *p)
{
  int i;
  for (i = 0; i < OCI_NS_COUNT; i++)
    if (p->join_fds[i] >= 0)
      {
        close (p->join_fds[i]);
        p->join_fds[i] = -1;
      }
}

/* The type of the namespace behind fd, or -1 when the kernel cannot tell (before 4.11). */
static int
ns_fd_type (int fd)
{
  int flag = ioctl (fd, NS_GET_NSTYPE);
  for (int t = 0; flag > 0 && t < OCI_NS_COUNT; t++)
    if (ns_flag (t) == flag)
      return t;
  return -1;
}

/* Opens a namespace to join, refusing at create what setns() would only refuse in the
   child with a bare EINVAL: a file that is no namespace, or one of another type. */
static int
ns_open_join (const struct oci_namespace *ns, size_t idx, ctr_error_t *err)
{
  const char *want = oci_ns_type_name (ns->type);
  struct statfs sfs;
  int t;
  cleanup_close int fd = open (ns->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ctr_error (err, errno, "linux.namespaces[%zu].path: open %s namespace `%s`", idx, want,
                      ns->path);
  if (fstatfs (fd, &sfs) < 0)
    return ctr_error (err, errno, "linux.namespaces[%zu].path: `%s`", idx, ns->path);
  if (sfs.f_type != NSFS_MAGIC)
    return ctr_error (err, 0, "linux.namespaces[%zu].path: `%s` is not a namespace (type %s)", idx,
                      ns->path, want);
  t = ns_fd_type (fd);
  if (t >= 0 && t != (int)ns->type)
    return ctr_error (err, 0, "linux.namespaces[%zu].path: `%s` is a %s namespace, not %s", idx,
                      ns->path, oci_ns_type_name (t), want);
  return steal_fd (fd);
}

int
ns_plan_build (const struct oci_config *c, struct ns_plan *p, ctr_error_t *err)
{
  const struct oci_linux *l = c->linux_;
  int join_flags = 0;
  size_t i;

  memset (p, 0, sizeof *p);
  for (i = 0; i < OCI_NS_COUNT; i++)
    p->join_fds[i] = -1;
  for (i = 0; l && i < l->namespaces_len; i++)
    {
      const struct oci_namespace *ns = &l->namespaces[i];
      if (ns->path == NULL)
        {
          p->new_flags |= ns_flag (ns->type);
          continue;
        }
      p->join_fds[ns->type] = ns_open_join (ns, i, err);
      if (p->join_fds[ns->type] < 0)
        {
          ns_plan_release (p);
          return -1;
        }
      join_flags |= ns_flag (ns->type);
    }
  if ((p->new_flags & CLONE_NEWUSER) && (l->uid_mappings_len == 0 || l->gid_mappings_len == 0))
    {
      ns_plan_release (p);
      return ctr_error (
          err, 0, "linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
    }
  /* as runc: without a mount entry the container sets up in the caller's mount namespace */
  p->shares_mount_ns = !(p->new_flags & CLONE_NEWNS) && p->join_fds[OCI_NS_MOUNT] < 0;
  p->in_userns = (p->new_flags & CLONE_NEWUSER) || p->join_fds[OCI_NS_USER] >= 0;
  if (l && (l->time_offset_monotonic.present || l->time_offset_boottime.present)
      && !(p->new_flags & CLONE_NEWTIME))
    {
      ns_plan_release (p);
      return ctr_error (err, 0, "linux.timeOffsets: requires a new time namespace");
    }
  p->join_pid_in_parent = (join_flags & CLONE_NEWPID) != 0;
  /* Namespaces joined from inside a new user namespace would be refused by the kernel,
     and namespaces created before joining a user namespace would be owned by the wrong
     one: in both cases the child joins first and unshares afterwards. */
  if ((join_flags & CLONE_NEWUSER)
      || ((p->new_flags & CLONE_NEWUSER) && (join_flags & ~CLONE_NEWPID)))
    {
      /* slow path: plain clone3, the child joins and then unshares everything */
      p->clone_flags = 0;
      p->unshare_flags = p->new_flags;
      p->userns_in_child = (p->new_flags & CLONE_NEWUSER) != 0;
      p->needs_fork = (p->new_flags & (CLONE_NEWPID | CLONE_NEWTIME)) != 0;
    }
  else if (p->new_flags & CLONE_NEWTIME)
    {
      /* offsets can only be written before a process lives in the time namespace */
      p->clone_flags = p->new_flags & ~(CLONE_NEWTIME | CLONE_NEWPID);
      p->unshare_flags = p->new_flags & (CLONE_NEWTIME | CLONE_NEWPID);
      p->needs_fork = true;
    }
  else
    p->clone_flags = p->new_flags;
  return 0;
}

int
ns_parent_prepare (const struct ns_plan *p, ctr_error_t *err)
{
  if (p->join_pid_in_parent && setns (p->join_fds[OCI_NS_PID], CLONE_NEWPID) < 0)
    return ctr_error (err, errno, "join pid namespace");
  return 0;
}

pid_t
ns_clone3 (int flags, int cgroup_fd, int *pidfd, ctr_error_t *err)
{
  struct clone_args args;
  long r;

  memset (&args, 0, sizeof args);
  args.flags = (uint64_t)(unsigned)flags | CLONE_PIDFD;
  args.pidfd = (uint64_t)(uintptr_t)pidfd;
  args.exit_signal = SIGCHLD;
  if (cgroup_fd >= 0)
    {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = cgroup_fd;
    }
  r = syscall (SYS_clone3, &args, sizeof args);
  if (r < 0 && (flags & CLONE_NEWUSER) && (errno == ENOSPC || errno == EPERM || errno == EACCES))
    return ctr_error (err, errno,
                      "clone3: a new user namespace was refused (user.max_user_namespaces "
                      "reached or 0, or user namespaces disabled: see `ctr check-config`)");
  if (r < 0)
    return ctr_error (err, errno, "clone3");
  return (pid_t)r;
}

int
ns_child_join_and_unshare (const struct ns_plan *p, ctr_error_t *err)
{
  /* user first: the other joins need the capabilities it grants */
  static const enum oci_ns_type order[] = { OCI_NS_USER,   OCI_NS_IPC,  OCI_NS_UTS,  OCI_NS_NETWORK,
                                            OCI_NS_CGROUP, OCI_NS_TIME, OCI_NS_MOUNT };
  size_t i;
  for (i = 0; i < ARRAY_SIZE (order); i++)
    {
      int fd = p->join_fds[order[i]];
      if (fd >= 0 && setns (fd, ns_flag (order[i])) < 0)
        return ctr_error (err, errno, "join %s namespace", oci_ns_type_name (order[i]));
    }
  if (p->unshare_flags && unshare (p->unshare_flags) < 0)
    return ctr_error (err, errno, "unshare namespaces");
  return 0;
}

int
ns_write_time_offsets (const struct oci_linux *l, ctr_error_t *err)
{
  char buf[256];
  int n = 0;
  cleanup_close int fd = -1;

  if (l->time_offset_monotonic.present)
    n += snprintf (buf + n, sizeof buf - n, "monotonic %lld %u\n",
                   (long long)l->time_offset_monotonic.secs, l->time_offset_monotonic.nanosecs);
  if (l->time_offset_boottime.present)
    n += snprintf (buf + n, sizeof buf - n, "boottime %lld %u\n",
                   (long long)l->time_offset_boottime.secs, l->time_offset_boottime.nanosecs);
  if (n == 0)
    return 0;
  fd = open ("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return ctr_error (err, errno, "linux.timeOffsets: open timens_offsets");
  /* the kernel takes one offset per write */
  {
    char *line = buf, *nl;
    while ((nl = strchr (line, '\n')) != NULL)
      {
        if (write (fd, line, nl - line + 1) < 0)
          return ctr_error (err, errno, "linux.timeOffsets: write `%.*s`", (int)(nl - line), line);
        line = nl + 1;
      }
  }
  return 0;
}

static int procfd = -1;

void
ns_procfs_forget (void)
{
  procfd = -1;
}

int
ns_procfs_fd (ctr_error_t *err)
{
  struct statfs sfs;
  if (procfd >= 0)
    return procfd;
  procfd = open ("/proc", O_DIRECTORY | O_PATH | O_CLOEXEC);
  if (procfd < 0)
    return ctr_error (err, errno, "open /proc");
  if (fstatfs (procfd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
    {
      close (procfd);
      procfd = -1;
      return ctr_error (err, EXDEV, "/proc is not a procfs");
    }
  return procfd;
}

static char *
format_id_map (const struct oci_id_mapping *m, size_t n)
{
  size_t i, len = 0;
  char *buf = xmalloc (n * 40 + 1);
  buf[0] = '\0';
  for (i = 0; i < n; i++)
    len += sprintf (buf + len, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
  return buf;
}

/* Unprivileged callers go through the setuid newuidmap/newgidmap (package uidmap). */
static int
run_id_map_helper (const char *helper, pid_t pid, const struct oci_id_mapping *m, size_t n,
                   ctr_error_t *err)
{
  char **argv = xzalloc ((n * 3 + 3) * sizeof (char *));
  size_t i, a = 0;
  int status;
  pid_t child;

  argv[a++] = xstrdup (helper);
  argv[a++] = xasprintf ("%d", pid);
  for (i = 0; i < n; i++)
    {
      argv[a++] = xasprintf ("%u", m[i].container_id);
      argv[a++] = xasprintf ("%u", m[i].host_id);
      argv[a++] = xasprintf ("%u", m[i].size);
    }
  child = fork ();
  if (child == 0)
    {
      execvp (helper, argv);
      _exit (127);
    }
  strv_free (argv);
  if (child < 0)
    return ctr_error (err, errno, "fork %s", helper);
  while (waitpid (child, &status, 0) < 0)
    if (errno != EINTR)
      return ctr_error (err, errno, "wait %s", helper);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return ctr_error (err, 0, "%s failed%s", helper,
                      WIFEXITED (status) && WEXITSTATUS (status) == 127
                          ? ": not found (install the Debian package uidmap)"
                          : "");
  return 0;
}

static int
write_proc_file (int procfd, pid_t pid, const char *file, const char *data, ctr_error_t *err)
{
  char path[64];
  cleanup_close int fd = -1;
  snprintf (path, sizeof path, "%d/%s", pid, file);
  fd = openat (procfd, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return ctr_error (err, errno, "open /proc/%s", path);
  if (write (fd, data, strlen (data)) < 0)
    return ctr_error (err, errno, "write /proc/%s", path);
  return 0;
}

static bool
is_single_self_mapping (const struct oci_id_mapping *m, size_t n, uint32_t self)
{
  return n == 1 && m[0].size == 1 && m[0].host_id == self;
}

int
ns_write_id_maps (pid_t pid, const struct oci_linux *l, ctr_error_t *err)
{
  cleanup_free char *uids = NULL;
  cleanup_free char *gids = NULL;
  int procfd = ns_procfs_fd (err);

  if (procfd < 0)
    return -1;
  uids = format_id_map (l->uid_mappings, l->uid_mappings_len);
  gids = format_id_map (l->gid_mappings, l->gid_mappings_len);
  if (!is_rootless ())
    {
      if (write_proc_file (procfd, pid, "uid_map", uids, err) < 0
          || write_proc_file (procfd, pid, "gid_map", gids, err) < 0)
        return ctr_error_wrap (err, "linux.uidMappings");
      return 0;
    }
  if (is_single_self_mapping (l->uid_mappings, l->uid_mappings_len, geteuid ()))
    {
      if (write_proc_file (procfd, pid, "uid_map", uids, err) < 0)
        return ctr_error_wrap (err, "linux.uidMappings");
    }
  else if (run_id_map_helper ("newuidmap", pid, l->uid_mappings, l->uid_mappings_len, err) < 0)
    return ctr_error_wrap (err, "linux.uidMappings");
  if (is_single_self_mapping (l->gid_mappings, l->gid_mappings_len, getegid ()))
    {
      /* an unprivileged writer must give up setgroups first */
      if (write_proc_file (procfd, pid, "setgroups", "deny", err) < 0
          || write_proc_file (procfd, pid, "gid_map", gids, err) < 0)
        return ctr_error_wrap (err, "linux.gidMappings");
    }
  else if (run_id_map_helper ("newgidmap", pid, l->gid_mappings, l->gid_mappings_len, err) < 0)
    return ctr_error_wrap (err, "linux.gidMappings");
  return 0;
}

bool
ns_is_own (int fd, const char *type)
{
  char self[32];
  struct stat a, b;
  snprintf (self, sizeof self, "/proc/self/ns/%s", type);
  return fstat (fd, &a) == 0 && stat (self, &b) == 0 && a.st_ino == b.st_ino
         && a.st_dev == b.st_dev;
}

int
ns_loopback_up (ctr_error_t *err)
{
  struct ifreq ifr = { .ifr_name = "lo" };
  cleanup_close int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return ctr_error (err, errno, "bring up lo: socket");
  if (ioctl (fd, SIOCGIFFLAGS, &ifr) < 0)
    return ctr_error (err, errno, "bring up lo");
  if (ifr.ifr_flags & IFF_UP)
    return 0;
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (fd, SIOCSIFFLAGS, &ifr) < 0)
    return ctr_error (err, errno, "bring up lo");
  return 0;
}
