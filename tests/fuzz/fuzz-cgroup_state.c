/* The cgroup string of state.json (src/cgroups/manager.c): cgroup_load, which re-checks the
   path and the per-hierarchy items ("LAYOUT;ITEMS;/PATH") against this host's layout. It
   only opens (never writes) cgroup directories of the host. */
#include <config.h>
#include "fuzz.h"
#include "cgroups/cgroup.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_string (data, size);
  ctr_error_t err = NULL;
  struct cgroup *cg = NULL;

  if (cgroup_load (text, &cg, &err) == 0)
    cgroup_free (cg);
  fuzz_error_check (&err);
  free (text);
  return 0;
}
