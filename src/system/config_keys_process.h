/* config_keys_process: the `ctr config` keys of the process and its view of the host
   (rlimit.NAME, env.NAME, hostname, mounts, devices, capabilities, seccomp, nesting). */
#ifndef CTR_SYSTEM_CONFIG_KEYS_PROCESS_H
#define CTR_SYSTEM_CONFIG_KEYS_PROCESS_H

#include "system/config_values.h"

char *get_caps (struct key_ctx *k);
char *get_devices (struct key_ctx *k);
char *get_env (struct key_ctx *k);
char *get_hostname (struct key_ctx *k);
char *get_mounts (struct key_ctx *k);
char *get_nesting (struct key_ctx *k);
char *get_rlimit (struct key_ctx *k);
char *get_seccomp (struct key_ctx *k);
int set_cap_add (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_cap_drop (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_device_add (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_device_rm (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_env (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_env_unset (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_hostname (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_mount_add (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_mount_rm (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_nesting (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_rlimit (struct key_ctx *k, const char *value, ctr_error_t *err);
int set_seccomp (struct key_ctx *k, const char *value, ctr_error_t *err);
/* A capability added to (or dropped from) the bounding, effective and permitted sets
   (dropped: from every set) of process.capabilities. */
void config_caps_add (json_node *config, const char *cap);
void config_caps_drop (json_node *config, const char *cap);
/* linux.seccomp: the default profile for the bounding set the config has now. */
void config_seccomp_default (json_node *config);
/* "SOFT:HARD" of a process.rlimits entry. */
char *rlimit_text (const json_node *e);

#endif
