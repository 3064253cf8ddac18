/* archive_import: `ctr import`, an archive of `ctr export` checked member by member and
   unpacked by tar into a staging directory of the store, then made a container. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json_edit.h"
#include "base/log.h"
#include "base/owned_dir.h"
#include "base/util.h"
#include "oci/oci.h"
#include "system/userns_child.h"
#include "system/archive-internal.h"
#include "system/dataio.h"
#include "system/pool.h"
#include "system/pool_volume.h"
#include "system/store.h"
#include "system/system.h"

#define CONFIG_MAX (4 * 1024 * 1024)

void
archive_layout_clear (struct archive_layout *l)
{
  free (l->top);
  for (size_t i = 0; i < l->n_names; i++)
    free (l->names[i]);
  for (size_t i = 0; i < l->n_links; i++)
    free (l->links[i]);
  free (l->names);
  free (l->links);
  memset (l, 0, sizeof *l);
}

/* By its first bytes: gzip, xz, zstd or a plain tar (ustar magic at 257). */
static int
detect_compression (int fd, const char *file, enum archive_compression *c, ctr_error_t *err)
{
  unsigned char b[264];
  ssize_t n = pread (fd, b, sizeof b, 0);

  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
    *c = ARCHIVE_GZIP;
  else if (n >= 6
           && memcmp (b,
                      "\xfd"
                      "7zXZ\0",
                      6)
                  == 0)
    *c = ARCHIVE_XZ;
  else if (n >= 4 && memcmp (b, "\x28\xb5\x2f\xfd", 4) == 0)
    *c = ARCHIVE_ZSTD;
  else if (n >= 262 && memcmp (b + 257, "ustar", 5) == 0)
    *c = ARCHIVE_PLAIN;
  else
    return ctr_error (err, 0, "`%s`: not a tar archive (plain, gzip, xz or zstd)", file);
  return 0;
}

/* A C-quoted string of tar's --quoting-style=c at *p (which it advances); NULL if bad. */
static char *
unquote (const char **p)
{
  const char *s = *p;
  char *out, *o;

  if (*s != '"')
    return NULL;
  out = o = xmalloc (strlen (s) + 1);
  for (s++; *s && *s != '"'; s++)
    {
      if (*s != '\\')
        {
          *o++ = *s;
          continue;
        }
      s++;
      if (*s >= '0' && *s <= '7')
        {
          int v = 0;
          for (int k = 0; k < 3 && *s >= '0' && *s <= '7'; k++, s++)
            v = v * 8 + (*s - '0');
          s--;
          *o++ = (char)v;
          continue;
        }
      const char *from = "abfnrtv", *to = "\a\b\f\n\r\t\v";
      const char *k = *s ? strchr (from, *s) : NULL;
      *o++ = k ? to[k - from] : *s;
      if (!*s)
        break;
    }
  if (*s != '"' || memchr (out, '\0', o - out))
    {
      free (out);
      return NULL;
    }
  *o = '\0';
  *p = s + 1;
  return out;
}

/* No absolute name, no `..`, and (when top is set) under top/. */
static int
check_name (const char *file, const char *what, const char *name, ctr_error_t *err)
{
  const char *c = name;
  if (*name == '\0' || *name == '/')
    return ctr_error (err, 0, "`%s`: %s `%s` is an absolute path", file, what, name);
  while (c)
    {
      if (strncmp (c, "..", 2) == 0 && (c[2] == '/' || c[2] == '\0'))
        return ctr_error (err, 0, "`%s`: %s `%s` has a `..` in it", file, what, name);
      c = strchr (c, '/');
      c = c ? c + 1 : NULL;
    }
  return 0;
}

/* The layout: TOP/{config.json,ctr.json,template.conf,rootfs/...,snapshots/S/{config.json,
   ctr.json,snapshot.json,rootfs/...}}; devices only under a rootfs/dev/. */
