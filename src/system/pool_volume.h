/* pool_volume: a system container's root filesystem in its pool (a directory, a btrfs
   subvolume, an LVM thin volume or an overlay upper), recorded in its directory. */
#ifndef CTR_POOL_VOLUME_H
#define CTR_POOL_VOLUME_H

#include <stdbool.h>
#include "base/error.h"
#include "system/pool.h"

/* <store>/<name>/volume.json: what a container's volume is, written before it is made */
#define POOL_VOLUME_RECORD "volume.json"

/* Makes NAME's volume for the container directory dfd (at dirpath, `rootfs` already a
   directory there). The record is written first, so a kill at any point leaves what
   pool_volume_release removes. size: lvm only (NULL: 4G). overlay: lower is the tree
   the upper goes over; dir, btrfs: lower (or NULL) is a tree the volume starts as, a
   copy (cp --reflink=auto) or a btrfs snapshot of it; lvm: lower (or NULL) is the VG/LV
   the volume is a thin snapshot of. */
int pool_volume_create (const struct pool *p, int dfd, const char *dirpath, const char *name,
                        const char *size, const char *lower, ctr_error_t *err);
/* lvm: a new thin volume VG/lvname of p (size NULL: 4G), ext4, mounted on dfd's rootfs;
   keep_fd (a locked fd, or -1) is held by the tools as long as they run (pool_run_tool). */
int pool_lv_create_mounted (const struct pool *p, int dfd, const char *lvname, const char *size,
                            int keep_fd, ctr_error_t *err);
bool pool_lv_exists (const char *vglv);
/* Deletes the btrfs subvolume at path (keep_fd: as pool_run_tool's); rootless, made
   writable, emptied and removed with rmdir, which the subvolume's owner may do. */
int pool_subvolume_delete (const char *path, int keep_fd, ctr_error_t *err);
/* Removes what the record of dfd (at dirpath) names: the snapshots' volumes, the mount on
   rootfs, the subvolume / LV / upper. No record: nothing to do. */
int pool_volume_release (int dfd, const char *dirpath, ctr_error_t *err);
/* Mounts an lvm or overlay volume on rootfs when it is not (start, after a host reboot).
   Rootless, an overlay only as root of the user's namespace (userns_as_root), in a mount
   namespace of the process's own; as the user itself, an error. */
int pool_volume_activate (int dfd, const char *dirpath, ctr_error_t *err);
/* True when the volume of dfd is mounted only in a namespace of its own (a rootless
   overlay): outside a start, as root of the user's namespace (pool_volume_activate). */
bool pool_volume_mounted_inside (int dfd);
/* dfd's config.json with an overlay (options: its mount options, comma-separated) mounted
   onto "/" before every other mount, written to out_name in out_dfd: a config whose
   container mounts its overlay itself, in its own namespaces (rootless). */
int pool_overlay_config (int dfd, const char *options, int out_dfd, const char *out_name,
                         ctr_error_t *err);
/* At start: pool_volume_activate; rootless (where an overlay is never mounted on the host)
   run.json, config.json with the overlay volume mounted onto "/" first, which the
   container's setup mounts in its own namespaces (no run.json for other volumes). */
int pool_volume_start (int dfd, ctr_error_t *err);
/* "run.json" when the container's run has a config of its own (pool_volume_start). */
const char *pool_volume_run_config (int dfd);
/* Unmounts rootfs when it is a mount (lvm, overlay): before its directory is renamed. */
int pool_volume_deactivate (int dfd, ctr_error_t *err);
/* True when the volume of dfd starts from base (the rootfs of a pool's shared base): a
   copy or snapshot of it, or an overlay over it. */
bool pool_volume_uses_base (int dfd, const char *base);
/* The pool a container directory's volume is in ("default" without a record). */
char *pool_volume_pool (int dfd);
/* The real root filesystem directory of the container at dirpath. */
char *pool_volume_rootfs (int dfd, const char *dirpath);
/* overlay: the lower layers (colon-separated) a clone of this volume goes over. */
char *pool_volume_clone_lower (int dfd);
/* overlay: clones whose lower includes the container's upper (their names), under store. */
char **pool_volume_dependents (const char *store, const char *name);

/* Copy-on-write copy of src's volume (srcfd) as dst's (dfd at dirpath): a btrfs
   snapshot, an lvm thin snapshot, or an overlay upper over src. */
int pool_volume_snapshot_clone (const struct pool *p, int srcfd, int dfd, const char *dirpath,
                                const char *src, const char *dst, ctr_error_t *err);

/* overlay: mounts the volume again with its layers idmapped into mapped ("UID:GID:COUNT",
   pool_mapped.h), or plain (NULL), and records it; only_mapped: only a volume mapped
   already. 1 when done; 0 when there is nothing to do (no overlay volume, not mapped, or
   layers that cannot be idmapped: then the volume is plain). */
int pool_volume_map (int dfd, const char *mapped, bool only_mapped, ctr_error_t *err);

/* The volume's directory (dir, btrfs: the rootfs; overlay: holding upper/), or NULL. */
char *pool_volume_dir (int dfd);

/* Snapshots in the pool (btrfs and lvm natively; overlay: a copy of the upper, reflinked
   where the filesystem can, P/NAME@SNAP/upper): true when the container's volume has them. */
bool pool_volume_native_snapshots (int dfd);
/* The name of one of the container's snapshots (the container directory dfd), or NULL. */
char *pool_volume_any_snapshot (int dfd);
/* The snapshot's volume, recorded in sdfd (the snapshot's directory) first. */
int pool_snapshot_create (int dfd, int sdfd, const char *name, const char *snap, ctr_error_t *err);
/* The container's volume becomes a writable copy of the snapshot's. */
int pool_snapshot_restore (int dfd, const char *dirpath, int sdfd, const char *name,
                           ctr_error_t *err);

#endif
