/* The network options of the command line and of ctr.json (src/network/addr.c,
   attach_list.c): each line of the input tried as --subnet / --ipv6 (CIDR), --ip / --gateway
   (address), --publish (network_parse_publish) and interface name; all lines together as
   one --publish list (network_parse_ports). */
#include <config.h>
#include "fuzz.h"
#include "network/network-internal.h"

static void
one (const char *s)
{
  ctr_error_t err = NULL;
  struct network_cidr c;
  struct network_port p;
  uint8_t addr[16];
  int family;

  if (network_cidr_parse (s, "subnet", &c, &err) == 0)
    {
      free (network_cidr_format (&c));
      network_cidr_has_host_bits (&c);
      network_cidr_nth (&c, network_cidr_size (&c) - 1, addr);
      network_cidr_offset (&c, addr);
    }
  fuzz_error_check (&err);
  if (network_addr_parse (s, "ip", addr, &family, &err) == 0)
    free (network_addr_format (family, addr));
  fuzz_error_check (&err);
  memset (&p, 0, sizeof p);
  if (network_parse_publish (s, &p, &err) == 0)
    network_port_clear (&p);
  fuzz_error_check (&err);
  network_check_ifname (s, "interface", &err);
  fuzz_error_check (&err);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_string (data, size), *save = NULL, *line;
  char *lines[17];
  size_t n = 0, nports = 0;
  struct network_port *ports = NULL;
  ctr_error_t err = NULL;

  for (line = strtok_r (text, "\n", &save); line && n < 16; line = strtok_r (NULL, "\n", &save))
    {
      one (line);
      lines[n++] = line;
    }
  lines[n] = NULL;
  network_parse_ports (lines, &ports, &nports, &err);
  network_ports_free (ports, nports);
  fuzz_error_check (&err);
  free (text);
  return 0;
}