static int
check_place (const char *file, struct archive_layout *l, const char *name, char type,
             ctr_error_t *err)
{
  size_t tlen = strcspn (name, "/");
  const char *rest = name[tlen] ? name + tlen + 1 : "";
  const char *tree = rest;
  char snap[256];

  if (l->top == NULL)
    {
      l->top = xstrndup (name, tlen);
      if (validate_container_id (l->top, NULL) < 0 || l->top[0] == '.')
        return ctr_error (err, 0, "`%s`: its top directory `%s` is no container name", file,
                          l->top);
    }
  if (strlen (l->top) != tlen || strncmp (name, l->top, tlen) != 0)
    return ctr_error (err, 0, "`%s`: member `%s` is outside `%s/`", file, name, l->top);
  if (*rest == '\0')
    return type == 'd' ? 0 : ctr_error (err, 0, "`%s`: `%s` is no directory", file, name);
  if (strcmp (rest, "config.json") == 0 || strcmp (rest, STORE_META) == 0
      || strcmp (rest, "template.conf") == 0)
    {
      if (type != '-')
        return ctr_error (err, 0, "`%s`: member `%s` is no regular file", file, name);
      l->config |= rest[0] == 'c' && rest[1] == 'o';
      l->meta |= strcmp (rest, STORE_META) == 0;
      l->template_conf |= rest[0] == 't';
      return 0;
    }
  if (strncmp (rest, "snapshots", 9) == 0 && (rest[9] == '/' || rest[9] == '\0'))
    {
      const char *s = rest[9] ? rest + 10 : "";
      size_t slen = strcspn (s, "/");
      l->snapshots = true;
      if (*s == '\0')
        return 0;
      snprintf (snap, sizeof snap, "%.*s", (int)(slen < 255 ? slen : 255), s);
      if (validate_container_id (snap, NULL) < 0 || snap[0] == '.' || slen > 255)
        return ctr_error (err, 0, "`%s`: member `%s`: `%s` is no snapshot name", file, name, snap);
      tree = s[slen] ? s + slen + 1 : "";
      if (*tree == '\0' || strcmp (tree, "config.json") == 0 || strcmp (tree, STORE_META) == 0
          || strcmp (tree, "snapshot.json") == 0)
        return 0;
    }
  else
    l->rootfs |= strcmp (rest, "rootfs") == 0;
  if (strncmp (tree, "rootfs", 6) != 0 || (tree[6] != '/' && tree[6] != '\0'))
    return ctr_error (err, 0, "`%s`: unexpected member `%s` (not part of a container)", file, name);
  if ((type == 'c' || type == 'b') && strncmp (tree, "rootfs/dev/", 11) != 0)
    return ctr_error (err, 0, "`%s`: member `%s` is a device node outside /dev", file, name);
  return 0;
}

/* One line of `tar -tv --quoting-style=c --numeric-owner`. */
int
archive_layout_line (const char *file, struct archive_layout *l, const char *line, ctr_error_t *err)
{
  const char *p = strchr (line, '"');
  cleanup_free char *name = NULL, *target = NULL;
  char type = line[0];
  size_t len;

  if (p == NULL || (name = unquote (&p)) == NULL)
    return ctr_error (err, 0, "`%s`: cannot read its listing at `%.80s`", file, line);
  len = strlen (name);
  while (len > 1 && name[len - 1] == '/')
    name[--len] = '\0';
  if (strchr ("-dlhcbp", type) == NULL)
    return ctr_error (err, 0, "`%s`: member `%s` is of a type an import refuses (`%c`)", file, name,
                      type);
  if (check_name (file, "member", name, err) < 0 || check_place (file, l, name, type, err) < 0)
    return -1;
  if (type == 'h')
    {
      if (strncmp (p, " link to ", 9) != 0 || (p += 9, target = unquote (&p)) == NULL)
        return ctr_error (err, 0, "`%s`: cannot read the link of `%s`", file, name);
      if (check_name (file, "hard link target", target, err) < 0)
        return -1;
      if (strncmp (target, l->top, strlen (l->top)) != 0 || target[strlen (l->top)] != '/')
        return ctr_error (err, 0, "`%s`: hard link `%s` points outside `%s/`", file, name, l->top);
      l->names = xrealloc (l->names, (l->n_names + 1) * sizeof *l->names);
      l->names[l->n_names++] = steal_ptr (target);
    }
  if (type == 'l')
    {
      l->links = xrealloc (l->links, (l->n_links + 1) * sizeof *l->links);
      l->links[l->n_links++] = xstrdup (name);
    }
  l->names = xrealloc (l->names, (l->n_names + 1) * sizeof *l->names);
  l->names[l->n_names++] = steal_ptr (name);
  return 0;
}

static int
compare_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* No member lies beneath a symlink member: tar would write through the link. */
static int
check_symlink_paths (const char *file, struct archive_layout *l, ctr_error_t *err)
{
  if (l->n_links == 0)
    return 0;
  qsort (l->links, l->n_links, sizeof *l->links, compare_str);
  for (size_t i = 0; i < l->n_names; i++)
    {
      cleanup_free char *prefix = xstrdup (l->names[i]);
      char *slash;
      while ((slash = strrchr (prefix, '/')) != NULL)
        {
          const char *key = prefix;
          *slash = '\0';
          if (bsearch (&key, l->links, l->n_links, sizeof *l->links, compare_str))
            return ctr_error (err, 0, "`%s`: member `%s` lies beneath the symlink `%s`", file,
                              l->names[i], prefix);
        }
    }
  return 0;
}

