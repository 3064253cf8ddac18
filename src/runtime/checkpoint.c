/* checkpoint: `ctr checkpoint`: the container described to criu(8) the way runc does, its
   dump, and the container's end when it does not stay running. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"
#include "base/memory.h"
#include "base/util.h"
#include "runtime/container.h"
#include "runtime/criu.h"
#include "runtime/loaded.h"

/* mnt_id of fd n of pid, from fdinfo; -1 when unknown. */
static long
fd_mnt_id (pid_t pid, int n)
{
  cleanup_free char *path = xasprintf ("/proc/%d/fdinfo/%d", pid, n);
  cleanup_file FILE *f = fopen (path, "re");
  char line[256];
  long id;
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "mnt_id: %ld", &id) == 1)
      return id;
  return -1;
}

static bool
is_pty_slave (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && major (st->st_rdev) >= 136 && major (st->st_rdev) <= 143;
}

/* init's stdin, stdout and stderr as criu keys, into descriptors.json of the image (restore
   hands the restoring caller's stdio in their place): pipes and sockets by inode, files
   outside the container (the caller's log file, the host's /dev/null) and the terminal as
   criu externals, which the dump is told about. */
static int
describe_stdio (int imgfd, pid_t pid, struct criu_args *a, ctr_error_t *err)
{
  json_writer *w = json_writer_new (false);
  cleanup_free char *text = NULL;
  size_t len;

  json_array_open (w);
  for (int n = 0; n <= 2; n++)
    {
      cleanup_free char *path = xasprintf ("/proc/%d/fd/%d", pid, n);
      cleanup_free char *key = NULL;
      char link[PATH_MAX];
      ssize_t l = readlink (path, link, sizeof link - 1);
      struct stat st;
      if (l < 0 || stat (path, &st) < 0)
        {
          json_string (w, "");
          continue;
        }
      link[l] = '\0';
      if (strncmp (link, "pipe:", 5) == 0 || strncmp (link, "socket:", 7) == 0)
        key = xstrdup (link);
      else if (strncmp (link, "anon_inode:", 11) == 0)
        key = xstrdup ("");
      else if (is_pty_slave (&st))
        key = xasprintf ("tty[%jx:%jx]", (uintmax_t)st.st_rdev, (uintmax_t)st.st_dev);
      else
        key = xasprintf ("file[%lx:%jx]", fd_mnt_id (pid, n), (uintmax_t)st.st_ino);
      if (strncmp (key, "tty[", 4) == 0 || strncmp (key, "file[", 5) == 0)
        {
          bool seen = false;
          for (size_t i = 0; i < a->n; i++)
            seen |= strcmp (a->v[i], key) == 0;
          if (!seen)
            {
              criu_arg (a, "--external");
              criu_arg (a, key);
            }
        }
      json_string (w, key);
    }
  json_array_close (w);
  text = json_writer_finish (w, &len);
  return write_file_at (imgfd, CRIU_DESCRIPTORS, text, len, 0600, err);
}

/* The cgroup freezer criu stops the tree with (rather than ptrace alone, which a forking
   process can outrun); NULL without one. */
static char *
freezer_path (const struct cgroup *cg)
{
  if (cg == NULL || !cgroup_exists (cg))
    return NULL;
  if (cgroup_layout_detect () == CGROUP_LAYOUT_UNIFIED)
    return xasprintf ("/sys/fs/cgroup%s", cgroup_path (cg));
  return xasprintf ("/sys/fs/cgroup/freezer%s", cgroup_path (cg));
}

