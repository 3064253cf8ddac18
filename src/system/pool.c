/* pool: storage pool definitions (<store>/.pools/NAME.json) and the volumes that hold system
   containers' root filesystems in them: directories, btrfs subvolumes, LVM thin volumes,
   overlay uppers. The filesystem tools are Debian's (btrfs-progs, lvm2, e2fsprogs), run as
   commands. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include "base/json.h"
#include "base/log.h"
#include "base/owned_dir.h"
#include "base/util.h"
#include "system/pool.h"
#include "system/store.h"

#define POOLS_DIR ".pools"
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
pool_run_tool (const char *const *argv, char **out, ctr_error_t *err)
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
      if (nul < 0 || dup2 (nul, STDIN_FILENO) < 0
          || dup2 (out ? fds[1] : nul, STDOUT_FILENO) < 0 || dup2 (errfd, STDERR_FILENO) < 0)
        _exit (127);
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

static int
open_pools_dir (const char *store, bool create, ctr_error_t *err)
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
  fd = open_pools_dir (store, false, err);
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
  if (pool_run_tool (argv, &attr, err) < 0)
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
    r = ctr_error (err, 0, "invalid pool name `%s`: use [A-Za-z0-9_+-][A-Za-z0-9_+.-]*",
                   in->name);
  else if (strcmp (in->name, POOL_DEFAULT) == 0)
    r = ctr_error (err, 0, "`default` is the store itself and always exists");
  else if (is_rootless () && (in->type == POOL_BTRFS || in->type == POOL_LVM))
    r = ctr_error (err, 0, "--type %s needs root; rootless pools are dir or overlay",
                   pool_type_name (in->type));
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
  fd = open_pools_dir (store, true, err);
  if (fd < 0)
    return -1;
  if (flock (fd, LOCK_EX) < 0)
    return ctr_error (err, errno, "lock `%s/%s`", store, POOLS_DIR);
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
  fd = open_pools_dir (store, false, err);
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

/* The containers whose ctr.json names the pool (none: "default"). */
static char **
pool_containers (const char *store, const char *pool)
{
  char **names = NULL, **out;
  size_t n = 0, k = 0;
  ctr_error_t e = NULL;

  if (owned_dir_list_ids (store, "store", &names, &n, &e) < 0)
    {
      ctr_error_free (&e);
      return xzalloc (sizeof (char *));
    }
  out = xzalloc ((n + 1) * sizeof *out);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *dir = xasprintf ("%s/%s", store, names[i]);
      cleanup_close int fd = open (dir, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      struct store_meta m;
      if (fd >= 0 && store_exists (store, names[i]) && store_meta_read (fd, names[i], &m, &e) == 0)
        {
          if (strcmp (m.pool ? m.pool : POOL_DEFAULT, pool) == 0)
            out[k++] = xstrdup (names[i]);
          store_meta_clear (&m);
        }
      ctr_error_free (&e);
      free (names[i]);
    }
  free (names);
  return out;
}

