/* context: what the rootfs files learn once and keep in struct rootfs_ctx. */
#ifndef CTR_ROOTFS_CONTEXT_H
#define CTR_ROOTFS_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"
#include "rootfs/mountinfo.h"
#include "rootfs/rootfs.h"

/* After pivot, /proc/self/fd paths go through the container's /proc: make sure it is a
   procfs (ctr mounted it) before relying on it. */
int rootfs_check_proc (struct rootfs_ctx *ctx, ctr_error_t *err);
/* The host path of the rootfs, canonical (from /proc/self/fd; NULL after pivot or on
   failure, errno set). */
const char *rootfs_root_path (struct rootfs_ctx *ctx);
/* The mount table as read the first time it was needed (cached in ctx). */
int rootfs_mountinfo (struct rootfs_ctx *ctx, const struct mountinfo **mi, size_t *len,
                      ctr_error_t *err);

#endif
