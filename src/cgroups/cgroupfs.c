/* cgroupfs: under every driver: layout, hierarchies, paths, controller names, members, file I/O. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/driver.h"
#include "base/log.h"
#include "base/util.h"

#define CGROUP_HYBRID_V2 CGROUP_ROOT "/unified"
#define DEFAULT_PARENT "/ctr"

static int read_text (int dirfd, const char *file, bool short_is_whole, size_t max, char **out,
                      size_t *outlen, ctr_error_t *err);

/* Whether the last mount on mnt in a mountinfo text is a cgroup2 one. */
static bool
mounted_cgroup2 (const char *text, const char *mnt)
{
  size_t mlen = strlen (mnt);
  bool found = false;
  const char *line, *next, *p, *sep;
  int field;

  for (line = text; *line; line = next)
    {
      next = strchr (line, '\n');
      next = next ? next + 1 : line + strlen (line);
      /* field 5 is the mount point */
      for (p = line, field = 0; field < 4 && p < next; field++)
        p = memchr (p, ' ', (size_t)(next - p))
                ? (const char *)memchr (p, ' ', (size_t)(next - p)) + 1
                : next;
      if (p + mlen >= next || strncmp (p, mnt, mlen) != 0 || p[mlen] != ' ')
        continue;
      sep = strstr (p, " - ");
      found = sep && sep < next && strncmp (sep + 3, "cgroup2 ", 8) == 0;
    }
  return found;
}

/* The layout from the mount table, when statfs cannot tell (an error other than "not
   there"): a guess would put a container's cgroups where delete does not look. */
static enum cgroup_layout
layout_from_mountinfo (void)
{
  cleanup_free char *text = NULL;
  size_t len;
  ctr_error_t ignored = NULL;

  if (read_text (AT_FDCWD, "/proc/self/mountinfo", false, 16 << 20, &text, &len, &ignored) < 0)
    {
      ctr_error_free (&ignored);
      return CGROUP_LAYOUT_LEGACY;
    }
  return cg_layout_from_mountinfo (text);
}

enum cgroup_layout
cg_layout_from_mountinfo (const char *text)
{
  if (mounted_cgroup2 (text, CGROUP_ROOT))
    return CGROUP_LAYOUT_UNIFIED;
  if (mounted_cgroup2 (text, CGROUP_HYBRID_V2))
    return CGROUP_LAYOUT_HYBRID;
  return CGROUP_LAYOUT_LEGACY;
}

/* The host's layout and hierarchies are read once per process; `ctr list`'s worker
   threads ask for them too. */
static int layout_cached = -1;

static void
layout_compute (void)
{
  struct statfs st;
  int v = CGROUP_LAYOUT_LEGACY;

  if (statfs (CGROUP_ROOT, &st) < 0)
    {
      if (errno != ENOENT)
        v = layout_from_mountinfo ();
    }
  else if (st.f_type == CGROUP2_SUPER_MAGIC)
    v = CGROUP_LAYOUT_UNIFIED;
  else if (statfs (CGROUP_HYBRID_V2, &st) == 0)
    v = st.f_type == CGROUP2_SUPER_MAGIC ? CGROUP_LAYOUT_HYBRID : CGROUP_LAYOUT_LEGACY;
  else if (errno != ENOENT)
    v = layout_from_mountinfo ();
  __atomic_store_n (&layout_cached, v, __ATOMIC_RELEASE);
}

enum cgroup_layout
cgroup_layout_detect (void)
{
  if (__atomic_load_n (&layout_cached, __ATOMIC_ACQUIRE) < 0)
    layout_compute (); /* threads that race compute the same value */
  return __atomic_load_n (&layout_cached, __ATOMIC_ACQUIRE);
}

const char *
cgroup_layout_name (enum cgroup_layout l)
{
  switch (l)
    {
    case CGROUP_LAYOUT_UNIFIED:
      return "unified";
    case CGROUP_LAYOUT_HYBRID:
      return "hybrid";
    case CGROUP_LAYOUT_LEGACY:
      return "legacy";
    }
  return "unknown";
}

static const struct
{
  const char *name;
  unsigned bit;
} v1_controllers[] = {
  { "blkio", CG_BLKIO },
  { "cpu", CG_CPU },
  { "cpuacct", CG_CPUACCT },
  { "cpuset", CG_CPUSET },
  { "devices", CG_DEVICES },
  { "freezer", CG_FREEZER },
  { "hugetlb", CG_HUGETLB },
  { "memory", CG_MEMORY },
  { "net_cls", CG_NET_CLS },
  { "net_prio", CG_NET_PRIO },
  { "perf_event", CG_PERF_EVENT },
  { "pids", CG_PIDS },
  { "rdma", CG_RDMA },
  { "misc", CG_MISC },
};

