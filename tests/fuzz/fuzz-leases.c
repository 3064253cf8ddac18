/* A network's leases file (src/network/ipam.c): network_leases_parse, what
   network_leases_read does with <run>/NAME.leases. */
#include <config.h>
#include "fuzz.h"
#include "network/network-internal.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_string (data, size);
  struct network_leases l;

  network_leases_parse (text, &l);
  network_leases_clear (&l);
  free (text);
  return 0;
}
