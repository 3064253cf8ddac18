/* migrate_recv: `ctr migrate --listen ADDR`, the receiving side of one migration. What
   arrives goes into the store's staging directory `.NAME.new` (held under its lock, so a
   killed receiver's leftovers go with the next listing of the store); it becomes NAME just
   before the restore, and a restore that fails destroys it: the target keeps nothing. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"
#include "base/memory.h"
#include "base/owned_dir.h"
#include "base/util.h"
#include "network/network.h"
#include "system/idmap.h"
#include "system/migrate.h"
#include "system/store.h"
#include "system/system.h"

struct recv
{
  const struct ctr_context *ctx;
  int fd;        /* what the sender sends */
  int out;       /* where the answers go (fd, or stdout for stdio) */
  FILE *say;     /* where the receiver's own lines go (stderr for stdio) */
  int rootfd;    /* the store root */
  int stagefd;   /* .NAME.new, locked */
  char *name;    /* from the hello */
  char *stage;   /* <store>/.NAME.new */
  bool restored; /* NAME is in the store and runs */
};

/* criu check with the binary the target would restore with. */
static int
check_criu (const struct ctr_context *ctx, ctr_error_t *err)
{
  const char *criu = ctx->criu ? ctx->criu : "criu";
  int status;
  pid_t pid = fork ();

  if (pid < 0)
    return ctr_error (err, errno, "fork");
  if (pid == 0)
    {
      int null = open ("/dev/null", O_RDWR);
      dup2 (null, 1);
      dup2 (null, 2);
      execlp (criu, criu, "check", (char *)NULL);
      _exit (127);
    }
  if (waitpid (pid, &status, 0) < 0)
    return ctr_error (err, errno, "wait for criu check");
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  return ctr_error (err, 0, "`%s check` fails here: criu cannot restore on this kernel", criu);
}

static int
check_networks (const json_value *nets, ctr_error_t *err)
{
  for (size_t i = 0; nets && i < json_len (nets); i++)
    {
      struct network_info info = { 0 };
      const char *n;
      if (!json_as_string (json_at (nets, i), &n))
        return ctr_error (err, 0, "a network name that is no string");
      if (strcmp (n, "none") == 0 || strcmp (n, "host") == 0 || network_is_usermode (n))
        continue;
      if (network_inspect (n, &info, err) < 0)
        {
          ctr_error_free (err);
          return ctr_error (err, 0, "no network `%s` here (`ctr network create %s` first)", n, n);
        }
      network_info_clear (&info);
    }
  return 0;
}

static int
check_hello (struct recv *r, const char *text, ctr_error_t *err)
{
  json_value *v = json_parse (text, strlen (text), "hello", err);
  const char *name = NULL, *arch = NULL;
  struct utsname u;
  int64_t version = 0;
  int rc = 0;

  if (v == NULL)
    return -1;
  uname (&u);
  json_as_int64 (json_get (v, "version"), &version);
  if (version != MIG_VERSION)
    rc = ctr_error (err, 0, "protocol version %lld, this ctr speaks %d", (long long)version,
                    MIG_VERSION);
  else if (!json_as_string (json_get (v, "name"), &name) || validate_container_id (name, err) < 0)
    rc = ctr_error (err, 0, "no valid container name");
  else if (store_exists (store_root (r->ctx->store), name))
    rc = ctr_error (err, 0, "container `%s` already exists here", name);
  else if (!json_as_string (json_get (v, "arch"), &arch) || strcmp (arch, u.machine) != 0)
    rc = ctr_error (err, 0, "this host is %s, the container's is %s", u.machine, arch ? arch : "?");
  else if (check_networks (json_get (v, "networks"), err) < 0 || check_criu (r->ctx, err) < 0)
    rc = -1;
  if (rc == 0)
    r->name = xstrdup (name);
  json_value_free (v);
  return rc;
}

