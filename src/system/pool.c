/* pool: storage pool definitions (<store>/.pools/NAME.json): create, load, list, usage, rm;
   and pool_run_tool, how the filesystem tools (Debian's btrfs-progs, lvm2, e2fsprogs) are
   run. The volumes in a pool are pool_volume.c's; what lives in a pool, pool_usage.c's. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include "base/json.h"
#include "base/log.h"
#include "base/owned_dir.h"
#include "base/util.h"
#include "system/pool.h"
#include "system/pool-internal.h"

#define DEF_MAX (64 * 1024)

static const char *const type_names[] = { "dir", "btrfs", "lvm", "overlay" };

const char *
pool_type_name (enum pool_type t)
{
  return type_names[t];
}

int
pool_type_parse (const char *s, enum pool_type *out)
{
  for (size_t i = 0; i < ARRAY_SIZE (type_names); i++)
    if (strcmp (s, type_names[i]) == 0)
      return *out = (enum pool_type)i, 0;
  return -1;
}

void
pool_clear (struct pool *p)
{
  free (p->name);
  free (p->path);
  free (p->vg);
  free (p->thinpool);
  free (p->created);
  memset (p, 0, sizeof *p);
}

/* ------------------------------------------------------------------ tools */

static const char *const tool_dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

static char *
tool_find (const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE (tool_dirs); i++)
    {
      char *p = xasprintf ("%s/%s", tool_dirs[i], name);
      if (access (p, X_OK) == 0)
        return p;
      free (p);
    }
  return NULL;
}

/* The first line of a tool's complaint that says more than a warning. */
static char *
first_line (const char *text)
{
  const char *line = text, *pick = NULL;
  while (line && *line)
    {
      const char *s = line + strspn (line, " \t");
      size_t len = strcspn (s, "\n");
      if (len && pick == NULL && strncmp (s, "WARNING", 7) != 0)
        pick = s;
      line = s[len] ? s + len + 1 : NULL;
    }
  if (pick == NULL)
    pick = text + strspn (text, " \t\n");
  return xstrndup (pick, strcspn (pick, "\n"));
}

int
pool_run_tool (const char *const *argv, char **out, int keep_fd, ctr_error_t *err)
{
  cleanup_free char *prog = tool_find (argv[0]), *errtext = NULL;
  cleanup_close int errfd = -1;
  const char *lvmdir = getenv ("LVM_SYSTEM_DIR");
  cleanup_free char *lvmenv = lvmdir ? xasprintf ("LVM_SYSTEM_DIR=%s", lvmdir) : NULL;
  char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "LVM_SUPPRESS_FD_WARNINGS=1",
                   lvmenv, NULL };
  pid_t parent = getpid (), pid;
  int fds[2] = { -1, -1 }, status;
  size_t cap = 0, len = 0;
  char *buf = NULL;

  if (prog == NULL)
    return ctr_error (err, 0, "%s not found", argv[0]);
  errfd = memfd_create ("ctr-tool-stderr", MFD_CLOEXEC);
  if (errfd < 0 || (out && pipe2 (fds, O_CLOEXEC) < 0))
    return ctr_error (err, errno, "run %s", argv[0]);
  pid = fork ();
  if (pid < 0)
    return ctr_error (err, errno, "fork");
  if (pid == 0)
    {
      sigset_t none;
      int nul = open ("/dev/null", O_RDWR | O_CLOEXEC);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () != parent)
        _exit (127);
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      if (nul < 0 || dup2 (nul, STDIN_FILENO) < 0 || dup2 (out ? fds[1] : nul, STDOUT_FILENO) < 0
          || dup2 (errfd, STDERR_FILENO) < 0)
        _exit (127);
      if (keep_fd >= 0)
        fcntl (keep_fd, F_SETFD, 0);
      execve (prog, (char *const *)argv, envp);
      dprintf (STDERR_FILENO, "cannot run %s: %s\n", prog, strerror (errno));
      _exit (127);
    }
  if (out)
    {
      ssize_t n;
      close (fds[1]);
      for (;;)
        {
          if (len + 4096 > cap)
            buf = xrealloc (buf, cap = cap * 2 + 8192);
          n = read (fds[0], buf + len, cap - len - 1);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break;
          len += n;
        }
      close (fds[0]);
      buf[len] = '\0';
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      {
        free (buf);
        return ctr_error (err, errno, "wait for %s", argv[0]);
      }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    {
      if (out)
        *out = buf;
      return 0;
    }
  free (buf);
  lseek (errfd, 0, SEEK_SET);
  {
    char text[4096];
    ssize_t n = pread (errfd, text, sizeof text - 1, 0);
    text[n > 0 ? n : 0] = '\0';
    errtext = first_line (text);
  }
  return ctr_error (err, 0, "%s: %s", argv[0], *errtext ? errtext : "failed");
}

