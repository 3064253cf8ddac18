/* state: <root>/<id>/ state directories: state.json, exec fifo, saved config, lock, status. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "base/owned_dir.h"
#include "base/util.h"
#include "oci/oci.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "stub/stub.h"

#define STATE_FILE "state.json"

const char *
ctr_status_name (enum ctr_status s)
{
  switch (s)
    {
    case CTR_STATUS_CREATING:
      return "creating";
    case CTR_STATUS_CREATED:
      return "created";
    case CTR_STATUS_RUNNING:
      return "running";
    case CTR_STATUS_PAUSED:
      return "paused";
    case CTR_STATUS_STOPPED:
    default:
      return "stopped";
    }
}

void
ctr_state_free (struct ctr_state *s)
{
  if (s == NULL)
    return;
  free (s->id);
  free (s->bundle);
  free (s->rootfs);
  free (s->created);
  free (s->cgroup);
  free (s->annotations);
  free (s);
}

const char *
container_state_root (const struct ctr_context *ctx)
{
  static char *computed;
  const char *xdg;
  if (ctx && ctx->state_root)
    return ctx->state_root;
  if (computed)
    return computed;
  if (!is_rootless ())
    return computed = xstrdup ("/run/ctr");
  xdg = getenv ("XDG_RUNTIME_DIR");
  if (xdg && *xdg)
    return computed = xasprintf ("%s/ctr", xdg);
  /* su, sudo -u, cron: the directory logind makes for the user, when it exists; never a
     shared path such as /tmp, where another user could plant or take our containers */
  return computed = xasprintf ("/run/user/%u/ctr", (unsigned)geteuid ());
}

/* Opens the state root, adding to an error what to do when the root is the default of a
   rootless user without $XDG_RUNTIME_DIR. */
static int
state_root_open (const char *root, int flags, ctr_error_t *err)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  int fd = owned_dir_open (root, "state root", flags, err);
  if (fd == -1 && is_rootless () && !(xdg && *xdg)
      && strcmp (root, container_state_root (NULL)) == 0)
    {
      cleanup_free char *msg = ctr_error_string (*err);
      return ctr_error (err, 0,
                        "%s ($XDG_RUNTIME_DIR is not set: set it to a directory of your own, "
                        "or pass --root DIR)",
                        msg);
    }
  return fd;
}

int
state_dir_create (const char *root, const char *id, ctr_error_t *err)
{
  cleanup_close int rootfd = state_root_open (root, OWNED_DIR_CREATE, err);
  cleanup_free char *path = xasprintf ("%s/%s", root, id);
  int fd;

  if (rootfd < 0)
    return -1;
  if (mkdirat (rootfd, id, 0700) < 0)
    {
      if (errno == EEXIST)
        return ctr_error (err, 0, "container `%s` already exists", id);
      return ctr_error (err, errno, "create state directory `%s`", path);
    }
  fd = owned_subdir_open (rootfd, id, path, "state directory", err);
  if (fd < 0)
    unlinkat (rootfd, id, AT_REMOVEDIR); /* just made, still empty: nothing left behind */
  return fd;
}

int
state_root_open_existing (const char *root, ctr_error_t *err)
{
  return state_root_open (root, OWNED_DIR_MISSING_OK, err);
}

int
state_dir_open (const char *root, const char *id, ctr_error_t *err)
{
  cleanup_close int rootfd = state_root_open (root, OWNED_DIR_MISSING_OK, err);
  return state_dir_open_at (rootfd, root, id, err);
}

int
state_dir_check_at (int rootfd, const char *root, const char *id, ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", root, id);
  if (owned_subdir_check (rootfd, id, path, "state directory", err) == 0)
    return 0;
  if (errno == ENOENT)
    {
      ctr_error (err, 0, "container `%s` does not exist", id);
      errno = ENOENT;
    }
  return -1;
}

int
state_dir_open_at (int rootfd, const char *root, const char *id, ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", root, id);
  int fd;

  if (rootfd >= 0)
    fd = owned_subdir_open (rootfd, id, path, "state directory", err);
  else
    fd = -1, errno = rootfd == OWNED_DIR_MISSING ? ENOENT : 0;
  if (fd < 0 && errno == ENOENT)
    {
      ctr_error (err, 0, "container `%s` does not exist", id);
      errno = ENOENT;
    }
  return fd;
}

