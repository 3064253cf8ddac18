/* checkconfig: the host and user checks behind `ctr check-config` (results only, no printing). */
#include <config.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "checkconfig/checkconfig.h"
#include "rootfs/lxcfs.h"
#include "system/store.h"
#include "base/owned_dir.h"
#include "base/util.h"

/* What most images expect to find mapped: uids and gids up to 65534 (nobody). */
#define SUBID_WANTED 65536
/* Where useradd starts handing out ranges (SUB_UID_MIN in login.defs). */
#define SUBID_FIRST 100000
#define SMALL_FILE_MAX (1024 * 1024)

static struct check_result *
add_result (struct check_report *r, const char *name, bool there, bool required, char *detail)
{
  struct check_result *res;

  r->results = xrealloc (r->results, (r->n + 1) * sizeof *r->results);
  res = &r->results[r->n++];
  res->name = xstrdup (name);
  res->required = required;
  res->status = there ? CHECK_OK : required ? CHECK_MISSING : CHECK_WARN;
  res->detail = detail;
  res->advice = NULL;
  return res;
}

/* Sets the advice of a result that is not ok (ok results carry none). */
static void __attribute__ ((format (printf, 2, 3)))
advise (struct check_result *res, const char *fmt, ...)
{
  va_list ap;
  char *s;

  if (res->status == CHECK_OK)
    return;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  va_end (ap);
  free (res->advice);
  res->advice = s;
}

/* A one-line file (sysctl, cgroup list) without its trailing newline; NULL (errno set). */
static char *
read_line_file (const char *path)
{
  char *text = NULL;
  size_t len = 0;
  ctr_error_t err = NULL;

  if (read_file_at (AT_FDCWD, path, SMALL_FILE_MAX, &text, &len, &err) < 0)
    {
      int saved = err ? err->status : EIO;
      ctr_error_free (&err);
      errno = saved;
      return NULL;
    }
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
    text[--len] = '\0';
  return text;
}

/* A numeric sysctl: 0, or -1 with errno (ENOENT when this kernel has no such knob). */
static int
read_sysctl (const char *path, int64_t *value)
{
  cleanup_free char *text = read_line_file (path);
  if (text == NULL)
    return -1;
  if (parse_int64 (text, value) < 0)
    return -1;
  return 0;
}

/* The executable `name` as execvp would find it (glibc's default path when PATH is unset),
   then in extra (a colon-separated list, may be NULL). */
