/* ctr-testhelper: a static program run inside test containers to report what they see. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <stdbool.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <arpa/inet.h>
#include <netinet/in.h>

extern char **environ;

static int
fail (const char *what, const char *arg)
{
  int saved = errno;
  printf ("%s\n", strerrorname_np (saved) ? strerrorname_np (saved) : "EUNKNOWN");
  fprintf (stderr, "ctr-testhelper: %s `%s`: %s\n", what, arg, strerror (saved));
  return 1;
}

static int
cat_file (const char *path)
{
  char buf[8192];
  ssize_t n;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail ("open", path);
  fflush (stdout);
  while ((n = read (fd, buf, sizeof buf)) > 0)
    if (write (STDOUT_FILENO, buf, n) != n)
      return fail ("write", "stdout");
  if (n < 0)
    return fail ("read", path);
  close (fd);
  return 0;
}

/* Prints the value of the "Key:" line of /proc/self/status. */
static int
status_line (const char *key)
{
  char line[512];
  size_t len = strlen (key);
  FILE *f = fopen ("/proc/self/status", "re");
  if (f == NULL)
    return fail ("open", "/proc/self/status");
  while (fgets (line, sizeof line, f))
    if (strncmp (line, key, len) == 0 && line[len] == ':')
      {
        char *v = line + len + 1;
        v += strspn (v, " \t");
        fputs (v, stdout);
        fclose (f);
        return 0;
      }
  fclose (f);
  printf ("missing\n");
  return 1;
}

static const char *const cap_names[] = { "CHOWN",
                                         "DAC_OVERRIDE",
                                         "DAC_READ_SEARCH",
                                         "FOWNER",
                                         "FSETID",
                                         "KILL",
                                         "SETGID",
                                         "SETUID",
                                         "SETPCAP",
                                         "LINUX_IMMUTABLE",
                                         "NET_BIND_SERVICE",
                                         "NET_BROADCAST",
                                         "NET_ADMIN",
                                         "NET_RAW",
                                         "IPC_LOCK",
                                         "IPC_OWNER",
                                         "SYS_MODULE",
                                         "SYS_RAWIO",
                                         "SYS_CHROOT",
                                         "SYS_PTRACE",
                                         "SYS_PACCT",
                                         "SYS_ADMIN",
                                         "SYS_BOOT",
                                         "SYS_NICE",
                                         "SYS_RESOURCE",
                                         "SYS_TIME",
                                         "SYS_TTY_CONFIG",
                                         "MKNOD",
                                         "LEASE",
                                         "AUDIT_WRITE",
                                         "AUDIT_CONTROL",
                                         "SETFCAP",
                                         "MAC_OVERRIDE",
                                         "MAC_ADMIN",
                                         "SYSLOG",
                                         "WAKE_ALARM",
                                         "BLOCK_SUSPEND",
                                         "AUDIT_READ",
                                         "PERFMON",
                                         "BPF",
                                         "CHECKPOINT_RESTORE" };

/* One line per set: "CapEff 0000000020000420 CAP_KILL,CAP_NET_BIND_SERVICE,...". */
static int
caps (void)
{
  static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
  char line[512];
  FILE *f = fopen ("/proc/self/status", "re");
  if (f == NULL)
    return fail ("open", "/proc/self/status");
  while (fgets (line, sizeof line, f))
    for (size_t s = 0; s < sizeof sets / sizeof *sets; s++)
      {
        unsigned long long mask;
        if (strncmp (line, sets[s], 6) != 0 || sscanf (line + 7, "%llx", &mask) != 1)
          continue;
        printf ("%s %016llx ", sets[s], mask);
        const char *sep = "";
        for (unsigned i = 0; i < 64; i++)
          if (mask & (1ULL << i))
            {
              if (i < sizeof cap_names / sizeof *cap_names)
                printf ("%sCAP_%s", sep, cap_names[i]);
              else
                printf ("%s%u", sep, i);
              sep = ",";
            }
        printf ("%s\n", *sep ? "" : "-");
      }
  fclose (f);
  return 0;
}

static int
id (void)
{
  gid_t groups[NGROUPS_MAX];
  int n = getgroups (NGROUPS_MAX, groups);
  if (n < 0)
    return fail ("getgroups", "");
  printf ("uid=%u gid=%u groups=", (unsigned)getuid (), (unsigned)getgid ());
  for (int i = 0; i < n; i++)
    printf ("%s%u", i ? "," : "", (unsigned)groups[i]);
  printf ("\n");
  return 0;
}

