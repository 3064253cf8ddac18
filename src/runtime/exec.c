/* exec: running an extra process inside a running container (every namespace, cgroup,
   capabilities and seccomp filter of the container unless the process says otherwise). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "runtime/container.h"
#include "runtime/loaded.h"
#include "runtime/setup_shared.h"
#include "runtime/supervise.h"
#include "namespaces/namespaces.h"
#include "oci/oci.h"
#include "process/process.h"
#include "process/selfexec.h"
#include "stub/stub.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "base/util.h"
#include "base/log.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

struct exec
{
  const struct container_exec_options *opts;
  struct loaded l;
  struct oci_config *config;
  struct oci_process *own_process; /* from --process, else NULL */
  struct oci_process *proc;        /* what runs */
  struct process_plan *plan;
  struct cgroup *cg;
  int target_pidfd;
  int ns_flags;
  int sync_parent, sync_child;
  pid_t pid;
  int pidfd;
  int master;
  bool cloned_into;
  int listener_sock;    /* child: connected to linux.seccomp.listenerPath */
  char *listener_state; /* child: the containerProcessState to send with the fd */
  /* The child is born outside the container's pid namespace, sets up and executes ctr-stub
     from a sealed memfd, which forks the process into it (security rule 1). Otherwise (no
     stub, or a seccomp listener whose state must name the pid before the stub runs) this
     whole ctr runs from a sealed copy and its child is born inside. */
  bool via_stub;
  int stub_fd;
  bool stub_reported; /* the stub told us the pid of the process it forked */
  bool stub_refused;  /* the seccomp filter refused the stub: retry without it */
};

static void
exec_release (struct exec *e)
{
  int *fds[]
      = { &e->target_pidfd, &e->sync_parent, &e->sync_child, &e->pidfd, &e->master, &e->stub_fd };
  size_t i;
  for (i = 0; i < ARRAY_SIZE (fds); i++)
    if (*fds[i] >= 0)
      close (*fds[i]);
  if (e->cg)
    cgroup_free (e->cg);
  process_plan_free (e->plan);
  oci_process_free (e->own_process);
  oci_config_free (e->config);
  loaded_release (&e->l);
}

static void
env_set (struct oci_process *p, const char *kv)
{
  const char *eq = strchr (kv, '=');
  size_t klen = eq ? (size_t)(eq - kv) : strlen (kv), i;
  for (i = 0; i < p->env_len; i++)
    if (strncmp (p->env[i], kv, klen) == 0 && p->env[i][klen] == '=')
      {
        free (p->env[i]);
        p->env[i] = xstrdup (kv);
        return;
      }
  p->env = xrealloc (p->env, (p->env_len + 2) * sizeof (char *));
  p->env[p->env_len++] = xstrdup (kv);
  p->env[p->env_len] = NULL;
}

static void
strv_append_unique (char ***v, size_t *len, const char *s)
{
  size_t i;
  for (i = 0; i < *len; i++)
    if (strcasecmp ((*v)[i], s) == 0)
      return;
  *v = xrealloc (*v, (*len + 2) * sizeof (char *));
  (*v)[(*len)++] = xstrdup (s);
  (*v)[*len] = NULL;
}

static int
exec_parse_user (struct oci_process *p, const char *user, ctr_error_t *err)
{
  cleanup_free char *u = xstrdup (user);
  char *colon = strchr (u, ':');
  uint64_t v;
  if (colon)
    *colon++ = '\0';
  if (parse_uint64 (u, &v) < 0 || v > UINT32_MAX)
    return ctr_error (err, EINVAL, "--user: invalid uid `%s` (expected UID[:GID])", u);
  p->user.uid = (uint32_t)v;
  if (colon)
    {
      if (parse_uint64 (colon, &v) < 0 || v > UINT32_MAX)
        return ctr_error (err, EINVAL, "--user: invalid gid `%s`", colon);
      p->user.gid = (uint32_t)v;
    }
  return 0;
}

/* --apparmor and --process-label on a host without that LSM: the flag, not the key it sets,
   is what the caller wrote. */