/* "--type btrfs needs btrfs-progs (btrfs not found)" */
static int
need_tools (enum pool_type t, ctr_error_t *err)
{
  static const char *const btrfs[][2] = { { "btrfs", "btrfs-progs" } };
  static const char *const lvm[][2] = { { "lvcreate", "lvm2" },
                                        { "lvs", "lvm2" },
                                        { "thin_check", "thin-provisioning-tools" },
                                        { "mkfs.ext4", "e2fsprogs" } };
  const char *const(*list)[2] = t == POOL_BTRFS ? btrfs : t == POOL_LVM ? lvm : NULL;
  size_t n = t == POOL_BTRFS ? ARRAY_SIZE (btrfs) : t == POOL_LVM ? ARRAY_SIZE (lvm) : 0;
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *p = tool_find (list[i][0]);
      if (p == NULL)
        return ctr_error (err, 0, "--type %s needs %s (%s not found)", pool_type_name (t),
                          list[i][1], list[i][0]);
    }
  return 0;
}

/* ------------------------------------------------------------------ definitions */

int
pool_dir_open (const char *store, bool create, ctr_error_t *err)
{
  cleanup_close int rootfd = -1;
  cleanup_free char *path = xasprintf ("%s/%s", store, POOLS_DIR);
  int fd;

  rootfd = owned_dir_open (store, "store", create ? OWNED_DIR_CREATE : OWNED_DIR_MISSING_OK, err);
  if (rootfd == OWNED_DIR_MISSING)
    return errno = ENOENT, -1;
  if (rootfd < 0)
    return -1;
  if (create && mkdirat (rootfd, POOLS_DIR, 0700) < 0 && errno != EEXIST)
    return ctr_error (err, errno, "create `%s`", path);
  fd = owned_subdir_open (rootfd, POOLS_DIR, path, "pool directory", err);
  if (fd < 0 && errno == ENOENT && !create)
    {
      ctr_error_free (err);
      errno = ENOENT;
    }
  return fd;
}

/* Under the lock of `.pools` (fd): removes the `NAME.json.tmp` that a create or an edit
   killed between its write and its rename left; no one else writes there meanwhile. */
static void
pool_dir_sweep (int fd)
{
  cleanup_dir DIR *d = fdopendir (fcntl (fd, F_DUPFD_CLOEXEC, 0));
  struct dirent *de;

  while (d && (de = readdir (d)) != NULL)
    {
      size_t len = strlen (de->d_name);
      /* (a directory of that name is not unlinked, a symlink is, not followed) */
      if (len > 9 && strcmp (de->d_name + len - 9, ".json.tmp") == 0)
        unlinkat (fd, de->d_name, 0);
    }
}

int
pool_dir_lock (const char *store, bool create, ctr_error_t *err)
{
  int fd = pool_dir_open (store, create, err);
  if (fd < 0)
    return -1;
  if (flock (fd, LOCK_EX) < 0)
    {
      int e = errno;
      close (fd);
      return ctr_error (err, e, "lock `%s/%s`", store, POOLS_DIR);
    }
  pool_dir_sweep (fd);
  return fd;
}