static int
claim (struct recv *r, ctr_error_t *err)
{
  const char *root = store_root (r->ctx->store);
  r->rootfd = owned_dir_open (root, "store", OWNED_DIR_CREATE, err);
  if (r->rootfd < 0)
    return -1;
  r->stagefd = store_staging_claim (r->rootfd, r->name, err);
  if (r->stagefd < 0)
    return -1;
  r->stage = xasprintf ("%s/.%s.new", root, r->name);
  if (mkdirat (r->stagefd, "migrate", 0700) < 0 && errno != EEXIST)
    return ctr_error (err, errno, "create `%s/migrate`", r->stage);
  return 0;
}

/* "rootfs" (the store directory, level 0 or 1 of tar's incremental format) or "image DIR". */
static int
receive (struct recv *r, const char *what, ctr_error_t *err)
{
  static char *const incremental[] = { "--listed-incremental=/dev/null", NULL };
  cleanup_free char *dir = NULL;
  const char *img;

  if (r->stagefd < 0)
    return ctr_error (err, 0, "a tar stream before the hello");
  if (strcmp (what, "rootfs") == 0)
    return mig_recv_tar (r->fd, r->stage, incremental, err);
  if (strncmp (what, "image ", 6) != 0)
    return ctr_error (err, 0, "unknown stream `%s`", what);
  img = what + 6;
  if (strcmp (img, "final") != 0 && (strncmp (img, "pre-", 4) != 0 || strchr (img, '/')))
    return ctr_error (err, 0, "bad image name `%s`", img);
  dir = xasprintf ("%s/migrate/%s", r->stage, img);
  if (mkdir (dir, 0700) < 0)
    return ctr_error (err, errno, "create `%s`", dir);
  return mig_recv_tar (r->fd, dir, NULL, err);
}

/* A pool's volume came as a tree: a container of the store here (pool default). */
static int
into_store (struct recv *r, ctr_error_t *err)
{
  struct store_meta meta = { 0 };
  int rc = 0;

  if (store_meta_read (r->stagefd, r->name, &meta, err) < 0)
    return -1;
  if (meta.pool && strcmp (meta.pool, "default") != 0)
    {
      free (meta.pool);
      meta.pool = NULL;
      rc = store_meta_write (r->stagefd, &meta, err);
    }
  store_meta_clear (&meta);
  return rc;
}

static int
restore (struct recv *r, ctr_error_t *err)
{
  cleanup_free char *tmp = xasprintf (".%s.new", r->name);
  cleanup_free char *img = NULL;
  ctr_error_t e2 = NULL;

  if (r->stagefd < 0)
    return ctr_error (err, 0, "a restore before the hello");
  /* an unprivileged container keeps its ids: criu restores its user namespace as it was,
     and its files are owned by them (shifted) */
  if (into_store (r, err) < 0 || idmap_check_free (r->rootfd, r->stagefd, r->name, err) < 0)
    return -1;
  if (renameat2 (r->rootfd, tmp, r->rootfd, r->name, RENAME_NOREPLACE) < 0)
    return ctr_error (err, errno, "container `%s`: take its name", r->name);
  /* a container of the store now (destroy -f removes it): the restore takes its lock */
  flock (r->stagefd, LOCK_UN);
  free (r->stage);
  r->stage = xasprintf ("%s/%s", store_root (r->ctx->store), r->name);
  img = xasprintf ("%s/migrate/final", r->stage);
  if (system_restore (r->ctx, r->name, img, err) < 0)
    {
      if (system_destroy (r->ctx, r->name, true, &e2) < 0)
        ctr_error_print (&e2);
      return -1;
    }
  r->restored = true;
  if (remove_tree_at (r->stagefd, "migrate", &e2) < 0)
    ctr_error_print (&e2);
  return 0;
}

