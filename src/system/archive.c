/* archive: `ctr export` and `ctr import`, a system container as a tar archive made and
   read by Debian's tar (owners as numbers, xattrs, file capabilities, ACLs). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "base/owned_dir.h"
#include "base/util.h"
#include "system/archive-internal.h"
#include "system/dataio.h"
#include "system/pool.h"
#include "system/pool_volume.h"
#include "system/store.h"
#include "system/system.h"
#include "system/userns_child.h"

/* ------------------------------------------------------------------ running tar */

pid_t
dataio_spawn_tar (char *const *argv, int in_fd, int out_fd, int keep_fd, int *errfd,
                  ctr_error_t *err)
{
  static const char *const tars[] = { "/usr/bin/tar", "/bin/tar" };
  pid_t parent = getpid (), pid;
  int efd = memfd_create ("tar-stderr", MFD_CLOEXEC);

  if (efd < 0)
    return ctr_error (err, errno, "memfd_create");
  pid = fork ();
  if (pid < 0)
    {
      close (efd);
      return ctr_error (err, errno, "fork");
    }
  if (pid == 0)
    {
      char *const envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };
      sigset_t none;
      int nul = open ("/dev/null", O_RDWR | O_CLOEXEC);

      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () != parent)
        _exit (127);
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      if (nul < 0 || dup2 (in_fd >= 0 ? in_fd : nul, STDIN_FILENO) < 0
          || dup2 (out_fd >= 0 ? out_fd : nul, STDOUT_FILENO) < 0 || dup2 (efd, STDERR_FILENO) < 0)
        _exit (127);
      if (keep_fd >= 0)
        fcntl (keep_fd, F_SETFD, 0);
      for (size_t i = 0; i < ARRAY_SIZE (tars); i++)
        execve (tars[i], argv, envp);
      dprintf (STDERR_FILENO, "cannot run tar: %s\n", strerror (errno));
      _exit (127);
    }
  *errfd = efd;
  interrupt_child (pid);
  return pid;
}

/* The first line of tar's stderr that is not a note ("Removing leading", ignored sockets). */
static void
first_complaint (int efd, char *msg, size_t size)
{
  char buf[4096];
  ssize_t n = pread (efd, buf, sizeof buf - 1, 0);
  char *line, *save = NULL;

  *msg = '\0';
  if (n <= 0)
    return;
  buf[n] = '\0';
  for (line = strtok_r (buf, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      if (strstr (line, ": socket ignored"))
        continue;
      if (strncmp (line, "tar: ", 5) == 0)
        line += 5;
      snprintf (msg, size, "%s", line);
      return;
    }
}

int
dataio_wait_tar (pid_t pid, int efd, ctr_error_t *err)
{
  char msg[1024];
  int status;

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      {
        interrupt_child (0);
        close (efd);
        return ctr_error (err, errno, "wait for tar");
      }
  interrupt_child (0);
  if (interrupt_caught ())
    {
      close (efd);
      return ctr_error (err, 0, "tar: interrupted (%s)", strsignal (interrupt_caught ()));
    }
  first_complaint (efd, msg, sizeof msg);
  close (efd);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFSIGNALED (status))
    return ctr_error (err, 0, "tar: killed by signal %d", WTERMSIG (status));
  return ctr_error (err, 0, "tar: %s", *msg ? msg : "failed");
}

int
dataio_run_tar (char *const *argv, int in_fd, int out_fd, int keep_fd, ctr_error_t *err)
{
  int efd;
  pid_t pid = dataio_spawn_tar (argv, in_fd, out_fd, keep_fd, &efd, err);
  if (pid < 0)
    return -1;
  return dataio_wait_tar (pid, efd, err);
}

/* ------------------------------------------------------------------ common */

const char *
archive_compress_option (enum archive_compression c)
{
  switch (c)
    {
    case ARCHIVE_GZIP:
      return "--gzip";
    case ARCHIVE_XZ:
      return "--xz";
    case ARCHIVE_ZSTD:
      return "--zstd";
    default:
      return NULL;
    }
}

