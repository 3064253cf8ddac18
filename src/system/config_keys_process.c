/* config_keys_process: the `ctr config` keys of the process and its view of the host:
   rlimit.NAME, env.NAME, hostname, mount.add/rm, device.add/rm, cap.add/drop, seccomp,
   nesting. */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/json.h"
#include "base/util.h"
#include "oci/oci.h"
#include "oci/seccomp_default.h"
#include "process/process.h"
#include "system/config_keys_process.h"

static const char *const cap_sets[]
    = { "bounding", "effective", "permitted", "inheritable", "ambient", NULL };

/* ------------------------------------------------------------ process */

/* rlimit.NOFILE, rlimit.nofile or rlimit.RLIMIT_NOFILE: "RLIMIT_NOFILE". */
static char *
rlimit_type (const char *name)
{
  char *t = xasprintf ("%s%s", strncasecmp (name, "RLIMIT_", 7) == 0 ? "" : "RLIMIT_", name);
  for (char *p = t; *p; p++)
    *p = (char)toupper ((unsigned char)*p);
  return t;
}

static ssize_t
rlimit_index (const json_node *rl, const char *type)
{
  for (size_t i = 0; i < jnode_len (rl); i++)
    if (strcmp (jnode_string (jnode_get (jnode_at (rl, i), "type")) ?: "", type) == 0)
      return (ssize_t)i;
  return -1;
}

static int
parse_rlimit_value (const char *s, size_t len, uint64_t *out)
{
  cleanup_free char *v = xstrndup (s, len);
  char *end;
  if (strcmp (v, "unlimited") == 0 || strcmp (v, "infinity") == 0)
    return *out = UINT64_MAX, 0;
  if (!isdigit ((unsigned char)*v))
    return -1;
  errno = 0;
  *out = strtoull (v, &end, 10);
  return errno || *end ? -1 : 0;
}

int
set_rlimit (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  cleanup_free char *type = rlimit_type (k->name);
  json_node *proc = jnode_path (k->config, "process", true);
  json_node *rl = jnode_array_member (proc, "rlimits", true), *e;
  size_t soft_len = strcspn (value, ":");
  uint64_t soft, hard;
  ssize_t i = rlimit_index (rl, type);

  if (!oci_rlimit_known (type))
    return ctr_error (err, 0, "%s: unknown resource `%s` (e.g. rlimit.NOFILE, rlimit.NPROC)",
                      k->key, k->name);
  if (strcmp (value, "none") == 0)
    {
      jnode_array_remove (rl, (size_t)i);
      if (jnode_len (rl) == 0)
        jnode_remove (proc, "rlimits");
      return 0;
    }
  if (parse_rlimit_value (value, soft_len, &soft) < 0
      || (value[soft_len] == ':'
              ? parse_rlimit_value (value + soft_len + 1, strlen (value + soft_len + 1), &hard)
              : (hard = soft, 0))
             < 0)
    return ctr_error (err, 0, "%s: `%s` is not SOFT[:HARD] (numbers or unlimited; or none)", k->key,
                      value);
  if (soft > hard)
    return ctr_error (err, 0, "%s: `%s`: the soft limit is above the hard one", k->key, value);
  e = jnode_new_object ();
  jnode_set (e, "type", jnode_new_string (type));
  jnode_set (e, "hard", jnode_new_uint (hard));
  jnode_set (e, "soft", jnode_new_uint (soft));
  if (i >= 0)
    jnode_array_remove (rl, (size_t)i);
  jnode_append (rl, e);
  return 0;
}

char *
rlimit_text (const json_node *e)
{
  uint64_t soft = 0, hard = 0;
  char s[32], h[32];
  jnode_uint (jnode_get (e, "soft"), &soft);
  jnode_uint (jnode_get (e, "hard"), &hard);
  snprintf (s, sizeof s, soft == UINT64_MAX ? "unlimited" : "%" PRIu64, soft);
  snprintf (h, sizeof h, hard == UINT64_MAX ? "unlimited" : "%" PRIu64, hard);
  return xasprintf ("%s:%s", s, h);
}

