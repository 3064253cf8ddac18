/* system_run: the running side of named system containers: start, stop, attach, console,
   status, destroy. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "system/userns_child.h"
#include "system/monitor.h"
#include "base/json.h"
#include "base/log.h"
#include "runtime/state.h"
#include "system/store.h"
#include "system/pool_volume.h"
#include "system/ephemeral.h"
#include "system/move.h"
#include "system/system.h"
#include "base/owned_dir.h"
#include "base/util.h"

const char *
system_status_name (enum system_status s)
{
  switch (s)
    {
    case SYSTEM_RUNNING:
      return "running";
    case SYSTEM_PAUSED:
      return "paused";
    case SYSTEM_ORPHANED:
      return "orphaned";
    default:
      return "stopped";
    }
}

/* The OCI container of the same name: its status ("running", "paused", ...) or NULL. */
static char *
oci_status (const struct ctr_context *ctx, const char *name, pid_t *pid)
{
  ctr_error_t err = NULL;
  cleanup_free char *json = NULL;
  json_value *v;
  const char *s;
  char *out = NULL;
  int64_t p;

  if (container_state (ctx, name, &json, &err) < 0)
    {
      ctr_error_free (&err);
      return NULL;
    }
  v = json_parse (json, strlen (json), "state", &err);
  if (v == NULL)
    {
      ctr_error_free (&err);
      return NULL;
    }
  if (json_as_string (json_get (v, "status"), &s))
    out = xstrdup (s);
  if (pid && json_as_int64 (json_get (v, "pid"), &p))
    *pid = (pid_t)p;
  json_value_free (v);
  return out;
}

static enum system_status
status_of (const struct ctr_context *ctx, const char *name, pid_t *pid)
{
  cleanup_free char *oci = oci_status (ctx, name, pid);
  if (oci == NULL)
    return SYSTEM_STOPPED;
  if (!monitor_alive (ctx, name))
    return SYSTEM_ORPHANED;
  return strcmp (oci, "paused") == 0 ? SYSTEM_PAUSED : SYSTEM_RUNNING;
}

enum system_status
system_status_get (const struct ctr_context *ctx, const char *name)
{
  return status_of (ctx, name, NULL);
}

struct opened
{
  int fd;
  struct store_meta meta;
};

static int
open_stored (const struct ctr_context *ctx, const char *name, struct opened *o, ctr_error_t *err)
{
  o->fd = store_open (store_root (ctx->store), name, err);
  if (o->fd < 0)
    return -1;
  if (store_meta_read (o->fd, name, &o->meta, err) < 0)
    {
      close (o->fd);
      return -1;
    }
  return 0;
}

static void
close_stored (struct opened *o)
{
  store_meta_clear (&o->meta);
  if (o->fd >= 0)
    close (o->fd);
}

/* The remains of a container whose monitor died: processes, cgroup, state, network. */
static int
cleanup_orphan (const struct ctr_context *ctx, const char *name, char *const *networks,
                ctr_error_t *err)
{
  ctr_error_t ignored = NULL;
  if (container_kill (ctx, name, SIGKILL, true, &ignored) < 0)
    ctr_error_free (&ignored);
  monitor_net_down (name, networks);
  monitor_cgroup_remove (name);
  return container_delete (ctx, name, true, err);
}

/* What the monitor would have recorded, for a container whose monitor is gone. */
static void
record_exit (struct opened *o, int code)
{
  ctr_error_t err = NULL;
  o->meta.has_last_exit = true;
  o->meta.last_exit = code;
  free (o->meta.last_exit_time);
  o->meta.last_exit_time = rfc3339_now ();
  if (store_lock (o->fd, &err) < 0 || store_meta_write (o->fd, &o->meta, &err) < 0)
    ctr_error_print (&err);
  flock (o->fd, LOCK_UN);
}