static int
exec_check_lsm_flags (const struct container_exec_options *o, ctr_error_t *err)
{
  if (o->apparmor && *o->apparmor && !process_apparmor_enabled ())
    return ctr_error (err, 0, "--apparmor: apparmor is not enabled on this host");
  if (o->process_label && *o->process_label && !process_selinux_enabled ())
    return ctr_error (err, 0, "--process-label: selinux is not enabled on this host");
  return 0;
}

/* The process to run: --process FILE, or the container's own process with overrides. */
static int
exec_build_process (struct exec *e, ctr_error_t *err)
{
  const struct container_exec_options *o = e->opts;
  struct oci_process *p;
  size_t i;

  if (o->process_file)
    {
      cleanup_free char *text = NULL;
      size_t len;
      if (read_file_at (AT_FDCWD, o->process_file, OCI_CONFIG_MAX_SIZE, &text, &len, err) < 0)
        return ctr_error_wrap (err, "--process");
      if (oci_process_parse (text, len, o->process_file, &e->own_process, err) < 0)
        return -1;
      p = e->own_process;
    }
  else
    {
      if (o->args == NULL || o->args[0] == NULL)
        return ctr_error (err, EINVAL, "exec: no command given");
      p = e->config->process;
      p->terminal = false;
    }
  if (o->args && o->args[0])
    {
      strv_free (p->args);
      p->args = xstrv_dup (o->args);
      p->args_len = strv_len (p->args);
    }
  if (o->tty_set || o->tty)
    p->terminal = o->tty;
  if (o->cwd)
    {
      free (p->cwd);
      p->cwd = xstrdup (o->cwd);
    }
  for (i = 0; o->env && o->env[i]; i++)
    env_set (p, o->env[i]);
  if (o->user && exec_parse_user (p, o->user, err) < 0)
    return -1;
  for (i = 0; o->additional_gids && o->additional_gids[i]; i++)
    {
      uint64_t g;
      if (parse_uint64 (o->additional_gids[i], &g) < 0 || g > UINT32_MAX)
        return ctr_error (err, EINVAL, "--additional-gids: invalid gid `%s`",
                          o->additional_gids[i]);
      p->user.additional_gids = xrealloc (p->user.additional_gids,
                                          (p->user.additional_gids_len + 1) * sizeof (uint32_t));
      p->user.additional_gids[p->user.additional_gids_len++] = (uint32_t)g;
    }
  if (o->caps && o->caps[0] && p->capabilities == NULL)
    p->capabilities = xzalloc (sizeof *p->capabilities);
  for (i = 0; o->caps && o->caps[i]; i++)
    {
      struct oci_capabilities *c = p->capabilities;
      if (!process_cap_known (o->caps[i]))
        return ctr_error (err, 0, "--cap: unknown capability `%s`", o->caps[i]);
      strv_append_unique (&c->bounding, &c->bounding_len, o->caps[i]);
      strv_append_unique (&c->effective, &c->effective_len, o->caps[i]);
      strv_append_unique (&c->permitted, &c->permitted_len, o->caps[i]);
    }
  if (o->no_new_privs)
    p->no_new_privileges = true;
  if (exec_check_lsm_flags (o, err) < 0)
    return -1;
  if (o->apparmor)
    {
      free (p->apparmor_profile);
      p->apparmor_profile = xstrdup (o->apparmor);
    }
  if (o->process_label)
    {
      free (p->selinux_label);
      p->selinux_label = xstrdup (o->process_label);
    }
  if (p->terminal && o->detach && o->console_socket == NULL)
    return ctr_error (err, EINVAL, "exec: a terminal with --detach needs --console-socket");
  e->proc = p;
  return 0;
}

