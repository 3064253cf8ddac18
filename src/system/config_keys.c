/* config_keys: `ctr config NAME get|set KEY` for what users set in a system container's
   OCI config (limits, rlimits, env, hostname, mounts, devices, capabilities, seccomp,
   nesting) and its autostart settings; each value is checked when it is set. */
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
#include "process/cpulist.h"
#include "process/process.h"
#include "system/config_keys.h"

#define RES "linux.resources"
#define CPU_PERIOD 100000

/* What a system container's config.json masks and makes read-only (oci/spec.c), put back
   when nesting is turned off. */
static const char *const default_masked[] = { "/proc/acpi",
                                              "/proc/asound",
                                              "/proc/kcore",
                                              "/proc/keys",
                                              "/proc/latency_stats",
                                              "/proc/timer_list",
                                              "/proc/timer_stats",
                                              "/proc/sched_debug",
                                              "/proc/scsi",
                                              "/sys/firmware",
                                              "/sys/devices/virtual/powercap",
                                              NULL };
static const char *const default_readonly[]
    = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL };
static const char *const cap_sets[]
    = { "bounding", "effective", "permitted", "inheritable", "ambient", NULL };

struct key_ctx
{
  json_node *config;
  struct store_meta *meta;
  const char *key;  /* as given: "rlimit.NOFILE" */
  const char *name; /* after the prefix of a prefix key: "NOFILE" */
};

typedef char *(*key_get_fn) (struct key_ctx *k);
typedef int (*key_set_fn) (struct key_ctx *k, const char *value, ctr_error_t *err);

/* ------------------------------------------------------------ values */

static bool
is_none (const char *v)
{
  return *v == '\0' || strcmp (v, "max") == 0 || strcmp (v, "none") == 0 || strcmp (v, "-1") == 0;
}

/* "512M", "1G", "1048576": bytes (binary suffixes K, M, G, T, with an optional B/iB). */
static int
parse_bytes (const char *s, int64_t *out)
{
  char *end;
  double v;
  double mult = 1;

  errno = 0;
  v = strtod (s, &end);
  if (errno || end == s || !isdigit ((unsigned char)*s) || v <= 0)
    return -1;
  switch (toupper ((unsigned char)*end))
    {
    case 'K':
      mult = 1024.0, end++;
      break;
    case 'M':
      mult = 1024.0 * 1024, end++;
      break;
    case 'G':
      mult = 1024.0 * 1024 * 1024, end++;
      break;
    case 'T':
      mult = 1024.0 * 1024 * 1024 * 1024, end++;
      break;
    default:
      break;
    }
  if (mult > 1 && *end == 'i')
    end++;
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end != '\0' || v * mult >= 9.2e18)
    return -1;
  *out = (int64_t)(v * mult);
  return 0;
}

static char *
format_bytes (int64_t v)
{
  static const char units[] = "TGMK";
  for (int i = 0; i < 4; i++)
    {
      int64_t u = (int64_t)1 << (10 * (4 - i));
      if (v >= u && v % u == 0)
        return xasprintf ("%" PRId64 "%c", v / u, units[i]);
    }
  return xasprintf ("%" PRId64, v);
}

static int
parse_range (const char *s, int64_t lo, int64_t hi, int64_t *out)
{
  return parse_int64 (s, out) < 0 || *out < lo || *out > hi ? -1 : 0;
}

static char *
int_text (const json_node *n, const char *none)
{
  int64_t v;
  return jnode_int (n, &v) ? xasprintf ("%" PRId64, v) : xstrdup (none);
}

/* The string members of an array joined with commas. */
static char *
join_strings (const json_node *arr)
{
  size_t len = 1;
  char *out, *p;
  for (size_t i = 0; i < jnode_len (arr); i++)
    len += strlen (jnode_string (jnode_at (arr, i)) ?: "") + 1;
  p = out = xzalloc (len);
  for (size_t i = 0; i < jnode_len (arr); i++)
    {
      const char *s = jnode_string (jnode_at (arr, i));
      if (s)
        p += sprintf (p, "%s%s", p == out ? "" : ",", s);
    }
  return out;
}

