/* dataio: moving a system container's data in and out: `ctr export` and `ctr import` (tar
   archives made and read by Debian's tar), and `ctr cp` (files copied between the host and
   a container's root, resolved inside that root). */
#ifndef CTR_SYSTEM_DATAIO_H
#define CTR_SYSTEM_DATAIO_H

#include <stdbool.h>
#include <sys/types.h>
#include "base/error.h"
#include "runtime/container.h"

/* `ctr export NAME FILE`: the stopped container as NAME/{config.json,ctr.json,
   template.conf,rootfs/,[snapshots/]} in a tar archive, compressed by FILE's suffix (.tar,
   .tar.gz/.tgz, .tar.xz/.txz, .tar.zst/.tzst); FILE "-": a plain tar on stdout. */
int system_export (const struct ctr_context *ctx, const char *name, const char *file,
                   bool snapshots, ctr_error_t *err);
/* `ctr import FILE [NAME]`: the archive checked, then unpacked into a new container NAME
   (NULL: the name it was exported as) in pool (NULL: the default), with an address of its
   own. *made (may be NULL) gets the name. */
int system_import (const struct ctr_context *ctx, const char *file, const char *name,
                   const char *pool, char **made, ctr_error_t *err);

/* `ctr cp`: one side is "NAME:/path" inside a system container, the other a host path. */
struct system_cp_options
{
  bool archive;     /* -a: owners kept (as ids inside the container) */
  bool follow_link; /* -L: a host source that is a symlink is copied as what it names */
};
int system_cp (const struct ctr_context *ctx, const char *src, const char *dst,
               const struct system_cp_options *o, ctr_error_t *err);

/* tar(1) with a fixed argv and environment: stdin and stdout on in_fd and out_fd (-1:
   /dev/null), keep_fd (or -1) inherited so that a lock lasts as long as tar does, a
   parent-death signal. Its first line of complaint becomes the error. */
int dataio_run_tar (char *const *argv, int in_fd, int out_fd, int keep_fd, ctr_error_t *err);

#endif
