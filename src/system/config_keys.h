/* config_keys: the `ctr config NAME get|set` keys that change a system container's stored
   config.json (memory, cpus, env.NAME, mount.add, cap.drop, nesting, ...) or the autostart
   settings of its ctr.json, and `ctr update`'s persistence of new limits. */
#ifndef CTR_SYSTEM_CONFIG_KEYS_H
#define CTR_SYSTEM_CONFIG_KEYS_H

#include <stdbool.h>

#include "base/error.h"
#include "base/json_edit.h"
#include "system/store.h"

/* True when key is one of this table's (with its NAME part for rlimit.NAME and env.NAME). */
bool config_key_known (const char *key);
/* Whether a set of key changes config.json (else only ctr.json). */
bool config_key_in_config (const char *key);
int config_key_get (json_node *config, const struct store_meta *m, const char *key, char **out,
                    ctr_error_t *err);
/* Checks value and applies it to config (or m); nothing changes on error. */
int config_key_set (json_node *config, struct store_meta *m, const char *key, const char *value,
                    ctr_error_t *err);
/* Every key of the table with its value, "key = value" lines. */
char *config_keys_list (json_node *config, const struct store_meta *m);
/* The names for an error: "memory, swap, ..." (not the read-only mounts, devices, caps). */
const char *config_keys_names (void);

#endif