static char *
find_program (const char *name, const char *extra)
{
  const char *path = getenv ("PATH");
  cleanup_free char *dirs = xasprintf ("%s:%s", path ? path : "/bin:/usr/bin", extra ? extra : "");
  char *save = NULL;
  struct stat st;

  for (char *d = strtok_r (dirs, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      char *candidate = xasprintf ("%s/%s", d, name);
      if (stat (candidate, &st) == 0 && S_ISREG (st.st_mode)
          && faccessat (AT_FDCWD, candidate, X_OK, AT_EACCESS) == 0)
        return candidate;
      free (candidate);
    }
  return NULL;
}

/* ------------------------------------------------------------------- namespaces */

static void
check_namespaces (struct check_report *r)
{
  static const struct
  {
    const char *ns, *config, *use;
    bool required; /* in both modes; the user namespace only rootless */
  } table[] = {
    { "mnt", "CONFIG_NAMESPACES", "every container", true },
    { "pid", "CONFIG_PID_NS", "the default config", true },
    { "net", "CONFIG_NET_NS", "the default config", true },
    { "ipc", "CONFIG_IPC_NS", "the default config", true },
    { "uts", "CONFIG_UTS_NS", "the default config", true },
    { "cgroup", "CONFIG_CGROUPS", "configs with a cgroup namespace", false },
    { "time", "CONFIG_TIME_NS", "configs with a time namespace", false },
    { "user", "CONFIG_USER_NS", "rootless containers and configs with a user namespace", false },
  };

  for (size_t i = 0; i < ARRAY_SIZE (table); i++)
    {
      cleanup_free char *path = xasprintf ("/proc/self/ns/%s", table[i].ns);
      cleanup_free char *name = xasprintf ("namespace.%s", table[i].ns);
      bool there = access (path, F_OK) == 0;
      bool required = table[i].required || (r->rootless && strcmp (table[i].ns, "user") == 0);
      struct check_result *res = add_result (
          r, name, there, required,
          there ? xasprintf ("supported (needed by %s)", table[i].use)
                : xasprintf ("not supported by this kernel (needed by %s)", table[i].use));
      advise (res, "the kernel has no %s namespace: use a kernel built with %s", table[i].ns,
              table[i].config);
    }
}

/* ------------------------------------------------------------------- user namespaces */

struct userns_knobs
{
  int64_t max; /* user.max_user_namespaces; -1 when absent */
  int64_t unpriv_clone;
  int64_t apparmor;
};

static void
check_userns_sysctls (struct check_report *r, struct userns_knobs *k)
{
  struct check_result *res;
  bool rl = r->rootless;

  if (read_sysctl ("/proc/sys/user/max_user_namespaces", &k->max) < 0)
    k->max = -1;
  res = add_result (r, "user.max_user_namespaces", k->max != 0, rl,
                    k->max < 0 ? xstrdup ("not present (no user namespace support)")
                               : xasprintf ("%lld", (long long)k->max));
  advise (res, "user namespaces disabled: sysctl -w user.max_user_namespaces=15000 (and set it in "
               "/etc/sysctl.d/ to keep it)");

  if (read_sysctl ("/proc/sys/kernel/unprivileged_userns_clone", &k->unpriv_clone) < 0)
    k->unpriv_clone = -1;
  res = add_result (
      r, "kernel.unprivileged_userns_clone", k->unpriv_clone != 0 || !rl, rl,
      k->unpriv_clone < 0    ? xstrdup ("not present on this kernel (no such restriction)")
      : k->unpriv_clone != 0 ? xasprintf ("%lld: unprivileged users may create user namespaces",
                                          (long long)k->unpriv_clone)
                             : xstrdup ("0: only root may create user namespaces"));
  advise (res,
          "unprivileged user namespaces disabled: sysctl -w kernel.unprivileged_userns_clone=1 "
          "(and set it in /etc/sysctl.d/ to keep it)");

  if (read_sysctl ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", &k->apparmor) < 0)
    k->apparmor = -1;
  res = add_result (
      r, "kernel.apparmor_restrict_unprivileged_userns", k->apparmor <= 0 || !rl, rl,
      k->apparmor < 0 ? xstrdup ("not present on this kernel (no such restriction)")
      : k->apparmor == 0
          ? xstrdup ("0: user namespaces of unprivileged users are not restricted")
          : xasprintf ("%lld: AppArmor denies capabilities in unprivileged user namespaces",
                       (long long)k->apparmor));
  advise (res, "AppArmor restricts unprivileged user namespaces: sysctl -w "
               "kernel.apparmor_restrict_unprivileged_userns=0, or give ctr an AppArmor profile "
               "that allows `userns,`");
}

static int
write_self (const char *file, const char *data)
{
  int fd = open (file, O_WRONLY | O_CLOEXEC);
  ssize_t n;
  if (fd < 0)
    return -1;
  n = write (fd, data, strlen (data));
  close (fd);
  return n < 0 ? -1 : 0;
}

static const char *const probe_steps[]
    = { "fork", "unshare(CLONE_NEWUSER)", "write /proc/self/setgroups", "write /proc/self/uid_map",
        "write /proc/self/gid_map" };

/* The probe child's work: 0, or the index in probe_steps of what failed (errno set). */
static int
probe_userns_child (uid_t uid, gid_t gid)
{
  char map[64];

  if (unshare (CLONE_NEWUSER) < 0)
    return 1;
  if (write_self ("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
    return 2;
  snprintf (map, sizeof map, "0 %u 1\n", (unsigned)uid);
  if (write_self ("/proc/self/uid_map", map) < 0)
    return 3;
  snprintf (map, sizeof map, "0 %u 1\n", (unsigned)gid);
  if (write_self ("/proc/self/gid_map", map) < 0)
    return 4;
  return 0;
}

/* In a throw-away child: unshare a user namespace and map ourselves to root in it, the
   least ctr does rootless. Returns NULL on success, else what failed. */
static char *
probe_userns (void)
{
  int fds[2], report[2] = { 0, 0 }, status;
  uid_t uid = geteuid ();
  gid_t gid = getegid ();
  ssize_t got;
  pid_t pid;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return xasprintf ("pipe: %s", strerror (errno));
  pid = fork ();
  if (pid == 0)
    {
      close (fds[0]);
      report[0] = probe_userns_child (uid, gid);
      report[1] = errno;
      _exit (write (fds[1], report, sizeof report) == (ssize_t)sizeof report ? 0 : 1);
    }
  report[1] = errno;
  close (fds[1]);
  got = pid > 0 ? read_all (fds[0], report, sizeof report) : 0;
  close (fds[0]);
  if (pid < 0)
    return xasprintf ("%s: %s", probe_steps[0], strerror (report[1]));
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (got != (ssize_t)sizeof report || report[0] < 0 || report[0] >= (int)ARRAY_SIZE (probe_steps))
    return xstrdup ("the probe process failed");
  if (report[0] == 0)
    return NULL;
  return xasprintf ("%s: %s", probe_steps[report[0]], strerror (report[1]));
}

static void
check_userns_create (struct check_report *r, const struct userns_knobs *k)
{
  cleanup_free char *failure = access ("/proc/self/ns/user", F_OK) == 0
                                   ? probe_userns ()
                                   : xstrdup ("the kernel has no user namespaces");
  struct check_result *res = add_result (
      r, "userns.create", failure == NULL, r->rootless,
      failure ? xstrdup (failure)
              : xasprintf ("a new user namespace maps uid %u to root", (unsigned)r->uid));

  if (access ("/proc/self/ns/user", F_OK) != 0)
    advise (res, "use a kernel built with CONFIG_USER_NS");
  else if (k->max == 0)
    advise (res, "user namespaces disabled: sysctl -w user.max_user_namespaces=15000");
  else if (k->unpriv_clone == 0 && r->rootless)
    advise (res, "unprivileged user namespaces disabled: sysctl -w "
                 "kernel.unprivileged_userns_clone=1");
  else if (k->apparmor > 0 && r->rootless)
    advise (res, "AppArmor restricts unprivileged user namespaces: sysctl -w "
                 "kernel.apparmor_restrict_unprivileged_userns=0");
  else
    advise (res, "user namespaces cannot be created: check the sysctls above, the limit in "
                 "user.max_user_namespaces, and SELinux or seccomp policies of this session");
}

/* ------------------------------------------------------------------- subordinate ids */

struct subids
{
  int error;       /* errno reading the file, 0 when read */
  uint64_t total;  /* ids in the user's ranges */
  char *ranges;    /* "100000-165535, ..."; NULL when none */
  uint64_t in_use; /* the first id after every range of every user */
};

static void
read_subids (const char *path, const struct check_report *r, struct subids *s)
{
  cleanup_free char *text = NULL;
  cleanup_free char *uid = xasprintf ("%u", (unsigned)r->uid);
  ctr_error_t err = NULL;
  char *save = NULL;
  size_t len = 0;

  memset (s, 0, sizeof *s);
  if (read_file_at (AT_FDCWD, path, 16 * SMALL_FILE_MAX, &text, &len, &err) < 0)
    {
      s->error = err && err->status ? err->status : EIO;
      ctr_error_free (&err);
      return;
    }
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *start = strchr (line, ':'), *count;
      uint64_t first, n;

      if (line[0] == '#' || start == NULL || (count = strchr (start + 1, ':')) == NULL)
        continue;
      *start++ = '\0';
      *count++ = '\0';
      if (parse_uint64 (start, &first) < 0 || parse_uint64 (count, &n) < 0 || n == 0)
        continue;
      if (first + n > s->in_use)
        s->in_use = first + n;
      if (strcmp (line, r->user) != 0 && strcmp (line, uid) != 0)
        continue;
      s->total += n;
      char *range = xasprintf ("%s%s%llu-%llu", s->ranges ? s->ranges : "", s->ranges ? ", " : "",
                               (unsigned long long)first, (unsigned long long)(first + n - 1));
      free (s->ranges);
      s->ranges = range;
    }
}

static void
add_subid_result (struct check_report *r, const char *kind, const char *path,
                  const struct subids *s, const struct subids *other, uint64_t next)
{
  const char *what = strcmp (kind, "subuid") == 0 ? "uid" : "gid";
  struct check_result *res;
  bool enough = s->total >= SUBID_WANTED;
  cleanup_free char *fix = NULL;

  if (!r->rootless)
    {
      add_result (r, kind, true, false,
                  xasprintf ("not needed as root%s%s", s->ranges ? "; root has " : "",
                             s->ranges ? s->ranges : ""));
      return;
    }
  if (!enough)
    {
      uint64_t want = SUBID_WANTED - s->total;
      cleanup_free char *range = xasprintf ("%llu-%llu", (unsigned long long)next,
                                            (unsigned long long)(next + want - 1));
      cleanup_free char *also
          = s->total == 0 && other->total == 0
                ? xasprintf (" --add-sub%ss %s", *what == 'u' ? "gid" : "uid", range)
                : xstrdup ("");
      fix = xasprintf ("run `usermod --add-sub%ss %s%s %s` as root", what, range, also, r->user);
    }
  if (s->total == 0)
    {
      res = add_result (r, kind, false, false,
                        s->error && s->error != ENOENT
                            ? xasprintf ("cannot read %s: %s", path, strerror (s->error))
                            : xasprintf ("no %s entry for %s", path, r->user));
      advise (res, "no %s entry for %s: only one %s is mapped; %s", path, r->user, what, fix);
      return;
    }
  res = add_result (
      r, kind, enough, false,
      xasprintf ("%s: %s (%llu ids)", r->user, s->ranges, (unsigned long long)s->total));
  advise (res, "only %llu sub%ss for %s: images that use ids up to 65534 need %d; %s",
          (unsigned long long)s->total, what, r->user, SUBID_WANTED, fix);
}

static void
check_subids (struct check_report *r)
{
  struct subids u, g;
  uint64_t next;

  read_subids ("/etc/subuid", r, &u);
  read_subids ("/etc/subgid", r, &g);
  next = u.in_use > g.in_use ? u.in_use : g.in_use;
  if (next < SUBID_FIRST)
    next = SUBID_FIRST;
  add_subid_result (r, "subuid", "/etc/subuid", &u, &g, next);
  add_subid_result (r, "subgid", "/etc/subgid", &g, &u, next);
  free (u.ranges);
  free (g.ranges);
}

/* ------------------------------------------------------------------- newuidmap, newgidmap */

/* Whether the helper can do its job: setuid root on a suid mount, or a file capability. */
static bool
helper_privileged (const char *path, cap_value_t cap, char **how)
{
  struct stat st;
  struct statvfs vfs;
  cap_flag_value_t v = CAP_CLEAR;
  cap_t caps;

  if (stat (path, &st) < 0)
    return *how = xasprintf ("%s: %s", path, strerror (errno)), false;
  if (statvfs (path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID))
    return *how = xasprintf ("%s is on a nosuid mount", path), false;
  if (st.st_uid == 0 && (st.st_mode & S_ISUID))
    return *how = xasprintf ("%s (setuid root)", path), true;
  caps = cap_get_file (path);
  if (caps != NULL)
    {
      cap_get_flag (caps, cap, CAP_PERMITTED, &v);
      cap_free (caps);
    }
  if (v == CAP_SET)
    return *how = xasprintf ("%s (file capability %s)", path,
                             cap == CAP_SETUID ? "cap_setuid" : "cap_setgid"),
           true;
  *how = xasprintf ("%s is neither setuid root nor has the %s file capability", path,
                    cap == CAP_SETUID ? "cap_setuid" : "cap_setgid");
  return false;
}

static void
check_id_map_helper (struct check_report *r, const char *helper, cap_value_t cap)
{
  cleanup_free char *path = find_program (helper, NULL);
  struct check_result *res;
  char *how = NULL;
  bool ok;

  if (path == NULL)
    {
      res = add_result (
          r, helper, !r->rootless, false,
          xasprintf ("not found in PATH%s", r->rootless ? "" : " (not needed as root)"));
      advise (res,
              "%s not found: apt-get install uidmap (needed to map the ranges of "
              "/etc/sub%cid)",
              helper, helper[3]);
      return;
    }
  ok = helper_privileged (path, cap, &how);
  if (!r->rootless)
    {
      res = add_result (r, helper, true, false, xasprintf ("%s; not needed as root", how));
      free (how);
      return;
    }
  res = add_result (r, helper, ok, false, how);
  advise (res,
          "%s cannot map id ranges: apt-get install --reinstall uidmap, or chmod u+s %s "
          "(or setcap %s+ep %s)",
          helper, path, cap == CAP_SETUID ? "cap_setuid" : "cap_setgid", path);
}

/* ------------------------------------------------------------------- cgroups */

#define CGROUP_MOUNT "/sys/fs/cgroup"

/* The cgroup v1 hierarchies mounted under /sys/fs/cgroup, space separated ("" when none). */
static char *
v1_hierarchies (void)
{
  cleanup_dir DIR *d = opendir (CGROUP_MOUNT);
  char *list = xstrdup ("");
  struct dirent *e;

  while (d && (e = readdir (d)) != NULL)
    {
      cleanup_free char *path = NULL;
      struct statfs st;
      struct stat lst;

      if (e->d_name[0] == '.')
        continue;
      path = xasprintf ("%s/%s", CGROUP_MOUNT, e->d_name);
      /* cpu,cpuacct style symlinks name a hierarchy twice */
      if (lstat (path, &lst) < 0 || !S_ISDIR (lst.st_mode))
        continue;
      if (statfs (path, &st) == 0 && st.f_type == CGROUP_SUPER_MAGIC)
        {
          char *more = xasprintf ("%s%s%s", list, *list ? " " : "", e->d_name);
          free (list);
          list = more;
        }
    }
  return list;
}

static void
check_cgroup_layout (struct check_report *r, enum cgroup_layout layout)
{
  cleanup_free char *v1 = v1_hierarchies ();
  cleanup_free char *v2 = NULL;
  struct check_result *res;
  bool there;

  if (layout == CGROUP_LAYOUT_UNIFIED)
    {
      v2 = read_line_file (CGROUP_MOUNT "/cgroup.controllers");
      there = true;
      res = add_result (r, "cgroup.layout", there, !r->rootless,
                        xasprintf ("unified (cgroup v2 at %s; controllers: %s)", CGROUP_MOUNT,
                                   v2 && *v2 ? v2 : "none"));
    }
  else
    {
      there = *v1 != '\0';
      res = add_result (r, "cgroup.layout", there, !r->rootless,
                        there ? xasprintf ("%s (cgroup v1: %s%s)", cgroup_layout_name (layout), v1,
                                           layout == CGROUP_LAYOUT_HYBRID
                                               ? "; cgroup2 at " CGROUP_MOUNT "/unified"
                                               : "")
                              : xstrdup ("no cgroup hierarchy mounted at " CGROUP_MOUNT));
    }
  advise (res,
          "no cgroups: mount -t cgroup2 none %s (a kernel with CONFIG_CGROUPS; "
          "systemd mounts it at boot)",
          CGROUP_MOUNT);
}

/* The process's cgroup v2 directory, NULL when there is no v2 hierarchy. */
static char *
own_v2_cgroup (enum cgroup_layout layout)
{
  const char *mount = layout == CGROUP_LAYOUT_UNIFIED  ? CGROUP_MOUNT
                      : layout == CGROUP_LAYOUT_HYBRID ? CGROUP_MOUNT "/unified"
                                                       : NULL;
  cleanup_free char *text = NULL;
  ctr_error_t err = NULL;
  size_t len = 0;
  char *save = NULL;

  if (mount == NULL)
    return NULL;
  if (read_file_at (AT_FDCWD, "/proc/self/cgroup", SMALL_FILE_MAX, &text, &len, &err) < 0)
    {
      ctr_error_free (&err);
      return NULL;
    }
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if (strncmp (line, "0::", 3) == 0)
      return xasprintf ("%s%s", mount, strcmp (line + 3, "/") == 0 ? "" : line + 3);
  return NULL;
}

static char *
read_cgroup_file (const char *dir, const char *file)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  return read_line_file (path);
}

/* Delegated the way systemd delegates: the directory and its control files are the user's. */
static bool
cgroup_owned (const char *dir, uid_t uid)
{
  cleanup_free char *procs = xasprintf ("%s/cgroup.procs", dir);
  cleanup_free char *subtree = xasprintf ("%s/cgroup.subtree_control", dir);
  struct stat st;

  return stat (dir, &st) == 0 && st.st_uid == uid
         && faccessat (AT_FDCWD, procs, W_OK, AT_EACCESS) == 0
         && faccessat (AT_FDCWD, subtree, W_OK, AT_EACCESS) == 0;
}

static void
check_cgroup_delegation (struct check_report *r, enum cgroup_layout layout)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *controllers = NULL;
  cleanup_free char *subtree = NULL;
  cleanup_free char *service = NULL;
  cleanup_free char *deleg = NULL, *reason = NULL;
  struct check_result *res;

  if (!r->rootless)
    {
      add_result (r, "cgroup.delegation", true, false,
                  xstrdup ("not needed as root (ctr manages " CGROUP_MOUNT ")"));
      return;
    }
  /* the same answer `ctr run` acts on */
  deleg = cgroup_delegation_root (&reason);
  dir = own_v2_cgroup (layout);
  if (deleg == NULL)
    {
      res = add_result (
          r, "cgroup.delegation", false, false,
          reason ? xasprintf ("%s: resource limits are skipped", reason)
          : dir ? xasprintf ("%s is not delegated to %s: resource limits are skipped", dir, r->user)
                : xstrdup ("no cgroup v2 hierarchy: resource limits are skipped"));
      service = xasprintf ("%s%s/user.slice/user-%u.slice/user@%u.service", CGROUP_MOUNT,
                           layout == CGROUP_LAYOUT_HYBRID ? "/unified" : "", (unsigned)r->uid,
                           (unsigned)r->uid);
      if (layout != CGROUP_LAYOUT_UNIFIED)
        advise (res, "cgroup v1 controllers cannot be delegated: boot with "
                     "systemd.unified_cgroup_hierarchy=1 for a pure cgroup v2 host");
      else if (cgroup_owned (service, r->uid))
        advise (res,
                "this process is outside %s's delegated subtree: run ctr under "
                "`systemd-run --user --scope`",
                r->user);
      else
        advise (res,
                "no delegated cgroup subtree for %s: enable systemd's user delegation "
                "(Delegate=yes for user@.service) and log in again",
                r->user);
      return;
    }
  free (dir);
  dir = xasprintf ("%s%s", CGROUP_MOUNT, deleg);
  controllers = read_cgroup_file (dir, "cgroup.controllers");
  subtree = read_cgroup_file (dir, "cgroup.subtree_control");
  res = add_result (r, "cgroup.delegation", controllers && *controllers, false,
                    xasprintf ("%s is delegated to %s; controllers: %s; subtree_control: %s", dir,
                               r->user, controllers && *controllers ? controllers : "none",
                               subtree && *subtree ? subtree : "none"));
  advise (res,
          "no controllers are available in %s: limits cannot be applied; enable them "
          "with Delegate=cpu cpuset io memory pids for user@.service",
          dir);
}

/* ------------------------------------------------------------------- seccomp, overlayfs */

static void
check_seccomp (struct check_report *r)
{
  const struct scmp_version *v = seccomp_version ();
  cleanup_free char *actions = read_line_file ("/proc/sys/kernel/seccomp/actions_avail");
  int mode = prctl (PR_GET_SECCOMP, 0, 0, 0, 0);
  bool there = mode >= 0 && actions != NULL;
  struct check_result *res;

  res = add_result (
      r, "seccomp", there, true,
      !there
          ? xstrdup (mode < 0 ? "the kernel has no seccomp" : "the kernel has no seccomp filters")
          : xasprintf ("filters; actions: %s%s; libseccomp %u.%u.%u%s", actions,
                       strstr (actions, "user_notif") ? "" : " (no user_notif: no seccomp notify)",
                       v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0,
                       mode == 2 ? "; this process already runs under a filter" : ""));
  advise (res, "use a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER (the default "
               "config of `ctr spec` has a seccomp profile), or remove linux.seccomp from "
               "config.json");
}

static bool
overlay_module_available (void)
{
  static const char *const lists[] = { "modules.builtin", "modules.dep" };
  struct utsname u;

  if (uname (&u) < 0)
    return false;
  for (size_t i = 0; i < ARRAY_SIZE (lists); i++)
    {
      cleanup_free char *path = xasprintf ("/lib/modules/%s/%s", u.release, lists[i]);
      cleanup_free char *text = NULL;
      ctr_error_t err = NULL;
      size_t len = 0;
      if (read_file_at (AT_FDCWD, path, 64 * SMALL_FILE_MAX, &text, &len, &err) < 0)
        ctr_error_free (&err);
      else if (strstr (text, "/overlay.ko") != NULL)
        return true;
    }
  return false;
}

/* Overlayfs mounts in a user namespace came with Linux 5.11. */
static bool
kernel_at_least (int major, int minor)
{
  struct utsname u;
  int ma = 0, mi = 0;
  return uname (&u) == 0 && sscanf (u.release, "%d.%d", &ma, &mi) == 2
         && (ma > major || (ma == major && mi >= minor));
}

static void
check_overlayfs (struct check_report *r)
{
  cleanup_free char *fs = NULL;
  ctr_error_t err = NULL;
  size_t len = 0;
  bool loaded, module = false, userns_ok = !r->rootless || kernel_at_least (5, 11);
  struct check_result *res;

  if (read_file_at (AT_FDCWD, "/proc/filesystems", SMALL_FILE_MAX, &fs, &len, &err) < 0)
    ctr_error_free (&err);
  loaded = fs && strstr (fs, "\toverlay\n") != NULL;
  if (!loaded)
    module = overlay_module_available ();
  res = add_result (r, "overlayfs", (loaded || module) && userns_ok, false,
                    xasprintf ("%s%s",
                               loaded   ? "in /proc/filesystems"
                               : module ? "module overlay not loaded yet (modprobe overlay)"
                                        : "not in /proc/filesystems and no overlay module",
                               userns_ok ? "" : "; rootless overlay mounts need Linux 5.11"));
  if (!userns_ok)
    advise (res, "rootless overlayfs needs Linux 5.11 or later");
  else
    advise (res, "no overlayfs: use a kernel built with CONFIG_OVERLAY_FS");
}

/* ------------------------------------------------------------------- networking */

static void
check_nftables (struct check_report *r)
{
  void *lib = dlopen ("libnftables.so.1", RTLD_LAZY | RTLD_LOCAL);
  cleanup_free char *nft = find_program ("nft", "/usr/sbin:/sbin");
  cleanup_free char *tool = nft ? xasprintf ("nft at %s", nft)
                                : xstrdup ("no nft command (apt-get install nftables to inspect "
                                           "the rules)");
  struct check_result *res;

  if (lib)
    dlclose (lib);
  res = add_result (r, "nftables", lib != NULL || r->rootless, false,
                    xasprintf ("%s; %s%s", lib ? "libnftables.so.1 loads" : "no libnftables.so.1",
                               tool, r->rootless ? "; not used rootless" : ""));
  advise (res, "libnftables.so.1 not found: named networks get no NAT or published ports; "
               "apt-get install libnftables1");
}

static void
check_rootless_network (struct check_report *r)
{
  cleanup_free char *pasta = find_program ("pasta", NULL);
  cleanup_free char *slirp = find_program ("slirp4netns", NULL);
  struct check_result *res;

  res = add_result (r, "rootless-network", pasta || slirp || !r->rootless, false,
                    xasprintf ("pasta: %s; slirp4netns: %s%s", pasta ? pasta : "not found",
                               slirp ? slirp : "not found",
                               r->rootless ? "" : "; not needed as root (bridge networks)"));
  advise (res, "neither pasta nor slirp4netns found: rootless containers get loopback only; "
               "apt-get install passt (or slirp4netns)");
  /* both helpers open the tun device as the user */
  {
    bool tun = !r->rootless || access ("/dev/net/tun", R_OK | W_OK) == 0;
    res = add_result (r, "tun-device", tun, false,
                      !r->rootless ? xstrdup ("not needed as root")
                      : tun        ? xstrdup ("/dev/net/tun: readable and writable")
                                   : xasprintf ("/dev/net/tun: %s", strerror (errno)));
    advise (res, "pasta and slirp4netns open /dev/net/tun as you: udev makes it mode 0666 on "
                 "Debian; as root: chmod 0666 /dev/net/tun");
  }
}

/* ------------------------------------------------------------------- lxcfs */

/* System containers get lxcfs's /proc files when it runs (rootfs/lxcfs.h): where it is
   mounted, found as the start finds it ($CTR_LXCFS_DIR, /var/lib/lxcfs, any fuse.lxcfs). */
static void
check_lxcfs (struct check_report *r)
{
  cleanup_free char *bin = find_program ("lxcfs", "/usr/bin:/usr/sbin"), *why = NULL;
  cleanup_error ctr_error_t err = NULL;
  cleanup_free char *mnt = lxcfs_find (&why, &err);
  struct check_result *res;

  res = add_result (
      r, "lxcfs", mnt != NULL, false,
      mnt   ? xasprintf ("running, mounted at %s: system containers get its /proc "
                           "files (free, top, uptime see their limits)",
                         mnt)
      : err ? ctr_error_string (err)
            : xasprintf ("%s; %s%s", why, bin ? "installed at " : "not installed", bin ? bin : ""));
  advise (res, "%s",
          bin ? "start it (systemctl start lxcfs, or lxcfs DIR with CTR_LXCFS_DIR=DIR) for "
                "system containers to see their own limits in /proc"
              : "apt-get install lxcfs: system containers then see their own limits in /proc "
                "(free, top, uptime)");
}

/* ------------------------------------------------------------------- directories */

/* Whether ctr could create and use path as the directory it trusts (what names it), by
   the rules ctr itself applies (base/owned_dir.h): the path when it exists, else its
   nearest existing ancestor. *detail says which. */
static bool
dir_usable (const char *path, const char *what, char **detail)
{
  cleanup_free char *at = NULL;
  cleanup_error ctr_error_t err = NULL;
  int fd = owned_dir_probe (path, what, &at, &err);
  bool writable;
  int e;

  if (fd < 0)
    return *detail = ctr_error_string (err), false;
  writable = faccessat (fd, "", W_OK | X_OK, AT_EACCESS | AT_EMPTY_PATH) == 0;
  e = errno;
  close (fd);
  if (!writable)
    return *detail = xasprintf ("%s: `%s` is not writable (%s)", path, at, strerror (e)), false;
  *detail = strcmp (at, path) == 0
                ? xasprintf ("%s (writable, yours alone)", path)
                : xasprintf ("%s (created on first use; %s is writable)", path, at);
  return true;
}

static void
check_dirs (struct check_report *r, const struct ctr_context *ctx)
{
  const char *state = container_state_root (ctx);
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  char *detail = NULL;
  struct check_result *res;
  bool ok;

  ok = dir_usable (state, "state root", &detail);
  if (r->rootless && !(ctx && ctx->state_root) && !(xdg && *xdg))
    {
      char *more = xasprintf ("%s; $XDG_RUNTIME_DIR is not set", detail);
      free (detail);
      detail = more;
    }
  res = add_result (r, "state-dir", ok, true, detail);
  advise (res, "ctr cannot write its state directory %s: pass --root DIR%s", state,
          r->rootless && !(ctx && ctx->state_root)
              ? ", or set XDG_RUNTIME_DIR to a directory of your own"
              : "");

  ok = dir_usable (store_root (ctx ? ctx->store : NULL), "store", &detail);
  res = add_result (r, "store-dir", ok, false, detail);
  advise (res,
          "ctr cannot write the store of system containers %s: pass --store DIR or set "
          "CTR_STORE",
          store_root (ctx ? ctx->store : NULL));
}

/* ------------------------------------------------------------------- the report */

void
check_config_run (const struct ctr_context *ctx, struct check_report *out)
{
  struct passwd *pw;
  struct userns_knobs knobs;
  enum cgroup_layout layout = cgroup_layout_detect ();

  memset (out, 0, sizeof *out);
  out->rootless = is_rootless ();
  out->uid = geteuid ();
  pw = getpwuid (out->uid);
  out->user = pw ? xstrdup (pw->pw_name) : xasprintf ("%u", (unsigned)out->uid);
  add_result (out, "mode", true, false,
              out->rootless ? xasprintf ("rootless: %s (uid %u)", out->user, (unsigned)out->uid)
                            : xstrdup ("root"));
  check_namespaces (out);
  check_userns_sysctls (out, &knobs);
  check_userns_create (out, &knobs);
  check_subids (out);
  check_id_map_helper (out, "newuidmap", CAP_SETUID);
  check_id_map_helper (out, "newgidmap", CAP_SETGID);
  check_cgroup_layout (out, layout);
  check_cgroup_delegation (out, layout);
  check_seccomp (out);
  check_overlayfs (out);
  check_nftables (out);
  check_rootless_network (out);
  check_lxcfs (out);
  check_dirs (out, ctx);
}

void
check_report_clear (struct check_report *r)
{
  for (size_t i = 0; i < r->n; i++)
    {
      free (r->results[i].name);
      free (r->results[i].detail);
      free (r->results[i].advice);
    }
  free (r->results);
  free (r->user);
  memset (r, 0, sizeof *r);
}

const char *
check_status_name (enum check_status s)
{
  switch (s)
    {
    case CHECK_OK:
      return "ok";
    case CHECK_WARN:
      return "warn";
    case CHECK_MISSING:
      return "missing";
    }
  return "unknown";
}

bool
check_report_ok (const struct check_report *r)
{
  for (size_t i = 0; i < r->n; i++)
    if (r->results[i].status == CHECK_MISSING)
      return false;
  return true;
}
