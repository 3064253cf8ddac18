/* A process object (src/oci): oci_process_parse, as `ctr exec --process FILE` reads it. */
#include <config.h>
#include "fuzz.h"
#include "oci/oci.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ctr_error_t err = NULL;
  struct oci_process *p = NULL;

  if (oci_process_parse ((const char *)data, size, "process.json", &p, &err) == 0)
    oci_process_free (p);
  fuzz_error_check (&err);
  return 0;
}
