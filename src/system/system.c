/* system: creating named system containers from templates, and their definitions. */
#include <config.h>
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci/oci.h"
#include "namespaces/namespaces.h"
#include "network/network.h"
#include "base/json.h"
#include "base/log.h"
#include "rootfs/paths.h"
#include "system/idmap.h"
#include "system/pool.h"
#include "system/pool_image.h"
#include "system/pool_volume.h"
#include "system/userns_child.h"
#include "system/store.h"
#include "system/system.h"
#include "system/template.h"
#include "base/owned_dir.h"
#include "base/util.h"

#define TEMPLATE_CONF "template.conf"
#define TEMPLATE_CONF_MAX (64 * 1024)

bool
system_exists (const struct ctr_context *ctx, const char *name)
{
  return store_exists (store_root (ctx->store), name);
}

/* ---------------------------------------------------------------- templates */

/* $CTR_TEMPLATE_PATH (directories, colon-separated), then the installed ones. */
static char **
template_dirs (void)
{
  const char *env = getenv ("CTR_TEMPLATE_PATH");
  char **v = xzalloc (2 * sizeof *v);
  size_t n = 0;

  if (env && *env)
    {
      cleanup_free char *copy = xstrdup (env);
      char *save = NULL;
      for (char *d = strtok_r (copy, ":", &save); d; d = strtok_r (NULL, ":", &save))
        {
          v = xrealloc (v, (n + 3) * sizeof *v);
          v[n++] = xstrdup (d);
        }
    }
  v[n++] = xstrdup (CTR_DATADIR "/templates");
  v[n] = NULL;
  return v;
}

static char *
template_find (const char *name, ctr_error_t *err)
{
  cleanup_strv char **dirs = template_dirs ();
  for (const char *p = name; *p; p++)
    if (!(('a' <= *p && *p <= 'z') || ('0' <= *p && *p <= '9') || *p == '-' || *p == '_'))
      return ctr_error (err, 0, "invalid template name `%s`", name), NULL;
  for (char **d = dirs; *d; d++)
    {
      char *path = xasprintf ("%s/ctr-%s", *d, name);
      if (access (path, X_OK) == 0)
        return path;
      free (path);
    }
  ctr_error (err, 0, "unknown template `%s` (`ctr templates` lists them)", name);
  return NULL;
}

/* template.conf, the template's answer: key=value lines (DESIGN.md §7, docs/templates.md). */
void
template_conf_clear (struct template_conf *t)
{
  strv_free (t->args);
  strv_free (t->env);
  free (t->cwd);
  free (t->stop_signal);
  free (t->kind);
  memset (t, 0, sizeof *t);
}

static void
strv_append (char ***v, size_t *n, const char *s)
{
  *v = xrealloc (*v, (*n + 2) * sizeof **v);
  (*v)[(*n)++] = xstrdup (s);
  (*v)[*n] = NULL;
}

