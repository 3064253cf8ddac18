/* selfexec: sealed self-copies and non-dumpable setup processes (CVE-2019-5736 class). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <elf.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "process/selfexec.h"
#include "stub/stub.h"
#include "base/util.h"

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

bool
selfexec_is_sealed (void)
{
  cleanup_close int fd = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  struct statvfs sv;
  int seals;
  if (fd < 0)
    return false;
  seals = fcntl (fd, F_GET_SEALS);
  if (seals >= 0 && (seals & SEALS) == SEALS)
    return true;
  /* a binary on a read-only mount can't be written through /proc/PID/exe either */
  return fstatvfs (fd, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

/* Bytes of the file that execution needs: up to the end of the last PT_LOAD segment.
   Debug info and section headers come after it (a build tree's ctr is half debug info). */
static off_t
loadable_size (int fd, off_t file_size)
{
  Elf64_Ehdr eh;
  off_t end = 0;
  int i;

  if (pread (fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh
      || memcmp (eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64
      || eh.e_phentsize != sizeof (Elf64_Phdr))
    return file_size;
  for (i = 0; i < eh.e_phnum; i++)
    {
      Elf64_Phdr ph;
      if (pread (fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (Elf64_Off)i * sizeof ph))
          != (ssize_t)sizeof ph)
        return file_size;
      if (ph.p_type == PT_LOAD && (off_t)(ph.p_offset + ph.p_filesz) > end)
        end = (off_t)(ph.p_offset + ph.p_filesz);
    }
  return end > 0 && end <= file_size ? end : file_size;
}

/* An executable memfd that allows sealing (O_CLOEXEC). */
static int
exec_memfd (const char *name, ctr_error_t *err)
{
  /* MFD_EXEC: kernels with vm.memfd_noexec default new memfds to non-executable */
  int mfd = memfd_create (name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (mfd < 0 && errno == EINVAL)
    mfd = memfd_create (name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0)
    return ctr_error (err, errno, "memfd_create");
  return mfd;
}

static int
sealed_copy (ctr_error_t *err)
{
  cleanup_close int src = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  cleanup_close int mfd = -1;
  struct stat st;
  off_t off = 0, size;

  if (src < 0 || fstat (src, &st) < 0)
    return ctr_error (err, errno, "open /proc/self/exe");
  mfd = exec_memfd ("ctr", err);
  if (mfd < 0)
    return -1;
  size = loadable_size (src, st.st_size);
  while (off < size)
    {
      ssize_t n = sendfile (mfd, src, &off, size - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return ctr_error (err, n < 0 ? errno : EIO, "copy ctr into a sealed memfd");
    }
  if (fcntl (mfd, F_ADD_SEALS, SEALS) < 0)
    return ctr_error (err, errno, "seal the memfd copy of ctr");
  return steal_fd (mfd);
}

int
selfexec_reexec_sealed (char **argv, ctr_error_t *err)
{
  extern char **environ;
  int fd = sealed_copy (err);
  if (fd < 0)
    return ctr_error_wrap (err, "protect the ctr binary");
  fexecve (fd, argv, environ);
  ctr_error (err, errno, "protect the ctr binary: execute the sealed copy");
  close (fd);
  return -1;
}

void
selfexec_nondumpable (void)
{
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
}

bool
selfexec_enabled (void)
{
  const char *v = getenv ("CTR_BENCH_NO_SEAL");
  return v == NULL || strcmp (v, "1") != 0;
}

#ifdef HAVE_STUB
extern const char ctr_stub_blob[], ctr_stub_blob_end[];

bool
selfexec_use_stub (void)
{
  return selfexec_enabled ();
}

int
selfexec_stub_fd (ctr_error_t *err)
{
  cleanup_close int mfd = exec_memfd ("ctr-stub", err);
  size_t len = (size_t)(ctr_stub_blob_end - ctr_stub_blob);

  if (mfd < 0)
    return ctr_error_wrap (err, "protect the ctr binary");
  if (write (mfd, ctr_stub_blob, len) != (ssize_t)len || fcntl (mfd, F_ADD_SEALS, SEALS) < 0)
    return ctr_error (err, errno, "protect the ctr binary: seal the ctr-stub memfd");
  return steal_fd (mfd);
}
#else
bool
selfexec_use_stub (void)
{
  return false;
}

int
selfexec_stub_fd (ctr_error_t *err)
{
  return ctr_error (err, ENOTSUP, "ctr-stub is not built for this architecture");
}
#endif

bool selfexec_stub_refused;

int
selfexec_exec_stub (int stub_fd, unsigned flags, int sync_fd, const uint64_t caps[3],
                    const char *path, char *const argv[], char *const envp[], ctr_error_t *err)
{
  char arg0[128];
  size_t n = strv_len (argv), i;
  cleanup_free char **av = xzalloc ((n + 3) * sizeof (char *));

  if ((flags & STUB_CAPS) && caps)
    snprintf (arg0, sizeof arg0, STUB_ARGV0_PREFIX "%u:%d:%" PRIx64 ":%" PRIx64 ":%" PRIx64, flags,
              sync_fd, caps[0], caps[1], caps[2]);
  else
    snprintf (arg0, sizeof arg0, STUB_ARGV0_PREFIX "%u:%d", flags & ~(unsigned)STUB_CAPS, sync_fd);
  av[0] = arg0;
  av[1] = (char *)path;
  for (i = 0; i < n; i++)
    av[i + 2] = argv[i];
  syscall (SYS_execveat, stub_fd, "", av, envp, AT_EMPTY_PATH);
  /* a seccomp profile may deny execveat (fileless execution) and allow execve: the same
     memfd through the container's procfs (checked to be procfs during setup) */
  if (errno == EPERM || errno == EACCES || errno == ENOSYS)
    {
      char fdpath[64];
      int first = errno;
      snprintf (fdpath, sizeof fdpath, "/proc/self/fd/%d", stub_fd);
      execve (fdpath, av, envp);
      errno = first;
    }
  if (errno == EPERM || errno == ENOSYS)
    {
      selfexec_stub_refused = true;
      return ctr_error (err, errno,
                        "exec `%s` through ctr-stub: the seccomp profile must allow execveat "
                        "or execve",
                        path);
    }
  return ctr_error (err, errno, "exec `%s` through ctr-stub", path);
}

static char **saved_argv;
static pid_t saved_pid;

void
selfexec_save_argv (char **argv)
{
  saved_argv = argv;
  saved_pid = getpid ();
}

int
selfexec_reexec_saved (ctr_error_t *err)
{
  /* not in a process forked since (a system container's monitor): argv is not its own */
  if (!selfexec_enabled () || saved_argv == NULL || saved_pid != getpid () || selfexec_is_sealed ())
    return 0;
  return selfexec_reexec_sealed (saved_argv, err);
}
