/* /etc/subuid and /etc/subgid (src/namespaces/subid.c): subid_parse, what subid_range does
   with the file, for user "fuzz" or uid 1000. */
#include <config.h>
#include "fuzz.h"
#include "namespaces/namespaces.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_string (data, size);
  uint32_t start, count;

  if (subid_parse (text, "1000", "fuzz", &start, &count) == 0
      && (count == 0 || (uint64_t)start + count > UINT32_MAX + 1ull))
    abort (); /* a range that would wrap past the id space */
  free (text);
  return 0;
}
