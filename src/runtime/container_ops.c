/* container_ops: verbs on existing containers: start, state, kill, delete, list, ps,
   pause, resume, update, usage. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "runtime/container.h"
#include "runtime/loaded.h"
#include "runtime/hooks.h"
#include "base/log.h"
#include "oci/oci.h"
#include "runtime/state.h"
#include "base/owned_dir.h"
#include "base/parallel.h"
#include "base/util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* poststart/poststop of an existing container: the saved config is parsed only when the
   state says the stage has hooks. */
static void
loaded_hooks_warn (struct loaded *l, enum oci_hook_stage stage, enum ctr_status status)
{
  struct oci_config *cfg = NULL;
  ctr_error_t err = NULL;
  cleanup_free char *json = NULL;
  bool has = stage == OCI_HOOK_POSTSTART ? l->state->has_poststart : l->state->has_poststop;

  if (!has)
    return;
  if (loaded_config (l, &cfg, &err) < 0)
    {
      char *s = ctr_error_string (err);
      ctr_log_warning ("%s hooks: %s", oci_hook_stage_name (stage), s);
      free (s);
      ctr_error_free (&err);
      return;
    }
  json = state_hook_json (l->state, status, NULL);
  hooks_run_warn (&cfg->hooks, stage, json);
  oci_config_free (cfg);
}

int
container_start (const struct ctr_context *ctx, const char *id, ctr_error_t *err)
{
  struct loaded l;
  int r = -1;

  if (loaded_open (ctx, id, true, &l, err) < 0)
    return -1;
  if (l.status != CTR_STATUS_CREATED)
    {
      ctr_error (err, 0, "container `%s` cannot be started: it is %s, not created", id,
                 ctr_status_name (l.status));
      goto out;
    }
  if (container_release_fifo (l.dirfd, err) < 0)
    {
      ctr_error_wrap (err, "start container `%s`", id);
      goto out;
    }
  r = 0;
  ctr_log_debug ("start `%s`: process %d released", id, l.state->pid);
  loaded_hooks_warn (&l, OCI_HOOK_POSTSTART, CTR_STATUS_RUNNING);
out:
  loaded_release (&l);
  return r;
}

/* /etc/passwd read directly: the binary is static, and NSS needs dlopen */
static char *
owner_name (uid_t uid)
{
  cleanup_file FILE *f = NULL;
  struct passwd *pw;
  /* a list has one owner, or few: /etc/passwd is read once for each new one */
  static uid_t last_uid = (uid_t)-1;
  static char *last_name;

  if (last_name && uid == last_uid)
    return xstrdup (last_name);
  free (last_name);
  last_name = NULL;
  f = fopen ("/etc/passwd", "re");
  while (f && (pw = fgetpwent (f)) != NULL)
    if (pw->pw_uid == uid)
      {
        last_name = xstrdup (pw->pw_name);
        break;
      }
  if (last_name == NULL)
    last_name = xasprintf ("#%u", (unsigned)uid);
  last_uid = uid;
  return xstrdup (last_name);
}

int
container_state (const struct ctr_context *ctx, const char *id, char **json, ctr_error_t *err)
{
  struct loaded l;
  cleanup_free char *owner = NULL;

  if (loaded_open (ctx, id, false, &l, err) < 0)
    return -1;
  owner = owner_name (l.state->owner);
  *json = state_oci_json (l.state, l.status, owner, NULL);
  loaded_release (&l);
  return 0;
}

