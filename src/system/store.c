/* store: the directory of named system containers and their ctr.json metadata. */
#include <config.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "network/network.h"
#include "base/json.h"
#include "base/log.h"
#include "system/pool_volume.h"
#include "system/store.h"
#include "system/userns_child.h"
#include "base/owned_dir.h"
#include "base/util.h"

#define META_MAX_SIZE (256 * 1024)

const char *const store_meta_keys[] = {
  "template", "created",   "kind",        "autostart", "stop_signal", "stop_timeout", "net", "ip",
  "publish",  "last_exit", "cloned_from", "pool",      "idmap",       "privileged",   NULL,
};

void
store_meta_clear (struct store_meta *m)
{
  free (m->template_name);
  free (m->created);
  free (m->kind);
  free (m->stop_signal);
  strv_free (m->networks);
  free (m->ip);
  strv_free (m->publish);
  free (m->last_exit_time);
  free (m->cloned_from);
  free (m->pool);
  free (m->autostart_group);
  free (m->lxcfs);
  memset (m, 0, sizeof *m);
}

const char *
store_root (const char *override)
{
  static char *computed;
  const char *env = getenv ("CTR_STORE");
  const char *data;
  struct passwd *pw;

  if (override && *override)
    return override;
  if (env && *env)
    return env;
  if (computed)
    return computed;
  if (!is_rootless ())
    return "/var/lib/ctr/containers";
  data = getenv ("XDG_DATA_HOME");
  if (data && *data == '/')
    return computed = xasprintf ("%s/ctr/containers", data);
  data = getenv ("HOME");
  if (data && *data == '/')
    return computed = xasprintf ("%s/.local/share/ctr/containers", data);
  /* without $HOME (cron, su), the home directory of the passwd entry; never a shared
     path such as /tmp, where the store would be anyone's */
  pw = getpwuid (geteuid ());
  return computed
         = xasprintf ("%s/.local/share/ctr/containers",
                      pw && pw->pw_dir && *pw->pw_dir == '/' ? pw->pw_dir : "/nonexistent");
}

int
store_open (const char *root, const char *name, ctr_error_t *err)
{
  cleanup_close int rootfd = -1;

  if (validate_container_id (name, err) < 0)
    return -1;
  rootfd = owned_dir_open (root, "store", OWNED_DIR_MISSING_OK, err);
  return store_open_at (rootfd, root, name, err);
}

int
store_open_at (int rootfd, const char *root, const char *name, ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", root, name);
  int fd;

  if (rootfd == OWNED_DIR_MISSING)
    return ctr_error (err, 0, "container `%s` does not exist", name);
  if (rootfd < 0)
    return -1;
  fd = owned_subdir_open (rootfd, name, path, "container directory", err);
  if (fd < 0 && errno == ENOENT)
    return ctr_error (err, 0, "container `%s` does not exist", name);
  if (fd < 0)
    return -1;
  if (faccessat (fd, STORE_META, F_OK, 0) < 0)
    {
      close (fd);
      return ctr_error (err, 0, "container `%s` does not exist (`%s` has no %s)", name, path,
                        STORE_META);
    }
  return fd;
}

bool
store_exists (const char *root, const char *name)
{
  cleanup_free char *path = NULL;
  if (validate_container_id (name, NULL) < 0)
    return false;
  path = xasprintf ("%s/%s/%s", root, name, STORE_META);
  return access (path, F_OK) == 0;
}

int
store_lock (int dirfd, ctr_error_t *err)
{
  while (flock (dirfd, LOCK_EX) < 0)
    if (errno != EINTR)
      return ctr_error (err, errno, "lock container directory");
  return 0;
}

static char **
strv_from_json (const json_value *v)
{
  size_t i, n = json_is_array (v) ? json_len (v) : 0, k = 0;
  char **out = xzalloc ((n + 1) * sizeof *out);
  for (i = 0; i < n; i++)
    {
      const char *s;
      if (json_as_string (json_at (v, i), &s))
        out[k++] = xstrdup (s);
    }
  return out;
}

static char *
dup_string (const json_value *root, const char *key)
{
  const char *s;
  return json_as_string (json_get (root, key), &s) ? xstrdup (s) : NULL;
}

static void
parse_idmap (const json_value *v, struct store_meta *m)
{
  int64_t u, g, c;
  if (json_as_int64 (json_get (v, "uid"), &u) && json_as_int64 (json_get (v, "gid"), &g)
      && json_as_int64 (json_get (v, "count"), &c) && u >= 0 && g >= 0 && c > 0
      && u + c <= UINT32_MAX && g + c <= UINT32_MAX)
    {
      m->idmap_uid = (uint32_t)u;
      m->idmap_gid = (uint32_t)g;
      m->idmap_count = (uint32_t)c;
      json_as_bool (json_get (v, "shifted"), &m->idmap_shifted);
    }
}