static int
pool_parse (const char *text, size_t len, const char *origin, struct pool *p, ctr_error_t *err)
{
  json_value *v = json_parse (text, len, origin, err);
  const char *s;

  memset (p, 0, sizeof *p);
  if (v == NULL)
    return -1;
  if (!json_as_string (json_get (v, "type"), &s) || pool_type_parse (s, &p->type) < 0)
    {
      json_value_free (v);
      return ctr_error (err, 0, "%s: type: unknown pool type", origin);
    }
#define STR(field, key) p->field = json_as_string (json_get (v, key), &s) ? xstrdup (s) : NULL
  STR (name, "name");
  STR (path, "path");
  STR (vg, "vg");
  STR (thinpool, "thinpool");
  STR (created, "created");
#undef STR
  json_value_free (v);
  if ((p->type == POOL_LVM && (p->vg == NULL || p->thinpool == NULL))
      || (p->type != POOL_LVM && (p->path == NULL || p->path[0] != '/')))
    {
      pool_clear (p);
      return ctr_error (err, 0, "%s: incomplete pool definition", origin);
    }
  return 0;
}

int
pool_load (const char *store, const char *name, struct pool *p, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *file = NULL, *text = NULL, *origin = NULL;
  size_t len;

  memset (p, 0, sizeof *p);
  if (name == NULL || strcmp (name, POOL_DEFAULT) == 0)
    {
      p->name = xstrdup (POOL_DEFAULT);
      p->type = POOL_DIR;
      p->path = xstrdup (store);
      return 0;
    }
  if (validate_container_id (name, NULL) < 0)
    return ctr_error (err, 0, "invalid pool name `%s`", name);
  fd = pool_dir_open (store, false, err);
  if (fd < 0 && errno == ENOENT)
    return ctr_error (err, 0, "pool `%s` does not exist (`ctr pool ls` lists them)", name);
  if (fd < 0)
    return -1;
  file = xasprintf ("%s.json", name);
  origin = xasprintf ("%s/%s/%s", store, POOLS_DIR, file);
  if (read_file_at (fd, file, DEF_MAX, &text, &len, err) < 0)
    {
      if (errno == ENOENT)
        {
          ctr_error_free (err);
          return ctr_error (err, 0, "pool `%s` does not exist (`ctr pool ls` lists them)", name);
        }
      return -1;
    }
  return pool_parse (text, len, origin, p, err);
}

static const char *
fs_name (long magic)
{
  switch (magic)
    {
    case BTRFS_SUPER_MAGIC:
      return "btrfs";
    case EXT4_SUPER_MAGIC:
      return "ext4";
    case TMPFS_MAGIC:
      return "tmpfs";
    case OVERLAYFS_SUPER_MAGIC:
      return "overlay";
    case XFS_SUPER_MAGIC:
      return "xfs";
    default:
      return "another filesystem";
    }
}

/* The pool's directory: made (dir, overlay) or found, held to the store's ownership rule. */
static int
check_pool_path (const struct pool *p, char **canonical, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  struct statfs sfs;

  if (p->path == NULL)
    return ctr_error (err, 0, "--type %s needs --path DIR", pool_type_name (p->type));
  if (p->path[0] != '/')
    return ctr_error (err, 0, "--path `%s`: not an absolute path", p->path);
  if (strpbrk (p->path, ":,\n") != NULL)
    return ctr_error (err, 0, "--path `%s`: `:`, `,` and newlines are not allowed", p->path);
  fd = owned_dir_open (p->path, "pool path", p->type == POOL_BTRFS ? 0 : OWNED_DIR_CREATE, err);
  if (fd < 0)
    return ctr_error_wrap (err, "--path");
  if (fstatfs (fd, &sfs) < 0)
    return ctr_error (err, errno, "statfs `%s`", p->path);
  if (p->type == POOL_BTRFS && sfs.f_type != BTRFS_SUPER_MAGIC)
    return ctr_error (err, 0, "--path `%s` is not on btrfs (it is on %s)", p->path,
                      fs_name (sfs.f_type));
  if (p->type == POOL_OVERLAY && sfs.f_type == OVERLAYFS_SUPER_MAGIC)
    return ctr_error (err, 0, "--path `%s` is on overlay, which cannot hold an overlay upper",
                      p->path);
  *canonical = realpath (p->path, NULL);
  if (*canonical == NULL)
    return ctr_error (err, errno, "--path `%s`", p->path);
  return 0;
}

