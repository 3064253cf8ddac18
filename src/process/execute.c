/* execute: the last steps in the child — finding the executable, fd hygiene, seccomp, execve. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "process/process-internal.h"
#include "process/selfexec.h"
#include "stub/stub.h"
#include "base/util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The value of NAME in a NULL-terminated environment; the last entry wins, as it does
   for runc, which applies the list with setenv one by one. */
static const char *
env_lookup (char *const *env, const char *name)
{
  size_t n = strlen (name);
  const char *found = NULL;

  for (; env && *env; env++)
    if (strncmp (*env, name, n) == 0 && (*env)[n] == '=')
      found = *env + n + 1;
  return found;
}

static int
check_executable (const char *path)
{
  struct stat st;

  if (stat (path, &st) < 0)
    return -1;
  if (S_ISDIR (st.st_mode))
    {
      errno = EISDIR;
      return -1;
    }
  return faccessat (AT_FDCWD, path, X_OK, AT_EACCESS);
}

int
process_resolve_executable (const struct process_plan *plan, char **path, ctr_error_t *err)
{
  const char *arg0 = plan->proc->args[0];
  const char *search, *p;
  cleanup_free char *unusable = NULL; /* the first candidate that is there but cannot run */
  int unusable_errno = 0;

  if (strchr (arg0, '/'))
    {
      if (check_executable (arg0) < 0)
        return ctr_error (err, errno, "exec: `%s`", arg0);
      *path = xstrdup (arg0);
      return 0;
    }
  search = env_lookup (plan->proc->env, "PATH");
  if (search == NULL)
    search = DEFAULT_PATH;
  for (p = search;; p++)
    {
      const char *end = strchrnul (p, ':');
      /* an empty entry means the current directory, as for execvp */
      char *candidate
          = end == p ? xasprintf ("./%s", arg0) : xasprintf ("%.*s/%s", (int)(end - p), p, arg0);

      if (check_executable (candidate) == 0)
        {
          *path = candidate;
          return 0;
        }
      if (unusable == NULL && errno != ENOENT && errno != ENOTDIR)
        {
          unusable_errno = errno;
          unusable = steal_ptr (candidate);
        }
      free (candidate);
      if (*end == '\0')
        break;
      p = end;
    }
  /* e.g. a bin/sh that links to itself (ELOOP): "not found" alone would mislead */
  if (unusable)
    return ctr_error (err, unusable_errno, "executable file `%s` not found in $PATH; `%s`", arg0,
                      unusable);
  return ctr_error (err, 0, "executable file `%s` not found in $PATH", arg0);
}

static int
close_from (unsigned first, unsigned last)
{
  cleanup_dir DIR *dir = NULL;
  struct dirent *de;

  if (first > last)
    return 0;
  /* ENOSYS from an old kernel, or anything from a seccomp filter already in place (create
     loads it before the startContainer hooks): fall back to closing one by one */
  if (syscall (SYS_close_range, first, last, 0) == 0)
    return 0;
  dir = opendir ("/proc/self/fd");
  if (dir == NULL)
    return -1;
  while ((de = readdir (dir)))
    {
      long fd = strtol (de->d_name, NULL, 10);
      if (de->d_name[0] != '.' && fd >= first && fd <= last && fd != dirfd (dir))
        close ((int)fd);
    }
  return 0;
}

/* Security rule 2: nothing but stdio, the preserved fds and the kept ones (closed by
   execve, or by ctr-stub's) crosses into the container. keep[] may hold -1s. */