/* Lists open fds as "N TARGET", leaving out the directory fd doing the listing. */
static int
fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *de;
  if (d == NULL)
    return fail ("opendir", "/proc/self/fd");
  while ((de = readdir (d)))
    {
      char target[PATH_MAX];
      ssize_t n;
      if (de->d_name[0] == '.' || atoi (de->d_name) == dirfd (d))
        continue;
      n = readlinkat (dirfd (d), de->d_name, target, sizeof target - 1);
      target[n < 0 ? 0 : n] = '\0';
      printf ("%s %s\n", de->d_name, target);
    }
  closedir (d);
  return 0;
}

static int
alloc (long mb)
{
  long page = sysconf (_SC_PAGESIZE);
  for (long i = 0; i < mb; i++)
    {
      char *p = mmap (NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED)
        return fail ("mmap", "1M");
      for (long off = 0; off < (1 << 20); off += page)
        p[off] = 1;
    }
  printf ("allocated %ld MB\n", mb);
  return 0;
}

/* Children stay alive until all forks are done, so a pids limit counts them together. */
static int
fork_children (int n)
{
  pid_t pids[4096];
  int ok = 0;
  if (n > 4096)
    n = 4096;
  for (int i = 0; i < n; i++)
    {
      pid_t pid = fork ();
      if (pid == 0)
        {
          pause ();
          _exit (0);
        }
      if (pid > 0)
        pids[ok++] = pid;
    }
  for (int i = 0; i < ok; i++)
    kill (pids[i], SIGKILL);
  for (int i = 0; i < ok; i++)
    waitpid (pids[i], NULL, 0);
  printf ("%d\n", ok);
  return 0;
}

static void
exit_on_signal (int sig)
{
  _exit (128 + sig);
}

static const char *catch_file;

static void
record_signal (int sig)
{
  const char *name = sigabbrev_np (sig);
  int fd = catch_file ? open (catch_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)
                      : STDOUT_FILENO;
  if (fd >= 0 && name && write (fd, name, strlen (name)) > 0 && write (fd, "\n", 1) > 0)
    fsync (fd);
  if (sig == SIGTERM)
    _exit (0);
}

/* As PID 1 of a pid namespace a signal without a handler is ignored; handle the usual
   termination signals so `kill` behaves as it would for an ordinary program. */
static int
sleep_seconds (const char *arg, int catch_all)
{
  double secs = strtod (arg, NULL);
  struct timespec ts = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) };
  for (int sig = 1; sig < NSIG; sig++)
    if (catch_all ? (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
                  : (sig == SIGTERM || sig == SIGINT || sig == SIGHUP))
      signal (sig, catch_all ? record_signal : exit_on_signal);
  if (catch_all)
    {
      printf ("ready\n");
      fflush (stdout);
    }
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
  return 0;
}

static int
signal_exit (const char *arg)
{
  int sig = atoi (arg);
  for (int s = 1; sig == 0 && s < NSIG; s++)
    if (sigabbrev_np (s) && strcmp (sigabbrev_np (s), arg + (strncmp (arg, "SIG", 3) ? 0 : 3)) == 0)
      sig = s;
  signal (sig, SIG_DFL);
  fflush (stdout);
  kill (getpid (), sig);
  fprintf (stderr, "ctr-testhelper: still alive after signal %d\n", sig);
  return 1;
}

static int
rlimit (const char *name)
{
  static const struct
  {
    const char *n;
    int r;
  } table[] = { { "AS", RLIMIT_AS },
                { "CORE", RLIMIT_CORE },
                { "CPU", RLIMIT_CPU },
                { "DATA", RLIMIT_DATA },
                { "FSIZE", RLIMIT_FSIZE },
                { "LOCKS", RLIMIT_LOCKS },
                { "MEMLOCK", RLIMIT_MEMLOCK },
                { "MSGQUEUE", RLIMIT_MSGQUEUE },
                { "NICE", RLIMIT_NICE },
                { "NOFILE", RLIMIT_NOFILE },
                { "NPROC", RLIMIT_NPROC },
                { "RSS", RLIMIT_RSS },
                { "RTPRIO", RLIMIT_RTPRIO },
                { "RTTIME", RLIMIT_RTTIME },
                { "SIGPENDING", RLIMIT_SIGPENDING },
                { "STACK", RLIMIT_STACK } };
  struct rlimit rl;
  if (strncmp (name, "RLIMIT_", 7) == 0)
    name += 7;
  for (size_t i = 0; i < sizeof table / sizeof *table; i++)
    if (strcmp (table[i].n, name) == 0 && getrlimit (table[i].r, &rl) == 0)
      {
        if (rl.rlim_cur == RLIM_INFINITY)
          printf ("unlimited ");
        else
          printf ("%llu ", (unsigned long long)rl.rlim_cur);
        if (rl.rlim_max == RLIM_INFINITY)
          printf ("unlimited\n");
        else
          printf ("%llu\n", (unsigned long long)rl.rlim_max);
        return 0;
      }
  fprintf (stderr, "ctr-testhelper: unknown rlimit `%s`\n", name);
  return 2;
}