int
archive_layout_finish (const char *file, struct archive_layout *l, ctr_error_t *err)
{
  if (l->top == NULL || !l->config || !l->meta || !l->rootfs)
    return ctr_error (err, 0,
                      "`%s`: not an archive of `ctr export` (it needs NAME/config.json, "
                      "NAME/ctr.json and NAME/rootfs/)",
                      file);
  return check_symlink_paths (file, l, err);
}

static int
list_archive (int fd, const char *file, enum archive_compression c, struct archive_layout *l,
              ctr_error_t *err)
{
  const char *argv[] = { "tar",
                         "--list",
                         "--verbose",
                         "--numeric-owner",
                         "--quoting-style=c",
                         "--file=-",
                         archive_compress_option (c),
                         NULL };
  cleanup_free char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int fds[2], efd, r = 0;
  FILE *f;
  pid_t pid;

  if (lseek (fd, 0, SEEK_SET) < 0 || pipe2 (fds, O_CLOEXEC) < 0)
    return ctr_error (err, errno, "`%s`: read", file);
  pid = dataio_spawn_tar ((char *const *)argv, fd, fds[1], -1, &efd, err);
  close (fds[1]);
  if (pid < 0)
    {
      close (fds[0]);
      return -1;
    }
  f = fdopen (fds[0], "r");
  while ((n = getline (&line, &cap, f)) > 0)
    {
      if (line[n - 1] == '\n')
        line[n - 1] = '\0';
      if (r == 0 && archive_layout_line (file, l, line, err) < 0)
        r = -1; /* read on, so that tar ends */
    }
  fclose (f);
  if (r < 0)
    {
      dataio_wait_tar (pid, efd, NULL);
      return -1;
    }
  if (dataio_wait_tar (pid, efd, err) < 0)
    return ctr_error_wrap (err, "`%s`", file);
  return archive_layout_finish (file, l, err);
}

/* tar -x of the members named in what (NULL: all) into dir, strip leading components. */
static int
extract (int fd, enum archive_compression c, const char *dir, int strip, char **what, int keep_fd,
         ctr_error_t *err)
{
  char strip_opt[32];
  const char *argv[24];
  size_t n = 0;

  snprintf (strip_opt, sizeof strip_opt, "--strip-components=%d", strip);
  argv[n++] = "tar";
  argv[n++] = "--extract";
  argv[n++] = "--numeric-owner";
  argv[n++] = "--same-owner";
  argv[n++] = "--same-permissions";
  argv[n++] = "--xattrs";
  argv[n++] = "--xattrs-include=*";
  /* overlayfs reads trusted.overlay.* (redirects, opaque dirs): never from an archive */
  argv[n++] = "--xattrs-exclude=trusted.*";
  argv[n++] = "--acls";
  argv[n++] = "--no-overwrite-dir";
  argv[n++] = strip_opt;
  argv[n++] = "--directory";
  argv[n++] = dir;
  argv[n++] = "--file=-";
  if (archive_compress_option (c))
    argv[n++] = archive_compress_option (c);
  argv[n++] = "--";
  for (size_t i = 0; what && what[i] && n < ARRAY_SIZE (argv) - 1; i++)
    argv[n++] = what[i];
  argv[n] = NULL;
  if (lseek (fd, 0, SEEK_SET) < 0)
    return ctr_error (err, errno, "seek");
  return dataio_run_tar ((char *const *)argv, fd, -1, keep_fd, err);
}

/* A definition fit to run here: ctr's parser takes it, the root is its rootfs/, and no
   hook would run a program of the archive's choosing on this host. */
