/* config_keys_limits: the cgroup-limit keys of `ctr config` and `ctr update`'s
   persistence into a stored config.json. */
#ifndef CTR_SYSTEM_CONFIG_KEYS_LIMITS_H
#define CTR_SYSTEM_CONFIG_KEYS_LIMITS_H

#include "runtime/container.h"
#include "system/config_values.h"

char *get_blkio_weight (struct key_ctx *k);
char *get_cpus (struct key_ctx *k);
char *get_cpuset_cpus (struct key_ctx *k);
char *get_cpuset_mems (struct key_ctx *k);
char *get_memory (struct key_ctx *k);
char *get_pids (struct key_ctx *k);
char *get_shares (struct key_ctx *k);
char *get_swap (struct key_ctx *k);
char *get_weight (struct key_ctx *k);
int set_blkio_weight (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_cpus (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_cpuset_cpus (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_cpuset_mems (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_memory (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_pids (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_shares (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_swap (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_weight (struct key_ctx *k, const char *value, ctr_error_t *err);

/* `ctr update` flags (already applied to the running container, or checked) written into
   linux.resources of config. */
int config_keys_persist_update (json_node *config, const struct container_update_options *o,
                                ctr_error_t *err);

#endif
