/* A linux.resources object (src/oci): oci_resources_parse, as `ctr update --resources FILE`
   reads it. */
#include <config.h>
#include "fuzz.h"
#include "oci/oci.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ctr_error_t err = NULL;
  struct oci_resources *r = NULL;

  if (oci_resources_parse ((const char *)data, size, "resources.json", &r, &err) == 0)
    oci_resources_free (r);
  fuzz_error_check (&err);
  return 0;
}
