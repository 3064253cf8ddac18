/* json-internal: the parsed JSON tree, for the parsers that walk it (oci/). */
#ifndef CTR_BASE_JSON_INTERNAL_H
#define CTR_BASE_JSON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/json.h"

enum json_type
{
  JSON_NULL,
  JSON_BOOL,
  JSON_NUMBER,
  JSON_STRING,
  JSON_OBJECT,
  JSON_ARRAY,
};

/* Every node and string of one document lives in one arena, freed at once. */
struct json_value
{
  enum json_type type;
  bool b;
  size_t len;               /* string bytes, or number of children */
  const char *str;          /* string (NUL-terminated) or the number's text */
  struct json_value *items; /* children of an object or array */
  const char **keys;        /* member names of an object */
};

/* Parses a number node as an integer. Returns 0, -1 when the text is not an integer
   (fraction or exponent), -2 when it does not fit. */
int json_number_i64 (const struct json_value *v, int64_t *out);
int json_number_u64 (const struct json_value *v, uint64_t *out);

/* The member named key, or NULL (json_parse refuses objects with a key twice). JSON null
   counts as absent. */
const struct json_value *json_member (const struct json_value *obj, const char *key);

const char *json_type_name (const struct json_value *v);

#endif
