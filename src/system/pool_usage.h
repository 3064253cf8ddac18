/* pool_usage: what is in a storage pool, and `pool rm`. */
#ifndef CTR_POOL_USAGE_H
#define CTR_POOL_USAGE_H

#include <stdint.h>
#include "base/error.h"
#include "system/pool.h"

struct pool_usage
{
  uint64_t capacity, used; /* bytes; 0 when unknown */
  char **containers;       /* NULL-terminated */
};
int pool_usage_get (const char *store, const struct pool *p, struct pool_usage *u,
                    ctr_error_t *err);
void pool_usage_clear (struct pool_usage *u);
/* Refused while a container lives in it (named). */
int pool_remove (const char *store, const char *name, ctr_error_t *err);

#endif