static int
stat_path (const char *path)
{
  struct stat st;
  const char *type;
  if (lstat (path, &st) < 0)
    return fail ("stat", path);
  switch (st.st_mode & S_IFMT)
    {
    case S_IFCHR:
      type = "char";
      break;
    case S_IFBLK:
      type = "block";
      break;
    case S_IFDIR:
      type = "dir";
      break;
    case S_IFLNK:
      type = "symlink";
      break;
    case S_IFIFO:
      type = "fifo";
      break;
    case S_IFSOCK:
      type = "socket";
      break;
    default:
      type = "file";
    }
  printf ("%s %u:%u %04o %u:%u\n", type, major (st.st_rdev), minor (st.st_rdev),
          (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid);
  return 0;
}

static int
write_file (const char *path, const char *data)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write (fd, data, strlen (data)) < 0 || close (fd) < 0)
    return fail ("write", path);
  printf ("ok\n");
  return 0;
}

/* Receives a pty master over SCM_RIGHTS (--console-socket) and copies it to stdout. */
static int
recvtty (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  char buf[4096], cbuf[CMSG_SPACE (sizeof (int))];
  struct iovec iov = { buf, sizeof buf };
  struct msghdr msg
      = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *cmsg;
  int master, conn, lsock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ssize_t n;
  if (strlen (path) >= sizeof addr.sun_path)
    return errno = ENAMETOOLONG, fail ("bind", path);
  strcpy (addr.sun_path, path);
  if (lsock < 0 || bind (lsock, (struct sockaddr *)&addr, sizeof addr) < 0 || listen (lsock, 1) < 0)
    return fail ("listen", path);
  conn = accept4 (lsock, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0 || recvmsg (conn, &msg, MSG_CMSG_CLOEXEC) < 0)
    return fail ("recvmsg", path);
  cmsg = CMSG_FIRSTHDR (&msg);
  if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS)
    return errno = EBADMSG, fail ("recvmsg", path);
  memcpy (&master, CMSG_DATA (cmsg), sizeof master);
  close (conn);
  close (lsock);
  unlink (path);
  while ((n = read (master, buf, sizeof buf)) > 0)
    if (write (STDOUT_FILENO, buf, n) != n)
      return fail ("write", "stdout");
  return 0;
}

static int
usage (void)
{
  fprintf (stderr,
           "usage: ctr-testhelper hostname|domainname|id|caps|seccomp|nnp|fds|cgroup|uidmap|"
           "mounts|pid|tty|env|cwd|umask|oom\n"
           "       ctr-testhelper alloc MB|fork N|sleep S|catch FILE S|exit N|signal-exit SIG|"
           "rlimit NAME|write PATH [DATA]|read PATH|open PATH|stat PATH|access PATH|recvtty SOCKET|"
           "tick FILE|spin S|syscall NR|NAME [ARG...]|udp-echo PORT [ADDR]|"
           "udp-ask ADDR PORT TEXT\n"
           "       ctr-testhelper ignore-exec SIG... -- CMD [ARG...]\n");
  return 2;
}

static int
tick (const char *path)
{
  struct timespec ts = { 0, 10 * 1000 * 1000 };
  char buf[32];
  for (unsigned long i = 1;; i++)
    {
      int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      int len = snprintf (buf, sizeof buf, "%lu\n", i);
      if (fd < 0 || write (fd, buf, len) != len)
        return fail ("write", path);
      close (fd);
      nanosleep (&ts, NULL);
    }
}