char *
get_rlimit (struct key_ctx *k)
{
  cleanup_free char *type = rlimit_type (k->name);
  json_node *rl = jnode_array_member (jnode_path (k->config, "process", false), "rlimits", false);
  ssize_t i = rlimit_index (rl, type);
  return i < 0 ? xstrdup ("inherited") : rlimit_text (jnode_at (rl, (size_t)i));
}

static bool
env_name_valid (const char *name)
{
  if (*name == '\0' || isdigit ((unsigned char)*name))
    return false;
  for (const char *p = name; *p; p++)
    if (!isalnum ((unsigned char)*p) && *p != '_')
      return false;
  return true;
}

static ssize_t
env_index (const json_node *env, const char *name)
{
  size_t len = strlen (name);
  for (size_t i = 0; i < jnode_len (env); i++)
    {
      const char *s = jnode_string (jnode_at (env, i));
      if (s && strncmp (s, name, len) == 0 && s[len] == '=')
        return (ssize_t)i;
    }
  return -1;
}

int
set_env (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *env = jnode_array_member (jnode_path (k->config, "process", true), "env", true);
  cleanup_free char *entry = NULL;
  ssize_t i;

  if (!env_name_valid (k->name))
    return ctr_error (err, 0, "%s: `%s` is not a variable name (letters, digits, _)", k->key,
                      k->name);
  entry = xasprintf ("%s=%s", k->name, value);
  i = env_index (env, k->name);
  if (i >= 0)
    jnode_array_remove (env, (size_t)i);
  jnode_append (env, jnode_new_string (entry));
  return 0;
}

char *
get_env (struct key_ctx *k)
{
  json_node *env = jnode_array_member (jnode_path (k->config, "process", false), "env", false);
  ssize_t i = env_index (env, k->name);
  return i < 0 ? NULL : xstrdup (jnode_string (jnode_at (env, (size_t)i)) + strlen (k->name) + 1);
}

int
set_env_unset (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *env = jnode_array_member (jnode_path (k->config, "process", true), "env", false);
  ssize_t i = env_index (env, value);
  if (i < 0)
    return ctr_error (err, 0, "%s: `%s` is not set", k->key, value);
  jnode_array_remove (env, (size_t)i);
  return 0;
}

int
set_hostname (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  size_t len = strlen (value);
  bool ok = len > 0 && len <= 64 && value[0] != '-' && value[0] != '.';
  for (const char *p = value; ok && *p; p++)
    ok = isalnum ((unsigned char)*p) || *p == '-' || *p == '.';
  if (!ok)
    return ctr_error (err, 0, "%s: `%s` is not a host name (letters, digits, - and ., at most 64)",
                      k->key, value);
  jnode_set (k->config, "hostname", jnode_new_string (value));
  return 0;
}

char *
get_hostname (struct key_ctx *k)
{
  return xstrdup (jnode_string (jnode_get (k->config, "hostname")) ?: "");
}

/* ------------------------------------------------------------ mounts and devices */

static bool
path_clean (const char *p)
{
  if (p[0] != '/' || strstr (p, "//") || (strlen (p) > 1 && p[strlen (p) - 1] == '/'))
    return false;
  for (const char *c = p; (c = strstr (c, "/..")) != NULL; c++)
    if (c[3] == '/' || c[3] == '\0')
      return false;
  for (const char *c = p; (c = strstr (c, "/.")) != NULL; c++)
    if (c[2] == '/' || c[2] == '\0')
      return false;
  return true;
}

