/* oci/parse: typed readers over the JSON tree that report errors with the JSON path. */
#include <config.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/parse.h"
#include "base/util.h"

struct json_value *
oci_parse_begin (struct oci_pctx *c, const char *data, size_t len, const char *origin,
                 ctr_error_t *err)
{
  c->origin = origin;
  c->err = err;
  c->depth = 0;
  if (len > OCI_CONFIG_MAX_SIZE)
    {
      ctr_error (err, EFBIG, "%s: larger than %d bytes", origin, OCI_CONFIG_MAX_SIZE);
      return NULL;
    }
  return json_parse (data, len, origin, err);
}

static void
push (struct oci_pctx *c, enum oci_frame_kind kind, const char *key, size_t index)
{
  if (c->depth < OCI_PATH_MAX_DEPTH)
    {
      c->frames[c->depth].kind = kind;
      c->frames[c->depth].key = key;
      c->frames[c->depth].index = index;
    }
  c->depth++;
}

void
oci_push_key (struct oci_pctx *c, const char *key)
{
  push (c, OCI_FRAME_KEY, key, 0);
}

void
oci_push_index (struct oci_pctx *c, size_t index)
{
  push (c, OCI_FRAME_INDEX, NULL, index);
}

void
oci_push_map (struct oci_pctx *c, const char *key)
{
  push (c, OCI_FRAME_MAP, key, 0);
}

void
oci_pop (struct oci_pctx *c)
{
  if (c->depth > 0)
    c->depth--;
}

static void
format_path (const struct oci_pctx *c, const char *extra_key, FILE *f)
{
  size_t i, n = c->depth < OCI_PATH_MAX_DEPTH ? c->depth : OCI_PATH_MAX_DEPTH;
  bool first = true;

  for (i = 0; i < n; i++)
    {
      const struct oci_frame *fr = &c->frames[i];
      switch (fr->kind)
        {
        case OCI_FRAME_KEY:
          fprintf (f, "%s%s", first ? "" : ".", fr->key);
          break;
        case OCI_FRAME_INDEX:
          fprintf (f, "[%zu]", fr->index);
          break;
        case OCI_FRAME_MAP:
          fprintf (f, "[\"%s\"]", fr->key);
          break;
        }
      first = false;
    }
  if (c->depth > n)
    fputs ("...", f);
  if (extra_key)
    fprintf (f, "%s%s", first ? "" : ".", extra_key);
}

/* Messages are one line even when a value or key carries control characters. */
static void
make_printable (char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      *s = '?';
}

static int
vperr (struct oci_pctx *c, const char *extra_key, const char *fmt, va_list ap)
{
  char *path = NULL, *msg = NULL;
  size_t path_len = 0;
  FILE *f;
  int ret;

  f = open_memstream (&path, &path_len);
  if (f == NULL)
    abort ();
  format_path (c, extra_key, f);
  fclose (f);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  make_printable (msg);
  make_printable (path);
  if (path_len)
    ret = ctr_error (c->err, 0, "%s: %s: %s", c->origin, path, msg);
  else
    ret = ctr_error (c->err, 0, "%s: %s", c->origin, msg);
  free (path);
  free (msg);
  return ret;
}

int
oci_perr (struct oci_pctx *c, const char *fmt, ...)
{
  va_list ap;
  int ret;
  va_start (ap, fmt);
  ret = vperr (c, NULL, fmt, ap);
  va_end (ap);
  return ret;
}

int
oci_perr_key (struct oci_pctx *c, const char *key, const char *fmt, ...)
{
  va_list ap;
  int ret;
  va_start (ap, fmt);
  ret = vperr (c, key, fmt, ap);
  va_end (ap);
  return ret;
}

int
oci_perr_entry (struct oci_pctx *c, const char *key, const char *name, size_t index,
                const char *fmt, ...)
{
  va_list ap;
  int ret;
  oci_push_key (c, key);
  if (name)
    oci_push_map (c, name);
  else
    oci_push_index (c, index);
  va_start (ap, fmt);
  ret = vperr (c, NULL, fmt, ap);
  va_end (ap);
  oci_pop (c);
  oci_pop (c);
  return ret;
}

/* Looks up a member; reports a missing required one. Returns 1 found, 0 absent, -1 error. */
static int
lookup (struct oci_pctx *c, const struct json_value *obj, const char *key, bool *has,
        const struct json_value **out)
{
  *out = json_member (obj, key);
  if (has)
    *has = *out != NULL;
  if (*out)
    return 1;
  if (has == NULL)
    return oci_perr_key (c, key, "required but missing");
  return 0;
}

/* A member of one JSON type: 1 found, 0 absent (*out NULL), -1 error (a missing required
   member or another type). */
static int
get_typed (struct oci_pctx *c, const struct json_value *obj, const char *key, bool *has,
           enum json_type type, const char *what, const struct json_value **out)
{
  int r = lookup (c, obj, key, has, out);
  if (r <= 0)
    return r;
  if ((*out)->type != type)
    return oci_perr_key (c, key, "expected %s, got %s", what, json_type_name (*out));
  return 1;
}

