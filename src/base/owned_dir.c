/* owned_dir: opening a directory only the caller controls (see owned_dir.h). */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/owned_dir.h"
#include "base/util.h"

/* owned_dir_remember_euid's: (uid_t)-1 when off */
static uid_t remembered_euid = (uid_t)-1;

void
owned_dir_remember_euid (bool on)
{
  remembered_euid = on ? geteuid () : (uid_t)-1;
}

static uid_t
caller_euid (void)
{
  return remembered_euid != (uid_t)-1 ? remembered_euid : geteuid ();
}

/* internal: path is only on the way to the directory (to be made in it later), held to
   the rule for directories on the way, not to the stricter one for the directory */
#define OWNED_DIR_ON_THE_WAY 4

/* In a user namespace, directories of unmapped owners (root's /run, seen from a rootless
   engine's namespace) show the overflow uid; outside one, that uid is a user like any. */
static bool
overflow_owner (uid_t uid)
{
  static int in_userns = -1;
  static uid_t overflow = 65534;
  if (in_userns < 0)
    {
      cleanup_free char *text = NULL;
      size_t len;
      unsigned a, b, n;
      in_userns = 0;
      if (read_file_at (AT_FDCWD, "/proc/self/uid_map", 4096, &text, &len, NULL) == 0)
        in_userns
            = !(sscanf (text, "%u %u %u", &a, &b, &n) == 3 && a == 0 && b == 0 && n == 4294967295U);
      free (text);
      text = NULL;
      if (read_file_at (AT_FDCWD, "/proc/sys/kernel/overflowuid", 64, &text, &len, NULL) == 0)
        overflow = (uid_t)strtoul (text, NULL, 10);
    }
  return in_userns && uid == overflow;
}

/* A directory on the way: root's or the caller's, and if others may write it, sticky. */
static int
ancestor_check (int fd, const char *at, const char *path, const char *what, ctr_error_t *err)
{
  struct stat st;
  if (fstat (fd, &st) < 0)
    return ctr_error (err, errno, "%s `%s`: stat `%s`", what, path, at);
  if (st.st_uid != 0 && st.st_uid != caller_euid () && !overflow_owner (st.st_uid))
    return ctr_error (err, 0,
                      "%s `%s` is not safe: `%s` on its path belongs to uid %u; use a "
                      "directory of your own",
                      what, path, at, (unsigned)st.st_uid);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
    return ctr_error (err, 0,
                      "%s `%s` is not safe: `%s` on its path is writable by others (mode %04o)",
                      what, path, at, (unsigned)(st.st_mode & 07777));
  return 0;
}

static int
stat_check (const struct stat *st, const char *path, const char *what, ctr_error_t *err)
{
  if (!S_ISDIR (st->st_mode))
    return ctr_error (err, 0, "%s `%s` is not a directory", what, path);
  if (st->st_uid != caller_euid ())
    return ctr_error (err, 0,
                      "%s `%s` belongs to uid %u, not to you (uid %u); use a directory of "
                      "your own",
                      what, path, (unsigned)st->st_uid, (unsigned)geteuid ());
  if (st->st_mode & (S_IWGRP | S_IWOTH))
    return ctr_error (err, 0, "%s `%s` is writable by others (mode %04o); chmod go-w it", what,
                      path, (unsigned)(st->st_mode & 07777));
  return 0;
}

int
owned_dir_check (int fd, const char *path, const char *what, ctr_error_t *err)
{
  struct stat st;
  if (fstat (fd, &st) < 0)
    return ctr_error (err, errno, "%s `%s`: stat", what, path);
  return stat_check (&st, path, what, err);
}

/* The error of a failed stat or open (verb) of path: "does not exist" for ENOENT; errno
   stays e (callers tell a missing directory from a refused one by it). */
static int
missing_error (int e, const char *verb, const char *path, const char *what, ctr_error_t *err)
{
  if (e == ENOENT)
    ctr_error (err, 0, "%s `%s` does not exist", what, path);
  else
    ctr_error (err, e, "%s %s `%s`", verb, what, path);
  errno = e;
  return -1;
}

int
owned_subdir_check (int dirfd, const char *name, const char *path, const char *what,
                    ctr_error_t *err)
{
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return missing_error (errno, "stat", path, what, err);
  if (stat_check (&st, path, what, err) < 0)
    return (errno = 0), -1;
  return 0;
}

/* The walk of owned_dir_open, for a path that may be missing (OWNED_DIR_MISSING); name is
   the directory errors name (path itself, or the one to be made under it). */
