/* The monitor protocol (src/system/monitor_*.c): each input is one SOCK_SEQPACKET message,
   decoded as the monitor decodes a client's request (monitor_request_decode) and as
   `ctr stop` decodes the monitor's EXIT reply (monitor_exit_decode). */
#include <config.h>
#include "fuzz.h"
#include "system/monitor.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* the monitor reads at most 1 + 4096 bytes of a message */
  char *buf = malloc (size ? size : 1);
  struct monitor_request req;
  int32_t status, flags;
  int r;

  memcpy (buf, data, size);
  r = monitor_request_decode (buf, size, &req);
  if (r > 0 && req.type == 'D' && (req.data != buf + 1 || req.len != size - 1))
    abort ();
  if (r > 0 && req.type == 'S' && req.timeout < 0)
    abort ();
  if (r > 0 && req.len)
    {
      volatile char sink = req.data[req.len - 1]; /* the payload lies inside the message */
      (void)sink;
    }
  if (monitor_exit_decode (buf, size, &status, &flags) == 0 && size < 5)
    abort ();
  free (buf);
  return 0;
}
