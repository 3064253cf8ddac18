/* restore: `ctr restore`: a container made anew from its bundle and a criu(8) image: state
   directory and cgroup first, criu restore into them, then the state that the other verbs
   read (running, the restored pid). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"
#include "base/memory.h"
#include "base/util.h"
#include "cgroups/cgroup.h"
#include "runtime/container.h"
#include "runtime/criu.h"
#include "runtime/hooks.h"
#include "runtime/setup_shared.h"
#include "runtime/state.h"
#include "runtime/supervise.h"
#include "runtime/terminal.h"
#include "rootfs/mounts.h"
#include "rootfs/paths.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define CRIU_ROOT "criu-root"
#define CRIU_PIDFILE "criu.pid"
/* inherited namespace and terminal fds start here (0-2 are the restored stdio) */
#define CRIU_FIRST_FD 10

struct restore
{
  const struct ctr_context *ctx;
  const struct container_criu_options *o;
  const char *id;
  const char *root;
  char *bundle, *rootfs, *config_text;
  size_t config_len;
  struct oci_config *cfg;
  int dirfd, imgfd;
  bool state_dir_made, root_mounted;
  struct cgroup *cg;
  struct ctr_state state;
  struct criu_args args;
  struct criu_fd fds[8];
  size_t fds_len;
  int master; /* terminal: the pty master of the restored process */
  pid_t pid;
  int pidfd;
};

