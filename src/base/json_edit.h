/* json_edit: a JSON document that can be changed in place (yajl's tree), for the few
   writers that edit a stored config.json key by key instead of generating it whole. */
#ifndef CTR_BASE_JSON_EDIT_H
#define CTR_BASE_JSON_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct yajl_val_s;
typedef struct yajl_val_s json_node;

/* text must be NUL-terminated; origin names it in errors. */
json_node *jnode_parse (const char *text, const char *origin, ctr_error_t *err);
/* The JSON file name of dirfd (at most max bytes) parsed (NULL: err says why). */
json_node *jnode_read_at (int dirfd, const char *name, size_t max, ctr_error_t *err);
void jnode_free (json_node *n);
/* Pretty-printed, as ctr writes config.json. */
char *jnode_to_string (const json_node *n, size_t *len);

json_node *jnode_new_string (const char *s);
json_node *jnode_new_int (int64_t v);
json_node *jnode_new_uint (uint64_t v);
json_node *jnode_new_bool (bool v);
json_node *jnode_new_object (void);
json_node *jnode_new_array (void);

bool jnode_is_object (const json_node *n);
bool jnode_is_array (const json_node *n);
/* NULL when n is not a string. */
const char *jnode_string (const json_node *n);
bool jnode_int (const json_node *n, int64_t *out);
/* Integers up to UINT64_MAX (rlimits); false for negative ones. */
bool jnode_uint (const json_node *n, uint64_t *out);
bool jnode_bool (const json_node *n, bool *out);

/* Member of an object (NULL when absent or obj is no object). */
json_node *jnode_get (const json_node *obj, const char *key);
/* The object at a dotted path below root ("linux.resources.memory"); with create, missing
   (or non-object) members on the way are made objects. */
json_node *jnode_path (json_node *root, const char *path, bool create);
/* The array member key of obj, made (or replaced when not an array) with create. */
json_node *jnode_array_member (json_node *obj, const char *key, bool create);
/* Sets (replacing) or removes a member; set takes ownership of val. */
void jnode_set (json_node *obj, const char *key, json_node *val);
void jnode_remove (json_node *obj, const char *key);
/* Removes a member and hands it to the caller (NULL when absent). */
json_node *jnode_take (json_node *obj, const char *key);
const char *jnode_key_at (const json_node *obj, size_t i);
json_node *jnode_value_at (const json_node *obj, size_t i);
json_node *jnode_copy (const json_node *n);
/* Removes the objects along a dotted path from the deepest up while they are empty. */
void jnode_prune (json_node *root, const char *path);

size_t jnode_len (const json_node *n); /* array elements or object members */
json_node *jnode_at (const json_node *arr, size_t i);
void jnode_append (json_node *arr, json_node *val);
void jnode_array_remove (json_node *arr, size_t i);

#endif
