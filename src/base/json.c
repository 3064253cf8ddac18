/* json: JSON reader (yajl event parser into an arena tree) and writer (yajl_gen). */
#include <config.h>
#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "base/json-internal.h"
#include "base/memory.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_ (x)

/* ---- writer ---- */

struct json_writer
{
  yajl_gen g;
};

/* yajl_gen only fails on misuse (a value where a key belongs, unbalanced close, a second
   document); silently emitting broken JSON would be worse than stopping. */
static void
gen_check (yajl_gen_status s, const char *what)
{
  if (s == yajl_gen_status_ok)
    return;
  fprintf (stderr, "ctr: internal error: json writer: %s failed (status %d)\n", what, (int)s);
  abort ();
}

json_writer *
json_writer_new (bool pretty)
{
  json_writer *w = xzalloc (sizeof (*w));
  w->g = yajl_gen_alloc (NULL);
  if (w->g == NULL)
    {
      fprintf (stderr, "ctr: out of memory\n");
      abort ();
    }
  if (pretty)
    {
      yajl_gen_config (w->g, yajl_gen_beautify, 1);
      yajl_gen_config (w->g, yajl_gen_indent_string, "  ");
    }
  return w;
}

/* The writer calls without a value differ only in the yajl_gen function they wrap. */
#define JSON_WRITER_EVENT(name, gen_fn, what)                                                      \
  void name (json_writer *w)                                                                       \
  {                                                                                                \
    gen_check (gen_fn (w->g), what);                                                               \
  }

JSON_WRITER_EVENT (json_map_open, yajl_gen_map_open, "map open")
JSON_WRITER_EVENT (json_map_close, yajl_gen_map_close, "map close")
JSON_WRITER_EVENT (json_array_open, yajl_gen_array_open, "array open")
JSON_WRITER_EVENT (json_array_close, yajl_gen_array_close, "array close")
JSON_WRITER_EVENT (json_null, yajl_gen_null, "null")

void
json_key (json_writer *w, const char *key)
{
  gen_check (yajl_gen_string (w->g, (const unsigned char *)key, strlen (key)), "key");
}

void
json_string (json_writer *w, const char *s)
{
  if (s == NULL)
    json_null (w);
  else
    gen_check (yajl_gen_string (w->g, (const unsigned char *)s, strlen (s)), "string");
}

void
json_int (json_writer *w, int64_t v)
{
  gen_check (yajl_gen_integer (w->g, (long long)v), "integer");
}

void
json_uint (json_writer *w, uint64_t v)
{
  char buf[24];
  int n = snprintf (buf, sizeof buf, "%" PRIu64, v);
  gen_check (yajl_gen_number (w->g, buf, n), "unsigned integer");
}

void
json_bool (json_writer *w, bool v)
{
  gen_check (yajl_gen_bool (w->g, v), "bool");
}

/* yajl_gen_number copies its text verbatim with the separators a value needs, which is
   exactly what inserting pre-serialized JSON requires. */
void
json_raw (json_writer *w, const char *text, size_t len)
{
  gen_check (yajl_gen_number (w->g, text, len), "raw value");
}

/* key + value in one call, for each value type the callers write most. */
#define JSON_WRITER_KV(name, type, value_fn)                                                       \
  void name (json_writer *w, const char *key, type v)                                              \
  {                                                                                                \
    json_key (w, key);                                                                             \
    value_fn (w, v);                                                                               \
  }

JSON_WRITER_KV (json_kv_string, const char *, json_string)
JSON_WRITER_KV (json_kv_int, int64_t, json_int)
JSON_WRITER_KV (json_kv_bool, bool, json_bool)

void
json_kv_strv (json_writer *w, const char *key, char *const *v)
{
  json_key (w, key);
  json_array_open (w);
  for (; v && *v; v++)
    json_string (w, *v);
  json_array_close (w);
}

char *
json_writer_finish (json_writer *w, size_t *len)
{
  const unsigned char *buf = NULL;
  size_t n = 0;
  char *out;

  gen_check (yajl_gen_get_buf (w->g, &buf, &n), "get buffer");
  out = xmalloc (n + 1);
  memcpy (out, buf, n);
  out[n] = '\0';
  yajl_gen_free (w->g);
  free (w);
  if (len)
    *len = n;
  return out;
}

/* ---- arena ---- */

struct arena_chunk
{
  struct arena_chunk *next;
  size_t size;
  size_t used;
  alignas (max_align_t) char data[];
};

