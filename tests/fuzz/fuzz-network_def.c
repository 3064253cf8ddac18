/* A network definition (src/network/store.c): network_def_parse, what network_def_load does
   with <root>/networks/NAME.json: bridge, subnet, gateway, ipv6, gateway6, nat, mtu. */
#include <config.h>
#include "fuzz.h"
#include "network/network-internal.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ctr_error_t err = NULL;
  struct network_def d;

  if (network_def_parse ("fuzz", (const char *)data, size, "fuzz.json", &d, &err) == 0)
    {
      free (network_cidr_format (&d.subnet));
      free (network_addr_format (AF_INET, d.gateway));
      if (d.has_ipv6)
        free (network_cidr_format (&d.subnet6));
      network_cidr_size (&d.subnet);
      network_def_clear (&d);
    }
  fuzz_error_check (&err);
  return 0;
}
