/* pool: storage pools, where system containers keep their root filesystems (a directory,
   a btrfs subvolume, an LVM thin volume or an overlay upper); their volumes are
   pool_volume.h's, what lives in them pool_usage.h's. */
#ifndef CTR_POOL_H
#define CTR_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include "base/error.h"

#define POOL_DEFAULT "default"
#define POOL_LVM_DEFAULT_SIZE "4G"

enum pool_type
{
  POOL_DIR,
  POOL_BTRFS,
  POOL_LVM,
  POOL_OVERLAY,
};

struct pool
{
  char *name;
  enum pool_type type;
  char *path;     /* dir, btrfs, overlay: an absolute directory (the store for "default") */
  char *vg;       /* lvm */
  char *thinpool; /* lvm */
  char *created;
};

const char *pool_type_name (enum pool_type t);
int pool_type_parse (const char *s, enum pool_type *out);
void pool_clear (struct pool *p);

/* `ctr pool create`: checked (the tools, the path's filesystem, the VG and its thin pool)
   and written to <store>/.pools/NAME.json. */
int pool_create (const char *store, const struct pool *p, ctr_error_t *err);
/* "default" is the store itself, type dir. */
int pool_load (const char *store, const char *name, struct pool *p, ctr_error_t *err);
/* Every pool, "default" first. */
int pool_list (const char *store, struct pool **out, size_t *n, ctr_error_t *err);
void pool_list_free (struct pool *p, size_t n);

/* Runs a tool (fixed PATH, LC_ALL=C, LVM_SYSTEM_DIR passed on) with stdin and stdout on
   /dev/null (out != NULL: stdout captured); its first line of stderr becomes the error.
   keep_fd (a locked fd, or -1) is passed to the tool, so that the lock lasts as long as it
   does: a tool that makes a volume outlives a killed ctr until its call ends (SIGKILL waits
   for the ioctl), and the next verb's sweep, under that lock, must come after it. */
int pool_run_tool (const char *const *argv, char **out, int keep_fd, ctr_error_t *err);

/* `cp -a --reflink=auto -- from to` (Debian's coreutils: ownership, modes, xattrs, hard
   links, shared extents where the filesystem can); keep_fd (a locked fd, or -1) lives as
   long as cp, which dies with ctr. Its first line of complaint becomes the error. */
int pool_copy_tree (const char *from, const char *to, int keep_fd, ctr_error_t *err);
/* The space a tree's files take (st_blocks; shared extents counted in full). */
uint64_t pool_tree_size (const char *path);

#endif
