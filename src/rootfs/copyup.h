/* copyup: fd-to-fd tree copy (tmpcopyup). */
#ifndef CTR_ROOTFS_COPYUP_H
#define CTR_ROOTFS_COPYUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"

/* Copies the directory tree of src_dir (an O_RDONLY dir fd) into dst_dir. */
int copy_tree (int src_dir, int dst_dir, int depth, ctr_error_t *err);

#endif