static int
add_dump_options (struct criu_args *a, const struct container_criu_options *o, ctr_error_t *err)
{
  if (o->leave_running && !o->pre_dump)
    criu_arg (a, "--leave-running");
  if (o->parent_path)
    {
      criu_arg (a, "--prev-images-dir");
      criu_arg (a, o->parent_path);
    }
  if (o->parent_path || o->pre_dump)
    criu_arg (a, "--track-mem");
  if (o->page_server)
    {
      const char *colon = strrchr (o->page_server, ':');
      int64_t port;
      if (colon == NULL || colon == o->page_server || parse_int64 (colon + 1, &port) < 0
          || port <= 0 || port > 65535)
        return ctr_error (err, 0, "--page-server: \"%s\": want ADDRESS:PORT", o->page_server);
      criu_arg (a, "--page-server");
      criu_arg (a, "--address");
      criu_argf (a, "%.*s", (int)(colon - o->page_server), o->page_server);
      criu_arg (a, "--port");
      criu_arg (a, colon + 1);
    }
  if (o->status_fd >= 0)
    {
      int fl = fcntl (o->status_fd, F_GETFL);
      if (!o->lazy_pages)
        return ctr_error (err, 0, "--status-fd: only used with --lazy-pages");
      if (fl < 0)
        return ctr_error (err, errno, "--status-fd %d", o->status_fd);
      if ((fl & O_ACCMODE) == O_RDONLY)
        return ctr_error (err, EBADF, "--status-fd %d: not open for writing", o->status_fd);
      criu_arg (a, "--status-fd");
      criu_argf (a, "%d", o->status_fd);
    }
  return 0;
}

/* Namespaces the container joined by path stay outside the dump: criu records the network
   and pid namespaces as externals under runc's keys; others cannot be dumped. */
static int
add_external_namespaces (struct criu_args *a, const struct oci_config *cfg, ctr_error_t *err)
{
  const enum oci_ns_type types[] = { OCI_NS_NETWORK, OCI_NS_PID };
  for (size_t i = 0; i < ARRAY_SIZE (types); i++)
    {
      const struct oci_namespace *ns = oci_config_namespace (cfg, types[i]);
      struct stat st;
      if (ns == NULL || ns->path == NULL || ns->path[0] == '\0')
        continue;
      if (stat (ns->path, &st) < 0)
        return ctr_error (err, errno, "linux.namespaces: %s namespace `%s`",
                          oci_ns_type_name (types[i]), ns->path);
      criu_arg (a, "--external");
      criu_argf (a, "%s[%ju]:%s", types[i] == OCI_NS_NETWORK ? "net" : "pid", (uintmax_t)st.st_ino,
                 criu_ns_key (types[i]));
    }
  return 0;
}

/* external_netns: init's own network namespace, recorded as an external one. */
static int
add_own_netns (struct criu_args *a, pid_t pid, ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("/proc/%d/ns/net", pid);
  struct stat st;
  if (stat (path, &st) < 0)
    return ctr_error (err, errno, "network namespace of pid %d", pid);
  criu_arg (a, "--external");
  criu_argf (a, "net[%ju]:%s", (uintmax_t)st.st_ino, criu_ns_key (OCI_NS_NETWORK));
  return 0;
}

struct dump
{
  const struct container_criu_options *o;
  struct loaded l;
  struct oci_config *cfg;
  struct cgroup *cg;
  struct criu_args args;
  int imgfd;
  bool made_image_dir;
};