int
pool_usage_get (const char *store, const struct pool *p, struct pool_usage *u, ctr_error_t *err)
{
  memset (u, 0, sizeof *u);
  u->containers = pool_containers (store, p->name);
  if (p->type == POOL_LVM)
    {
      cleanup_free char *vgpool = xasprintf ("%s/%s", p->vg, p->thinpool), *text = NULL;
      const char *argv[] = { "lvs",    "--noheadings", "--units", "b",    "--nosuffix",
                             "--separator", ";",     "-o",      "lv_size,data_percent",
                             vgpool,   NULL };
      double pct = 0;
      unsigned long long size = 0;
      if (pool_run_tool (argv, &text, err) < 0)
        return ctr_error_wrap (err, "pool `%s`", p->name);
      if (sscanf (text, " %llu;%lf", &size, &pct) >= 1)
        {
          u->capacity = size;
          u->used = (uint64_t)(size * pct / 100.0);
        }
      return 0;
    }
  struct statvfs sv;
  if (statvfs (p->path, &sv) == 0)
    {
      u->capacity = (uint64_t)sv.f_blocks * sv.f_frsize;
      u->used = (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
    }
  return 0;
}

void
pool_usage_clear (struct pool_usage *u)
{
  strv_free (u->containers);
  memset (u, 0, sizeof *u);
}

int
pool_remove (const char *store, const char *name, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *file = NULL;
  cleanup_strv char **inside = NULL;
  struct pool p;

  if (name && strcmp (name, POOL_DEFAULT) == 0)
    return ctr_error (err, 0, "pool rm default: the default pool is the store itself");
  if (pool_load (store, name, &p, err) < 0)
    return ctr_error_wrap (err, "pool rm %s", name);
  fd = open_pools_dir (store, false, err);
  if (fd < 0 || flock (fd, LOCK_EX) < 0)
    {
      pool_clear (&p);
      return -1;
    }
  inside = pool_containers (store, name);
  if (inside[0])
    {
      size_t len = 1;
      for (char **s = inside; *s; s++)
        len += strlen (*s) + 2;
      cleanup_free char *list = xzalloc (len);
      for (char **s = inside; *s; s++)
        strcat (strcat (list, s == inside ? "" : ", "), *s);
      pool_clear (&p);
      return ctr_error (err, 0, "pool rm %s: containers live in it: %s", name, list);
    }
  /* the overlay pool's cached template trees are ctr's own; the directory is the user's */
  if (p.type == POOL_OVERLAY)
    {
      cleanup_close int pfd = open (p.path, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      ctr_error_t e = NULL;
      if (pfd >= 0 && remove_tree_at (pfd, ".images", &e) < 0)
        ctr_error_print (&e);
    }
  pool_clear (&p);
  file = xasprintf ("%s.json", name);
  if (unlinkat (fd, file, 0) < 0)
    return ctr_error (err, errno, "pool rm %s", name);
  return 0;
}

/* ------------------------------------------------------------------ volumes */

struct volume
{
  char *pool;
  enum pool_type type;
  char *path;     /* dir, btrfs: the root filesystem; overlay: holds upper/ and work/ */
  char *lv;       /* lvm: VG/LV */
  char *lower;    /* overlay: lowerdir (colon-separated) */
  char *clone_of; /* overlay: the container whose upper is in lower */
};

static void
volume_clear (struct volume *v)
{
  free (v->pool);
  free (v->path);
  free (v->lv);
  free (v->lower);
  free (v->clone_of);
  memset (v, 0, sizeof *v);
}

/* 1 when dfd has a record, 0 without one. */
static int
volume_read (int dfd, struct volume *v, ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  json_value *j;
  const char *s;
  size_t len;

  memset (v, 0, sizeof *v);
  if (read_file_at (dfd, POOL_VOLUME_RECORD, DEF_MAX, &text, &len, err) < 0)
    {
      if (errno != ENOENT)
        return -1;
      ctr_error_free (err);
      return 0;
    }
  j = json_parse (text, len, POOL_VOLUME_RECORD, err);
  if (j == NULL)
    return -1;
  if (!json_as_string (json_get (j, "type"), &s) || pool_type_parse (s, &v->type) < 0)
    {
      json_value_free (j);
      return ctr_error (err, 0, "%s: unknown type", POOL_VOLUME_RECORD);
    }
#define STR(field, key) v->field = json_as_string (json_get (j, key), &s) ? xstrdup (s) : NULL
  STR (pool, "pool");
  STR (path, "path");
  STR (lv, "lv");
  STR (lower, "lower");
  STR (clone_of, "clone_of");
#undef STR
  json_value_free (j);
  return 1;
}

static int
volume_write (int dfd, const struct volume *v, ctr_error_t *err)
{
  json_writer *w = json_writer_new (true);
  cleanup_free char *text = NULL;
  size_t len;

  json_map_open (w);
  json_kv_string (w, "pool", v->pool);
  json_kv_string (w, "type", pool_type_name (v->type));
#define STR(field, key)                                                                            \
  if (v->field)                                                                                    \
  json_kv_string (w, key, v->field)
  STR (path, "path");
  STR (lv, "lv");
  STR (lower, "lower");
  STR (clone_of, "clone_of");
#undef STR
  json_map_close (w);
  text = json_writer_finish (w, &len);
  return write_file_atomic_at (dfd, POOL_VOLUME_RECORD, text, len, 0600, err);
}

static char *
fd_path (int dfd, const char *rest)
{
  return xasprintf ("/proc/self/fd/%d%s%s", dfd, rest ? "/" : "", rest ? rest : "");
}

/* /dev/mapper/VG-LV, hyphens doubled as device-mapper names them. */
static char *
lv_device (const char *vglv)
{
  size_t len = strlen (vglv);
  char *out = xzalloc (len * 2 + 16), *o = stpcpy (out, "/dev/mapper/");
  for (const char *s = vglv; *s; s++)
    if (*s == '/')
      *o++ = '-';
    else if (*s == '-')
      o = stpcpy (o, "--");
    else
      *o++ = *s;
  return out;
}

static bool
lv_exists (const char *vglv)
{
  const char *argv[] = { "lvs", "--noheadings", "-o", "lv_name", vglv, NULL };
  cleanup_free char *text = NULL;
  ctr_error_t e = NULL;
  if (pool_run_tool (argv, &text, &e) < 0)
    {
      ctr_error_free (&e);
      return false;
    }
  return true;
}

static bool
is_mountpoint (int dfd, const char *name)
{
  struct stat a, b;
  return fstatat (dfd, name, &a, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (a.st_mode)
         && fstat (dfd, &b) == 0 && a.st_dev != b.st_dev;
}

static int
mount_lv (int dfd, const char *vglv, ctr_error_t *err)
{
  cleanup_free char *dev = lv_device (vglv), *target = fd_path (dfd, "rootfs");
  const char *act[] = { "lvchange", "-ay", "-K", vglv, NULL };
  if (access (dev, F_OK) < 0 && pool_run_tool (act, NULL, err) < 0)
    return -1;
  if (mount (dev, target, "ext4", MS_NOATIME, NULL) < 0)
    return ctr_error (err, errno, "mount `%s` on rootfs", dev);
  return 0;
}

static int
mount_overlay (int dfd, const struct volume *v, ctr_error_t *err)
{
  cleanup_free char *target = fd_path (dfd, "rootfs");
  cleanup_free char *opts
      = xasprintf ("lowerdir=%s,upperdir=%s/upper,workdir=%s/work", v->lower, v->path, v->path);
  if (mount ("overlay", target, "overlay", 0, opts) < 0)
    return ctr_error (err, errno, "mount overlay (%s) on rootfs", opts);
  return 0;
}

/* the rootfs directory of the staging dir becomes a symlink to the volume */
static int
link_rootfs (int dfd, const char *path, ctr_error_t *err)
{
  if (unlinkat (dfd, "rootfs", AT_REMOVEDIR) < 0 && errno != ENOENT)
    return ctr_error (err, errno, "remove rootfs");
  if (symlinkat (path, dfd, "rootfs") < 0)
    return ctr_error (err, errno, "link rootfs to `%s`", path);
  return 0;
}

static bool
path_exists (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0;
}

int
pool_volume_create (const struct pool *p, int dfd, const char *dirpath, const char *name,
                    const char *size, const char *lower, ctr_error_t *err)
{
  struct volume v = { .type = p->type };
  int r = 0;

  (void)dirpath;
  if (strcmp (p->name, POOL_DEFAULT) == 0)
    return 0;
  v.pool = xstrdup (p->name);
  if (p->type == POOL_LVM)
    v.lv = xasprintf ("%s/ctr-%s", p->vg, name);
  else
    v.path = xasprintf ("%s/%s", p->path, name);
  if (p->type == POOL_OVERLAY)
    v.lower = xstrdup (lower);
  if ((v.path && path_exists (v.path)) || (v.lv && lv_exists (v.lv)))
    {
      r = ctr_error (err, 0, "pool `%s`: `%s` already exists", p->name, v.path ? v.path : v.lv);
      volume_clear (&v);
      return r;
    }
  /* recorded before it is made: a kill from here on leaves what release removes */
  if (volume_write (dfd, &v, err) < 0)
    {
      volume_clear (&v);
      return -1;
    }
  switch (p->type)
    {
    case POOL_DIR:
      if (mkdir (v.path, 0755) < 0)
        r = ctr_error (err, errno, "create `%s`", v.path);
      else
        r = link_rootfs (dfd, v.path, err);
      break;
    case POOL_BTRFS:
      {
        const char *argv[] = { "btrfs", "-q", "subvolume", "create", v.path, NULL };
        r = pool_run_tool (argv, NULL, err);
        if (r == 0)
          r = link_rootfs (dfd, v.path, err);
        break;
      }
    case POOL_LVM:
      {
        cleanup_free char *vgpool = xasprintf ("%s/%s", p->vg, p->thinpool);
        cleanup_free char *dev = lv_device (v.lv);
        const char *lvc[] = { "lvcreate", "-y",      "-q", "-V", size ? size : POOL_LVM_DEFAULT_SIZE,
                              "-T",       vgpool,    "-n", strchr (v.lv, '/') + 1, NULL };
        const char *mkfs[] = { "mkfs.ext4", "-q", "-F", dev, NULL };
        r = pool_run_tool (lvc, NULL, err);
        if (r == 0)
          r = pool_run_tool (mkfs, NULL, err);
        if (r == 0)
          r = mount_lv (dfd, v.lv, err);
        break;
      }
    case POOL_OVERLAY:
      {
        cleanup_free char *up = xasprintf ("%s/upper", v.path), *work = xasprintf ("%s/work", v.path);
        if (mkdir (v.path, 0700) < 0 || mkdir (up, 0755) < 0 || mkdir (work, 0700) < 0)
          r = ctr_error (err, errno, "create `%s`", v.path);
        else
          r = mount_overlay (dfd, &v, err);
        break;
      }
    }
  volume_clear (&v);
  return r < 0 ? ctr_error_wrap (err, "pool `%s`", p->name) : 0;
}

/* Removes one recorded volume (and its record). */
static int
release_one (int dfd, ctr_error_t *err)
{
  struct volume v;
  int r = volume_read (dfd, &v, err);

  if (r <= 0)
    return r;
  if (is_mountpoint (dfd, "rootfs"))
    {
      cleanup_free char *target = fd_path (dfd, "rootfs");
      if (umount2 (target, UMOUNT_NOFOLLOW) < 0 && umount2 (target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
        {
          r = ctr_error (err, errno, "unmount the rootfs of pool `%s`", v.pool);
          goto out;
        }
    }
  r = 0;
  if (v.type == POOL_BTRFS && v.path)
    {
      cleanup_free char *restore = NULL;
      const char *argv[] = { "btrfs", "-q", "subvolume", "delete", v.path, NULL };
      if (path_exists (v.path))
        r = pool_run_tool (argv, NULL, err);
      /* a restore killed midway */
      restore = xasprintf ("%s.restore", v.path);
      argv[4] = restore;
      if (r == 0 && path_exists (restore))
        r = pool_run_tool (argv, NULL, err);
    }
  else if (v.type == POOL_LVM && v.lv)
    {
      cleanup_free char *restore = xasprintf ("%s.restore", v.lv);
      const char *argv[] = { "lvremove", "-f", "-q", v.lv, NULL };
      if (lv_exists (v.lv))
        r = pool_run_tool (argv, NULL, err);
      argv[3] = restore;
      if (r == 0 && lv_exists (restore))
        r = pool_run_tool (argv, NULL, err);
    }
  else if (v.path && (v.type == POOL_DIR || v.type == POOL_OVERLAY))
    {
      cleanup_free char *copy = xstrdup (v.path), *copy2 = xstrdup (v.path);
      cleanup_close int pfd = open (dirname (copy), O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (pfd < 0)
        r = errno == ENOENT ? 0 : ctr_error (err, errno, "open `%s`", v.path);
      else
        {
          /* and what a killed restore left beside it */
          cleanup_free char *leftover = xasprintf (".%s.new", basename (copy2));
          r = remove_tree_at (pfd, basename (copy2), err);
          if (r == 0 && v.type == POOL_DIR)
            r = remove_tree_at (pfd, leftover, err);
        }
    }
  if (r == 0 && unlinkat (dfd, POOL_VOLUME_RECORD, 0) < 0 && errno != ENOENT)
    r = ctr_error (err, errno, "remove %s", POOL_VOLUME_RECORD);
out:
  if (r < 0)
    ctr_error_wrap (err, "pool `%s`", v.pool);
  volume_clear (&v);
  return r;
}

int
pool_volume_release (int dfd, const char *dirpath, ctr_error_t *err)
{
  cleanup_close int sfd = openat (dfd, "snapshots", O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  (void)dirpath;
  if (sfd >= 0 && (d = fdopendir (fcntl (sfd, F_DUPFD_CLOEXEC, 0))) != NULL)
    while ((de = readdir (d)) != NULL)
      {
        cleanup_close int snapfd = -1;
        if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
          continue;
        snapfd = openat (sfd, de->d_name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (snapfd >= 0 && release_one (snapfd, err) < 0)
          return -1;
      }
  return release_one (dfd, err);
}

int
pool_volume_activate (int dfd, const char *dirpath, ctr_error_t *err)
{
  struct volume v;
  int r = volume_read (dfd, &v, err);

  (void)dirpath;
  if (r <= 0)
    return r;
  r = 0;
  if ((v.type == POOL_LVM || v.type == POOL_OVERLAY) && !is_mountpoint (dfd, "rootfs"))
    {
      if (v.type == POOL_LVM && !lv_exists (v.lv))
        {
          /* a restore killed between removing the old volume and renaming the new one */
          cleanup_free char *restore = xasprintf ("%s.restore", v.lv);
          const char *argv[] = { "lvrename", restore, v.lv, NULL };
          if (lv_exists (restore))
            r = pool_run_tool (argv, NULL, err);
        }
      if (r == 0)
        r = v.type == POOL_LVM ? mount_lv (dfd, v.lv, err) : mount_overlay (dfd, &v, err);
    }
  if (r < 0)
    ctr_error_wrap (err, "pool `%s`", v.pool);
  volume_clear (&v);
  return r;
}

char *
pool_volume_pool (int dfd)
{
  struct volume v;
  ctr_error_t e = NULL;
  char *out;
  if (volume_read (dfd, &v, &e) <= 0)
    {
      ctr_error_free (&e);
      return xstrdup (POOL_DEFAULT);
    }
  out = steal_ptr (v.pool);
  volume_clear (&v);
  return out ? out : xstrdup (POOL_DEFAULT);
}

char *
pool_volume_rootfs (int dfd, const char *dirpath)
{
  struct volume v;
  ctr_error_t e = NULL;
  char *out = NULL;
  if (volume_read (dfd, &v, &e) > 0 && (v.type == POOL_DIR || v.type == POOL_BTRFS))
    out = steal_ptr (v.path);
  ctr_error_free (&e);
  volume_clear (&v);
  return out ? out : xasprintf ("%s/rootfs", dirpath);
}

bool
pool_volume_native_snapshots (int dfd)
{
  struct volume v;
  ctr_error_t e = NULL;
  bool yes = volume_read (dfd, &v, &e) > 0 && (v.type == POOL_BTRFS || v.type == POOL_LVM);
  ctr_error_free (&e);
  volume_clear (&v);
  return yes;
}

char **
pool_volume_dependents (const char *store, const char *name)
{
  char **names = NULL, **out;
  size_t n = 0, k = 0;
  ctr_error_t e = NULL;

  if (owned_dir_list_ids (store, "store", &names, &n, &e) < 0)
    {
      ctr_error_free (&e);
      return xzalloc (sizeof (char *));
    }
  out = xzalloc ((n + 1) * sizeof *out);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *dir = xasprintf ("%s/%s", store, names[i]);
      cleanup_close int fd = open (dir, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      struct volume v;
      if (fd >= 0 && volume_read (fd, &v, &e) > 0)
        {
          if (v.clone_of && strcmp (v.clone_of, name) == 0)
            out[k++] = xstrdup (names[i]);
          volume_clear (&v);
        }
      ctr_error_free (&e);
      free (names[i]);
    }
  free (names);
  return out;
}

int
pool_volume_snapshot_clone (const struct pool *p, int srcfd, int dfd, const char *dirpath,
                            const char *src, const char *dst, ctr_error_t *err)
{
  struct volume s, v = { .type = p->type };
  int r = volume_read (srcfd, &s, err);

  (void)dirpath;
  if (r < 0)
    return -1;
  if (r == 0 || s.type == POOL_DIR)
    {
      volume_clear (&s);
      return ctr_error (err, 0, "--snapshot needs a btrfs, lvm or overlay pool (`%s` is in a dir pool)",
                        src);
    }
  v.pool = xstrdup (p->name);
  if (p->type == POOL_LVM)
    v.lv = xasprintf ("%s/ctr-%s", p->vg, dst);
  else
    v.path = xasprintf ("%s/%s", p->path, dst);
  if (p->type == POOL_OVERLAY)
    {
      v.lower = xasprintf ("%s/upper:%s", s.path, s.lower);
      v.clone_of = xstrdup (src);
    }
  if ((v.path && path_exists (v.path)) || (v.lv && lv_exists (v.lv)))
    r = ctr_error (err, 0, "pool `%s`: `%s` already exists", p->name, v.path ? v.path : v.lv);
  else
    r = volume_write (dfd, &v, err);
  if (r == 0 && p->type == POOL_BTRFS)
    {
      const char *argv[] = { "btrfs", "-q", "subvolume", "snapshot", s.path, v.path, NULL };
      r = pool_run_tool (argv, NULL, err);
      if (r == 0)
        r = link_rootfs (dfd, v.path, err);
    }
  else if (r == 0 && p->type == POOL_LVM)
    {
      const char *argv[] = { "lvcreate", "-q", "-s", "-kn", "-n", strchr (v.lv, '/') + 1, s.lv, NULL };
      r = pool_run_tool (argv, NULL, err);
      if (r == 0)
        r = mount_lv (dfd, v.lv, err);
    }
  else if (r == 0)
    {
      cleanup_free char *up = xasprintf ("%s/upper", v.path), *work = xasprintf ("%s/work", v.path);
      if (mkdir (v.path, 0700) < 0 || mkdir (up, 0755) < 0 || mkdir (work, 0700) < 0)
        r = ctr_error (err, errno, "create `%s`", v.path);
      else
        r = mount_overlay (dfd, &v, err);
    }
  volume_clear (&s);
  volume_clear (&v);
  return r < 0 ? ctr_error_wrap (err, "pool `%s`", p->name) : 0;
}

/* ------------------------------------------------------------------ native snapshots */

int
pool_snapshot_create (int dfd, int sdfd, const char *name, const char *snap, ctr_error_t *err)
{
  struct volume c, v = { 0 };
  int r = volume_read (dfd, &c, err);

  if (r <= 0)
    return r;
  v.pool = xstrdup (c.pool);
  v.type = c.type;
  if (c.type == POOL_BTRFS)
    v.path = xasprintf ("%s@%s", c.path, snap);
  else
    v.lv = xasprintf ("%s.snap-%s", c.lv, snap);
  (void)name;
  if ((v.path && path_exists (v.path)) || (v.lv && lv_exists (v.lv)))
    r = ctr_error (err, 0, "pool `%s`: `%s` already exists", c.pool, v.path ? v.path : v.lv);
  else
    r = volume_write (sdfd, &v, err);
  if (r == 0 && c.type == POOL_BTRFS)
    {
      const char *argv[] = { "btrfs", "-q", "subvolume", "snapshot", "-r", c.path, v.path, NULL };
      r = pool_run_tool (argv, NULL, err);
    }
  else if (r == 0)
    {
      const char *argv[] = { "lvcreate", "-q", "-s", "-n", strchr (v.lv, '/') + 1, c.lv, NULL };
      r = pool_run_tool (argv, NULL, err);
    }
  if (r < 0)
    ctr_error_wrap (err, "pool `%s`", c.pool);
  volume_clear (&c);
  volume_clear (&v);
  return r;
}

int
pool_snapshot_restore (int dfd, const char *dirpath, int sdfd, const char *name, ctr_error_t *err)
{
  struct volume c, s;
  int r;

  (void)dirpath;
  if (volume_read (dfd, &c, err) <= 0)
    return -1;
  if (volume_read (sdfd, &s, err) <= 0)
    {
      volume_clear (&c);
      return ctr_error (err, 0, "container `%s`: the snapshot has no volume record", name);
    }
  if (c.type == POOL_BTRFS)
    {
      /* a writable snapshot of the snapshot beside the rootfs, swapped with it in one
         rename: a kill leaves one whole rootfs and a `.restore` that release removes */
      cleanup_free char *restore = xasprintf ("%s.restore", c.path);
      const char *del[] = { "btrfs", "-q", "subvolume", "delete", restore, NULL };
      const char *snap[] = { "btrfs", "-q", "subvolume", "snapshot", s.path, restore, NULL };
      r = 0;
      if (path_exists (restore))
        r = pool_run_tool (del, NULL, err);
      if (r == 0)
        r = pool_run_tool (snap, NULL, err);
      if (r == 0 && renameat2 (AT_FDCWD, restore, AT_FDCWD, c.path, RENAME_EXCHANGE) < 0)
        r = ctr_error (err, errno, "swap in `%s`", restore);
      if (r == 0)
        r = pool_run_tool (del, NULL, err);
    }
  else
    {
      cleanup_free char *restore = xasprintf ("%s.restore", c.lv);
      cleanup_free char *target = fd_path (dfd, "rootfs");
      const char *rm_restore[] = { "lvremove", "-f", "-q", restore, NULL };
      const char *snap[] = { "lvcreate", "-q", "-s", "-kn", "-n", strchr (restore, '/') + 1, s.lv, NULL };
      const char *rm_old[] = { "lvremove", "-f", "-q", c.lv, NULL };
      const char *rename[] = { "lvrename", restore, c.lv, NULL };
      r = 0;
      if (lv_exists (restore))
        r = pool_run_tool (rm_restore, NULL, err);
      if (r == 0)
        r = pool_run_tool (snap, NULL, err);
      if (r == 0 && is_mountpoint (dfd, "rootfs") && umount2 (target, UMOUNT_NOFOLLOW) < 0)
        r = ctr_error (err, errno, "unmount rootfs");
      if (r == 0)
        r = pool_run_tool (rm_old, NULL, err);
      if (r == 0)
        r = pool_run_tool (rename, NULL, err);
      if (r == 0)
        r = mount_lv (dfd, c.lv, err);
    }
  if (r < 0)
    ctr_error_wrap (err, "pool `%s`", c.pool);
  volume_clear (&c);
  volume_clear (&s);
  return r;
}

char *
pool_volume_clone_lower (int dfd)
{
  struct volume v;
  ctr_error_t e = NULL;
  char *out = NULL;
  if (volume_read (dfd, &v, &e) > 0 && v.type == POOL_OVERLAY)
    out = xasprintf ("%s/upper:%s", v.path, v.lower);
  ctr_error_free (&e);
  volume_clear (&v);
  return out;
}
