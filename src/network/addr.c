/* network/addr: CIDR and address parsing and arithmetic, --publish specs, interface names. */
#include <config.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "network/network-internal.h"
#include "base/util.h"

static size_t
addr_len (int family)
{
  return family == AF_INET6 ? 16 : 4;
}

int
network_addr_parse (const char *s, const char *what, uint8_t out[16], int *family, ctr_error_t *err)
{
  memset (out, 0, 16);
  if (s && inet_pton (AF_INET, s, out) == 1)
    *family = AF_INET;
  else if (s && inet_pton (AF_INET6, s, out) == 1)
    *family = AF_INET6;
  else
    return ctr_error (err, 0, "invalid %s `%s`: not an IP address", what, s ? s : "");
  return 0;
}

int
network_cidr_parse (const char *s, const char *what, struct network_cidr *out, ctr_error_t *err)
{
  const char *slash = s ? strchr (s, '/') : NULL;
  cleanup_free char *addr = NULL;
  ctr_error_t ignored = NULL;
  char *end;
  long prefix;

  memset (out, 0, sizeof (*out));
  if (slash == NULL || slash[1] == '\0')
    return ctr_error (err, 0, "invalid %s `%s`: expected ADDRESS/PREFIX", what, s ? s : "");
  addr = xstrndup (s, (size_t)(slash - s));
  if (network_addr_parse (addr, what, out->addr, &out->family, &ignored) < 0)
    {
      ctr_error_free (&ignored);
      return ctr_error (err, 0, "invalid %s `%s`: bad address", what, s);
    }
  errno = 0;
  prefix = strtol (slash + 1, &end, 10);
  if (errno || *end || end == slash + 1 || slash[1] == '-' || slash[1] == '+' || prefix < 0
      || (size_t)prefix > addr_len (out->family) * 8)
    return ctr_error (err, 0, "invalid %s `%s`: bad prefix length", what, s);
  out->prefix = (unsigned int)prefix;
  return 0;
}

/* Bit i (from the most significant) of addr. */
static bool
bit_at (const uint8_t *addr, unsigned int i)
{
  return (addr[i / 8] >> (7 - i % 8)) & 1;
}

bool
network_cidr_has_host_bits (const struct network_cidr *c)
{
  unsigned int i;

  for (i = c->prefix; i < addr_len (c->family) * 8; i++)
    if (bit_at (c->addr, i))
      return true;
  return false;
}

static bool
prefix_equal (const uint8_t *a, const uint8_t *b, unsigned int bits)
{
  unsigned int i;

  for (i = 0; i < bits; i++)
    if (bit_at (a, i) != bit_at (b, i))
      return false;
  return true;
}

bool
network_cidr_contains (const struct network_cidr *c, int family, const uint8_t *addr)
{
  return family == c->family && prefix_equal (c->addr, addr, c->prefix);
}

bool
network_cidr_overlaps (const struct network_cidr *a, const struct network_cidr *b)
{
  if (a->family != b->family)
    return false;
  return prefix_equal (a->addr, b->addr, a->prefix < b->prefix ? a->prefix : b->prefix);
}