static ssize_t
string_index (const json_node *arr, const char *s)
{
  for (size_t i = 0; i < jnode_len (arr); i++)
    if (strcmp (jnode_string (jnode_at (arr, i)) ?: "", s) == 0)
      return (ssize_t)i;
  return -1;
}

/* ------------------------------------------------------------ cgroup limits */

/* memory.limit / memory.swap: a size, or max/none (no limit). */
static int
set_memory_member (struct key_ctx *k, const char *member, const char *value, ctr_error_t *err)
{
  json_node *mem = jnode_path (k->config, RES ".memory", true);
  int64_t v, other;
  bool swap = strcmp (member, "swap") == 0;

  if (is_none (value))
    {
      jnode_remove (mem, member);
      jnode_prune (k->config, RES ".memory");
      return 0;
    }
  if (parse_bytes (value, &v) < 0)
    return ctr_error (err, 0, "%s: `%s` is not a size (bytes, or with K, M, G, T; or max)", k->key,
                      value);
  if (!swap && v < 4 * 1024 * 1024)
    return ctr_error (err, 0, "%s: `%s` is below the 4M an init needs", k->key, value);
  /* OCI's swap is memory + swap, as runc's --memory-swap: never below the memory limit */
  if (jnode_int (jnode_get (mem, swap ? "limit" : "swap"), &other) && other > 0
      && (swap ? v < other : v > other))
    return ctr_error (err, 0, "%s: `%s` %s swap (memory + swap) %s", k->key, value,
                      swap ? "is below memory" : "is above", format_bytes (other));
  jnode_set (mem, member, jnode_new_int (v));
  return 0;
}

static char *
get_memory_member (struct key_ctx *k, const char *member)
{
  int64_t v;
  if (jnode_int (jnode_get (jnode_path (k->config, RES ".memory", false), member), &v) && v > 0)
    return format_bytes (v);
  return xstrdup ("max");
}

static int
set_memory (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_memory_member (k, "limit", value, err);
}

static char *
get_memory (struct key_ctx *k)
{
  return get_memory_member (k, "limit");
}

static int
set_swap (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_memory_member (k, "swap", value, err);
}

static char *
get_swap (struct key_ctx *k)
{
  return get_memory_member (k, "swap");
}

/* cpus: quota over a 100 ms period. */
static int
set_cpus (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *cpu = jnode_path (k->config, RES ".cpu", true);
  char *end;
  double v;

  if (is_none (value))
    {
      jnode_remove (cpu, "quota");
      jnode_remove (cpu, "period");
      jnode_prune (k->config, RES ".cpu");
      return 0;
    }
  errno = 0;
  v = strtod (value, &end);
  if (errno || end == value || *end || !isdigit ((unsigned char)*value) || v < 0.01 || v > 1024)
    return ctr_error (err, 0, "%s: `%s` is not a number of CPUs (0.01-1024, e.g. 1.5; or max)",
                      k->key, value);
  jnode_set (cpu, "quota", jnode_new_int ((int64_t)(v * CPU_PERIOD + 0.5)));
  jnode_set (cpu, "period", jnode_new_int (CPU_PERIOD));
  return 0;
}

static char *
get_cpus (struct key_ctx *k)
{
  json_node *cpu = jnode_path (k->config, RES ".cpu", false);
  int64_t q, p;
  if (jnode_int (jnode_get (cpu, "quota"), &q) && q > 0)
    {
      if (!jnode_int (jnode_get (cpu, "period"), &p) || p <= 0)
        p = CPU_PERIOD;
      return xasprintf ("%g", (double)q / (double)p);
    }
  return xstrdup ("max");
}

/* cgroup v1 shares and v2 weight are one setting: OCI's cpu.shares, which the unified
   driver writes as a weight with crun's conversion. */
static uint64_t
shares_to_weight (uint64_t shares)
{
  return 1 + ((shares - 2) * 9999) / 262142;
}