static int
check_lvm (const struct pool *p, ctr_error_t *err)
{
  cleanup_free char *vgpool = NULL, *attr = NULL;
  const char *argv[] = { "lvs", "--noheadings", "-o", "lv_attr", NULL, NULL };

  if (p->vg == NULL || p->thinpool == NULL)
    return ctr_error (err, 0, "--type lvm needs --vg VG and --thinpool POOL");
  if (validate_container_id (p->vg, NULL) < 0 || validate_container_id (p->thinpool, NULL) < 0)
    return ctr_error (err, 0, "--vg `%s` --thinpool `%s`: invalid LVM name", p->vg, p->thinpool);
  vgpool = xasprintf ("%s/%s", p->vg, p->thinpool);
  argv[4] = vgpool;
  if (pool_run_tool (argv, &attr, -1, err) < 0)
    return ctr_error_wrap (err, "thin pool `%s`", vgpool);
  attr[strcspn (attr, "\n")] = '\0';
  if (attr[strspn (attr, " ")] != 't')
    return ctr_error (err, 0, "`%s` is not a thin pool (lvcreate --type thin-pool makes one)",
                      vgpool);
  return 0;
}

int
pool_create (const char *store, const struct pool *in, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *file = NULL, *canonical = NULL, *text = NULL, *created = rfc3339_now ();
  json_writer *w;
  size_t len;
  int r;

  if (validate_container_id (in->name, NULL) < 0)
    r = ctr_error (err, 0, "invalid pool name `%s`: use [A-Za-z0-9_+-][A-Za-z0-9_+.-]*", in->name);
  else if (strcmp (in->name, POOL_DEFAULT) == 0)
    r = ctr_error (err, 0, "`default` is the store itself and always exists");
  else if (is_rootless () && in->type == POOL_LVM)
    r = ctr_error (err, 0, "--type lvm needs root; rootless pools are dir, overlay or btrfs");
  else if (in->type != POOL_LVM && (in->vg || in->thinpool))
    r = ctr_error (err, 0, "--vg and --thinpool are for --type lvm");
  else if (in->type == POOL_LVM && in->path)
    r = ctr_error (err, 0, "--path is not for --type lvm (--vg VG --thinpool POOL)");
  else if ((r = need_tools (in->type, err)) < 0)
    ;
  else if (in->type == POOL_LVM)
    r = check_lvm (in, err);
  else
    r = check_pool_path (in, &canonical, err);
  if (r < 0)
    return ctr_error_wrap (err, "pool create %s", in->name);
  fd = pool_dir_lock (store, true, err);
  if (fd < 0)
    return -1;
  file = xasprintf ("%s.json", in->name);
  if (faccessat (fd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return ctr_error (err, 0, "pool create %s: pool `%s` already exists", in->name, in->name);
  w = json_writer_new (true);
  json_map_open (w);
  json_kv_string (w, "name", in->name);
  json_kv_string (w, "type", pool_type_name (in->type));
  if (canonical)
    json_kv_string (w, "path", canonical);
  if (in->type == POOL_LVM)
    {
      json_kv_string (w, "vg", in->vg);
      json_kv_string (w, "thinpool", in->thinpool);
    }
  json_kv_string (w, "created", created);
  json_map_close (w);
  text = json_writer_finish (w, &len);
  return write_file_atomic_at (fd, file, text, len, 0600, err);
}

static int
compare_pools (const void *a, const void *b)
{
  const struct pool *x = a, *y = b;
  return strcmp (x->name, y->name);
}

int
pool_list (const char *store, struct pool **out, size_t *n, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  *n = 1;
  *out = xzalloc (sizeof **out);
  pool_load (store, POOL_DEFAULT, &(*out)[0], NULL);
  fd = pool_dir_open (store, false, err);
  if (fd < 0)
    return errno == ENOENT ? 0 : -1;
  d = fdopendir (fcntl (fd, F_DUPFD_CLOEXEC, 0));
  while (d && (de = readdir (d)) != NULL)
    {
      size_t len = strlen (de->d_name);
      struct pool p;
      ctr_error_t e = NULL;
      if (de->d_name[0] == '.' || len < 6 || strcmp (de->d_name + len - 5, ".json") != 0)
        continue;
      cleanup_free char *name = xstrndup (de->d_name, len - 5);
      if (pool_load (store, name, &p, &e) < 0)
        {
          ctr_error_print (&e);
          continue;
        }
      *out = xrealloc (*out, (*n + 1) * sizeof **out);
      (*out)[(*n)++] = p;
    }
  if (*n > 2)
    qsort (*out + 1, *n - 1, sizeof **out, compare_pools);
  return 0;
}

void
pool_list_free (struct pool *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    pool_clear (&p[i]);
  free (p);
}

/* ------------------------------------------------------------------ copying */

/* `cp -a --reflink=auto -- from to` with Debian's coreutils: ownership, modes, times,
   xattrs, ACLs, hard links, sparse files, and extents shared where the filesystem can
   (btrfs, xfs). keep_fd (locked, or -1) is passed to cp so that its lock lasts as long as
   cp does: a ctr killed meanwhile leaves a staging directory no one removes under it. cp
   dies with ctr. Its first line of complaint becomes the error. */
int
pool_copy_tree (const char *from, const char *to, int keep_fd, ctr_error_t *err)
{
  static const char *const cps[] = { "/usr/bin/cp", "/bin/cp" };
  char msg[1024];
  ssize_t len = 0, n;
  int fds[2], status;
  pid_t parent = getpid (), pid;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return ctr_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return ctr_error (err, errno, "fork");
    }
  if (pid == 0)
    {
      char *const argv[] = { "cp", "-a", "--reflink=auto", "--", (char *)from, (char *)to, NULL };
      char *const envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };
      sigset_t none;
      int nul = open ("/dev/null", O_RDONLY | O_CLOEXEC);

      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () != parent)
        _exit (127);
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      if (nul < 0 || dup2 (nul, STDIN_FILENO) < 0 || dup2 (nul, STDOUT_FILENO) < 0
          || dup2 (fds[1], STDERR_FILENO) < 0)
        _exit (127);
      if (keep_fd >= 0)
        fcntl (keep_fd, F_SETFD, 0);
      for (size_t i = 0; i < ARRAY_SIZE (cps); i++)
        execve (cps[i], argv, envp);
      dprintf (STDERR_FILENO, "cannot run cp (coreutils): %s\n", strerror (errno));
      _exit (127);
    }
  close (fds[1]);
  interrupt_child (pid);
  while (len < (ssize_t)sizeof msg - 1
         && ((n = read (fds[0], msg + len, sizeof msg - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
    len += n > 0 ? n : 0;
  close (fds[0]);
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      {
        interrupt_child (0);
        return ctr_error (err, errno, "wait for cp");
      }
  interrupt_child (0);
  if (interrupt_caught ())
    return ctr_error (err, 0, "copy `%s` to `%s`: interrupted (%s)", from, to,
                      strsignal (interrupt_caught ()));
  msg[len] = '\0';
  msg[strcspn (msg, "\n")] = '\0';
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  return ctr_error (err, 0, "copy `%s` to `%s`: %s", from, to,
                    *msg ? (strncmp (msg, "cp: ", 4) == 0 ? msg + 4 : msg) : "cp failed");
}

/* The space a tree's files take (du without its hard-link bookkeeping). */
static uint64_t tree_bytes;

static int
add_size (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)path, (void)flag, (void)ftw;
  tree_bytes += (uint64_t)st->st_blocks * 512;
  return 0;
}

uint64_t
pool_tree_size (const char *path)
{
  tree_bytes = 0;
  nftw (path, add_size, 32, FTW_PHYS | FTW_MOUNT);
  return tree_bytes;
}
