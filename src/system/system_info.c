/* system_info: what `ctr ls`, `ctr info` and `ctr config` show of named system containers. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "system/ephemeral.h"
#include "base/owned_dir.h"
#include "system/monitor.h"
#include "oci/oci.h"
#include "base/json.h"
#include "base/log.h"
#include "runtime/loaded.h"
#include "runtime/state.h"
#include "cgroups/cgroup.h"
#include "base/parallel.h"
#include "network/network.h"
#include "system/idmap.h"
#include "system/pool.h"
#include "system/pool_volume.h"
#include "system/config_keys.h"
#include "system/config_keys_limits.h"
#include "system/store.h"
#include "system/system.h"
#include "base/util.h"

void
system_info_clear (struct system_info *i)
{
  free (i->name);
  free (i->template_name);
  free (i->kind);
  free (i->cloned_from);
  free (i->pool);
  free (i->idmap);
  free (i->autostart_group);
  strv_free (i->addresses);
  strv_free (i->networks);
  memset (i, 0, sizeof *i);
}

/* What system_list opens once for all its containers, system_info for its one. */
struct info_roots
{
  int store_fd; /* owned_dir_open of the store (or OWNED_DIR_MISSING, or -1) */
  const char *store;
  int state_fd; /* state_root_open_existing's */
  const char *state;
  int freezer_fd; /* cgroup_freezer_mount_open's */
};

static void
roots_open (const struct ctr_context *ctx, bool with_store, struct info_roots *r)
{
  ctr_error_t ignored = NULL;
  r->store = store_root (ctx->store);
  r->state = container_state_root (ctx);
  r->store_fd
      = with_store ? owned_dir_open (r->store, "store", OWNED_DIR_MISSING_OK, &ignored) : -1;
  ctr_error_free (&ignored);
  r->state_fd = state_root_open_existing (r->state, &ignored);
  ctr_error_free (&ignored);
  r->freezer_fd = cgroup_freezer_mount_open ();
}

static void
roots_close (struct info_roots *r)
{
  if (r->store_fd >= 0)
    close (r->store_fd);
  if (r->state_fd >= 0)
    close (r->state_fd);
  if (r->freezer_fd >= 0)
    close (r->freezer_fd);
}

/* monitor.json in the state directory name of the state root rootfd: addresses and start
   time; returns the monitor's pid (0: unknown). */
static pid_t
read_monitor_info (int rootfd, const char *name, struct system_info *out)
{
  ctr_error_t err = NULL;
  cleanup_free char *text = NULL, *file = xasprintf ("%s/%s", name, MONITOR_INFO);
  const json_value *a;
  json_value *v;
  int64_t started, monitor = 0;
  size_t len;

  if (read_whole_file_at (rootfd, file, 64 * 1024, &text, &len, &err) < 0)
    {
      ctr_error_free (&err);
      return 0;
    }
  v = json_parse (text, len, MONITOR_INFO, &err);
  if (v == NULL)
    {
      ctr_error_free (&err);
      return 0;
    }
  json_as_int64 (json_get (v, "monitor_pid"), &monitor);
  if (json_as_int64 (json_get (v, "started_ns"), &started) && started > 0)
    out->uptime_s = (now_ns () - (uint64_t)started) / 1000000000ull;
  json_as_int64 (json_get (v, "restarts"), &out->restarts);
  a = json_get (v, "addresses");
  out->addresses = xzalloc ((json_len (a) + 1) * sizeof (char *));
  for (size_t i = 0, k = 0; i < json_len (a); i++)
    {
      const char *s;
      if (json_as_string (json_at (a, i), &s))
        out->addresses[k++] = xstrdup (s);
    }
  json_value_free (v);
  return monitor > 0 && monitor <= INT32_MAX ? (pid_t)monitor : 0;
}

/* A container's store directory: the directory fd itself (sub NULL), or its entry sub
   under the store's fd (`ctr ls`, which opens no container's directory). */
struct store_dir
{
  int fd;
  const char *sub;
};

