/* create: `create` and `run` of OCI containers: the parent side of setup, the setup child,
   and the state they share (the hot path of docs/architecture.md). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/keyctl.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "runtime/container.h"
#include "runtime/setup_shared.h"
#include "runtime/supervise.h"
#include "runtime/hooks.h"
#include "base/log.h"
#include "namespaces/namespaces.h"
#include "oci/oci.h"
#include "base/json.h"
#include "process/process.h"
#include "rootfs/lxcfs.h"
#include "rootfs/rootfs.h"
#include "runtime/seccomp_cache.h"
#include "process/selfexec.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "base/util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* ---------------------------------------------------------------- create */

struct create
{
  const struct ctr_context *ctx;
  const struct container_create_options *opts;
  const char *id;
  const char *root;
  bool run_foreground; /* run without --detach: keep the pty, supervise */
  bool is_run;         /* run: no exec fifo, the child goes straight on to exec */
  int dirfd;
  char *bundle;
  char *rootfs;
  char *config_text;
  size_t config_len;
  struct oci_config *config;
  struct process_plan *plan;
  struct ns_plan ns;
  struct cgroup *cg;
  int sync_parent;
  int sync_child;
  int fifo_fd;
  pid_t child; /* what clone3 returned */
  pid_t pid;   /* the container process */
  int pidfd;
  int master; /* pty master kept for `run` */
  bool state_dir_made;
  struct ctr_state state;
  /* child side */
  struct process_seccomp seccomp;
  bool have_seccomp;
  bool late_cgroupns;     /* unshare the cgroup namespace after joining the v1 cgroups */
  bool self_enter;        /* the child joins its cgroups itself (it still has host credentials) */
  bool cloned_into;       /* clone3 put the child in its cgroup2 directory */
  char *hook_state_json;  /* createContainer's state, then (after its NUL) ... */
  char *start_state_json; /* ... startContainer's: in the same buffer */
  int ns_fds[3]; /* its net, user and mnt namespaces, sent when asked (run --net, the monitor) */
  int stub_fd;   /* sealed ctr-stub: the container's program is executed through it */
  int listener_sock;          /* connected to linux.seccomp.listenerPath before pivot_root */
  char *listener_state;       /* the containerProcessState sent with the listener fd */
  int console_sock;           /* connected to --console-socket at load, before anything exists */
  struct rootfs_idmap *idmap; /* idmapped mounts' trees, made at load, inherited by the child */
  int *bind_sources;          /* bind-mount sources cloned before the new user namespace */
  int root_tree;              /* and the rootfs (rootfs_open_root_tree), or -1 */
  char *shared_root;          /* no mount namespace: the state's directory the root is bound on */
};

static void
create_init (struct create *c, const struct ctr_context *ctx, const char *id,
             const struct container_create_options *opts)
{
  memset (c, 0, sizeof *c);
  c->ctx = ctx;
  c->opts = opts;
  c->id = id;
  c->root = container_state_root (ctx);
  c->dirfd = c->sync_parent = c->sync_child = c->fifo_fd = c->pidfd = c->master = -1;
  c->listener_sock = c->stub_fd = c->console_sock = c->root_tree = -1;
  for (int i = 0; i < 3; i++)
    c->ns_fds[i] = -1;
  for (int i = 0; i < OCI_NS_COUNT; i++)
    c->ns.join_fds[i] = -1;
}

/* Undoes whatever create did, in reverse order. Used on failure and by `run`. */
static void
create_undo (struct create *c)
{
  ctr_error_t err = NULL;
  if (c->pid > 0 && c->pid != c->child)
    kill_and_reap (c->pid, -1);
  kill_and_reap (c->child, c->pidfd);
  c->child = c->pid = 0;
  if (c->cg && cgroup_destroy (c->cg, &err) < 0)
    ctr_error_print (&err);
  if (c->state_dir_made && state_dir_remove (c->root, c->id, &err) < 0)
    ctr_error_print (&err);
  c->state_dir_made = false;
}

static void
create_release (struct create *c)
{
  if (c->dirfd >= 0)
    close (c->dirfd);
  if (c->sync_parent >= 0)
    close (c->sync_parent);
  if (c->sync_child >= 0)
    close (c->sync_child);
  if (c->fifo_fd >= 0)
    close (c->fifo_fd);
  if (c->pidfd >= 0)
    close (c->pidfd);
  if (c->master >= 0)
    close (c->master);
  ns_plan_release (&c->ns);
  rootfs_idmap_free (c->idmap);
  if (c->cg)
    cgroup_free (c->cg);
  process_plan_free (c->plan);
  rootfs_close_bind_sources (c->bind_sources, c->config ? c->config->mounts_len : 0);
  if (c->root_tree >= 0)
    close (c->root_tree);
  oci_config_free (c->config);
  free (c->config_text);
  free (c->bundle);
  free (c->rootfs);
  free (c->shared_root);
  free (c->state.created);
  free (c->state.cgroup);
  free (c->state.annotations);
  free (c->hook_state_json);
  free (c->listener_state);
  if (c->listener_sock >= 0)
    close (c->listener_sock);
  if (c->stub_fd >= 0)
    close (c->stub_fd);
  for (int i = 0; i < 3; i++)
    if (c->ns_fds[i] >= 0)
      close (c->ns_fds[i]);
  if (c->console_sock >= 0)
    close (c->console_sock);
  process_seccomp_release (&c->seccomp);
}

