/* criu: the argument list of criu(8), running it, and reading its log on failure. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "base/memory.h"
#include "base/util.h"
#include "runtime/criu.h"
#include "runtime/setup_shared.h"

void
criu_arg (struct criu_args *a, const char *s)
{
  a->v = xrealloc (a->v, (a->n + 2) * sizeof *a->v);
  a->v[a->n++] = xstrdup (s);
  a->v[a->n] = NULL;
}

void
criu_argf (struct criu_args *a, const char *fmt, ...)
{
  va_list ap;
  char *s;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  va_end (ap);
  criu_arg (a, s);
  free (s);
}

void
criu_args_release (struct criu_args *a)
{
  strv_free (a->v);
  a->v = NULL;
  a->n = 0;
}

const char *
criu_ns_key (enum oci_ns_type t)
{
  return t == OCI_NS_NETWORK ? "extRootNetNS" : t == OCI_NS_PID ? "extRootPidNS" : "extRootNS";
}

int
criu_add_common (struct criu_args *a, const struct criu_common *c, ctr_error_t *err)
{
  static const char *const modes[] = { "soft", "full", "strict", "ignore" };
  const char *mode = c->manage_cgroups_mode ? c->manage_cgroups_mode : "soft";
  size_t i;

  for (i = 0; i < ARRAY_SIZE (modes) && strcmp (mode, modes[i]) != 0; i++)
    ;
  if (i == ARRAY_SIZE (modes))
    return ctr_error (err, 0,
                      "--manage-cgroups-mode: unknown mode \"%s\" (want soft, full, strict or "
                      "ignore)",
                      mode);
  criu_argf (a, "--manage-cgroups=%s", mode);
  if (c->empty_ns)
    {
      /* criu recreates only an empty network namespace (--empty-ns net) */
      if (strcmp (c->empty_ns, "network") != 0)
        return ctr_error (err, 0, "--empty-ns: \"%s\": criu supports only \"network\" here",
                          c->empty_ns);
      criu_arg (a, "--empty-ns");
      criu_arg (a, "net");
    }
  if (c->work_path)
    {
      criu_arg (a, "--work-dir");
      criu_arg (a, c->work_path);
    }
  if (c->tcp_established)
    criu_arg (a, "--tcp-established");
  if (c->ext_unix_sk)
    criu_arg (a, "--ext-unix-sk");
  if (c->shell_job)
    criu_arg (a, "--shell-job");
  if (c->file_locks)
    criu_arg (a, "--file-locks");
  if (c->lazy_pages)
    criu_arg (a, "--lazy-pages");
  if (c->auto_dedup)
    criu_arg (a, "--auto-dedup");
  return 0;
}

/* "/a//b/" -> "/a/b": the mount point as criu reads it from mountinfo. */
static char *
clean_dest (const char *dest)
{
  char *out = xmalloc (strlen (dest) + 2), *o = out;
  *o++ = '/';
  for (const char *p = dest; *p; p++)
    if (*p != '/' || (o[-1] != '/'))
      *o++ = *p;
  if (o > out + 1 && o[-1] == '/')
    o--;
  *o = '\0';
  return out;
}

static bool
is_bind (const struct oci_mount *m)
{
  if (m->type && (strcmp (m->type, "bind") == 0 || strcmp (m->type, "rbind") == 0))
    return true;
  for (size_t i = 0; i < m->options_len; i++)
    if (strcmp (m->options[i], "bind") == 0 || strcmp (m->options[i], "rbind") == 0)
      return true;
  return false;
}

/* rootfs/dev.c's default devices */
static const char *const userns_devices[]
    = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty" };

static bool
config_lists_device (const struct oci_linux *l, const char *path)
{
  for (size_t i = 0; l && i < l->devices_len; i++)
    if (l->devices[i].path && strcmp (l->devices[i].path, path) == 0)
      return true;
  return false;
}

