/* util: whole-file I/O, number and signal parsing, id checks, sockets, tree removal. */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"

ssize_t
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  size_t done = 0;
  while (done < len)
    {
      ssize_t r = write (fd, p + done, len - done);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      done += r;
    }
  return done;
}

ssize_t
read_all (int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t done = 0;
  while (done < len)
    {
      ssize_t r = read (fd, p + done, len - done);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      if (r == 0)
        break;
      done += r;
    }
  return done;
}

/* read_file_at's and read_whole_file_at's: whole, the file is taken as regular and unchanged
   while read, so a read shorter than asked is its end, with no fstat to size it first. */
static int
read_file (int dirfd, const char *path, size_t max_size, bool whole, char **out, size_t *len,
           ctr_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *buf = NULL;
  size_t size = 0, alloc = 4096;
  struct stat st = { .st_size = 0 };
  bool regular = whole;

  fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ctr_error (err, errno, "open `%s`", path);
  if (!whole && fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && st.st_size > 0)
    {
      alloc = st.st_size + 1;
      regular = true;
    }
  if (alloc > max_size + 1)
    alloc = max_size + 1;
  buf = xmalloc (alloc + 1);
  for (;;)
    {
      ssize_t r, want;
      if (size == alloc)
        {
          if (alloc > max_size)
            return ctr_error (err, EFBIG, "read `%s`: larger than %zu bytes", path, max_size);
          alloc *= 2;
          if (alloc > max_size + 1)
            alloc = max_size + 1;
          buf = xrealloc (buf, alloc + 1);
        }
      want = (ssize_t)(alloc - size);
      r = read (fd, buf + size, want);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          return ctr_error (err, errno, "read `%s`", path);
        }
      if (r == 0)
        break;
      size += r;
      /* a regular file read whole, short of the room left: that was its end (no second
         read for the 0; a file that grew since fstat fills the room and is read on) */
      if (regular && r < want && size >= (size_t)st.st_size)
        break;
    }
  if (size > max_size)
    return ctr_error (err, EFBIG, "read `%s`: larger than %zu bytes", path, max_size);
  buf[size] = '\0';
  if (len)
    *len = size;
  *out = steal_ptr (buf);
  return 0;
}

int
read_file_at (int dirfd, const char *path, size_t max_size, char **out, size_t *len,
              ctr_error_t *err)
{
  return read_file (dirfd, path, max_size, false, out, len, err);
}

int
read_whole_file_at (int dirfd, const char *path, size_t max_size, char **out, size_t *len,
                    ctr_error_t *err)
{
  return read_file (dirfd, path, max_size, true, out, len, err);
}

char *
proc_comm (pid_t pid)
{
  char path[64], *comm = NULL;
  ctr_error_t err = NULL;

  snprintf (path, sizeof path, "/proc/%d/comm", (int)pid);
  if (read_file_at (AT_FDCWD, path, 64, &comm, NULL, &err) < 0)
    {
      ctr_error_free (&err);
      return NULL;
    }
  comm[strcspn (comm, "\n")] = '\0';
  return comm;
}

int
write_file_at (int dirfd, const char *path, const void *data, size_t len, mode_t mode,
               ctr_error_t *err)
{
  cleanup_close int fd = openat (dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return ctr_error (err, errno, "open `%s`", path);
  if (write_all (fd, data, len) < 0)
    return ctr_error (err, errno, "write `%s`", path);
  return 0;
}

int
write_file_atomic_at (int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                      ctr_error_t *err)
{
  cleanup_free char *tmp = xasprintf ("%s.tmp", path);
  if (write_file_at (dirfd, tmp, data, len, mode, err) < 0)
    return -1;
  if (renameat (dirfd, tmp, dirfd, path) < 0)
    {
      int saved = errno;
      unlinkat (dirfd, tmp, 0);
      return ctr_error (err, saved, "rename `%s`", path);
    }
  return 0;
}

int
mkdir_p (const char *path, mode_t mode, ctr_error_t *err)
{
  cleanup_free char *p = xstrdup (path);
  char *s;

  for (s = p + 1; *s; s++)
    {
      if (*s != '/')
        continue;
      *s = '\0';
      if (mkdir (p, mode) < 0 && errno != EEXIST)
        return ctr_error (err, errno, "mkdir `%s`", p);
      *s = '/';
    }
  if (mkdir (p, mode) < 0 && errno != EEXIST)
    return ctr_error (err, errno, "mkdir `%s`", p);
  return 0;
}

int
parse_int64 (const char *s, int64_t *out)
{
  char *end;
  long long v;
  if (s == NULL || *s == '\0')
    return (errno = EINVAL), -1;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (errno)
    return -1;
  if (*end != '\0')
    return (errno = EINVAL), -1;
  *out = v;
  return 0;
}

int
parse_uint64 (const char *s, uint64_t *out)
{
  char *end;
  unsigned long long v;
  if (s == NULL || *s == '\0' || *s == '-')
    return (errno = EINVAL), -1;
  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno)
    return -1;
  if (*end != '\0')
    return (errno = EINVAL), -1;
  *out = v;
  return 0;
}

