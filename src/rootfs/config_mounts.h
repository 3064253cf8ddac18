/* config_mounts: the config's mounts[]. */
#ifndef CTR_ROOTFS_CONFIG_MOUNTS_H
#define CTR_ROOTFS_CONFIG_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"
#include "rootfs/rootfs.h"

/* Mounts every config mount; fills *dev_bound when /dev is a bind mount. */
int rootfs_mount_config (struct rootfs_ctx *ctx, bool *dev_bound, ctr_error_t *err);

#endif
