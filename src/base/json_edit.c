/* json_edit: a changeable JSON tree (yajl_tree's nodes, which yajl_tree_free releases with
   free(), so nodes made here use plain malloc); written back through json_writer. */
#include <config.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "base/json.h"
#include "base/json_edit.h"
#include "base/memory.h"
#include "base/util.h"

json_node *
jnode_parse (const char *text, const char *origin, ctr_error_t *err)
{
  char msg[256] = "";
  json_node *n = yajl_tree_parse (text, msg, sizeof msg);

  if (n == NULL)
    {
      msg[strcspn (msg, "\n")] = '\0';
      ctr_error (err, 0, "%s: invalid JSON: %s", origin, msg);
    }
  return n;
}

void
jnode_free (json_node *n)
{
  yajl_tree_free (n);
}

static void
write_node (json_writer *w, const json_node *n)
{
  size_t i;

  switch (n->type)
    {
    case yajl_t_string:
      json_string (w, n->u.string);
      break;
    case yajl_t_number:
      json_raw (w, n->u.number.r, strlen (n->u.number.r));
      break;
    case yajl_t_object:
      json_map_open (w);
      for (i = 0; i < n->u.object.len; i++)
        {
          json_key (w, n->u.object.keys[i]);
          write_node (w, n->u.object.values[i]);
        }
      json_map_close (w);
      break;
    case yajl_t_array:
      json_array_open (w);
      for (i = 0; i < n->u.array.len; i++)
        write_node (w, n->u.array.values[i]);
      json_array_close (w);
      break;
    case yajl_t_true:
    case yajl_t_false:
      json_bool (w, n->type == yajl_t_true);
      break;
    default:
      json_null (w);
      break;
    }
}

char *
jnode_to_string (const json_node *n, size_t *len)
{
  json_writer *w = json_writer_new (true);
  write_node (w, n);
  return json_writer_finish (w, len);
}

static json_node *
node_new (yajl_type t)
{
  json_node *n = xzalloc (sizeof *n);
  n->type = t;
  return n;
}

json_node *
jnode_new_string (const char *s)
{
  json_node *n = node_new (yajl_t_string);
  n->u.string = xstrdup (s);
  return n;
}

json_node *
jnode_new_int (int64_t v)
{
  json_node *n = node_new (yajl_t_number);
  n->u.number.r = xasprintf ("%" PRId64, v);
  n->u.number.i = v;
  n->u.number.d = (double)v;
  n->u.number.flags = YAJL_NUMBER_INT_VALID | YAJL_NUMBER_DOUBLE_VALID;
  return n;
}

json_node *
jnode_new_uint (uint64_t v)
{
  json_node *n = node_new (yajl_t_number);
  n->u.number.r = xasprintf ("%" PRIu64, v);
  n->u.number.d = (double)v;
  n->u.number.flags = YAJL_NUMBER_DOUBLE_VALID;
  if (v <= INT64_MAX)
    {
      n->u.number.i = (long long)v;
      n->u.number.flags |= YAJL_NUMBER_INT_VALID;
    }
  return n;
}

json_node *
jnode_new_bool (bool v)
{
  return node_new (v ? yajl_t_true : yajl_t_false);
}

json_node *
jnode_new_object (void)
{
  return node_new (yajl_t_object);
}

json_node *
jnode_new_array (void)
{
  return node_new (yajl_t_array);
}

bool
jnode_is_object (const json_node *n)
{
  return n && n->type == yajl_t_object;
}

bool
jnode_is_array (const json_node *n)
{
  return n && n->type == yajl_t_array;
}

const char *
jnode_string (const json_node *n)
{
  return n && n->type == yajl_t_string ? n->u.string : NULL;
}

bool
jnode_int (const json_node *n, int64_t *out)
{
  if (n == NULL || n->type != yajl_t_number || !(n->u.number.flags & YAJL_NUMBER_INT_VALID))
    return false;
  *out = n->u.number.i;
  return true;
}

bool
jnode_uint (const json_node *n, uint64_t *out)
{
  char *end;
  if (n == NULL || n->type != yajl_t_number || n->u.number.r[0] == '-')
    return false;
  errno = 0;
  *out = strtoull (n->u.number.r, &end, 10);
  return errno == 0 && *end == '\0';
}

bool
jnode_bool (const json_node *n, bool *out)
{
  if (n == NULL || (n->type != yajl_t_true && n->type != yajl_t_false))
    return false;
  *out = n->type == yajl_t_true;
  return true;
}

static ssize_t
member_index (const json_node *obj, const char *key)
{
  if (!jnode_is_object (obj))
    return -1;
  for (size_t i = 0; i < obj->u.object.len; i++)
    if (strcmp (obj->u.object.keys[i], key) == 0)
      return (ssize_t)i;
  return -1;
}

json_node *
jnode_get (const json_node *obj, const char *key)
{
  ssize_t i = member_index (obj, key);
  return i < 0 ? NULL : obj->u.object.values[i];
}

