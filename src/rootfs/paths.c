/* rootfs/paths: symlink-safe lookups and path creation inside the container root (rule 3). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#include "rootfs/paths.h"
#include "rootfs/rootfs.h"
#include "base/util.h"

#define MAX_SYMLINKS 40
/* mkpath_fast recurses once per missing component; deeper paths take the walker */
#define MKPATH_FAST_DEPTH 64

static bool openat2_missing;

const char *
fd_path (char buf[FD_PATH_SIZE], int fd)
{
  snprintf (buf, FD_PATH_SIZE, "/proc/self/fd/%d", fd);
  return buf;
}

static const char *
relative (const char *path)
{
  while (*path == '/')
    path++;
  return *path ? path : ".";
}

static bool
same_inode (int a, int b)
{
  struct stat sa, sb;
  return fstat (a, &sa) == 0 && fstat (b, &sb) == 0 && sa.st_dev == sb.st_dev
         && sa.st_ino == sb.st_ino;
}

static void
replace_fd (int *slot, int fd)
{
  if (*slot >= 0)
    close (*slot);
  *slot = fd;
}

/* Pops the next component of *todo into comp; false when nothing is left. */
static bool
next_component (char **todo, char **comp)
{
  char *s = *todo, *end;
  while (*s == '/')
    s++;
  if (*s == '\0')
    return false;
  end = strchrnul (s, '/');
  *comp = xstrndup (s, end - s);
  *todo = end;
  return true;
}

/* Replaces the walk queue with target + rest; absolute targets restart at the root. */
static int
follow_symlink (int link_fd, int root_fd, int *cur, char **queue, char *rest)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat (link_fd, "", target, sizeof target - 1);
  char *next;
  if (n < 0)
    return -1;
  target[n] = '\0';
  if (target[0] == '/')
    {
      int fd = fcntl (root_fd, F_DUPFD_CLOEXEC, 0);
      if (fd < 0)
        return -1;
      replace_fd (cur, fd);
    }
  next = xasprintf ("%s/%s", target, rest);
  free (*queue);
  *queue = next;
  return 0;
}