static int
set_shares_value (struct key_ctx *k, const char *value, bool weight, ctr_error_t *err)
{
  json_node *cpu = jnode_path (k->config, RES ".cpu", true);
  int64_t v;

  if (is_none (value))
    {
      jnode_remove (cpu, "shares");
      jnode_prune (k->config, RES ".cpu");
      return 0;
    }
  if (weight ? parse_range (value, 1, 10000, &v) < 0 : parse_range (value, 2, 262144, &v) < 0)
    return ctr_error (err, 0, "%s: `%s` is not a number from %s", k->key, value,
                      weight ? "1 to 10000" : "2 to 262144");
  /* the smallest shares that convert back to this weight */
  if (weight)
    v = 2 + ((v - 1) * 262142 + 9998) / 9999;
  jnode_set (cpu, "shares", jnode_new_int (v));
  return 0;
}

static int
set_shares (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_shares_value (k, value, false, err);
}

static int
set_weight (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_shares_value (k, value, true, err);
}

static char *
get_shares (struct key_ctx *k)
{
  return int_text (jnode_get (jnode_path (k->config, RES ".cpu", false), "shares"), "default");
}

static char *
get_weight (struct key_ctx *k)
{
  int64_t v;
  if (jnode_int (jnode_get (jnode_path (k->config, RES ".cpu", false), "shares"), &v) && v >= 2
      && v <= 262144)
    return xasprintf ("%" PRIu64, shares_to_weight ((uint64_t)v));
  return xstrdup ("default");
}

static int
set_cpuset (struct key_ctx *k, const char *member, const char *value, ctr_error_t *err)
{
  json_node *cpu = jnode_path (k->config, RES ".cpu", true);
  cpu_set_t *set = NULL;
  size_t size;

  if (is_none (value))
    {
      jnode_remove (cpu, member);
      jnode_prune (k->config, RES ".cpu");
      return 0;
    }
  if (process_parse_cpu_list (value, &set, &size) < 0)
    return ctr_error (err, 0, "%s: `%s` is not a list like 0-2,5", k->key, value);
  CPU_FREE (set);
  jnode_set (cpu, member, jnode_new_string (value));
  return 0;
}

static int
set_cpuset_cpus (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_cpuset (k, "cpus", value, err);
}

static int
set_cpuset_mems (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_cpuset (k, "mems", value, err);
}

static char *
get_cpuset_member (struct key_ctx *k, const char *member)
{
  const char *s = jnode_string (jnode_get (jnode_path (k->config, RES ".cpu", false), member));
  return xstrdup (s ? s : "all");
}

static char *
get_cpuset_cpus (struct key_ctx *k)
{
  return get_cpuset_member (k, "cpus");
}

static char *
get_cpuset_mems (struct key_ctx *k)
{
  return get_cpuset_member (k, "mems");
}

static int
set_pids (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *pids = jnode_path (k->config, RES ".pids", true);
  int64_t v;

  if (is_none (value))
    {
      jnode_remove (pids, "limit");
      jnode_prune (k->config, RES ".pids");
      return 0;
    }
  if (parse_range (value, 1, 4194304, &v) < 0)
    return ctr_error (err, 0, "%s: `%s` is not a number of processes (1-4194304, or max)", k->key,
                      value);
  jnode_set (pids, "limit", jnode_new_int (v));
  return 0;
}

static char *
get_pids (struct key_ctx *k)
{
  int64_t v;
  if (jnode_int (jnode_get (jnode_path (k->config, RES ".pids", false), "limit"), &v) && v > 0)
    return xasprintf ("%" PRId64, v);
  return xstrdup ("max");
}