struct arena
{
  struct arena_chunk *head;
};

static void *
arena_alloc (struct arena *a, size_t n)
{
  struct arena_chunk *c = a->head;
  void *p;

  n = (n + alignof (max_align_t) - 1) & ~(alignof (max_align_t) - 1);
  if (c == NULL || c->size - c->used < n)
    {
      size_t size = c ? c->size * 2 : 4096;
      if (size < n)
        size = n;
      c = xmalloc (sizeof (*c) + size);
      c->size = size;
      c->used = 0;
      c->next = a->head;
      a->head = c;
    }
  p = c->data + c->used;
  c->used += n;
  return p;
}

static void
arena_release (struct arena *a)
{
  struct arena_chunk *c = a->head;
  while (c)
    {
      struct arena_chunk *next = c->next;
      free (c);
      c = next;
    }
  a->head = NULL;
}

/* The document owns the arena it lives in; json_value_free finds it from the root. */
struct json_doc
{
  struct arena arena;
  struct json_value root;
};

/* ---- reader ---- */

struct builder_frame
{
  size_t start;    /* first child on the value stack */
  const char *key; /* this container's own member name in its parent */
  bool object;
};

struct builder
{
  struct arena *arena;
  struct json_value *vals; /* values of all open containers, in order */
  const char **keys;       /* their member names (NULL inside arrays) */
  size_t nvals, avals;
  struct builder_frame frames[JSON_MAX_DEPTH];
  size_t depth;
  const char *pending_key;
  const char *error;  /* set when a callback cancels the parse */
  bool error_has_key; /* error names its key: no line and column needed */
};

static char *
arena_strndup (struct arena *a, const char *s, size_t n)
{
  char *p = arena_alloc (a, n + 1);
  memcpy (p, s, n);
  p[n] = '\0';
  return p;
}

static int
push_value (struct builder *b, const struct json_value *v)
{
  if (b->nvals == b->avals)
    {
      b->avals = b->avals ? b->avals * 2 : 64;
      b->vals = xrealloc (b->vals, b->avals * sizeof (*b->vals));
      b->keys = xrealloc (b->keys, b->avals * sizeof (*b->keys));
    }
  b->vals[b->nvals] = *v;
  b->keys[b->nvals] = b->pending_key;
  b->nvals++;
  b->pending_key = NULL;
  return 1;
}

static int
cb_null (void *ctx)
{
  struct json_value v = { .type = JSON_NULL };
  return push_value (ctx, &v);
}

static int
cb_bool (void *ctx, int boolean)
{
  struct json_value v = { .type = JSON_BOOL, .b = boolean != 0 };
  return push_value (ctx, &v);
}

static int
cb_number (void *ctx, const char *s, size_t len)
{
  struct builder *b = ctx;
  struct json_value v = { .type = JSON_NUMBER, .len = len };
  v.str = arena_strndup (b->arena, s, len);
  return push_value (b, &v);
}

/* Strings become C strings everywhere in ctr: an embedded NUL would silently cut a path
   or an argument short, so it is refused here once for all callers. */
static int
cb_string (void *ctx, const unsigned char *s, size_t len)
{
  struct builder *b = ctx;
  struct json_value v = { .type = JSON_STRING, .len = len };
  if (memchr (s, '\0', len))
    {
      b->error = "string contains a NUL character";
      return 0;
    }
  v.str = arena_strndup (b->arena, (const char *)s, len);
  return push_value (b, &v);
}

static int
cb_map_key (void *ctx, const unsigned char *s, size_t len)
{
  struct builder *b = ctx;
  if (memchr (s, '\0', len))
    {
      b->error = "object key contains a NUL character";
      return 0;
    }
  b->pending_key = arena_strndup (b->arena, (const char *)s, len);
  return 1;
}

/* The nesting cap is enforced while parsing, before any tree walk could recurse deeply. */
static int
open_container (struct builder *b, bool object)
{
  struct builder_frame *f;
  if (b->depth >= JSON_MAX_DEPTH)
    {
      b->error = "nesting deeper than " STRINGIFY (JSON_MAX_DEPTH) " levels";
      return 0;
    }
  f = &b->frames[b->depth++];
  f->start = b->nvals;
  f->key = b->pending_key;
  f->object = object;
  b->pending_key = NULL;
  return 1;
}

