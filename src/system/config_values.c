/* config_values: parsing and printing the values of `ctr config` keys. */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/json.h"
#include "base/util.h"
#include "system/config_values.h"

/* ------------------------------------------------------------ values */

bool
is_none (const char *v)
{
  return *v == '\0' || strcmp (v, "max") == 0 || strcmp (v, "none") == 0 || strcmp (v, "-1") == 0;
}

/* "512M", "1G", "1048576": bytes (binary suffixes K, M, G, T, with an optional B/iB). */
int
parse_bytes (const char *s, int64_t *out)
{
  char *end;
  double v;
  double mult = 1;

  errno = 0;
  v = strtod (s, &end);
  if (errno || end == s || !isdigit ((unsigned char)*s) || v <= 0)
    return -1;
  switch (toupper ((unsigned char)*end))
    {
    case 'K':
      mult = 1024.0, end++;
      break;
    case 'M':
      mult = 1024.0 * 1024, end++;
      break;
    case 'G':
      mult = 1024.0 * 1024 * 1024, end++;
      break;
    case 'T':
      mult = 1024.0 * 1024 * 1024 * 1024, end++;
      break;
    default:
      break;
    }
  if (mult > 1 && *end == 'i')
    end++;
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end != '\0' || v * mult >= 9.2e18)
    return -1;
  *out = (int64_t)(v * mult);
  return 0;
}

char *
format_bytes (int64_t v)
{
  static const char units[] = "TGMK";
  for (int i = 0; i < 4; i++)
    {
      int64_t u = (int64_t)1 << (10 * (4 - i));
      if (v >= u && v % u == 0)
        return xasprintf ("%" PRId64 "%c", v / u, units[i]);
    }
  return xasprintf ("%" PRId64, v);
}

int
parse_range (const char *s, int64_t lo, int64_t hi, int64_t *out)
{
  return parse_int64 (s, out) < 0 || *out < lo || *out > hi ? -1 : 0;
}

char *
int_text (const json_node *n, const char *none)
{
  int64_t v;
  return jnode_int (n, &v) ? xasprintf ("%" PRId64, v) : xstrdup (none);
}

/* The string members of an array joined with commas. */
char *
join_strings (const json_node *arr)
{
  size_t len = 1;
  char *out, *p;
  for (size_t i = 0; i < jnode_len (arr); i++)
    len += strlen (jnode_string (jnode_at (arr, i)) ?: "") + 1;
  p = out = xzalloc (len);
  for (size_t i = 0; i < jnode_len (arr); i++)
    {
      const char *s = jnode_string (jnode_at (arr, i));
      if (s)
        p += sprintf (p, "%s%s", p == out ? "" : ",", s);
    }
  return out;
}

ssize_t
string_index (const json_node *arr, const char *s)
{
  for (size_t i = 0; i < jnode_len (arr); i++)
    if (strcmp (jnode_string (jnode_at (arr, i)) ?: "", s) == 0)
      return (ssize_t)i;
  return -1;
}