static const struct
{
  const char *name;
  unsigned bit;
  const char *what; /* the resource that needs it, for messages */
} v2_controllers[] = {
  { "cpuset", CG2_CPUSET, "linux.resources.cpu" },
  { "cpu", CG2_CPU, "linux.resources.cpu" },
  { "io", CG2_IO, "linux.resources.blockIO" },
  { "memory", CG2_MEMORY, "linux.resources.memory" },
  { "hugetlb", CG2_HUGETLB, "linux.resources.hugepageLimits" },
  { "pids", CG2_PIDS, "linux.resources.pids" },
  { "rdma", CG2_RDMA, "linux.resources.rdma" },
  { "misc", CG2_MISC, "linux.resources.unified" },
};

unsigned
cg2_controller_bit (const char *name, size_t len)
{
  size_t i;
  for (i = 0; i < ARRAY_SIZE (v2_controllers); i++)
    if (strlen (v2_controllers[i].name) == len && strncmp (v2_controllers[i].name, name, len) == 0)
      return v2_controllers[i].bit;
  return 0;
}

unsigned
cg2_parse_controllers (char *list)
{
  char *save = NULL, *tok;
  unsigned bits = 0;
  for (tok = strtok_r (list, " \n", &save); tok; tok = strtok_r (NULL, " \n", &save))
    bits |= cg2_controller_bit (tok, strlen (tok));
  return bits;
}

const char *
cg2_controller_name (unsigned bits, const char **what)
{
  size_t i;
  for (i = 0; i < ARRAY_SIZE (v2_controllers); i++)
    if (bits & v2_controllers[i].bit)
      {
        *what = v2_controllers[i].what;
        return v2_controllers[i].name;
      }
  *what = "linux.resources";
  return "?";
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void
unescape_octal (char *s)
{
  char *w = s;
  for (; *s; s++)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0'
          && s[3] <= '7')
        {
          *w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
          s += 3;
        }
      else
        *w++ = *s;
    }
  *w = '\0';
}

/* Builds the key and controller mask of a v1 mount from its super options. */
static char *
v1_key (char *superopts, unsigned *ctrls)
{
  char *key = NULL, *save = NULL, *opt;
  size_t i;

  *ctrls = 0;
  for (opt = strtok_r (superopts, ",", &save); opt; opt = strtok_r (NULL, ",", &save))
    {
      bool known = strncmp (opt, "name=", 5) == 0 && opt[5] != '\0';
      for (i = 0; i < ARRAY_SIZE (v1_controllers) && !known; i++)
        if (strcmp (opt, v1_controllers[i].name) == 0)
          {
            *ctrls |= v1_controllers[i].bit;
            known = true;
          }
      if (!known || strpbrk (opt, ";:"))
        continue;
      if (key == NULL)
        key = xstrdup (opt);
      else
        {
          char *k = xasprintf ("%s+%s", key, opt);
          free (key);
          key = k;
        }
    }
  return key;
}

struct cg_hierarchy *
cg_parse_mountinfo (const char *text, size_t *n)
{
  struct cg_hierarchy *hs = NULL;
  cleanup_free char *copy = xstrdup (text);
  char *save = NULL, *line;
  size_t count = 0, i;

  for (line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *sep = strstr (line, " - "), *mnt, *fstype, *src, *opts, *key, *f = line;
      unsigned ctrls;
      bool dup = false;
      int field;

      if (sep == NULL)
        continue;
      *sep = '\0';
      for (field = 0; field < 4 && f; field++)
        f = strchr (f, ' ') ? strchr (f, ' ') + 1 : NULL;
      if (f == NULL)
        continue;
      mnt = f;
      if (strchr (mnt, ' '))
        *strchr (mnt, ' ') = '\0';
      fstype = sep + 3;
      src = strchr (fstype, ' ');
      opts = src ? strchr (src + 1, ' ') : NULL;
      if (opts == NULL)
        continue;
      *src = '\0';
      if (strcmp (fstype, "cgroup") != 0)
        continue;
      unescape_octal (mnt);
      /* the key and mount travel in state.json separated by these characters */
      if (strpbrk (mnt, ";,") || (key = v1_key (opts + 1, &ctrls)) == NULL)
        continue;
      for (i = 0; i < count; i++)
        dup |= strcmp (hs[i].key, key) == 0;
      if (dup)
        {
          free (key);
          continue;
        }
      hs = xrealloc (hs, (count + 1) * sizeof (*hs));
      hs[count++] = (struct cg_hierarchy){ .key = key, .mount = xstrdup (mnt), .ctrls = ctrls };
    }
  *n = count;
  return hs;
}

