/* log: runtime diagnostics to stderr and the --log file (runc's text and json formats). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/json.h"
#include "base/util.h"

static int log_fd = -1;
static enum ctr_log_format log_format = CTR_LOG_TEXT;
static bool log_debug;

int
ctr_log_init (const char *path, enum ctr_log_format format, bool debug, ctr_error_t *err)
{
  log_format = format;
  log_debug = debug;
  if (path == NULL || *path == '\0')
    return 0;
  log_fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (log_fd < 0)
    return ctr_error (err, errno, "open log file `%s`", path);
  return 0;
}

int
ctr_log_fd (void)
{
  return log_fd;
}

bool
ctr_log_debug_enabled (void)
{
  return log_debug;
}

/* runc's json log line: one line, since the writer escapes newlines inside strings. */
static char *
json_line (const char *level, const char *msg, const char *ts)
{
  json_writer *w = json_writer_new (false);
  cleanup_free char *json = NULL;
  char *line = NULL;

  json_map_open (w);
  json_kv_string (w, "level", level);
  json_kv_string (w, "msg", msg);
  json_kv_string (w, "time", ts);
  json_map_close (w);
  json = json_writer_finish (w, NULL);
  if (asprintf (&line, "%s\n", json) < 0)
    return NULL;
  return line;
}

/* The msg of a text line, quoted as runc's logrus quotes it (Go's %q): a quote, backslash or
   control character inside would otherwise end the value or the line for a logfmt parser. */
static char *
text_quote (const char *msg)
{
  static const char named[] = "abtnvfr"; /* \a (7) to \r (13) */
  char *out = xmalloc (strlen (msg) * 4 + 3), *o = out;
  const unsigned char *p;

  *o++ = '"';
  for (p = (const unsigned char *)msg; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        {
          *o++ = '\\';
          *o++ = (char)*p;
        }
      else if (*p >= '\a' && *p <= '\r')
        {
          *o++ = '\\';
          *o++ = named[*p - '\a'];
        }
      else if (*p < 0x20 || *p == 0x7f)
        o += sprintf (o, "\\x%02x", *p);
      else
        *o++ = (char)*p;
    }
  *o++ = '"';
  *o = '\0';
  return out;
}

/* One line to the log file, in the selected format, with one write (O_APPEND keeps the
   lines of concurrent ctr processes whole). */
static void
log_file_write (const char *level, const char *msg)
{
  cleanup_free char *line = NULL;
  char ts[64];
  struct timespec now;
  struct tm tm;

  if (log_fd < 0)
    return;
  clock_gettime (CLOCK_REALTIME, &now);
  gmtime_r (&now.tv_sec, &tm);
  snprintf (ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec);
  if (log_format == CTR_LOG_JSON)
    line = json_line (level, msg, ts);
  else
    {
      cleanup_free char *quoted = text_quote (msg);
      if (asprintf (&line, "time=\"%s\" level=%s msg=%s\n", ts, level, quoted) < 0)
        line = NULL;
    }
  if (line == NULL)
    return;
  if (write_all (log_fd, line, strlen (line)) < 0)
    {
      /* nothing sensible to do when the log itself fails */
    }
}

static void
log_vmsg (const char *level, bool to_stderr, const char *fmt, va_list ap)
{
  char *msg = NULL;
  int saved = errno;

  if (vasprintf (&msg, fmt, ap) < 0)
    return;
  if (to_stderr)
    {
      if (strcmp (level, "error") == 0)
        fprintf (stderr, "ctr: %s\n", msg);
      else
        fprintf (stderr, "ctr: %s: %s\n", level, msg);
    }
  log_file_write (level, msg);
  free (msg);
  errno = saved;
}

void
ctr_log_debug (const char *fmt, ...)
{
  va_list ap;
  if (!log_debug)
    return;
  va_start (ap, fmt);
  log_vmsg ("debug", log_fd < 0, fmt, ap);
  va_end (ap);
}

void
ctr_log_warning (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  log_vmsg ("warning", true, fmt, ap);
  va_end (ap);
}

static void
log_error_fmt (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  log_vmsg ("error", true, fmt, ap);
  va_end (ap);
}

void
ctr_log_error_msg (const char *msg)
{
  log_error_fmt ("%s", msg);
}

void
ctr_error_print (ctr_error_t *err)
{
  char *s = ctr_error_string (err ? *err : NULL);
  ctr_log_error_msg (s);
  free (s);
  ctr_error_free (err);
}