static bool
ends_with (const char *s, const char *suffix)
{
  size_t a = strlen (s), b = strlen (suffix);
  return a >= b && strcmp (s + a - b, suffix) == 0;
}

int
archive_compression_of_name (const char *file, enum archive_compression *c, ctr_error_t *err)
{
  static const struct
  {
    const char *suffix;
    enum archive_compression c;
  } known[] = {
    { ".tar", ARCHIVE_PLAIN }, { ".tar.gz", ARCHIVE_GZIP }, { ".tgz", ARCHIVE_GZIP },
    { ".tar.xz", ARCHIVE_XZ }, { ".txz", ARCHIVE_XZ },      { ".tar.zst", ARCHIVE_ZSTD },
    { ".tzst", ARCHIVE_ZSTD },
  };
  for (size_t i = 0; i < ARRAY_SIZE (known); i++)
    if (ends_with (file, known[i].suffix))
      {
        *c = known[i].c;
        return 0;
      }
  return ctr_error (err, 0,
                    "`%s`: unknown archive type (the name must end in .tar, .tar.gz, .tgz, "
                    ".tar.xz, .txz, .tar.zst or .tzst)",
                    file);
}

/* ------------------------------------------------------------------ export */

/* The archive's file: an O_TMPFILE in FILE's directory (a kill leaves nothing), or
   FILE.tmp where the filesystem has none; *dirfd and *tmpname say which. */
