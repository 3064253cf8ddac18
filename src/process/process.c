/* process: the parent-side plan — process.* and linux.personality resolved before any clone. */
#include <config.h>
#include <ctype.h>
#include <fcntl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/statfs.h>

#include "base/log.h"
#include "process/process-internal.h"
#include "base/util.h"

#define SELINUX_MAGIC 0xf97cff8c

static const char *const capset_keys[PROCESS_CAP_SETS] = {
  [PROCESS_CAP_BOUNDING] = "bounding",   [PROCESS_CAP_EFFECTIVE] = "effective",
  [PROCESS_CAP_PERMITTED] = "permitted", [PROCESS_CAP_INHERITABLE] = "inheritable",
  [PROCESS_CAP_AMBIENT] = "ambient",
};

bool
process_cap_known (const char *name)
{
  cap_value_t v;
  return strncasecmp (name, "CAP_", 4) == 0 && cap_from_name (name, &v) == 0 && v >= 0 && v < 64;
}

/* Resolves one list of names; names the running kernel does not know are skipped with a
   warning (like runc), names nobody knows are an error. */
static int
caps_resolve (char *const *names, size_t n, enum process_capset set, int cap_last, uint64_t *mask,
              ctr_error_t *err)
{
  size_t i;

  for (i = 0; i < n; i++)
    {
      cap_value_t v;

      if (!process_cap_known (names[i]) || cap_from_name (names[i], &v) < 0)
        return ctr_error (err, 0, "process.capabilities.%s[%zu]: unknown capability `%s`",
                          capset_keys[set], i, names[i]);
      if (v > cap_last)
        {
          ctr_log_warning ("process.capabilities.%s[%zu]: capability `%s` is not supported by "
                           "the running kernel, ignored",
                           capset_keys[set], i, names[i]);
          continue;
        }
      *mask |= PROCESS_CAP_BIT (v);
    }
  return 0;
}

static int
plan_caps (struct process_plan *plan, const struct oci_capabilities *c, ctr_error_t *err)
{
  char *const *lists[PROCESS_CAP_SETS];
  size_t lens[PROCESS_CAP_SETS];
  uint64_t stray;
  int s;

  plan->cap_last = cap_max_bits () - 1;
  if (plan->cap_last > 63)
    plan->cap_last = 63;
  if (c == NULL)
    return 0; /* no capabilities object: the process ends with none at all */

  lists[PROCESS_CAP_BOUNDING] = c->bounding, lens[PROCESS_CAP_BOUNDING] = c->bounding_len;
  lists[PROCESS_CAP_EFFECTIVE] = c->effective, lens[PROCESS_CAP_EFFECTIVE] = c->effective_len;
  lists[PROCESS_CAP_PERMITTED] = c->permitted, lens[PROCESS_CAP_PERMITTED] = c->permitted_len;
  lists[PROCESS_CAP_INHERITABLE] = c->inheritable;
  lens[PROCESS_CAP_INHERITABLE] = c->inheritable_len;
  lists[PROCESS_CAP_AMBIENT] = c->ambient, lens[PROCESS_CAP_AMBIENT] = c->ambient_len;
  for (s = 0; s < PROCESS_CAP_SETS; s++)
    if (caps_resolve (lists[s], lens[s], s, plan->cap_last, &plan->caps[s], err) < 0)
      return -1;

  /* The kernel refuses an ambient capability that is not both permitted and inheritable;
     runc drops it silently (runc spec itself lists such sets), so only --debug says so. */
  stray = plan->caps[PROCESS_CAP_AMBIENT]
          & ~(plan->caps[PROCESS_CAP_PERMITTED] & plan->caps[PROCESS_CAP_INHERITABLE]);
  if (stray)
    {
      for (s = 0; s <= plan->cap_last; s++)
        if (stray & PROCESS_CAP_BIT (s))
          {
            char *name = cap_to_name (s), *p;
            for (p = name; p && *p; p++)
              *p = (char)toupper ((unsigned char)*p);
            ctr_log_debug ("process.capabilities.ambient: `%s` is not both permitted and "
                           "inheritable, ignored",
                           name ? name : "?");
            cap_free (name);
          }
      plan->caps[PROCESS_CAP_AMBIENT] &= ~stray;
    }
  return 0;
}