static double
clock_seconds (clockid_t id)
{
  struct timespec ts;
  clock_gettime (id, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* spin S: busy for S seconds of wall time, then prints the CPU time it got ("cpu_ms N"):
   a cpu quota shows as cpu_ms well below S * 1000. */
static int
spin (const char *arg)
{
  double end = clock_seconds (CLOCK_MONOTONIC) + atof (arg);
  volatile unsigned long x = 0;
  while (clock_seconds (CLOCK_MONOTONIC) < end)
    for (int i = 0; i < 100000; i++)
      x++;
  printf ("cpu_ms %ld\n", (long)(clock_seconds (CLOCK_PROCESS_CPUTIME_ID) * 1000));
  return 0;
}

static bool
same_file (int fd, const char *path)
{
  struct stat a, b;
  return fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_dev == b.st_dev
         && a.st_ino == b.st_ino;
}

static bool
is_ctr_comm (const char *comm)
{
  return strcmp (comm, "ctr\n") == 0 || strcmp (comm, "memfd:ctr\n") == 0
         || strcmp (comm, "memfd:ctr-stub\n") == 0;
}

static bool
still_ctr (const char *pid)
{
  char path[300], comm[64] = "";
  int fd, n;
  snprintf (path, sizeof path, "/proc/%s/comm", pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  n = fd < 0 ? -1 : read (fd, comm, sizeof comm - 1);
  if (fd >= 0)
    close (fd);
  return n > 0 && is_ctr_comm (comm);
}

static volatile sig_atomic_t probe_stop;
static void
probe_on_term (int sig)
{
  (void)sig;
  probe_stop = 1;
}

/* exe-probe SECONDS: for SECONDS or until a SIGTERM, keeps trying to open /proc/PID/exe of
   every ctr process it can see, as a CVE-2019-5736 exploit would, and reports what it got:
   blocked (not dumpable), sealed (ctr-stub or ctr from a sealed memfd) or VULNERABLE (the
   host's binary itself).
 */
static int
exe_probe (const char *arg)
{
  time_t end = time (NULL) + (arg ? atoi (arg) : 3);
  unsigned long seen = 0, blocked = 0, sealed = 0, vulnerable = 0;

  signal (SIGTERM, probe_on_term);
  while (!probe_stop && time (NULL) < end)
    {
      DIR *d = opendir ("/proc");
      struct dirent *de;
      while (d && (de = readdir (d)) != NULL)
        {
          char path[300], comm[64] = "";
          int fd, n;
          if (de->d_name[0] < '1' || de->d_name[0] > '9' || atoi (de->d_name) == getpid ())
            continue;
          snprintf (path, sizeof path, "/proc/%s/comm", de->d_name);
          fd = open (path, O_RDONLY | O_CLOEXEC);
          n = fd < 0 ? -1 : read (fd, comm, sizeof comm - 1);
          if (fd >= 0)
            close (fd);
          if (n <= 0 || !is_ctr_comm (comm))
            continue;
          seen++;
          snprintf (path, sizeof path, "/proc/%s/exe", de->d_name);
          fd = open (path, O_RDONLY | O_CLOEXEC);
          if (fd < 0)
            {
              blocked += errno == EACCES || errno == EPERM;
              continue;
            }
          if (fcntl (fd, F_GET_SEALS) >= 0)
            sealed++;
          else if (same_file (fd, "/proc/self/exe") || !still_ctr (de->d_name))
            ; /* it exec'd the program meanwhile (this helper, in the tests) */
          else
            {
              vulnerable++;
              printf ("VULNERABLE: opened /proc/%s/exe, the host's ctr binary\n", de->d_name);
            }
          close (fd);
        }
      if (d)
        closedir (d);
    }
  printf ("seen=%lu blocked=%lu sealed=%lu vulnerable=%lu\n", seen, blocked, sealed, vulnerable);
  return vulnerable ? 1 : 0;
}

/* session FD: who leads this process and what FD is, to tell the container's own pty from
   the caller's: "pid=P sid=S pgid=G fd=DEV:INO rdev=MAJ:MIN". */
static int
session (const char *fd)
{
  struct stat st;
  if (fstat (atoi (fd), &st) < 0)
    return fail ("fstat", fd);
  printf ("pid=%d sid=%d pgid=%d fd=%llx:%llu rdev=%u:%u\n", (int)getpid (), (int)getsid (0),
          (int)getpgid (0), (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
          major (st.st_rdev), minor (st.st_rdev));
  return 0;
}

/* tiocsti TEXT: pushes TEXT into the input of the terminal on stdin, byte by byte, as an
   attacker would to have the caller's shell run it (CVE-2016-9962 / TIOCSTI class). */
static int
tiocsti (const char *text)
{
  for (const char *c = text; *c; c++)
    if (ioctl (STDIN_FILENO, TIOCSTI, c) < 0)
      return fail ("ioctl TIOCSTI", "stdin");
  printf ("injected\n");
  return 0;
}

/* udp-echo PORT [ADDR]: answers every datagram to ADDR:PORT (default 0.0.0.0) with "echo "
   and its text, for tests of published UDP ports (busybox nc has no UDP). */
static int
udp_echo (const char *port, const char *addr)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)atoi (port)) };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  char buf[1024];

  if (addr && inet_pton (AF_INET, addr, &sa.sin_addr) != 1)
    return usage ();
  if (fd < 0 || bind (fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    return fail ("bind", port);
  for (;;)
    {
      struct sockaddr_in from;
      socklen_t len = sizeof from;
      ssize_t n = recvfrom (fd, buf + 5, sizeof buf - 5, 0, (struct sockaddr *)&from, &len);
      if (n < 0)
        continue;
      memcpy (buf, "echo ", 5);
      sendto (fd, buf, (size_t)n + 5, 0, (struct sockaddr *)&from, len);
    }
}

/* udp-ask ADDR PORT TEXT: sends TEXT, prints the answer; exit 1 when none comes in 2 s. */
static int
udp_ask (const char *addr, const char *port, const char *text)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)atoi (port)) };
  struct timeval tv = { 2, 0 };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  char buf[1024];
  ssize_t n;

  if (fd < 0 || inet_pton (AF_INET, addr, &sa.sin_addr) != 1
      || setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0
      || sendto (fd, text, strlen (text), 0, (struct sockaddr *)&sa, sizeof sa) < 0)
    return fail ("send to", addr);
  n = recv (fd, buf, sizeof buf - 1, 0);
  if (n < 0)
    return fail ("no answer from", addr);
  buf[n] = '\0';
  printf ("%s\n", buf);
  return 0;
}

