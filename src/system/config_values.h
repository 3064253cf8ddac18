/* config_values: what the `ctr config` key handlers share: the context a handler gets
   and the parsing and printing of values (sizes, ranges, lists). */
#ifndef CTR_SYSTEM_CONFIG_VALUES_H
#define CTR_SYSTEM_CONFIG_VALUES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/json_edit.h"
#include "system/store.h"

#define RES "linux.resources"

struct key_ctx
{
  json_node *config;
  struct store_meta *meta;
  const char *key;  /* as given: "rlimit.NOFILE" */
  const char *name; /* after the prefix of a prefix key: "NOFILE" */
};

typedef char *(*key_get_fn) (struct key_ctx *k);
typedef int (*key_set_fn) (struct key_ctx *k, const char *value, ctr_error_t *err);

/* "", max, none, -1: no limit. */
bool is_none (const char *v);
/* "512M", "1G", "1048576": bytes (binary suffixes K, M, G, T, with an optional B/iB). */
int parse_bytes (const char *s, int64_t *out);
char *format_bytes (int64_t v);
int parse_range (const char *s, int64_t lo, int64_t hi, int64_t *out);
char *int_text (const json_node *n, const char *none);
/* The string members of an array joined with commas. */
char *join_strings (const json_node *arr);
ssize_t string_index (const json_node *arr, const char *s);
#endif
