/* pool-internal: the pool definitions' directory, shared by pool.c and pool_usage.c. */
#ifndef CTR_POOL_INTERNAL_H
#define CTR_POOL_INTERNAL_H

#include <stdbool.h>
#include "base/error.h"

#define POOLS_DIR ".pools"

/* <store>/.pools (create: made when missing); -1 with errno ENOENT and no error when it
   is missing and not create. */
int pool_dir_open (const char *store, bool create, ctr_error_t *err);
/* `.pools` opened, locked (LOCK_EX) and swept of the `NAME.json.tmp` files that killed
   writers left; -1 with errno ENOENT and no error where there is none (create: false) */
int pool_dir_lock (const char *store, bool create, ctr_error_t *err);

#endif
