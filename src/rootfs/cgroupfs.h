/* cgroupfs: cgroup and cgroup2 mounts of the config. */
#ifndef CTR_ROOTFS_CGROUPFS_H
#define CTR_ROOTFS_CGROUPFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"
#include "rootfs/mountopts.h"
#include "rootfs/rootfs.h"

/* Mounts a `cgroup` or `cgroup2` config mount at dst_fd (path is its in-root path). */
int mount_cgroup (struct rootfs_ctx *ctx, const char *path, int dst_fd, bool v2_requested,
                  const struct mount_opts *o, ctr_error_t *err);

#endif
