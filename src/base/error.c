/* error: building and wrapping ctr_error_t values (base/log.c prints them). */
#include <config.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/memory.h"

int
ctr_error (ctr_error_t *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  char *msg = NULL;

  if (err == NULL)
    return -1;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  ctr_error_free (err);
  *err = xzalloc (sizeof (**err));
  (*err)->status = errnum;
  (*err)->msg = msg;
  return -1;
}

int
ctr_error_set_raw (ctr_error_t *err, int status, const char *msg)
{
  return ctr_error (err, status, "%s", msg);
}

int
ctr_error_wrap (ctr_error_t *err, const char *fmt, ...)
{
  va_list ap;
  char *ctx = NULL, *msg;

  if (err == NULL || *err == NULL)
    return -1;
  va_start (ap, fmt);
  if (vasprintf (&ctx, fmt, ap) < 0)
    abort ();
  va_end (ap);
  msg = xasprintf ("%s: %s", ctx, (*err)->msg);
  free (ctx);
  free ((*err)->msg);
  (*err)->msg = msg;
  return -1;
}

char *
ctr_error_string (const ctr_error_t err)
{
  if (err == NULL)
    return xstrdup ("unknown error");
  if (err->status)
    return xasprintf ("%s: %s", err->msg, strerror (err->status));
  return xstrdup (err->msg);
}

void
ctr_error_free (ctr_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}