int
oci_get_string (struct oci_pctx *c, const struct json_value *obj, const char *key, char **out,
                bool *has)
{
  const struct json_value *v;
  int r = get_typed (c, obj, key, has, JSON_STRING, "a string", &v);
  if (r <= 0)
    return r;
  free (*out);
  *out = xstrdup (v->str);
  return 0;
}

int
oci_get_bool (struct oci_pctx *c, const struct json_value *obj, const char *key, bool *out,
              bool *has)
{
  const struct json_value *v;
  int r = get_typed (c, obj, key, has, JSON_BOOL, "a boolean", &v);
  if (r <= 0)
    return r;
  *out = v->b;
  return 0;
}

int
oci_val_u64 (struct oci_pctx *c, const struct json_value *v, uint64_t max, uint64_t *out)
{
  uint64_t n;
  int r;
  if (v == NULL || v->type != JSON_NUMBER)
    return oci_perr (c, "expected a number, got %s", json_type_name (v));
  r = json_number_u64 (v, &n);
  if (r == -1)
    return oci_perr (c, "expected an integer, got %s", v->str);
  if (r == -2 || n > max)
    return oci_perr (c, "value %s out of range (0 to %" PRIu64 ")", v->str, max);
  *out = n;
  return 0;
}

int
oci_val_i64 (struct oci_pctx *c, const struct json_value *v, int64_t min, int64_t max, int64_t *out)
{
  int64_t n;
  int r;
  if (v == NULL || v->type != JSON_NUMBER)
    return oci_perr (c, "expected a number, got %s", json_type_name (v));
  r = json_number_i64 (v, &n);
  if (r == -1)
    return oci_perr (c, "expected an integer, got %s", v->str);
  if (r == -2 || n < min || n > max)
    return oci_perr (c, "value %s out of range (%" PRId64 " to %" PRId64 ")", v->str, min, max);
  *out = n;
  return 0;
}

int
oci_get_u64 (struct oci_pctx *c, const struct json_value *obj, const char *key, uint64_t max,
             uint64_t *out, bool *has)
{
  const struct json_value *v;
  int r = lookup (c, obj, key, has, &v);
  if (r <= 0)
    return r;
  oci_push_key (c, key);
  r = oci_val_u64 (c, v, max, out);
  oci_pop (c);
  return r;
}

int
oci_get_i64 (struct oci_pctx *c, const struct json_value *obj, const char *key, int64_t min,
             int64_t max, int64_t *out, bool *has)
{
  const struct json_value *v;
  int r = lookup (c, obj, key, has, &v);
  if (r <= 0)
    return r;
  oci_push_key (c, key);
  r = oci_val_i64 (c, v, min, max, out);
  oci_pop (c);
  return r;
}

/* Narrow readers: *out is written only when the member is present (oci_get_u64 and
   oci_get_i64 set *has, or fail on a missing member when has is NULL). */
int
oci_get_u32 (struct oci_pctx *c, const struct json_value *obj, const char *key, uint32_t *out,
             bool *has)
{
  uint64_t v;
  if (oci_get_u64 (c, obj, key, UINT32_MAX, &v, has) < 0)
    return -1;
  if (has == NULL || *has)
    *out = (uint32_t)v;
  return 0;
}

int
oci_get_u16 (struct oci_pctx *c, const struct json_value *obj, const char *key, uint16_t *out,
             bool *has)
{
  uint64_t v;
  if (oci_get_u64 (c, obj, key, UINT16_MAX, &v, has) < 0)
    return -1;
  if (has == NULL || *has)
    *out = (uint16_t)v;
  return 0;
}

int
oci_get_int (struct oci_pctx *c, const struct json_value *obj, const char *key, int min, int max,
             int *out, bool *has)
{
  int64_t v;
  if (oci_get_i64 (c, obj, key, min, max, &v, has) < 0)
    return -1;
  if (has == NULL || *has)
    *out = (int)v;
  return 0;
}

int
oci_expect_object (struct oci_pctx *c, const struct json_value *v)
{
  if (v == NULL || v->type != JSON_OBJECT)
    return oci_perr (c, "expected an object, got %s", json_type_name (v));
  return 0;
}

int
oci_get_object (struct oci_pctx *c, const struct json_value *obj, const char *key,
                const struct json_value **out)
{
  return get_typed (c, obj, key, &(bool){ 0 }, JSON_OBJECT, "an object", out) < 0 ? -1 : 0;
}

int
oci_get_array (struct oci_pctx *c, const struct json_value *obj, const char *key,
               const struct json_value **out)
{
  return get_typed (c, obj, key, &(bool){ 0 }, JSON_ARRAY, "an array", out) < 0 ? -1 : 0;
}