/* syscall NR|NAME [ARG...]: makes that system call with up to 5 numeric arguments (the rest
   0) and prints "ok" or the errno's name, to tell a seccomp filter's answer (EPERM, ENOSYS)
   from the kernel's. Numbers are the host's; names are the few the tests use. */
static int
raw_syscall (int argc, char **argv)
{
  static const struct
  {
    const char *name;
    long nr;
  } names[] = {
    { "perf_event_open", SYS_perf_event_open },
    { "clone3", SYS_clone3 },
    { "getpid", SYS_getpid },
  };
  long nr = -1, a[5] = { 0 };
  char *end;
  size_t i;

  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp (argv[0], names[i].name) == 0)
      nr = names[i].nr;
  if (nr < 0 && ((nr = strtol (argv[0], &end, 0)) < 0 || *end))
    return usage ();
  for (i = 1; i < (size_t)argc && i <= 5; i++)
    a[i - 1] = strtol (argv[i], NULL, 0);
  if (syscall (nr, a[0], a[1], a[2], a[3], a[4]) < 0)
    return fail ("syscall", argv[0]);
  printf ("ok\n");
  return 0;
}

/* ignore-exec SIG... -- CMD...: CMD with the signals SIG (numbers, glibc's own 32 and 33
   too) ignored, as a caller may leave them; the raw system call, which glibc does not refuse */
static int
cmd_ignore_exec (int argc, char **argv)
{
  int i;
  for (i = 0; i < argc && strcmp (argv[i], "--") != 0; i++)
    {
      unsigned long sa[8] = { (unsigned long)SIG_IGN };
      if (syscall (SYS_rt_sigaction, atoi (argv[i]), sa, NULL, (size_t)(_NSIG - 1) / 8) < 0)
        return fail ("rt_sigaction", argv[i]);
    }
  if (i + 1 >= argc)
    return usage ();
  execvp (argv[i + 1], argv + i + 1);
  return fail ("exec", argv[i + 1]);
}