static int
cmp_key_ptr (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* A member name that occurs twice in keys[0..n), or NULL. Objects are small: pairwise
   below 16 members (no allocation), sorted above (no quadratic blow-up on huge maps). */
static const char *
duplicate_key (const char **keys, size_t n)
{
  const char *dup = NULL;
  size_t i, j;
  if (n <= 16)
    {
      for (i = 1; i < n; i++)
        for (j = 0; j < i; j++)
          if (strcmp (keys[i], keys[j]) == 0)
            return keys[i];
      return NULL;
    }
  const char **sorted = xmalloc (n * sizeof (*sorted));
  memcpy (sorted, keys, n * sizeof (*sorted));
  qsort (sorted, n, sizeof (*sorted), cmp_key_ptr);
  for (i = 1; i < n && dup == NULL; i++)
    if (strcmp (sorted[i], sorted[i - 1]) == 0)
      dup = sorted[i];
  free (sorted);
  return dup;
}

/* "process.env: duplicate key `env`": the path of the innermost open object, then key. */
static void
duplicate_key_error (struct builder *b, const char *key)
{
  size_t i, cap = 64, used = 0;
  char *path = xmalloc (cap);
  path[0] = '\0';
  for (i = 1; i < b->depth; i++)
    {
      char idx[32];
      const char *part = idx;
      if (b->frames[i - 1].object)
        part = b->frames[i].key;
      else
        snprintf (idx, sizeof idx, "[%zu]", b->frames[i].start - b->frames[i - 1].start);
      size_t need = used + strlen (part) + strlen (key) + 2;
      if (need > cap)
        {
          cap = need * 2;
          path = xrealloc (path, cap);
        }
      if (used > 0 && part != idx)
        path[used++] = '.';
      strcpy (path + used, part);
      used += strlen (part);
    }
  char *msg = xasprintf ("%s%s%s: duplicate key `%s`", path, used ? "." : "", key, key);
  b->error = arena_strndup (b->arena, msg, strlen (msg));
  b->error_has_key = true;
  free (msg);
  free (path);
}

static int
close_container (struct builder *b)
{
  struct builder_frame *f = &b->frames[b->depth - 1];
  /* a policy tool reading the first of two equal keys and ctr the last must not disagree */
  if (f->object && b->nvals - f->start > 1)
    {
      const char *dup = duplicate_key (b->keys + f->start, b->nvals - f->start);
      if (dup)
        {
          duplicate_key_error (b, dup);
          return 0;
        }
    }
  b->depth--;
  size_t n = b->nvals - f->start;
  struct json_value v = { .type = f->object ? JSON_OBJECT : JSON_ARRAY, .len = n };

  if (n)
    {
      v.items = arena_alloc (b->arena, n * sizeof (*v.items));
      memcpy (v.items, b->vals + f->start, n * sizeof (*v.items));
      if (f->object)
        {
          v.keys = arena_alloc (b->arena, n * sizeof (*v.keys));
          memcpy (v.keys, b->keys + f->start, n * sizeof (*v.keys));
        }
    }
  b->nvals = f->start;
  b->pending_key = f->key;
  return push_value (b, &v);
}

static int
cb_start_map (void *ctx)
{
  return open_container (ctx, true);
}

static int
cb_start_array (void *ctx)
{
  return open_container (ctx, false);
}

static int
cb_end (void *ctx)
{
  return close_container (ctx);
}

static const yajl_callbacks builder_callbacks = {
  .yajl_null = cb_null,
  .yajl_boolean = cb_bool,
  .yajl_number = cb_number,
  .yajl_string = cb_string,
  .yajl_start_map = cb_start_map,
  .yajl_map_key = cb_map_key,
  .yajl_end_map = cb_end,
  .yajl_start_array = cb_start_array,
  .yajl_end_array = cb_end,
};

static void
offset_to_line_col (const char *text, size_t len, size_t off, size_t *line, size_t *col)
{
  const char *p = text, *end = text + (off < len ? off : len), *nl;
  *line = 1;
  while ((nl = memchr (p, '\n', end - p)) != NULL)
    {
      (*line)++;
      p = nl + 1;
    }
  *col = (size_t)(end - p) + 1;
}

/* yajl reports the offset just past the token it choked on; point at the token itself. */
static size_t
token_start (const char *text, size_t off)
{
  const char *alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-";
  size_t i;
  if (off == 0)
    return 0;
  i = off - 1;
  if (text[i] == '"')
    {
      while (i > 0 && !(text[i - 1] == '"' && (i < 2 || text[i - 2] != '\\')))
        i--;
      return i > 0 ? i - 1 : 0;
    }
  if (strchr (alnum, text[i]) == NULL)
    return i;
  while (i > 0 && strchr (alnum, text[i - 1]) != NULL)
    i--;
  return i;
}

/* yajl's message is "parse error: <what>\n"; keep the <what> on one line. */
static int
parse_error (yajl_handle h, struct builder *b, const char *text, size_t len, size_t off,
             bool at_eof, const char *origin, ctr_error_t *err)
{
  unsigned char *yerr = NULL;
  const char *msg = b->error;
  size_t line, col;
  char *m, *nl;
  int ret;

  if (msg == NULL)
    {
      yerr = yajl_get_error (h, 0, (const unsigned char *)text, len);
      msg = yerr ? (const char *)yerr : "invalid JSON";
      if (!at_eof && strncmp (msg, "parse error", 11) == 0)
        off = token_start (text, off);
    }
  m = xstrdup (msg);
  while ((nl = strchr (m, '\n')) != NULL)
    *nl = ' ';
  for (nl = m + strlen (m); nl > m && nl[-1] == ' '; nl--)
    nl[-1] = '\0';
  offset_to_line_col (text, len, off, &line, &col);
  if (b->error_has_key)
    ret = ctr_error (err, 0, "%s: %s", origin, m);
  else
    ret = ctr_error (err, 0, "%s: line %zu, column %zu: %s", origin, line, col, m);
  free (m);
  if (yerr)
    yajl_free_error (h, yerr);
  return ret;
}

static bool
only_whitespace (const char *text, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++)
    if (!strchr (" \t\r\n", text[i]) || text[i] == '\0')
      return false;
  return true;
}