/* Signals the container's init through a pidfd checked against the recorded start time. */
static int
signal_init (const struct ctr_state *s, int sig, ctr_error_t *err)
{
  cleanup_close int pidfd = syscall (SYS_pidfd_open, s->pid, 0);
  if (pidfd < 0 || pid_start_time (s->pid) != s->pid_start)
    return ctr_error (err, ESRCH, "container `%s` is not running", s->id);
  if (syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
    return ctr_error (err, errno, "kill container `%s`", s->id);
  return 0;
}

int
container_kill (const struct ctr_context *ctx, const char *id, int sig, bool all, ctr_error_t *err)
{
  struct loaded l;
  struct cgroup *cg = NULL;
  int r = -1;

  if (loaded_open (ctx, id, false, &l, err) < 0)
    return -1;
  ctr_log_debug ("kill `%s`: signal %d to %s", id, sig, all ? "every process" : "its process");
  if (l.status == CTR_STATUS_STOPPED && !all)
    {
      ctr_error (err, 0, "container `%s` is not running", id);
      goto out;
    }
  if (all)
    {
      if (loaded_cgroup (&l, &cg, err) < 0)
        goto out;
      /* without a cgroup of its own, init stands for all: killing the init of a pid
         namespace kills everything in it */
      if (!cgroup_exists (cg))
        r = signal_init (l.state, sig, err);
      else
        r = cgroup_kill (cg, sig, err);
      if (r == 0 && l.status == CTR_STATUS_PAUSED && sig == SIGKILL && cgroup_exists (cg))
        r = cgroup_freeze (cg, false, err);
    }
  else
    r = signal_init (l.state, sig, err);
out:
  if (cg)
    cgroup_free (cg);
  loaded_release (&l);
  return r;
}

/* Waits (bounded) for a process that is not our child to exit. */
static void
wait_gone (const struct ctr_state *s, int timeout_ms)
{
  cleanup_close int pidfd = syscall (SYS_pidfd_open, s->pid, 0);
  struct pollfd p = { pidfd, POLLIN, 0 };
  if (pidfd < 0)
    return;
  poll (&p, 1, timeout_ms);
}

/* delete --force of a container whose state.json does not parse (a full disk, a hand edit):
   the config saved at create still says where its cgroup is, which kills and removes its
   processes; then everything goes as for any delete. */
static int
delete_unreadable (const struct ctr_context *ctx, const char *id, ctr_error_t *err)
{
  cleanup_close int dirfd = state_dir_open (container_state_root (ctx), id, err);
  struct cgroup_config cgc = { .id = id, .rootless = is_rootless () };
  struct oci_config *cfg = NULL;
  struct cgroup *cg = NULL;
  ctr_error_t e = NULL;
  int r = -1;

  if (dirfd < 0 || state_lock (dirfd, err) < 0)
    return -1;
  if (oci_config_load_at (dirfd, STATE_CONFIG, &cfg, &e) < 0)
    {
      char *s = ctr_error_string (e);
      ctr_log_warning ("container `%s`: %s: its cgroup is unknown", id, s);
      free (s);
      ctr_error_free (&e);
    }
  else
    {
      cgc.cgroups_path = cfg->linux_ ? cfg->linux_->cgroups_path : NULL;
      if (cgroup_open_leaf (&cgc, &cg, err) < 0)
        goto out;
    }
  if (cg == NULL)
    ctr_log_warning ("container `%s`: no cgroup to find its processes by: any still running "
                     "were left alone",
                     id);
  if (ctx && ctx->attach && ctx->attach->detach)
    ctx->attach->detach (id, dirfd);
  if (cg && cgroup_destroy (cg, err) < 0)
    goto out;
  r = state_dir_remove (container_state_root (ctx), id, err);
out:
  if (cg)
    cgroup_free (cg);
  oci_config_free (cfg);
  return r;
}

int
container_delete (const struct ctr_context *ctx, const char *id, bool force, ctr_error_t *err)
{
  const char *root = container_state_root (ctx);
  struct loaded l;
  struct cgroup *cg = NULL;
  int r = -1;

  ctr_log_debug ("delete `%s`%s", id, force ? " (force)" : "");
  if (loaded_open (ctx, id, true, &l, err) < 0)
    {
      /* a create killed before it wrote state.json leaves only a directory behind */
      if (*err && strstr ((*err)->msg, "still being created") && force)
        {
          ctr_error_free (err);
          return state_dir_remove (root, id, err);
        }
      if (force && *err && strstr ((*err)->msg, "does not exist"))
        {
          ctr_error_free (err);
          return 0;
        }
      if (force && *err && (*err)->status == EBADMSG)
        {
          ctr_log_warning ("%s: removed with what its saved config says", (*err)->msg);
          ctr_error_free (err);
          return delete_unreadable (ctx, id, err);
        }
      return -1;
    }
  /* a created container never ran its program: runc (and engines cleaning up after a failed
     start) delete it without --force */
  if (l.status != CTR_STATUS_STOPPED && l.status != CTR_STATUS_CREATED && !force)
    {
      ctr_error (err, 0, "container `%s` is %s: stop it first or use --force", id,
                 ctr_status_name (l.status));
      goto out;
    }
  if (loaded_cgroup (&l, &cg, err) < 0)
    goto out;
  if (l.status != CTR_STATUS_STOPPED)
    {
      ctr_error_t ignored = NULL;
      if (cg)
        {
          cgroup_kill (cg, SIGKILL, &ignored);
          if (l.status == CTR_STATUS_PAUSED)
            cgroup_freeze (cg, false, &ignored);
        }
      signal_init (l.state, SIGKILL, &ignored);
      ctr_error_free (&ignored);
      wait_gone (l.state, 5000);
    }
  if (l.state->pid > 0) /* else its create died before anything ran: no poststop */
    loaded_hooks_warn (&l, OCI_HOOK_POSTSTOP, CTR_STATUS_STOPPED);
  if (ctx && ctx->attach && ctx->attach->detach)
    ctx->attach->detach (id, l.dirfd);
  if (cg && cgroup_destroy (cg, err) < 0)
    goto out;
  r = state_dir_remove (root, id, err);
out:
  if (cg)
    cgroup_free (cg);
  loaded_release (&l);
  return r;
}

/* `ctr list` reads each container (state.json, /proc/PID/stat, the freezer, the fifo: ~11
   system calls, nearly all of the time in the kernel's path walks), so with many
   containers the reads are spread over one thread per CPU. */
#define LIST_PER_THREAD 64

struct list_job
{
  int rootfd;
  int freezer_mountfd; /* cgroup_freezer_mount_open's, shared by the threads */
  const char *root;
  char **ids;
  struct container_info *v;
  uid_t *owners;
  char **warnings; /* a state that does not parse: said once the threads are done */
  bool *shown;
};

static void
list_one (void *arg, size_t i)
{
  struct list_job *job = arg;
  struct container_info *c = &job->v[i];
  ctr_error_t ignored = NULL;
  struct loaded l;

  if (loaded_peek_at (job->rootfd, job->root, job->ids[i], job->freezer_mountfd, &l, &ignored) < 0)
    {
      /* an unreadable state is shown, not hidden: delete --force removes it */
      if (ignored && ignored->status == EBADMSG)
        {
          job->warnings[i]
              = xasprintf ("%s (ctr delete --force %s removes it)", ignored->msg, job->ids[i]);
          c->id = xstrdup (job->ids[i]);
          c->status = xstrdup ("unknown");
          c->bundle = xstrdup ("");
          c->created = xstrdup ("");
          job->owners[i] = geteuid ();
          job->shown[i] = true;
        }
      ctr_error_free (&ignored);
      return;
    }
  c->id = xstrdup (l.state->id);
  c->pid = l.status == CTR_STATUS_STOPPED ? 0 : l.state->pid;
  c->status = xstrdup (ctr_status_name (l.status));
  c->bundle = xstrdup (l.state->bundle);
  c->rootfs = l.state->rootfs ? xstrdup (l.state->rootfs) : NULL;
  c->created = xstrdup (l.state->created);
  c->annotations = l.state->annotations ? xstrdup (l.state->annotations) : NULL;
  job->owners[i] = l.state->owner;
  job->shown[i] = true;
  loaded_release (&l);
}

int
container_list (const struct ctr_context *ctx, struct container_info **out, size_t *n,
                ctr_error_t *err)
{
  const char *root = container_state_root (ctx);
  cleanup_strv char **ids = NULL;
  cleanup_close int rootfd = -1, freezer_mountfd = -1;
  struct list_job job = { 0 };
  size_t count, i, k = 0;
  struct container_info *v;

  if (state_list_ids (root, &ids, &count, err) < 0)
    return -1;
  if (count > 0 && (rootfd = state_root_open_existing (root, err)) == -1)
    return -1;
  if (count > 0)
    freezer_mountfd = cgroup_freezer_mount_open ();
  job = (struct list_job){
    .rootfd = rootfd, .freezer_mountfd = freezer_mountfd, .root = root, .ids = ids
  };
  job.v = v = xzalloc ((count + 1) * sizeof *v);
  job.owners = xzalloc ((count + 1) * sizeof *job.owners);
  job.warnings = xzalloc ((count + 1) * sizeof *job.warnings);
  job.shown = xzalloc ((count + 1) * sizeof *job.shown);
  owned_dir_remember_euid (true);
  parallel_for (count, LIST_PER_THREAD, list_one, &job);
  owned_dir_remember_euid (false);
  /* the rows in the ids' order, without the containers that went away meanwhile */
  for (i = 0; i < count; i++)
    {
      if (job.warnings[i])
        ctr_log_warning ("%s", job.warnings[i]);
      free (job.warnings[i]);
      if (!job.shown[i])
        continue;
      v[k] = v[i];
      v[k].owner = owner_name (job.owners[i]);
      k++;
    }
  free (job.owners);
  free (job.warnings);
  free (job.shown);
  *out = v;
  *n = k;
  return 0;
}

void
container_info_free (struct container_info *info, size_t n)
{
  size_t i;
  for (i = 0; info && i < n; i++)
    {
      free (info[i].id);
      free (info[i].status);
      free (info[i].bundle);
      free (info[i].rootfs);
      free (info[i].created);
      free (info[i].owner);
      free (info[i].annotations);
    }
  free (info);
}

/* Loads a container and its cgroup for the verbs that work on the cgroup. */
static int
with_cgroup (const struct ctr_context *ctx, const char *id, struct loaded *l, struct cgroup **cg,
             ctr_error_t *err)
{
  if (loaded_open (ctx, id, false, l, err) < 0)
    return -1;
  if (loaded_cgroup (l, cg, err) < 0)
    goto fail;
  if (*cg == NULL)
    {
      ctr_error (err, 0, "container `%s` has no cgroup", id);
      goto fail;
    }
  return 0;
fail:
  loaded_release (l);
  return -1;
}

int
container_ps (const struct ctr_context *ctx, const char *id, pid_t **pids, size_t *n,
              ctr_error_t *err)
{
  struct loaded l;
  struct cgroup *cg = NULL;
  int r;
  if (with_cgroup (ctx, id, &l, &cg, err) < 0)
    return -1;
  r = cgroup_pids (cg, pids, n, err);
  cgroup_free (cg);
  loaded_release (&l);
  return r;
}

static int
set_frozen (const struct ctr_context *ctx, const char *id, bool frozen, ctr_error_t *err)
{
  struct loaded l;
  struct cgroup *cg = NULL;
  int r = -1;
  if (with_cgroup (ctx, id, &l, &cg, err) < 0)
    return -1;
  /* a created container's process is there, waiting: runc and crun freeze it too */
  if (frozen && l.status != CTR_STATUS_RUNNING && l.status != CTR_STATUS_CREATED)
    ctr_error (err, 0, "container `%s` is %s, not running", id, ctr_status_name (l.status));
  else if (!frozen && l.status != CTR_STATUS_PAUSED)
    ctr_error (err, 0, "container `%s` is %s, not paused", id, ctr_status_name (l.status));
  else
    r = cgroup_freeze (cg, frozen, err);
  cgroup_free (cg);
  loaded_release (&l);
  return r;
}

int
container_pause (const struct ctr_context *ctx, const char *id, ctr_error_t *err)
{
  return set_frozen (ctx, id, true, err);
}

int
container_resume (const struct ctr_context *ctx, const char *id, ctr_error_t *err)
{
  return set_frozen (ctx, id, false, err);
}

/* "512m", "1G", "-1" (unlimited) -> bytes, as runc's --memory accepts them. */
static int
parse_size (const char *flag, const char *s, int64_t *out, ctr_error_t *err)
{
  char *end;
  double v;
  int64_t mult = 1;
  errno = 0;
  v = strtod (s, &end);
  if (errno || end == s)
    return ctr_error (err, EINVAL, "%s: invalid size `%s`", flag, s);
  switch (*end)
    {
    case 'k':
    case 'K':
      mult = 1LL << 10;
      end++;
      break;
    case 'm':
    case 'M':
      mult = 1LL << 20;
      end++;
      break;
    case 'g':
    case 'G':
      mult = 1LL << 30;
      end++;
      break;
    case 't':
    case 'T':
      mult = 1LL << 40;
      end++;
      break;
    default:
      break;
    }
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end != '\0')
    return ctr_error (err, EINVAL, "%s: invalid size `%s`", flag, s);
  *out = (int64_t)(v * (double)mult);
  return 0;
}