static const struct
{
  const char *name;
  int num;
} signals[] = {
  { "HUP", SIGHUP },       { "INT", SIGINT },   { "QUIT", SIGQUIT },     { "ILL", SIGILL },
  { "TRAP", SIGTRAP },     { "ABRT", SIGABRT }, { "IOT", SIGIOT },       { "BUS", SIGBUS },
  { "FPE", SIGFPE },       { "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },     { "TERM", SIGTERM },
  { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },     { "STOP", SIGSTOP },
  { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },
  { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
  { "WINCH", SIGWINCH },   { "IO", SIGIO },     { "POLL", SIGPOLL },     { "PWR", SIGPWR },
  { "SYS", SIGSYS },
};

int
signal_parse (const char *s)
{
  int64_t n;
  size_t i;

  if (s == NULL || *s == '\0')
    return -1;
  if (isdigit ((unsigned char)*s))
    {
      if (parse_int64 (s, &n) < 0 || n <= 0 || n >= NSIG)
        return -1;
      return (int)n;
    }
  if (strncasecmp (s, "SIG", 3) == 0)
    s += 3;
  for (i = 0; i < ARRAY_SIZE (signals); i++)
    if (strcasecmp (s, signals[i].name) == 0)
      return signals[i].num;
  if (strncasecmp (s, "RTMIN", 5) == 0 || strncasecmp (s, "RTMAX", 5) == 0)
    {
      bool min = strncasecmp (s, "RTMIN", 5) == 0;
      int base = min ? SIGRTMIN : SIGRTMAX, sig;
      const char *rest = s + 5;
      if (*rest == '\0')
        return base;
      /* the offset is range-checked before it is added: RTMIN+4294967298 is no RTMIN+2 */
      if ((*rest != '+' && *rest != '-') || parse_int64 (rest + 1, &n) < 0 || n < 0
          || n > SIGRTMAX - SIGRTMIN)
        return -1;
      sig = *rest == '+' ? base + (int)n : base - (int)n;
      if (sig < SIGRTMIN || sig > SIGRTMAX)
        return -1;
      return sig;
    }
  return -1;
}

const char *
signal_name (int sig)
{
  static char buf[32];
  size_t i;
  for (i = 0; i < ARRAY_SIZE (signals); i++)
    if (signals[i].num == sig)
      {
        snprintf (buf, sizeof buf, "SIG%s", signals[i].name);
        return buf;
      }
  return NULL;
}

int
validate_container_id (const char *id, ctr_error_t *err)
{
  size_t i, len;
  if (id == NULL || *id == '\0')
    return ctr_error (err, 0, "container id is empty");
  len = strlen (id);
  /* the id names the state directory and the cgroup leaf: one path component each */
  if (len > NAME_MAX)
    return ctr_error (err, 0, "container id `%.32s...` is too long (%zu bytes; the limit is %d)",
                      id, len, NAME_MAX);
  for (i = 0; i < len; i++)
    {
      unsigned char c = id[i];
      if (isalnum (c) || c == '_' || c == '+' || c == '-' || (c == '.' && i > 0))
        continue;
      return ctr_error (err, 0,
                        "invalid container id `%.64s%s`: must match [A-Za-z0-9_+-][A-Za-z0-9_+.-]*",
                        id, len > 64 ? "..." : "");
    }
  return 0;
}

/* Lazily computed once; `ctr list`'s worker threads ask it too. */
static int rootless_cached = -1;

static void
rootless_compute (void)
{
  int v = geteuid () != 0;
  if (!v)
    {
      /* root inside a user namespace that does not map the whole host range */
      char buf[256];
      int fd = open ("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          ssize_t r = read (fd, buf, sizeof buf - 1);
          close (fd);
          if (r > 0)
            {
              unsigned long a, b, c;
              buf[r] = '\0';
              if (sscanf (buf, "%lu %lu %lu", &a, &b, &c) == 3 && c != 4294967295UL)
                v = 1;
            }
        }
    }
  __atomic_store_n (&rootless_cached, v, __ATOMIC_RELEASE);
}

/* No pthread_once: its wake-up is a futex call in every process, and the value is the
   same whoever computes it, so threads that race just compute it twice. */
bool
is_rootless (void)
{
  if (__atomic_load_n (&rootless_cached, __ATOMIC_ACQUIRE) < 0)
    rootless_compute ();
  return __atomic_load_n (&rootless_cached, __ATOMIC_ACQUIRE);
}

uint64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int
unix_connect (const char *path, const char *what, ctr_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (sock < 0)
    return ctr_error (err, errno, "%s", what);
  if (strlen (path) >= sizeof addr.sun_path)
    return ctr_error (err, ENAMETOOLONG, "%s `%s`", what, path);
  strcpy (addr.sun_path, path);
  if (connect (sock, (struct sockaddr *)&addr, sizeof addr) < 0)
    return ctr_error (err, errno, "connect to %s `%s`", what, path);
  return steal_fd (sock);
}

/* A message of one iovec with room for one fd (SCM_RIGHTS). */
union fd_ctl
{
  char buf[CMSG_SPACE (sizeof (int))];
  struct cmsghdr align;
};

static void
fd_msg_init (struct msghdr *mh, struct iovec *iov, union fd_ctl *ctl)
{
  memset (ctl, 0, sizeof *ctl);
  *mh = (struct msghdr){
    .msg_iov = iov, .msg_iovlen = 1, .msg_control = ctl->buf, .msg_controllen = sizeof ctl->buf
  };
}

int
unix_send_fd (int sock, const void *data, size_t len, int fd)
{
  struct iovec iov = { (void *)data, len };
  union fd_ctl ctl;
  struct msghdr mh;
  struct cmsghdr *c;

  fd_msg_init (&mh, &iov, &ctl);
  if (fd < 0)
    {
      mh.msg_control = NULL;
      mh.msg_controllen = 0;
    }
  else
    {
      c = CMSG_FIRSTHDR (&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &fd, sizeof (int));
    }
  while (sendmsg (sock, &mh, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return -1;
  return 0;
}

ssize_t
unix_recv_fd (int sock, void *buf, size_t len, int *fd)
{
  struct iovec iov = { buf, len };
  union fd_ctl ctl;
  struct msghdr mh;
  struct cmsghdr *c;
  ssize_t n;

  *fd = -1;
  fd_msg_init (&mh, &iov, &ctl);
  while ((n = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC)) < 0)
    if (errno != EINTR)
      return -1;
  for (c = CMSG_FIRSTHDR (&mh); c; c = CMSG_NXTHDR (&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN (0)) / sizeof (int); i++)
        {
          int got;
          memcpy (&got, CMSG_DATA (c) + i * sizeof (int), sizeof (int));
          if (*fd < 0)
            *fd = got;
          else
            close (got); /* one fd per message is expected */
        }
  return n;
}

static int
remove_children (int fd, dev_t dev, const char *path, ctr_error_t *err)
{
  cleanup_dir DIR *d = fdopendir (fd);
  struct dirent *de;

  if (d == NULL)
    {
      close (fd);
      return ctr_error (err, errno, "read directory `%s`", path);
    }
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      struct stat st;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          return ctr_error (err, errno, "stat `%s/%s`", path, de->d_name);
        }
      if (S_ISDIR (st.st_mode))
        {
          cleanup_free char *sub = xasprintf ("%s/%s", path, de->d_name);
          int cfd;
          if (st.st_dev != dev)
            return ctr_error (err, EBUSY, "remove `%s`: a filesystem is mounted there", sub);
          cfd = openat (dirfd (d), de->d_name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
          if (cfd < 0)
            return ctr_error (err, errno, "open `%s`", sub);
          if (remove_children (cfd, dev, sub, err) < 0)
            return -1;
          if (unlinkat (dirfd (d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            return ctr_error (err, errno, "remove `%s`", sub);
        }
      else if (unlinkat (dirfd (d), de->d_name, 0) < 0 && errno != ENOENT)
        return ctr_error (err, errno, "remove `%s/%s`", path, de->d_name);
    }
  if (errno != 0)
    return ctr_error (err, errno, "read directory `%s`", path);
  return 0;
}

int
remove_tree_at (int dirfd, const char *name, ctr_error_t *err)
{
  struct stat st;
  int fd;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : ctr_error (err, errno, "stat `%s`", name);
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (dirfd, name, 0) < 0 && errno != ENOENT)
        return ctr_error (err, errno, "remove `%s`", name);
      return 0;
    }
  fd = openat (dirfd, name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return ctr_error (err, errno, "open `%s`", name);
  if (remove_children (fd, st.st_dev, name, err) < 0)
    return -1;
  if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return ctr_error (err, errno, "remove `%s`", name);
  return 0;
}

char *
rfc3339_now (void)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  return xasprintf ("%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

int
wait_status_code (int wstatus)
{
  if (WIFEXITED (wstatus))
    return WEXITSTATUS (wstatus);
  if (WIFSIGNALED (wstatus))
    return 128 + WTERMSIG (wstatus);
  return 255;
}

void
kill_and_reap (pid_t pid, int pidfd)
{
  if (pid <= 0)
    return;
  if (pidfd >= 0)
    syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
  else
    kill (pid, SIGKILL);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

static volatile sig_atomic_t interrupt_signo;
static volatile sig_atomic_t interrupt_pid;

static void
on_interrupt (int sig)
{
  int saved = errno;
  interrupt_signo = sig;
  if (interrupt_pid > 0)
    kill (interrupt_pid, SIGKILL);
  errno = saved;
}

void
interrupt_catch (void)
{
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
  struct sigaction sa = { .sa_handler = on_interrupt }, old;

  sigemptyset (&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction (sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
      sigaction (sigs[i], &sa, NULL);
}

void
interrupt_child (pid_t pid)
{
  interrupt_pid = pid;
  if (pid > 0 && interrupt_signo)
    kill (pid, SIGKILL);
}

int
interrupt_caught (void)
{
  return interrupt_signo;
}

void
interrupt_raise (void)
{
  sigset_t set;
  int sig = interrupt_signo;

  if (sig == 0)
    return;
  signal (sig, SIG_DFL);
  sigemptyset (&set);
  sigaddset (&set, sig);
  sigprocmask (SIG_UNBLOCK, &set, NULL);
  raise (sig);
}

bool
is_mountpoint_at (int dirfd, const char *name)
{
  struct statx a, b;
  return statx (dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &a) == 0
         && statx (dirfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &b) == 0 && (a.stx_mask & STATX_MNT_ID)
         && a.stx_mnt_id != b.stx_mnt_id;
}

int
proc_root_open (pid_t pid, int flags)
{
  cleanup_close int procfd = open ("/proc", O_DIRECTORY | O_PATH | O_CLOEXEC);
  struct statfs sf;
  char buf[32];

  if (procfd < 0 || fstatfs (procfd, &sf) < 0)
    return -1;
  if (sf.f_type != PROC_SUPER_MAGIC)
    {
      errno = EXDEV;
      return -1;
    }
  snprintf (buf, sizeof buf, "%d/root", (int)pid);
  return openat (procfd, buf, flags | O_DIRECTORY | O_CLOEXEC);
}
