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
#include "rootfs/lxcfs.h"
#include "system/config_keys_limits.h"
#include "system/config_keys_process.h"
#include "system/config_keys.h"

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

/* lxcfs's files over /proc and /sys at each start (rootfs/lxcfs.h): auto, true, false */
static int
set_lxcfs (struct key_ctx *k, const char *value, ctr_error_t *err)
{
  if (!lxcfs_mode_valid (value))
    return ctr_error (err, 0, "%s: `%s` is not auto (when lxcfs runs), true (required) or false",
                      k->key, value);
  free (k->meta->lxcfs);
  k->meta->lxcfs = strcmp (value, "auto") == 0 ? NULL : xstrdup (value);
  return 0;
}

static char *
get_lxcfs (struct key_ctx *k)
{
  return xstrdup (k->meta->lxcfs ?: "auto");
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
  { "lxcfs", get_lxcfs, set_lxcfs, true },
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
         "autostart.delay, autostart.group, lxcfs";
}
