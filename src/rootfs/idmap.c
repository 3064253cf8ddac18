/* rootfs/idmap: idmapped bind mounts (mounts[].uidMappings/gidMappings, the idmap and
   ridmap options): detached clones of their sources, idmapped by the parent with
   mount_setattr(MOUNT_ATTR_IDMAP), attached by the child like any bind mount. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/util.h"
#include "namespaces/namespaces.h"
#include "rootfs/idmap.h"
#include "rootfs/mounts.h"

struct rootfs_idmap
{
  size_t len;
  int *trees;      /* per config mount: the detached tree, or -1 */
  bool *pending;   /* idmapped with the container's new user namespace, once it is */
  bool *recursive; /* ridmap */
  const struct oci_config *config;
  char *origin;   /* the config file's name, for messages */
  char **sources; /* host paths, for messages */
};

static char *
source_path (const struct oci_mount *m, const char *bundle)
{
  if (m->source == NULL)
    return NULL;
  if (m->source[0] != '/' && bundle)
    return xasprintf ("%s/%s", bundle, m->source);
  return xstrdup (m->source);
}

/* mount_setattr's reasons, in words. */
static int
idmap_tree (int tree, int userns_fd, bool recursive, const char *src, ctr_error_t *err)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd };

  if (mount_setattr (tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr)
      == 0)
    return 0;
  switch (errno)
    {
    case EINVAL:
      return ctr_error (err, errno, "`%s`: filesystem does not support idmapped mounts%s", src,
                        recursive ? " (it or one of its submounts)" : "");
    case ENOSYS:
      return ctr_error (err, errno, "`%s`: this kernel has no idmapped mounts (Linux 5.12)", src);
    case EPERM:
      return ctr_error (err, errno,
                        "`%s`: not permitted to idmap it (that takes CAP_SYS_ADMIN over its "
                        "filesystem, and a source that is not idmapped already)",
                        src);
    default:
      return ctr_error (err, errno, "idmap `%s`", src);
    }
}

int
rootfs_idmap_clone (const char *src, int userns_fd, ctr_error_t *err)
{
  int tree = open_tree (AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0)
    return ctr_error (err, errno, "clone the mount of `%s`", src);
  if (idmap_tree (tree, userns_fd, false, src, err) < 0)
    {
      close (tree);
      return -1;
    }
  return tree;
}

static bool
same_mappings (const struct oci_mount *a, const struct oci_mount *b)
{
  return a->uid_mappings_len == b->uid_mappings_len && a->gid_mappings_len == b->gid_mappings_len
         && memcmp (a->uid_mappings, b->uid_mappings,
                    a->uid_mappings_len * sizeof (*a->uid_mappings))
                == 0
         && memcmp (a->gid_mappings, b->gid_mappings,
                    a->gid_mappings_len * sizeof (*a->gid_mappings))
                == 0;
}