static int
set_blkio_weight (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *b = jnode_path (k->config, RES ".blockIO", true);
  int64_t v;

  if (is_none (value))
    {
      jnode_remove (b, "weight");
      jnode_prune (k->config, RES ".blockIO");
      return 0;
    }
  if (parse_range (value, 10, 1000, &v) < 0)
    return ctr_error (err, 0, "%s: `%s` is not a number from 10 to 1000", k->key, value);
  /* v1 weights come with an I/O scheduler (BFQ); without one start would fail */
  if (access ("/sys/fs/cgroup/blkio", F_OK) == 0
      && access ("/sys/fs/cgroup/blkio/blkio.weight", F_OK) < 0
      && access ("/sys/fs/cgroup/blkio/blkio.bfq.weight", F_OK) < 0)
    return ctr_error (err, ENOTSUP,
                      "%s: `%s`: this host's blkio controller has no weights (they need the BFQ "
                      "I/O scheduler)",
                      k->key, value);
  jnode_set (b, "weight", jnode_new_int (v));
  return 0;
}

static char *
get_blkio_weight (struct key_ctx *k)
{
  return int_text (jnode_get (jnode_path (k->config, RES ".blockIO", false), "weight"), "default");
}

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

static int
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

static char *
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

static char *
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

static int
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

static char *
get_env (struct key_ctx *k)
{
  json_node *env = jnode_array_member (jnode_path (k->config, "process", false), "env", false);
  ssize_t i = env_index (env, k->name);
  return i < 0 ? NULL : xstrdup (jnode_string (jnode_at (env, (size_t)i)) + strlen (k->name) + 1);
}

static int
set_env_unset (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *env = jnode_array_member (jnode_path (k->config, "process", true), "env", false);
  ssize_t i = env_index (env, value);
  if (i < 0)
    return ctr_error (err, 0, "%s: `%s` is not set", k->key, value);
  jnode_array_remove (env, (size_t)i);
  return 0;
}

static int
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

static char *
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

static int
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

static int
set_mount_rm (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *mounts = jnode_array_member (k->config, "mounts", false);
  ssize_t i = mount_index (mounts, value);
  if (i < 0 || !mount_is_bind (jnode_at (mounts, (size_t)i)))
    return ctr_error (err, 0, "%s: no bind mount at `%s`", k->key, value);
  jnode_array_remove (mounts, (size_t)i);
  return 0;
}