static bool
has_prefix_dir (const char *p, const char *dir)
{
  size_t n = strlen (dir);
  return strncmp (p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

static bool
mount_is_bind (const json_node *m)
{
  const json_node *opts = jnode_get (m, "options");
  if (strcmp (jnode_string (jnode_get (m, "type")) ?: "", "bind") == 0)
    return true;
  return string_index (opts, "bind") >= 0 || string_index (opts, "rbind") >= 0;
}

static ssize_t
mount_index (const json_node *mounts, const char *dest)
{
  for (size_t i = 0; i < jnode_len (mounts); i++)
    if (strcmp (jnode_string (jnode_get (jnode_at (mounts, i), "destination")) ?: "", dest) == 0)
      return (ssize_t)i;
  return -1;
}

int
set_mount_add (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  cleanup_strv char **parts = NULL;
  json_node *mounts, *m, *opts;
  const char *mode = "rw";
  struct stat st;
  size_t n = 0;

  parts = xzalloc (4 * sizeof (char *));
  for (const char *p = value; n < 3;)
    {
      size_t len = strcspn (p, ":");
      parts[n++] = xstrndup (p, len);
      if (p[len] == '\0')
        break;
      p += len + 1;
      if (n == 3)
        return ctr_error (err, 0, "%s: `%s` is not /HOST:/GUEST[:ro]", k->key, value);
    }
  if (n < 2 || (n == 3 && strcmp (parts[2], "ro") != 0 && strcmp (parts[2], "rw") != 0))
    return ctr_error (err, 0, "%s: `%s` is not /HOST:/GUEST[:ro]", k->key, value);
  if (n == 3)
    mode = parts[2];
  if (!path_clean (parts[0]) || !path_clean (parts[1]) || strcmp (parts[1], "/") == 0)
    return ctr_error (err, 0, "%s: `%s`: both paths must be absolute, without . or ..", k->key,
                      value);
  if (stat (parts[0], &st) < 0)
    return ctr_error (err, errno, "%s: host path `%s`", k->key, parts[0]);
  if (has_prefix_dir (parts[1], "/proc") || has_prefix_dir (parts[1], "/dev")
      || has_prefix_dir (parts[1], "/sys"))
    return ctr_error (err, 0, "%s: `%s`: mounts on /proc, /dev or /sys are refused", k->key,
                      parts[1]);
  mounts = jnode_array_member (k->config, "mounts", true);
  if (mount_index (mounts, parts[1]) >= 0)
    return ctr_error (err, 0, "%s: `%s` is mounted already (mount.rm %s first)", k->key, parts[1],
                      parts[1]);
  m = jnode_new_object ();
  jnode_set (m, "destination", jnode_new_string (parts[1]));
  jnode_set (m, "type", jnode_new_string ("bind"));
  jnode_set (m, "source", jnode_new_string (parts[0]));
  opts = jnode_new_array ();
  jnode_append (opts, jnode_new_string ("rbind"));
  jnode_append (opts, jnode_new_string (mode));
  jnode_set (m, "options", opts);
  jnode_append (mounts, m);
  return 0;
}

int
set_mount_rm (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *mounts = jnode_array_member (k->config, "mounts", false);
  ssize_t i = mount_index (mounts, value);
  if (i < 0 || !mount_is_bind (jnode_at (mounts, (size_t)i)))
    return ctr_error (err, 0, "%s: no bind mount at `%s`", k->key, value);
  jnode_array_remove (mounts, (size_t)i);
  return 0;
}

char *
get_mounts (struct key_ctx *k)
{
  json_node *mounts = jnode_array_member (k->config, "mounts", false);
  json_node *list = jnode_new_array ();
  char *out;
  for (size_t i = 0; i < jnode_len (mounts); i++)
    {
      json_node *m = jnode_at (mounts, i);
      cleanup_free char *t = NULL;
      /* the idmapped root of an unprivileged container is ctr's (see `idmap`) */
      if (!mount_is_bind (m)
          || (strcmp (jnode_string (jnode_get (m, "destination")) ?: "", "/") == 0
              && string_index (jnode_get (m, "options"), "idmap") >= 0))
        continue;
      t = xasprintf ("%s:%s%s", jnode_string (jnode_get (m, "source")) ?: "",
                     jnode_string (jnode_get (m, "destination")) ?: "",
                     string_index (jnode_get (m, "options"), "ro") >= 0 ? ":ro" : "");
      jnode_append (list, jnode_new_string (t));
    }
  out = join_strings (list);
  jnode_free (list);
  return out;
}

static ssize_t
device_index (const json_node *devs, const char *path)
{
  for (size_t i = 0; i < jnode_len (devs); i++)
    if (strcmp (jnode_string (jnode_get (jnode_at (devs, i), "path")) ?: "", path) == 0)
      return (ssize_t)i;
  return -1;
}

/* The allow rule device.add made for type/major/minor. */
static ssize_t
device_rule_index (const json_node *rules, const char *type, int64_t major, int64_t minor)
{
  for (size_t i = 0; i < jnode_len (rules); i++)
    {
      const json_node *r = jnode_at (rules, i);
      int64_t ma, mi;
      bool allow;
      if (jnode_bool (jnode_get (r, "allow"), &allow) && allow
          && strcmp (jnode_string (jnode_get (r, "type")) ?: "", type) == 0
          && jnode_int (jnode_get (r, "major"), &ma) && ma == major
          && jnode_int (jnode_get (r, "minor"), &mi) && mi == minor)
        return (ssize_t)i;
    }
  return -1;
}

int
set_device_add (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *devs, *rules, *d, *r;
  const char *type;
  struct stat st;

  if (!path_clean (value) || !has_prefix_dir (value, "/dev") || strcmp (value, "/dev") == 0)
    return ctr_error (err, 0, "%s: `%s` is not a path under /dev", k->key, value);
  if (stat (value, &st) < 0)
    return ctr_error (err, errno, "%s: `%s`", k->key, value);
  if (!S_ISCHR (st.st_mode) && !S_ISBLK (st.st_mode))
    return ctr_error (err, 0, "%s: `%s` is not a character or block device", k->key, value);
  type = S_ISCHR (st.st_mode) ? "c" : "b";
  devs = jnode_array_member (jnode_path (k->config, "linux", true), "devices", true);
  if (device_index (devs, value) >= 0)
    return ctr_error (err, 0, "%s: `%s` is there already", k->key, value);
  d = jnode_new_object ();
  jnode_set (d, "path", jnode_new_string (value));
  jnode_set (d, "type", jnode_new_string (type));
  jnode_set (d, "major", jnode_new_int (major (st.st_rdev)));
  jnode_set (d, "minor", jnode_new_int (minor (st.st_rdev)));
  jnode_set (d, "fileMode", jnode_new_int (st.st_mode & 07777));
  jnode_set (d, "uid", jnode_new_int (0));
  jnode_set (d, "gid", jnode_new_int (0));
  jnode_append (devs, d);
  rules = jnode_array_member (jnode_path (k->config, RES, true), "devices", true);
  if (device_rule_index (rules, type, major (st.st_rdev), minor (st.st_rdev)) < 0)
    {
      r = jnode_new_object ();
      jnode_set (r, "allow", jnode_new_bool (true));
      jnode_set (r, "type", jnode_new_string (type));
      jnode_set (r, "major", jnode_new_int (major (st.st_rdev)));
      jnode_set (r, "minor", jnode_new_int (minor (st.st_rdev)));
      jnode_set (r, "access", jnode_new_string ("rwm"));
      jnode_append (rules, r);
    }
  return 0;
}

int
set_device_rm (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *devs = jnode_array_member (jnode_path (k->config, "linux", false), "devices", false);
  json_node *rules = jnode_array_member (jnode_path (k->config, RES, false), "devices", false), *d;
  ssize_t i = device_index (devs, value), r;
  int64_t ma = -1, mi = -1;

  if (i < 0)
    return ctr_error (err, 0, "%s: `%s` is not in linux.devices", k->key, value);
  d = jnode_at (devs, (size_t)i);
  jnode_int (jnode_get (d, "major"), &ma);
  jnode_int (jnode_get (d, "minor"), &mi);
  r = device_rule_index (rules, jnode_string (jnode_get (d, "type")) ?: "", ma, mi);
  if (r >= 0)
    jnode_array_remove (rules, (size_t)r);
  jnode_array_remove (devs, (size_t)i);
  return 0;
}

char *
get_devices (struct key_ctx *k)
{
  json_node *devs = jnode_array_member (jnode_path (k->config, "linux", false), "devices", false);
  json_node *list = jnode_new_array ();
  char *out;
  for (size_t i = 0; i < jnode_len (devs); i++)
    jnode_append (list,
                  jnode_new_string (jnode_string (jnode_get (jnode_at (devs, i), "path")) ?: ""));
  out = join_strings (list);
  jnode_free (list);
  return out;
}

/* ------------------------------------------------------------ capabilities, seccomp */

/* "net_raw", "NET_RAW", "CAP_NET_RAW": "CAP_NET_RAW" when libcap knows it. */
static char *
cap_name (const char *s)
{
  char *c = xasprintf ("%s%s", strncasecmp (s, "CAP_", 4) == 0 ? "" : "CAP_", s);
  for (char *p = c; *p; p++)
    *p = (char)toupper ((unsigned char)*p);
  if (!process_cap_known (c))
    {
      free (c);
      return NULL;
    }
  return c;
}

void
config_caps_add (json_node *config, const char *cap)
{
  json_node *caps = jnode_path (config, "process.capabilities", true);
  for (size_t s = 0; s < 3; s++) /* bounding, effective, permitted */
    {
      json_node *set = jnode_array_member (caps, cap_sets[s], true);
      if (string_index (set, cap) < 0)
        jnode_append (set, jnode_new_string (cap));
    }
}

void
config_caps_drop (json_node *config, const char *cap)
{
  json_node *caps = jnode_path (config, "process.capabilities", false);
  for (size_t s = 0; cap_sets[s]; s++)
    {
      json_node *set = jnode_array_member (caps, cap_sets[s], false);
      ssize_t i = string_index (set, cap);
      if (i >= 0)
        jnode_array_remove (set, (size_t)i);
    }
}

static bool
has_cap (json_node *config, const char *cap)
{
  json_node *caps = jnode_path (config, "process.capabilities", false);
  return string_index (jnode_array_member (caps, "bounding", false), cap) >= 0;
}

void
config_seccomp_default (json_node *config)
{
  json_node *bounding
      = jnode_array_member (jnode_path (config, "process.capabilities", false), "bounding", false);
  size_t n = jnode_len (bounding);
  cleanup_free const char **caps = xzalloc ((n + 1) * sizeof (char *));
  cleanup_free char *text = NULL;
  json_node *doc;
  json_writer *w = json_writer_new (false);
  ctr_error_t err = NULL;

  for (size_t i = 0; i < n; i++)
    caps[i] = jnode_string (jnode_at (bounding, i)) ?: "";
  json_map_open (w);
  oci_seccomp_default_write (w, caps);
  json_map_close (w);
  text = json_writer_finish (w, NULL);
  doc = jnode_parse (text, "default seccomp profile", &err);
  if (doc == NULL)
    {
      /* our own writer's output: cannot happen */
      ctr_error_free (&err);
      return;
    }
  jnode_set (jnode_path (config, "linux", true), "seccomp", jnode_take (doc, "seccomp"));
  jnode_free (doc);
}

static int
set_cap (struct key_ctx *k, const char *value, bool add, ctr_error_t *err)
{
  cleanup_free char *cap = cap_name (value);
  if (cap == NULL)
    return ctr_error (err, 0, "%s: unknown capability `%s`", k->key, value);
  if (add)
    config_caps_add (k->config, cap);
  else
    config_caps_drop (k->config, cap);
  return 0;
}

int
set_cap_add (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_cap (k, value, true, err);
}

int
set_cap_drop (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_cap (k, value, false, err);
}

char *
get_caps (struct key_ctx *k)
{
  return join_strings (jnode_array_member (jnode_path (k->config, "process.capabilities", false),
                                           "bounding", false));
}

static int
parse_switch (struct key_ctx *k, const char *value, const char *on, const char *off, bool *out,
              ctr_error_t *err)
{
  if (strcmp (value, on) == 0)
    return *out = true, 0;
  if (strcmp (value, off) == 0)
    return *out = false, 0;
  return ctr_error (err, 0, "%s: `%s` is not %s or %s", k->key, value, on, off);
}

int
set_seccomp (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  bool on;
  if (parse_switch (k, value, "on", "off", &on, err) < 0)
    return -1;
  if (!on)
    jnode_remove (jnode_path (k->config, "linux", false), "seccomp");
  else
    config_seccomp_default (k->config);
  return 0;
}

char *
get_seccomp (struct key_ctx *k)
{
  return xstrdup (jnode_get (jnode_path (k->config, "linux", false), "seccomp") ? "on" : "off");
}

/* ------------------------------------------------------------ nesting */

static void
set_strings (json_node *obj, const char *key, const char *const *v)
{
  json_node *a = jnode_new_array ();
  for (; *v; v++)
    jnode_append (a, jnode_new_string (*v));
  jnode_set (obj, key, a);
}

/* The options of the mount at dest: "ro" made "rw" or back. */
static void
mount_writable (json_node *config, const char *dest, bool rw)
{
  json_node *mounts = jnode_array_member (config, "mounts", false);
  ssize_t i = mount_index (mounts, dest), o;
  json_node *opts;
  if (i < 0)
    return;
  opts = jnode_array_member (jnode_at (mounts, (size_t)i), "options", true);
  while ((o = string_index (opts, rw ? "ro" : "rw")) >= 0)
    jnode_array_remove (opts, (size_t)o);
  if (string_index (opts, rw ? "rw" : "ro") < 0)
    jnode_append (opts, jnode_new_string (rw ? "rw" : "ro"));
}

static bool
has_userns (json_node *config)
{
  json_node *nss = jnode_get (jnode_path (config, "linux", false), "namespaces");
  for (size_t i = 0; i < jnode_len (nss); i++)
    {
      const char *t = jnode_string (jnode_get (jnode_at (nss, i), "type"));
      if (t && strcmp (t, "user") == 0)
        return true;
    }
  return false;
}

/* LXC's nesting (nesting.conf: proc:rw sys:rw cgroup:rw, no AppArmor confinement) for
   ctr's containers, which have no user namespace: CAP_SYS_ADMIN, nothing masked or
   read-only in /proc, /sys and /sys/fs/cgroup writable, and the default seccomp profile
   (when there is one) made for the new bounding set, which allows mount(2). */
int
set_nesting (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *linux_;
  bool on;

  if (parse_switch (k, value, "true", "false", &on, err) < 0)
    return -1;
  linux_ = jnode_path (k->config, "linux", true);
  if (on)
    {
      config_caps_add (k->config, "CAP_SYS_ADMIN");
      jnode_remove (linux_, "maskedPaths");
      jnode_remove (linux_, "readonlyPaths");
    }
  else
    {
      /* an unprivileged container's root keeps it in its user namespace by default */
      if (!has_userns (k->config))
        config_caps_drop (k->config, "CAP_SYS_ADMIN");
      set_strings (linux_, "maskedPaths", oci_default_masked_paths);
      set_strings (linux_, "readonlyPaths", oci_default_readonly_paths);
    }
  mount_writable (k->config, "/sys", on);
  mount_writable (k->config, "/sys/fs/cgroup", on);
  if (jnode_get (linux_, "seccomp"))
    config_seccomp_default (k->config);
  return 0;
}

char *
get_nesting (struct key_ctx *k)
{
  json_node *linux_ = jnode_path (k->config, "linux", false);
  bool on = has_cap (k->config, "CAP_SYS_ADMIN")
            && jnode_len (jnode_get (linux_, "maskedPaths")) == 0
            && jnode_len (jnode_get (linux_, "readonlyPaths")) == 0;
  return xstrdup (on ? "true" : "false");
}
