/* dev: the container's /dev. */
#ifndef CTR_ROOTFS_DEV_H
#define CTR_ROOTFS_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"
#include "rootfs/rootfs.h"

/* Default devices, linux.devices, /dev symlinks, ptmx, console placeholder. */
int rootfs_setup_dev (struct rootfs_ctx *ctx, ctr_error_t *err);

#endif