static int
parse_flag_int (const char *flag, const char *s, int64_t *out, ctr_error_t *err)
{
  if (parse_int64 (s, out) < 0)
    return ctr_error (err, EINVAL, "%s: invalid number `%s`", flag, s);
  return 0;
}

/* --memory, --memory-swap, --memory-reservation onto m (made when any is given). */
static int
update_memory_flags (struct oci_memory *m, const struct container_update_options *o,
                     ctr_error_t *err)
{
  if (o->memory)
    {
      if (parse_size ("--memory", o->memory, &m->limit, err) < 0)
        return -1;
      m->has_limit = true;
    }
  if (o->memory_swap)
    {
      if (parse_size ("--memory-swap", o->memory_swap, &m->swap, err) < 0)
        return -1;
      m->has_swap = true;
    }
  if (o->memory_reservation)
    {
      if (parse_size ("--memory-reservation", o->memory_reservation, &m->reservation, err) < 0)
        return -1;
      m->has_reservation = true;
    }
  return 0;
}

/* The cpu flags onto c (made when any is given). */
static int
update_cpu_flags (struct oci_cpu *c, const struct container_update_options *o, ctr_error_t *err)
{
  int64_t v;
  if (o->cpu_rt_period)
    {
      if (parse_flag_int ("--cpu-rt-period", o->cpu_rt_period, &v, err) < 0)
        return -1;
      c->has_realtime_period = true;
      c->realtime_period = (uint64_t)v;
    }
  if (o->cpu_rt_runtime)
    {
      if (parse_flag_int ("--cpu-rt-runtime", o->cpu_rt_runtime, &c->realtime_runtime, err) < 0)
        return -1;
      c->has_realtime_runtime = true;
    }
  if (o->cpu_shares)
    {
      if (parse_flag_int ("--cpu-shares", o->cpu_shares, &v, err) < 0)
        return -1;
      c->has_shares = true;
      c->shares = (uint64_t)v;
    }
  if (o->cpu_quota)
    {
      if (parse_flag_int ("--cpu-quota", o->cpu_quota, &c->quota, err) < 0)
        return -1;
      c->has_quota = true;
    }
  if (o->cpu_period)
    {
      if (parse_flag_int ("--cpu-period", o->cpu_period, &v, err) < 0)
        return -1;
      c->has_period = true;
      c->period = (uint64_t)v;
    }
  if (o->cpuset_cpus)
    {
      free (c->cpus);
      c->cpus = xstrdup (o->cpuset_cpus);
    }
  if (o->cpuset_mems)
    {
      free (c->mems);
      c->mems = xstrdup (o->cpuset_mems);
    }
  return 0;
}