static int
restore_load_bundle (struct restore *r, ctr_error_t *err)
{
  const char *bundle = r->o->bundle ? r->o->bundle : ".";
  cleanup_close int bfd = -1;
  cleanup_free char *rootfs = NULL;
  char resolved[PATH_MAX];

  if (realpath (bundle, resolved) == NULL)
    return ctr_error (err, errno, "--bundle `%s`", bundle);
  r->bundle = xstrdup (resolved);
  bfd = open (r->bundle, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (bfd < 0)
    return ctr_error (err, errno, "--bundle `%s`", r->bundle);
  if (read_file_at (bfd, "config.json", OCI_CONFIG_MAX_SIZE, &r->config_text, &r->config_len, err)
      < 0)
    return ctr_error_wrap (err, "bundle `%s`", r->bundle);
  if (oci_config_parse (r->config_text, r->config_len, "config.json", &r->cfg, err) < 0)
    return -1;
  if (r->cfg->process == NULL)
    return ctr_error (err, 0, "config.json: process: required to restore a container");
  rootfs = r->cfg->root.path[0] == '/' ? xstrdup (r->cfg->root.path)
                                       : xasprintf ("%s/%s", r->bundle, r->cfg->root.path);
  if (realpath (rootfs, resolved) == NULL)
    return ctr_error (err, errno, "config.json: root.path: rootfs `%s`", rootfs);
  r->rootfs = xstrdup (resolved);
  if (r->cfg->process->terminal && r->o->console_socket == NULL && r->o->detach
      && r->o->console_master == NULL)
    return ctr_error (err, 0,
                      "config.json: process.terminal is true: --console-socket is required with "
                      "--detach");
  return 0;
}

/* The host id that id 0 of the container maps to (0 when it has no maps). */
static uint32_t
host_root_id (const struct oci_id_mapping *m, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (m[i].container_id == 0 && m[i].size > 0)
      return m[i].host_id;
  return 0;
}

/* The new pty is the host's: in a user namespace, criu (its root) gives the slave back its
   owner and group (root, tty) only when the slave's ids are mapped there already. */
static int
own_pty_by_container (int slave, const struct oci_config *cfg, ctr_error_t *err)
{
  const struct oci_linux *l = cfg->linux_;
  if (l == NULL || l->uid_mappings_len == 0 || l->gid_mappings_len == 0)
    return 0;
  if (fchown (slave, host_root_id (l->uid_mappings, l->uid_mappings_len),
              host_root_id (l->gid_mappings, l->gid_mappings_len))
      < 0)
    return ctr_error (err, errno, "restore: give the new pty to the container's root");
  return 0;
}

/* init's stdio as checkpoint recorded it: each key is handed the restoring caller's own fd
   of the same number; the terminal gets a new pty. */
static int
restore_stdio (struct restore *r, ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  json_value *v;
  size_t len;
  int r_ = 0;

  if (read_file_at (r->imgfd, CRIU_DESCRIPTORS, 65536, &text, &len, err) < 0)
    return ctr_error_wrap (err, "--image-path `%s`: not a container checkpoint", r->o->image_path);
  v = json_parse (text, len, CRIU_DESCRIPTORS, err);
  if (v == NULL)
    return -1;
  for (size_t i = 0; i < json_len (v) && i < 3 && r_ == 0; i++)
    {
      const char *key;
      if (!json_as_string (json_at (v, i), &key) || key[0] == '\0')
        continue;
      if (strncmp (key, "tty[", 4) == 0)
        {
          int slave;
          cleanup_free char *dup_key = NULL;
          if (r->master >= 0)
            continue; /* one pty for every fd that had the old one */
          if (terminal_open_pty (&r->master, &slave, err) < 0)
            {
              r_ = -1;
              break;
            }
          r->fds[r->fds_len++] = (struct criu_fd){ slave, CRIU_FIRST_FD + (int)r->fds_len };
          if (own_pty_by_container (slave, r->cfg, err) < 0)
            {
              r_ = -1;
              break;
            }
          criu_arg (&r->args, "--inherit-fd");
          criu_argf (&r->args, "fd[%d]:%s", r->fds[r->fds_len - 1].at, key);
          {
            char name[64];
            if (ptsname_r (r->master, name, sizeof name) != 0)
              {
                r_ = ctr_error (err, errno, "ptsname");
                break;
              }
            criu_arg (&r->args, "--external");
            criu_argf (&r->args, "mnt[console]:%s", name);
          }
          continue;
        }
      criu_arg (&r->args, "--inherit-fd");
      criu_argf (&r->args, "fd[%zu]:%s", i, key);
      r->fds[r->fds_len++] = (struct criu_fd){ (int)i, (int)i };
    }
  json_value_free (v);
  return r_;
}

/* Namespaces joined by path: network and pid as the externals checkpoint named, the others
   joined by criu; a cgroup namespace criu cannot join. */
static int
restore_namespaces (struct restore *r, ctr_error_t *err)
{
  const struct oci_linux *l = r->cfg->linux_;
  for (size_t i = 0; l && i < l->namespaces_len; i++)
    {
      const struct oci_namespace *ns = &l->namespaces[i];
      const char *name = oci_ns_type_name (ns->type);
      int fd;
      if (ns->path == NULL || ns->path[0] == '\0')
        continue;
      if (ns->type == OCI_NS_CGROUP)
        return ctr_error (err, ENOTSUP,
                          "config.json: linux.namespaces: a cgroup namespace joined by path "
                          "cannot be restored by criu");
      if (ns->type != OCI_NS_NETWORK && ns->type != OCI_NS_PID)
        {
          criu_arg (&r->args, "--join-ns");
          criu_argf (&r->args, "%s:%s", ns->type == OCI_NS_MOUNT ? "mnt" : name, ns->path);
          continue;
        }
      fd = open (ns->path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return ctr_error (err, errno, "config.json: linux.namespaces: %s namespace `%s`", name,
                          ns->path);
      r->fds[r->fds_len] = (struct criu_fd){ fd, CRIU_FIRST_FD + (int)r->fds_len };
      criu_arg (&r->args, "--inherit-fd");
      criu_argf (&r->args, "fd[%d]:%s", r->fds[r->fds_len].at, criu_ns_key (ns->type));
      r->fds_len++;
    }
  if (r->o->netns_fd)
    {
      /* the caller's namespace, in place of the one checkpoint named external */
      int fd = fcntl (*r->o->netns_fd, F_DUPFD_CLOEXEC, 3);
      if (fd < 0)
        return ctr_error (err, errno, "restore: the network namespace");
      r->fds[r->fds_len] = (struct criu_fd){ fd, CRIU_FIRST_FD + (int)r->fds_len };
      criu_arg (&r->args, "--inherit-fd");
      criu_argf (&r->args, "fd[%d]:%s", r->fds[r->fds_len].at, criu_ns_key (OCI_NS_NETWORK));
      r->fds_len++;
    }
  return 0;
}

static int
record_planned_cgroup (void *arg, const char *planned, ctr_error_t *err)
{
  struct restore *r = arg;
  r->state.cgroup = (char *)planned;
  int rc = state_write (r->dirfd, &r->state, err);
  r->state.cgroup = NULL;
  return rc;
}

/* Whether the destination of mount i lies strictly under a tmpfs mount of the config. */
static bool
under_tmpfs (const struct oci_config *cfg, size_t i)
{
  const char *dest = cfg->mounts[i].destination;
  size_t j, len;

  for (j = 0; j < cfg->mounts_len; j++)
    {
      const struct oci_mount *t = &cfg->mounts[j];
      if (j == i || t->type == NULL || strcmp (t->type, "tmpfs") != 0)
        continue;
      len = strlen (t->destination);
      while (len > 1 && t->destination[len - 1] == '/')
        len--;
      if (strncmp (dest, t->destination, len) == 0 && dest[len] == '/')
        return true;
    }
  return false;
}

/* criu mounts the checkpoint's mounts onto what it finds in the rootfs: the mount points the
   first run made (a bind-mounted file's empty file, a directory) must be there again, as
   runc's prepareCriuRestoreMounts makes them. A new rootfs has none: podman's restore
   --import makes a new container, whose /etc/resolv.conf is not in the image. Nothing is
   made under a tmpfs mount: criu brings the tmpfs back whole. */
static int
restore_make_mount_points (struct restore *r, ctr_error_t *err)
{
  cleanup_close int rootfd = open (r->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  size_t i;

  if (rootfd < 0)
    return ctr_error (err, errno, "restore: rootfs `%s`", r->rootfs);
  for (i = 0; i < r->cfg->mounts_len; i++)
    {
      const struct oci_mount *m = &r->cfg->mounts[i];
      struct mount_opts o = { 0 };
      bool is_dir = true;
      struct stat st;
      int fd;

      if (under_tmpfs (r->cfg, i))
        continue;
      mount_opts_parse (m->options, m->options_len, &o);
      if (mount_is_bind (m, &o) && m->source)
        {
          cleanup_free char *src = m->source[0] == '/' ? xstrdup (m->source)
                                                       : xasprintf ("%s/%s", r->bundle, m->source);
          is_dir = stat (src, &st) < 0 || S_ISDIR (st.st_mode);
        }
      mount_opts_release (&o);
      fd = mkpath_in_root (rootfd, m->destination, is_dir, 0, NULL, err);
      if (fd < 0)
        return ctr_error_wrap (err, "restore: mount point `%s` in the rootfs", m->destination);
      close (fd);
    }
  return 0;
}

/* State dir (a duplicate id is refused here), the saved config, the cgroup with the
   config's limits, and the rootfs bound where criu wants a root (a mount point). */
static int
restore_prepare_host (struct restore *r, ctr_error_t *err)
{
  struct cgroup_config cgc = { 0 };
  cleanup_free char *mnt = NULL;

  r->dirfd = state_dir_create (r->root, r->id, err);
  if (r->dirfd < 0)
    return -1;
  r->state_dir_made = true;
  if (state_lock (r->dirfd, err) < 0
      || write_file_at (r->dirfd, STATE_CONFIG, r->config_text, r->config_len, 0600, err) < 0)
    return -1;
  r->state.id = (char *)r->id;
  r->state.bundle = r->bundle;
  r->state.rootfs = r->rootfs;
  r->state.created = rfc3339_now ();
  r->state.owner = geteuid ();
  r->state.has_poststart = r->cfg->hooks.len[OCI_HOOK_POSTSTART] > 0;
  r->state.has_poststop = r->cfg->hooks.len[OCI_HOOK_POSTSTOP] > 0;
  cgc.id = r->id;
  cgc.cgroups_path = r->cfg->linux_ ? r->cfg->linux_->cgroups_path : NULL;
  cgc.resources = r->cfg->linux_ ? r->cfg->linux_->resources : NULL;
  cgc.record = record_planned_cgroup;
  cgc.record_arg = r;
  if (cgroup_create (&cgc, &r->cg, err) < 0)
    return -1;
  r->state.cgroup = cgroup_serialize (r->cg);
  if (mkdirat (r->dirfd, CRIU_ROOT, 0700) < 0)
    return ctr_error (err, errno, "restore: create `%s/%s/%s`", r->root, r->id, CRIU_ROOT);
  mnt = xasprintf ("%s/%s/%s", r->root, r->id, CRIU_ROOT);
  if (mount (r->rootfs, mnt, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ctr_error (err, errno, "restore: bind the rootfs `%s` onto `%s`", r->rootfs, mnt);
  r->root_mounted = true;
  return 0;
}

static void
restore_unmount_root (struct restore *r)
{
  cleanup_free char *mnt = xasprintf ("%s/%s/%s", r->root, r->id, CRIU_ROOT);
  if (r->root_mounted && umount2 (mnt, MNT_DETACH) < 0)
    ctr_log_warning ("restore: unmount `%s`: %s", mnt, strerror (errno));
  r->root_mounted = false;
  if (r->dirfd >= 0)
    unlinkat (r->dirfd, CRIU_ROOT, AT_REMOVEDIR);
}

static int
restore_build_args (struct restore *r, ctr_error_t *err)
{
  const struct container_criu_options *o = r->o;
  cleanup_free char *mnt = xasprintf ("%s/%s/%s", r->root, r->id, CRIU_ROOT);
  cleanup_free char *pidfile = xasprintf ("%s/%s/%s", r->root, r->id, CRIU_PIDFILE);

  criu_arg (&r->args, "criu");
  criu_arg (&r->args, "restore");
  criu_arg (&r->args, "--images-dir");
  criu_arg (&r->args, o->image_path);
  criu_arg (&r->args, "--log-file");
  criu_arg (&r->args, "restore.log");
  criu_arg (&r->args, "-v4");
  criu_arg (&r->args, "--root");
  criu_arg (&r->args, mnt);
  /* criu returns once the tree runs; the restored init is our child (its sibling) */
  criu_arg (&r->args, "--restore-detached");
  criu_arg (&r->args, "--restore-sibling");
  criu_arg (&r->args, "--pidfile");
  criu_arg (&r->args, pidfile);
  criu_arg (&r->args, "--evasive-devices");
  if (cgroup_exists (r->cg))
    {
      criu_arg (&r->args, "--cgroup-root");
      criu_arg (&r->args, cgroup_path (r->cg));
    }
  if (o->setup_netns && (o->netns_fd || o->empty_ns))
    return ctr_error (err, EINVAL, "restore: a network namespace both given and made");
  if (criu_add_common (&r->args,
                       &(struct criu_common){ o->work_path, o->manage_cgroups_mode,
                                              o->setup_netns ? "network" : o->empty_ns,
                                              o->tcp_established, o->ext_unix_sk, o->shell_job,
                                              o->file_locks, o->lazy_pages, o->auto_dedup },
                       err)
      < 0)
    return -1;
  if (o->lsm_profile)
    {
      if (strchr (o->lsm_profile, ':') == NULL)
        return ctr_error (err, 0, "--lsm-profile: \"%s\": want TYPE:NAME", o->lsm_profile);
      criu_arg (&r->args, "--lsm-profile");
      criu_arg (&r->args, o->lsm_profile);
    }
  if (o->lsm_mount_context)
    {
      criu_arg (&r->args, "--lsm-mount-context");
      criu_arg (&r->args, o->lsm_mount_context);
    }
  criu_add_config_file (&r->args, r->cfg);
  criu_add_mounts (&r->args, r->cfg, 0);
  if (restore_namespaces (r, err) < 0)
    return -1;
  return restore_stdio (r, err);
}

/* The action script through which criu hands over the new namespaces (setup_netns), in
   the container's own state directory. */
static int
restore_hook (struct restore *r, ctr_error_t *err)
{
  cleanup_free char *dir = xasprintf ("%s/%s", r->root, r->id);
  return criu_hook_args (&r->args, r->dirfd, dir, err);
}

static int
restore_read_pid (struct restore *r, ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len;
  int64_t pid;

  if (read_file_at (r->dirfd, CRIU_PIDFILE, 64, &text, &len, err) < 0)
    return ctr_error_wrap (err, "criu restore: the restored pid");
  text[strcspn (text, "\n")] = '\0';
  if (parse_int64 (text, &pid) < 0 || pid <= 0 || pid > INT32_MAX)
    return ctr_error (err, EINVAL, "criu restore: pid file says \"%s\"", text);
  unlinkat (r->dirfd, CRIU_PIDFILE, 0);
  r->pid = (pid_t)pid;
  r->pidfd = syscall (SYS_pidfd_open, r->pid, 0);
  if (r->pidfd < 0)
    return ctr_error (err, errno, "pidfd_open %d", r->pid);
  r->state.pid = r->pid;
  r->state.pid_start = pid_start_time (r->pid);
  return state_write (r->dirfd, &r->state, err);
}

/* prestart and createRuntime, with the restored pid, as runc runs them on restore. */
static int
restore_hooks (struct restore *r, ctr_error_t *err)
{
  const struct oci_hooks *h = &r->cfg->hooks;
  cleanup_free char *json = state_hook_json (&r->state, CTR_STATUS_CREATING, NULL);
  if (hooks_run_stage (h, OCI_HOOK_PRESTART, json, err) < 0
      || hooks_run_stage (h, OCI_HOOK_CREATE_RUNTIME, json, err) < 0)
    return -1;
  return 0;
}

static void
restore_undo (struct restore *r)
{
  ctr_error_t err = NULL;
  kill_and_reap (r->pid, -1);
  r->pid = 0;
  restore_unmount_root (r);
  if (r->cg && cgroup_destroy (r->cg, &err) < 0)
    ctr_error_print (&err);
  if (r->state_dir_made && state_dir_remove (r->root, r->id, &err) < 0)
    ctr_error_print (&err);
  r->state_dir_made = false;
}

static void
restore_release (struct restore *r)
{
  for (size_t i = 0; i < r->fds_len; i++)
    if (r->fds[i].fd > 2)
      close (r->fds[i].fd);
  if (r->dirfd >= 0)
    close (r->dirfd);
  if (r->imgfd >= 0)
    close (r->imgfd);
  if (r->master >= 0)
    close (r->master);
  if (r->pidfd >= 0)
    close (r->pidfd);
  if (r->cg)
    cgroup_free (r->cg);
  criu_args_release (&r->args);
  oci_config_free (r->cfg);
  free (r->bundle);
  free (r->rootfs);
  free (r->config_text);
  free (r->state.created);
  free (r->state.cgroup);
}

static int
restore_container (struct restore *r, ctr_error_t *err)
{
  const struct container_criu_options *o = r->o;
  struct criu_run run = { .action = "restore", .log_file = "restore.log", .status_fd = -1 };
  int rc;

  if (validate_container_id (r->id, err) < 0)
    return -1;
  if (o->image_path == NULL || o->image_path[0] == '\0')
    return ctr_error (err, 0, "--image-path: an empty path");
  if (is_rootless ())
    return ctr_error (err, EPERM, "restore: criu needs root");
  if (r->ctx->systemd_cgroup)
    return ctr_error (err, ENOTSUP, "--systemd-cgroup: the systemd cgroup driver is not supported");
  if (o->work_path && mkdir (o->work_path, 0700) < 0 && errno != EEXIST)
    return ctr_error (err, errno, "--work-path `%s`", o->work_path);
  r->imgfd = open (o->image_path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (r->imgfd < 0)
    return ctr_error (err, errno, "--image-path `%s`", o->image_path);
  if (restore_load_bundle (r, err) < 0)
    return -1;
  /* a console socket that is not there fails before anything exists */
  if (r->cfg->process->terminal && o->console_socket)
    {
      int s = terminal_connect_console_socket (o->console_socket, err);
      if (s < 0)
        return -1;
      close (s);
    }
  if (restore_build_args (r, err) < 0 || restore_make_mount_points (r, err) < 0
      || restore_prepare_host (r, err) < 0 || (o->setup_netns && restore_hook (r, err) < 0))
    goto fail;
  run.log_dir = o->work_path ? o->work_path : o->image_path;
  run.binary = r->ctx->criu;
  run.cg = r->cg;
  run.fds = r->fds;
  run.fds_len = r->fds_len;
  run.setup_ns = o->setup_netns;
  run.setup_ns_arg = o->setup_netns_arg;
  run.hook_dirfd = r->dirfd;
  rc = criu_exec (&r->args, &run, err);
  if (o->setup_netns)
    criu_hook_remove (r->dirfd);
  if (rc < 0)
    {
      ctr_error_wrap (err, "restore `%s`", r->id);
      goto fail;
    }
  if (restore_read_pid (r, err) < 0)
    goto fail;
  restore_unmount_root (r);
  if (restore_hooks (r, err) < 0)
    goto fail;
  if (o->pid_file && write_pid_file (o->pid_file, r->pid, err) < 0)
    goto fail;
  if (o->pid_out)
    *o->pid_out = r->pid;
  if (r->master >= 0 && o->console_master)
    *o->console_master = steal_fd (r->master);
  if (r->master >= 0 && o->console_socket)
    {
      if (terminal_send_to_socket (o->console_socket, r->master, err) < 0)
        goto fail;
      close (steal_fd (r->master));
    }
  ctr_log_debug ("restore `%s`: process %d from %s", r->id, r->pid, o->image_path);
  return 0;
fail:
  restore_undo (r);
  return -1;
}

int
container_restore (const struct ctr_context *ctx, const char *id,
                   const struct container_criu_options *opts, int *exit_status, ctr_error_t *err)
{
  struct restore r
      = { .ctx = ctx, .o = opts, .id = id, .dirfd = -1, .imgfd = -1, .master = -1, .pidfd = -1 };
  sigset_t oldmask;
  int rc = -1;

  *exit_status = 0;
  r.root = container_state_root (ctx);
  if (!opts->detach)
    {
      /* the restored init is our child (criu's sibling); what it leaves behind too */
      if (!opts->no_subreaper)
        prctl (PR_SET_CHILD_SUBREAPER, 1);
      supervise_block_signals (&oldmask);
    }
  if (restore_container (&r, err) < 0)
    goto out;
  if (opts->detach)
    {
      rc = 0;
      goto out;
    }
  rc = supervise (r.pid, r.pidfd, r.master, exit_status, err);
  r.pid = 0;
  {
    cleanup_free char *json = state_hook_json (&r.state, CTR_STATUS_STOPPED, NULL);
    if (r.cfg->hooks.len[OCI_HOOK_POSTSTOP] > 0)
      hooks_run_warn (&r.cfg->hooks, OCI_HOOK_POSTSTOP, json);
  }
  restore_undo (&r);
out:
  if (!opts->detach)
    sigprocmask (SIG_SETMASK, &oldmask, NULL);
  restore_release (&r);
  return rc;
}
