/* A system container's ctr.json (src/system/store.c): store_meta_parse, then what `ctr
   config` and `ctr start` do with its values: every key formatted (store_meta_get), the stop
   signal parsed, the published ports parsed. */
#include <config.h>
#include "fuzz.h"
#include "base/util.h"
#include "network/network.h"
#include "system/store.h"

static const char *const keys[]
    = { "template", "created", "kind",    "autostart", "stop_signal", "stop_timeout",
        "net",      "ip",      "publish", "last_exit", "nonesuch" };

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ctr_error_t err = NULL;
  struct store_meta m;

  if (store_meta_parse ((const char *)data, size, "fuzz/ctr.json", &m, &err) == 0)
    {
      struct network_port *ports = NULL;
      size_t n = 0;
      for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        {
          char *v = NULL;
          if (store_meta_get (&m, keys[i], &v, &err) == 0)
            free (v);
          fuzz_error_check (&err);
        }
      if (m.stop_signal)
        signal_parse (m.stop_signal);
      network_parse_ports (m.publish, &ports, &n, &err);
      network_ports_free (ports, n);
      store_meta_clear (&m);
    }
  fuzz_error_check (&err);
  return 0;
}