int
main (int argc, char **argv)
{
  const char *cmd = argc > 1 ? argv[1] : "";
  const char *arg = argc > 2 ? argv[2] : NULL;
  struct utsname u;
  char buf[PATH_MAX];

  setvbuf (stdout, NULL, _IOLBF, 0);
  if (strcmp (cmd, "hostname") == 0 || strcmp (cmd, "domainname") == 0)
    {
      if (uname (&u) < 0)
        return fail ("uname", "");
      printf ("%s\n", cmd[0] == 'h' ? u.nodename : u.domainname);
      return 0;
    }
  if (strcmp (cmd, "id") == 0)
    return id ();
  if (strcmp (cmd, "caps") == 0)
    return caps ();
  if (strcmp (cmd, "seccomp") == 0)
    return status_line ("Seccomp");
  if (strcmp (cmd, "nnp") == 0)
    return status_line ("NoNewPrivs");
  if (strcmp (cmd, "fds") == 0)
    return fds ();
  if (strcmp (cmd, "cgroup") == 0)
    return cat_file ("/proc/self/cgroup");
  if (strcmp (cmd, "uidmap") == 0)
    return cat_file ("/proc/self/uid_map") || cat_file ("/proc/self/gid_map");
  if (strcmp (cmd, "mounts") == 0)
    return cat_file ("/proc/self/mountinfo");
  if (strcmp (cmd, "oom") == 0)
    return cat_file ("/proc/self/oom_score_adj");
  if (strcmp (cmd, "pid") == 0)
    return printf ("%d\n", (int)getpid ()) < 0;
  if (strcmp (cmd, "tty") == 0)
    return printf ("%s\n", ttyname (STDIN_FILENO) ? ttyname (STDIN_FILENO) : "not a tty") < 0;
  if (strcmp (cmd, "env") == 0)
    {
      for (char **e = environ; *e; e++)
        printf ("%s\n", *e);
      return 0;
    }
  if (strcmp (cmd, "cwd") == 0)
    return getcwd (buf, sizeof buf) ? printf ("%s\n", buf) < 0 : fail ("getcwd", "");
  if (strcmp (cmd, "umask") == 0)
    {
      mode_t m = umask (0);
      return printf ("%04o\n", (unsigned)m) < 0;
    }
  if (arg == NULL)
    return usage ();
  if (strcmp (cmd, "alloc") == 0)
    return alloc (atol (arg));
  if (strcmp (cmd, "fork") == 0)
    return fork_children (atoi (arg));
  if (strcmp (cmd, "sleep") == 0)
    return sleep_seconds (arg, 0);
  if (strcmp (cmd, "catch") == 0)
    return catch_file = arg, sleep_seconds (argc > 3 ? argv[3] : "3600", 1);
  if (strcmp (cmd, "exit") == 0)
    return atoi (arg);
  if (strcmp (cmd, "signal-exit") == 0)
    return signal_exit (arg);
  if (strcmp (cmd, "rlimit") == 0)
    return rlimit (arg);
  if (strcmp (cmd, "write") == 0)
    return write_file (arg, argc > 3 ? argv[3] : "ok\n");
  if (strcmp (cmd, "read") == 0)
    return cat_file (arg);
  if (strcmp (cmd, "open") == 0)
    {
      int fd = open (arg, O_RDONLY | O_CLOEXEC);
      return fd < 0 ? fail ("open", arg) : printf ("ok\n") < 0;
    }
  if (strcmp (cmd, "stat") == 0)
    return stat_path (arg);
  if (strcmp (cmd, "access") == 0) /* F_OK: whether the path exists, as systemd's conditions ask */
    return access (arg, F_OK) < 0 ? fail ("access", arg) : printf ("ok\n") < 0;
  if (strcmp (cmd, "recvtty") == 0)
    return recvtty (arg);
  if (strcmp (cmd, "tick") == 0)
    return tick (arg);
  if (strcmp (cmd, "spin") == 0)
    return spin (arg);
  if (strcmp (cmd, "exe-probe") == 0)
    return exe_probe (arg);
  if (strcmp (cmd, "session") == 0)
    return session (arg);
  if (strcmp (cmd, "tiocsti") == 0)
    return tiocsti (arg);
  if (strcmp (cmd, "ignore-exec") == 0)
    return cmd_ignore_exec (argc - 2, argv + 2);
  if (strcmp (cmd, "syscall") == 0)
    return raw_syscall (argc - 2, argv + 2);
  if (strcmp (cmd, "udp-echo") == 0)
    return udp_echo (arg, argc > 3 ? argv[3] : NULL);
  if (strcmp (cmd, "udp-ask") == 0 && argc > 4)
    return udp_ask (arg, argv[3], argv[4]);
  return usage ();
}