static int
template_conf_line (struct template_conf *t, const char *key, const char *value, size_t lineno,
                    ctr_error_t *err)
{
  unsigned long uid, gid;
  char extra;

  if (strcmp (key, "arg") == 0)
    strv_append (&t->args, &t->n_args, value);
  else if (strcmp (key, "env") == 0)
    {
      /* NAME=VALUE, or a bare NAME that takes a default away */
      if (value[0] == '=' || value[0] == '\0')
        return ctr_error (err, 0, "%s:%zu: env `%s` is not NAME=VALUE or NAME", TEMPLATE_CONF,
                          lineno, value);
      strv_append (&t->env, &t->n_env, value);
    }
  else if (strcmp (key, "cwd") == 0 && value[0] == '/')
    {
      free (t->cwd);
      t->cwd = xstrdup (value);
    }
  else if (strcmp (key, "user") == 0)
    {
      const char *colon = strchr (value, ':');
      /* digits only, below (uid_t)-1: %lu alone takes "-1" and wraps 4294967296 to root */
      if (sscanf (value, "%lu:%lu%c", &uid, &gid, &extra) != 2 || !isdigit ((unsigned char)*value)
          || colon == NULL || !isdigit ((unsigned char)colon[1]) || uid >= UINT32_MAX
          || gid >= UINT32_MAX)
        return ctr_error (err, 0, "%s:%zu: user `%s` is not UID:GID", TEMPLATE_CONF, lineno, value);
      t->uid = uid;
      t->gid = gid;
    }
  else if (strcmp (key, "stop_signal") == 0)
    {
      if (signal_parse (value) <= 0)
        return ctr_error (err, 0, "%s:%zu: unknown stop_signal `%s`", TEMPLATE_CONF, lineno, value);
      free (t->stop_signal);
      t->stop_signal = xstrdup (value);
    }
  else if (strcmp (key, "stop_timeout") == 0)
    {
      int64_t n;
      if (parse_int64 (value, &n) < 0 || n < 1 || n > 86400)
        return ctr_error (err, 0, "%s:%zu: stop_timeout `%s`: want seconds (1-86400)",
                          TEMPLATE_CONF, lineno, value);
      t->stop_timeout = (int)n;
    }
  else if (strcmp (key, "kind") == 0
           && (strcmp (value, "system") == 0 || strcmp (value, "application") == 0))
    {
      free (t->kind);
      t->kind = xstrdup (value);
    }
  else if (strcmp (key, "init") == 0
           && (strcmp (value, "systemd") == 0 || strcmp (value, "other") == 0))
    t->systemd = strcmp (value, "systemd") == 0;
  else if (strcmp (key, "terminal") == 0
           && (strcmp (value, "true") == 0 || strcmp (value, "false") == 0))
    ; /* a system container's stdio is always its console pty */
  else
    return ctr_error (err, 0, "%s:%zu: invalid line `%s=%s`", TEMPLATE_CONF, lineno, key, value);
  return 0;
}

int
template_conf_parse (char *text, const char *tname, struct template_conf *t, ctr_error_t *err)
{
  size_t lineno = 0;
  char *line, *save = NULL;

  memset (t, 0, sizeof *t);
  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *eq = strchr (line, '=');
      lineno++;
      if (line[0] == '#' || line[0] == '\0')
        continue;
      if (eq == NULL)
        {
          ctr_error (err, 0, "%s:%zu: `%s` is not key=value", TEMPLATE_CONF, lineno, line);
          goto fail;
        }
      *eq = '\0';
      if (template_conf_line (t, line, eq + 1, lineno, err) < 0)
        {
          ctr_error_wrap (err, "template `%s`", tname);
          goto fail;
        }
    }
  if (t->n_args == 0)
    {
      ctr_error (err, 0, "template `%s`: %s has no arg= line", tname, TEMPLATE_CONF);
      goto fail;
    }
  return 0;

fail:
  template_conf_clear (t); /* nothing for the caller to free after a failure */
  return -1;
}

static int
template_conf_read (int dirfd, const char *tname, struct template_conf *t, ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len;

  memset (t, 0, sizeof *t);
  if (read_file_at (dirfd, TEMPLATE_CONF, TEMPLATE_CONF_MAX, &text, &len, err) < 0)
    return ctr_error_wrap (err, "template `%s` wrote no usable %s", tname, TEMPLATE_CONF);
  return template_conf_parse (text, tname, t, err);
}