int
store_meta_parse (const char *text, size_t len, const char *origin, struct store_meta *m,
                  ctr_error_t *err)
{
  json_value *root;
  const json_value *last;
  int64_t n;

  memset (m, 0, sizeof *m);
  root = json_parse (text, len, origin, err);
  if (root == NULL)
    return -1;
  m->template_name = dup_string (root, "template");
  m->created = dup_string (root, "created");
  m->kind = dup_string (root, "kind");
  json_as_bool (json_get (root, "autostart"), &m->autostart);
  m->stop_signal = dup_string (root, "stop_signal");
  m->stop_timeout = json_as_int64 (json_get (root, "stop_timeout"), &n) ? (int)n : 10;
  m->networks = strv_from_json (json_get (root, "net"));
  m->ip = dup_string (root, "ip");
  m->publish = strv_from_json (json_get (root, "publish"));
  m->cloned_from = dup_string (root, "cloned_from");
  m->pool = dup_string (root, "pool");
  if (json_as_int64 (json_get (root, "autostart_order"), &n))
    m->autostart_order = (int)n;
  if (json_as_int64 (json_get (root, "autostart_delay"), &n))
    m->autostart_delay = (int)n;
  m->autostart_group = dup_string (root, "autostart_group");
  m->lxcfs = dup_string (root, "lxcfs");
  parse_idmap (json_get (root, "idmap"), m);
  last = json_get (root, "last_exit");
  if (json_as_int64 (json_get (last, "status"), &n))
    {
      m->has_last_exit = true;
      m->last_exit = (int)n;
      m->last_exit_time = dup_string (last, "time");
    }
  json_value_free (root);
  return 0;
}

static int
meta_read (int dirfd, const char *file, const char *name, struct store_meta *m, ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  cleanup_free char *origin = xasprintf ("%s/%s", name, STORE_META);
  size_t len;

  memset (m, 0, sizeof *m);
  if (read_whole_file_at (dirfd, file, META_MAX_SIZE, &text, &len, err) < 0)
    return ctr_error_wrap (err, "container `%s`", name);
  return store_meta_parse (text, len, origin, m, err);
}

int
store_meta_read (int dirfd, const char *name, struct store_meta *m, ctr_error_t *err)
{
  return meta_read (dirfd, STORE_META, name, m, err);
}

int
store_meta_read_in (int rootfd, const char *name, struct store_meta *m, ctr_error_t *err)
{
  cleanup_free char *file = xasprintf ("%s/%s", name, STORE_META);
  return meta_read (rootfd, file, name, m, err);
}

void
store_meta_renew (struct store_meta *m)
{
  free (m->ip);
  m->ip = NULL;
  strv_free (m->publish);
  m->publish = xzalloc (sizeof (char *));
  free (m->created);
  m->created = rfc3339_now ();
  m->has_last_exit = false;
  free (m->cloned_from);
  m->cloned_from = NULL;
}

int
store_meta_write (int dirfd, const struct store_meta *m, ctr_error_t *err)
{
  json_writer *w = json_writer_new (true);
  cleanup_free char *text = NULL;
  size_t len;

  json_map_open (w);
  json_kv_string (w, "template", m->template_name);
  json_kv_string (w, "created", m->created);
  json_kv_string (w, "kind", m->kind);
  json_kv_bool (w, "autostart", m->autostart);
  json_kv_string (w, "stop_signal", m->stop_signal);
  json_kv_int (w, "stop_timeout", m->stop_timeout);
  json_kv_strv (w, "net", m->networks);
  json_kv_string (w, "ip", m->ip);
  json_kv_strv (w, "publish", m->publish);
  if (m->cloned_from)
    json_kv_string (w, "cloned_from", m->cloned_from);
  if (m->pool)
    json_kv_string (w, "pool", m->pool);
  if (m->autostart_order)
    json_kv_int (w, "autostart_order", m->autostart_order);
  if (m->autostart_delay)
    json_kv_int (w, "autostart_delay", m->autostart_delay);
  if (m->autostart_group)
    json_kv_string (w, "autostart_group", m->autostart_group);
  if (m->lxcfs)
    json_kv_string (w, "lxcfs", m->lxcfs);
  if (m->idmap_count)
    {
      json_key (w, "idmap");
      json_map_open (w);
      json_kv_int (w, "uid", m->idmap_uid);
      json_kv_int (w, "gid", m->idmap_gid);
      json_kv_int (w, "count", m->idmap_count);
      json_kv_bool (w, "shifted", m->idmap_shifted);
      json_map_close (w);
    }
  if (m->has_last_exit)
    {
      json_key (w, "last_exit");
      json_map_open (w);
      json_kv_int (w, "status", m->last_exit);
      json_kv_string (w, "time", m->last_exit_time);
      json_map_close (w);
    }
  json_map_close (w);
  text = json_writer_finish (w, &len);
  return write_file_atomic_at (dirfd, STORE_META, text, len, 0600, err);
}

