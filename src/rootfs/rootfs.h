/* rootfs: the container's mount tree: bind of root.path, config mounts, /dev, pivot_root,
   masked and read-only paths. Runs in the setup child, inside its new mount namespace. */
#ifndef CTR_ROOTFS_H
#define CTR_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "base/error.h"
#include "oci/oci.h"

struct mountinfo;
struct ns_plan;

struct rootfs_ctx
{
  const struct oci_config *config;
  const char *rootfs; /* absolute host path of root.path (bundle-relative paths resolved) */
  bool new_userns;    /* own user namespace: device nodes are bind-mounted, not mknod'ed */
  bool new_cgroupns;
  bool no_pivot;           /* --no-pivot: MS_MOVE + chroot instead of pivot_root */
  bool shares_mount_ns;    /* no mount namespace of its own: the root is bound (private) onto
                              shared_root, set up there and chroot'ed into */
  const char *shared_root; /* an empty directory ctr owns (in the state dir) */
  const char *bundle;      /* optional: base of relative bind-mount sources (default: the cwd) */
  /* optional: bind sources opened by the caller before a new user namespace existed
     (rootfs_open_bind_sources), one per config mount, -1 for none; taken when used */
  int *bind_sources;
  const int *idmap_trees; /* per config mount: its idmapped tree from the parent, or -1
                             (rootfs/idmap.h); NULL: none */
  /* optional (-1: none): a detached clone of the rootfs made by the parent
     (rootfs_open_root_tree), attached as the root instead of binding the path, which the
     root of a new user namespace may not reach (a 0700 store); taken when used */
  int root_tree;
  /* filled by rootfs_prepare, closed by rootfs_ctx_release */
  int rootfs_fd;  /* O_PATH directory fd of the container root (after it was bind-mounted) */
  int devnull_fd; /* the host's /dev/null, verified to be char 1:3, for masking (O_PATH) */
  /* private to rootfs/ */
  char *root_path; /* realpath of rootfs (computed when needed, before pivot) */
  bool pivoted;
  bool root_stacked;           /* the root was attached on top of "/" (root_tree) */
  bool proc_checked;           /* after pivot: /proc verified to be a procfs */
  bool dev_fresh_tmpfs;        /* /dev is a tmpfs ctr mounted (no ACL, no stray entries) */
  bool dev_readonly;           /* the config's /dev is read-only: made so by rootfs_finalize */
  bool root_covered;           /* a mount went onto "/": rootfs_fd must be reopened */
  struct mountinfo *mountinfo; /* /proc/self/mountinfo, read at most once */
  size_t mountinfo_len;
};

/* Parent side, at create, before anything of the container exists: refuses what the setup
   cannot do safely (--no-pivot with a private rootfsPropagation, as runc), and with
   clone_sources (a new user namespace) makes a detached clone (open_tree) of every
   bind-mount source, so that the container's mapped root needs no access to the host path
   (runc's mount sources). *fds gets one slot per mount (-1 where nothing was opened: no
   bind, an idmapped mount, or no open_tree); free with rootfs_close_bind_sources. */
int rootfs_create_check (const struct oci_config *config, const char *bundle, bool no_pivot,
                         bool clone_sources, int **fds, ctr_error_t *err);
void rootfs_close_bind_sources (int *fds, size_t n);
/* Parent, before the child exists: for a setup in a new user namespace created by real
   root (not rootless, with a mount namespace of its own, pivot_root), a detached recursive
   clone of rootfs for rootfs_ctx.root_tree; -1 otherwise (and where open_tree is missing). */
int rootfs_open_root_tree (const char *rootfs, bool new_userns, bool shares_mount_ns, bool no_pivot,
                           ctr_error_t *err);
/* Zeroes the context and sets rootfs_fd/devnull_fd to -1. */
void rootfs_ctx_init (struct rootfs_ctx *ctx, const struct oci_config *config, const char *rootfs);
/* Before createContainer hooks: mount propagation of "/", bind root.path onto itself,
   every config mount (symlink-safe, from the rootfs fd), /dev (devices, symlinks, ptmx),
   linux.sysctl and linux.maskedPaths (they need the host's /dev/null, which pivot_root
   takes out of the mount namespace). */
int rootfs_prepare (struct rootfs_ctx *ctx, ctr_error_t *err);
/* pivot_root into the root (or move + chroot for no_pivot); afterwards cwd is "/". */
int rootfs_pivot (struct rootfs_ctx *ctx, ctr_error_t *err);
/* Bind-mounts a pty slave (an open fd) onto /dev/console. After rootfs_pivot. */
int rootfs_mount_console (struct rootfs_ctx *ctx, int pty_slave_fd, ctr_error_t *err);
/* After pivot: linux.readonlyPaths, root.readonly, linux.rootfsPropagation. */
int rootfs_finalize (struct rootfs_ctx *ctx, ctr_error_t *err);
void rootfs_ctx_release (struct rootfs_ctx *ctx);

struct rootfs_idmap;

/* Parent, before the child exists, outside the container's user namespace (idmapping a
   host filesystem takes CAP_SYS_ADMIN over it, which the child never has): for every
   idmapped mount, a detached clone of its source (open_tree). One with its own mappings is
   idmapped at once, with a user namespace made to hold them; one without takes the
   container's user namespace: the one joined by path (in ns) now, a new one in
   rootfs_idmap_write_id_maps. Errors name the mount ("mounts[2] (/data): ..."); origin
   (the config file's name) prefixes the later ones. *out is NULL when no mount is
   idmapped. */
int rootfs_idmap_prepare (const struct oci_config *c, const char *bundle, const char *origin,
                          const struct ns_plan *ns, struct rootfs_idmap **out, ctr_error_t *err);
/* Parent: writes the id maps of pid's new user namespace (ns_write_id_maps), then idmaps
   the trees that take it, before the child goes on to mount them. m may be NULL. */
int rootfs_idmap_write_id_maps (struct rootfs_idmap *m, pid_t pid, const struct oci_linux *l,
                                ctr_error_t *err);
/* The prepared trees, one per config mount (-1: not idmapped), for rootfs_ctx.idmap_trees;
   the child inherits the fds. NULL when m is. */
const int *rootfs_idmap_trees (const struct rootfs_idmap *m);
void rootfs_idmap_free (struct rootfs_idmap *m);

/* Writes a file inside a root filesystem from the host (e.g. /etc/hosts of a system
   container): no symlink on the way leaves the root, and a symlink in the file's place is
   replaced, never followed. The parent directory must exist. */
int rootfs_write_file (const char *rootfs, const char *path, const char *data, size_t len,
                       mode_t mode, ctr_error_t *err);

#endif