static int
update_apply_flags (struct oci_resources *r, const struct container_update_options *o,
                    ctr_error_t *err)
{
  int64_t v;
  /* linux.intelRdt: ctr has no resctrl support; refused rather than ignored */
  if (o->l3_cache_schema || o->mem_bw_schema)
    return ctr_error (err, 0, "--%s: Intel RDT (resctrl) is not supported by ctr",
                      o->l3_cache_schema ? "l3-cache-schema" : "mem-bw-schema");
  if ((o->memory || o->memory_swap || o->memory_reservation) && r->memory == NULL)
    r->memory = xzalloc (sizeof *r->memory);
  if ((o->cpu_shares || o->cpu_quota || o->cpu_period || o->cpuset_cpus || o->cpuset_mems
       || o->cpu_rt_period || o->cpu_rt_runtime)
      && r->cpu == NULL)
    r->cpu = xzalloc (sizeof *r->cpu);
  if (o->blkio_weight && r->block_io == NULL)
    r->block_io = xzalloc (sizeof *r->block_io);
  if (update_memory_flags (r->memory, o, err) < 0 || update_cpu_flags (r->cpu, o, err) < 0)
    return -1;
  if (o->pids_limit)
    {
      if (parse_flag_int ("--pids-limit", o->pids_limit, &r->pids_limit, err) < 0)
        return -1;
      r->has_pids_limit = true;
    }
  if (o->blkio_weight)
    {
      if (parse_flag_int ("--blkio-weight", o->blkio_weight, &v, err) < 0)
        return -1;
      r->block_io->has_weight = true;
      r->block_io->weight = (uint16_t)v;
    }
  return 0;
}

