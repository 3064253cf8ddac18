/* tap: a tiny Test Anything Protocol helper for the C unit tests (header only). */
#ifndef CTR_TAP_H
#define CTR_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct tap_state
{
  int run;
  int failed;
  int planned; /* -1: no plan, "1..N" printed by done_testing () */
};

static inline struct tap_state *
tap_state (void)
{
  static struct tap_state s = { 0, 0, -1 };
  return &s;
}

/* Prints "1..n" up front. */
static inline void
plan (int n)
{
  tap_state ()->planned = n;
  printf ("1..%d\n", n);
  fflush (stdout);
}

static inline void diag (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static inline void
diag (const char *fmt, ...)
{
  va_list ap;
  fputs ("# ", stdout);
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  fputc ('\n', stdout);
  fflush (stdout);
}

static inline bool
tap_vresult (bool pass, const char *file, int line, const char *fmt, va_list ap)
{
  struct tap_state *s = tap_state ();
  s->run++;
  if (!pass)
    s->failed++;
  printf ("%sok %d - ", pass ? "" : "not ", s->run);
  vprintf (fmt, ap);
  fputc ('\n', stdout);
  if (!pass)
    printf ("#   failed at %s:%d\n", file, line);
  fflush (stdout);
  return pass;
}

static inline bool tap_ok (bool pass, const char *file, int line, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
static inline bool
tap_ok (bool pass, const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  bool r;
  va_start (ap, fmt);
  r = tap_vresult (pass, file, line, fmt, ap);
  va_end (ap);
  return r;
}

static inline bool tap_is_str (const char *got, const char *want, const char *file, int line,
                               const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));
static inline bool
tap_is_str (const char *got, const char *want, const char *file, int line, const char *fmt, ...)
{
  bool pass = (got == NULL && want == NULL) || (got && want && strcmp (got, want) == 0);
  va_list ap;
  va_start (ap, fmt);
  tap_vresult (pass, file, line, fmt, ap);
  va_end (ap);
  if (!pass)
    printf ("#          got: %s%s%s\n#     expected: %s%s%s\n", got ? "\"" : "", got ? got : "NULL",
            got ? "\"" : "", want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
  return pass;
}

static inline bool tap_is_int (intmax_t got, intmax_t want, const char *file, int line,
                               const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));
static inline bool
tap_is_int (intmax_t got, intmax_t want, const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  tap_vresult (got == want, file, line, fmt, ap);
  va_end (ap);
  if (got != want)
    printf ("#          got: %jd\n#     expected: %jd\n", got, want);
  return got == want;
}

static inline bool tap_like (const char *got, const char *needle, const char *file, int line,
                             const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));
static inline bool
tap_like (const char *got, const char *needle, const char *file, int line, const char *fmt, ...)
{
  bool pass = got && needle && strstr (got, needle) != NULL;
  va_list ap;
  va_start (ap, fmt);
  tap_vresult (pass, file, line, fmt, ap);
  va_end (ap);
  if (!pass)
    printf ("#          got: %s\n#    to contain: %s\n", got ? got : "NULL", needle);
  return pass;
}

/* ok (cond, "name %d", i): passes when cond is true. */
#define ok(cond, ...) tap_ok (!!(cond), __FILE__, __LINE__, __VA_ARGS__)
/* is (got, want, name): string equality (NULL equals NULL only). */
#define is(got, want, ...) tap_is_str ((got), (want), __FILE__, __LINE__, __VA_ARGS__)
/* is_int (got, want, name): integer equality. */
#define is_int(got, want, ...)                                                                     \
  tap_is_int ((intmax_t)(got), (intmax_t)(want), __FILE__, __LINE__, __VA_ARGS__)
/* like (got, substring, name): got contains substring. */
#define like(got, needle, ...) tap_like ((got), (needle), __FILE__, __LINE__, __VA_ARGS__)
#define pass(...) tap_ok (true, __FILE__, __LINE__, __VA_ARGS__)
#define fail(...) tap_ok (false, __FILE__, __LINE__, __VA_ARGS__)

/* Exit status for main: 0 only when every test passed and the plan (if any) was met. */
static inline int
done_testing (void)
{
  struct tap_state *s = tap_state ();
  if (s->planned < 0)
    printf ("1..%d\n", s->run);
  else if (s->planned != s->run)
    {
      printf ("# planned %d tests but ran %d\n", s->planned, s->run);
      return 1;
    }
  if (s->failed)
    printf ("# failed %d of %d tests\n", s->failed, s->run);
  fflush (stdout);
  return s->failed ? 1 : 0;
}

#endif