json_value *
json_parse (const char *text, size_t len, const char *origin, ctr_error_t *err)
{
  struct arena arena = { NULL };
  struct builder b = { .arena = &arena };
  struct json_doc *doc;
  yajl_handle h;
  yajl_status st;
  size_t off;
  bool at_eof = false;

  if (origin == NULL)
    origin = "json";
  /* Arena sized from the input so a typical document takes one allocation. */
  arena_alloc (&arena, len < 1024 ? 4096 : len * 3);
  arena.head->used = 0;
  h = yajl_alloc (&builder_callbacks, NULL, &b);
  if (h == NULL)
    {
      arena_release (&arena);
      ctr_error (err, ENOMEM, "%s: cannot allocate the JSON parser", origin);
      return NULL;
    }
  st = yajl_parse (h, (const unsigned char *)text, len);
  off = yajl_get_bytes_consumed (h);
  if (st == yajl_status_ok)
    {
      st = yajl_complete_parse (h);
      off = len;
      at_eof = true;
    }
  if (st != yajl_status_ok || b.nvals != 1)
    {
      if (only_whitespace (text, len))
        ctr_error (err, 0, "%s: empty document", origin);
      else
        parse_error (h, &b, text, len, off, at_eof, origin, err);
      yajl_free (h);
      free (b.vals);
      free (b.keys);
      arena_release (&arena);
      return NULL;
    }
  yajl_free (h);
  doc = arena_alloc (&arena, sizeof (*doc));
  doc->root = b.vals[0];
  doc->arena = arena;
  free (b.vals);
  free (b.keys);
  return &doc->root;
}

void
json_value_free (json_value *v)
{
  struct json_doc *doc;
  struct arena arena;
  if (v == NULL)
    return;
  doc = (struct json_doc *)((char *)v - offsetof (struct json_doc, root));
  arena = doc->arena;
  arena_release (&arena);
}

const struct json_value *
json_member (const struct json_value *obj, const char *key)
{
  size_t i;
  if (obj == NULL || obj->type != JSON_OBJECT)
    return NULL;
  for (i = obj->len; i-- > 0;)
    if (strcmp (obj->keys[i], key) == 0)
      return obj->items[i].type == JSON_NULL ? NULL : &obj->items[i];
  return NULL;
}

const json_value *
json_get (const json_value *v, const char *key)
{
  size_t i;
  if (v == NULL || v->type != JSON_OBJECT)
    return NULL;
  for (i = v->len; i-- > 0;)
    if (strcmp (v->keys[i], key) == 0)
      return &v->items[i];
  return NULL;
}

