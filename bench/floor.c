/* floor: the kernel floor of `ctr run` for bench/run.sh: the least a runtime must do to run a
 * bundle's process (namespaces, a cgroup, a pivoted root with /proc), timed beside ctr. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

/* The v1 hierarchies the floor's cgroup is made in on a legacy or hybrid host (cgroup2 there
   holds at most hugetlb, so CLONE_INTO_CGROUP cannot place the process in these). */
static const char *const v1_controllers[] = { "cpu", "memory", "pids" };
#define NV1 (sizeof v1_controllers / sizeof *v1_controllers)
#define CGROUP_ROOT "/sys/fs/cgroup"
#define MAX_CONFIG (4 << 20)

struct bundle
{
  char rootfs[4096];
  char **args;
  uint64_t ns_flags;
};

static const char *prog = "floor";

static void __attribute__ ((noreturn, format (printf, 1, 2))) die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fprintf (stderr, "%s: ", prog);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (1);
}

static char *
slurp (const char *path)
{
  FILE *f = fopen (path, "re");
  char *buf;
  size_t n;

  if (f == NULL)
    die ("open %s: %s", path, strerror (errno));
  buf = malloc (MAX_CONFIG + 1);
  if (buf == NULL)
    die ("out of memory");
  n = fread (buf, 1, MAX_CONFIG + 1, f);
  fclose (f);
  if (n > MAX_CONFIG)
    die ("%s: larger than %d bytes", path, MAX_CONFIG);
  buf[n] = '\0';
  return buf;
}

static uint64_t
ns_flag (const char *type)
{
  static const struct
  {
    const char *name;
    uint64_t flag;
  } map[] = { { "pid", CLONE_NEWPID },  { "network", CLONE_NEWNET }, { "ipc", CLONE_NEWIPC },
              { "uts", CLONE_NEWUTS },  { "mount", CLONE_NEWNS },    { "cgroup", CLONE_NEWCGROUP },
              { "time", CLONE_NEWTIME } };
  for (size_t i = 0; i < sizeof map / sizeof *map; i++)
    if (strcmp (type, map[i].name) == 0)
      return map[i].flag;
  die ("config.json: linux.namespaces: type \"%s\" is not supported by the floor", type);
}

/* root.path, process.args and linux.namespaces of BUNDLE/config.json. */
static void
load_bundle (const char *dir, struct bundle *b)
{
  static const char *root_path[] = { "root", "path", NULL };
  static const char *args_path[] = { "process", "args", NULL };
  static const char *ns_path[] = { "linux", "namespaces", NULL };
  char path[4096], errbuf[256];
  yajl_val tree, v;
  char *text;

  snprintf (path, sizeof path, "%s/config.json", dir);
  text = slurp (path);
  tree = yajl_tree_parse (text, errbuf, sizeof errbuf);
  if (tree == NULL)
    die ("%s: %s", path, errbuf);
  free (text);

  v = yajl_tree_get (tree, root_path, yajl_t_string);
  if (v == NULL)
    die ("%s: root.path: missing", path);
  if (YAJL_GET_STRING (v)[0] == '/')
    snprintf (b->rootfs, sizeof b->rootfs, "%s", YAJL_GET_STRING (v));
  else
    snprintf (b->rootfs, sizeof b->rootfs, "%s/%s", dir, YAJL_GET_STRING (v));

  v = yajl_tree_get (tree, args_path, yajl_t_array);
  if (v == NULL || YAJL_GET_ARRAY (v)->len == 0)
    die ("%s: process.args: missing or empty", path);
  b->args = calloc (YAJL_GET_ARRAY (v)->len + 1, sizeof *b->args);
  for (size_t i = 0; i < YAJL_GET_ARRAY (v)->len; i++)
    {
      yajl_val a = YAJL_GET_ARRAY (v)->values[i];
      if (!YAJL_IS_STRING (a))
        die ("%s: process.args[%zu]: not a string", path, i);
      b->args[i] = strdup (a->u.string);
    }

  v = yajl_tree_get (tree, ns_path, yajl_t_array);
  for (size_t i = 0; v && i < YAJL_GET_ARRAY (v)->len; i++)
    {
      static const char *type_path[] = { "type", NULL };
      static const char *nspath_path[] = { "path", NULL };
      yajl_val ns = YAJL_GET_ARRAY (v)->values[i];
      yajl_val t = yajl_tree_get (ns, type_path, yajl_t_string);
      if (t == NULL)
        die ("%s: linux.namespaces[%zu].type: missing", path, i);
      if (yajl_tree_get (ns, nspath_path, yajl_t_string))
        die ("%s: linux.namespaces[%zu].path: joining a namespace is not supported by the floor",
             path, i);
      b->ns_flags |= ns_flag (YAJL_GET_STRING (t));
    }
  yajl_tree_free (tree);
}