/* The last 32 bits of an address, host order. */
static uint32_t
low32 (const uint8_t *addr, int family)
{
  const uint8_t *p = addr + addr_len (family) - 4;
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
host_mask (const struct network_cidr *c)
{
  unsigned int host_bits = (unsigned int)addr_len (c->family) * 8 - c->prefix;
  return host_bits >= 32 ? UINT32_MAX : (UINT32_C (1) << host_bits) - 1;
}

void
network_cidr_nth (const struct network_cidr *c, uint32_t offset, uint8_t out[16])
{
  size_t len = addr_len (c->family);
  uint32_t mask = host_mask (c);
  uint32_t v = (low32 (c->addr, c->family) & ~mask) | (offset & mask);
  uint8_t *p;

  memset (out, 0, 16);
  memcpy (out, c->addr, len);
  p = out + len - 4;
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

uint32_t
network_cidr_offset (const struct network_cidr *c, const uint8_t *addr)
{
  return low32 (addr, c->family) & host_mask (c);
}

uint32_t
network_cidr_size (const struct network_cidr *c)
{
  uint32_t mask = host_mask (c);
  return mask == UINT32_MAX ? UINT32_MAX : mask + 1;
}

char *
network_addr_format (int family, const uint8_t *addr)
{
  char buf[INET6_ADDRSTRLEN];

  if (inet_ntop (family, addr, buf, sizeof (buf)) == NULL)
    return xstrdup ("?");
  return xstrdup (buf);
}

char *
network_cidr_format (const struct network_cidr *c)
{
  cleanup_free char *a = network_addr_format (c->family, c->addr);
  return xasprintf ("%s/%u", a, c->prefix);
}

uint32_t
network_hash (const char *a, const char *b)
{
  uint32_t h = 2166136261u;
  const char *parts[] = { a, "/", b };
  size_t i;

  for (i = 0; i < ARRAY_SIZE (parts); i++)
    for (const char *p = parts[i]; p && *p; p++)
      {
        h ^= (uint8_t)*p;
        h *= 16777619u;
      }
  return h;
}

int
network_check_ifname (const char *name, const char *what, ctr_error_t *err)
{
  if (name == NULL || *name == '\0' || strlen (name) > 15 || strpbrk (name, "/: \t\n")
      || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return ctr_error (err, 0,
                      "invalid %s `%s`: interface names have 1 to 15 characters, "
                      "without '/', ':' or spaces",
                      what, name ? name : "");
  return 0;
}

static int
parse_port (const char *s, const char *spec, uint16_t *out, ctr_error_t *err)
{
  uint64_t v;

  if (parse_uint64 (s, &v) < 0 || v == 0 || v > 65535)
    return ctr_error (err, 0, "invalid publish spec `%s`: bad port `%s`", spec, s);
  *out = (uint16_t)v;
  return 0;
}

/* Splits "[HOSTIP:]HOSTPORT:PORT" (already without /proto) at its colons. */
static int
parse_publish_parts (char *s, const char *spec, struct network_port *out, ctr_error_t *err)
{
  char *last = strrchr (s, ':'), *first;
  uint8_t addr[16];
  int family = 0;
  ctr_error_t ignored = NULL;

  if (last == NULL)
    return ctr_error (err, 0, "invalid publish spec `%s`: expected [HOSTIP:]HOSTPORT:PORT", spec);
  *last = '\0';
  if (parse_port (last + 1, spec, &out->port, err) < 0)
    return -1;
  first = strrchr (s, ':');
  if (first)
    {
      *first = '\0';
      if (network_addr_parse (s, "host address", addr, &family, &ignored) < 0 || family != AF_INET)
        {
          ctr_error_free (&ignored);
          /* as podman's bridge networks: no DNAT to a container from ::1 */
          if (family == AF_INET6 || strchr (s, '['))
            return ctr_error (err, 0,
                              "invalid publish spec `%s`: IPv6 host address `%s`: ports are "
                              "published on IPv4 host addresses only",
                              spec, s);
          return ctr_error (err, 0, "invalid publish spec `%s`: bad IPv4 host address `%s`", spec,
                            s);
        }
      /* 0.0.0.0 is every address, as without one: no rule could match it literally */
      if (strcmp (s, "0.0.0.0") != 0)
        out->host_ip = xstrdup (s);
      s = first + 1;
    }
  return parse_port (s, spec, &out->host_port, err);
}

int
network_parse_publish (const char *spec, struct network_port *out, ctr_error_t *err)
{
  cleanup_free char *s = xstrdup (spec ? spec : "");
  char *proto = strchr (s, '/');

  memset (out, 0, sizeof (*out));
  out->proto = IPPROTO_TCP;
  if (proto)
    {
      *proto++ = '\0';
      if (strcmp (proto, "udp") == 0)
        out->proto = IPPROTO_UDP;
      else if (strcmp (proto, "tcp") != 0)
        return ctr_error (err, 0, "invalid publish spec `%s`: protocol must be tcp or udp", spec);
    }
  if (parse_publish_parts (s, spec, out, err) < 0)
    {
      network_port_clear (out);
      return -1;
    }
  return 0;
}

void
network_port_clear (struct network_port *p)
{
  free (p->host_ip);
  p->host_ip = NULL;
}

/* The alias ctr gives the links it makes for a network (ifalias): whose they are. */
char *
network_bridge_alias (const char *network)
{
  return xasprintf ("ctr network %.40s", network);
}
