/* oci/process: the `process` object of config.json (also a standalone process.json). */
#include <config.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "oci/sections.h"
#include "base/util.h"

static const struct
{
  const char *name;
  int resource;
} rlimit_names[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

static const char *const io_priority_classes[]
    = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE", NULL };

static const char *const sched_policies[]
    = { "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",       "SCHED_BATCH",
        "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE", NULL };

static const char *const sched_flags[] = { "SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",
                                           "SCHED_FLAG_DL_OVERRUN",     "SCHED_FLAG_KEEP_POLICY",
                                           "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
                                           "SCHED_FLAG_UTIL_CLAMP_MAX", NULL };

static int
rlimit_resource (const char *name)
{
  size_t i;
  for (i = 0; i < ARRAY_SIZE (rlimit_names); i++)
    if (strcmp (rlimit_names[i].name, name) == 0)
      return rlimit_names[i].resource;
  return -1;
}

bool
oci_rlimit_known (const char *name)
{
  return rlimit_resource (name) >= 0;
}

static int
parse_gid (struct oci_pctx *c, const struct json_value *v, void *elem, size_t index)
{
  uint64_t g;
  if (oci_val_u64 (c, v, UINT32_MAX, &g) < 0)
    return -1;
  *(uint32_t *)elem = (uint32_t)g;
  return 0;
}

static int
parse_user (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_user *u = out;

  if (oci_get_u32 (c, o, "uid", &u->uid, &(bool){ 0 }) < 0
      || oci_get_u32 (c, o, "gid", &u->gid, &(bool){ 0 }) < 0
      || oci_get_u32 (c, o, "umask", &u->umask, &u->has_umask) < 0
      || oci_parse_array (c, o, "additionalGids", &u->additional_gids, sizeof (uint32_t),
                          &u->additional_gids_len, parse_gid)
             < 0)
    return -1;
  if (u->has_umask && u->umask > 07777)
    return oci_perr_key (c, "umask", "value %o is not a valid umask", u->umask);
  return 0;
}

static int
parse_capabilities (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_process *p = out;
  struct oci_capabilities *caps = p->capabilities = xzalloc (sizeof (*caps));

  if (oci_get_strv (c, o, "bounding", &caps->bounding, &caps->bounding_len) < 0
      || oci_get_strv (c, o, "effective", &caps->effective, &caps->effective_len) < 0
      || oci_get_strv (c, o, "inheritable", &caps->inheritable, &caps->inheritable_len) < 0
      || oci_get_strv (c, o, "permitted", &caps->permitted, &caps->permitted_len) < 0
      || oci_get_strv (c, o, "ambient", &caps->ambient, &caps->ambient_len) < 0)
    return -1;
  return 0;
}

static int
parse_rlimit (struct oci_pctx *c, const struct json_value *v, void *elem, size_t idx)
{
  struct oci_rlimit *rl = elem, *all = rl - idx;
  size_t j;

  if (oci_expect_object (c, v) < 0 || oci_get_string (c, v, "type", &rl->type, NULL) < 0
      || oci_get_u64 (c, v, "soft", UINT64_MAX, &rl->soft, NULL) < 0
      || oci_get_u64 (c, v, "hard", UINT64_MAX, &rl->hard, NULL) < 0)
    return -1;
  rl->resource = rlimit_resource (rl->type);
  if (rl->resource < 0)
    return oci_perr_key (c, "type", "unknown rlimit \"%s\"", rl->type);
  for (j = 0; j < idx; j++)
    if (all[j].resource == rl->resource)
      return oci_perr_key (c, "type", "duplicate rlimit \"%s\"", rl->type);
  if (rl->soft > rl->hard)
    return oci_perr (c, "soft limit %" PRIu64 " is greater than hard limit %" PRIu64, rl->soft,
                     rl->hard);
  return 0;
}

static int
parse_io_priority (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_process *p = out;
  struct oci_io_priority *io = p->io_priority = xzalloc (sizeof (*io));

  if (oci_get_string (c, o, "class", &io->class_, NULL) < 0
      || oci_get_int (c, o, "priority", 0, 7, &io->priority, &(bool){ 0 }) < 0)
    return -1;
  if (!oci_str_in (io->class_, io_priority_classes))
    return oci_perr_key (c, "class", "unknown io priority class \"%s\"", io->class_);
  return 0;
}

static int
check_sched_flags (struct oci_pctx *c, const struct oci_scheduler *s)
{
  size_t i;
  for (i = 0; i < s->flags_len; i++)
    if (!oci_str_in (s->flags[i], sched_flags))
      return oci_perr_entry (c, "flags", NULL, i, "unknown scheduler flag \"%s\"", s->flags[i]);
  return 0;
}

static int
parse_scheduler (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_process *p = out;
  struct oci_scheduler *s = p->scheduler = xzalloc (sizeof (*s));
  int64_t v;

  if (oci_get_string (c, o, "policy", &s->policy, NULL) < 0
      || oci_get_i64 (c, o, "nice", -20, 19, &v, &s->has_nice) < 0)
    return -1;
  s->nice = s->has_nice ? (int32_t)v : 0;
  if (oci_get_i64 (c, o, "priority", INT32_MIN, INT32_MAX, &v, &s->has_priority) < 0)
    return -1;
  s->priority = s->has_priority ? (int32_t)v : 0;
  if (oci_get_strv (c, o, "flags", &s->flags, &s->flags_len) < 0
      || oci_get_u64 (c, o, "runtime", UINT64_MAX, &s->runtime, &s->has_runtime) < 0
      || oci_get_u64 (c, o, "deadline", UINT64_MAX, &s->deadline, &s->has_deadline) < 0
      || oci_get_u64 (c, o, "period", UINT64_MAX, &s->period, &s->has_period) < 0)
    return -1;
  if (!oci_str_in (s->policy, sched_policies))
    return oci_perr_key (c, "policy", "unknown scheduler policy \"%s\"", s->policy);
  return check_sched_flags (c, s);
}

/* "0-3,7": what the kernel's cpulist parser takes; checked here to name the key. */
static bool
valid_cpu_list (const char *s)
{
  while (*s)
    {
      const char *start = s;
      while (*s >= '0' && *s <= '9')
        s++;
      if (s == start)
        return false;
      if (*s == '-')
        {
          start = ++s;
          while (*s >= '0' && *s <= '9')
            s++;
          if (s == start)
            return false;
        }
      if (*s == ',' && s[1] != '\0')
        s++;
      else if (*s != '\0')
        return false;
    }
  return true;
}

static int
parse_exec_cpu_affinity (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_process *p = out;
  struct oci_exec_cpu_affinity *a = p->exec_cpu_affinity = xzalloc (sizeof (*a));

  if (oci_get_string (c, o, "initial", &a->initial, &(bool){ 0 }) < 0
      || oci_get_string (c, o, "final", &a->final, &(bool){ 0 }) < 0)
    return -1;
  if (a->initial && !valid_cpu_list (a->initial))
    return oci_perr_key (c, "initial", "invalid cpu list \"%s\"", a->initial);
  if (a->final && !valid_cpu_list (a->final))
    return oci_perr_key (c, "final", "invalid cpu list \"%s\"", a->final);
  return 0;
}

static int
parse_console_size (struct oci_pctx *c, const struct json_value *o, void *out)
{
  struct oci_process *p = out;
  uint64_t h = 0, w = 0;
  int r = 0;

  /* struct winsize holds unsigned shorts. */
  if (oci_get_u64 (c, o, "height", UINT16_MAX, &h, NULL) < 0
      || oci_get_u64 (c, o, "width", UINT16_MAX, &w, NULL) < 0)
    r = -1;
  p->has_console_size = r == 0;
  p->console_height = (uint32_t)h;
  p->console_width = (uint32_t)w;
  return r;
}

static int
parse_process_scalars (struct oci_pctx *c, const struct json_value *v, struct oci_process *p)
{
  bool has;
  if (oci_get_bool (c, v, "terminal", &p->terminal, &has) < 0
      || oci_get_strv (c, v, "args", &p->args, &p->args_len) < 0
      || oci_get_strv (c, v, "env", &p->env, &p->env_len) < 0
      || oci_get_string (c, v, "cwd", &p->cwd, NULL) < 0
      || oci_get_bool (c, v, "noNewPrivileges", &p->no_new_privileges, &has) < 0
      || oci_get_string (c, v, "apparmorProfile", &p->apparmor_profile, &has) < 0
      || oci_get_int (c, v, "oomScoreAdj", -1000, 1000, &p->oom_score_adj, &p->has_oom_score_adj)
             < 0
      || oci_get_string (c, v, "selinuxLabel", &p->selinux_label, &has) < 0)
    return -1;
  if (p->args_len == 0)
    return oci_perr_key (c, "args", "must contain at least one element");
  if (!oci_path_is_absolute (p->cwd))
    return oci_perr_key (c, "cwd", "must be an absolute path, got \"%s\"", p->cwd);
  return 0;
}

int
oci_parse_process (struct oci_pctx *c, const struct json_value *v, struct oci_process **out)
{
  struct oci_process *p;

  if (oci_expect_object (c, v) < 0)
    return -1;
  p = xzalloc (sizeof (*p));
  if (parse_process_scalars (c, v, p) < 0
      || oci_parse_object (c, v, "consoleSize", parse_console_size, p) < 0
      || oci_parse_object (c, v, "user", parse_user, &p->user) < 0
      || oci_parse_object (c, v, "capabilities", parse_capabilities, p) < 0
      || oci_parse_array (c, v, "rlimits", &p->rlimits, sizeof (*p->rlimits), &p->rlimits_len,
                          parse_rlimit)
             < 0
      || oci_parse_object (c, v, "ioPriority", parse_io_priority, p) < 0
      || oci_parse_object (c, v, "scheduler", parse_scheduler, p) < 0
      || oci_parse_object (c, v, "execCPUAffinity", parse_exec_cpu_affinity, p) < 0)
    {
      oci_process_free (p);
      return -1;
    }
  *out = p;
  return 0;
}

static void
capabilities_free (struct oci_capabilities *caps)
{
  if (caps == NULL)
    return;
  strv_free (caps->bounding);
  strv_free (caps->effective);
  strv_free (caps->inheritable);
  strv_free (caps->permitted);
  strv_free (caps->ambient);
  free (caps);
}

void
oci_process_free (struct oci_process *p)
{
  size_t i;
  if (p == NULL)
    return;
  free (p->user.additional_gids);
  strv_free (p->args);
  strv_free (p->env);
  free (p->cwd);
  capabilities_free (p->capabilities);
  for (i = 0; p->rlimits && i < p->rlimits_len; i++)
    free (p->rlimits[i].type);
  free (p->rlimits);
  free (p->apparmor_profile);
  free (p->selinux_label);
  if (p->io_priority)
    free (p->io_priority->class_);
  free (p->io_priority);
  if (p->scheduler)
    {
      free (p->scheduler->policy);
      strv_free (p->scheduler->flags);
    }
  free (p->scheduler);
  if (p->exec_cpu_affinity)
    {
      free (p->exec_cpu_affinity->initial);
      free (p->exec_cpu_affinity->final);
    }
  free (p->exec_cpu_affinity);
  free (p);
}

int
oci_process_parse (const char *data, size_t len, const char *origin, struct oci_process **out,
                   ctr_error_t *err)
{
  struct oci_pctx c;
  json_value *root;
  int r;

  root = oci_parse_begin (&c, data, len, origin ? origin : "process.json", err);
  if (root == NULL)
    return -1;
  r = oci_parse_process (&c, root, out);
  json_value_free (root);
  return r;
}