static char *
get_mounts (struct key_ctx *k)
{
  json_node *mounts = jnode_array_member (k->config, "mounts", false);
  json_node *list = jnode_new_array ();
  char *out;
  for (size_t i = 0; i < jnode_len (mounts); i++)
    {
      json_node *m = jnode_at (mounts, i);
      cleanup_free char *t = NULL;
      if (!mount_is_bind (m))
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

static int
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

static int
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

static char *
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

static void
caps_add (json_node *config, const char *cap)
{
  json_node *caps = jnode_path (config, "process.capabilities", true);
  for (size_t s = 0; s < 3; s++) /* bounding, effective, permitted */
    {
      json_node *set = jnode_array_member (caps, cap_sets[s], true);
      if (string_index (set, cap) < 0)
        jnode_append (set, jnode_new_string (cap));
    }
}

static void
caps_drop (json_node *config, const char *cap)
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

/* The default profile for the bounding set the config has now. */
static void
seccomp_write_default (json_node *config)
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
    caps_add (k->config, cap);
  else
    caps_drop (k->config, cap);
  return 0;
}

static int
set_cap_add (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_cap (k, value, true, err);
}

static int
set_cap_drop (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  return set_cap (k, value, false, err);
}

static char *
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

static int
set_seccomp (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  bool on;
  if (parse_switch (k, value, "on", "off", &on, err) < 0)
    return -1;
  if (!on)
    jnode_remove (jnode_path (k->config, "linux", false), "seccomp");
  else
    seccomp_write_default (k->config);
  return 0;
}

static char *
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

/* LXC's nesting (nesting.conf: proc:rw sys:rw cgroup:rw, no AppArmor confinement) for
   ctr's containers, which have no user namespace: CAP_SYS_ADMIN, nothing masked or
   read-only in /proc, /sys and /sys/fs/cgroup writable, and the default seccomp profile
   (when there is one) made for the new bounding set, which allows mount(2). */
static int
set_nesting (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  json_node *linux_;
  bool on;

  if (parse_switch (k, value, "true", "false", &on, err) < 0)
    return -1;
  linux_ = jnode_path (k->config, "linux", true);
  if (on)
    {
      caps_add (k->config, "CAP_SYS_ADMIN");
      jnode_remove (linux_, "maskedPaths");
      jnode_remove (linux_, "readonlyPaths");
    }
  else
    {
      caps_drop (k->config, "CAP_SYS_ADMIN");
      set_strings (linux_, "maskedPaths", default_masked);
      set_strings (linux_, "readonlyPaths", default_readonly);
    }
  mount_writable (k->config, "/sys", on);
  mount_writable (k->config, "/sys/fs/cgroup", on);
  if (jnode_get (linux_, "seccomp"))
    seccomp_write_default (k->config);
  return 0;
}

static char *
get_nesting (struct key_ctx *k)
{
  json_node *linux_ = jnode_path (k->config, "linux", false);
  bool on = has_cap (k->config, "CAP_SYS_ADMIN")
            && jnode_len (jnode_get (linux_, "maskedPaths")) == 0
            && jnode_len (jnode_get (linux_, "readonlyPaths")) == 0;
  return xstrdup (on ? "true" : "false");
}

/* ------------------------------------------------------------ autostart (ctr.json) */

static int
set_autostart_order (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  int64_t v;
  if (parse_range (value, -100000, 100000, &v) < 0)
    return ctr_error (err, 0, "%s: `%s` is not a whole number (-100000 to 100000)", k->key, value);
  k->meta->autostart_order = (int)v;
  return 0;
}

static char *
get_autostart_order (struct key_ctx *k)
{
  return xasprintf ("%d", k->meta->autostart_order);
}

static int
set_autostart_delay (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  int64_t v;
  if (parse_range (value, 0, 3600, &v) < 0)
    return ctr_error (err, 0, "%s: `%s` is not a number of seconds (0-3600)", k->key, value);
  k->meta->autostart_delay = (int)v;
  return 0;
}

static char *
get_autostart_delay (struct key_ctx *k)
{
  return xasprintf ("%d", k->meta->autostart_delay);
}

static int
set_autostart_group (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  if (*value && validate_container_id (value, NULL) < 0)
    return ctr_error (err, 0, "%s: `%s` is not a group name (letters, digits, _ + . -)", k->key,
                      value);
  free (k->meta->autostart_group);
  k->meta->autostart_group = *value ? xstrdup (value) : NULL;
  return 0;
}

static char *
get_autostart_group (struct key_ctx *k)
{
  return xstrdup (k->meta->autostart_group ?: "");
}

/* ------------------------------------------------------------ the table */

static const struct config_key
{
  const char *name; /* ending in '.': a prefix for a NAME (rlimit.NOFILE, env.PATH) */
  key_get_fn get;   /* NULL: an action (mount.add); its listing is another key's */
  key_set_fn set;   /* NULL: read-only (mounts, devices, caps) */
  bool meta;        /* ctr.json, not config.json */
} keys[] = {
  { "memory", get_memory, set_memory, false },
  { "swap", get_swap, set_swap, false },
  { "cpus", get_cpus, set_cpus, false },
  { "cpu.shares", get_shares, set_shares, false },
  { "cpu.weight", get_weight, set_weight, false },
  { "cpuset.cpus", get_cpuset_cpus, set_cpuset_cpus, false },
  { "cpuset.mems", get_cpuset_mems, set_cpuset_mems, false },
  { "pids", get_pids, set_pids, false },
  { "blkio.weight", get_blkio_weight, set_blkio_weight, false },
  { "rlimit.", get_rlimit, set_rlimit, false },
  { "env.unset", NULL, set_env_unset, false },
  { "env.", get_env, set_env, false },
  { "hostname", get_hostname, set_hostname, false },
  { "mounts", get_mounts, NULL, false },
  { "mount.add", NULL, set_mount_add, false },
  { "mount.rm", NULL, set_mount_rm, false },
  { "devices", get_devices, NULL, false },
  { "device.add", NULL, set_device_add, false },
  { "device.rm", NULL, set_device_rm, false },
  { "caps", get_caps, NULL, false },
  { "cap.add", NULL, set_cap_add, false },
  { "cap.drop", NULL, set_cap_drop, false },
  { "seccomp", get_seccomp, set_seccomp, false },
  { "nesting", get_nesting, set_nesting, false },
  { "autostart.order", get_autostart_order, set_autostart_order, true },
  { "autostart.delay", get_autostart_delay, set_autostart_delay, true },
  { "autostart.group", get_autostart_group, set_autostart_group, true },
};

static const struct config_key *
find_key (const char *key, const char **name)
{
  for (size_t i = 0; i < ARRAY_SIZE (keys); i++)
    {
      size_t n = strlen (keys[i].name);
      if (keys[i].name[n - 1] == '.' ? strncmp (key, keys[i].name, n) == 0 && key[n] != '\0'
                                     : strcmp (key, keys[i].name) == 0)
        {
          *name = key + (keys[i].name[n - 1] == '.' ? n : strlen (key));
          return &keys[i];
        }
    }
  return NULL;
}

bool
config_key_known (const char *key)
{
  const char *name;
  return find_key (key, &name) != NULL;
}

bool
config_key_in_config (const char *key)
{
  const char *name;
  const struct config_key *k = find_key (key, &name);
  return k && !k->meta;
}

int
config_key_get (json_node *config, const struct store_meta *m, const char *key, char **out,
                ctr_error_t *err)
{
  struct key_ctx c = { .config = config, .meta = (struct store_meta *)m, .key = key };
  const struct config_key *k = find_key (key, &c.name);

  if (k == NULL)
    return ctr_error (err, 0, "unknown key `%s`", key);
  if (k->get == NULL)
    return ctr_error (err, 0, "`%s` is set only (get %s shows the result)", key,
                      strncmp (key, "mount", 5) == 0    ? "mounts"
                      : strncmp (key, "device", 6) == 0 ? "devices"
                      : strncmp (key, "cap", 3) == 0    ? "caps"
                                                        : "with no KEY");
  *out = k->get (&c);
  if (*out == NULL)
    return ctr_error (err, 0, "%s: not set", key);
  return 0;
}

int
config_key_set (json_node *config, struct store_meta *m, const char *key, const char *value,
                ctr_error_t *err)
{
  struct key_ctx c = { .config = config, .meta = m, .key = key };
  const struct config_key *k = find_key (key, &c.name);

  if (k == NULL)
    return ctr_error (err, 0, "unknown key `%s`", key);
  if (k->set == NULL)
    return ctr_error (err, 0, "`%s` is read-only (change it with %s)", key,
                      strcmp (key, "mounts") == 0    ? "mount.add and mount.rm"
                      : strcmp (key, "devices") == 0 ? "device.add and device.rm"
                                                     : "cap.add and cap.drop");
  if (!jnode_is_object (config))
    return ctr_error (err, 0, "config.json is not a JSON object");
  return k->set (&c, value, err);
}

static void
list_line (FILE *f, const char *key, const char *value)
{
  fprintf (f, "%s = %s\n", key, value);
}

char *
config_keys_list (json_node *config, const struct store_meta *m)
{
  struct key_ctx c = { .config = config, .meta = (struct store_meta *)m };
  json_node *env = jnode_array_member (jnode_path (config, "process", false), "env", false);
  json_node *rl = jnode_array_member (jnode_path (config, "process", false), "rlimits", false);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);

  for (size_t i = 0; i < ARRAY_SIZE (keys); i++)
    {
      cleanup_free char *v = NULL;
      if (keys[i].get == NULL || keys[i].name[strlen (keys[i].name) - 1] == '.')
        continue;
      c.key = c.name = keys[i].name;
      v = keys[i].get (&c);
      list_line (f, keys[i].name, v ? v : "");
    }
  for (size_t i = 0; i < jnode_len (rl); i++)
    {
      const char *t = jnode_string (jnode_get (jnode_at (rl, i), "type")) ?: "RLIMIT_?";
      cleanup_free char *key = xasprintf ("rlimit.%s", t + 7);
      cleanup_free char *v = rlimit_text (jnode_at (rl, i));
      list_line (f, key, v);
    }
  for (size_t i = 0; i < jnode_len (env); i++)
    {
      const char *s = jnode_string (jnode_at (env, i));
      if (s && strchr (s, '='))
        fprintf (f, "env.%.*s = %s\n", (int)(strchr (s, '=') - s), s, strchr (s, '=') + 1);
    }
  fclose (f);
  return buf;
}

