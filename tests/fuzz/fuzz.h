/* fuzz.h: what the libFuzzer targets of tests/fuzz/ share. */
#ifndef CTR_FUZZ_H
#define CTR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (parsers of text see no embedded NUL past it). */
static inline char *
fuzz_string (const uint8_t *data, size_t size)
{
  char *s = malloc (size + 1);
  memcpy (s, data, size);
  s[size] = '\0';
  return s;
}

/* An error must carry a message: formatting it exercises the path every caller takes. */
static inline void
fuzz_error_check (ctr_error_t *err)
{
  if (*err)
    {
      char *msg = ctr_error_string (*err);
      if (msg == NULL)
        abort ();
      free (msg);
    }
  ctr_error_free (err);
}

#endif