static int
open_output (const char *file, int *dirfd, char **tmpname, ctr_error_t *err)
{
  cleanup_free char *copy = xstrdup (file);
  char *slash = strrchr (copy, '/');
  const char *dir = slash ? (slash == copy ? "/" : copy) : ".";
  int fd;

  if (slash)
    *slash = '\0';
  *tmpname = NULL;
  *dirfd = open (dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (*dirfd < 0)
    return ctr_error (err, errno, "`%s`: open its directory `%s`", file, dir);
  fd = openat (*dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd >= 0)
    return fd;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    return ctr_error (err, errno, "`%s`: create", file);
  *tmpname = xasprintf ("%s.tmp", slash ? slash + 1 : file);
  unlinkat (*dirfd, *tmpname, 0);
  fd = openat (*dirfd, *tmpname, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return ctr_error (err, errno, "`%s.tmp`: create", file);
  return fd;
}

/* The finished archive under its name: linked as FILE where there is none (one step: a
   kill leaves a whole FILE or none), else linked as FILE.tmp and renamed over FILE (a kill
   between the two leaves the old FILE and a whole FILE.tmp, which the next export
   replaces). */
static int
commit_output (const char *file, int fd, int dirfd, const char *tmpname, ctr_error_t *err)
{
  const char *base = strrchr (file, '/') ? strrchr (file, '/') + 1 : file;
  cleanup_free char *tmp = xasprintf ("%s.tmp", base);
  char path[64];

  if (fsync (fd) < 0)
    return ctr_error (err, errno, "`%s`: write", file);
  if (tmpname == NULL)
    {
      snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
      if (linkat (AT_FDCWD, path, dirfd, base, AT_SYMLINK_FOLLOW) == 0)
        return 0;
      if (errno != EEXIST)
        return ctr_error (err, errno, "`%s`: create", file);
      unlinkat (dirfd, tmp, 0);
      if (linkat (AT_FDCWD, path, dirfd, tmp, AT_SYMLINK_FOLLOW) < 0)
        return ctr_error (err, errno, "`%s`: create", file);
    }
  if (renameat (dirfd, tmp, dirfd, base) < 0)
    {
      int e = errno;
      unlinkat (dirfd, tmp, 0);
      return ctr_error (err, e, "`%s`: rename `%s` over it", file, tmp);
    }
  return 0;
}

static int
export_argv_run (const struct ctr_context *ctx, int fd, const char *name, const char *rootfs,
                 enum archive_compression c, bool snapshots, int out_fd, ctr_error_t *err)
{
  cleanup_free char *transform = xasprintf ("s,^\\.,%s/rootfs,S", name);
  cleanup_free char *config = xasprintf ("%s/config.json", name);
  cleanup_free char *meta = xasprintf ("%s/%s", name, STORE_META);
  cleanup_free char *tconf = xasprintf ("%s/template.conf", name);
  cleanup_free char *snaps = xasprintf ("%s/snapshots", name);
  cleanup_free char *dots = xasprintf ("%s/snapshots/.*", name);
  const char *argv[32];
  size_t n = 0;

  argv[n++] = "tar";
  argv[n++] = "--create";
  argv[n++] = "--format=posix";
  argv[n++] = "--numeric-owner";
  argv[n++] = "--xattrs";
  argv[n++] = "--xattrs-include=*";
  argv[n++] = "--acls";
  argv[n++] = "--one-file-system";
  argv[n++] = "--anchored";
  argv[n++] = "--exclude";
  argv[n++] = dots;
  argv[n++] = "--transform";
  argv[n++] = transform;
  if (archive_compress_option (c))
    argv[n++] = archive_compress_option (c);
  argv[n++] = "--file=-";
  argv[n++] = "--directory";
  argv[n++] = store_root (ctx->store);
  argv[n++] = config;
  argv[n++] = meta;
  if (faccessat (fd, "template.conf", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    argv[n++] = tconf;
  if (snapshots && faccessat (fd, "snapshots", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    argv[n++] = snaps;
  argv[n++] = "--directory";
  argv[n++] = rootfs;
  argv[n++] = ".";
  argv[n] = NULL;
  return dataio_run_tar ((char *const *)argv, -1, out_fd, fd, err);
}

static int
export_here (const struct ctr_context *ctx, const char *name, const char *file, bool snapshots,
             ctr_error_t *err)
{
  enum archive_compression c = ARCHIVE_PLAIN;
  cleanup_close int fd = -1, out = -1, dirfd = -1;
  cleanup_free char *dir = NULL, *rootfs = NULL, *tmpname = NULL;
  bool to_stdout = strcmp (file, "-") == 0;
  int r;

  if (!to_stdout && archive_compression_of_name (file, &c, err) < 0)
    return -1;
  fd = system_open_stopped (ctx, name, "export", err);
  if (fd < 0)
    return -1;
  if (snapshots && pool_volume_native_snapshots (fd))
    {
      cleanup_free char *pool = pool_volume_pool (fd);
      return ctr_error (err, 0,
                        "export `%s`: --snapshots: its snapshots are native volumes of pool `%s`, "
                        "which an archive cannot hold yet",
                        name, pool);
    }
  dir = xasprintf ("%s/%s", store_root (ctx->store), name);
  if (pool_volume_activate (fd, dir, err) < 0)
    return ctr_error_wrap (err, "export `%s`", name);
  rootfs = pool_volume_rootfs (fd, dir);
  if (to_stdout)
    return export_argv_run (ctx, fd, name, rootfs, c, snapshots, STDOUT_FILENO, err) < 0
               ? ctr_error_wrap (err, "export `%s`", name)
               : 0;
  out = open_output (file, &dirfd, &tmpname, err);
  if (out < 0)
    return ctr_error_wrap (err, "export `%s`", name);
  r = export_argv_run (ctx, fd, name, rootfs, c, snapshots, out, err);
  if (r == 0)
    r = commit_output (file, out, dirfd, tmpname, err);
  if (r < 0)
    {
      if (tmpname)
        unlinkat (dirfd, tmpname, 0);
      return ctr_error_wrap (err, "export `%s`", name);
    }
  return 0;
}

static int
export_fn (void *arg, char **out, ctr_error_t *err)
{
  const struct userns_verb *v = arg;
  (void)out;
  return export_here (v->ctx, v->a, v->b, v->flag, err);
}

/* An unprivileged user's export runs as root of its user namespace (userns_as_root): the
   archive holds the ids the files have inside the container. */
int
system_export (const struct ctr_context *ctx, const char *name, const char *file, bool snapshots,
               ctr_error_t *err)
{
  struct userns_verb v = { .ctx = ctx, .a = name, .b = file, .flag = snapshots };
  return userns_as_root (export_fn, &v, NULL, err);
}