int
state_lock (int dirfd, ctr_error_t *err)
{
  while (flock (dirfd, LOCK_EX) < 0)
    if (errno != EINTR)
      return ctr_error (err, errno, "lock state directory");
  return 0;
}

int
state_dir_remove (const char *root, const char *id, ctr_error_t *err)
{
  cleanup_close int rootfd = state_root_open (root, OWNED_DIR_MISSING_OK, err);
  cleanup_free char *path = xasprintf ("%s/%s", root, id);
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int fd;

  if (rootfd == OWNED_DIR_MISSING)
    return 0;
  if (rootfd < 0)
    return -1;
  fd = owned_subdir_open (rootfd, id, path, "state directory", err);
  if (fd < 0)
    return errno == ENOENT ? (ctr_error_free (err), 0) : -1;
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return ctr_error (err, errno, "read state directory `%s`", path);
    }
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (strcmp (de->d_name, STATE_SHARED_ROOT) == 0)
        {
          /* the root of a container in the caller's mount namespace, and its mounts */
          cleanup_free char *sub = xasprintf ("%s/%s", path, de->d_name);
          while (umount2 (sub, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
            ;
          if (unlinkat (dirfd (d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            return ctr_error (err, errno, "remove `%s`", sub);
          continue;
        }
      if (unlinkat (dirfd (d), de->d_name, 0) < 0 && errno != ENOENT)
        return ctr_error (err, errno, "remove `%s/%s`", path, de->d_name);
    }
  if (unlinkat (rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return ctr_error (err, errno, "remove state directory `%s`", path);
  return 0;
}

char *
state_annotations_json (const struct oci_config *cfg)
{
  json_writer *w;
  size_t i;
  if (cfg->annotations_len == 0)
    return NULL;
  w = json_writer_new (false);
  json_map_open (w);
  for (i = 0; i < cfg->annotations_len; i++)
    json_kv_string (w, cfg->annotations[i].key, cfg->annotations[i].value);
  json_map_close (w);
  return json_writer_finish (w, NULL);
}

int
state_write (int dirfd, const struct ctr_state *s, ctr_error_t *err)
{
  json_writer *w = json_writer_new (false);
  cleanup_free char *text = NULL;
  size_t len;

  json_map_open (w);
  json_kv_string (w, "id", s->id);
  json_kv_int (w, "pid", s->pid);
  json_key (w, "pid_start");
  json_uint (w, s->pid_start);
  json_kv_string (w, "bundle", s->bundle);
  json_kv_string (w, "rootfs", s->rootfs);
  json_kv_string (w, "created", s->created);
  json_kv_int (w, "owner", s->owner);
  if (s->cgroup)
    json_kv_string (w, "cgroup", s->cgroup);
  if (s->annotations)
    {
      json_key (w, "annotations");
      json_raw (w, s->annotations, strlen (s->annotations));
    }
  json_kv_bool (w, "has_poststart", s->has_poststart);
  json_kv_bool (w, "has_poststop", s->has_poststop);
  json_map_close (w);
  text = json_writer_finish (w, &len);
  return write_file_atomic_at (dirfd, STATE_FILE, text, len, 0600, err);
}

static char *
json_dup_string (const json_value *root, const char *key)
{
  const char *s;
  if (!json_as_string (json_get (root, key), &s))
    return NULL;
  return xstrdup (s);
}

int
state_parse (const char *text, size_t len, const char *id, struct ctr_state **out, ctr_error_t *err)
{
  json_value *root;
  struct ctr_state *s;
  const json_value *v;
  int64_t n;
  bool b;

  root = json_parse (text, len, "state.json", err);
  if (root == NULL)
    {
      ctr_error_wrap (err, "container `%s`", id);
      (*err)->status = EBADMSG; /* unreadable, not absent: delete --force falls back */
      return -1;
    }
  s = xzalloc (sizeof *s);
  s->id = json_dup_string (root, "id");
  if (json_as_int64 (json_get (root, "pid"), &n))
    s->pid = (pid_t)n;
  if (json_as_int64 (json_get (root, "pid_start"), &n))
    s->pid_start = (uint64_t)n;
  s->bundle = json_dup_string (root, "bundle");
  s->rootfs = json_dup_string (root, "rootfs");
  s->created = json_dup_string (root, "created");
  if (json_as_int64 (json_get (root, "owner"), &n))
    s->owner = (uid_t)n;
  s->cgroup = json_dup_string (root, "cgroup");
  v = json_get (root, "annotations");
  if (v && json_is_object (v))
    s->annotations = json_value_to_string (v, NULL);
  s->has_poststart = json_as_bool (json_get (root, "has_poststart"), &b) && b;
  s->has_poststop = json_as_bool (json_get (root, "has_poststop"), &b) && b;
  json_value_free (root);
  if (s->id == NULL)
    {
      ctr_state_free (s);
      ctr_error (err, 0, "container `%s`: state.json has no id", id);
      (*err)->status = EBADMSG;
      return -1;
    }
  *out = s;
  return 0;
}

static int
state_read_file (int dirfd, const char *file, const char *id, struct ctr_state **out,
                 ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len;

  if (read_whole_file_at (dirfd, file, 1024 * 1024, &text, &len, err) < 0)
    {
      if (*err && (*err)->status == ENOENT)
        return ctr_error (err, 0, "container `%s` is still being created", id);
      return -1;
    }
  return state_parse (text, len, id, out, err);
}

int
state_read (int dirfd, const char *id, struct ctr_state **out, ctr_error_t *err)
{
  return state_read_file (dirfd, STATE_FILE, id, out, err);
}

int
state_read_in (int rootfd, const char *id, struct ctr_state **out, ctr_error_t *err)
{
  char file[NAME_MAX + sizeof "/" STATE_FILE];
  snprintf (file, sizeof file, "%s/%s", id, STATE_FILE);
  return state_read_file (rootfd, file, id, out, err);
}

uint64_t
pid_start_time (pid_t pid)
{
  return pid_stat (pid, NULL);
}

uint64_t
pid_stat (pid_t pid, pid_t *ppid)
{
  char path[64], buf[1024], *p;
  cleanup_close int fd = -1;
  ssize_t r;
  int field, parent = 0;
  unsigned long long start = 0;

  if (ppid)
    *ppid = 0;
  if (pid <= 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/stat", pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  r = read (fd, buf, sizeof buf - 1);
  if (r <= 0)
    return 0;
  buf[r] = '\0';
  /* comm may contain spaces and parentheses: fields start after the last ')' */
  p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ')
    return 0;
  p += 2;
  if (*p == 'Z' || *p == 'X')
    return 0;
  /* p is field 3 (state), the parent's pid field 4; starttime is field 22 */
  if (ppid && sscanf (p + 1, " %d", &parent) == 1)
    *ppid = parent;
  for (field = 3; field < 22 && p; field++)
    {
      p = strchr (p, ' ');
      if (p)
        p++;
    }
  if (p == NULL || sscanf (p, "%llu", &start) != 1)
    return 0;
  return start;
}

enum ctr_status
state_status (int dirfd, const char *dir, const struct ctr_state *s, pid_t *ppid)
{
  char fifo[NAME_MAX + sizeof "/" STATE_FIFO];

  *ppid = 0;
  if (s->pid <= 0)
    return CTR_STATUS_CREATING;
  if (pid_stat (s->pid, ppid) != s->pid_start)
    {
      *ppid = 0;
      return CTR_STATUS_STOPPED;
    }
  snprintf (fifo, sizeof fifo, "%s/%s", dir, STATE_FIFO);
  if (faccessat (dirfd, fifo, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return CTR_STATUS_CREATED;
  return CTR_STATUS_RUNNING;
}

static void
state_annotations (json_writer *w, const struct ctr_state *s)
{
  if (s->annotations)
    {
      json_key (w, "annotations");
      json_raw (w, s->annotations, strlen (s->annotations));
    }
}

/* `ctr state`, as runc prints it: pretty, runc's keys in runc's order, pid 0 once stopped. */
char *
state_oci_json (const struct ctr_state *s, enum ctr_status status, const char *owner, size_t *len)
{
  json_writer *w = json_writer_new (true);
  json_map_open (w);
  json_kv_string (w, "ociVersion", OCI_SPEC_VERSION);
  json_kv_string (w, "id", s->id);
  json_kv_int (w, "pid", status == CTR_STATUS_STOPPED ? 0 : s->pid);
  json_kv_string (w, "status", ctr_status_name (status));
  json_kv_string (w, "bundle", s->bundle);
  json_kv_string (w, "rootfs", s->rootfs);
  json_kv_string (w, "created", s->created);
  state_annotations (w, s);
  json_kv_string (w, "owner", owner);
  json_map_close (w);
  return json_writer_finish (w, len);
}

/* A hook's stdin: compact, the runtime-spec State's keys in its order, no pid once stopped. */
char *
state_hook_json (const struct ctr_state *s, enum ctr_status status, size_t *len)
{
  json_writer *w = json_writer_new (false);
  json_map_open (w);
  json_kv_string (w, "ociVersion", OCI_SPEC_VERSION);
  json_kv_string (w, "id", s->id);
  json_kv_string (w, "status", ctr_status_name (status));
  if (status != CTR_STATUS_STOPPED && s->pid > 0)
    json_kv_int (w, "pid", s->pid);
  json_kv_string (w, "bundle", s->bundle);
  state_annotations (w, s);
  json_map_close (w);
  return json_writer_finish (w, len);
}

int
state_list_ids (const char *root, char ***ids, size_t *n, ctr_error_t *err)
{
  return owned_dir_list_ids (root, "state root", ids, n, err);
}

/* After `start` released the container nobody reads the sync socket: a failure of its
   last steps goes into the fifo, where `start` reads it once this end closes. */
void
container_fifo_report (int fifo_fd, ctr_error_t *err)
{
  char buf[STUB_MSG_MAX];
  struct stub_sync_header h = { STUB_SYNC_ERRNO, *err ? (*err)->status : 0, 0 };
  const char *msg = *err ? (*err)->msg : "unknown error";
  size_t n = strlen (msg);
  if (n > sizeof buf - sizeof h)
    n = sizeof buf - sizeof h;
  h.len = (uint32_t)n;
  memcpy (buf, &h, sizeof h);
  memcpy (buf + sizeof h, msg, n);
  if (fifo_fd >= 0 && write (fifo_fd, buf, sizeof h + n) < 0)
    return;
}

/* Lets the created container go: one byte into the fifo it waits on. Then waits for the
   container's end of the fifo to close: at execve() of its program (it is O_CLOEXEC), or
   after it wrote why it could not get there (container_fifo_report, or ctr-stub),
   so that `start` never succeeds for a program that did not run. */
int
container_release_fifo (int dirfd, ctr_error_t *err)
{
  char buf[STUB_MSG_MAX];
  struct stub_sync_header h;
  struct pollfd pfd;
  ssize_t n;
  cleanup_close int fd = openat (dirfd, STATE_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  cleanup_close int rfd = -1;
  if (fd < 0)
    {
      if (errno == ENXIO || errno == ENOENT)
        return ctr_error (err, 0, "container is not waiting to start (already started or gone)");
      return ctr_error (err, errno, "open exec fifo");
    }
  /* opened while the container's end is open: POLLHUP comes when that closes */
  rfd = openat (dirfd, STATE_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (rfd < 0)
    return ctr_error (err, errno, "open exec fifo");
  if (write (fd, "0", 1) != 1)
    return ctr_error (err, errno, "write exec fifo");
  close (steal_fd (fd));
  unlinkat (dirfd, STATE_FIFO, 0);
  pfd = (struct pollfd){ .fd = rfd, .events = 0 };
  while (poll (&pfd, 1, -1) < 0)
    if (errno != EINTR)
      return ctr_error (err, errno, "wait on exec fifo");
  n = read (rfd, buf, sizeof buf);
  if (n <= 0)
    return 0;
  if (n == 1 && buf[0] == '0')
    return ctr_error (err, 0, "the container process exited before it started");
  if (n < (ssize_t)sizeof h)
    return ctr_error (err, 0, "the container process could not be started");
  memcpy (&h, buf, sizeof h);
  if (h.len > (size_t)n - sizeof h)
    return ctr_error (err, 0, "the container process could not be started");
  return ctr_error (err, h.status, "%.*s", (int)h.len, buf + sizeof h);
}