void
jnode_set (json_node *obj, const char *key, json_node *val)
{
  ssize_t i = member_index (obj, key);
  size_t n;

  if (i >= 0)
    {
      yajl_tree_free (obj->u.object.values[i]);
      obj->u.object.values[i] = val;
      return;
    }
  n = obj->u.object.len;
  obj->u.object.keys = xrealloc (obj->u.object.keys, (n + 1) * sizeof (char *));
  obj->u.object.values = xrealloc (obj->u.object.values, (n + 1) * sizeof (json_node *));
  obj->u.object.keys[n] = xstrdup (key);
  obj->u.object.values[n] = val;
  obj->u.object.len = n + 1;
}

void
jnode_remove (json_node *obj, const char *key)
{
  ssize_t i = member_index (obj, key);
  size_t rest;

  if (i < 0)
    return;
  free ((char *)obj->u.object.keys[i]);
  yajl_tree_free (obj->u.object.values[i]);
  rest = obj->u.object.len - (size_t)i - 1;
  memmove (&obj->u.object.keys[i], &obj->u.object.keys[i + 1], rest * sizeof (char *));
  memmove (&obj->u.object.values[i], &obj->u.object.values[i + 1], rest * sizeof (json_node *));
  obj->u.object.len--;
}

json_node *
jnode_take (json_node *obj, const char *key)
{
  ssize_t i = member_index (obj, key);
  json_node *v;

  if (i < 0)
    return NULL;
  v = obj->u.object.values[i];
  obj->u.object.values[i] = NULL; /* yajl_tree_free (NULL) is a no-op */
  jnode_remove (obj, key);
  return v;
}

const char *
jnode_key_at (const json_node *obj, size_t i)
{
  return jnode_is_object (obj) && i < obj->u.object.len ? obj->u.object.keys[i] : NULL;
}

json_node *
jnode_value_at (const json_node *obj, size_t i)
{
  return jnode_is_object (obj) && i < obj->u.object.len ? obj->u.object.values[i] : NULL;
}

json_node *
jnode_copy (const json_node *n)
{
  char *text = jnode_to_string (n, NULL);
  json_node *c = yajl_tree_parse (text, NULL, 0);
  free (text);
  return c;
}

json_node *
jnode_path (json_node *root, const char *path, bool create)
{
  json_node *cur = root;
  const char *p = path;

  while (cur && *p)
    {
      size_t len = strcspn (p, ".");
      char *key = xstrndup (p, len);
      json_node *next = jnode_get (cur, key);
      if (!jnode_is_object (next))
        {
          if (create && jnode_is_object (cur))
            jnode_set (cur, key, next = jnode_new_object ());
          else
            next = NULL;
        }
      free (key);
      cur = next;
      p += len + (p[len] == '.');
    }
  return cur;
}

json_node *
jnode_array_member (json_node *obj, const char *key, bool create)
{
  json_node *a = jnode_get (obj, key);
  if (jnode_is_array (a))
    return a;
  if (!create || !jnode_is_object (obj))
    return NULL;
  jnode_set (obj, key, a = jnode_new_array ());
  return a;
}

void
jnode_prune (json_node *root, const char *path)
{
  char *copy = xstrdup (path);

  for (;;)
    {
      char *dot = strrchr (copy, '.');
      json_node *parent = dot ? (*dot = '\0', jnode_path (root, copy, false)) : root;
      const char *last = dot ? dot + 1 : copy;
      json_node *n = jnode_get (parent, last);
      if (n == NULL || (jnode_is_object (n) && n->u.object.len == 0))
        jnode_remove (parent, last);
      else
        break;
      if (dot == NULL)
        break;
    }
  free (copy);
}

size_t
jnode_len (const json_node *n)
{
  if (jnode_is_array (n))
    return n->u.array.len;
  if (jnode_is_object (n))
    return n->u.object.len;
  return 0;
}

json_node *
jnode_at (const json_node *arr, size_t i)
{
  return jnode_is_array (arr) && i < arr->u.array.len ? arr->u.array.values[i] : NULL;
}

void
jnode_append (json_node *arr, json_node *val)
{
  size_t n = arr->u.array.len;
  arr->u.array.values = xrealloc (arr->u.array.values, (n + 1) * sizeof (json_node *));
  arr->u.array.values[n] = val;
  arr->u.array.len = n + 1;
}

void
jnode_array_remove (json_node *arr, size_t i)
{
  if (!jnode_is_array (arr) || i >= arr->u.array.len)
    return;
  yajl_tree_free (arr->u.array.values[i]);
  memmove (&arr->u.array.values[i], &arr->u.array.values[i + 1],
           (arr->u.array.len - i - 1) * sizeof (json_node *));
  arr->u.array.len--;
}

json_node *
jnode_read_at (int dirfd, const char *name, size_t max, ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len;

  if (read_file_at (dirfd, name, max, &text, &len, err) < 0)
    return NULL;
  return jnode_parse (text, name, err);
}
