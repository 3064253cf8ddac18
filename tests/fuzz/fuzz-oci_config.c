/* config.json (src/oci): oci_config_parse with every section (process, mounts, hooks,
   linux: namespaces, id maps, devices, resources, seccomp, ...) and its validation; then
   the seccomp profile's canonical form, the compiled-filter cache key. */
#include <config.h>
#include "fuzz.h"
#include "oci/oci.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ctr_error_t err = NULL;
  struct oci_config *c = NULL;

  if (oci_config_parse ((const char *)data, size, "config.json", &c, &err) == 0)
    {
      if (c->linux_ && c->linux_->seccomp)
        free (oci_seccomp_canonical (c->linux_->seccomp, NULL));
      oci_config_free (c);
    }
  fuzz_error_check (&err);
  return 0;
}