/* One request and its answer; 1 once the container runs here. */
static int
serve_one (struct recv *r, ctr_error_t *err)
{
  cleanup_free char *buf = NULL;
  ctr_error_t e = NULL;
  char type;
  int rc;

  if (mig_recv (r->fd, &type, &buf, NULL, err) < 0)
    return -1;
  if (type == MIG_HELLO)
    rc = r->name ? ctr_error (&e, 0, "a second hello") : check_hello (r, buf, &e);
  else if (type == MIG_BEGIN)
    rc = receive (r, buf, &e);
  else if (type == MIG_RESTORE)
    rc = restore (r, &e);
  else
    rc = ctr_error (&e, 0, "unexpected message '%c'", type);
  if (rc == 0 && type == MIG_HELLO)
    rc = claim (r, &e);
  if (rc < 0)
    {
      cleanup_free char *msg = ctr_error_string (e);
      mig_send (r->out, MIG_ERR, msg, strlen (msg), err);
      ctr_error_free (err);
      *err = e;
      return -1;
    }
  if (mig_send (r->out, MIG_OK, NULL, 0, err) < 0)
    return -1;
  return type == MIG_RESTORE ? 1 : 0;
}

static int
serve (struct recv *r, ctr_error_t *err)
{
  int rc;
  while ((rc = serve_one (r, err)) == 0)
    ;
  if (rc > 0)
    {
      fprintf (r->say, "migrate: container `%s` runs here\n", r->name);
      return 0;
    }
  /* the container never ran here: what came of it goes */
  if (r->stagefd >= 0 && !r->restored && r->stage && strstr (r->stage, "/.") != NULL)
    {
      cleanup_free char *tmp = xasprintf (".%s.new", r->name);
      ctr_error_t e2 = NULL;
      if (remove_tree_at (r->rootfd, tmp, &e2) < 0)
        ctr_error_print (&e2);
    }
  if (r->name)
    return ctr_error_wrap (err, "migrate `%s`: nothing kept here", r->name);
  return ctr_error_wrap (err, "migrate: nothing kept here");
}

/* --listen stdio (what ssh:// runs): the stream is stdin and stdout, taken out of the way
   of what tar and criu write to theirs, which go to stderr. */
static int
take_stdio (struct recv *r, ctr_error_t *err)
{
  int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  r->fd = fcntl (0, F_DUPFD_CLOEXEC, 3);
  r->out = fcntl (1, F_DUPFD_CLOEXEC, 3);
  if (null < 0 || r->fd < 0 || r->out < 0 || dup2 (null, 0) < 0 || dup2 (2, 1) < 0)
    return ctr_error (err, errno, "migrate --listen stdio");
  close (null);
  r->say = stderr;
  return 0;
}

static void
recv_release (struct recv *r)
{
  if (r->out >= 0 && r->out != r->fd)
    close (r->out);
  if (r->fd >= 0)
    close (r->fd);
  if (r->stagefd >= 0)
    close (r->stagefd);
  if (r->rootfd >= 0)
    close (r->rootfd);
  free (r->name);
  free (r->stage);
}

int
system_migrate_listen (const struct ctr_context *ctx, const char *addr, bool insecure,
                       ctr_error_t *err)
{
  struct recv r = { .ctx = ctx, .fd = -1, .out = -1, .say = stdout, .rootfd = -1, .stagefd = -1 };
  cleanup_free char *unix_path = NULL;
  cleanup_close int lfd = -1;
  int rc;

  signal (SIGPIPE, SIG_IGN);
  if (is_rootless ())
    return ctr_error (err, EPERM, "migrate --listen: criu needs root");
  if (strcmp (addr, "stdio") == 0)
    {
      rc = take_stdio (&r, err) < 0 ? -1 : serve (&r, err);
      recv_release (&r);
      return rc;
    }
  lfd = mig_listen (addr, insecure, &unix_path, err);
  if (lfd < 0)
    return -1;
  printf ("migrate: listening on %s\n", addr);
  fflush (stdout);
  do
    r.fd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
  while (r.fd < 0 && errno == EINTR);
  if (unix_path)
    unlink (unix_path);
  if (r.fd < 0)
    return ctr_error (err, errno, "migrate --listen: accept");
  r.out = r.fd;
  rc = serve (&r, err);
  recv_release (&r);
  return rc;
}