/* One step of the walk; returns 1 when the component was a symlink to follow. */
static int
walk_step (int root_fd, int *cur, const char *comp, bool last, int flags, bool no_symlinks,
           int *links, int *out)
{
  struct stat st;
  int fd;
  if (strcmp (comp, ".") == 0)
    return 0;
  if (strcmp (comp, "..") == 0)
    {
      if (same_inode (*cur, root_fd))
        return 0;
      fd = openat (*cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return -1;
      replace_fd (cur, fd);
      return 0;
    }
  fd = openat (*cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    return close (fd), -1;
  if (S_ISLNK (st.st_mode) && !(last && (flags & O_NOFOLLOW)))
    {
      if (no_symlinks || ++*links > MAX_SYMLINKS)
        return close (fd), errno = ELOOP, -1;
      *out = fd;
      return 1;
    }
  if (!last && !S_ISDIR (st.st_mode))
    return close (fd), errno = ENOTDIR, -1;
  replace_fd (cur, fd);
  return 0;
}

int
resolve_in_root_walk (int root_fd, const char *path, int flags, bool no_symlinks)
{
  cleanup_free char *queue = xstrdup (path);
  int cur = fcntl (root_fd, F_DUPFD_CLOEXEC, 0);
  int links = 0;
  char *todo = queue;

  if (cur < 0)
    return -1;
  for (;;)
    {
      cleanup_free char *comp = NULL;
      int link_fd = -1, r, saved;
      char *rest;
      if (!next_component (&todo, &comp))
        break;
      rest = todo + strspn (todo, "/");
      r = walk_step (root_fd, &cur, comp, *rest == '\0', flags, no_symlinks, &links, &link_fd);
      if (r == 0)
        continue;
      if (r > 0)
        {
          cleanup_free char *rest_copy = xstrdup (rest);
          r = follow_symlink (link_fd, root_fd, &cur, &queue, rest_copy);
          saved = errno;
          close (link_fd);
          errno = saved;
          if (r == 0)
            {
              todo = queue;
              continue;
            }
        }
      saved = errno;
      close (cur);
      errno = saved;
      return -1;
    }
  return cur;
}

/* Reopens an O_PATH fd with real open flags (only used by the walker fallback); an
   O_PATH | O_DIRECTORY lookup must end at a directory, as openat2 would insist. */
static int
reopen_fd (int fd, int flags)
{
  char buf[FD_PATH_SIZE];
  struct stat st;
  int r, saved;
  if ((flags & (O_PATH | O_DIRECTORY)) == (O_PATH | O_DIRECTORY))
    {
      saved = fstat (fd, &st) < 0 ? errno : !S_ISDIR (st.st_mode) ? ENOTDIR : 0;
      if (saved)
        {
          close (fd);
          errno = saved;
          return -1;
        }
    }
  if (flags & O_PATH)
    return fd;
  r = open (fd_path (buf, fd), (flags & ~O_NOFOLLOW) | O_CLOEXEC);
  saved = errno;
  close (fd);
  errno = saved;
  return r;
}

int
resolve_in_root (int root_fd, const char *path, int flags, uint64_t extra_resolve)
{
  struct open_how how = { 0 };
  const char *rel = relative (path);
  int fd, tries;

  if (!openat2_missing)
    {
      how.flags = (uint64_t)flags | O_CLOEXEC;
      how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra_resolve;
      /* EAGAIN: a concurrent rename or mount; the kernel asks us to retry */
      for (tries = 0; tries < 32; tries++)
        {
          fd = syscall (SYS_openat2, root_fd, rel, &how, sizeof how);
          if (fd >= 0 || errno != EAGAIN)
            break;
        }
      if (fd >= 0 || errno != ENOSYS)
        return fd;
      openat2_missing = true;
    }
  fd = resolve_in_root_walk (root_fd, rel, flags, (extra_resolve & RESOLVE_NO_SYMLINKS) != 0);
  if (fd < 0)
    return -1;
  return reopen_fd (fd, flags);
}

/* Creates one missing component; 1 when something (a dangling symlink?) is already there. */
static int
create_component (int parent, const char *name, bool as_file, const char *path, ctr_error_t *err)
{
  if (as_file)
    {
      int fd = openat (parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0)
        return errno == EEXIST ? 1 : ctr_error (err, errno, "create `%s`", path);
      close (fd);
      return 0;
    }
  if (mkdirat (parent, name, 0755) < 0)
    return errno == EEXIST ? 1 : ctr_error (err, errno, "mkdir `%s`", path);
  return 0;
}

/* A dangling symlink on the way: create what it points to, inside the root (as runc's
   securejoin does). Returns the new path to walk, or NULL when name is no symlink. */
static char *
dangling_target (int parent, const char *name, const char *parent_path, const char *rest)
{
  char target[PATH_MAX];
  struct stat st;
  ssize_t n;
  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK (st.st_mode))
    return NULL;
  n = readlinkat (parent, name, target, sizeof target - 1);
  if (n < 0)
    return NULL;
  target[n] = '\0';
  if (target[0] == '/')
    return xasprintf ("%s/%s", target, rest);
  return xasprintf ("%s/%s/%s", parent_path, target, rest);
}

static int
mkpath_walk (int root_fd, const char *path, bool is_dir, uint64_t extra_resolve, int depth,
             bool *created, ctr_error_t *err)
{
  cleanup_free char *p = NULL;
  cleanup_close int parent = -1;
  char *s;
  int fd = resolve_in_root (root_fd, path, O_PATH, extra_resolve), r;

  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return ctr_error (err, errno, "resolve `%s`", path);
  p = xstrdup (path);
  parent = fcntl (root_fd, F_DUPFD_CLOEXEC, 0);
  if (parent < 0)
    return ctr_error (err, errno, "dup root fd");
  /* Each prefix is re-resolved from the root so that ".." and symlinks inside the root
     behave as the kernel would; only what is missing is created, below the parent fd. */
  for (s = p + strspn (p, "/");;)
    {
      char *end = strchrnul (s, '/');
      bool last = end[strspn (end, "/")] == '\0';
      char saved = *end;
      *end = '\0';
      fd = resolve_in_root (root_fd, p, O_PATH, extra_resolve);
      if (fd < 0 && errno == ENOENT)
        {
          r = create_component (parent, s, last && !is_dir, p, err);
          if (r < 0)
            return -1;
          *created = last && r == 0;
          fd = resolve_in_root (root_fd, p, O_PATH, extra_resolve);
          if (fd < 0 && errno == ENOENT && r > 0 && !(extra_resolve & RESOLVE_NO_SYMLINKS))
            {
              cleanup_free char *parent_path = xstrndup (p, s - p);
              cleanup_free char *next = dangling_target (parent, s, parent_path, path + (end - p));
              if (next == NULL)
                return ctr_error (err, ENOENT, "resolve `%s`", path);
              if (depth >= MAX_SYMLINKS)
                return ctr_error (err, ELOOP, "resolve `%s`", path);
              return mkpath_walk (root_fd, next, is_dir, extra_resolve, depth + 1, created, err);
            }
        }
      if (fd < 0)
        return ctr_error (err, errno, "resolve `%s`", p);
      if (last)
        return fd;
      replace_fd (&parent, fd);
      *end = saved;
      s = end + strspn (end, "/");
    }
}

/* Splits path into its parent (a new string, "" for the root) and last component; false
   when the last component is "." or ".." (or there is none). */
static bool
split_last (const char *path, char **parent, char **name)
{
  size_t n = strlen (path), start;
  while (n > 0 && path[n - 1] == '/')
    n--;
  start = n;
  while (start > 0 && path[start - 1] != '/')
    start--;
  *name = xstrndup (path + start, n - start);
  *parent = xstrndup (path, start);
  return **name && strcmp (*name, ".") != 0 && strcmp (*name, "..") != 0;
}

/* The common case: resolve the path, and when it is missing create the missing tail
   below the (recursively opened) parent, each new component opened from its parent fd
   without following symlinks. Anything unusual (something appeared meanwhile, a dangling
   symlink, "." or "..") goes to mkpath_walk, which copes with all of it. */
static int
mkpath_fast (int root_fd, const char *path, bool is_dir, uint64_t extra_resolve, int depth,
             bool *created, ctr_error_t *err)
{
  cleanup_free char *parent_path = NULL, *name = NULL;
  cleanup_close int parent = -1;
  int fd = resolve_in_root (root_fd, path, O_PATH, extra_resolve), r;

  *created = false;
  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return ctr_error (err, errno, "resolve `%s`", path);
  if (!split_last (path, &parent_path, &name) || depth > MKPATH_FAST_DEPTH)
    return mkpath_walk (root_fd, path, is_dir, extra_resolve, 0, created, err);
  if (parent_path[strspn (parent_path, "/")] != '\0')
    {
      bool parent_created;
      parent = mkpath_fast (root_fd, parent_path, true, extra_resolve, depth + 1, &parent_created,
                            err);
      if (parent < 0)
        return -1;
    }
  r = create_component (parent >= 0 ? parent : root_fd, name, !is_dir, path, err);
  if (r < 0)
    return -1;
  if (r > 0)
    return mkpath_walk (root_fd, path, is_dir, extra_resolve, 0, created, err);
  /* name is one component that we just created: never a symlink, unless raced */
  fd = resolve_in_root (parent >= 0 ? parent : root_fd, name, O_PATH | (is_dir ? O_DIRECTORY : 0),
                        RESOLVE_NO_SYMLINKS);
  if (fd < 0)
    return ctr_error (err, errno, "resolve `%s`", path);
  *created = true;
  return fd;
}

int
mkpath_in_root (int root_fd, const char *path, bool is_dir, uint64_t extra_resolve, bool *created,
                ctr_error_t *err)
{
  bool dummy;
  return mkpath_fast (root_fd, path, is_dir, extra_resolve, 0, created ? created : &dummy, err);
}

char *
path_clean (const char *path)
{
  size_t n = strlen (path);
  char *out = xmalloc (n + 2), *o = out;
  const char *s = path;

  while (*s)
    {
      const char *end;
      size_t len;
      s += strspn (s, "/");
      end = strchrnul (s, '/');
      len = end - s;
      if (len == 0 || (len == 1 && s[0] == '.'))
        ;
      else if (len == 2 && s[0] == '.' && s[1] == '.')
        {
          while (o > out && *--o != '/')
            ;
        }
      else
        {
          *o++ = '/';
          memcpy (o, s, len);
          o += len;
        }
      s = end;
    }
  if (o == out)
    *o++ = '/';
  *o = '\0';
  return out;
}

char *
fd_path_in_root (int fd, const char *root_path)
{
  char buf[FD_PATH_SIZE], target[PATH_MAX];
  ssize_t n = readlink (fd_path (buf, fd), target, sizeof target - 1);
  size_t rl = strlen (root_path);

  if (n < 0)
    return NULL;
  target[n] = '\0';
  while (rl > 1 && root_path[rl - 1] == '/')
    rl--;
  if (rl == 1 && root_path[0] == '/')
    return xstrdup (target);
  if (strncmp (target, root_path, rl) != 0)
    return NULL;
  if (target[rl] == '\0')
    return xstrdup ("/");
  if (target[rl] != '/')
    return NULL;
  return xstrdup (target + rl);
}

uint64_t
fd_mount_id (int fd)
{
  struct statx stx;
  if (statx (fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
    return 0;
  if (!(stx.stx_mask & STATX_MNT_ID))
    return 0;
  return stx.stx_mnt_id;
}

int
rootfs_write_file (const char *rootfs, const char *path, const char *data, size_t len, mode_t mode,
                   ctr_error_t *err)
{
  cleanup_close int rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int dirfd = -1, fd = -1;
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  const char *base = slash ? slash + 1 : dir;

  if (rootfd < 0)
    return ctr_error (err, errno, "open rootfs `%s`", rootfs);
  if (slash)
    *slash = '\0';
  dirfd = resolve_in_root (rootfd, slash && *dir ? dir : "/", O_DIRECTORY | O_RDONLY, 0);
  if (dirfd < 0)
    return ctr_error (err, errno, "%s: open the directory of `%s`", rootfs, path);
  fd = openat (dirfd, base, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0 && errno == ELOOP && unlinkat (dirfd, base, 0) == 0)
    fd = openat (dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return ctr_error (err, errno, "%s: write `%s`", rootfs, path);
  if (write_all (fd, data, len) < 0)
    return ctr_error (err, errno, "%s: write `%s`", rootfs, path);
  return 0;
}

char *
fd_realpath (int fd)
{
  char buf[FD_PATH_SIZE], target[PATH_MAX];
  ssize_t n = readlink (fd_path (buf, fd), target, sizeof target - 1);
  if (n < 0)
    return NULL;
  target[n] = '\0';
  if (target[0] != '/')
    return errno = ENOENT, NULL;
  return xstrdup (target);
}