int
system_ephemeral_reap (const struct ctr_context *ctx, const char *name)
{
  const char *root = store_root (ctx->store);
  ctr_error_t e = NULL;
  cleanup_close int fd = store_open (root, name, &e);

  if (fd < 0)
    {
      ctr_error_free (&e);
      return 0;
    }
  if ((!ephemeral_active (fd) && !ephemeral_marked (fd)) || flock (fd, LOCK_EX | LOCK_NB) < 0)
    return 0;
  if (status_of (ctx, name, NULL) != SYSTEM_STOPPED)
    return 0;
  if (ephemeral_end (fd, name, &e) < 0)
    ctr_error_print (&e);
  if (!ephemeral_marked (fd))
    return 0;
  flock (fd, LOCK_UN);
  if (system_destroy (ctx, name, false, &e) < 0)
    {
      /* destroyed meanwhile by another who found it */
      if (store_exists (root, name))
        ctr_error_print (&e);
      ctr_error_free (&e);
    }
  return 1;
}

/* The monitor's last act (monitor_config.ended): the layer, or the whole ephemeral clone. */
static void
ephemeral_monitor_ended (const struct monitor_config *cfg)
{
  ctr_error_t e = NULL;
  bool marked;

  if (!ephemeral_active (cfg->store_fd) && !ephemeral_marked (cfg->store_fd))
    return;
  if (store_lock (cfg->store_fd, &e) < 0)
    {
      ctr_error_print (&e);
      return;
    }
  if (ephemeral_end (cfg->store_fd, cfg->name, &e) < 0)
    ctr_error_print (&e);
  marked = ephemeral_marked (cfg->store_fd);
  flock (cfg->store_fd, LOCK_UN);
  if (marked && system_destroy (cfg->ctx, cfg->name, false, &e) < 0)
    {
      if (store_exists (store_root (cfg->ctx->store), cfg->name))
        ctr_error_print (&e);
      ctr_error_free (&e);
    }
}

/* What a run that ended without its monitor left, before a start: the layer of an
   ephemeral run; an ephemeral clone whose run ended is destroyed (an error then). */
static int
start_reap (const struct ctr_context *ctx, const char *name, struct opened *o, bool clone_start,
            ctr_error_t *err)
{
  if (ephemeral_end (o->fd, name, err) < 0)
    return -1;
  if (clone_start || !ephemeral_marked (o->fd))
    return 0;
  flock (o->fd, LOCK_UN);
  if (system_destroy (ctx, name, false, err) < 0)
    return -1;
  return ctr_error (err, 0, "container `%s` was an ephemeral clone whose run had ended: destroyed",
                    name);
}

/* How a start goes: restore (img: the checkpoint, ip: its address), ephemeral, and
   locked_fd >= 0: the container's directory, already locked by the caller (a clone
   --ephemeral, from its staging on), the start going on under that lock. */
struct start_how
{
  const struct monitor_restore_image *img;
  const char *ip;
  int locked_fd;
  bool ephemeral;
};

/* The monitor for cfg; foreground: *console gets the start's end of a socket pair whose
   other end is the monitor's console client from before init runs, so that a program that
   ends at once still has its output and its status told (a connection made after the spawn
   could come too late for both). */
