/* move: a stopped container's rootfs into another pool (`ctr move`), and what a move
   killed halfway left. */
#ifndef CTR_MOVE_H
#define CTR_MOVE_H

#include "base/error.h"

/* The move of the container directory fd (locked; the caller checked that it is stopped)
   under the store root to pool: recorded, copied, swapped in, the old volume released. */
int move_run (int fd, const char *root, const char *name, const char *pool, ctr_error_t *err);
/* A move killed halfway (fd: the container's directory, locked): undone while it was
   copying, finished once the copy was whole. Nothing to do without one. */
int system_move_recover (int fd, const char *name, ctr_error_t *err);

#endif
