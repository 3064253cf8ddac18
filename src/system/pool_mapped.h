/* pool_mapped: an overlay whose layers are idmapped. overlayfs cannot itself be idmapped;
   its layers can. An unprivileged container in an overlay pool shares its pool's base
   unchanged on disk this way (docs/storage.md, "Unprivileged containers in an overlay
   pool"), and so does an ephemeral run of an unprivileged container. */
#ifndef CTR_POOL_MAPPED_H
#define CTR_POOL_MAPPED_H

#include "base/error.h"

/* The user namespace of a range (the container's ids 0..count-1 are uid.. and gid.. on the
   host, host root the id just past them), as an fd. */
int pool_mapped_userns (unsigned uid, unsigned gid, unsigned count, ctr_error_t *err);
/* Mounts on target an overlay over lowers (colon-separated) whose upper and work are those
   of data (data/upper, data/work), each layer an idmapped bind (userns) attached in dir:
   lower.N, and mapped/ for data. Binds left in dir by an earlier mount go first. */
int pool_mapped_overlay (const char *target, const char *dir, const char *data, const char *lowers,
                         int userns, ctr_error_t *err);
/* The overlay volume at path (holding upper/ and work/) over lowers, mounted on target
   with its layers idmapped into mapped ("UID:GID:COUNT"): pool_mapped_overlay with path as
   both dir and data. The files keep their ids on disk. */
int pool_mapped_mount (const char *target, const char *path, const char *lowers, const char *mapped,
                       ctr_error_t *err);
/* Unmounts the binds pool_mapped_overlay attached in dir (none: nothing to do). */
int pool_mapped_unmap (const char *dir, ctr_error_t *err);
/* The layers of such a volume as an overlay over it stacks them (its mapped upper, then
   its mapped lowers), for an ephemeral run on top. */
char *pool_mapped_layers (const char *path, const char *lowers);
/* Parses "UID:GID:COUNT". */
int pool_mapped_parse (const char *mapped, unsigned *uid, unsigned *gid, unsigned *count);

#endif