int
container_update (const struct ctr_context *ctx, const char *id,
                  const struct container_update_options *opts, ctr_error_t *err)
{
  struct loaded l;
  struct cgroup *cg = NULL;
  struct oci_resources *res = NULL;
  int r = -1;

  if (opts->resources_json)
    {
      if (oci_resources_parse (opts->resources_json, opts->resources_json_len, "resources", &res,
                               err)
          < 0)
        return -1;
    }
  else
    res = xzalloc (sizeof *res);
  if (update_apply_flags (res, opts, err) < 0)
    goto out_res;
  if (with_cgroup (ctx, id, &l, &cg, err) < 0)
    goto out_res;
  if (l.status == CTR_STATUS_STOPPED)
    ctr_error (err, 0, "container `%s` is not running", id);
  else
    r = cgroup_update (cg, res, err);
  cgroup_free (cg);
  loaded_release (&l);
out_res:
  oci_resources_free (res);
  return r;
}

int
container_usage (const struct ctr_context *ctx, const char *id, uint64_t *cpu_ns,
                 uint64_t *memory_bytes)
{
  struct loaded l;
  struct cgroup *cg = NULL;
  struct cgroup_stats st;
  ctr_error_t err = NULL;
  int r = -1;

  if (loaded_open (ctx, id, false, &l, &err) < 0)
    {
      ctr_error_free (&err);
      return -1;
    }
  if (loaded_cgroup (&l, &cg, &err) == 0 && cg && cgroup_stats (cg, &st, &err) == 0)
    {
      *cpu_ns = st.has_cpu ? st.cpu_usage_ns : 0;
      *memory_bytes = st.has_memory ? st.memory_usage : 0;
      cgroup_stats_clear (&st);
      r = 0;
    }
  ctr_error_free (&err);
  if (cg)
    cgroup_free (cg);
  loaded_release (&l);
  return r;
}