static bool
is_cgroup2 (void)
{
  struct statfs fs;
  return statfs (CGROUP_ROOT, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

/* The parent of the floor's cgroups: $FLOOR_CGROUP_PARENT, else ctr-bench-floor. */
static const char *
cgroup_parent (void)
{
  const char *p = getenv ("FLOOR_CGROUP_PARENT");
  if (p == NULL || *p == '\0')
    p = "ctr-bench-floor";
  if (strchr (p, '/') || strcmp (p, ".") == 0 || strcmp (p, "..") == 0)
    die ("FLOOR_CGROUP_PARENT: \"%s\" is not one directory name", p);
  return p;
}

static void
check_id (const char *id)
{
  if (*id == '\0' || *id == '.' || strlen (id) > 200
      || strspn (id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "abcdefghijklmnopqrstuvwxyz"
                     "0123456789_+.-")
             != strlen (id))
    die ("invalid container id \"%s\"", id);
}

/* DIR = <root>[/<ctrl>]/<parent>[/<id>] */
static void
cg_path (char *buf, size_t size, const char *ctrl, const char *id)
{
  snprintf (buf, size, CGROUP_ROOT "%s%s/%s%s%s", ctrl ? "/" : "", ctrl ? ctrl : "",
            cgroup_parent (), id ? "/" : "", id ? id : "");
}

static int
cg_mkdir (const char *ctrl, const char *id)
{
  char path[4096];
  cg_path (path, sizeof path, ctrl, NULL);
  if (mkdir (path, 0755) < 0 && errno != EEXIST)
    goto fail;
  cg_path (path, sizeof path, ctrl, id);
  if (mkdir (path, 0755) == 0)
    return 0;
fail:
  fprintf (stderr, "%s: mkdir %s: %s\n", prog, path, strerror (errno));
  return -1;
}

/* rmdir, retried for a moment: a v1 cgroup may stay busy until the exited task is gone. */
static int
cg_rmdir (const char *ctrl, const char *id)
{
  char path[4096];
  cg_path (path, sizeof path, ctrl, id);
  for (int i = 0; i < 1000; i++)
    {
      if (rmdir (path) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY)
        break;
      nanosleep (&(struct timespec){ 0, 1000000 }, NULL);
    }
  fprintf (stderr, "%s: rmdir %s: %s\n", prog, path, strerror (errno));
  return -1;
}

/* The calling (single-threaded) process joins the v1 cgroup: "0" into `tasks` moves this
   thread without cgroup_threadgroup_rwsem, whose write side (any write of a pid into
   cgroup.procs) waits for an RCU grace period, ~10 ms here. ctr does the same. */
static int
cg_enter_self (const char *ctrl, const char *id, char *path, size_t size)
{
  int fd;
  cg_path (path, size, ctrl, id);
  strncat (path, "/tasks", size - strlen (path) - 1);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, "0", 1) != 1)
    {
      if (fd >= 0)
        close (fd);
      return -1;
    }
  close (fd);
  return 0;
}

static void
child_fail (int fd, const char *what)
{
  char msg[512];
  int n = snprintf (msg, sizeof msg, "%s: %s", what, strerror (errno));
  if (write (fd, msg, n) < 0)
    _exit (126);
  _exit (126);
}

/* In the new namespaces: the v1 cgroups (cgroup2 placed it with CLONE_INTO_CGROUP), a
   private bind of the rootfs, pivot_root into it, /proc, exec. */