static int
dump_prepare (struct dump *d, ctr_error_t *err)
{
  const struct container_criu_options *o = d->o;
  const char *id = d->l.state->id;
  cleanup_free char *freezer = NULL;
  pid_t pid = d->l.state->pid;

  if (d->l.status != CTR_STATUS_RUNNING && d->l.status != CTR_STATUS_PAUSED)
    return ctr_error (err, 0, "container `%s` is %s: only a running container can be checkpointed",
                      id, ctr_status_name (d->l.status));
  if (loaded_config (&d->l, &d->cfg, err) < 0 || loaded_cgroup (&d->l, &d->cg, err) < 0)
    return -1;
  if (mkdir (o->image_path, 0700) == 0)
    d->made_image_dir = true;
  else if (errno != EEXIST)
    return ctr_error (err, errno, "--image-path `%s`", o->image_path);
  d->imgfd = open (o->image_path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (d->imgfd < 0)
    return ctr_error (err, errno, "--image-path `%s`", o->image_path);
  if (o->work_path && mkdir (o->work_path, 0700) < 0 && errno != EEXIST)
    return ctr_error (err, errno, "--work-path `%s`", o->work_path);
  criu_arg (&d->args, "criu");
  criu_arg (&d->args, o->pre_dump ? "pre-dump" : "dump");
  criu_arg (&d->args, "--tree");
  criu_argf (&d->args, "%d", pid);
  criu_arg (&d->args, "--images-dir");
  criu_arg (&d->args, o->image_path);
  criu_arg (&d->args, "--log-file");
  criu_arg (&d->args, o->pre_dump ? "pre-dump.log" : "dump.log");
  criu_arg (&d->args, "-v4");
  criu_arg (&d->args, "--root");
  criu_arg (&d->args, d->l.state->rootfs);
  if (criu_add_common (&d->args,
                       (const struct criu_common *)&(struct criu_common){
                           o->work_path, o->manage_cgroups_mode, o->empty_ns, o->tcp_established,
                           o->ext_unix_sk, o->shell_job, o->file_locks, o->lazy_pages,
                           o->auto_dedup },
                       err)
          < 0
      || add_dump_options (&d->args, o, err) < 0
      || add_external_namespaces (&d->args, d->cfg, err) < 0
      || (o->external_netns && add_own_netns (&d->args, pid, err) < 0))
    return -1;
  freezer = freezer_path (d->cg);
  if (freezer)
    {
      criu_arg (&d->args, "--freeze-cgroup");
      criu_arg (&d->args, freezer);
    }
  criu_add_config_file (&d->args, d->cfg);
  if (o->pre_dump)
    return 0; /* memory only: mounts and descriptors are the final dump's business */
  criu_add_mounts (&d->args, d->cfg, pid);
  if (d->cfg->process && d->cfg->process->terminal)
    {
      /* ctr binds the pty onto /dev/console: restore binds the new one there */
      criu_arg (&d->args, "--external");
      criu_arg (&d->args, "mnt[/dev/console]:console");
    }
  return describe_stdio (d->imgfd, pid, &d->args, err);
}

static void
dump_release (struct dump *d)
{
  criu_args_release (&d->args);
  if (d->imgfd >= 0)
    close (d->imgfd);
  if (d->cg)
    cgroup_free (d->cg);
  oci_config_free (d->cfg);
  loaded_release (&d->l);
}

/* A failed dump leaves no image behind: the directory it made, or the files it wrote. */
static void
dump_undo (struct dump *d)
{
  ctr_error_t ignored = NULL;
  if (d->made_image_dir)
    {
      if (d->imgfd >= 0)
        close (d->imgfd);
      d->imgfd = -1;
      if (remove_tree_at (AT_FDCWD, d->o->image_path, &ignored) < 0)
        ctr_error_free (&ignored);
    }
  else if (d->imgfd >= 0)
    unlinkat (d->imgfd, CRIU_DESCRIPTORS, 0);
}

int
container_checkpoint (const struct ctr_context *ctx, const char *id,
                      const struct container_criu_options *opts, ctr_error_t *err)
{
  struct dump d = { .o = opts, .imgfd = -1 };
  struct criu_run run = { 0 };
  bool gone;
  int r = -1;

  if (opts->image_path == NULL || opts->image_path[0] == '\0')
    return ctr_error (err, 0, "--image-path: an empty path");
  if (is_rootless ())
    return ctr_error (err, EPERM, "checkpoint: criu needs root");
  if (loaded_open (ctx, id, true, &d.l, err) < 0)
    return -1;
  if (dump_prepare (&d, err) < 0)
    goto fail;
  run.action = opts->pre_dump ? "pre-dump" : "dump";
  run.binary = ctx->criu;
  run.log_dir = opts->work_path ? opts->work_path : opts->image_path;
  run.log_file = opts->pre_dump ? "pre-dump.log" : "dump.log";
  run.status_fd = opts->status_fd;
  /* the image directory ctr made goes on failure, with the log when it is there */
  run.log_removed = d.made_image_dir && opts->work_path == NULL;
  if (criu_exec (&d.args, &run, err) < 0)
    {
      ctr_error_wrap (err, "checkpoint `%s`", id);
      goto fail;
    }
  gone = !opts->leave_running && !opts->pre_dump && !opts->keep_state;
  dump_release (&d);
  /* as runc: a container that was dumped and stopped is deleted, restore makes it anew */
  return gone ? container_delete (ctx, id, true, err) : 0;
fail:
  dump_undo (&d);
  dump_release (&d);
  return r;
}