int
store_staging_remove (int rootfd, const char *name, bool *busy, ctr_error_t *err)
{
  cleanup_free char *tmp = xasprintf (".%s.new", name);
  cleanup_close int fd = openat (rootfd, tmp, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

  *busy = false;
  if (fd < 0)
    return errno == ENOENT ? 0 : ctr_error (err, errno, "open `%s`", tmp);
  /* its creator holds this lock for as long as it lives */
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      *busy = true;
      return 0;
    }
  /* its volume in a pool first (the mount on rootfs, a subvolume, an LV) */
  if (pool_volume_release (fd, NULL, err) < 0 || store_remove_tree_at (rootfd, tmp, err) < 0)
    return -1;
  ctr_log_debug ("store: removed `%s`, left by a create that was killed", tmp);
  return 1;
}

int
store_staging_claim (int rootfd, const char *name, ctr_error_t *err)
{
  cleanup_free char *tmp = xasprintf (".%s.new", name);
  int fd;
  if (mkdirat (rootfd, tmp, 0700) < 0 && errno == EEXIST)
    {
      cleanup_close int old = openat (rootfd, tmp, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (old >= 0 && flock (old, LOCK_EX | LOCK_NB) < 0)
        return ctr_error (err, 0, "container `%s` is being created", name);
      if ((old >= 0 && pool_volume_release (old, NULL, err) < 0)
          || store_remove_tree_at (rootfd, tmp, err) < 0)
        return -1;
      if (mkdirat (rootfd, tmp, 0700) < 0)
        return ctr_error (err, errno, "create `%s`", tmp);
    }
  fd = openat (rootfd, tmp, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return ctr_error (err, errno, "create `%s`", tmp);
  flock (fd, LOCK_EX);
  return fd;
}

/* Half-made containers whose create was killed: `.NAME.new` without its creator's lock. */
static void
sweep_staging (int rootfd)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if ((d = fdopendir (fcntl (rootfd, F_DUPFD_CLOEXEC, 0))) == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    {
      size_t len = strlen (de->d_name);
      ctr_error_t ignored = NULL;
      bool busy;
      if (de->d_name[0] != '.' || len < 6 || strcmp (de->d_name + len - 4, ".new") != 0)
        continue;
      cleanup_free char *name = strndup (de->d_name + 1, len - 5);
      if (store_staging_remove (rootfd, name, &busy, &ignored) < 0)
        ctr_error_free (&ignored);
    }
}

int
store_list (const char *root, char ***names, size_t *n, ctr_error_t *err)
{
  cleanup_close int rootfd = owned_dir_open (root, "store", OWNED_DIR_MISSING_OK, err);
  int dup;

  *names = NULL;
  *n = 0;
  if (rootfd < 0)
    return rootfd == OWNED_DIR_MISSING ? 0 : -1;
  sweep_staging (rootfd);
  dup = fcntl (rootfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0)
    return ctr_error (err, errno, "read store `%s`", root);
  return owned_dir_list_ids_fd (dup, root, "store", names, n, err);
}

static char *
strv_join (char *const *v)
{
  size_t len = 1;
  char *out, *p;
  for (char *const *s = v; s && *s; s++)
    len += strlen (*s) + 1;
  p = out = xzalloc (len);
  for (char *const *s = v; s && *s; s++)
    p += sprintf (p, "%s%s", p == out ? "" : ",", *s);
  return out;
}

static char **
strv_split (const char *value)
{
  size_t n = 1, k = 0;
  char **out;
  const char *p;
  for (p = value; *p; p++)
    n += *p == ',';
  out = xzalloc ((n + 1) * sizeof *out);
  while (*value)
    {
      size_t len = strcspn (value, ",");
      if (len)
        out[k++] = xstrndup (value, len);
      value += len + (value[len] == ',');
    }
  return out;
}

int
store_meta_get (const struct store_meta *m, const char *key, char **out, ctr_error_t *err)
{
  const char *s = NULL;
  if (strcmp (key, "template") == 0)
    s = m->template_name;
  else if (strcmp (key, "created") == 0)
    s = m->created;
  else if (strcmp (key, "kind") == 0)
    s = m->kind;
  else if (strcmp (key, "autostart") == 0)
    s = m->autostart ? "true" : "false";
  else if (strcmp (key, "stop_signal") == 0)
    s = m->stop_signal;
  else if (strcmp (key, "stop_timeout") == 0)
    return *out = xasprintf ("%d", m->stop_timeout), 0;
  else if (strcmp (key, "net") == 0)
    return *out = strv_join (m->networks), 0;
  else if (strcmp (key, "ip") == 0)
    s = m->ip;
  else if (strcmp (key, "publish") == 0)
    return *out = strv_join (m->publish), 0;
  else if (strcmp (key, "cloned_from") == 0)
    s = m->cloned_from;
  else if (strcmp (key, "pool") == 0)
    s = m->pool ? m->pool : "default";
  else if (strcmp (key, "idmap") == 0 && is_rootless ())
    s = "rootless"; /* the caller's own ids and subordinate range (docs/rootless.md) */
  else if (strcmp (key, "idmap") == 0)
    return *out = m->idmap_count
                      ? xasprintf ("%u:%u:%u%s", (unsigned)m->idmap_uid, (unsigned)m->idmap_gid,
                                   (unsigned)m->idmap_count, m->idmap_shifted ? " (shifted)" : "")
                      : xstrdup ("none"),
           0;
  else if (strcmp (key, "privileged") == 0)
    s = m->idmap_count || is_rootless () ? "false" : "true";
  else if (strcmp (key, "last_exit") == 0)
    return *out = m->has_last_exit ? xasprintf ("%d", m->last_exit) : xstrdup (""), 0;
  else
    return ctr_error (err, 0,
                      "unknown key `%s` (one of: template, created, kind, autostart, "
                      "stop_signal, stop_timeout, net, ip, publish, last_exit, cloned_from, pool, "
                      "idmap, privileged)",
                      key);
  *out = xstrdup (s ? s : "");
  return 0;
}

static int
set_networks (struct store_meta *m, const char *value, ctr_error_t *err)
{
  cleanup_strv char **v = strv_split (value);
  size_t n = strv_len (v);
  for (size_t i = 0; i < n; i++)
    {
      /* user-mode networks own the default route: alone, like none and host */
      if ((strcmp (v[i], "none") == 0 || strcmp (v[i], "host") == 0 || network_is_usermode (v[i]))
          && n > 1)
        return ctr_error (err, 0, "net: `%s` cannot be combined with other networks", v[i]);
      /* phys:IFNAME lends a host interface (its name is checked by the network layer) */
      if (validate_container_id (network_is_phys (v[i]) ? v[i] + 5 : v[i], NULL) < 0)
        return ctr_error (err, 0, "net: invalid network name `%s`", v[i]);
    }
  strv_free (m->networks);
  m->networks = steal_ptr (v);
  return 0;
}

int
store_meta_set (struct store_meta *m, const char *key, const char *value, ctr_error_t *err)
{
  int64_t n;
  if (strcmp (key, "autostart") == 0)
    {
      if (strcmp (value, "true") != 0 && strcmp (value, "false") != 0)
        return ctr_error (err, 0, "autostart: `%s` is not true or false", value);
      m->autostart = strcmp (value, "true") == 0;
    }
  else if (strcmp (key, "stop_signal") == 0)
    {
      int sig = signal_parse (value);
      if (sig <= 0)
        return ctr_error (err, 0, "stop_signal: unknown signal `%s`", value);
      free (m->stop_signal);
      m->stop_signal = xstrdup (signal_name (sig) ? signal_name (sig) : value);
    }
  else if (strcmp (key, "stop_timeout") == 0)
    {
      if (parse_int64 (value, &n) < 0 || n < 0 || n > 86400)
        return ctr_error (err, 0, "stop_timeout: `%s` is not a number of seconds (0-86400)", value);
      m->stop_timeout = (int)n;
    }
  else if (strcmp (key, "net") == 0)
    return set_networks (m, value, err);
  else if (strcmp (key, "ip") == 0)
    {
      struct in_addr a4;
      struct in6_addr a6;
      if (*value && inet_pton (AF_INET, value, &a4) != 1 && inet_pton (AF_INET6, value, &a6) != 1)
        return ctr_error (err, 0, "ip: `%s` is not an IP address", value);
      free (m->ip);
      m->ip = *value ? xstrdup (value) : NULL;
    }
  else if (strcmp (key, "publish") == 0)
    {
      cleanup_strv char **v = strv_split (value);
      for (char **p = v; *p; p++)
        {
          struct network_port port;
          if (network_parse_publish (*p, &port, err) < 0)
            return ctr_error_wrap (err, "publish");
          network_port_clear (&port);
        }
      strv_free (m->publish);
      m->publish = steal_ptr (v);
    }
  else if (strcmp (key, "template") == 0 || strcmp (key, "created") == 0
           || strcmp (key, "kind") == 0 || strcmp (key, "last_exit") == 0
           || strcmp (key, "cloned_from") == 0 || strcmp (key, "pool") == 0)
    return ctr_error (err, 0, "`%s` is read-only", key);
  else if (strcmp (key, "idmap") == 0)
    return ctr_error (err, 0, "`idmap` is read-only (given at create; `privileged` switches it)");
  else
    return ctr_error (err, 0, "unknown key `%s`", key);
  return 0;
}
