/* memory: allocation that aborts on out-of-memory, string vectors, cleanup helpers. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/memory.h"

static void __attribute__ ((noreturn)) oom (void)
{
  static const char msg[] = "ctr: out of memory\n";
  if (write (2, msg, sizeof msg - 1) < 0)
    {
    }
  abort ();
}

void *
xmalloc (size_t size)
{
  void *p = malloc (size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xzalloc (size_t size)
{
  void *p = calloc (1, size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xrealloc (void *ptr, size_t size)
{
  void *p = realloc (ptr, size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

char *
xstrdup (const char *s)
{
  char *r;
  if (s == NULL)
    return NULL;
  r = strdup (s);
  if (r == NULL)
    oom ();
  return r;
}

char *
xstrndup (const char *s, size_t n)
{
  char *r = strndup (s, n);
  if (r == NULL)
    oom ();
  return r;
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *r;
  va_start (ap, fmt);
  if (vasprintf (&r, fmt, ap) < 0)
    oom ();
  va_end (ap);
  return r;
}

size_t
strv_len (char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

char **
xstrv_dup (char *const *v)
{
  size_t n, i;
  char **r;
  if (v == NULL)
    return NULL;
  n = strv_len (v);
  r = xmalloc ((n + 1) * sizeof (char *));
  for (i = 0; i < n; i++)
    r[i] = xstrdup (v[i]);
  r[n] = NULL;
  return r;
}

char *
xstrv_join (char *const *v, const char *sep)
{
  size_t len = 1;
  char *out, *p;
  for (char *const *s = v; s && *s; s++)
    len += strlen (*s) + strlen (sep);
  p = out = xmalloc (len);
  *p = '\0';
  for (char *const *s = v; s && *s; s++)
    p = stpcpy (stpcpy (p, s == v ? "" : sep), *s);
  return out;
}

void
strv_free (char **v)
{
  size_t i;
  if (v == NULL)
    return;
  for (i = 0; v[i]; i++)
    free (v[i]);
  free (v);
}

void
cleanup_freep (void *p)
{
  void **pp = (void **)p;
  free (*pp);
}

void
cleanup_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

void
cleanup_filep (FILE **f)
{
  if (*f)
    fclose (*f);
}

void
cleanup_dirp (DIR **d)
{
  if (*d)
    closedir (*d);
}

void
cleanup_strvp (char ***v)
{
  strv_free (*v);
}