static int
owned_dir_walk (const char *path, const char *name, const char *what, int flags, ctr_error_t *err)
{
  cleanup_free char *resolved = NULL;
  cleanup_close int fd = -1;
  char *comp, *next;

  resolved = realpath (path, NULL);
  if (resolved == NULL)
    {
      if (errno == ENOENT && (flags & OWNED_DIR_MISSING_OK))
        return OWNED_DIR_MISSING;
      return ctr_error (err, errno, "%s `%s`", what, name);
    }
  fd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ancestor_check (fd, "/", name, what, err) < 0)
    return fd < 0 ? ctr_error (err, errno, "open /") : -1;
  /* each component of the resolved path, never through a symlink: a swap after realpath
     fails the walk instead of leading it elsewhere */
  for (comp = resolved + 1; comp && *comp; comp = next)
    {
      int nfd;
      next = strchr (comp, '/');
      if (next)
        *next = '\0';
      nfd = openat (fd, comp,
                    (next || (flags & OWNED_DIR_ON_THE_WAY) ? O_PATH : O_RDONLY) | O_DIRECTORY
                        | O_NOFOLLOW | O_CLOEXEC);
      if (nfd < 0)
        return ctr_error (err, errno, "%s `%s`: open `%s`", what, name, resolved);
      close (fd);
      fd = nfd;
      if (next)
        {
          if (ancestor_check (fd, resolved, name, what, err) < 0)
            return -1;
          *next++ = '/';
        }
    }
  if (strcmp (resolved, "/") == 0 && !(flags & OWNED_DIR_ON_THE_WAY))
    {
      close (fd);
      fd = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return ctr_error (err, errno, "open /");
    }
  if ((flags & OWNED_DIR_ON_THE_WAY) ? ancestor_check (fd, resolved, name, what, err) < 0
                                     : owned_dir_check (fd, name, what, err) < 0)
    return -1;
  return steal_fd (fd);
}

int
owned_dir_probe (const char *path, const char *what, char **existing, ctr_error_t *err)
{
  cleanup_free char *p = xstrdup (path);
  char *slash;
  int fd = owned_dir_walk (path, path, what, OWNED_DIR_MISSING_OK, err);
  if (fd != OWNED_DIR_MISSING)
    {
      if (fd >= 0)
        *existing = p, p = NULL;
      return fd;
    }
  /* the nearest existing directory on the way, held to the rule for those */
  while ((slash = strrchr (p, '/')) != NULL)
    {
      *slash = '\0';
      fd = owned_dir_walk (*p ? p : "/", path, what, OWNED_DIR_MISSING_OK | OWNED_DIR_ON_THE_WAY,
                           err);
      if (fd != OWNED_DIR_MISSING)
        {
          if (fd >= 0)
            *existing = xstrdup (*p ? p : "/");
          return fd;
        }
    }
  /* relative: made under the working directory, which the caller chose */
  fd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ctr_error (err, errno, "%s `%s`: open the working directory", what, path);
  *existing = xstrdup (".");
  return fd;
}

int
owned_dir_open (const char *path, const char *what, int flags, ctr_error_t *err)
{
  cleanup_free char *existing = NULL;
  int fd = owned_dir_walk (path, path, what, flags | OWNED_DIR_MISSING_OK, err);
  if (fd != OWNED_DIR_MISSING || !(flags & OWNED_DIR_CREATE))
    {
      if (fd == OWNED_DIR_MISSING && !(flags & OWNED_DIR_MISSING_OK))
        return ctr_error (err, ENOENT, "%s `%s`", what, path);
      return fd;
    }
  /* nothing is made in a directory that fails the rule */
  fd = owned_dir_probe (path, what, &existing, err);
  if (fd < 0)
    return -1;
  close (fd);
  if (mkdir_p (path, 0700, err) < 0)
    return ctr_error_wrap (err, "create %s `%s`", what, path);
  return owned_dir_walk (path, path, what, flags & ~OWNED_DIR_MISSING_OK, err);
}

int
owned_subdir_open (int dirfd, const char *name, const char *path, const char *what,
                   ctr_error_t *err)
{
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return missing_error (errno, "open", path, what, err);
  if (owned_dir_check (fd, path, what, err) < 0)
    return (errno = 0), -1;
  return steal_fd (fd);
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

int
owned_dir_list_ids (const char *root, const char *what, char ***ids, size_t *n, ctr_error_t *err)
{
  int fd = owned_dir_open (root, what, OWNED_DIR_MISSING_OK, err);

  *ids = NULL;
  *n = 0;
  if (fd < 0)
    return fd == OWNED_DIR_MISSING ? 0 : -1;
  return owned_dir_list_ids_fd (fd, root, what, ids, n, err);
}

int
owned_dir_list_ids_fd (int fd, const char *root, const char *what, char ***ids, size_t *n,
                       ctr_error_t *err)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  char **v = NULL;
  size_t count = 0;

  *ids = NULL;
  *n = 0;
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return ctr_error (err, errno, "read %s `%s`", what, root);
    }
  /* fd may share its offset with one already read (a dup) */
  rewinddir (d);
  while ((de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
        continue;
      if (validate_container_id (de->d_name, NULL) < 0)
        continue;
      v = xrealloc (v, (count + 2) * sizeof (char *));
      v[count++] = xstrdup (de->d_name);
      v[count] = NULL;
    }
  if (count)
    qsort (v, count, sizeof (char *), cmp_str);
  *ids = v;
  *n = count;
  return 0;
}

char **
owned_dir_select_ids (const char *root, const char *what,
                      bool (*match) (int dirfd, const char *id, void *data), void *data)
{
  char **ids = NULL, **out;
  size_t n = 0, k = 0;
  ctr_error_t e = NULL;

  if (owned_dir_list_ids (root, what, &ids, &n, &e) < 0)
    {
      ctr_error_free (&e);
      return xzalloc (sizeof (char *));
    }
  out = xzalloc ((n + 1) * sizeof *out);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *dir = xasprintf ("%s/%s", root, ids[i]);
      cleanup_close int fd = open (dir, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0 && match (fd, ids[i], data))
        out[k++] = steal_ptr (ids[i]);
      free (ids[i]);
    }
  free (ids);
  return out;
}