static void __attribute__ ((noreturn)) child (struct bundle *b, const char *id, bool v2, int err_fd)
{
  char path[4096];

  for (size_t i = 0; !v2 && i < NV1; i++)
    if (cg_enter_self (v1_controllers[i], id, path, sizeof path) < 0)
      child_fail (err_fd, path);
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    child_fail (err_fd, "make / private");
  if (mount (b->rootfs, b->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    child_fail (err_fd, "bind mount the rootfs");
  if (mount (NULL, b->rootfs, NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    child_fail (err_fd, "make the rootfs private");
  if (chdir (b->rootfs) < 0)
    child_fail (err_fd, "chdir to the rootfs");
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    child_fail (err_fd, "pivot_root");
  if (umount2 (".", MNT_DETACH) < 0)
    child_fail (err_fd, "detach the old root");
  if (chdir ("/") < 0)
    child_fail (err_fd, "chdir /");
  if (mkdir ("/proc", 0555) < 0 && errno != EEXIST)
    child_fail (err_fd, "mkdir /proc");
  if (mount ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    child_fail (err_fd, "mount /proc");
  execv (b->args[0], b->args);
  snprintf (path, sizeof path, "exec %s", b->args[0]);
  child_fail (err_fd, path);
  _exit (127);
}

static int
run (const char *bundle_dir, const char *id)
{
  struct bundle b = { 0 };
  bool v2 = is_cgroup2 ();
  int errp[2], cgfd = -1, status;
  char path[4096], msg[512];
  ssize_t n;
  pid_t pid;
  int rc = 1;

  check_id (id);
  load_bundle (bundle_dir, &b);
  if (pipe2 (errp, O_CLOEXEC) < 0)
    die ("pipe: %s", strerror (errno));
  if (v2)
    {
      if (cg_mkdir (NULL, id) < 0)
        return 1;
      cg_path (path, sizeof path, NULL, id);
      cgfd = open (path, O_DIRECTORY | O_PATH | O_CLOEXEC);
      if (cgfd < 0)
        {
          fprintf (stderr, "%s: open %s: %s\n", prog, path, strerror (errno));
          goto out;
        }
    }
  else
    for (size_t i = 0; i < NV1; i++)
      if (cg_mkdir (v1_controllers[i], id) < 0)
        goto out;

  struct clone_args ca = { .flags = b.ns_flags, .exit_signal = SIGCHLD };
  if (v2)
    {
      ca.flags |= CLONE_INTO_CGROUP;
      ca.cgroup = (uint64_t)cgfd;
    }
  pid = (pid_t)syscall (SYS_clone3, &ca, sizeof ca);
  if (pid < 0)
    {
      fprintf (stderr, "%s: clone3: %s\n", prog, strerror (errno));
      goto out;
    }
  if (pid == 0)
    {
      close (errp[0]);
      child (&b, id, v2, errp[1]);
    }
  close (errp[1]);
  n = read (errp[0], msg, sizeof msg - 1);
  if (n > 0)
    {
      msg[n] = '\0';
      fprintf (stderr, "%s: %s\n", prog, msg);
    }
  close (errp[0]);
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      die ("waitpid: %s", strerror (errno));
  rc = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
out:
  if (cgfd >= 0)
    close (cgfd);
  if (v2)
    cg_rmdir (NULL, id);
  else
    for (size_t i = 0; i < NV1; i++)
      cg_rmdir (v1_controllers[i], id);
  return rc;
}

/* delete: remove what a killed `floor run` left (its cgroups); there is no other state. */
static int delete (const char *id)
{
  int rc = 0;
  check_id (id);
  if (is_cgroup2 ())
    return cg_rmdir (NULL, id) < 0;
  for (size_t i = 0; i < NV1; i++)
    rc |= cg_rmdir (v1_controllers[i], id) < 0;
  return rc;
}

static void __attribute__ ((noreturn)) usage (int code)
{
  fprintf (code ? stderr : stdout,
           "usage: %s [--root DIR] run [--bundle DIR] ID\n"
           "       %s [--root DIR] delete [--force] ID\n"
           "       %s [--root DIR] list [-q]\n"
           "The kernel floor of `ctr run` (bench/run.sh): clone3 with the bundle's namespaces into "
           "a fresh\ncgroup (under " CGROUP_ROOT "[/<controller>]/$FLOOR_CGROUP_PARENT, default "
           "ctr-bench-floor),\na private bind of the rootfs, pivot_root, /proc, exec of "
           "process.args. Keeps no state.\n",
           prog, prog, prog);
  exit (code);
}

int
main (int argc, char **argv)
{
  const char *bundle = ".", *verb;
  int i = 1;

  if (argc > 1 && (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "-v") == 0))
    {
      puts ("floor (the kernel floor of ctr run, bench/floor.c)");
      return 0;
    }
  if (i < argc && strcmp (argv[i], "--root") == 0)
    i += 2; /* accepted like a runtime's; the floor keeps no state */
  if (i >= argc)
    usage (2);
  verb = argv[i++];
  if (strcmp (verb, "-h") == 0 || strcmp (verb, "--help") == 0)
    usage (0);
  if (strcmp (verb, "list") == 0)
    return 0;
  if (strcmp (verb, "run") == 0)
    {
      if (i + 1 < argc && strcmp (argv[i], "--bundle") == 0)
        {
          bundle = argv[i + 1];
          i += 2;
        }
      if (i + 1 != argc)
        usage (2);
      return run (bundle, argv[i]);
    }
  if (strcmp (verb, "delete") == 0)
    {
      if (i < argc && strcmp (argv[i], "--force") == 0)
        i++;
      if (i + 1 != argc)
        usage (2);
      return delete (argv[i]);
    }
  fprintf (stderr, "%s: %s: not supported (the floor only runs)\n", prog, verb);
  return 2;
}