/* cgroupfs files are kernfs seq_files: a read returns whole records and stops short of the
   buffer only at the end of the file or when the kernel's page-sized buffer is full, which
   leaves less than a record free. Records here are short lines (or one single_open value
   the kernel grows its buffer for), so a first read under half a page is the whole file:
   no fstat, no read to see EOF. */
#define CG_READ_WHOLE 2048

/* Reads a text file without fstat; short_is_whole: the rule above applies. */
static int
read_text (int dirfd, const char *file, bool short_is_whole, size_t max, char **out, size_t *outlen,
           ctr_error_t *err)
{
  cleanup_close int fd = openat (dirfd, file, O_RDONLY | O_CLOEXEC);
  cleanup_free char *buf = NULL;
  size_t len = 0, alloc = 4096;

  if (fd < 0)
    return ctr_error (err, errno, "open `%s`", file);
  buf = xmalloc (alloc + 1);
  for (;;)
    {
      ssize_t r = read (fd, buf + len, alloc - len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return ctr_error (err, errno, "read `%s`", file);
      len += (size_t)r;
      if (r == 0 || (short_is_whole && len == (size_t)r && len < CG_READ_WHOLE))
        break;
      if (len == alloc)
        {
          if (alloc >= max)
            return ctr_error (err, EFBIG, "read `%s`: larger than %zu bytes", file, max);
          alloc *= 2;
          buf = xrealloc (buf, alloc + 1);
        }
    }
  buf[len] = '\0';
  *outlen = len;
  *out = steal_ptr (buf);
  return 0;
}

int
cg_hierarchies (enum cgroup_layout layout, const struct cg_hierarchy **out, size_t *n,
                ctr_error_t *err)
{
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  static struct cg_hierarchy *cached;
  static size_t ncached;
  static bool done;

  pthread_mutex_lock (&lock);
  if (!done)
    {
      if (layout == CGROUP_LAYOUT_UNIFIED)
        {
          cached = xzalloc (sizeof (*cached));
          cached[0] = (struct cg_hierarchy){ .key = xstrdup ("unified"),
                                             .mount = xstrdup (CGROUP_ROOT),
                                             .v2 = true };
          ncached = 1;
        }
      else
        {
          cleanup_free char *text = NULL;
          size_t len;
          /* mountinfo records can be long (overlay options): read to EOF */
          if (read_text (AT_FDCWD, "/proc/self/mountinfo", false, 16 << 20, &text, &len, err) < 0)
            {
              pthread_mutex_unlock (&lock);
              return -1;
            }
          cached = cg_parse_mountinfo (text, &ncached);
          if (layout == CGROUP_LAYOUT_HYBRID)
            {
              cached = xrealloc (cached, (ncached + 1) * sizeof (*cached));
              cached[ncached++] = (struct cg_hierarchy){ .key = xstrdup ("unified"),
                                                         .mount = xstrdup (CGROUP_HYBRID_V2),
                                                         .v2 = true };
            }
        }
      done = true;
    }
  pthread_mutex_unlock (&lock);
  *out = cached;
  *n = ncached;
  return 0;
}

static bool
is_systemd_syntax (const char *p)
{
  const char *c1 = strchr (p, ':');
  const char *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
  return c2 != NULL && strchr (c2 + 1, ':') == NULL && strchr (p, '/') == NULL;
}

char *
cgroup_resolve_path (const char *cgroups_path, const char *id, ctr_error_t *err)
{
  cleanup_free char *copy = NULL, *out = NULL;
  char *save = NULL, *comp;
  size_t len = 0;

  if (cgroups_path == NULL)
    {
      if (id == NULL || *id == '\0' || strchr (id, '/'))
        return ctr_error (err, 0, "cgroup: invalid container id"), NULL;
      copy = xasprintf (DEFAULT_PARENT "/%s", id);
    }
  else if (cgroups_path[0] == '/')
    copy = xstrdup (cgroups_path);
  else if (is_systemd_syntax (cgroups_path))
    return ctr_error (err, 0, "linux.cgroupsPath: \"%s\": systemd cgroup paths are not supported",
                      cgroups_path),
           NULL;
  else
    copy = xasprintf (DEFAULT_PARENT "/%s", cgroups_path);

  out = xmalloc (strlen (copy) + 2);
  for (comp = strtok_r (copy, "/", &save); comp; comp = strtok_r (NULL, "/", &save))
    {
      if (strcmp (comp, ".") == 0)
        continue;
      if (strcmp (comp, "..") == 0)
        return ctr_error (err, 0,
                          "linux.cgroupsPath: \"%s\": must stay inside the cgroup hierarchy",
                          cgroups_path ? cgroups_path : id),
               NULL;
      out[len++] = '/';
      strcpy (out + len, comp);
      len += strlen (comp);
    }
  out[len] = '\0';
  if (len == 0)
    return ctr_error (err, 0, "linux.cgroupsPath: \"%s\": must not be the cgroup root",
                      cgroups_path),
           NULL;
  if (len > 2048)
    return ctr_error (err, ENAMETOOLONG, "linux.cgroupsPath: \"%.32s...\"", cgroups_path), NULL;
  return steal_ptr (out);
}

/* Opens path (relative to dirfd) and writes value; messages name file. */
static int
write_value (int dirfd, const char *path, const char *file, const char *value, const char *what,
             ctr_error_t *err)
{
  cleanup_close int fd = openat (dirfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  size_t len = strlen (value);
  ssize_t r;

  if (fd < 0)
    return ctr_error (err, errno, "%s: write %s", what, file);
  r = write (fd, value, len);
  if (r < 0)
    return ctr_error (err, errno, "%s: write %s", what, file);
  if ((size_t)r != len)
    return ctr_error (err, EIO, "%s: write %s: short write", what, file);
  if (ctr_log_debug_enabled ())
    ctr_log_debug ("cgroup: %s <- %s", file, value);
  return 0;
}

int
cg_write (int dirfd, const char *file, const char *value, const char *what, ctr_error_t *err)
{
  return write_value (dirfd, file, file, value, what, err);
}

int
cg_write_in (const char *dir, const char *file, const char *value, const char *what,
             ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  return write_value (AT_FDCWD, path, file, value, what, err);
}

int
cg_read (int dirfd, const char *file, char **out, ctr_error_t *err)
{
  size_t len;
  if (read_text (dirfd, file, true, 1 << 20, out, &len, err) < 0)
    return -1;
  while (len > 0 && (*out)[len - 1] == '\n')
    (*out)[--len] = '\0';
  return 0;
}

bool
cg_file_exists (int dirfd, const char *file)
{
  return faccessat (dirfd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

void
cg_backoff (unsigned *step)
{
  struct timespec ts = { 0, (long)(1000000L << (*step < 4 ? *step : 4)) };
  nanosleep (&ts, NULL);
  (*step)++;
}

static int
read_procs (int dirfd, pid_t **pids, size_t *n, ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  char *save = NULL, *tok;

  if (cg_read (dirfd, "cgroup.procs", &text, err) < 0)
    return -1;
  for (tok = strtok_r (text, "\n", &save); tok; tok = strtok_r (NULL, "\n", &save))
    {
      int64_t v;
      /* 0: a process outside our pid namespace */
      if (parse_int64 (tok, &v) < 0 || v <= 0)
        continue;
      *pids = xrealloc (*pids, (*n + 1) * sizeof (pid_t));
      (*pids)[(*n)++] = (pid_t)v;
    }
  return 0;
}

int
cg_read_pids (int dirfd, pid_t **pids, size_t *n, ctr_error_t *err)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int fd;

  if (read_procs (dirfd, pids, n, err) < 0)
    return -1;
  fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return ctr_error (err, errno, "open cgroup directory");
    }
  while ((de = readdir (d)))
    {
      cleanup_close int child = -1;
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      child = openat (dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (child < 0)
        {
          if (errno == ENOENT)
            continue; /* removed meanwhile */
          return ctr_error (err, errno, "open cgroup `%s`", de->d_name);
        }
      if (cg_read_pids (child, pids, n, err) < 0)
        return -1;
    }
  return 0;
}

int
cg_signal_all (int dirfd, int sig, bool until_empty, ctr_error_t *err)
{
  uint64_t deadline = now_ns () + 5ULL * 1000000000ULL;
  unsigned step = 0;

  for (;;)
    {
      cleanup_free pid_t *pids = NULL;
      size_t n = 0, i;

      if (cg_read_pids (dirfd, &pids, &n, err) < 0)
        return -1;
      if (n == 0)
        return 0;
      for (i = 0; i < n; i++)
        if (kill (pids[i], sig) < 0 && errno != ESRCH)
          return ctr_error (err, errno, "kill %d", (int)pids[i]);
      if (!until_empty)
        return 0;
      if (now_ns () > deadline)
        return ctr_error (err, EBUSY, "cgroup: %zu processes still alive after SIGKILL", n);
      cg_backoff (&step);
    }
}

char *
cg_member_dir (const struct cgroup *cg, size_t i)
{
  return xasprintf ("%s%s", cg->m[i].h->mount, cg->path);
}

int
cg_member_open (const struct cgroup *cg, size_t i, ctr_error_t *err)
{
  cleanup_free char *dir = cg_member_dir (cg, i);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ctr_error (err, errno, "open cgroup `%s`", dir);
  return fd;
}

ssize_t
cg_member_find (const struct cgroup *cg, unsigned ctrl)
{
  size_t i;
  for (i = 0; i < cg->n; i++)
    if (ctrl == 0 ? cg->m[i].h->v2 : !cg->m[i].h->v2 && (cg->m[i].h->ctrls & ctrl))
      return (ssize_t)i;
  return -1;
}

bool
cg_resources_requested (const struct oci_resources *r)
{
  if (r == NULL)
    return false;
  return r->memory || r->cpu || r->has_pids_limit || r->block_io || r->hugepage_limits_len
         || r->has_network_class_id || r->network_priorities_len || r->rdma_len || r->unified_len;
}

size_t
cg_path_components (const char *path)
{
  size_t n = 0;
  for (; *path; path++)
    n += *path == '/';
  return n;
}

struct cgroup *
cg_new (enum cgroup_layout layout, char *path)
{
  struct cgroup *cg = xzalloc (sizeof (*cg));
  cg->layout = layout;
  cg->path = path;
  cg->v2_fd = -1;
  return cg;
}

int
cg_open_v2_fd (struct cgroup *cg, ctr_error_t *err)
{
  ssize_t i = cg_member_find (cg, 0);
  if (i < 0)
    return 0;
  cg->v2_fd = cg_member_open (cg, (size_t)i, err);
  return cg->v2_fd < 0 ? -1 : 0;
}

void
cgroup_free (struct cgroup *cg)
{
  if (cg == NULL)
    return;
  if (cg->v2_fd >= 0)
    close (cg->v2_fd);
  free (cg->m);
  free (cg->path);
  free (cg);
}

static bool
host_of_root (const struct oci_id_mapping *m, size_t n, uint32_t *out)
{
  for (size_t i = 0; i < n; i++)
    if (m[i].container_id == 0 && m[i].size > 0)
      {
        *out = m[i].host_id;
        return true;
      }
  return false;
}

void
cgroup_config_owner (struct cgroup_config *cfg, const struct oci_linux *l)
{
  uint32_t u, g;
  if (l && host_of_root (l->uid_mappings, l->uid_mappings_len, &u)
      && host_of_root (l->gid_mappings, l->gid_mappings_len, &g))
    {
      cfg->owner_set = true;
      cfg->owner_uid = u;
      cfg->owner_gid = g;
    }
}

int
cgroup_chown (const struct cgroup *cg, const struct cgroup_config *cfg, ctr_error_t *err)
{
  static const char *const files[]
      = { "cgroup.procs", "tasks", "cgroup.subtree_control", "cgroup.threads" };
  for (size_t i = 0; i < cg->n; i++)
    {
      cleanup_free char *dir = xasprintf ("%s%s", cg->m[i].h->mount, cg->path);
      cleanup_close int fd = open (dir, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 || fchown (fd, cfg->owner_uid, cfg->owner_gid) < 0)
        return ctr_error (err, errno, "cgroup `%s`: give it to the container's root", dir);
      for (size_t k = 0; k < ARRAY_SIZE (files); k++)
        if (fchownat (fd, files[k], cfg->owner_uid, cfg->owner_gid, AT_SYMLINK_NOFOLLOW) < 0
            && errno != ENOENT)
          return ctr_error (err, errno, "cgroup `%s/%s`: give it to the container's root", dir,
                            files[k]);
    }
  return 0;
}
