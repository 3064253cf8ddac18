/* oci/parse: path-tracking typed readers shared by the config.json parsers (oci/ only). */
#ifndef CTR_OCI_PARSE_H
#define CTR_OCI_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/oci.h"
#include "base/json-internal.h"

/* config.json is at most ~8 levels deep where it matters; deeper keys are still parsed,
   only the error path stops growing. */
#define OCI_PATH_MAX_DEPTH 24

enum oci_frame_kind
{
  OCI_FRAME_KEY,   /* .key */
  OCI_FRAME_INDEX, /* [i] */
  OCI_FRAME_MAP,   /* ["key"] for user-chosen keys (annotations, sysctl ...) */
};

struct oci_frame
{
  enum oci_frame_kind kind;
  const char *key;
  size_t index;
};

struct oci_pctx
{
  const char *origin;
  ctr_error_t *err;
  size_t depth;
  struct oci_frame frames[OCI_PATH_MAX_DEPTH];
};

/* The start of reading a whole document named origin: refuses one over
   OCI_CONFIG_MAX_SIZE, readies c and returns the JSON tree (NULL after filling err). */
struct json_value *oci_parse_begin (struct oci_pctx *c, const char *data, size_t len,
                                    const char *origin, ctr_error_t *err);
void oci_push_key (struct oci_pctx *c, const char *key);
void oci_push_index (struct oci_pctx *c, size_t index);
void oci_push_map (struct oci_pctx *c, const char *key);
void oci_pop (struct oci_pctx *c);

/* "<origin>: <path>: <message>"; returns -1. */
int oci_perr (struct oci_pctx *c, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Same, for the key `key` below the current path. */
int oci_perr_key (struct oci_pctx *c, const char *key, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Same, for an entry of the array or object `key` below the current path: its member
   `name`, or its element `index` when name is NULL. */
int oci_perr_entry (struct oci_pctx *c, const char *key, const char *name, size_t index,
                    const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

/* Readers of one member of obj. Absent and null members leave *out untouched and set *has
   to false; when has is NULL the member is required. Wrong types and out-of-range values
   are errors naming the member's path. */
int oci_get_string (struct oci_pctx *c, const struct json_value *obj, const char *key, char **out,
                    bool *has);
int oci_get_bool (struct oci_pctx *c, const struct json_value *obj, const char *key, bool *out,
                  bool *has);
int oci_get_u64 (struct oci_pctx *c, const struct json_value *obj, const char *key, uint64_t max,
                 uint64_t *out, bool *has);
int oci_get_i64 (struct oci_pctx *c, const struct json_value *obj, const char *key, int64_t min,
                 int64_t max, int64_t *out, bool *has);
int oci_get_u32 (struct oci_pctx *c, const struct json_value *obj, const char *key, uint32_t *out,
                 bool *has);
int oci_get_u16 (struct oci_pctx *c, const struct json_value *obj, const char *key, uint16_t *out,
                 bool *has);
int oci_get_int (struct oci_pctx *c, const struct json_value *obj, const char *key, int min,
                 int max, int *out, bool *has);
/* An object (or NULL when absent) / an array (or NULL when absent). */
int oci_get_object (struct oci_pctx *c, const struct json_value *obj, const char *key,
                    const struct json_value **out);
int oci_get_array (struct oci_pctx *c, const struct json_value *obj, const char *key,
                   const struct json_value **out);
/* Reads one element of an array into elem (zeroed); the current path names the element.
   index is elem's place, so elem - index is the array's start (for duplicate checks
   against the elements before it). */
typedef int (*oci_elem_parser) (struct oci_pctx *c, const struct json_value *v, void *elem,
                                size_t index);
/* An array member of obj into a new zeroed array of elem_size-byte elements, each read by
   parse. out is the address of the (NULL) pointer that receives the array; it and *len are
   set before the elements are read, so the owner's free function releases a partly read
   array. Absent: nothing changes. */
int oci_parse_array (struct oci_pctx *c, const struct json_value *obj, const char *key, void *out,
                     size_t elem_size, size_t *len, oci_elem_parser parse);
/* Reads an object (its type checked already) into out; the current path names it. */
typedef int (*oci_object_parser) (struct oci_pctx *c, const struct json_value *o, void *out);
/* An object member of obj, read by parse with the path at key. Absent: nothing happens. */
int oci_parse_object (struct oci_pctx *c, const struct json_value *obj, const char *key,
                      oci_object_parser parse, void *out);
/* Array of strings into a NULL-terminated vector (NULL when absent). */
int oci_get_strv (struct oci_pctx *c, const struct json_value *obj, const char *key, char ***out,
                  size_t *len);
/* Object of string values into key/value pairs. */
int oci_get_kv (struct oci_pctx *c, const struct json_value *obj, const char *key,
                struct oci_kv **out, size_t *len);
/* Array of {containerID, hostID, size} with size > 0. */
int oci_get_id_mappings (struct oci_pctx *c, const struct json_value *obj, const char *key,
                         struct oci_id_mapping **out, size_t *len);

/* Value-level readers (the current path names the value). */
int oci_val_u64 (struct oci_pctx *c, const struct json_value *v, uint64_t max, uint64_t *out);
int oci_val_i64 (struct oci_pctx *c, const struct json_value *v, int64_t min, int64_t max,
                 int64_t *out);
int oci_expect_object (struct oci_pctx *c, const struct json_value *v);

/* Checks on values. */
bool oci_path_is_absolute (const char *p);
/* True when a relative path climbs above its start with "..". */
bool oci_path_escapes (const char *p);
bool oci_str_in (const char *s, const char *const *list);

void oci_kv_free (struct oci_kv *kv, size_t n);

#endif