static int
check_config (int dfd, const char *origin, const char *old, const char *new, ctr_error_t *err)
{
  cleanup_free char *text = NULL, *out = NULL;
  struct oci_config *cfg = NULL;
  json_node *root;
  const char *host;
  size_t len;
  int r = -1;

  if (read_file_at (dfd, "config.json", CONFIG_MAX, &text, &len, err) < 0)
    return ctr_error_wrap (err, "%s", origin);
  if (oci_config_parse (text, len, origin, &cfg, err) < 0)
    return -1;
  if (cfg->root.path == NULL || strcmp (cfg->root.path, "rootfs") != 0)
    ctr_error (err, 0, "%s: root.path is `%s`, not `rootfs`", origin,
               cfg->root.path ? cfg->root.path : "");
  else if ((root = jnode_parse (text, origin, err)) != NULL)
    {
      if (jnode_get (root, "hooks") != NULL)
        ctr_error (err, 0, "%s: has hooks (programs run on this host): an import refuses them",
                   origin);
      else
        {
          host = jnode_string (jnode_get (root, "hostname"));
          if (old && new &&host && strcmp (host, old) == 0)
            jnode_set (root, "hostname", jnode_new_string (new));
          out = jnode_to_string (root, &len);
          r = write_file_atomic_at (dfd, "config.json", out, len, 0600, err);
        }
      jnode_free (root);
    }
  oci_config_free (cfg);
  return r;
}