static int
prepare_one (struct rootfs_idmap *m, size_t i, const char *bundle, int userns_join_fd,
             int *own_userns, const struct oci_mount **own_of, ctr_error_t *err)
{
  const struct oci_mount *mnt = &m->config->mounts[i];
  struct mount_opts o;
  bool rec;

  mount_opts_parse (mnt->options, mnt->options_len, &o);
  rec = (o.flags & MS_REC) || (mnt->type && strcmp (mnt->type, "rbind") == 0);
  m->recursive[i] = o.idmap_recursive;
  mount_opts_release (&o);
  /* the runtime-spec: an error, not the source's own ids */
  if (mnt->uid_mappings_len == 0 && oci_config_namespace (m->config, OCI_NS_USER) == NULL)
    return ctr_error (err, 0,
                      "\"%s\" without uidMappings and gidMappings takes the container's user "
                      "namespace, and it has none",
                      m->recursive[i] ? "ridmap" : "idmap");
  m->sources[i] = source_path (mnt, bundle);
  if (m->sources[i] == NULL)
    return ctr_error (err, EINVAL, "bind mount without a source");
  /* the source is a host path named by the (trusted) config: symlinks may be followed */
  m->trees[i] = open_tree (AT_FDCWD, m->sources[i],
                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
  if (m->trees[i] < 0)
    return ctr_error (err, errno, "bind source `%s`%s", m->sources[i],
                      errno == EPERM && is_rootless ()
                          ? " (rootless: idmapping a host directory takes root)"
                          : "");
  if (mnt->uid_mappings_len == 0)
    {
      if (userns_join_fd >= 0)
        return idmap_tree (m->trees[i], userns_join_fd, m->recursive[i], m->sources[i], err);
      m->pending[i] = true;
      return 0;
    }
  if (*own_userns < 0 || !same_mappings (*own_of, mnt))
    {
      if (*own_userns >= 0)
        close (*own_userns);
      *own_userns = ns_userns_fd_with_maps (mnt->uid_mappings, mnt->uid_mappings_len,
                                            mnt->gid_mappings, mnt->gid_mappings_len, err);
      if (*own_userns < 0)
        return ctr_error_wrap (err, "a user namespace for uidMappings and gidMappings");
      *own_of = mnt;
    }
  return idmap_tree (m->trees[i], *own_userns, m->recursive[i], m->sources[i], err);
}

static bool
is_idmapped (const struct oci_mount *m)
{
  size_t i;
  if (m->uid_mappings_len || m->gid_mappings_len)
    return true;
  for (i = 0; i < m->options_len; i++)
    if (strcmp (m->options[i], "idmap") == 0 || strcmp (m->options[i], "ridmap") == 0)
      return true;
  return false;
}

int
rootfs_idmap_prepare (const struct oci_config *c, const char *bundle, const char *origin,
                      const struct ns_plan *ns, struct rootfs_idmap **out, ctr_error_t *err)
{
  int userns_join_fd = ns->join_fds[OCI_NS_USER];
  struct rootfs_idmap *m;
  const struct oci_mount *own_of = NULL;
  int own_userns = -1, r = 0;
  size_t i;

  *out = NULL;
  for (i = 0; i < c->mounts_len && !is_idmapped (&c->mounts[i]); i++)
    ;
  if (i == c->mounts_len)
    return 0;
  m = xzalloc (sizeof (*m));
  m->len = c->mounts_len;
  m->config = c;
  m->origin = xstrdup (origin);
  m->trees = xmalloc (m->len * sizeof (*m->trees));
  m->pending = xzalloc (m->len * sizeof (*m->pending));
  m->recursive = xzalloc (m->len * sizeof (*m->recursive));
  m->sources = xzalloc (m->len * sizeof (*m->sources));
  for (i = 0; i < m->len; i++)
    m->trees[i] = -1;
  for (i = 0; i < m->len && r == 0; i++)
    if (is_idmapped (&c->mounts[i])
        && (r = prepare_one (m, i, bundle, userns_join_fd, &own_userns, &own_of, err)) < 0)
      ctr_error_wrap (err, "mounts[%zu] (%s)", i, c->mounts[i].destination);
  if (own_userns >= 0)
    close (own_userns);
  if (r < 0)
    {
      rootfs_idmap_free (m);
      return -1;
    }
  *out = m;
  return 0;
}

int
rootfs_idmap_write_id_maps (struct rootfs_idmap *m, pid_t pid, const struct oci_linux *l,
                            ctr_error_t *err)
{
  cleanup_close int userns = -1;
  char path[64];
  size_t i;
  int procfd;

  if (ns_write_id_maps (pid, l, err) < 0)
    return -1;
  for (i = 0; m && i < m->len; i++)
    {
      if (!m->pending[i])
        continue;
      if (userns < 0)
        {
          if ((procfd = ns_procfs_fd (err)) < 0)
            return -1;
          snprintf (path, sizeof path, "%d/ns/user", (int)pid);
          userns = openat (procfd, path, O_RDONLY | O_CLOEXEC);
          if (userns < 0)
            return ctr_error (err, errno, "open /proc/%s", path);
        }
      if (idmap_tree (m->trees[i], userns, m->recursive[i], m->sources[i], err) < 0)
        return ctr_error_wrap (err, "%s: mounts[%zu] (%s)", m->origin, i,
                               m->config->mounts[i].destination);
      m->pending[i] = false;
    }
  return 0;
}

const int *
rootfs_idmap_trees (const struct rootfs_idmap *m)
{
  return m ? m->trees : NULL;
}

void
rootfs_idmap_free (struct rootfs_idmap *m)
{
  size_t i;
  if (m == NULL)
    return;
  for (i = 0; i < m->len; i++)
    {
      if (m->trees[i] >= 0)
        close (m->trees[i]);
      free (m->sources[i]);
    }
  free (m->trees);
  free (m->pending);
  free (m->recursive);
  free (m->sources);
  free (m->origin);
  free (m);
}

int
rootfs_idmap_mount (struct rootfs_ctx *ctx, size_t index, const struct oci_mount *m,
                    const struct mount_opts *o, ctr_error_t *err)
{
  int tree = ctx->idmap_trees ? ctx->idmap_trees[index] : -1;

  if (tree < 0)
    return ctr_error (err, EINVAL, "idmapped mount: no prepared source");
  return mount_bind_tree (ctx, tree, m->source, m->destination, o, err);
}
