/* pool-internal: the pool definitions' directory, shared by pool.c and pool_usage.c. */
#ifndef CTR_POOL_INTERNAL_H
#define CTR_POOL_INTERNAL_H

#include <stdbool.h>
#include "base/error.h"

#define POOLS_DIR ".pools"

/* <store>/.pools (create: made when missing); -1 with errno ENOENT and no error when it
   is missing and not create. */
int pool_dir_open (const char *store, bool create, ctr_error_t *err);

#endif