const char *
config_keys_names (void)
{
  return "memory, swap, cpus, cpu.shares, cpu.weight, cpuset.cpus, cpuset.mems, pids, "
         "blkio.weight, rlimit.NAME, env.NAME, env.unset, hostname, mount.add, mount.rm, "
         "device.add, device.rm, cap.add, cap.drop, seccomp, nesting, autostart.order, "
         "autostart.delay, autostart.group; read-only: mounts, devices, caps";
}

/* ------------------------------------------------------------ ctr update --persist */

/* Members of from copied into to, objects merged member by member. */
static void
merge_into (json_node *to, const json_node *from)
{
  for (size_t i = 0; i < jnode_len (from); i++)
    {
      const char *key = jnode_key_at (from, i);
      const json_node *v = jnode_value_at (from, i);
      if (jnode_is_object (v) && jnode_is_object (jnode_get (to, key)))
        merge_into (jnode_get (to, key), v);
      else
        jnode_set (to, key, jnode_copy (v));
    }
}

struct persist_flag
{
  size_t field;
  const char *path, *member;
  bool size;
};

#define FLAG(f) offsetof (struct container_update_options, f)
static const struct persist_flag persist_flags[] = {
  { FLAG (memory), RES ".memory", "limit", true },
  { FLAG (memory_swap), RES ".memory", "swap", true },
  { FLAG (memory_reservation), RES ".memory", "reservation", true },
  { FLAG (cpu_shares), RES ".cpu", "shares", false },
  { FLAG (cpu_quota), RES ".cpu", "quota", false },
  { FLAG (cpu_period), RES ".cpu", "period", false },
  { FLAG (cpu_rt_period), RES ".cpu", "realtimePeriod", false },
  { FLAG (cpu_rt_runtime), RES ".cpu", "realtimeRuntime", false },
  { FLAG (pids_limit), RES ".pids", "limit", false },
  { FLAG (blkio_weight), RES ".blockIO", "weight", false },
};