static int
write_definition (int dirfd, const char *name, const struct system_create_options *o,
                  const struct template_conf *t, const struct store_meta *range, ctr_error_t *err)
{
  struct oci_spec_options so = {
    .rootless = is_rootless (),
    .uid = geteuid (),
    .gid = getegid (),
    .args = (const char *const *)t->args,
    .env = (const char *const *)t->env,
    .cwd = t->cwd,
    .user_uid = t->uid,
    .user_gid = t->gid,
    .hostname = name,
    .system = true,
    .systemd = t->systemd,
    .container_env = t->kind == NULL || strcmp (t->kind, "system") == 0,
    .host_network = o->networks && o->networks[0] && strcmp (o->networks[0], "host") == 0,
  };
  struct oci_config *check = NULL;
  cleanup_free char *text = NULL;
  size_t len;

  if (so.rootless)
    {
      struct oci_rootless_ids ids;
      const char *note = ns_rootless_ids (&ids);
      if (note)
        fprintf (stderr, "ctr: note: rootless: %s\n", note);
      so.subuid_start = ids.subuid_start;
      so.subuid_count = ids.subuid_count;
      so.subgid_start = ids.subgid_start;
      so.subgid_count = ids.subgid_count;
    }
  text = oci_spec_generate (&so, &len);
  if (range->idmap_count)
    {
      json_node *tree = jnode_parse (text, "config.json", err);
      if (tree == NULL)
        return -1;
      idmap_config_apply (tree, range);
      free (text);
      text = jnode_to_string (tree, &len);
      jnode_free (tree);
    }
  if (oci_config_parse (text, len, "config.json", &check, err) < 0)
    return -1;
  oci_config_free (check);
  return write_file_at (dirfd, "config.json", text, len, 0600, err);
}

static int
write_meta (int dirfd, const struct system_create_options *o, const struct template_conf *t,
            const struct store_meta *ids, ctr_error_t *err)
{
  struct store_meta m = { .idmap_uid = ids->idmap_uid,
                          .idmap_gid = ids->idmap_gid,
                          .idmap_count = ids->idmap_count,
                          .idmap_shifted = ids->idmap_shifted };
  static char *const default_root[] = { "ctr0", NULL }, *const default_rootless[]
                                                        = { "none", NULL };
  char *const *nets = o->networks ? o->networks : is_rootless () ? default_rootless : default_root;
  int r;

  m.template_name = xstrdup (o->template_name);
  m.created = rfc3339_now ();
  m.kind = xstrdup (t->kind ? t->kind : "system");
  m.autostart = o->autostart;
  m.stop_signal = xstrdup (t->stop_signal ? t->stop_signal : "SIGTERM");
  m.stop_timeout = t->stop_timeout ? t->stop_timeout : 10;
  m.networks = xstrv_dup (nets);
  m.ip = o->ip ? xstrdup (o->ip) : NULL;
  m.publish = xstrv_dup (o->publish ? o->publish : (char *const[]){ NULL });
  if (o->pool && strcmp (o->pool, POOL_DEFAULT) != 0)
    m.pool = xstrdup (o->pool);
  r = 0;
  if (o->stop_signal)
    r = store_meta_set (&m, "stop_signal", o->stop_signal, err);
  if (r == 0)
    r = store_meta_write (dirfd, &m, err);
  store_meta_clear (&m);
  return r;
}

/* SIGINT, SIGTERM or SIGHUP arrived while blocked: the one, or 0. */
static int
interrupt_pending (void)
{
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
  sigset_t pending;
  sigpending (&pending);
  for (size_t i = 0; i < ARRAY_SIZE (sigs); i++)
    if (sigismember (&pending, sigs[i]))
      return sigs[i];
  return 0;
}

/* The rootfs's /etc/hostname, when it says old, says new: reached inside the root (a
   symlink there never leads out), and written only when it is a plain file. */
