/* test-network: TAP tests of network/: CIDR and publish parsing, definitions, IPAM and reclaim. */
#include <config.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/wait.h>

#include "network/network-internal.h"
#include "tap.h"
#include "base/util.h"

static char *
err_msg (ctr_error_t *err)
{
  static char buf[512];
  snprintf (buf, sizeof (buf), "%s", *err ? (*err)->msg : "(no error)");
  ctr_error_free (err);
  return buf;
}

static void
test_cidr (void)
{
  struct network_cidr c, d;
  ctr_error_t err = NULL;
  uint8_t a[16];
  int family;

  ok (network_cidr_parse ("10.88.0.0/16", "subnet", &c, &err) == 0 && c.prefix == 16
          && c.family == AF_INET,
      "parse 10.88.0.0/16");
  ok (!network_cidr_has_host_bits (&c), "10.88.0.0/16 has no host bits");
  network_cidr_nth (&c, 5, a);
  is (network_addr_format (AF_INET, a), "10.88.0.5", "5th address of 10.88.0.0/16");
  network_cidr_nth (&c, 256 + 7, a);
  is_int (network_cidr_offset (&c, a), 263, "offset of 10.88.1.7");
  is_int (network_cidr_size (&c), 65536, "size of a /16");
  ok (network_cidr_contains (&c, AF_INET, a), "10.88.1.7 inside");
  network_cidr_parse ("10.88.128.0/17", "subnet", &d, &err);
  ok (network_cidr_overlaps (&c, &d), "10.88.128.0/17 overlaps 10.88.0.0/16");
  network_cidr_parse ("10.89.0.0/16", "subnet", &d, &err);
  ok (!network_cidr_overlaps (&c, &d), "10.89.0.0/16 does not overlap");
  ok (network_cidr_parse ("10.88.0.1/16", "subnet", &d, &err) == 0
          && network_cidr_has_host_bits (&d),
      "10.88.0.1/16 has host bits");
  ok (network_cidr_parse ("fd00:1::/64", "ipv6", &d, &err) == 0 && d.family == AF_INET6,
      "parse an IPv6 prefix");
  network_cidr_nth (&d, 0x0a000002, a);
  is (network_addr_format (AF_INET6, a), "fd00:1::a00:2", "IPv6 host from an offset");
  const char *bad[] = { "10.88.0.0", "10.88.0.0/",   "10.88.0.0/33", "10.88.0/16",
                        "x/8",       "10.88.0.0/-1", "10.88.0.0/1x", "" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      ok (network_cidr_parse (bad[i], "subnet", &d, &err) < 0, "malformed CIDR `%s` rejected",
          bad[i]);
      like (err_msg (&err), "invalid subnet", "error names the subnet");
    }
  ok (network_addr_parse ("1.2.3.4", "gateway", a, &family, &err) == 0 && family == AF_INET,
      "bare address");
  ok (network_addr_parse ("1.2.3", "gateway", a, &family, &err) < 0, "bad address");
  like (err_msg (&err), "invalid gateway `1.2.3`", "error names the address");
}

static void
test_publish (void)
{
  struct network_port p;
  ctr_error_t err = NULL;

  ok (network_parse_publish ("8080:80", &p, &err) == 0 && p.host_port == 8080 && p.port == 80
          && p.proto == IPPROTO_TCP && p.host_ip == NULL,
      "8080:80");
  network_port_clear (&p);
  ok (network_parse_publish ("192.0.2.2:53:5353/udp", &p, &err) == 0 && p.host_port == 53
          && p.port == 5353 && p.proto == IPPROTO_UDP && p.host_ip
          && strcmp (p.host_ip, "192.0.2.2") == 0,
      "192.0.2.2:53:5353/udp");
  network_port_clear (&p);
  const char *bad[]
      = { "80", "0:80", "8080:70000", "8080:80/sctp", "x:80:80", "::1:80:80", "8080:", ":80", "" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      ok (network_parse_publish (bad[i], &p, &err) < 0, "bad publish spec `%s` rejected", bad[i]);
      like (err_msg (&err), "invalid publish spec", "error names the spec");
    }
}

static void test_port_holders (void);