int
oci_get_strv (struct oci_pctx *c, const struct json_value *obj, const char *key, char ***out,
              size_t *len)
{
  const struct json_value *a;
  char **v;
  size_t i;

  if (oci_get_array (c, obj, key, &a) < 0)
    return -1;
  if (a == NULL)
    return 0;
  for (i = 0; i < a->len; i++)
    if (a->items[i].type != JSON_STRING)
      return oci_perr_entry (c, key, NULL, i, "expected a string, got %s",
                             json_type_name (&a->items[i]));
  v = xmalloc ((a->len + 1) * sizeof (*v));
  for (i = 0; i < a->len; i++)
    v[i] = xstrdup (a->items[i].str);
  v[a->len] = NULL;
  strv_free (*out);
  *out = v;
  *len = a->len;
  return 0;
}

void
oci_kv_free (struct oci_kv *kv, size_t n)
{
  size_t i;
  if (kv == NULL)
    return;
  for (i = 0; i < n; i++)
    {
      free (kv[i].key);
      free (kv[i].value);
    }
  free (kv);
}

int
oci_get_kv (struct oci_pctx *c, const struct json_value *obj, const char *key, struct oci_kv **out,
            size_t *len)
{
  const struct json_value *o;
  struct oci_kv *kv;
  size_t i;

  if (oci_get_object (c, obj, key, &o) < 0)
    return -1;
  if (o == NULL)
    return 0;
  for (i = 0; i < o->len; i++)
    if (o->items[i].type != JSON_STRING)
      return oci_perr_entry (c, key, o->keys[i], 0, "expected a string, got %s",
                             json_type_name (&o->items[i]));
  kv = xzalloc ((o->len ? o->len : 1) * sizeof (*kv));
  for (i = 0; i < o->len; i++)
    {
      kv[i].key = xstrdup (o->keys[i]);
      kv[i].value = xstrdup (o->items[i].str);
    }
  oci_kv_free (*out, *len);
  *out = kv;
  *len = o->len;
  return 0;
}

static int
parse_id_mapping (struct oci_pctx *c, const struct json_value *v, void *elem, size_t index)
{
  struct oci_id_mapping *m = elem;
  if (oci_expect_object (c, v) < 0)
    return -1;
  if (oci_get_u32 (c, v, "containerID", &m->container_id, NULL) < 0
      || oci_get_u32 (c, v, "hostID", &m->host_id, NULL) < 0
      || oci_get_u32 (c, v, "size", &m->size, NULL) < 0)
    return -1;
  if (m->size == 0)
    return oci_perr_key (c, "size", "must be greater than 0");
  if ((uint64_t)m->container_id + m->size - 1 > UINT32_MAX
      || (uint64_t)m->host_id + m->size - 1 > UINT32_MAX)
    return oci_perr_key (c, "size", "range of %" PRIu32 " ids overflows 32 bits", m->size);
  return 0;
}

int
oci_get_id_mappings (struct oci_pctx *c, const struct json_value *obj, const char *key,
                     struct oci_id_mapping **out, size_t *len)
{
  return oci_parse_array (c, obj, key, out, sizeof (**out), len, parse_id_mapping);
}

int
oci_parse_array (struct oci_pctx *c, const struct json_value *obj, const char *key, void *out,
                 size_t elem_size, size_t *len, oci_elem_parser parse)
{
  const struct json_value *a;
  char *array;
  size_t i;
  int r = 0;

  if (oci_get_array (c, obj, key, &a) < 0)
    return -1;
  if (a == NULL)
    return 0;
  array = xzalloc ((a->len ? a->len : 1) * elem_size);
  /* memcpy: out points at a pointer of the element's type, not at a void * */
  memcpy (out, &array, sizeof (array));
  *len = a->len;
  oci_push_key (c, key);
  for (i = 0; i < a->len && r == 0; i++)
    {
      oci_push_index (c, i);
      r = parse (c, &a->items[i], array + i * elem_size, i);
      oci_pop (c);
    }
  oci_pop (c);
  return r;
}

int
oci_parse_object (struct oci_pctx *c, const struct json_value *obj, const char *key,
                  oci_object_parser parse, void *out)
{
  const struct json_value *o;
  int r;

  if (oci_get_object (c, obj, key, &o) < 0)
    return -1;
  if (o == NULL)
    return 0;
  oci_push_key (c, key);
  r = parse (c, o, out);
  oci_pop (c);
  return r;
}

bool
oci_path_is_absolute (const char *p)
{
  return p && p[0] == '/';
}

bool
oci_path_escapes (const char *p)
{
  long depth = 0;
  while (*p)
    {
      const char *end = strchrnul (p, '/');
      size_t n = end - p;
      if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          if (--depth < 0)
            return true;
        }
      else if (n > 0 && !(n == 1 && p[0] == '.'))
        depth++;
      p = *end ? end + 1 : end;
    }
  return false;
}

bool
oci_str_in (const char *s, const char *const *list)
{
  for (; *list; list++)
    if (strcmp (s, *list) == 0)
      return true;
  return false;
}
