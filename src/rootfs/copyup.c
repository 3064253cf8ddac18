/* rootfs/copyup: copying a directory tree fd-to-fd (tmpfs `tmpcopyup`), never following symlinks.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs/copyup.h"
#include "base/util.h"

/* The lower directory comes from the (untrusted) image: bound the recursion. */
#define COPYUP_MAX_DEPTH 128

static int
copy_file_data (int src, int dst)
{
  for (;;)
    {
      ssize_t n = sendfile (dst, src, NULL, 1 << 20);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return n < 0 ? -1 : 0;
    }
}

static int
copy_regular (int src_dir, int dst_dir, const char *name, const struct stat *st, ctr_error_t *err)
{
  cleanup_close int src = openat (src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int dst = -1;
  if (src < 0)
    return ctr_error (err, errno, "open `%s`", name);
  dst = openat (dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0)
    return ctr_error (err, errno, "create `%s`", name);
  if (copy_file_data (src, dst) < 0)
    return ctr_error (err, errno, "copy `%s`", name);
  if (fchown (dst, st->st_uid, st->st_gid) < 0 || fchmod (dst, st->st_mode & 07777) < 0)
    return ctr_error (err, errno, "set owner and mode of `%s`", name);
  return 0;
}

static int
copy_directory (int src_dir, int dst_dir, const char *name, const struct stat *st, int depth,
                ctr_error_t *err)
{
  cleanup_close int src = -1, dst = -1;
  if (mkdirat (dst_dir, name, 0700) < 0)
    return ctr_error (err, errno, "mkdir `%s`", name);
  src = openat (src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  dst = openat (dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0 || dst < 0)
    return ctr_error (err, errno, "open `%s`", name);
  if (copy_tree (src, dst, depth + 1, err) < 0)
    return ctr_error_wrap (err, "%s", name);
  if (fchown (dst, st->st_uid, st->st_gid) < 0 || fchmod (dst, st->st_mode & 07777) < 0)
    return ctr_error (err, errno, "set owner and mode of `%s`", name);
  return 0;
}

static int
copy_entry (int src_dir, int dst_dir, const char *name, int depth, ctr_error_t *err)
{
  struct stat st;
  char target[PATH_MAX];
  ssize_t n;

  if (fstatat (src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return ctr_error (err, errno, "stat `%s`", name);
  switch (st.st_mode & S_IFMT)
    {
    case S_IFDIR:
      if (copy_directory (src_dir, dst_dir, name, &st, depth, err) < 0)
        return -1;
      break;
    case S_IFREG:
      if (copy_regular (src_dir, dst_dir, name, &st, err) < 0)
        return -1;
      break;
    case S_IFLNK:
      n = readlinkat (src_dir, name, target, sizeof target - 1);
      if (n < 0)
        return ctr_error (err, errno, "readlink `%s`", name);
      target[n] = '\0';
      if (symlinkat (target, dst_dir, name) < 0)
        return ctr_error (err, errno, "symlink `%s`", name);
      break;
    default: /* devices, fifos, sockets */
      if (mknodat (dst_dir, name, st.st_mode, st.st_rdev) < 0)
        return ctr_error (err, errno, "mknod `%s`", name);
      if (fchmodat (dst_dir, name, st.st_mode & 07777, 0) < 0)
        return ctr_error (err, errno, "chmod `%s`", name);
      break;
    }
  if (!S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode)
      && fchownat (dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return ctr_error (err, errno, "chown `%s`", name);
  {
    struct timespec times[2] = { st.st_atim, st.st_mtim };
    if (utimensat (dst_dir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
      return ctr_error (err, errno, "set times of `%s`", name);
  }
  return 0;
}

int
copy_tree (int src_dir, int dst_dir, int depth, ctr_error_t *err)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int fd;

  if (depth > COPYUP_MAX_DEPTH)
    return ctr_error (err, ELOOP, "directory tree deeper than %d levels", COPYUP_MAX_DEPTH);
  fd = fcntl (src_dir, F_DUPFD_CLOEXEC, 0);
  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return ctr_error (err, errno, "read directory");
    }
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (copy_entry (src_dir, dst_dir, de->d_name, depth, err) < 0)
        return -1;
    }
  if (errno)
    return ctr_error (err, errno, "read directory");
  return 0;
}