void
criu_add_mounts (struct criu_args *a, const struct oci_config *cfg, pid_t dump_pid)
{
  const struct oci_linux *l = cfg->linux_;
  size_t i;

  for (i = 0; i < cfg->mounts_len; i++)
    {
      const struct oci_mount *m = &cfg->mounts[i];
      cleanup_free char *dest = NULL;
      if (!is_bind (m) || m->destination == NULL || m->source == NULL)
        continue;
      dest = clean_dest (m->destination);
      criu_arg (a, "--external");
      if (dump_pid)
        criu_argf (a, "mnt[%s]:%s", dest, dest);
      else
        criu_argf (a, "mnt[%s]:%s", dest, m->source);
    }
  /* masked files are the host's /dev/null bound in: one cookie for all of them */
  if (l && l->masked_paths_len > 0 && dump_pid == 0)
    {
      criu_arg (a, "--external");
      criu_arg (a, "mnt[/dev/null]:/dev/null");
    }
  for (i = 0; l && dump_pid && i < l->masked_paths_len; i++)
    {
      cleanup_free char *dest = clean_dest (l->masked_paths[i]);
      cleanup_free char *path = xasprintf ("/proc/%d/root%s", dump_pid, dest);
      struct stat st;
      if (stat (path, &st) < 0 || S_ISDIR (st.st_mode))
        continue; /* directories are masked with a tmpfs of their own, which criu dumps */
      criu_arg (a, "--external");
      criu_argf (a, "mnt[%s]:/dev/null", dest);
    }
  /* device nodes bound from the host (a user namespace cannot mknod them) */
  for (i = 0; l && i < l->devices_len; i++)
    {
      cleanup_free char *dest = clean_dest (l->devices[i].path);
      criu_arg (a, "--external");
      criu_argf (a, "mnt[%s]:%s", dest, dest);
    }
  /* and the default ones rootfs/dev.c binds in a user namespace (unprivileged system
     containers), unless linux.devices named them already */
  for (i = 0; oci_config_namespace (cfg, OCI_NS_USER) && i < ARRAY_SIZE (userns_devices); i++)
    if (!config_lists_device (l, userns_devices[i]))
      {
        criu_arg (a, "--external");
        criu_argf (a, "mnt[%s]:%s", userns_devices[i], userns_devices[i]);
      }
}

/* The first line of criu's log that says "Error", trimmed; NULL when none. */
static char *
log_first_error (const char *dir, const char *file)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  cleanup_file FILE *f = fopen (path, "re");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;

  if (f == NULL)
    return NULL;
  while ((n = getline (&line, &cap, f)) > 0)
    if (strstr (line, "Error") != NULL)
      {
        char *s = line;
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
          s[--n] = '\0';
        /* "(00.012345) Error (...)": the timestamp says nothing to a reader */
        if (s[0] == '(' && strchr (s, ')'))
          s = strchr (s, ')') + 1;
        s += strspn (s, " ");
        s = xstrdup (s);
        free (line);
        return s;
      }
  free (line);
  return NULL;
}

static void __attribute__ ((noreturn))
criu_child (const struct criu_args *args, const struct criu_run *run)
{
  ctr_error_t err = NULL;
  int devnull;
  size_t i;

  reset_signals ();
  if (run->cg && cgroup_enter (run->cg, 0, false, &err) < 0)
    {
      ctr_error_print (&err);
      _exit (126);
    }
  /* move the inherited fds out of the way of their targets first, then onto them */
  for (i = 0; i < run->fds_len; i++)
    run->fds[i].fd = fcntl (run->fds[i].fd, F_DUPFD_CLOEXEC, 100);
  for (i = 0; i < run->fds_len; i++)
    if (run->fds[i].fd < 0 || dup2 (run->fds[i].fd, run->fds[i].at) < 0)
      _exit (126);
  if (run->status_fd >= 0)
    fcntl (run->status_fd, F_SETFD, 0);
  /* criu writes its log into the work directory; its own stdio holds nothing for us, and
     a restored process inherits only what --inherit-fd names */
  devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0)
    {
      bool keep0 = false, keep1 = false, keep2 = false;
      for (i = 0; i < run->fds_len; i++)
        {
          keep0 |= run->fds[i].at == 0;
          keep1 |= run->fds[i].at == 1;
          keep2 |= run->fds[i].at == 2;
        }
      if (!keep0)
        dup2 (devnull, 0);
      if (!keep1)
        dup2 (devnull, 1);
      if (!keep2)
        dup2 (devnull, 2);
    }
  execvp (run->binary ? run->binary : "criu", args->v);
  _exit (127);
}

#define HOOK_SCRIPT "criu-hook"
#define HOOK_PID "criu-hook.pid"
#define HOOK_ANSWER "criu-hook.answer"

int
criu_hook_args (struct criu_args *a, int dirfd, const char *dirpath, ctr_error_t *err)
{
  /* criu runs it for every action; criu gives up when it fails */
  static const char text[] = "#!/bin/sh\n"
                             "[ \"$CRTOOLS_SCRIPT_ACTION\" = setup-namespaces ] || exit 0\n"
                             "d=${0%/*}\n"
                             "echo \"$CRTOOLS_INIT_PID\" >\"$d/" HOOK_PID "\" || exit 1\n"
                             "read -r answer <\"$d/" HOOK_ANSWER "\" && [ \"$answer\" = ok ]\n";

  criu_hook_remove (dirfd);
  if (mkfifoat (dirfd, HOOK_PID, 0600) < 0 || mkfifoat (dirfd, HOOK_ANSWER, 0600) < 0)
    return ctr_error (err, errno, "criu's action script: a fifo in `%s`", dirpath);
  if (write_file_at (dirfd, HOOK_SCRIPT, text, strlen (text), 0700, err) < 0)
    return ctr_error_wrap (err, "criu's action script");
  criu_arg (a, "--action-script");
  criu_argf (a, "%s/%s", dirpath, HOOK_SCRIPT);
  return 0;
}