/* The path of file in the store directory d, relative to d.fd. */
static char *
store_dir_file (struct store_dir d, const char *file)
{
  return d.sub ? xasprintf ("%s/%s", d.sub, file) : xstrdup (file);
}

/* Whether the monitor that wrote <store>/<name>/rebooting still runs: it is booting its
   guest again, and the container is down only for that moment. */
static bool
monitor_rebooting (struct store_dir d)
{
  ctr_error_t err = NULL;
  cleanup_free char *text = NULL, *comm = NULL, *file = store_dir_file (d, STORE_REBOOTING);
  int64_t pid;
  size_t len;

  if (read_file_at (d.fd, file, 64, &text, &len, &err) < 0)
    {
      ctr_error_free (&err);
      return false;
    }
  text[strcspn (text, "\n")] = '\0';
  if (parse_int64 (text, &pid) < 0 || pid <= 0)
    return false;
  comm = proc_comm ((pid_t)pid);
  return comm && strcmp (comm, "ctr-monitor") == 0;
}

/* The definition's part of the info, from the container's store directory. */
static int
info_definition (struct store_dir d, const char *name, struct system_info *out, ctr_error_t *err)
{
  struct store_meta m;

  if ((d.sub ? store_meta_read_in (d.fd, d.sub, &m, err) : store_meta_read (d.fd, name, &m, err))
      < 0)
    return -1;
  out->name = xstrdup (name);
  out->template_name = steal_ptr (m.template_name);
  out->kind = steal_ptr (m.kind);
  out->cloned_from = steal_ptr (m.cloned_from);
  out->pool = m.pool ? steal_ptr (m.pool) : xstrdup (POOL_DEFAULT);
  if (store_meta_get (&m, "idmap", &out->idmap, err) < 0)
    out->idmap = NULL;
  out->autostart = m.autostart;
  out->autostart_order = m.autostart_order;
  out->autostart_delay = m.autostart_delay;
  out->autostart_group = m.autostart_group ? xstrdup (m.autostart_group) : NULL;
  out->networks = steal_ptr (m.networks);
  out->has_last_exit = m.has_last_exit;
  out->last_exit = m.last_exit;
  store_meta_clear (&m);
  return 0;
}