static const struct
{
  const char *name;
  int resource;
} rlimit_names[] = {
  { "RLIMIT_CPU", RLIMIT_CPU },           { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_DATA", RLIMIT_DATA },         { "RLIMIT_STACK", RLIMIT_STACK },
  { "RLIMIT_CORE", RLIMIT_CORE },         { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_NPROC", RLIMIT_NPROC },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },   { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },       { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },     { "RLIMIT_RTTIME", RLIMIT_RTTIME },
};

static int
plan_rlimits (struct process_plan *plan, const struct oci_process *proc, ctr_error_t *err)
{
  size_t i, j, k;

  plan->rlimits = xzalloc (proc->rlimits_len * sizeof (*plan->rlimits));
  for (i = 0; i < proc->rlimits_len; i++)
    {
      const struct oci_rlimit *r = &proc->rlimits[i];
      struct process_rlimit *out = &plan->rlimits[i];

      for (k = 0; k < ARRAY_SIZE (rlimit_names); k++)
        if (r->type && strcmp (r->type, rlimit_names[k].name) == 0)
          break;
      if (k == ARRAY_SIZE (rlimit_names))
        return ctr_error (err, 0, "process.rlimits[%zu].type: unknown rlimit `%s`", i,
                          r->type ? r->type : "");
      if (r->soft > r->hard)
        return ctr_error (err, 0,
                          "process.rlimits[%zu]: soft limit %" PRIu64
                          " of %s is above its hard limit %" PRIu64,
                          i, r->soft, r->type, r->hard);
      for (j = 0; j < i; j++)
        if (plan->rlimits[j].resource == rlimit_names[k].resource)
          return ctr_error (err, 0, "process.rlimits[%zu]: duplicate type %s", i, r->type);
      out->resource = rlimit_names[k].resource;
      out->name = rlimit_names[k].name;
      /* RLIM_INFINITY is all ones, exactly what the spec's maximum uint64 means */
      out->limit.rlim_cur = (rlim_t)r->soft;
      out->limit.rlim_max = (rlim_t)r->hard;
      plan->rlimits_len++;
    }
  return 0;
}

static const struct
{
  const char *name;
  unsigned long value;
} personality_flags[] = {
  { "ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE }, { "ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT },
  { "READ_IMPLIES_EXEC", READ_IMPLIES_EXEC }, { "ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT },
  { "ADDR_LIMIT_3GB", ADDR_LIMIT_3GB },       { "SHORT_INODE", SHORT_INODE },
  { "WHOLE_SECONDS", WHOLE_SECONDS },         { "STICKY_TIMEOUTS", STICKY_TIMEOUTS },
  { "MMAP_PAGE_ZERO", MMAP_PAGE_ZERO },       { "UNAME26", UNAME26 },
  { "FDPIC_FUNCPTRS", FDPIC_FUNCPTRS },
};

static int
plan_personality (struct process_plan *plan, const struct oci_personality *p, ctr_error_t *err)
{
  size_t i, k;

  if (p == NULL)
    return 0;
  if (p->domain && strcmp (p->domain, "LINUX") == 0)
    plan->personality = PER_LINUX;
  else if (p->domain && strcmp (p->domain, "LINUX32") == 0)
    plan->personality = PER_LINUX32;
  else
    return ctr_error (err, 0, "linux.personality.domain: unknown domain `%s`",
                      p->domain ? p->domain : "");
  for (i = 0; i < p->flags_len; i++)
    {
      for (k = 0; k < ARRAY_SIZE (personality_flags); k++)
        if (strcmp (p->flags[i], personality_flags[k].name) == 0)
          break;
      if (k == ARRAY_SIZE (personality_flags))
        return ctr_error (err, 0, "linux.personality.flags[%zu]: unknown flag `%s`", i,
                          p->flags[i]);
      plan->personality |= personality_flags[k].value;
    }
  plan->has_personality = true;
  return 0;
}

static int
plan_io_priority (struct process_plan *plan, const struct oci_io_priority *io, ctr_error_t *err)
{
  static const char *const classes[]
      = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE" };
  size_t k;

  if (io == NULL)
    return 0;
  for (k = 0; k < ARRAY_SIZE (classes); k++)
    if (io->class_ && strcmp (io->class_, classes[k]) == 0)
      break;
  if (k == ARRAY_SIZE (classes))
    return ctr_error (err, 0, "process.ioPriority.class: unknown class `%s`",
                      io->class_ ? io->class_ : "");
  if (io->priority < 0 || io->priority > 7)
    return ctr_error (err, 0, "process.ioPriority.priority: %d is out of range 0-7", io->priority);
  /* IOPRIO_PRIO_VALUE: the class (1 RT, 2 BE, 3 IDLE) above 13 bits of data */
  plan->ioprio = (int)((k + 1) << 13) | io->priority;
  plan->has_ioprio = true;
  return 0;
}

static const char *const sched_policies[] = {
  "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",       "SCHED_BATCH",
  "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE",
};
#define SCHED_POLICY_FIFO 1
#define SCHED_POLICY_RR 2
#define SCHED_POLICY_DEADLINE 6

static const char *const sched_flag_names[] = {
  "SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",     "SCHED_FLAG_DL_OVERRUN",
  "SCHED_FLAG_KEEP_POLICY",    "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
  "SCHED_FLAG_UTIL_CLAMP_MAX",
};

static int
plan_scheduler (struct process_plan *plan, const struct oci_scheduler *s, ctr_error_t *err)
{
  struct process_sched_attr *a = &plan->sched;
  bool realtime;
  size_t i, k;

  if (s == NULL)
    return 0;
  for (k = 0; k < ARRAY_SIZE (sched_policies); k++)
    if (s->policy && strcmp (s->policy, sched_policies[k]) == 0)
      break;
  if (k == ARRAY_SIZE (sched_policies))
    return ctr_error (err, 0, "process.scheduler.policy: unknown policy `%s`",
                      s->policy ? s->policy : "");
  a->size = sizeof (*a);
  a->sched_policy = (uint32_t)k;
  realtime = k == SCHED_POLICY_FIFO || k == SCHED_POLICY_RR;
  for (i = 0; i < s->flags_len; i++)
    {
      for (k = 0; k < ARRAY_SIZE (sched_flag_names); k++)
        if (strcmp (s->flags[i], sched_flag_names[k]) == 0)
          break;
      if (k == ARRAY_SIZE (sched_flag_names))
        return ctr_error (err, 0, "process.scheduler.flags[%zu]: unknown flag `%s`", i,
                          s->flags[i]);
      a->sched_flags |= UINT64_C (1) << k;
    }
  if (s->has_nice && (s->nice < -20 || s->nice > 19))
    return ctr_error (err, 0, "process.scheduler.nice: %d is out of range -20..19", s->nice);
  a->sched_nice = s->has_nice ? s->nice : 0;
  if (realtime && (!s->has_priority || s->priority < 1 || s->priority > 99))
    return ctr_error (err, 0, "process.scheduler.priority: %s needs a priority in 1..99",
                      s->policy);
  if (!realtime && s->has_priority && s->priority != 0)
    return ctr_error (err, 0,
                      "process.scheduler.priority: only SCHED_FIFO and SCHED_RR take a priority");
  a->sched_priority = s->has_priority ? (uint32_t)s->priority : 0;
  if (a->sched_policy != SCHED_POLICY_DEADLINE
      && ((s->has_runtime && s->runtime) || (s->has_deadline && s->deadline)
          || (s->has_period && s->period)))
    return ctr_error (err, 0,
                      "process.scheduler: runtime, deadline and period are only for "
                      "SCHED_DEADLINE");
  a->sched_runtime = s->has_runtime ? s->runtime : 0;
  a->sched_deadline = s->has_deadline ? s->deadline : 0;
  a->sched_period = s->has_period ? s->period : 0;
  plan->has_sched = true;
  return 0;
}

/* `final` is the set the process runs on once inside its cgroup; the child applies its
   attributes after joining the cgroup, so `final` wins when both are given. */
static int
plan_affinity (struct process_plan *plan, const struct oci_exec_cpu_affinity *a, ctr_error_t *err)
{
  const char *const lists[] = { a ? a->initial : NULL, a ? a->final : NULL };
  const char *const keys[] = { "initial", "final" };
  size_t i;

  for (i = 0; i < ARRAY_SIZE (lists); i++)
    {
      if (lists[i] == NULL)
        continue;
      if (plan->affinity)
        CPU_FREE (plan->affinity);
      plan->affinity = NULL;
      if (process_parse_cpu_list (lists[i], &plan->affinity, &plan->affinity_size) < 0)
        return ctr_error (err, 0, "process.execCPUAffinity.%s: invalid cpu list `%s`", keys[i],
                          lists[i]);
    }
  return 0;
}

bool
process_apparmor_enabled (void)
{
  cleanup_free char *buf = NULL;
  size_t len;

  if (read_file_at (AT_FDCWD, "/sys/module/apparmor/parameters/enabled", 64, &buf, &len, NULL) < 0)
    return false;
  return buf[0] == 'Y';
}

bool
process_selinux_enabled (void)
{
  struct statfs st;

  return statfs ("/sys/fs/selinux", &st) == 0 && (unsigned long)st.f_type == SELINUX_MAGIC;
}

static int
plan_lsm (struct process_plan *plan, const struct oci_process *proc, ctr_error_t *err)
{
  if (proc->apparmor_profile && *proc->apparmor_profile)
    {
      if (!process_apparmor_enabled ())
        return ctr_error (err, 0, "process.apparmorProfile: apparmor is not enabled on this host");
      plan->apparmor_exec = xasprintf ("exec %s", proc->apparmor_profile);
    }
  if (proc->selinux_label && *proc->selinux_label)
    {
      if (!process_selinux_enabled ())
        return ctr_error (err, 0, "process.selinuxLabel: selinux is not enabled on this host");
      plan->selinux_label = proc->selinux_label;
    }
  return 0;
}

static int
plan_basics (struct process_plan *plan, const struct oci_process *proc, ctr_error_t *err)
{
  size_t i;

  if (proc->args_len == 0 || proc->args == NULL || proc->args[0] == NULL || !*proc->args[0])
    return ctr_error (err, 0, "process.args: must not be empty");
  plan->cwd = proc->cwd && *proc->cwd ? proc->cwd : "/";
  if (plan->cwd[0] != '/')
    return ctr_error (err, 0, "process.cwd: `%s`: must be an absolute path", plan->cwd);
  plan->umask = proc->user.has_umask ? (mode_t)(proc->user.umask & 07777) : 022;
  plan->groups = xzalloc (proc->user.additional_gids_len * sizeof (gid_t));
  for (i = 0; i < proc->user.additional_gids_len; i++)
    plan->groups[i] = (gid_t)proc->user.additional_gids[i];
  plan->groups_len = proc->user.additional_gids_len;
  return 0;
}

/* What execve() takes on the container's side besides args and env: the stub's two extra
   arguments (its marker and the resolved path) and a HOME from passwd when env has none. */
#define EXEC_EXTRA_BYTES (64 + PATH_MAX + 4096)
#define EXEC_EXTRA_STRINGS 3

/* One string over MAX_ARG_STRLEN (32 pages), or args and env together over what the
   kernel copies for a new program (a quarter of the stack limit the process will have,
   at most 6 MiB, at least 32 pages, its pointers included): execve() would fail with
   E2BIG after the whole setup, and for `create` only at `start`. Refused here instead. */
static int
plan_exec_size (const struct process_plan *plan, const struct oci_process *proc, ctr_error_t *err)
{
  const size_t page = (size_t)sysconf (_SC_PAGESIZE);
  const size_t max_strlen = 32 * page;
  size_t args_bytes = 0, env_bytes = 0, limit, pointers, i;
  struct rlimit stack;

  for (i = 0; i < proc->args_len && proc->args[i]; i++)
    {
      size_t n = strlen (proc->args[i]) + 1;
      if (n > max_strlen)
        return ctr_error (err, 0,
                          "process.args[%zu]: %zu bytes, over the %zu bytes execve() takes for "
                          "one string",
                          i, n, max_strlen);
      args_bytes += n;
    }
  for (i = 0; i < proc->env_len && proc->env && proc->env[i]; i++)
    {
      size_t n = strlen (proc->env[i]) + 1;
      size_t name_len = strcspn (proc->env[i], "=");
      /* the name only: values may be secrets */
      if (n > max_strlen)
        return ctr_error (err, 0,
                          "process.env[%zu]: `%.*s` is %zu bytes, over the %zu bytes execve() "
                          "takes for one string",
                          i, (int)(name_len < 64 ? name_len : 64), proc->env[i], n, max_strlen);
      env_bytes += n;
    }
  if (getrlimit (RLIMIT_STACK, &stack) < 0)
    stack.rlim_cur = RLIM_INFINITY;
  for (i = 0; i < plan->rlimits_len; i++)
    if (plan->rlimits[i].resource == RLIMIT_STACK)
      stack.rlim_cur = plan->rlimits[i].limit.rlim_cur;
  limit = 6 << 20; /* the kernel's _STK_LIM / 4 * 3 */
  if (stack.rlim_cur != RLIM_INFINITY && stack.rlim_cur / 4 < limit)
    limit = stack.rlim_cur / 4;
  if (limit < max_strlen)
    limit = max_strlen;
  pointers = (proc->args_len + proc->env_len + EXEC_EXTRA_STRINGS) * sizeof (void *);
  if (args_bytes + env_bytes + pointers + EXEC_EXTRA_BYTES > limit)
    return ctr_error (err, 0,
                      "process.env (%zu bytes) and process.args (%zu bytes): more than the %zu "
                      "bytes execve() takes (a quarter of the stack limit, at most 6 MiB)",
                      env_bytes, args_bytes, limit);
  return 0;
}

int
process_plan_new (const struct oci_process *proc, const struct oci_linux *linux_,
                  struct process_plan **out, ctr_error_t *err)
{
  struct process_plan *plan;

  if (proc == NULL)
    return ctr_error (err, 0, "process: missing");
  plan = xzalloc (sizeof (*plan));
  plan->proc = proc;
  if (plan_basics (plan, proc, err) < 0 || plan_caps (plan, proc->capabilities, err) < 0
      || plan_rlimits (plan, proc, err) < 0 || plan_exec_size (plan, proc, err) < 0
      || plan_personality (plan, linux_ ? linux_->personality : NULL, err) < 0
      || plan_io_priority (plan, proc->io_priority, err) < 0
      || plan_scheduler (plan, proc->scheduler, err) < 0
      || plan_affinity (plan, proc->exec_cpu_affinity, err) < 0 || plan_lsm (plan, proc, err) < 0
      || process_mempolicy_plan (&plan->mempolicy, linux_ ? linux_->memory_policy : NULL, err) < 0)
    {
      process_plan_free (plan);
      return -1;
    }
  /* Without no_new_privs the kernel wants CAP_SYS_ADMIN to load a filter; it is loaded
     last (process_exec), so keep that one capability until then. */
  plan->keep_sys_admin = linux_ && linux_->seccomp && !proc->no_new_privileges
                         && !(plan->caps[PROCESS_CAP_EFFECTIVE] & plan->caps[PROCESS_CAP_PERMITTED]
                              & PROCESS_CAP_BIT (CAP_SYS_ADMIN));
  *out = plan;
  return 0;
}

void
process_plan_free (struct process_plan *plan)
{
  if (plan == NULL)
    return;
  free (plan->groups);
  free (plan->rlimits);
  if (plan->affinity)
    CPU_FREE (plan->affinity);
  process_mempolicy_release (&plan->mempolicy);
  free (plan->apparmor_exec);
  free (plan);
}

const struct oci_process *
process_plan_process (const struct process_plan *plan)
{
  return plan->proc;
}
