/* json: a small JSON reader and writer for all of ctr (json.c is the one file that includes
   yajl). */
#ifndef CTR_BASE_JSON_H
#define CTR_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Maximum nesting the reader accepts (config.json, state files, ...). */
#define JSON_MAX_DEPTH 64

/* ---- writer ---- */
typedef struct json_writer json_writer;
json_writer *json_writer_new (bool pretty);
void json_map_open (json_writer *w);
void json_map_close (json_writer *w);
void json_array_open (json_writer *w);
void json_array_close (json_writer *w);
void json_key (json_writer *w, const char *key);
void json_string (json_writer *w, const char *s); /* NULL writes null */
void json_int (json_writer *w, int64_t v);
void json_uint (json_writer *w, uint64_t v);
void json_bool (json_writer *w, bool v);
void json_null (json_writer *w);
/* Inserts already-serialized JSON text as a value. */
void json_raw (json_writer *w, const char *text, size_t len);
/* Convenience: key + value. */
void json_kv_string (json_writer *w, const char *key, const char *s);
void json_kv_int (json_writer *w, const char *key, int64_t v);
void json_kv_bool (json_writer *w, const char *key, bool v);
/* key + an array of the strings of a NULL-terminated list (NULL: an empty array). */
void json_kv_strv (json_writer *w, const char *key, char *const *v);
/* Returns the malloc'd, NUL-terminated document (with a trailing newline when pretty)
   and frees the writer. */
char *json_writer_finish (json_writer *w, size_t *len);

/* ---- reader ---- */
typedef struct json_value json_value;
/* Parses text (nesting limited to JSON_MAX_DEPTH). origin names the source in errors. */
json_value *json_parse (const char *text, size_t len, const char *origin, ctr_error_t *err);
void json_value_free (json_value *v);
/* Child of an object by key; NULL when absent or v is not an object. */
const json_value *json_get (const json_value *v, const char *key);
/* Typed accessors; return false when the value has another type. */
bool json_as_string (const json_value *v, const char **out);
bool json_as_int64 (const json_value *v, int64_t *out);
bool json_as_bool (const json_value *v, bool *out);
bool json_is_object (const json_value *v);
bool json_is_array (const json_value *v);
size_t json_len (const json_value *v);                     /* array elements or object members */
const json_value *json_at (const json_value *v, size_t i); /* array element */
const char *json_key_at (const json_value *v, size_t i);   /* object member name */
const json_value *json_value_at (const json_value *v, size_t i); /* object member value */
/* Serializes a value (e.g. annotations) back to text. */
char *json_value_to_string (const json_value *v, size_t *len);

#endif