/* Every snapshot's config.json passes the same checks (restore puts it back in use). */
static int
check_snapshot_configs (int dfd, const char *name, ctr_error_t *err)
{
  cleanup_close int sfd
      = openat (dfd, "snapshots", O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (sfd < 0 || (d = fdopendir (fcntl (sfd, F_DUPFD_CLOEXEC, 0))) == NULL)
    return 0;
  while ((de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.')
        continue;
      cleanup_close int snapfd
          = openat (sfd, de->d_name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      cleanup_free char *origin
          = xasprintf ("snapshot `%s` of `%s`: config.json", de->d_name, name);
      if (snapfd < 0 || check_config (snapfd, origin, NULL, NULL, err) < 0)
        return snapfd < 0 ? ctr_error (err, errno, "%s", origin) : -1;
    }
  return 0;
}

/* ctr.json as a new container's: its own address, ports and id range, created now, in pool. */
static int
fix_meta (const struct ctr_context *ctx, int dfd, const char *name, const char *pool,
          ctr_error_t *err)
{
  struct store_meta m;
  int r;

  if (store_meta_read (dfd, name, &m, err) < 0)
    return -1;
  if (m.ip || (m.publish && m.publish[0]))
    fprintf (stderr,
             "ctr: note: import `%s`: its static address and published ports are not kept "
             "(`ctr config %s set ip|publish` gives it its own)\n",
             name, name);
  store_meta_renew (&m);
  free (m.pool);
  m.pool = pool && strcmp (pool, POOL_DEFAULT) != 0 ? xstrdup (pool) : NULL;
  /* the range the archive names is another host's, or another container's here */
  r = system_meta_write_copy (ctx, dfd, name, &m, err);
  store_meta_clear (&m);
  return r;
}

/* The archive's files into the staging directory dfd (at dir), only the members a
   container has, by name: the default pool takes them in one pass; another pool gets a
   volume first, which the rootfs goes into. */
static int
unpack (const struct ctr_context *ctx, int fd, enum archive_compression c, int dfd, const char *dir,
        const char *name, const struct archive_layout *l, const struct pool *p, ctr_error_t *err)
{
  cleanup_free char *rootfs = NULL, *m_config = NULL, *m_meta = NULL, *m_tconf = NULL;
  cleanup_free char *m_root = NULL, *m_snaps = NULL;
  char *what[6];
  size_t n = 0;

  (void)ctx;
  if (l->snapshots && p->type != POOL_DIR)
    return ctr_error (err, 0,
                      "the archive holds snapshots, which pool `%s` (%s) keeps as volumes of its "
                      "own: import it into a dir pool",
                      p->name, pool_type_name (p->type));
  if (p->type == POOL_OVERLAY)
    return ctr_error (err, 0,
                      "pool `%s` is an overlay pool, whose containers are layers over their "
                      "template's tree: import into a dir, btrfs or lvm pool",
                      p->name);
  m_root = xasprintf ("%s/rootfs", l->top);
  if (strcmp (p->name, POOL_DEFAULT) == 0)
    what[n++] = m_root;
  else
    {
      if (mkdirat (dfd, "rootfs", 0755) < 0)
        return ctr_error (err, errno, "create `%s/rootfs`", dir);
      if (pool_volume_create (p, dfd, dir, name, NULL, NULL, err) < 0)
        return -1;
      rootfs = pool_volume_rootfs (dfd, dir);
      what[0] = m_root;
      what[1] = NULL;
      if (extract (fd, c, rootfs, 2, what, dfd, err) < 0)
        return -1;
    }
  what[n++] = m_config = xasprintf ("%s/config.json", l->top);
  what[n++] = m_meta = xasprintf ("%s/%s", l->top, STORE_META);
  if (l->template_conf)
    what[n++] = m_tconf = xasprintf ("%s/template.conf", l->top);
  if (l->snapshots)
    what[n++] = m_snaps = xasprintf ("%s/snapshots", l->top);
  what[n] = NULL;
  return extract (fd, c, dir, 1, what, dfd, err);
}

static int
import_into (const struct ctr_context *ctx, int fd, enum archive_compression c, int dfd,
             const char *name, const struct archive_layout *l, const struct pool *p,
             ctr_error_t *err)
{
  cleanup_free char *dir = xasprintf ("%s/.%s.new", store_root (ctx->store), name);
  cleanup_free char *origin = xasprintf ("import `%s`: config.json", name);

  if (unpack (ctx, fd, c, dfd, dir, name, l, p, err) < 0
      || check_config (dfd, origin, l->top, name, err) < 0
      || check_snapshot_configs (dfd, name, err) < 0 || fix_meta (ctx, dfd, name, p->name, err) < 0)
    return -1;
  if (strcmp (l->top, name) != 0)
    system_rename_etc_hostname (dfd, l->top, name);
  return 0;
}

/* The archive, opened and checked by the caller itself (not as root of a user namespace,
   where other users' files, root's too, are nobody's). */
static int
import_open (const char *file, const char *name, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  struct stat st;

  if (name && validate_container_id (name, err) < 0)
    return -1;
  fd = open (file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return ctr_error (err, errno, "import: open `%s`", file);
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    return ctr_error (err, 0, "import: `%s` is not a regular file", file);
  /* tar reads it twice: what was checked must be what is unpacked */
  if ((st.st_uid != geteuid () && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH)))
    return ctr_error (err, 0,
                      "import: `%s` can be written by others (owner %u, mode %04o), who could "
                      "change it between its check and its unpacking: copy it first",
                      file, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
  return steal_fd (fd);
}

static int
import_here (const struct ctr_context *ctx, int fd, const char *file, const char *name,
             const char *pool, char **made, ctr_error_t *err)
{
  const char *root = store_root (ctx->store);
  __attribute__ ((cleanup (archive_layout_clear))) struct archive_layout l = { 0 };
  __attribute__ ((cleanup (pool_clear))) struct pool p = { 0 };
  cleanup_close int rootfd = -1, dfd = -1;
  cleanup_free char *tmp = NULL;
  enum archive_compression c = ARCHIVE_PLAIN;
  int r;

  if (pool_load (root, pool ? pool : POOL_DEFAULT, &p, err) < 0)
    return ctr_error_wrap (err, "import");
  if (detect_compression (fd, file, &c, err) < 0 || list_archive (fd, file, c, &l, err) < 0)
    return ctr_error_wrap (err, "import");
  if (name == NULL)
    name = l.top;
  rootfd = owned_dir_open (root, "store", OWNED_DIR_CREATE, err);
  if (rootfd < 0)
    return -1;
  if (store_exists (root, name))
    return ctr_error (err, 0, "import: container `%s` already exists", name);
  dfd = store_staging_claim (rootfd, name, err);
  if (dfd < 0)
    return ctr_error_wrap (err, "import");
  tmp = xasprintf (".%s.new", name);
  r = import_into (ctx, fd, c, dfd, name, &l, &p, err);
  if (r == 0 && renameat2 (rootfd, tmp, rootfd, name, RENAME_NOREPLACE) < 0)
    r = ctr_error (err, errno == EEXIST ? 0 : errno, "container `%s` already exists", name);
  if (r < 0)
    {
      ctr_error_t e2 = NULL;
      /* removed under its lock: never a directory another create has claimed */
      if (pool_volume_release (dfd, NULL, &e2) < 0 || store_remove_tree_at (rootfd, tmp, &e2) < 0)
        ctr_error_print (&e2);
      return ctr_error_wrap (err, "import `%s`", file);
    }
  if (made)
    *made = xstrdup (name);
  return 0;
}

static int
import_fn (void *arg, char **out, ctr_error_t *err)
{
  const struct userns_verb *v = arg;
  return import_here (v->ctx, v->fd, v->a, v->b, v->c, out, err);
}

/* An unprivileged user's import runs as root of its user namespace (userns_as_root): the
   archive's ids are the container's, which its mapping gives the files on disk. */
int
system_import (const struct ctr_context *ctx, const char *file, const char *name, const char *pool,
               char **made, ctr_error_t *err)
{
  cleanup_close int fd = import_open (file, name, err);
  struct userns_verb v = { .ctx = ctx, .fd = fd, .a = file, .b = name, .c = pool };
  if (fd < 0)
    return -1;
  return userns_as_root (import_fn, &v, made, err);
}