int
config_keys_persist_update (json_node *config, const struct container_update_options *o,
                            ctr_error_t *err)
{
  if (o->resources_json)
    {
      cleanup_free char *text = xstrndup (o->resources_json, o->resources_json_len);
      json_node *res = jnode_parse (text, "resources", err);
      if (res == NULL)
        return -1;
      merge_into (jnode_path (config, RES, true), res);
      jnode_free (res);
    }
  for (size_t i = 0; i < ARRAY_SIZE (persist_flags); i++)
    {
      const struct persist_flag *f = &persist_flags[i];
      const char *v = *(const char *const *)((const char *)o + f->field);
      int64_t n;
      if (v == NULL)
        continue;
      if (strcmp (v, "-1") == 0 && f->size)
        n = -1;
      else if (f->size ? parse_bytes (v, &n) < 0 : parse_int64 (v, &n) < 0)
        return ctr_error (err, 0, "`%s` is not a number", v);
      jnode_set (jnode_path (config, f->path, true), f->member, jnode_new_int (n));
    }
  if (o->cpuset_cpus)
    jnode_set (jnode_path (config, RES ".cpu", true), "cpus", jnode_new_string (o->cpuset_cpus));
  if (o->cpuset_mems)
    jnode_set (jnode_path (config, RES ".cpu", true), "mems", jnode_new_string (o->cpuset_mems));
  return 0;
}
