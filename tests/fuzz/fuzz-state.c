/* state.json (src/runtime/state.c): state_parse, what state_read does with the file. */
#include <config.h>
#include "fuzz.h"
#include "runtime/state.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ctr_error_t err = NULL;
  struct ctr_state *s = NULL;

  if (state_parse ((const char *)data, size, "fuzz", &s, &err) == 0)
    ctr_state_free (s);
  fuzz_error_check (&err);
  return 0;
}
