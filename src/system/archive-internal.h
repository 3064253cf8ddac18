/* archive-internal: what archive.c (export, running tar) shares with archive_import.c. */
#ifndef CTR_SYSTEM_ARCHIVE_INTERNAL_H
#define CTR_SYSTEM_ARCHIVE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "base/error.h"
#include "runtime/container.h"

enum archive_compression
{
  ARCHIVE_PLAIN,
  ARCHIVE_GZIP,
  ARCHIVE_XZ,
  ARCHIVE_ZSTD,
};

/* What the listing of an archive to import found (archive_import.c). */
struct archive_layout
{
  char *top; /* the name the container was exported as */
  bool config, meta, rootfs, template_conf, snapshots;
  char **names; /* every member (and hard link target) to check against symlinks */
  size_t n_names;
  char **links; /* symlink members, sorted */
  size_t n_links;
};

/* Checks one line of `tar -tv --numeric-owner --quoting-style=c` (file names the archive
   in errors): the name, its place in the layout, its type, a hard link's target. */
int archive_layout_line (const char *file, struct archive_layout *l, const char *line,
                         ctr_error_t *err);
/* After the last line: the pieces a container needs, and no member beneath a symlink. */
int archive_layout_finish (const char *file, struct archive_layout *l, ctr_error_t *err);
void archive_layout_clear (struct archive_layout *l);

/* tar's option for c (NULL: none). */
const char *archive_compress_option (enum archive_compression c);
/* By FILE's suffix; an unknown one is an error naming the file. */
int archive_compression_of_name (const char *file, enum archive_compression *c, ctr_error_t *err);
/* dataio_run_tar in two steps: the child's pid (its stderr kept in *errfd), then its end. */
pid_t dataio_spawn_tar (char *const *argv, int in_fd, int out_fd, int keep_fd, int *errfd,
                        ctr_error_t *err);
int dataio_wait_tar (pid_t pid, int errfd, ctr_error_t *err);

#endif