static void
test_ipam (void)
{
  struct network_create_options o = { .subnet = "10.201.7.0/29", .no_nat = true };
  struct network_leases l = { 0 }, stale = { 0 };
  struct network_lease lease = { 0 };
  struct network_def def;
  ctr_error_t err = NULL;
  uint8_t a[16];
  pid_t child;
  char *text;

  ok (network_create ("ctrtu", &o, &err) == 0, "create ctrtu (%s)", err ? err_msg (&err) : "ok");
  ok (network_create ("ctrtu", &o, &err) < 0, "second create refused");
  like (err_msg (&err), "network `ctrtu` already exists", "duplicate name");
  o.bridge = "ctrtu2";
  ok (network_create ("ctrtu2", &o, &err) < 0, "overlapping subnet refused");
  like (err_msg (&err), "overlaps network `ctrtu`", "overlap names the other network");
  ok (network_def_load ("ctrtu", &def, &err) == 0, "load ctrtu");
  for (int i = 0; i < 3; i++)
    {
      ok (network_leases_pick (&def, &l, NULL, a, &err) == 0, "pick %d", i);
      text = network_addr_format (AF_INET, a);
      lease.address = text;
      lease.owner = (char *)"owner";
      lease.pid = getpid ();
      lease.start = network_pid_start_time (getpid ());
      network_leases_add (&l, &lease);
      free (text);
    }
  is (l.v[0].address, "10.201.7.2", "first lease skips the gateway");
  is (l.v[2].address, "10.201.7.4", "leases are distinct");
  ok (network_leases_pick (&def, &l, "10.201.7.9", a, &err) < 0, "static outside refused");
  like (err_msg (&err), "outside the subnet", "outside");
  ok (network_leases_pick (&def, &l, "10.201.7.1", a, &err) < 0, "static gateway refused");
  ok (network_leases_pick (&def, &l, "10.201.7.7", a, &err) < 0, "static broadcast refused");
  ok (network_leases_pick (&def, &l, "10.201.7.3", a, &err) < 0, "static leased refused");
  like (err_msg (&err), "already leased", "leased");
  ok (network_leases_pick (&def, &l, "10.201.7.6", a, &err) == 0, "static free address taken");
  ok (network_leases_pick (&def, &l, NULL, a, &err) == 0, "pick a 4th");
  is (network_addr_format (AF_INET, a), "10.201.7.5", "4th address");

  child = fork ();
  if (child == 0)
    _exit (0);
  lease.address = (char *)"10.201.7.5";
  lease.pid = child;
  lease.start = network_pid_start_time (child);
  network_leases_add (&l, &lease);
  waitpid (child, NULL, 0);
  l.v[0].ports = xstrdup ("18396/udp,192.0.2.1:18397/tcp");
  ok (network_leases_write ("ctrtu", &l, &err) == 0, "write leases (%s)",
      err ? err_msg (&err) : "ok");
  network_leases_clear (&l);
  ok (network_leases_read ("ctrtu", &l, &err) == 0 && l.n == 4, "read back 4 leases");
  is (l.v[0].ports, "18396/udp,192.0.2.1:18397/tcp", "a lease keeps its published ports");
  ok (l.v[1].ports == NULL, "a lease without ports has none");
  test_port_holders ();
  network_leases_take_stale (&l, &stale);
  ok (l.n == 3 && stale.n == 1 && strcmp (stale.v[0].address, "10.201.7.5") == 0,
      "a dead owner's lease is reclaimed");
  ok (network_remove ("ctrtu", &err) < 0, "rm refused while leased");
  like (err_msg (&err), "in use by `owner`", "rm names the user");
  network_leases_clear (&l);
  network_leases_clear (&stale);
  network_leases_write ("ctrtu", &l, &err);
  ok (network_remove ("ctrtu", &err) == 0, "rm (%s)", err ? err_msg (&err) : "ok");
  ok (network_def_load ("ctrtu", &def, &err) < 0, "gone");
  like (err_msg (&err), "network `ctrtu` does not exist", "unknown network");
}

static void
test_port_holders (void)
{
  struct network_port p[2] = { 0 };
  ctr_error_t err = NULL;

  ok (network_parse_publish ("18396:53/udp", &p[0], &err) == 0, "parse a udp port");
  ok (network_ports_check_free ("other", p, 1, &err) < 0, "a port another lease holds is refused");
  like (err_msg (&err), "already published by `owner` (network `ctrtu`)", "names the holder");
  ok (network_ports_check_free ("owner", p, 1, &err) == 0, "its own port is no clash (%s)",
      err ? err_msg (&err) : "ok");
  network_port_clear (&p[0]);
  ok (network_parse_publish ("18397:80", &p[0], &err) == 0, "parse a tcp port");
  ok (network_ports_check_free ("other", p, 1, &err) < 0, "every address clashes with one");
  ctr_error_free (&err);
  network_port_clear (&p[0]);
  ok (network_parse_publish ("127.0.0.1:18398:80", &p[0], &err) == 0
          && network_ports_check (p, 1, &err) == 0,
      "a loopback host address is taken (%s)", err ? err_msg (&err) : "ok");
  ok (network_port_reaches_loopback (&p[0]), "and reaches the host's loopback");
  ctr_error_free (&err);
  network_port_clear (&p[0]);
  ok (network_parse_publish ("[::1]:18398:80", &p[0], &err) < 0, "an IPv6 host address is refused");
  like (err_msg (&err), "IPv4 host addresses only", "says why");
  ctr_error_free (&err);
  ok (network_parse_publish ("18398:80", &p[0], &err) == 0
          && network_parse_publish ("18398:81", &p[1], &err) == 0
          && network_ports_check (p, 2, &err) < 0,
      "a host port twice is refused");
  ctr_error_free (&err);
  network_port_clear (&p[0]);
  network_port_clear (&p[1]);
}

int
main (void)
{
  char tmpl[] = "/tmp/ctr-test-network-XXXXXX";
  char *resolv;

  test_cidr ();
  test_publish ();
  resolv = network_resolv_conf ();
  ok (resolv && strstr (resolv, "nameserver 127.") == NULL, "resolv.conf without loopback servers");
  free (resolv);
  if (geteuid () != 0)
    printf ("ok %d - IPAM # SKIP needs root\n", ++tap_state ()->run);
  else if (mkdtemp (tmpl) == NULL)
    fail ("mkdtemp: %s", strerror (errno));
  else
    {
      setenv ("CTR_NETWORK_ROOT", tmpl, 1);
      test_ipam ();
      char *cmd = xasprintf ("rm -rf %s", tmpl);
      if (system (cmd) != 0)
        diag ("could not remove %s", tmpl);
      free (cmd);
    }
  return done_testing ();
}
