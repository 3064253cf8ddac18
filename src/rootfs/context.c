/* context: the rootfs context's life, and what it learns once and keeps: the root's host
   path, the mount table, whether the container's /proc can be trusted. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "base/util.h"
#include "rootfs/context.h"
#include "rootfs/paths.h"

void
rootfs_ctx_init (struct rootfs_ctx *ctx, const struct oci_config *config, const char *rootfs)
{
  memset (ctx, 0, sizeof *ctx);
  ctx->config = config;
  ctx->rootfs = rootfs;
  ctx->rootfs_fd = -1;
  ctx->devnull_fd = -1;
  ctx->root_tree = -1;
}

void
rootfs_ctx_release (struct rootfs_ctx *ctx)
{
  if (ctx->rootfs_fd >= 0)
    close (ctx->rootfs_fd);
  if (ctx->devnull_fd >= 0)
    close (ctx->devnull_fd);
  ctx->rootfs_fd = ctx->devnull_fd = -1;
  free (ctx->root_path);
  ctx->root_path = NULL;
  mountinfo_free (ctx->mountinfo, ctx->mountinfo_len);
  ctx->mountinfo = NULL;
  ctx->mountinfo_len = 0;
}

const char *
rootfs_root_path (struct rootfs_ctx *ctx)
{
  if (ctx->root_path == NULL && !ctx->pivoted && ctx->rootfs_fd >= 0)
    ctx->root_path = fd_realpath (ctx->rootfs_fd);
  return ctx->root_path;
}

int
rootfs_mountinfo (struct rootfs_ctx *ctx, const struct mountinfo **mi, size_t *len,
                  ctr_error_t *err)
{
  if (ctx->mountinfo == NULL && mountinfo_read (&ctx->mountinfo, &ctx->mountinfo_len, err) < 0)
    return -1;
  *mi = ctx->mountinfo;
  *len = ctx->mountinfo_len;
  return 0;
}

int
rootfs_check_proc (struct rootfs_ctx *ctx, ctr_error_t *err)
{
  struct statfs sf;
  if (!ctx->pivoted || ctx->proc_checked)
    return 0;
  if (statfs ("/proc", &sf) < 0)
    return ctr_error (err, errno, "the container has no /proc mount");
  if (sf.f_type != PROC_SUPER_MAGIC)
    return ctr_error (err, EINVAL, "the container's /proc is not a procfs");
  ctx->proc_checked = true;
  return 0;
}