static int
spawn_monitor (struct monitor_config *cfg, bool foreground, int *console, ctr_error_t *err)
{
  int pair[2] = { -1, -1 };
  pid_t pid;

  if (cfg->stop_signal <= 0)
    cfg->stop_signal = SIGTERM;
  if (foreground && socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return ctr_error (err, errno, "container `%s`: console socket pair", cfg->name);
  cfg->console_client = pair[1];
  pid = monitor_spawn (cfg, err);
  if (pair[1] >= 0)
    close (pair[1]);
  if (pid < 0 && pair[0] >= 0)
    close (pair[0]);
  *console = pid < 0 ? -1 : pair[0];
  return pid < 0 ? -1 : 0;
}

static int
start_under_monitor (const struct ctr_context *ctx, const char *name, bool foreground,
                     const struct start_how *how, int *exit_status, ctr_error_t *err)
{
  struct opened o = { .fd = -1 };
  struct monitor_config cfg = { 0 };
  cleanup_free char *bundle = NULL, *oci = NULL;
  int r = -1, console = -1;

  *exit_status = 0;
  if (open_stored (ctx, name, &o, err) < 0)
    return -1;
  /* the same open file: its lock is the caller's */
  if (how->locked_fd >= 0 && dup3 (how->locked_fd, o.fd, O_CLOEXEC) < 0)
    {
      ctr_error (err, errno, "container `%s`", name);
      goto out;
    }
  if (store_lock (o.fd, err) < 0)
    goto out;
  oci = oci_status (ctx, name, NULL);
  if (oci && monitor_alive (ctx, name))
    {
      ctr_error (err, 0, "container `%s` is already running%s", name,
                 how->img ? ": `ctr checkpoint --stop` it before restoring" : "");
      goto out;
    }
  /* an lvm or overlay rootfs stays mounted from create to destroy; after a host reboot
     the start mounts it again (a move killed halfway is finished or undone first) */
  if (system_move_recover (o.fd, name, err) < 0 || pool_volume_start (o.fd, err) < 0)
    goto out;
  /* an ephemeral run is not kept without its monitor: what is left of it goes */
  if (oci && strcmp (oci, "stopped") != 0 && !ephemeral_active (o.fd))
    {
      ctr_error (err, 0,
                 "container `%s` is running without its monitor: `ctr stop %s` cleans it up", name,
                 name);
      goto out;
    }
  if (oci && cleanup_orphan (ctx, name, o.meta.networks, err) < 0)
    goto out;
  if (start_reap (ctx, name, &o, how->locked_fd >= 0, err) < 0)
    goto out;
  if (system_check_networks (o.meta.networks, err) < 0)
    goto out;
  bundle = xasprintf ("%s/%s", store_root (ctx->store), name);
  if (how->ephemeral && ephemeral_begin (o.fd, bundle, name, err) < 0)
    goto out;
  cfg = (struct monitor_config){
    .ctx = ctx,
    .name = name,
    .bundle = bundle,
    .store_fd = o.fd,
    .stop_signal = o.meta.stop_signal ? signal_parse (o.meta.stop_signal) : SIGTERM,
    .stop_timeout = o.meta.stop_timeout,
    .networks = o.meta.networks,
    .ip = how->img ? how->ip : o.meta.ip,
    .publish = o.meta.publish,
    .lxcfs = o.meta.lxcfs,
    .report_boot = !foreground && how->img == NULL
                   && (o.meta.kind == NULL || strcmp (o.meta.kind, "system") == 0),
    .restore = how->img,
    .ended = ephemeral_monitor_ended,
  };
  r = spawn_monitor (&cfg, foreground, &console, err);
  if (r < 0)
    {
      ctr_error_t e2 = NULL;
      if (ephemeral_end (o.fd, name, &e2) < 0)
        ctr_error_print (&e2);
      goto out;
    }
  ctr_log_debug ("%s `%s`: running under its monitor", how->img ? "restore" : "start", name);
  flock (o.fd, LOCK_UN);
  /* the console (foreground only) is closed there */
  r = foreground && monitor_console_paired (name, console, exit_status, err) < 0 ? -1 : 0;
out:
  close_stored (&o);
  return r;
}

int
system_start (const struct ctr_context *ctx, const char *name, bool foreground, int *exit_status,
              ctr_error_t *err)
{
  struct start_how how = { .locked_fd = -1 };
  return start_under_monitor (ctx, name, foreground, &how, exit_status, err);
}

int
system_start_ephemeral (const struct ctr_context *ctx, const char *name, int locked_fd,
                        bool foreground, int *exit_status, ctr_error_t *err)
{
  struct start_how how = { .locked_fd = locked_fd, .ephemeral = true };
  return start_under_monitor (ctx, name, foreground, &how, exit_status, err);
}

int
system_run_restored (const struct ctr_context *ctx, const char *name,
                     const struct monitor_restore_image *img, const char *ip, ctr_error_t *err)
{
  struct start_how how = { .img = img, .ip = ip, .locked_fd = -1 };
  int status;
  return start_under_monitor (ctx, name, false, &how, &status, err);
}

int
system_stop (const struct ctr_context *ctx, const char *name, int timeout,
             struct system_stopped *out, ctr_error_t *err)
{
  struct opened o = { .fd = -1 };
  int *exit_status = &out->exit_status;
  enum system_status st;
  int r = -1;

  memset (out, 0, sizeof *out);
  if (open_stored (ctx, name, &o, err) < 0)
    return -1;
  if (timeout < 0)
    timeout = o.meta.stop_timeout;
  out->timeout = timeout;
  snprintf (out->stop_signal, sizeof out->stop_signal, "%s",
            o.meta.stop_signal ? o.meta.stop_signal : "its stop signal");
  ctr_log_debug ("stop `%s`: SIGKILL after %d s", name, timeout);
  /* a monitor booting a rebooted guest again holds the lock while it is down */
  if (store_lock (o.fd, err) < 0)
    goto out;
  st = status_of (ctx, name, NULL);
  flock (o.fd, LOCK_UN);
  switch (st)
    {
    case SYSTEM_STOPPED:
      ctr_error (err, 0, "container `%s` is not running", name);
      break;
    case SYSTEM_ORPHANED:
      fprintf (stderr, "ctr: warning: the monitor of `%s` is gone: killing what is left\n", name);
      r = cleanup_orphan (ctx, name, o.meta.networks, err);
      *exit_status = 128 + SIGKILL;
      out->killed = out->orphaned = true;
      if (r == 0)
        record_exit (&o, *exit_status);
      system_ephemeral_reap (ctx, name);
      break;
    default:
      /* a paused container cannot act on its stop signal */
      r = monitor_stop (ctx, name, timeout, exit_status, &out->killed, err);
    }
out:
  close_stored (&o);
  return r;
}

#define STAGING_WAIT_MS 8000

/* NAME not in the store may be a create's staging directory: one whose create was killed
   is removed (1), one being created is left to its creator (error); 0 when there is none. */
static int
destroy_staging (const char *root, const char *name, ctr_error_t *err)
{
  cleanup_close int rootfd = -1;
  bool busy = false;
  int r;

  if (validate_container_id (name, err) < 0)
    return -1;
  if (store_exists (root, name))
    return 0;
  rootfd = owned_dir_open (root, "store", OWNED_DIR_MISSING_OK, err);
  if (rootfd == OWNED_DIR_MISSING)
    return 0;
  if (rootfd < 0)
    return -1;
  /* a create killed while its template ran leaves the template's keeper holding the lock
     while it stops the template (a grace of 5 s at most): waited for, briefly */
  for (int tries = 0;; tries++)
    {
      r = store_staging_remove (rootfd, name, &busy, err);
      if (r != 0 || !busy)
        return r;
      if (tries == STAGING_WAIT_MS / 50)
        return ctr_error (err, 0, "container `%s` is being created", name);
      usleep (50 * 1000);
    }
}

/* An overlay clone's lower layers include this container's upper: destroying it would take
   the files from under the clones. */
static int
refuse_overlay_clones (const char *root, const char *name, ctr_error_t *err)
{
  cleanup_strv char **clones = pool_volume_dependents (root, name);
  cleanup_free char *list = NULL;

  if (clones[0] == NULL)
    return 0;
  list = xstrv_join (clones, ", ");
  return ctr_error (err, 0,
                    "container `%s` has overlay clones that use its files: %s (destroy them first)",
                    name, list);
}

int
system_destroy (const struct ctr_context *ctx, const char *name, bool force, ctr_error_t *err)
{
  const char *root = store_root (ctx->store);
  struct opened o = { .fd = -1 };
  cleanup_close int rootfd = -1;
  cleanup_free char *staging = NULL;
  enum system_status st;
  int status, r = -1;
  bool killed, busy;

  r = destroy_staging (root, name, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  r = -1;
  if (open_stored (ctx, name, &o, err) < 0)
    return -1;
  if (refuse_overlay_clones (root, name, err) < 0)
    goto out;
  /* The status is read under the store lock: a start holds it until its monitor runs the
     container (also when that start was killed meanwhile), so a container cannot come up
     between the check and the removal. Stopping needs the monitor, which takes the lock
     to record the exit: it is let go for that, and the status read again. */
  for (int round = 0;; round++)
    {
      if (store_lock (o.fd, err) < 0)
        goto out;
      st = status_of (ctx, name, NULL);
      if (st == SYSTEM_STOPPED)
        {
          /* what a monitor killed before it ran anything left: nothing lives there now */
          monitor_cgroup_remove (name);
          break;
        }
      flock (o.fd, LOCK_UN);
      if (!force || round == 3)
        {
          ctr_error (err, 0, "container `%s` is %s: stop it first%s", name, system_status_name (st),
                     force ? "" : ", or use destroy -f");
          goto out;
        }
      if (st == SYSTEM_ORPHANED && cleanup_orphan (ctx, name, o.meta.networks, err) < 0)
        goto out;
      /* a monitor that went away meanwhile: the next round reads what it left */
      if ((st == SYSTEM_RUNNING || st == SYSTEM_PAUSED)
          && monitor_stop (ctx, name, 0, &status, &killed, err) < 0)
        {
          if (round == 2)
            goto out;
          ctr_error_free (err);
        }
    }
  /* an ephemeral run's layer lies over the rootfs: off it first; a move left halfway
     is finished or undone, so that one volume is left to release */
  if (ephemeral_end (o.fd, name, err) < 0 || system_move_recover (o.fd, name, err) < 0)
    goto out;
  rootfd = open (root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (rootfd < 0)
    {
      ctr_error (err, errno, "open store `%s`", root);
      goto out;
    }
  /* out of the store in one step, still locked (the lock is the directory's): a destroy
     killed while removing leaves a staging directory that the next destroy -f, ls or
     create of NAME removes, never a NAME without its definition that none of them would */
  staging = xasprintf (".%s.new", name);
  if (store_staging_remove (rootfd, name, &busy, err) < 0)
    goto out;
  if (renameat2 (rootfd, name, rootfd, staging, RENAME_NOREPLACE) < 0)
    {
      ctr_error (err, errno == EEXIST ? 0 : errno, "rename `%s` to `%s`", name, staging);
      goto out;
    }
  /* its volume in a pool (the mount on rootfs, subvolumes, LVs) before the files */
  if (pool_volume_release (o.fd, NULL, err) < 0)
    goto out;
  r = store_remove_tree_at (rootfd, staging, err);
out:
  close_stored (&o);
  return r;
}

/* The root of the running container (flags: O_RDONLY or O_PATH): rootless, its init's
   (an overlay volume or an ephemeral layer is mounted only in its own namespaces), else
   the store's rootfs. */
static int
running_root (const struct ctr_context *ctx, const char *name, pid_t pid, int flags)
{
  cleanup_free char *path = NULL;

  if (is_rootless () && pid > 0)
    return proc_root_open (pid, flags);
  path = xasprintf ("%s/%s/rootfs", store_root (ctx->store), name);
  return open (path, O_DIRECTORY | flags | O_CLOEXEC);
}

/* The login shell of uid 0 from the container's own /etc/passwd, else /bin/sh. */
static char *
login_shell (const char *name, const struct ctr_context *ctx, pid_t pid)
{
  cleanup_free char *text = NULL;
  cleanup_close int rootfd = running_root (ctx, name, pid, O_RDONLY);
  ctr_error_t err = NULL;
  size_t len;
  char *line, *save = NULL;

  /* only a plain file inside the rootfs: RESOLVE_IN_ROOT is not needed for reading text
     that merely names a program the container itself will exec */
  if (rootfd < 0 || read_file_at (rootfd, "etc/passwd", 1 << 20, &text, &len, &err) < 0)
    {
      ctr_error_free (&err);
      return xstrdup ("/bin/sh");
    }
  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[7] = { 0 }, *p = line;
      int i;
      for (i = 0; i < 7 && p; i++)
        {
          f[i] = p;
          p = strchr (p, ':');
          if (p)
            *p++ = '\0';
        }
      if (i == 7 && strcmp (f[2], "0") == 0 && f[6][0] == '/')
        return xstrdup (f[6]);
    }
  return xstrdup ("/bin/sh");
}

/* An application container (ctr-init and one program) has no shell: a nologin or missing
   one gets a hint instead of exec's "No such file or directory". Links are not followed:
   only whether the name is there is asked of the container's files. */
static bool
shell_usable (const char *name, const struct ctr_context *ctx, pid_t pid, const char *shell)
{
  cleanup_close int rootfd = running_root (ctx, name, pid, O_PATH);
  const char *base = strrchr (shell, '/');

  base = base ? base + 1 : shell;
  if (strcmp (base, "nologin") == 0 || strcmp (base, "false") == 0)
    return false;
  return rootfd < 0
         || faccessat (rootfd, shell + strspn (shell, "/"), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int
system_attach (const struct ctr_context *ctx, const char *name, char **args, int *exit_status,
               ctr_error_t *err)
{
  struct container_exec_options eo = { 0 };
  cleanup_free char *shell = NULL;
  char *login[] = { NULL, (char *)"-l", NULL };
  char *env[] = { NULL, NULL };
  cleanup_free char *term = NULL;
  enum system_status st;
  pid_t pid = 0;

  if (!system_exists (ctx, name))
    return ctr_error (err, 0, "container `%s` does not exist", name);
  st = status_of (ctx, name, &pid);
  if (st != SYSTEM_RUNNING)
    return ctr_error (err, 0, "container `%s` is %s", name,
                      st == SYSTEM_STOPPED ? "not running" : system_status_name (st));
  if (args == NULL || args[0] == NULL)
    {
      login[0] = shell = login_shell (name, ctx, pid);
      if (!shell_usable (name, ctx, pid, shell))
        return ctr_error (err, 0,
                          "container `%s` has no login shell (root's is `%s`): run a program "
                          "in it with `ctr attach %s -- PROGRAM` or `ctr exec %s PROGRAM`",
                          name, shell, name, name);
      args = login;
    }
  eo.args = args;
  eo.tty = isatty (STDIN_FILENO);
  eo.tty_set = true;
  if (getenv ("TERM"))
    {
      env[0] = term = xasprintf ("TERM=%s", getenv ("TERM"));
      eo.env = env;
    }
  return container_exec (ctx, name, &eo, exit_status, err);
}

int
system_console (const struct ctr_context *ctx, const char *name, int escape, ctr_error_t *err)
{
  int status;
  if (!system_exists (ctx, name))
    return ctr_error (err, 0, "container `%s` does not exist", name);
  if (monitor_console (ctx, name, false, escape, &status, err) < 0)
    return -1;
  return 0;
}

int
system_console_log (const struct ctr_context *ctx, const char *name, int fd, ctr_error_t *err)
{
  struct opened o = { .fd = -1 };
  cleanup_free char *text = NULL;
  size_t len;
  int r;

  if (open_stored (ctx, name, &o, err) < 0)
    return -1;
  if (monitor_alive (ctx, name))
    r = monitor_log (ctx, name, fd, err);
  else if (read_file_at (o.fd, STORE_CONSOLE_LOG, MONITOR_LOG_SIZE * 2, &text, &len, err) < 0)
    {
      r = 0; /* never started: nothing logged yet */
      if ((*err)->status == ENOENT)
        ctr_error_free (err);
      else
        r = -1;
    }
  else
    r = write_all (fd, text, len) < 0 ? ctr_error (err, errno, "write console log") : 0;
  close_stored (&o);
  return r;
}