/* Whether the monitor answers on its socket in the state directory name. */
static bool
monitor_answers (const struct info_roots *r, const char *name)
{
  cleanup_close int dfd
      = openat (r->state_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return dfd >= 0 && monitor_alive_at (dfd, name);
}

/* The info of the container whose store directory is d (with its ephemeral markers, as
   ephemeral_active and ephemeral_marked say); its state from the roots r. */
static int
info_of (const struct ctr_context *ctx, const struct info_roots *r, struct store_dir d,
         const char *name, bool active, bool marked, bool usage, struct system_info *out,
         ctr_error_t *err)
{
  ctr_error_t ignored = NULL;
  struct loaded l;
  pid_t monitor;

  memset (out, 0, sizeof *out);
  if (info_definition (d, name, out, err) < 0)
    return -1;
  out->ephemeral_clone = marked;
  out->status = SYSTEM_STOPPED;
  if (loaded_peek_at (r->state_fd, r->state, name, r->freezer_fd, &l, &ignored) < 0)
    {
      ctr_error_free (&ignored);
      /* a rebooting guest is a running machine (pid 0: no init this moment) */
      if (monitor_rebooting (d))
        out->status = SYSTEM_RUNNING;
      return 0;
    }
  out->pid = l.status == CTR_STATUS_STOPPED ? 0 : l.state->pid;
  monitor = read_monitor_info (r->state_fd, name, out);
  /* the monitor is init's parent: init's parent is the recorded monitor only while that
     monitor lives (its death reparents init before its pid is free for another); else
     (init down, a restored tree) the monitor's socket answers or not */
  if ((l.ppid <= 0 || l.ppid != monitor) && !monitor_answers (r, name))
    out->status = SYSTEM_ORPHANED;
  else if (l.status == CTR_STATUS_PAUSED)
    out->status = SYSTEM_PAUSED;
  else
    /* stopped: init ended and its monitor is at work: rebooting it, or tearing the
       container down, its last exit recorded only then; stopped once the state is gone */
    out->status = SYSTEM_RUNNING;
  out->ephemeral = active;
  loaded_release (&l);
  if (usage && out->status != SYSTEM_STOPPED)
    out->has_usage = container_usage (ctx, name, &out->cpu_ns, &out->memory_bytes) == 0;
  return 0;
}

int
system_info (const struct ctr_context *ctx, const char *name, bool usage, struct system_info *out,
             ctr_error_t *err)
{
  cleanup_close int fd = store_open (store_root (ctx->store), name, err);
  struct info_roots r;
  int ret;

  memset (out, 0, sizeof *out);
  if (fd < 0)
    return -1;
  roots_open (ctx, false, &r);
  ret = info_of (ctx, &r, (struct store_dir){ fd, NULL }, name, ephemeral_active (fd),
                 ephemeral_marked (fd), usage, out, err);
  roots_close (&r);
  return ret;
}

/* `ctr ls` reads each container (ctr.json; state.json, /proc/PID/stat, the freezer; the
   monitor's socket and monitor.json) relative to roots opened once, by one thread per
   CPU when there are many. It opens no container's directory: each is checked as the
   caller's (fstatat) and its files are opened by NAME/FILE from the roots, which only the
   caller can change (owned_dir), so NAME cannot be swapped between check and open. */
#define LS_PER_THREAD 32

struct ls_job
{
  const struct ctr_context *ctx;
  struct info_roots roots;
  char **names;
  struct system_info *v;
  bool *listed;
  bool *ephemeral; /* left for system_ephemeral_reap, which may destroy it */
};

static void
ls_one (void *arg, size_t i)
{
  struct ls_job *job = arg;
  const char *name = job->names[i];
  struct store_dir d = { job->roots.store_fd, name };
  cleanup_free char *path = NULL;
  ctr_error_t e = NULL;

  if (job->roots.store_fd < 0)
    return;
  path = xasprintf ("%s/%s", job->roots.store, name);
  /* a container destroyed meanwhile (or a directory without ctr.json: none) is simply not
     listed; one with an ephemeral layer or mark is read again after system_ephemeral_reap */
  if (owned_subdir_check (d.fd, name, path, "container directory", &e) < 0
      || info_of (job->ctx, &job->roots, d, name, false, false, false, &job->v[i], &e) < 0)
    ctr_error_free (&e);
  else if (ephemeral_active_in (d.fd, name) || ephemeral_marked_in (d.fd, name))
    {
      system_info_clear (&job->v[i]);
      job->ephemeral[i] = true;
    }
  else
    job->listed[i] = true;
}

int
system_list (const struct ctr_context *ctx, struct system_info **out, size_t *n, ctr_error_t *err)
{
  cleanup_strv char **names = NULL;
  struct ls_job job = { .ctx = ctx };
  size_t count, k = 0;

  *out = NULL;
  *n = 0;
  if (store_list (store_root (ctx->store), &names, &count, err) < 0)
    return -1;
  roots_open (ctx, true, &job.roots);
  job.names = names;
  job.v = xzalloc ((count + 1) * sizeof *job.v);
  job.listed = xzalloc ((count + 1) * sizeof *job.listed);
  job.ephemeral = xzalloc ((count + 1) * sizeof *job.ephemeral);
  owned_dir_remember_euid (true);
  parallel_for (count, LS_PER_THREAD, ls_one, &job);
  owned_dir_remember_euid (false);
  roots_close (&job.roots);
  for (size_t i = 0; i < count; i++)
    {
      ctr_error_t e = NULL;
      /* what a run killed with its monitor, or a host reboot, left: cleaned up (an
         ephemeral clone whose run ended is destroyed, and not listed) */
      if (job.ephemeral[i] && system_ephemeral_reap (ctx, names[i]) == 0)
        {
          if (system_info (ctx, names[i], false, &job.v[i], &e) < 0)
            ctr_error_free (&e);
          else
            job.listed[i] = true;
        }
      if (job.listed[i])
        job.v[k++] = job.v[i];
    }
  free (job.listed);
  free (job.ephemeral);
  *out = job.v;
  *n = k;
  return 0;
}

/* ---------------------------------------------------------------- config */

static int
read_definition (const struct ctr_context *ctx, const char *name, int *fd, char **meta,
                 size_t *meta_len, char **config, size_t *config_len, ctr_error_t *err)
{
  *fd = store_open (store_root (ctx->store), name, err);
  if (*fd < 0)
    return -1;
  if (read_file_at (*fd, STORE_META, 1 << 20, meta, meta_len, err) < 0
      || read_file_at (*fd, "config.json", OCI_CONFIG_MAX_SIZE, config, config_len, err) < 0)
    return ctr_error_wrap (err, "container `%s`", name);
  return 0;
}

int
system_config_show (const struct ctr_context *ctx, const char *name, char **out, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *meta = NULL, *config = NULL;
  size_t ml, cl;
  json_writer *w;

  if (read_definition (ctx, name, &fd, &meta, &ml, &config, &cl, err) < 0)
    return -1;
  w = json_writer_new (true);
  json_map_open (w);
  json_kv_string (w, "name", name);
  json_key (w, "ctr");
  json_raw (w, meta, ml);
  json_key (w, "config");
  json_raw (w, config, cl);
  json_map_close (w);
  *out = json_writer_finish (w, NULL);
  return 0;
}

/* config.json of the store directory fd as a changeable tree. */
static json_node *
read_config_tree (int fd, const char *name, ctr_error_t *err)
{
  json_node *config = jnode_read_at (fd, "config.json", OCI_CONFIG_MAX_SIZE, err);
  if (config == NULL && *err && (*err)->status != 0)
    ctr_error_wrap (err, "container `%s`", name);
  return config;
}

/* Every key with its value: ctr.json's, then config_keys.c's. */
static int
config_list_all (int fd, const char *name, const struct store_meta *m, char **out, ctr_error_t *err)
{
  json_node *config = read_config_tree (fd, name, err);
  cleanup_free char *rest = NULL;
  char *buf = NULL;
  size_t len = 0;
  FILE *f;

  if (config == NULL)
    return -1;
  f = open_memstream (&buf, &len);
  for (const char *const *k = store_meta_keys; *k; k++)
    {
      cleanup_free char *v = NULL;
      ctr_error_t e = NULL;
      if (store_meta_get (m, *k, &v, &e) < 0)
        ctr_error_free (&e);
      else
        fprintf (f, "%s = %s\n", *k, v);
    }
  rest = config_keys_list (config, m);
  fputs (rest, f);
  fclose (f);
  jnode_free (config);
  *out = buf;
  return 0;
}

static bool
store_meta_key (const char *key)
{
  for (const char *const *k = store_meta_keys; *k; k++)
    if (strcmp (*k, key) == 0)
      return true;
  return false;
}

static int
unknown_key (const char *key, ctr_error_t *err)
{
  return ctr_error (
      err, 0,
      "unknown key `%s` (one of: autostart, stop_signal, stop_timeout, net, ip, "
      "publish, privileged, %s; read-only: template, created, kind, last_exit, cloned_from, "
      "pool, idmap, mounts, devices, caps)",
      key, config_keys_names ());
}

int
system_config_get (const struct ctr_context *ctx, const char *name, const char *key, char **out,
                   ctr_error_t *err)
{
  cleanup_close int fd = store_open (store_root (ctx->store), name, err);
  struct store_meta m;
  int r;

  if (fd < 0 || store_meta_read (fd, name, &m, err) < 0)
    return -1;
  if (key == NULL)
    r = config_list_all (fd, name, &m, out, err);
  else if (config_key_known (key))
    {
      json_node *config = read_config_tree (fd, name, err);
      r = config ? config_key_get (config, &m, key, out, err) : -1;
      jnode_free (config);
    }
  else if (!store_meta_key (key))
    r = unknown_key (key, err);
  else
    r = store_meta_get (&m, key, out, err);
  store_meta_clear (&m);
  return r;
}

/* A key of config_keys.c: config.json (checked whole by the OCI parser before it is
   written) or ctr.json changed. */
static int
config_set_key (const struct ctr_context *ctx, int fd, const char *name, struct store_meta *m,
                const char *key, const char *value, ctr_error_t *err)
{
  json_node *config = read_config_tree (fd, name, err);
  cleanup_free char *text = NULL, *old_host = NULL;
  struct oci_config *check = NULL;
  size_t len;
  int r = -1;

  if (config == NULL)
    goto out;
  /* the guest's init names itself from /etc/hostname (busybox's rcS, systemd) */
  old_host = xstrdup (jnode_string (jnode_get (config, "hostname")) ?: "");
  if (config_key_set (config, m, key, value, err) < 0)
    goto out;
  if (!config_key_in_config (key))
    r = store_meta_write (fd, m, err);
  else
    {
      text = jnode_to_string (config, &len);
      if (oci_config_parse (text, len, "config.json", &check, err) < 0)
        {
          ctr_error_wrap (err, "%s: not saved", key);
          goto out;
        }
      oci_config_free (check);
      r = write_file_atomic_at (fd, "config.json", text, len, 0600, err);
      if (r == 0 && strcmp (key, "hostname") == 0 && *old_host)
        system_rename_etc_hostname (fd, old_host, value);
    }
  if (r == 0 && system_status_get (ctx, name) != SYSTEM_STOPPED)
    ctr_log_warning ("`%s` is running: %s takes effect at its next start", name, key);
out:
  jnode_free (config);
  return r;
}

/* net, ip and publish together, as they will be used: the network exists, the address
   and the ports are free (checked again at start). */
static int
check_network_settings (const char *name, const struct store_meta *m, ctr_error_t *err)
{
  struct network_list_request net
      = { .owner = name, .networks = m->networks, .ip = m->ip, .publish = m->publish };

  if (system_check_networks (m->networks, err) < 0)
    return -1;
  return network_check_settings (&net, err);
}

/* privileged true|false: only while stopped (the id range and the user namespace of a
   running container cannot change), and as root. */
static int
set_privileged (const struct ctr_context *ctx, int fd, const char *name, struct store_meta *m,
                const char *value, ctr_error_t *err)
{
  cleanup_close int rootfd = -1;
  bool on = strcmp (value, "true") == 0;

  if (!on && strcmp (value, "false") != 0)
    return ctr_error (err, 0, "privileged: `%s` is not true or false", value);
  if (is_rootless ())
    return ctr_error (err, 0,
                      "privileged: needs root (a rootless container always has a user "
                      "namespace)");
  if (system_status_get (ctx, name) != SYSTEM_STOPPED)
    return ctr_error (err, 0, "privileged: `%s` is not stopped (stop it first)", name);
  cleanup_free char *dirpath = xasprintf ("%s/%s", store_root (ctx->store), name);
  rootfd = owned_dir_open (store_root (ctx->store), "store", 0, err);
  if (rootfd < 0 || pool_volume_activate (fd, dirpath, err) < 0)
    return -1;
  return idmap_set_privileged (rootfd, fd, dirpath, name, m, on, err);
}

int
system_config_set (const struct ctr_context *ctx, const char *name, const char *key,
                   const char *value, ctr_error_t *err)
{
  cleanup_close int fd = store_open (store_root (ctx->store), name, err);
  struct store_meta m;
  int r;

  if (fd < 0 || store_lock (fd, err) < 0 || store_meta_read (fd, name, &m, err) < 0)
    return -1;
  if (config_key_known (key) || !store_meta_key (key))
    {
      if (config_key_known (key))
        r = config_set_key (ctx, fd, name, &m, key, value, err);
      else
        r = unknown_key (key, err);
      store_meta_clear (&m);
      return r;
    }
  if (strcmp (key, "privileged") == 0)
    {
      /* writes ctr.json and config.json itself, in the order that never shares a range */
      r = set_privileged (ctx, fd, name, &m, value, err);
      store_meta_clear (&m);
      return r;
    }
  r = store_meta_set (&m, key, value, err);
  if (r == 0
      && (strcmp (key, "net") == 0 || strcmp (key, "ip") == 0 || strcmp (key, "publish") == 0))
    r = check_network_settings (name, &m, err);
  if (r == 0)
    r = store_meta_write (fd, &m, err);
  store_meta_clear (&m);
  return r;
}

int
system_update_persist (const struct ctr_context *ctx, const char *name,
                       const struct container_update_options *opts, ctr_error_t *err)
{
  cleanup_close int fd = store_open (store_root (ctx->store), name, err);
  cleanup_free char *text = NULL;
  struct oci_config *check = NULL;
  json_node *config = NULL;
  size_t len;
  int r = -1;

  if (fd < 0 || store_lock (fd, err) < 0 || (config = read_config_tree (fd, name, err)) == NULL)
    return -1;
  if (config_keys_persist_update (config, opts, err) < 0)
    goto out;
  text = jnode_to_string (config, &len);
  if (oci_config_parse (text, len, "config.json", &check, err) < 0)
    goto out;
  oci_config_free (check);
  r = write_file_atomic_at (fd, "config.json", text, len, 0600, err);
out:
  jnode_free (config);
  if (r < 0)
    ctr_error_wrap (err, "saving the limits of `%s`", name);
  return r;
}

static int
run_editor (const char *file, ctr_error_t *err)
{
  const char *editor = getenv ("VISUAL");
  int status;
  pid_t pid;

  if (editor == NULL || *editor == '\0')
    editor = getenv ("EDITOR");
  if (editor == NULL || *editor == '\0')
    editor = "vi";
  pid = fork ();
  if (pid < 0)
    return ctr_error (err, errno, "fork");
  if (pid == 0)
    {
      /* like git and virsh: the editor variable may carry arguments */
      execl ("/bin/sh", "sh", "-c", "exec $0 \"$1\"", editor, file, (char *)NULL);
      _exit (127);
    }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return ctr_error (err, 0, "editor `%s` failed: nothing saved", editor);
  return 0;
}

/* The copy `config edit` hands to the editor, in the container's directory. */
#define CONFIG_EDIT_COPY "config.edit.json"

int
system_config_edit (const struct ctr_context *ctx, const char *name, ctr_error_t *err)
{
  cleanup_close int fd = store_open (store_root (ctx->store), name, err);
  cleanup_free char *text = NULL, *edited = NULL, *tmp = NULL;
  struct oci_config *check = NULL;
  size_t len, elen;
  int tfd, r = -1;

  if (fd < 0 || store_lock (fd, err) < 0
      || read_file_at (fd, "config.json", OCI_CONFIG_MAX_SIZE, &text, &len, err) < 0)
    return -1;
  /* the copy lives in the container's directory, under its lock: one an edit killed
     midway left is overwritten by the next edit and removed by destroy, never a stray
     file in /tmp */
  tmp = xasprintf ("%s/%s/%s", store_root (ctx->store), name, CONFIG_EDIT_COPY);
  tfd = openat (fd, CONFIG_EDIT_COPY, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (tfd < 0)
    return ctr_error (err, errno, "create `%s`", tmp);
  if (write_all (tfd, text, len) < 0)
    {
      ctr_error (err, errno, "write `%s`", tmp);
      goto out;
    }
  if (run_editor (tmp, err) < 0
      || read_file_at (fd, CONFIG_EDIT_COPY, OCI_CONFIG_MAX_SIZE, &edited, &elen, err) < 0)
    goto out;
  if (elen == len && memcmp (edited, text, len) == 0)
    {
      fprintf (stderr, "ctr: config.json of `%s` unchanged\n", name);
      r = 0;
      goto out;
    }
  if (oci_config_parse (edited, elen, "config.json", &check, err) < 0)
    {
      ctr_error_wrap (err, "not saved");
      goto out;
    }
  oci_config_free (check);
  r = write_file_atomic_at (fd, "config.json", edited, elen, 0600, err);
out:
  close (tfd);
  unlinkat (fd, CONFIG_EDIT_COPY, 0);
  return r;
}