const char *
json_type_name (const struct json_value *v)
{
  static const char *const names[] = {
    [JSON_NULL] = "null",       [JSON_BOOL] = "a boolean",   [JSON_NUMBER] = "a number",
    [JSON_STRING] = "a string", [JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
  };
  return v ? names[v->type] : "nothing";
}

/* Only plain integers: Go refuses 1.0 or 1e3 for integer fields, and so do we. */
static bool
integer_text (const char *s, bool *negative)
{
  *negative = *s == '-';
  if (*negative)
    s++;
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

int
json_number_i64 (const struct json_value *v, int64_t *out)
{
  bool neg;
  long long r;
  if (v == NULL || v->type != JSON_NUMBER || !integer_text (v->str, &neg))
    return -1;
  errno = 0;
  r = strtoll (v->str, NULL, 10);
  if (errno == ERANGE)
    return -2;
  *out = r;
  return 0;
}

int
json_number_u64 (const struct json_value *v, uint64_t *out)
{
  bool neg;
  unsigned long long r;
  if (v == NULL || v->type != JSON_NUMBER || !integer_text (v->str, &neg))
    return -1;
  if (neg)
    {
      const char *d = v->str + 1;
      while (*d == '0')
        d++;
      if (*d)
        return -2;
      *out = 0;
      return 0;
    }
  errno = 0;
  r = strtoull (v->str, NULL, 10);
  if (errno == ERANGE)
    return -2;
  *out = r;
  return 0;
}

bool
json_as_string (const json_value *v, const char **out)
{
  if (v == NULL || v->type != JSON_STRING)
    return false;
  *out = v->str;
  return true;
}

bool
json_as_int64 (const json_value *v, int64_t *out)
{
  return json_number_i64 (v, out) == 0;
}

bool
json_as_bool (const json_value *v, bool *out)
{
  if (v == NULL || v->type != JSON_BOOL)
    return false;
  *out = v->b;
  return true;
}

bool
json_is_object (const json_value *v)
{
  return v && v->type == JSON_OBJECT;
}

bool
json_is_array (const json_value *v)
{
  return v && v->type == JSON_ARRAY;
}

size_t
json_len (const json_value *v)
{
  if (v == NULL || (v->type != JSON_OBJECT && v->type != JSON_ARRAY))
    return 0;
  return v->len;
}

const json_value *
json_at (const json_value *v, size_t i)
{
  if (v == NULL || v->type != JSON_ARRAY || i >= v->len)
    return NULL;
  return &v->items[i];
}

const char *
json_key_at (const json_value *v, size_t i)
{
  if (v == NULL || v->type != JSON_OBJECT || i >= v->len)
    return NULL;
  return v->keys[i];
}

const json_value *
json_value_at (const json_value *v, size_t i)
{
  if (v == NULL || v->type != JSON_OBJECT || i >= v->len)
    return NULL;
  return &v->items[i];
}

/* Depth is bounded by JSON_MAX_DEPTH (the parser refuses deeper documents). */
static void
gen_value (yajl_gen g, const struct json_value *v)
{
  size_t i;
  switch (v->type)
    {
    case JSON_NULL:
      gen_check (yajl_gen_null (g), "null");
      break;
    case JSON_BOOL:
      gen_check (yajl_gen_bool (g, v->b), "bool");
      break;
    case JSON_NUMBER:
      gen_check (yajl_gen_number (g, v->str, v->len), "number");
      break;
    case JSON_STRING:
      gen_check (yajl_gen_string (g, (const unsigned char *)v->str, v->len), "string");
      break;
    case JSON_OBJECT:
      gen_check (yajl_gen_map_open (g), "map open");
      for (i = 0; i < v->len; i++)
        {
          gen_check (yajl_gen_string (g, (const unsigned char *)v->keys[i], strlen (v->keys[i])),
                     "key");
          gen_value (g, &v->items[i]);
        }
      gen_check (yajl_gen_map_close (g), "map close");
      break;
    case JSON_ARRAY:
      gen_check (yajl_gen_array_open (g), "array open");
      for (i = 0; i < v->len; i++)
        gen_value (g, &v->items[i]);
      gen_check (yajl_gen_array_close (g), "array close");
      break;
    }
}

char *
json_value_to_string (const json_value *v, size_t *len)
{
  json_writer *w = json_writer_new (false);
  if (v == NULL)
    json_null (w);
  else
    gen_value (w->g, v);
  return json_writer_finish (w, len);
}