void
criu_hook_remove (int dirfd)
{
  unlinkat (dirfd, HOOK_SCRIPT, 0);
  unlinkat (dirfd, HOOK_PID, 0);
  unlinkat (dirfd, HOOK_ANSWER, 0);
}

/* The setup-namespaces action: init's pid from the script (or nothing, when criu ended
   before it got there), run->setup_ns with it, and the answer, always written (it waits in
   its fifo, held open by the caller, for a script that reads it: one never waits forever). */
static void
serve_hook (int in, int answer, pid_t criu, const struct criu_run *run, ctr_error_t *err)
{
  cleanup_close int pidfd = syscall (SYS_pidfd_open, criu, 0);
  char line[32];
  size_t len = 0;
  int64_t init;
  bool ok = false;

  if (pidfd < 0)
    ctr_error (err, errno, "criu %s: pidfd_open", run->action);
  while (pidfd >= 0 && len < sizeof line - 1 && memchr (line, '\n', len) == NULL)
    {
      struct pollfd p[2] = { { .fd = in, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
      ssize_t n;
      if (poll (p, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (!(p[0].revents & (POLLIN | POLLHUP)))
        break; /* criu ended without running the action */
      n = read (in, line + len, sizeof line - 1 - len);
      if (n <= 0)
        break;
      len += n;
    }
  line[len] = '\0';
  line[strcspn (line, "\n")] = '\0';
  if (len > 0 && (parse_int64 (line, &init) < 0 || init <= 0 || init > INT32_MAX))
    ctr_error (err, 0, "criu %s: its setup-namespaces action said \"%s\"", run->action, line);
  else if (len > 0)
    ok = run->setup_ns (run->setup_ns_arg, (pid_t)init, err) == 0;
  if (write (answer, ok ? "ok\n" : "no\n", 3) < 0)
    ctr_log_debug ("criu %s: answer its action: %s", run->action, strerror (errno));
}

static int
criu_spawn (const struct criu_args *args, const struct criu_run *run, ctr_error_t *hook_err,
            int *status, ctr_error_t *err)
{
  cleanup_close int in = -1, answer = -1;
  pid_t pid;

  if (run->setup_ns)
    {
      /* the answer's fifo open for both ends here: the script's open never blocks, and
         what is written waits until it reads */
      in = openat (run->hook_dirfd, HOOK_PID, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      answer = openat (run->hook_dirfd, HOOK_ANSWER, O_RDWR | O_CLOEXEC);
      if (in < 0 || answer < 0)
        return ctr_error (err, errno, "criu %s: the fifos of its action script", run->action);
    }
  pid = fork ();
  if (pid < 0)
    return ctr_error (err, errno, "criu %s: fork", run->action);
  if (pid == 0)
    criu_child (args, run);
  if (run->setup_ns)
    serve_hook (in, answer, pid, run, hook_err);
  while (waitpid (pid, status, 0) < 0)
    if (errno != EINTR)
      return ctr_error (err, errno, "criu %s: wait", run->action);
  return 0;
}

int
criu_exec (const struct criu_args *args, const struct criu_run *run, ctr_error_t *err)
{
  cleanup_free char *msg = NULL;
  cleanup_free char *where = NULL;
  ctr_error_t hook_err = NULL;
  int status;

  ctr_log_debug ("criu %s: %s", run->action, args->v[1]);
  for (size_t i = 0; ctr_log_debug_enabled () && i < args->n; i++)
    ctr_log_debug ("criu arg: %s", args->v[i]);
  if (criu_spawn (args, run, &hook_err, &status, err) < 0)
    return -1;
  if (hook_err)
    {
      /* what failed in the action is the reason, whatever criu then said */
      *err = hook_err;
      return -1;
    }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
    return ctr_error (err, ENOENT, "criu %s: `%s` not found (install the Debian package criu)",
                      run->action, run->binary ? run->binary : "criu");
  msg = log_first_error (run->log_dir, run->log_file);
  where
      = run->log_removed ? xstrdup ("") : xasprintf (" (log: %s/%s)", run->log_dir, run->log_file);
  if (WIFSIGNALED (status))
    return ctr_error (err, 0, "criu %s: killed by signal %d%s%s%s", run->action, WTERMSIG (status),
                      msg ? ": " : "", msg ? msg : "", where);
  return ctr_error (err, 0, "criu %s failed%s%s%s", run->action, msg ? ": " : "", msg ? msg : "",
                    where);
}

/* The annotation org.criu.config names a criu configuration file, as with runc. */
void
criu_add_config_file (struct criu_args *a, const struct oci_config *cfg)
{
  for (size_t i = 0; i < cfg->annotations_len; i++)
    if (strcmp (cfg->annotations[i].key, "org.criu.config") == 0 && cfg->annotations[i].value[0])
      {
        criu_arg (a, "--config");
        criu_arg (a, cfg->annotations[i].value);
      }
}