/* Namespaces of the container that differ from ours. */
static int
exec_namespaces (struct exec *e, ctr_error_t *err)
{
  static const struct
  {
    const char *name;
    int flag;
  } nss[] = { { "user", CLONE_NEWUSER },     { "mnt", CLONE_NEWNS },  { "pid", CLONE_NEWPID },
              { "net", CLONE_NEWNET },       { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
              { "cgroup", CLONE_NEWCGROUP }, { "time", 0x00000080 } };
  int procfd = ns_procfs_fd (err);
  size_t i;

  if (procfd < 0)
    return -1;
  for (i = 0; i < ARRAY_SIZE (nss); i++)
    {
      char theirs[64], ours[64];
      struct stat a, b;
      snprintf (theirs, sizeof theirs, "%d/ns/%s", e->l.state->pid, nss[i].name);
      snprintf (ours, sizeof ours, "self/ns/%s", nss[i].name);
      if (fstatat (procfd, theirs, &a, 0) < 0)
        {
          if (errno == ENOENT && strcmp (nss[i].name, "time") == 0)
            continue;
          return ctr_error (err, errno, "inspect %s namespace of container", nss[i].name);
        }
      if (fstatat (procfd, ours, &b, 0) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
        e->ns_flags |= nss[i].flag;
    }
  return 0;
}

/* seccomp notify for exec'd processes: the listener fd goes to listenerPath with the
   exec'd process's containerProcessState, as for the container's init. */
static bool
exec_has_listener (const struct exec *e)
{
  const struct oci_linux *l = e->config->linux_;
  return l && l->seccomp && l->seccomp->listener_path;
}

static int
exec_connect_listener (struct exec *e, int min_fd, ctr_error_t *err)
{
  cleanup_close int fd
      = unix_connect (e->config->linux_->seccomp->listener_path, "linux.seccomp.listenerPath", err);
  if (fd < 0)
    return -1;
  e->listener_sock = fcntl (fd, F_DUPFD_CLOEXEC, min_fd);
  if (e->listener_sock < 0)
    return ctr_error (err, errno, "linux.seccomp.listenerPath: dup");
  return 0;
}

static int
exec_send_listener (int listener, void *data, ctr_error_t *err)
{
  struct exec *e = data;
  if (unix_send_fd (e->listener_sock, e->listener_state, strlen (e->listener_state), listener) < 0)
    return ctr_error (err, errno, "send the seccomp listener to `%s`",
                      e->config->linux_->seccomp->listener_path);
  return 0;
}

/* The exec'd process's terminal, or a session of its own. */
static int
exec_child_terminal (struct exec *e, ctr_error_t *err)
{
  if (e->proc->terminal)
    {
      cleanup_close int master = -1;
      cleanup_close int slave = -1;
      int i;
      if (terminal_open_pty (&master, &slave, err) < 0)
        return -1;
      /* process.consoleSize of `exec -p`, as for the container's own process */
      if (e->proc->has_console_size
          && terminal_set_size (master, e->proc->console_height, e->proc->console_width, err) < 0)
        return -1;
      /* before the program can write; the caller's stdout is still this process's */
      if (!e->opts->detach && e->opts->console_socket == NULL)
        terminal_plain_newlines_unless_tty (master);
      if (sync_send (e->sync_child, SYNC_PTY, 0, NULL, 0, master, err) < 0)
        return -1;
      /* the stub's child makes it its controlling terminal in a session of its own */
      if (!e->via_stub && terminal_make_controlling (slave, err) < 0)
        return -1;
      for (i = 0; e->via_stub && i < 3; i++)
        if (dup2 (slave, i) < 0)
          return ctr_error (err, errno, "dup2 terminal to fd %d", i);
      return 0;
    }
  /* not the caller's session: no TIOCSTI into the caller's terminal */
  if (!e->via_stub && setsid () < 0)
    return ctr_error (err, errno, "setsid");
  return 0;
}

/* What the parent sends once the attributes are set: the seccomp filter, the listener's
   containerProcessState. */
static int
exec_child_recv (struct exec *e, struct process_seccomp *sc, bool *have_sc, ctr_error_t *err)
{
  struct sync_msg msg;
  if (e->config->linux_ && e->config->linux_->seccomp)
    {
      if (sync_recv (e->sync_child, SYNC_SECCOMP, &msg, err) < 0)
        return -1;
      seccomp_from_msg (&msg, sc);
      *have_sc = true;
    }
  if (e->listener_sock >= 0)
    {
      if (sync_recv (e->sync_child, SYNC_LISTENER_STATE, &msg, err) < 0)
        return -1;
      e->listener_state = xstrndup (msg.data, msg.len);
      sync_msg_release (&msg);
    }
  return 0;
}

static void __attribute__ ((noreturn)) exec_child (struct exec *e)
{
  ctr_error_t err = NULL;
  cleanup_free char *exe = NULL;
  struct process_seccomp sc = { 0 };
  bool have_sc = false;
  struct process_stub stub;
  int min_fd = 3 + (e->opts->preserve_fds > 0 ? e->opts->preserve_fds : 0);
  int fd, join;

  reset_signals ();
  close (e->sync_parent);
  fd = fcntl (e->sync_child, F_DUPFD_CLOEXEC, min_fd);
  if (fd >= 0)
    {
      close (e->sync_child);
      e->sync_child = fd;
    }
  /* the listener socket is a host path: connected before the mount namespace changes */
  if (exec_has_listener (e) && exec_connect_listener (e, min_fd, &err) < 0)
    goto fail;
  /* join the cgroups before the namespaces, while the host's cgroupfs is reachable */
  if (e->cg && cgroup_enter (e->cg, 0, e->cloned_into, &err) < 0)
    goto fail;
  if (e->proc->has_oom_score_adj && write_self_oom_score_adj (e->proc->oom_score_adj, &err) < 0)
    goto fail;
  /* via the stub, the pid namespace too: for the stub's child (the kernel enters the user
     namespace first, which gives the rights to join the others) */
  join = e->via_stub ? e->ns_flags : e->ns_flags & ~CLONE_NEWPID;
  if (join && setns (e->target_pidfd, join) < 0)
    {
      ctr_error (&err, errno, "join the namespaces of container `%s`", e->l.state->id);
      goto fail;
    }
  if (exec_child_terminal (e, &err) < 0 || process_apply_attributes (e->plan, &err) < 0
      || exec_child_recv (e, &sc, &have_sc, &err) < 0)
    goto fail;
  if (process_drop_privileges (e->plan, e->via_stub, have_sc ? &sc : NULL, &err) < 0
      || process_resolve_executable (e->plan, &exe, &err) < 0)
    goto fail;
  stub.fd = e->stub_fd;
  stub.flags = STUB_FORK | STUB_SETSID | (e->proc->terminal ? STUB_CTTY : 0);
  stub.sync_fd = e->sync_child;
  process_exec_with_listener (
      e->plan, exe, have_sc ? &sc : NULL, e->opts->preserve_fds, e->sync_child, e->listener_sock,
      e->listener_sock >= 0 ? exec_send_listener : NULL, e, e->via_stub ? &stub : NULL, &err);
  if (selfexec_stub_refused)
    {
      sync_send (e->sync_child, SYNC_STUB_REFUSED, err->status, err->msg, strlen (err->msg), -1,
                 NULL);
      _exit (127);
    }
fail:
  sync_send_error (e->sync_child, &err);
  _exit (127);
}

/* The stub forked the process into the container and exited: reap the stub, and take the
   process (now our child: we are a subreaper) as the one exec'd. A pid that is not our
   child is refused, so the stub, which runs with the container's privileges, cannot point
   ctr at another process. */
static int
exec_take_stub_child (struct exec *e, pid_t pid, ctr_error_t *err)
{
  siginfo_t si;
  int status, fd;

  e->stub_reported = true;
  while (waitpid (e->pid, &status, 0) < 0)
    if (errno != EINTR)
      return ctr_error (err, errno, "wait for ctr-stub");
  e->pid = 0;
  if (e->pidfd >= 0)
    close (e->pidfd);
  e->pidfd = -1;
  memset (&si, 0, sizeof si);
  if (pid <= 0 || waitid (P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
    return ctr_error (err, ECHILD, "ctr-stub reported pid %d, which is not its child", pid);
  fd = (int)syscall (SYS_pidfd_open, pid, 0);
  if (fd < 0)
    return ctr_error (err, errno, "pidfd_open %d", pid);
  e->pid = pid;
  e->pidfd = fd;
  return 0;
}

/* Until the child's socket closes on a successful execve (or an error arrives). */
static int
exec_serve (struct exec *e, ctr_error_t *err)
{
  for (;;)
    {
      struct sync_msg msg;
      if (sync_recv (e->sync_parent, 0, &msg, err) < 0)
        return -1;
      if (msg.type == 0)
        {
          if (e->via_stub && !e->stub_reported)
            return ctr_error (err, EPROTO, "ctr-stub exited without starting the process");
          return 0;
        }
      if (msg.type == SYNC_STUB_REFUSED)
        {
          e->stub_refused = true;
          ctr_error (err, msg.status, "%s", msg.data ? msg.data : "ctr-stub refused");
          sync_msg_release (&msg);
          return -1;
        }
      if (msg.type == SYNC_PID && e->via_stub && !e->stub_reported)
        {
          if (exec_take_stub_child (e, msg.status, err) < 0)
            return -1;
          continue;
        }
      if (msg.type != SYNC_PTY)
        {
          sync_msg_release (&msg);
          return ctr_error (err, EPROTO, "unexpected message %u from exec process", msg.type);
        }
      if (e->opts->console_socket)
        {
          int r = terminal_send_to_socket (e->opts->console_socket, msg.fd, err);
          sync_msg_release (&msg);
          if (r < 0)
            return -1;
        }
      else
        {
          e->master = steal_fd (msg.fd);
        }
    }
}

static int
exec_spawn (struct exec *e, ctr_error_t *err)
{
  int fds[2];
  int cgfd = e->cg ? cgroup_v2_fd (e->cg) : -1;

  if (sync_socketpair (fds, err) < 0)
    return -1;
  e->sync_parent = fds[0];
  e->sync_child = fds[1];
  /* Rootless, joining the container's pid namespace needs rights in the user namespace
     that owns it: join both at once (the kernel enters the user namespace first), and the
     child, born inside it, has no user namespace left to join. Root keeps its host
     credentials for the cgroup the child enters first. Via the stub, the child joins. */
  if (!e->via_stub && is_rootless () && (e->ns_flags & CLONE_NEWUSER)
      && (e->ns_flags & CLONE_NEWPID))
    {
      if (setns (e->target_pidfd, CLONE_NEWUSER | CLONE_NEWPID) < 0)
        return ctr_error (err, errno, "join the user and pid namespaces of container `%s`",
                          e->l.state->id);
      e->ns_flags &= ~(CLONE_NEWUSER | CLONE_NEWPID);
    }
  if (!e->via_stub && (e->ns_flags & CLONE_NEWPID) && setns (e->target_pidfd, CLONE_NEWPID) < 0)
    return ctr_error (err, errno, "join the pid namespace of container `%s`", e->l.state->id);
  e->pid = ns_clone3 (0, cgfd, &e->pidfd, err);
  if (e->pid < 0 && cgfd >= 0)
    {
      ctr_error_free (err);
      cgfd = -1;
      e->pid = ns_clone3 (0, -1, &e->pidfd, err);
    }
  if (e->pid < 0)
    {
      e->pid = 0;
      return -1;
    }
  e->cloned_into = cgfd >= 0;
  if (e->pid == 0)
    exec_child (e);
  close (e->sync_child);
  e->sync_child = -1;
  if (seccomp_send (e->sync_parent, e->config->linux_, err) < 0)
    return -1;
  if (exec_has_listener (e))
    {
      cleanup_free char *state = state_hook_json (e->l.state, e->l.status, NULL);
      size_t len;
      cleanup_free char *text
          = listener_state_json (e->config->linux_->seccomp, e->pid, state, &len);
      if (sync_send (e->sync_parent, SYNC_LISTENER_STATE, 0, text, len, -1, err) < 0)
        return -1;
    }
  return exec_serve (e, err);
}

static int
exec_prepare (struct exec *e, const struct ctr_context *ctx, const char *id, ctr_error_t *err)
{
  if (loaded_open (ctx, id, false, &e->l, err) < 0)
    return -1;
  if (e->l.status != CTR_STATUS_RUNNING && e->l.status != CTR_STATUS_CREATED
      && !(e->l.status == CTR_STATUS_PAUSED && e->opts->ignore_paused))
    return ctr_error (
        err, 0, "cannot exec in container `%s`: it is %s%s", id, ctr_status_name (e->l.status),
        e->l.status == CTR_STATUS_PAUSED ? " (--ignore-paused runs it once resumed)" : "");
  if (loaded_config (&e->l, &e->config, err) < 0)
    return -1;
  if (exec_build_process (e, err) < 0)
    return -1;
  if (process_plan_new (e->proc, e->config->linux_, &e->plan, err) < 0)
    return -1;
  e->target_pidfd = syscall (SYS_pidfd_open, e->l.state->pid, 0);
  if (e->target_pidfd < 0 || pid_start_time (e->l.state->pid) != e->l.state->pid_start)
    return ctr_error (err, ESRCH, "container `%s` is not running", id);
  if (exec_namespaces (e, err) < 0 || loaded_cgroup (&e->l, &e->cg, err) < 0)
    return -1;
  if (e->opts->cgroup && e->cg)
    {
      struct cgroup *sub = NULL;
      if (cgroup_sub (e->cg, e->opts->cgroup, &sub, err) < 0)
        return -1;
      cgroup_free (e->cg);
      e->cg = sub;
    }
  else if (e->opts->cgroup)
    return ctr_error (err, 0, "--cgroup %s: the container has no cgroup", e->opts->cgroup);
  else if (e->cg)
    {
      struct cgroup *init_cg = NULL;
      if (cgroup_for_exec (e->cg, e->l.state->pid, &init_cg, err) < 0)
        return -1;
      if (init_cg)
        {
          cgroup_free (e->cg);
          e->cg = init_cg;
        }
    }
  return 0;
}

int
container_exec (const struct ctr_context *ctx, const char *id,
                const struct container_exec_options *opts, int *exit_status, ctr_error_t *err)
{
  struct exec e;
  sigset_t oldmask;
  int r = -1;

  memset (&e, 0, sizeof e);
  e.opts = opts;
  e.target_pidfd = e.sync_parent = e.sync_child = e.pidfd = e.master = e.listener_sock = -1;
  e.stub_fd = -1;
  *exit_status = 0;
  reserve_preserved_fds (opts->preserve_fds);
  selfexec_nondumpable ();
  if (exec_prepare (&e, ctx, id, err) < 0)
    goto out;
  /* exec enters a running container's pid namespace, where its processes can reach ours
     through /proc/PID/exe: whatever is born there runs from a sealed memfd (rule 1) */
  e.via_stub = selfexec_use_stub () && !exec_has_listener (&e) && !selfexec_is_sealed ();
  if (e.via_stub)
    {
      e.stub_fd = selfexec_stub_fd (err);
      if (e.stub_fd < 0)
        goto out;
      /* the stub's child is ours to reap once the stub exits */
      if (prctl (PR_SET_CHILD_SUBREAPER, 1) < 0)
        {
          ctr_error (err, errno, "prctl PR_SET_CHILD_SUBREAPER");
          goto out;
        }
    }
  else if (selfexec_reexec_saved (err) < 0)
    goto out;
  if (!opts->detach)
    supervise_block_signals (&oldmask);
  if (exec_spawn (&e, err) < 0)
    {
      kill_and_reap (e.pid, -1);
      goto out_mask;
    }
  ctr_log_debug ("exec in `%s`: %s is process %d", id, e.proc->args[0], e.pid);
  if (opts->pid_file && write_pid_file (opts->pid_file, e.pid, err) < 0)
    goto out_mask;
  if (opts->detach)
    r = 0;
  else
    r = supervise (e.pid, e.pidfd, e.master, exit_status, err);
out_mask:
  if (!opts->detach)
    sigprocmask (SIG_SETMASK, &oldmask, NULL);
  /* A seccomp profile that denies the stub what it needs (execveat, clone, setsid...):
     nothing ran in the container yet, so start over from a sealed copy of ctr, which needs
     no stub (a pty already handed to a console socket would be handed twice: not then). */
  if (r < 0 && e.stub_refused && !(opts->console_socket && e.proc->terminal))
    {
      ctr_error_t why = steal_ptr (*err);
      exec_release (&e);
      memset (&e, 0, sizeof e);
      if (selfexec_reexec_saved (err) < 0)
        ctr_error_free (&why);
      else
        *err = why;
      return -1;
    }
out:
  exec_release (&e);
  return r;
}