/* Reads and validates the bundle: config.json, rootfs, process plan, namespaces. */
static int
create_load_bundle (struct create *c, ctr_error_t *err)
{
  const char *bundle = c->opts->bundle ? c->opts->bundle : ".";
  const char *cfgname = c->opts->config_file ? c->opts->config_file : "config.json";
  cleanup_close int bfd = -1;
  cleanup_free char *rootfs_rel = NULL;
  char resolved[PATH_MAX];
  struct stat st;

  if (realpath (bundle, resolved) == NULL)
    return ctr_error (err, errno, "bundle `%s`", bundle);
  c->bundle = xstrdup (resolved);
  bfd = open (c->bundle, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (bfd < 0)
    return ctr_error (err, errno, "bundle `%s`", c->bundle);
  if (read_file_at (bfd, cfgname, OCI_CONFIG_MAX_SIZE, &c->config_text, &c->config_len, err) < 0)
    return ctr_error_wrap (err, "bundle `%s`", c->bundle);
  if (lxcfs_config_add_binds (&c->config_text, &c->config_len, c->opts->ro_binds, cfgname, err) < 0
      || oci_config_parse (c->config_text, c->config_len, cfgname, &c->config, err) < 0)
    return -1;
  if (c->config->process == NULL)
    return ctr_error (err, 0, "%s: process: required to create a container", cfgname);
  if (is_rootless ())
    {
      /* an unprivileged user gets a user namespace of the container's own, as root
         inside (ranges through newuidmap when the user has subordinate ids) */
      struct oci_rootless_ids ids;
      const char *note = ns_rootless_ids (&ids);
      if (oci_config_make_rootless (c->config, &ids) && note)
        ctr_log_warning ("rootless: %s", note);
    }
  if (c->config->root.path[0] == '/')
    rootfs_rel = xstrdup (c->config->root.path);
  else
    rootfs_rel = xasprintf ("%s/%s", c->bundle, c->config->root.path);
  if (realpath (rootfs_rel, resolved) == NULL)
    return ctr_error (err, errno, "%s: root.path: rootfs `%s`", cfgname, rootfs_rel);
  if (stat (resolved, &st) < 0 || !S_ISDIR (st.st_mode))
    return ctr_error (err, ENOTDIR, "%s: root.path: rootfs `%s`", cfgname, resolved);
  /* pivot_root would only say EBUSY later, and a container must not own the host's root */
  if (strcmp (resolved, "/") == 0)
    return ctr_error (err, 0, "%s: root.path: `%s` is the host's root directory `/`", cfgname,
                      c->config->root.path);
  c->rootfs = xstrdup (resolved);
  if (c->config->process->terminal && c->opts->console_socket == NULL && !c->run_foreground
      && c->opts->console_master == NULL)
    return ctr_error (err, 0,
                      "%s: process.terminal is true: --console-socket is required (or run in "
                      "the foreground)",
                      cfgname);
  /* as runc: connected now, so a wrong path fails before anything of the container exists */
  if (c->config->process->terminal && c->opts->console_socket
      && (c->console_sock = terminal_connect_console_socket (c->opts->console_socket, err)) < 0)
    return -1;
  if (c->config->linux_ && c->config->linux_->has_intel_rdt)
    return ctr_error (err, ENOTSUP, "%s: linux.intelRdt: not supported", cfgname);
  if (oci_check_sysctls (c->config, cfgname, err) < 0)
    return -1;
  if (process_plan_new (c->config->process, c->config->linux_, &c->plan, err) < 0)
    return ctr_error_wrap (err, "%s", cfgname);
  if (ns_plan_build (c->config, &c->ns, err) < 0
      || rootfs_idmap_prepare (c->config, c->bundle, cfgname, &c->ns, &c->idmap, err) < 0)
    return ctr_error_wrap (err, "%s", cfgname);
  if ((c->config->hostname || c->config->domainname) && !(c->ns.new_flags & CLONE_NEWUTS)
      && c->ns.join_fds[OCI_NS_UTS] < 0)
    return ctr_error (err, 0, "%s: hostname: needs a new uts namespace", cfgname);
  if (rootfs_create_check (c->config, c->bundle, c->opts->no_pivot, c->ns.new_flags & CLONE_NEWUSER,
                           &c->bind_sources, err)
      < 0)
    return ctr_error_wrap (err, "%s", cfgname);
  c->root_tree = rootfs_open_root_tree (c->rootfs, c->ns.new_flags & CLONE_NEWUSER,
                                        c->ns.shares_mount_ns, c->opts->no_pivot, err);
  return c->root_tree < 0 && *err ? -1 : 0;
}

/* The first state.json, written before the cgroup is made: pid 0 (creating) and the cgroup
   about to be made, so that a create killed at any later point leaves a container that
   `delete` can undo; parent_save_state() replaces it once the process exists. */
static int
record_preliminary_state (void *arg, const char *planned_cgroup, ctr_error_t *err)
{
  struct create *c = arg;
  c->state.cgroup = (char *)planned_cgroup;
  int r = state_write (c->dirfd, &c->state, err);
  c->state.cgroup = NULL;
  return r;
}

/* State dir, fifo, saved config and cgroup: everything that exists before the child. */
static int
create_prepare_host (struct create *c, ctr_error_t *err)
{
  struct cgroup_config cgc = { 0 };

  c->dirfd = state_dir_create (c->root, c->id, err);
  if (c->dirfd < 0)
    return -1;
  c->state_dir_made = true;
  if (state_lock (c->dirfd, err) < 0)
    return -1;
  if (c->is_run)
    goto no_fifo;
  if (mkfifoat (c->dirfd, STATE_FIFO, 0600) < 0)
    return ctr_error (err, errno, "create exec fifo");
  /* O_RDWR: the container holds both ends, so its read blocks until `start` writes */
  c->fifo_fd = openat (c->dirfd, STATE_FIFO, O_RDWR | O_CLOEXEC);
  if (c->fifo_fd < 0)
    return ctr_error (err, errno, "open exec fifo");
no_fifo:
  if (write_file_at (c->dirfd, STATE_CONFIG, c->config_text, c->config_len, 0600, err) < 0)
    return -1;
  if (c->ns.shares_mount_ns && mkdirat (c->dirfd, STATE_SHARED_ROOT, 0755) < 0)
    return ctr_error (err, errno, "create `%s` in the state directory", STATE_SHARED_ROOT);
  if (c->ns.shares_mount_ns)
    c->shared_root = xasprintf ("%s/%s/%s", c->root, c->id, STATE_SHARED_ROOT);
  c->state.id = (char *)c->id;
  c->state.bundle = c->bundle;
  c->state.rootfs = c->rootfs;
  c->state.created = rfc3339_now ();
  c->state.owner = geteuid ();
  c->state.annotations = state_annotations_json (c->config);
  c->state.has_poststart = c->config->hooks.len[OCI_HOOK_POSTSTART] > 0;
  c->state.has_poststop = c->config->hooks.len[OCI_HOOK_POSTSTOP] > 0;
  cgc.id = c->id;
  cgc.cgroups_path = c->config->linux_ ? c->config->linux_->cgroups_path : NULL;
  cgc.resources = c->config->linux_ ? c->config->linux_->resources : NULL;
  cgc.rootless = is_rootless ();
  cgc.record = record_preliminary_state;
  cgc.record_arg = c;
  if (!cgc.rootless && (c->ns.new_flags & CLONE_NEWUSER) && (c->ns.new_flags & CLONE_NEWCGROUP))
    cgroup_config_owner (&cgc, c->config->linux_);
  if (cgroup_create (&cgc, &c->cg, err) < 0)
    return -1;
  c->state.cgroup = cgroup_serialize (c->cg);
  return 0;
}

/* ---------------------------------------------------------------- the setup child */

static int
child_recv (struct create *c, enum sync_type expect, struct sync_msg *msg, ctr_error_t *err)
{
  for (;;)
    {
      if (sync_recv (c->sync_child, 0, msg, err) < 0)
        return -1;
      if (msg->type == SYNC_SECCOMP && expect != SYNC_SECCOMP)
        {
          /* the filter is compiled in parallel and may arrive before what we wait for */
          seccomp_from_msg (msg, &c->seccomp);
          c->have_seccomp = true;
          continue;
        }
      if (msg->type != (uint32_t)expect)
        {
          sync_msg_release (msg);
          return ctr_error (err, EPROTO, "unexpected message %u (wanted %u)", msg->type, expect);
        }
      return 0;
    }
}

static int
child_wait_seccomp (struct create *c, ctr_error_t *err)
{
  struct sync_msg msg;
  if (c->have_seccomp)
    return 0;
  if (child_recv (c, SYNC_SECCOMP, &msg, err) < 0)
    return -1;
  seccomp_from_msg (&msg, &c->seccomp);
  c->have_seccomp = true;
  return 0;
}

/* Namespaces that the child enters itself, the user namespace hand-shake and the fork
   into new pid/time namespaces. Returns in the container process. */
static int
child_namespaces (struct create *c, ctr_error_t *err)
{
  struct sync_msg msg;
  pid_t pid;

  if (ns_child_join_and_unshare (&c->ns, err) < 0)
    return -1;
  if (c->ns.userns_in_child)
    {
      if (sync_send (c->sync_child, SYNC_USERNS, 0, NULL, 0, -1, err) < 0
          || child_recv (c, SYNC_USERNS_DONE, &msg, err) < 0)
        return -1;
      sync_msg_release (&msg);
      selfexec_nondumpable ();
    }
  if (c->ns.in_userns)
    {
      /* until now we were the unmapped overflow id: files made would fail EOVERFLOW (a
         joined user namespace has its own maps: none need be in the config) */
      if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
        return ctr_error (err, errno, "become root in the user namespace (is id 0 mapped?)");
    }
  /* a cgroup namespace is rooted where the process is when it is made: after the move */
  if (c->late_cgroupns && unshare (CLONE_NEWCGROUP) < 0)
    return ctr_error (err, errno, "unshare cgroup namespace");
  if ((c->ns.unshare_flags & CLONE_NEWTIME) && ns_write_time_offsets (c->config->linux_, err) < 0)
    return -1;
  if ((c->ns.new_flags & CLONE_NEWNET) && ns_loopback_up (err) < 0)
    return -1;
  if (!c->ns.needs_fork)
    return 0;
  pid = fork ();
  if (pid < 0)
    return ctr_error (err, errno, "fork into the new pid namespace");
  if (pid > 0)
    _exit (0); /* the container process reports itself; the parent reaps us */
  return sync_send_pid (c->sync_child, err);
}

static bool
has_listener (const struct oci_config *cfg)
{
  return cfg->linux_ && cfg->linux_->seccomp && cfg->linux_->seccomp->listener_path;
}

/* Connected while the host's paths are still visible: after pivot_root the listener's
   socket is out of reach. The fd stays clear of the --preserve-fds range. */
static int
child_connect_listener (struct create *c, ctr_error_t *err)
{
  int min_fd = 3 + (c->opts->preserve_fds > 0 ? c->opts->preserve_fds : 0);
  cleanup_close int fd
      = unix_connect (c->config->linux_->seccomp->listener_path, "linux.seccomp.listenerPath", err);
  if (fd < 0)
    return -1;
  c->listener_sock = fcntl (fd, F_DUPFD_CLOEXEC, min_fd);
  if (c->listener_sock < 0)
    return ctr_error (err, errno, "linux.seccomp.listenerPath: dup");
  return 0;
}

/* process_exec's listener receiver: the containerProcessState and the fd, as runc sends. */
static int
send_listener_fd (int listener, void *data, ctr_error_t *err)
{
  struct create *c = data;
  if (unix_send_fd (c->listener_sock, c->listener_state, strlen (c->listener_state), listener) < 0)
    return ctr_error (err, errno, "send the seccomp listener to `%s`",
                      c->config->linux_->seccomp->listener_path);
  return 0;
}

static bool
wants_ns_fds (const struct create *c)
{
  return c->opts->netns_fd_out || (c->opts->networks && c->opts->networks[0]);
}

/* The network and user namespaces as the container has them, for whoever attaches its
   networks: a process may always open its own /proc/self/ns files. */
static int
child_send_ns_fds (struct create *c, ctr_error_t *err)
{
  /* in the order of ns_fds; the mount namespace only when asked for */
  static const char *const ns[]
      = { "/proc/self/ns/net", "/proc/self/ns/user", "/proc/self/ns/mnt" };
  for (size_t i = 0; wants_ns_fds (c) && i < (c->opts->mntns_fd_out ? 3 : 2); i++)
    {
      cleanup_close int fd = open (ns[i], O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return ctr_error (err, errno, "open `%s`", ns[i]);
      if (sync_send (c->sync_child, SYNC_NS_FD, (int)i, NULL, 0, fd, err) < 0)
        return -1;
    }
  return 0;
}

static int
child_identity (struct create *c, ctr_error_t *err)
{
  const struct oci_config *cfg = c->config;
  struct sync_msg msg;
  bool hooks = false;
  int i;

  if (!c->opts->no_new_keyring)
    {
      cleanup_free char *name = xasprintf ("_ses.%s", c->id);
      /* a keyring of its own; not fatal where keyrings are unavailable (as runc) */
      syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0);
    }
  if (cfg->process->has_oom_score_adj
      && write_self_oom_score_adj (cfg->process->oom_score_adj, err) < 0)
    return -1;
  if (cfg->hostname && sethostname (cfg->hostname, strlen (cfg->hostname)) < 0)
    return ctr_error (err, errno, "hostname: set `%s`", cfg->hostname);
  if (cfg->domainname && setdomainname (cfg->domainname, strlen (cfg->domainname)) < 0)
    return ctr_error (err, errno, "domainname: set `%s`", cfg->domainname);
  for (i = OCI_HOOK_PRESTART; i <= OCI_HOOK_START_CONTAINER; i++)
    hooks |= cfg->hooks.len[i] > 0;
  if (!hooks && !has_listener (cfg))
    return 0;
  if (sync_send (c->sync_child, SYNC_HOOKS, 0, NULL, 0, -1, err) < 0
      || child_recv (c, SYNC_HOOKS_DONE, &msg, err) < 0)
    return -1;
  c->hook_state_json = steal_ptr (msg.data);
  if (c->hook_state_json && strlen (c->hook_state_json) < msg.len)
    c->start_state_json = c->hook_state_json + strlen (c->hook_state_json) + 1;
  else
    c->start_state_json = c->hook_state_json;
  sync_msg_release (&msg);
  if (!has_listener (cfg))
    return 0;
  if (child_recv (c, SYNC_LISTENER_STATE, &msg, err) < 0)
    return -1;
  c->listener_state = steal_ptr (msg.data);
  sync_msg_release (&msg);
  return child_connect_listener (c, err);
}

static int
child_terminal (struct create *c, struct rootfs_ctx *rctx, ctr_error_t *err)
{
  const struct oci_process *p = c->config->process;
  cleanup_close int master = -1;
  cleanup_close int slave = -1;

  if (!p->terminal)
    {
      /* a session of its own even without a pty: else the container keeps the caller's
         controlling tty and can push input into the caller's shell with TIOCSTI */
      if (setsid () < 0)
        return ctr_error (err, errno, "setsid");
      return 0;
    }
  if (terminal_open_pty (&master, &slave, err) < 0)
    return -1;
  if (p->has_console_size
      && terminal_set_size (master, p->console_height, p->console_width, err) < 0)
    return -1;
  if (c->run_foreground && c->console_sock < 0) /* before the program can write */
    terminal_plain_newlines_unless_tty (master);
  if (rootfs_mount_console (rctx, slave, err) < 0)
    return -1;
  if (sync_send (c->sync_child, SYNC_PTY, 0, NULL, 0, master, err) < 0)
    return -1;
  /* A machine's console (the monitor keeps the master) is init's stdio but nobody's
     controlling terminal, as under LXC: the getty on /dev/console takes it, so its login
     session is hung up and ends at shutdown. */
  if (c->opts->console_master)
    return terminal_make_console (slave, err);
  return terminal_make_controlling (slave, err);
}

static int
child_rootfs (struct create *c, ctr_error_t *err)
{
  const struct oci_config *cfg = c->config;
  struct rootfs_ctx rctx;
  int r = -1;

  rootfs_ctx_init (&rctx, cfg, c->rootfs);
  rctx.bundle = c->bundle;
  rctx.idmap_trees = rootfs_idmap_trees (c->idmap);
  rctx.new_userns = c->ns.in_userns;
  rctx.new_cgroupns = (c->ns.new_flags & CLONE_NEWCGROUP) != 0;
  rctx.no_pivot = c->opts->no_pivot;
  rctx.shares_mount_ns = c->ns.shares_mount_ns;
  rctx.shared_root = c->shared_root;
  rctx.bind_sources = c->bind_sources;
  rctx.root_tree = c->root_tree;
  if (rootfs_prepare (&rctx, err) < 0)
    goto out;
  /* as runc: createContainer hooks start in the container's root (not yet pivoted to) */
  if (cfg->hooks.len[OCI_HOOK_CREATE_CONTAINER] > 0 && fchdir (rctx.rootfs_fd) < 0)
    {
      ctr_error (err, errno, "createContainer hooks: enter the rootfs");
      goto out;
    }
  if (hooks_run_stage (&cfg->hooks, OCI_HOOK_CREATE_CONTAINER, c->hook_state_json, err) < 0)
    goto out;
  if (rootfs_pivot (&rctx, err) < 0 || child_terminal (c, &rctx, err) < 0
      || rootfs_finalize (&rctx, err) < 0)
    goto out;
  r = 0;
out:
  rootfs_ctx_release (&rctx);
  return r;
}

/* Waits for `start` on the exec fifo. */
static int
child_wait_start (struct create *c, ctr_error_t *err)
{
  char b;
  ssize_t r;
  do
    r = read (c->fifo_fd, &b, 1);
  while (r < 0 && errno == EINTR);
  if (r != 1)
    return ctr_error (err, errno, "wait for start");
  /* kept (O_CLOEXEC): `start` waits for it to close at execve, or for container_fifo_report */
  return 0;
}

static int
child_setup (struct create *c, char **exe, ctr_error_t *err)
{
  const struct oci_config *cfg = c->config;
  struct sync_msg msg;

  /* Joining its own cgroups, the child waits for nothing the parent does: it goes on
     while the parent records the state. Otherwise the parent maps ids / moves it first. */
  if (c->self_enter)
    {
      if (cgroup_enter (c->cg, 0, c->cloned_into, err) < 0)
        return -1;
    }
  else
    {
      if (child_recv (c, SYNC_CONTINUE, &msg, err) < 0)
        return -1;
      sync_msg_release (&msg);
    }
  selfexec_nondumpable ();
  if (child_namespaces (c, err) < 0 || child_send_ns_fds (c, err) < 0
      || child_identity (c, err) < 0)
    return -1;
  if (child_rootfs (c, err) < 0)
    return -1;
  if (process_apply_attributes (c->plan, err) < 0)
    return -1;
  if (cfg->linux_ && cfg->linux_->seccomp && child_wait_seccomp (c, err) < 0)
    return -1;
  if (process_drop_privileges (c->plan, c->stub_fd >= 0, c->have_seccomp ? &c->seccomp : NULL, err)
      < 0)
    return -1;
  if (process_resolve_executable (c->plan, exe, err) < 0)
    return -1;
  /* runc 1.1's order: confined before the wait for start and the startContainer hooks */
  return process_seccomp_enter (c->plan, c->have_seccomp ? &c->seccomp : NULL,
                                c->listener_sock >= 0 ? send_listener_fd : NULL, c, err);
}

static void __attribute__ ((noreturn)) container_child (struct create *c)
{
  ctr_error_t err = NULL;
  cleanup_free char *exe = NULL;
  int min_fd = 3 + (c->opts->preserve_fds > 0 ? c->opts->preserve_fds : 0);
  int fd;

  reset_signals ();
  close (c->sync_parent);
  c->sync_parent = -1;
  if (c->console_sock >= 0)
    close (c->console_sock); /* the parent hands the pty over, not the container */
  c->console_sock = -1;
  /* the state dir fd carries create's flock: holding it would block `start` */
  close (c->dirfd);
  c->dirfd = -1;
  /* keep our own fds clear of the range passed with --preserve-fds */
  fd = fcntl (c->sync_child, F_DUPFD_CLOEXEC, min_fd);
  if (fd >= 0)
    {
      close (c->sync_child);
      c->sync_child = fd;
    }
  fd = c->fifo_fd >= 0 ? fcntl (c->fifo_fd, F_DUPFD_CLOEXEC, min_fd) : -1;
  if (fd >= 0)
    {
      close (c->fifo_fd);
      c->fifo_fd = fd;
    }
  if (child_setup (c, &exe, &err) < 0)
    goto fail;
  if (sync_send (c->sync_child, SYNC_READY, 0, NULL, 0, -1, &err) < 0)
    goto fail;
  /* `run` starts the container itself: nothing to wait for */
  if (c->fifo_fd >= 0 && child_wait_start (c, &err) < 0)
    _exit (1);
  if (hooks_run_stage (&c->config->hooks, OCI_HOOK_START_CONTAINER, c->start_state_json, &err) < 0)
    {
      container_fifo_report (c->fifo_fd, &err);
      ctr_error_print (&err);
      _exit (1);
    }
  /* with a listener the connected socket is the one fd kept: after READY nobody reads
     the sync socket of a create anyway. The program is executed by ctr-stub, whose
     /proc/self/exe is a sealed memfd: a `#!/proc/self/exe` program cannot run the host's
     ctr as the container's process (rule 1). */
  {
    /* the stub reports a failed execve of the program to `start` through the fifo */
    struct process_stub stub = { c->stub_fd, 0, c->fifo_fd };
    process_exec_with_listener (c->plan, exe, NULL, c->opts->preserve_fds,
                                c->listener_sock >= 0 ? c->listener_sock
                                : c->fifo_fd >= 0     ? c->fifo_fd
                                                      : c->sync_child,
                                -1, NULL, NULL, c->stub_fd >= 0 ? &stub : NULL, &err);
  }
  /* after start nobody listens on the sync socket: tell `start` and the container's stderr */
  container_fifo_report (c->fifo_fd, &err);
  ctr_error_print (&err);
  _exit (127);
fail:
  sync_send_error (c->sync_child, &err);
  _exit (1);
}

/* ---------------------------------------------------------------- the parent side */

static int
parent_save_state (struct create *c, ctr_error_t *err)
{
  c->state.pid = c->pid;
  c->state.pid_start = pid_start_time (c->pid);
  return state_write (c->dirfd, &c->state, err);
}

static int
parent_run_hooks (struct create *c, ctr_error_t *err)
{
  const struct oci_hooks *h = &c->config->hooks;
  size_t len1, len2;
  cleanup_free char *json = state_hook_json (&c->state, CTR_STATUS_CREATING, &len1);
  cleanup_free char *started = state_hook_json (&c->state, CTR_STATUS_CREATED, &len2);
  cleanup_free char *both = NULL;
  if (hooks_run_stage (h, OCI_HOOK_PRESTART, json, err) < 0
      || hooks_run_stage (h, OCI_HOOK_CREATE_RUNTIME, json, err) < 0)
    return -1;
  /* the child's hooks: createContainer's state, NUL, startContainer's (as runc: created) */
  both = xmalloc (len1 + 1 + len2 + 1);
  memcpy (both, json, len1 + 1);
  memcpy (both + len1 + 1, started, len2 + 1);
  if (sync_send (c->sync_parent, SYNC_HOOKS_DONE, 0, both, len1 + 1 + len2, -1, err) < 0)
    return -1;
  if (!has_listener (c->config))
    return 0;
  {
    size_t len;
    cleanup_free char *text = listener_state_json (c->config->linux_->seccomp, c->pid, json, &len);
    return sync_send (c->sync_parent, SYNC_LISTENER_STATE, 0, text, len, -1, err);
  }
}

static int
parent_take_pty (struct create *c, struct sync_msg *msg, ctr_error_t *err)
{
  if (c->console_sock >= 0)
    {
      int r = terminal_send_to_connected (c->console_sock, c->opts->console_socket, msg->fd, err);
      close (c->console_sock);
      c->console_sock = -1;
      sync_msg_release (msg);
      return r;
    }
  c->master = steal_fd (msg->fd);
  return 0;
}

/* Serves the child's requests until it is ready to start. */
static int
parent_serve (struct create *c, ctr_error_t *err)
{
  for (;;)
    {
      struct sync_msg msg;
      if (sync_recv (c->sync_parent, 0, &msg, err) < 0)
        return -1;
      switch (msg.type)
        {
        case SYNC_USERNS:
          sync_msg_release (&msg);
          if (rootfs_idmap_write_id_maps (c->idmap, c->child, c->config->linux_, err) < 0
              || (selfexec_nondumpable (), false)
              || sync_send (c->sync_parent, SYNC_USERNS_DONE, 0, NULL, 0, -1, err) < 0)
            return -1;
          break;
        case SYNC_PID:
          c->pid = msg.pid;
          sync_msg_release (&msg);
          /* the intermediate process exits as soon as it has forked */
          while (waitpid (c->child, NULL, 0) < 0 && errno == EINTR)
            ;
          close (c->pidfd);
          c->child = 0;
          c->pidfd = syscall (SYS_pidfd_open, c->pid, 0);
          if (c->pidfd < 0)
            return ctr_error (err, errno, "pidfd_open %d", c->pid);
          if (parent_save_state (c, err) < 0)
            return -1;
          break;
        case SYNC_HOOKS:
          sync_msg_release (&msg);
          if (parent_run_hooks (c, err) < 0)
            return -1;
          break;
        case SYNC_PTY:
          if (parent_take_pty (c, &msg, err) < 0)
            return -1;
          break;
        case SYNC_NS_FD:
          if (msg.status >= 0 && msg.status < 3 && c->ns_fds[msg.status] < 0)
            c->ns_fds[msg.status] = steal_fd (msg.fd);
          sync_msg_release (&msg);
          break;
        case SYNC_READY:
          sync_msg_release (&msg);
          return 0;
        case 0:
          return ctr_error (err, 0, "setup process exited unexpectedly");
        default:
          sync_msg_release (&msg);
          return ctr_error (err, EPROTO, "unexpected message %u from setup process", msg.type);
        }
    }
}

static int
parent_spawn (struct create *c, ctr_error_t *err)
{
  int fds[2];
  int cgfd = cgroup_v2_fd (c->cg);
  bool console = c->opts->console_master && c->config->process && c->config->process->terminal;
  pid_t group = 0;

  if (sync_socketpair (fds, err) < 0)
    return -1;
  c->sync_parent = fds[0];
  c->sync_child = fds[1];
  if (selfexec_use_stub () && (c->stub_fd = selfexec_stub_fd (err)) < 0)
    return -1;
  if (ns_parent_prepare (&c->ns, err) < 0)
    return -1;
  /* v1 hierarchies are joined after clone3: a cgroup namespace made by clone3 would be
     rooted at our own v1 cgroups */
  if ((c->ns.clone_flags & CLONE_NEWCGROUP) && cgroup_layout_detect () != CGROUP_LAYOUT_UNIFIED)
    {
      c->ns.clone_flags &= ~CLONE_NEWCGROUP;
      c->late_cgroupns = true;
    }
  if (console && (group = terminal_group_make (err)) < 0)
    return -1;
  c->child = ns_clone3 (c->ns.clone_flags, cgfd, &c->pidfd, err);
  if (c->child < 0 && cgfd >= 0 && (*err)->status != ENOMEM)
    {
      /* CLONE_INTO_CGROUP refused (old kernel, or a cgroup the kernel won't clone into) */
      ctr_error_free (err);
      cgfd = -1;
      if (c->ns.clone_flags & CLONE_NEWCGROUP)
        {
          c->ns.clone_flags &= ~CLONE_NEWCGROUP;
          c->late_cgroupns = true;
        }
      c->child = ns_clone3 (c->ns.clone_flags, -1, &c->pidfd, err);
    }
  if (c->child < 0)
    {
      c->child = 0;
      if (group > 0)
        terminal_group_join (0, group, NULL);
      return ctr_error_wrap (err, "start container process");
    }
  c->cloned_into = cgfd >= 0;
  /* a child born in a new user namespace has no rights on the host's cgroupfs */
  c->self_enter = !(c->ns.clone_flags & CLONE_NEWUSER);
  if (c->child == 0)
    container_child (c);
  if (group > 0 && terminal_group_join (c->child, group, err) < 0)
    return -1;
  close (c->sync_child);
  c->sync_child = -1;
  rootfs_close_bind_sources (c->bind_sources, c->config->mounts_len);
  c->bind_sources = NULL;
  if (c->root_tree >= 0)
    close (steal_fd (c->root_tree));
  /* the child's end only: `start` waits for every copy of it to close (at the program's
     execve), and run --net starts from this very process */
  if (c->fifo_fd >= 0)
    close (steal_fd (c->fifo_fd));
  if (!c->ns.needs_fork)
    c->pid = c->child;
  if ((c->ns.clone_flags & CLONE_NEWUSER)
      && rootfs_idmap_write_id_maps (c->idmap, c->child, c->config->linux_, err) < 0)
    return -1;
  selfexec_nondumpable ();
  if (!c->self_enter && cgroup_enter (c->cg, c->child, c->cloned_into, err) < 0)
    return -1;
  if (!c->self_enter && sync_send (c->sync_parent, SYNC_CONTINUE, 0, NULL, 0, -1, err) < 0)
    return -1;
  if (c->pid && parent_save_state (c, err) < 0)
    return -1;
  if (seccomp_send (c->sync_parent, c->config->linux_, err) < 0)
    return -1;
  return parent_serve (c, err);
}

static int
create_container (struct create *c, ctr_error_t *err)
{
  reserve_preserved_fds (c->opts->preserve_fds);
  /* from here on ctr's processes hold container state: closed to /proc/PID/ peeking.
     Rootless, an unprivileged parent (or newuidmap on its behalf) must open the child's
     /proc/PID/uid_map, which a non-dumpable process's owner (root) forbids: both sides
     turn non-dumpable once the id maps are written, before any container process or
     namespace other than the new user namespace exists. */
  if (!is_rootless ())
    selfexec_nondumpable ();
  if (validate_container_id (c->id, err) < 0)
    return -1;
  if (c->ctx->systemd_cgroup)
    return ctr_error (err, ENOTSUP, "--systemd-cgroup: the systemd cgroup driver is not supported");
  if (create_load_bundle (c, err) < 0)
    return -1;
  /* a pid namespace joined by path holds other containers' processes while our child sets
     up inside it: that child must not be the host's binary (rule 1) */
  if (c->ns.join_pid_in_parent && selfexec_reexec_saved (err) < 0)
    return -1;
  if (create_prepare_host (c, err) < 0 || parent_spawn (c, err) < 0)
    goto fail;
  ctr_log_debug ("create `%s`: process %d set up from %s%s", c->id, c->pid, c->bundle,
                 c->is_run ? "" : ", waiting to start");
  if (c->opts->pid_file && write_pid_file (c->opts->pid_file, c->pid, err) < 0)
    goto fail;
  if (c->opts->console_master)
    *c->opts->console_master = steal_fd (c->master);
  if (c->opts->pid_out)
    *c->opts->pid_out = c->pid;
  int *outs[] = { c->opts->netns_fd_out, c->opts->userns_fd_out, c->opts->mntns_fd_out };
  for (int i = 0; i < 3; i++)
    if (outs[i])
      *outs[i] = steal_fd (c->ns_fds[i]);
  return 0;
fail:
  create_undo (c);
  return -1;
}

int
container_create (const struct ctr_context *ctx, const char *id,
                  const struct container_create_options *opts, ctr_error_t *err)
{
  struct create c;
  int r;
  create_init (&c, ctx, id, opts);
  r = create_container (&c, err);
  create_release (&c);
  return r;
}

/* ---------------------------------------------------------------- run */

static void
run_poststage (struct create *c, enum oci_hook_stage stage, enum ctr_status status)
{
  cleanup_free char *json = NULL;
  if (c->config->hooks.len[stage] == 0)
    return;
  json = state_hook_json (&c->state, status, NULL);
  hooks_run_warn (&c->config->hooks, stage, json);
}

int
container_run (const struct ctr_context *ctx, const char *id,
               const struct container_create_options *opts, int *exit_status, ctr_error_t *err)
{
  struct create c;
  const struct container_attach_step *step;
  sigset_t oldmask;
  int r = -1;

  *exit_status = 0;
  if (opts->networks && (ctx->attach == NULL || ctx->attach->attach == NULL))
    return ctr_error (err, ENOTSUP, "--net: this caller attaches no networks");
  create_init (&c, ctx, id, opts);
  c.run_foreground = !opts->detach;
  /* with networks the process waits on the exec fifo while they are attached */
  step = opts->networks ? ctx->attach : NULL;
  c.is_run = step == NULL;
  if (c.run_foreground)
    {
      /* the container process may be a grandchild: make it ours to reap */
      prctl (PR_SET_CHILD_SUBREAPER, 1);
      supervise_block_signals (&oldmask);
    }
  if (create_container (&c, err) < 0)
    goto out;
  if (step
      && (step->attach (id, c.dirfd, c.pid, c.ns_fds[0], c.ns_fds[1], opts, err) < 0
          || container_release_fifo (c.dirfd, err) < 0))
    {
      step->detach (id, c.dirfd);
      create_undo (&c);
      goto out;
    }
  run_poststage (&c, OCI_HOOK_POSTSTART, CTR_STATUS_RUNNING);
  if (opts->detach)
    {
      r = 0;
      goto out;
    }
  r = supervise (c.pid, c.pidfd, c.master, exit_status, err);
  if (c.pid == c.child)
    c.child = 0; /* reaped by supervise */
  c.pid = 0;
  /* --keep: the stopped container stays for `delete`, which runs poststop and detaches */
  if (!opts->keep)
    {
      run_poststage (&c, OCI_HOOK_POSTSTOP, CTR_STATUS_STOPPED);
      if (step)
        step->detach (id, c.dirfd);
      create_undo (&c);
    }
out:
  if (c.run_foreground)
    sigprocmask (SIG_SETMASK, &oldmask, NULL);
  create_release (&c);
  return r;
}