void
system_rename_etc_hostname (int dirfd, const char *old, const char *new)
{
  cleanup_close int rootfd = openat (dirfd, "rootfs", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  cleanup_close int etc = -1, fd = -1;
  char buf[256];
  struct stat st;
  ssize_t n;

  if (rootfd < 0)
    return;
  etc = resolve_in_root (rootfd, "/etc", O_PATH | O_DIRECTORY, 0);
  if (etc < 0)
    return;
  fd = openat (etc, "hostname", O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size >= (off_t)sizeof buf)
    return;
  n = pread (fd, buf, sizeof buf - 1, 0);
  if (n < 0)
    return;
  buf[n] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  if (strcmp (buf, old) != 0)
    return;
  cleanup_free char *text = xasprintf ("%s\n", new);
  if (ftruncate (fd, 0) < 0 || pwrite (fd, text, strlen (text), 0) != (ssize_t)strlen (text))
    ctr_log_warning ("clone: could not write the new name to /etc/hostname: %s", strerror (errno));
}

/* A container made from a pool's base gets its own name (/etc/hostname, /etc/hosts) and
   machine id where the base has the name it was built for; rootless in an overlay pool,
   as root of the user's namespace, where the volume can be mounted (pool_volume.h). */
struct touches
{
  int dfd;
  const char *from, *to;
};

static int
touches_fn (void *arg, char **out, ctr_error_t *err)
{
  const struct touches *t = arg;
  /* rootless, dfd is in the caller's mount namespace: the volume is mounted in this one */
  cleanup_close int dfd = is_rootless () ? userns_reopen_dir (t->dfd, err) : dup (t->dfd);
  (void)out;
  if (dfd < 0)
    return *err ? -1 : ctr_error (err, errno, "dup");
  if (pool_volume_activate (dfd, NULL, err) < 0)
    return -1;
  pool_image_personalize (dfd, t->from, t->to);
  system_rename_etc_hostname (dfd, t->from, t->to);
  return 0;
}

/* Fills the staging directory tmp (dfd, locked) and renames it to name. */
static int
create_in (int rootfd, int dfd, const char *root, const char *tmp, const char *name,
           const struct pool *pool, const struct system_create_options *o, ctr_error_t *err)
{
  cleanup_free char *path = NULL, *dir = xasprintf ("%s/%s", root, tmp);
  struct template_conf t;
  struct store_meta ids = { 0 };
  int r, interrupted;

  /* the id range first, recorded in the staging directory: a create killed from here on
     leaves it there for the next cleanup, and concurrent creates never share one */
  if (!o->privileged && !is_rootless () && idmap_allocate (rootfd, dfd, name, &ids, err) < 0)
    return -1;
  if (mkdirat (dfd, "rootfs", 0755) < 0)
    return ctr_error (err, errno, "create `%s/rootfs`", dir);
  path = template_find (o->template_name, err);
  if (path == NULL)
    return -1;
  if (pool_image_shared (pool))
    {
      /* the template's tree, built once per pool, template and options, is the base the
         volume starts from (pool_image.h) */
      cleanup_free char *built_for = NULL;
      struct pool_image_request rq = { .tpath = path,
                                       .tname = o->template_name,
                                       .args = o->template_args,
                                       .name = name,
                                       .size = o->size };
      struct touches tt = { dfd, NULL, name };
      if (pool_image_volume (root, pool, &rq, dfd, dir, &built_for, err) < 0)
        return -1;
      tt.from = built_for;
      if (userns_as_root (touches_fn, &tt, NULL, err) < 0)
        return -1;
    }
  /* the volume first (recorded in dfd before it is made), then the template fills it; the
     template's keeper shares dfd, and with it the lock: a create killed meanwhile leaves a
     staging directory no one removes before the template is gone */
  else if (pool_volume_create (pool, dfd, dir, name, o->size, NULL, err) < 0
           || template_run (path, o->template_name, name, dir, o->template_args, &interrupted, err)
                  < 0)
    return -1;
  /* a filesystem that cannot be idmapped (overlayfs) gets the tree chowned instead */
  if (idmap_shift_rootfs (dfd, dir, &ids, false, err) < 0
      || template_conf_read (dfd, o->template_name, &t, err) < 0)
    {
      store_meta_clear (&ids);
      return -1;
    }
  r = write_definition (dfd, name, o, &t, &ids, err);
  if (r == 0)
    r = write_meta (dfd, o, &t, &ids, err);
  template_conf_clear (&t);
  store_meta_clear (&ids);
  if (r == 0 && interrupt_pending ())
    r = ctr_error (err, 0, "create `%s` interrupted: %s", name, strsignal (interrupt_pending ()));
  if (r == 0 && renameat2 (rootfd, tmp, rootfd, name, RENAME_NOREPLACE) < 0)
    r = ctr_error (err, errno == EEXIST ? 0 : errno, "container `%s` already exists", name);
  return r;
}

/* An lvcreate size: digits, an optional fraction, a unit. */
static bool
valid_size (const char *s)
{
  size_t n = strspn (s, "0123456789");
  if (n == 0)
    return false;
  if (s[n] == '.')
    n += 1 + strspn (s + n + 1, "0123456789");
  return s[n] && strchr ("kKmMgGtT", s[n]) && s[n + 1] == '\0';
}

int
system_check_networks (char *const *networks, ctr_error_t *err)
{
  static const char *const usermode[] = { "none", "host", "user", "slirp4netns", "pasta" };
  if (!is_rootless ())
    return 0;
  for (char *const *n = networks; n && *n; n++)
    {
      size_t i;
      for (i = 0; i < ARRAY_SIZE (usermode) && strcmp (*n, usermode[i]) != 0; i++)
        ;
      if (i == ARRAY_SIZE (usermode))
        return ctr_error (err, 0,
                          "net `%s`: bridge networks need root; rootless containers get `none` "
                          "or user-mode networking (`--net user`)",
                          *n);
    }
  return 0;
}

/* --net, --ip, --publish and --stop-signal are checked as `ctr config set` checks them,
   before the template runs. */
static int
check_settings (const char *name, const struct system_create_options *o, ctr_error_t *err)
{
  static char *const default_root[] = { NETWORK_DEFAULT_NAME, NULL };
  struct network_list_request net = { .owner = name,
                                      .networks = o->networks ? o->networks : default_root,
                                      .ip = o->ip,
                                      .publish = o->publish };
  struct store_meta m = { 0 };
  cleanup_free char *nets = NULL, *pub = NULL;
  size_t len = 1;
  int r = 0;

  for (char **n = o->networks; n && *n; n++)
    len += strlen (*n) + 1;
  nets = xzalloc (len);
  for (char **n = o->networks; n && *n; n++)
    strcat (strcat (nets, *nets ? "," : ""), *n);
  len = 1;
  for (char **p = o->publish; p && *p; p++)
    len += strlen (*p) + 1;
  pub = xzalloc (len);
  for (char **p = o->publish; p && *p; p++)
    strcat (strcat (pub, *pub ? "," : ""), *p);
  if (o->networks)
    r = store_meta_set (&m, "net", nets, err);
  if (r == 0)
    r = system_check_networks (o->networks, err);
  if (r == 0 && o->ip)
    r = store_meta_set (&m, "ip", o->ip, err);
  if (r == 0 && o->publish)
    r = store_meta_set (&m, "publish", pub, err);
  if (r == 0 && o->stop_signal)
    r = store_meta_set (&m, "stop_signal", o->stop_signal, err);
  if (r == 0 && !is_rootless ())
    r = network_check_settings (&net, err);
  store_meta_clear (&m);
  return r;
}

int
system_create (const struct ctr_context *ctx, const char *name,
               const struct system_create_options *o, ctr_error_t *err)
{
  const char *root = store_root (ctx->store);
  cleanup_free char *tmp = NULL;
  cleanup_close int rootfd = -1, dfd = -1;
  __attribute__ ((cleanup (pool_clear))) struct pool pool = { 0 };
  sigset_t interrupts, old;
  int r;

  if (validate_container_id (name, err) < 0)
    return -1;
  if ((o->ip || o->publish)
      && (o->networks == NULL ? is_rootless () : network_list_empty (o->networks)))
    return ctr_error (err, 0, "--%s: needs a network (--net NAME)", o->ip ? "ip" : "publish");
  if (check_settings (name, o, err) < 0)
    return -1;
  if (pool_load (root, o->pool, &pool, err) < 0)
    return ctr_error_wrap (err, "--pool");
  if (o->size && pool.type != POOL_LVM)
    return ctr_error (err, 0, "--size %s: only for lvm pools (pool `%s` is %s)", o->size, pool.name,
                      pool_type_name (pool.type));
  if (o->size && !valid_size (o->size))
    return ctr_error (err, 0, "--size `%s`: not a size (a number with K, M, G or T)", o->size);
  if (o->privileged && is_rootless ())
    return ctr_error (err, 0,
                      "--privileged: needs root (a rootless container always has a "
                      "user namespace)");
  rootfd = owned_dir_open (root, "store", OWNED_DIR_CREATE, err);
  if (rootfd < 0)
    return -1;
  if (store_exists (root, name))
    return ctr_error (err, 0, "container `%s` already exists", name);
  tmp = xasprintf (".%s.new", name);
  /* an interrupt (Ctrl-C, SIGTERM from `timeout`, a hangup) stops the template and takes
     effect once the half-made container is gone */
  sigemptyset (&interrupts);
  sigaddset (&interrupts, SIGINT);
  sigaddset (&interrupts, SIGTERM);
  sigaddset (&interrupts, SIGHUP);
  sigprocmask (SIG_BLOCK, &interrupts, &old);
  dfd = store_staging_claim (rootfd, name, err);
  r = dfd < 0 ? -1 : create_in (rootfd, dfd, root, tmp, name, &pool, o, err);
  if (r < 0 && dfd >= 0)
    {
      ctr_error_t e2 = NULL;
      /* removed under the lock: never a directory another create has claimed */
      if (pool_volume_release (dfd, NULL, &e2) < 0 || remove_tree_at (rootfd, tmp, &e2) < 0)
        ctr_error_print (&e2);
      if (interrupt_pending ())
        ctr_error_print (err); /* said now: the interrupt ends ctr once unblocked */
    }
  sigprocmask (SIG_SETMASK, &old, NULL);
  return r;
}

int
system_templates (struct template_info **out, size_t *n, ctr_error_t *err)
{
  cleanup_strv char **dirs = template_dirs ();
  *out = NULL;
  *n = 0;
  for (char **d = dirs; *d; d++)
    {
      cleanup_dir DIR *dir = opendir (*d);
      struct dirent *de;
      while (dir && (de = readdir (dir)) != NULL)
        {
          struct template_info t;
          size_t i;
          if (strncmp (de->d_name, "ctr-", 4) != 0)
            continue;
          for (i = 0; i < *n && strcmp ((*out)[i].name, de->d_name + 4) != 0; i++)
            ;
          if (i < *n) /* an earlier directory wins */
            continue;
          t.name = xstrdup (de->d_name + 4);
          t.path = xasprintf ("%s/%s", *d, de->d_name);
          t.description = NULL;
          if (access (t.path, X_OK) < 0)
            {
              free (t.name);
              free (t.path);
              continue;
            }
          *out = xrealloc (*out, (*n + 1) * sizeof **out);
          (*out)[(*n)++] = t;
        }
    }
  return 0;
}

void
template_info_free (struct template_info *t, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (t[i].name);
      free (t[i].path);
      free (t[i].description);
    }
  free (t);
}

/* The one line a template prints for --describe (empty when it has none). */
char *
system_template_describe (const char *path)
{
  char buf[512];
  ssize_t n, len = 0;
  int fds[2], status;
  pid_t pid;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return xstrdup ("");
  pid = fork ();
  if (pid == 0)
    {
      int nul = open ("/dev/null", O_RDWR);
      dup2 (nul, STDIN_FILENO);
      dup2 (fds[1], STDOUT_FILENO);
      dup2 (nul, STDERR_FILENO);
      execl (path, path, "--describe", (char *)NULL);
      _exit (127);
    }
  close (fds[1]);
  while (pid > 0 && len < (ssize_t)sizeof buf - 1
         && ((n = read (fds[0], buf + len, sizeof buf - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
    len += n > 0 ? n : 0;
  close (fds[0]);
  if (pid > 0)
    while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
      ;
  buf[len] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  return xstrdup (buf);
}