static int
prepare_fds (int preserve_fds, int keep[], size_t nkeep, ctr_error_t *err)
{
  unsigned first = 3 + (unsigned)(preserve_fds > 0 ? preserve_fds : 0);
  unsigned from = first;
  size_t i, j;
  int fd;

  /* ascending, so that the gaps between them can be closed in order */
  for (i = 1; i < nkeep; i++)
    for (j = i; j > 0 && keep[j - 1] > keep[j]; j--)
      {
        int t = keep[j];
        keep[j] = keep[j - 1];
        keep[j - 1] = t;
      }
  for (i = 0; i < nkeep; i++)
    if (keep[i] >= 3 && (unsigned)keep[i] < first)
      return ctr_error (err, EINVAL, "fd %d is both preserved and internal", keep[i]);
  for (fd = 3; (unsigned)fd < first; fd++)
    {
      int flags = fcntl (fd, F_GETFD);
      if (flags >= 0 && (flags & FD_CLOEXEC) && fcntl (fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
        return ctr_error (err, errno, "preserving fd %d", fd);
    }
  /* close everything from `first` on but the kept fds (which close on exec) */
  for (i = 0; i < nkeep; i++)
    {
      if (keep[i] < (int)from)
        continue;
      if (fcntl (keep[i], F_SETFD, FD_CLOEXEC) < 0)
        return ctr_error (err, errno, "fd %d", keep[i]);
      if ((unsigned)keep[i] > from && close_from (from, (unsigned)keep[i] - 1) < 0)
        return ctr_error (err, errno, "closing fds from %u", from);
      from = (unsigned)keep[i] + 1;
    }
  if (close_from (from, ~0U) < 0)
    return ctr_error (err, errno, "closing fds from %u", from);
  return 0;
}

/* HOME from the container's /etc/passwd when the environment has none (runc and crun do
   the same); "/" when the user has no entry. */
static char *
home_from_passwd (uid_t uid)
{
  cleanup_free char *data = NULL;
  char *line, *save = NULL;
  size_t len;

  if (read_file_at (AT_FDCWD, "/etc/passwd", 4 * 1024 * 1024, &data, &len, NULL) == 0)
    for (line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
      {
        char *fields[7];
        char *f = line;
        size_t i;

        for (i = 0; i < 7 && f; i++)
          {
            fields[i] = f;
            f = strchr (f, ':');
            if (f)
              *f++ = '\0';
          }
        if (i == 7 && strtoul (fields[2], NULL, 10) == uid && fields[5][0])
          return xasprintf ("HOME=%s", fields[5]);
      }
  return xstrdup ("HOME=/");
}

static char **
exec_env (const struct process_plan *plan)
{
  char *const *env = plan->proc->env;
  size_t n = strv_len (env);
  char **out;

  out = xzalloc ((n + 2) * sizeof (char *));
  if (n > 0)
    memcpy (out, env, n * sizeof (char *));
  if (env_lookup (env, "HOME") == NULL)
    out[n] = home_from_passwd (plan->proc->user.uid);
  return out;
}

/* The capabilities of the plan without the CAP_SYS_ADMIN kept for loading seccomp.
   A raw capset: nothing may allocate once the filter is in place. */
static int
drop_kept_sys_admin (const struct process_plan *plan, ctr_error_t *err)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2];
  const uint64_t eff = plan->caps[PROCESS_CAP_EFFECTIVE];
  const uint64_t perm = plan->caps[PROCESS_CAP_PERMITTED];
  /* the capabilities carried across ctr-stub stay inheritable (and so ambient) */
  const uint64_t inh = plan->caps[PROCESS_CAP_INHERITABLE] | plan->stub_carry;
  int i;

  for (i = 0; i < 2; i++)
    {
      data[i].effective = (uint32_t)(eff >> (32 * i));
      data[i].permitted = (uint32_t)(perm >> (32 * i));
      data[i].inheritable = (uint32_t)(inh >> (32 * i));
    }
  if (syscall (SYS_capset, &hdr, data) < 0)
    return ctr_error (err, errno, "dropping CAP_SYS_ADMIN after loading seccomp: capset");
  return 0;
}

/* Loads the filter and hands its listener to fn. */
static int
load_filter (const struct process_plan *plan, const struct process_seccomp *s,
             process_listener_fn fn, void *data, ctr_error_t *err)
{
  int listener;

  if (s == NULL || s->len == 0)
    return 0;
  if (s->notify && fn == NULL)
    return ctr_error (err, 0, "linux.seccomp: SCMP_ACT_NOTIFY needs a listener receiver");
  listener = process_seccomp_load (s, err);
  if (listener < 0)
    {
      if (err && *err && (*err)->status == EACCES && !plan->proc->no_new_privileges)
        return ctr_error_wrap (err, "without process.noNewPrivileges, CAP_SYS_ADMIN is "
                                    "needed");
      return -1;
    }
  if (s->notify && fn (listener, data, err) < 0)
    return ctr_error_wrap (err, "linux.seccomp: passing on the listener fd");
  return 0;
}

int
process_seccomp_enter (struct process_plan *plan, const struct process_seccomp *s,
                       process_listener_fn fn, void *data, ctr_error_t *err)
{
  if (load_filter (plan, s, fn, data, err) < 0)
    return -1;
  if (plan->keep_sys_admin && drop_kept_sys_admin (plan, err) < 0)
    return -1;
  plan->keep_sys_admin = false;
  return 0;
}

int
process_exec_with_listener (const struct process_plan *plan, const char *path,
                            const struct process_seccomp *s, int preserve_fds, int keep_fd,
                            int listener_sock, process_listener_fn fn, void *data,
                            const struct process_stub *stub, ctr_error_t *err)
{
  cleanup_free char **env = NULL;
  int keep[4] = { keep_fd, listener_sock, stub ? stub->fd : -1, stub ? stub->sync_fd : -1 };

  if (s && s->len > 0 && s->notify && fn == NULL)
    return ctr_error (err, 0, "linux.seccomp: SCMP_ACT_NOTIFY needs a listener receiver");
  env = exec_env (plan);
  if (prepare_fds (preserve_fds, keep, ARRAY_SIZE (keep), err) < 0)
    return -1;
  /* the stub's report channel crosses its execve (it closes it on the container's) */
  if (stub && stub->sync_fd >= 0 && fcntl (stub->sync_fd, F_SETFD, 0) < 0)
    return ctr_error (err, errno, "fd %d", stub->sync_fd);
  if (load_filter (plan, s, fn, data, err) < 0)
    return -1;
  if (plan->keep_sys_admin && drop_kept_sys_admin (plan, err) < 0)
    return -1;
  if (stub)
    {
      /* what ctr-stub restores before the program's execve (STUB_CAPS, stub/ctr-stub.c) */
      const uint64_t caps[3]
          = { plan->caps[PROCESS_CAP_EFFECTIVE], plan->caps[PROCESS_CAP_INHERITABLE],
              plan->stub_carry & plan->caps[PROCESS_CAP_INHERITABLE] };
      return selfexec_exec_stub (stub->fd, stub->flags | (plan->stub_restore ? STUB_CAPS : 0),
                                 stub->sync_fd, plan->stub_restore ? caps : NULL, path,
                                 plan->proc->args, env, err);
    }
  execve (path, plan->proc->args, env);
  return ctr_error (err, errno, "exec `%s`", path);
}

int
process_exec (const struct process_plan *plan, const char *path, const struct process_seccomp *s,
              int preserve_fds, int keep_fd, ctr_error_t *err)
{
  return process_exec_with_listener (plan, path, s, preserve_fds, keep_fd, -1, NULL, NULL, NULL,
                                     err);
}
