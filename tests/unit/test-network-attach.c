/* test-network-attach: TAP tests of network_attach/detach in real namespaces (root), timing. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "netlink/netlink.h"
#include "network/network-internal.h"
#include "tap.h"
#include "base/util.h"

#define NET_A "ctrta"
#define NET_B "ctrtb"
#define OUT_HOST "ctrtout0"
#define OUT_PEER "ctrtout1"
#define N_CONCURRENT 50
#define N_TIMED 50

static char root_dir[] = "/tmp/ctr-test-attach-XXXXXX";
static int out_ns = -1;

static void
diag_err (ctr_error_t *err)
{
  if (*err)
    diag ("error: %s%s%s", (*err)->msg, (*err)->status ? ": " : "",
          (*err)->status ? strerror ((*err)->status) : "");
  ctr_error_free (err);
}

/* A fresh network namespace, held by the returned fd only. */
static int
make_netns (void)
{
  int self = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), ns;

  if (self < 0 || unshare (CLONE_NEWNET) < 0)
    abort ();
  ns = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns (self, CLONE_NEWNET) < 0)
    abort ();
  close (self);
  return ns;
}

/* A socket created inside ns (-1: here). */
static int
socket_in (int ns, int type)
{
  int self = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), s;

  if (ns >= 0 && setns (ns, CLONE_NEWNET) < 0)
    abort ();
  s = socket (AF_INET, type | SOCK_CLOEXEC, 0);
  if (ns >= 0 && setns (self, CLONE_NEWNET) < 0)
    abort ();
  close (self);
  return s;
}

static struct sockaddr_in
sin_of (const char *ip, int port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
  inet_pton (AF_INET, ip, &sa.sin_addr);
  return sa;
}

static int
listen_in (int ns, const char *ip, int port)
{
  struct sockaddr_in sa = sin_of (ip, port);
  int s = socket_in (ns, SOCK_STREAM), one = 1;

  setsockopt (s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one));
  if (bind (s, (struct sockaddr *)&sa, sizeof (sa)) < 0 || listen (s, 8) < 0)
    {
      diag ("listen on %s:%d: %s", ip, port, strerror (errno));
      close (s);
      return -1;
    }
  return s;
}

/* Connects from ns to ip:port and accepts on lfd; peer gets the address the server saw. */
static bool
tcp_reaches (int ns, const char *ip, int port, int lfd, char peer[INET_ADDRSTRLEN], int ms)
{
  struct sockaddr_in sa = sin_of (ip, port), from;
  socklen_t len = sizeof (from);
  struct pollfd p;
  int s = socket_in (ns, SOCK_STREAM | SOCK_NONBLOCK), e = 0, c;
  bool ok = false;

  if (connect (s, (struct sockaddr *)&sa, sizeof (sa)) < 0 && errno != EINPROGRESS)
    goto out;
  p = (struct pollfd){ .fd = s, .events = POLLOUT };
  len = sizeof (e);
  if (poll (&p, 1, ms) != 1 || getsockopt (s, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e)
    goto out;
  p = (struct pollfd){ .fd = lfd, .events = POLLIN };
  if (poll (&p, 1, ms) != 1)
    goto out;
  len = sizeof (from);
  c = accept4 (lfd, (struct sockaddr *)&from, &len, SOCK_CLOEXEC);
  if (c < 0)
    goto out;
  close (c);
  if (peer)
    inet_ntop (AF_INET, &from.sin_addr, peer, INET_ADDRSTRLEN);
  ok = true;
out:
  close (s);
  return ok;
}

/* The address without its prefix length. */
static char *
bare (const char *cidr)
{
  return xstrndup (cidr, strcspn (cidr, "/"));
}

static int
attach (const char *network, const char *owner, int ns, const struct network_port *ports,
        size_t n_ports, struct network_attachment *out)
{
  struct network_attach_request req = { .network = network,
                                        .owner = owner,
                                        .owner_pid = getpid (),
                                        .ifname = "eth0",
                                        .netns_fd = ns,
                                        .ports = ports,
                                        .n_ports = n_ports };
  ctr_error_t err = NULL;
  int r = network_attach (&req, out, &err);
  diag_err (&err);
  return r;
}

static void
detach (const char *owner)
{
  ctr_error_t err = NULL;
  if (network_detach_all (owner, &err) < 0)
    diag_err (&err);
}

/* The "internet": a namespace behind a veth from the host, with no route to the subnets. */
static bool
make_outside (void)
{
  cleanup_netlink struct netlink *nl = NULL, *ns = NULL;
  ctr_error_t err = NULL;
  struct netlink_veth v = { .name = OUT_HOST, .peer_name = OUT_PEER, .up = true };
  uint8_t host[4] = { 10, 204, 0, 1 }, peer[4] = { 10, 204, 0, 2 };
  int hi, pi;

  out_ns = make_netns ();
  v.peer_netns_fd = out_ns;
  nl = netlink_open (&err);
  ns = nl ? netlink_open_in_netns (out_ns, &err) : NULL;
  if (ns == NULL || netlink_veth_create (nl, &v, &err) < 0
      || (hi = netlink_link_index (nl, OUT_HOST, &err)) <= 0
      || (pi = netlink_link_index (ns, OUT_PEER, &err)) <= 0
      || netlink_addr_add (nl, hi, AF_INET, host, 24, &err) < 0
      || netlink_addr_add (ns, pi, AF_INET, peer, 24, &err) < 0
      || netlink_link_set_up (ns, 1, true, &err) < 0
      || netlink_link_set_up (ns, pi, true, &err) < 0)
    {
      diag_err (&err);
      return false;
    }
  return true;
}

static void
cleanup_all (void)
{
  cleanup_netlink struct netlink *nl = netlink_open (NULL);
  ctr_error_t err = NULL;
  static bool done;
  char owner[32];

  if (done)
    return;
  done = true;
  for (int i = 0; i < N_CONCURRENT; i++)
    {
      snprintf (owner, sizeof (owner), "ctrt-c%d", i);
      detach (owner);
    }
  detach ("ctrt-one");
  detach ("ctrt-two");
  detach ("ctrt-three");
  detach ("ctrt-timed");
  if (network_remove (NET_A, &err) < 0 && err->status != ENOENT)
    diag_err (&err);
  ctr_error_free (&err);
  if (network_remove (NET_B, &err) < 0 && err->status != ENOENT)
    diag_err (&err);
  ctr_error_free (&err);
  if (nl && netlink_link_del (nl, OUT_HOST, &err) < 0)
    diag_err (&err);
}

static int
link_exists (const char *name)
{
  cleanup_netlink struct netlink *nl = netlink_open (NULL);
  return nl ? netlink_link_index (nl, name, NULL) > 0 : -1;
}

static void
test_reach_and_isolation (void)
{
  struct network_attachment a1 = { 0 }, a2 = { 0 }, b1 = { 0 };
  int ns1 = make_netns (), ns2 = make_netns (), ns3 = make_netns (), lfd;
  cleanup_free char *ip1 = NULL;
  char peer[INET_ADDRSTRLEN] = "";

  ok (attach (NET_A, "ctrt-one", ns1, NULL, 0, &a1) == 0, "attach one to " NET_A);
  ok (attach (NET_A, "ctrt-two", ns2, NULL, 0, &a2) == 0, "attach two to " NET_A);
  ok (attach (NET_B, "ctrt-three", ns3, NULL, 0, &b1) == 0, "attach three to " NET_B);
  if (a1.address == NULL || a2.address == NULL || b1.address == NULL)
    return;
  diag ("one %s (%s, %s), two %s, three %s", a1.address, a1.host_ifname, a1.mac, a2.address,
        b1.address);
  ok (strcmp (a1.address, a2.address) != 0, "distinct addresses");
  ip1 = bare (a1.address);
  lfd = listen_in (ns1, ip1, 7000);
  ok (tcp_reaches (ns2, ip1, 7000, lfd, peer, 1000), "two reaches one over TCP");
  ok (!tcp_reaches (ns3, ip1, 7000, lfd, NULL, 300),
      "a container of " NET_B " cannot reach " NET_A);
  ok (tcp_reaches (-1, ip1, 7000, lfd, NULL, 1000), "the host reaches one");
  close (lfd);

  /* NAT: the outside has no route back, so only a masqueraded connection comes through */
  lfd = listen_in (out_ns, "10.204.0.2", 9000);
  ok (tcp_reaches (ns1, "10.204.0.2", 9000, lfd, peer, 1000), "one reaches the outside");
  is (peer, "10.204.0.1", "the outside sees the host's address (masquerade)");
  ok (!tcp_reaches (ns3, "10.204.0.2", 9000, lfd, NULL, 300), NET_B " (no NAT) does not");
  close (lfd);
  network_attachment_clear (&a1);
  network_attachment_clear (&a2);
  network_attachment_clear (&b1);
  detach ("ctrt-one");
  detach ("ctrt-two");
  detach ("ctrt-three");
  close (ns1);
  close (ns2);
  close (ns3);
}

static void
test_publish (void)
{
  struct network_port port = { .host_port = 18080, .port = 80, .proto = IPPROTO_TCP };
  struct network_attachment a = { 0 };
  int ns = make_netns (), lfd;
  cleanup_free char *ip = NULL;
  char peer[INET_ADDRSTRLEN];

  if (!ok (attach (NET_A, "ctrt-one", ns, &port, 1, &a) == 0, "attach with --publish 18080:80"))
    return;
  ip = bare (a.address);
  lfd = listen_in (ns, ip, 80);
  ok (tcp_reaches (-1, "10.204.0.1", 18080, lfd, NULL, 1000),
      "published port reachable from the host");
  ok (tcp_reaches (out_ns, "10.204.0.1", 18080, lfd, peer, 1000),
      "published port reachable from the outside");
  close (lfd);
  network_attachment_clear (&a);
  ok (system ("nft list table inet ctr | grep -q 'ctr:ctrt-one/eth0'") == 0,
      "the port rules are tagged");
  detach ("ctrt-one");
  ok (system ("nft list table inet ctr | grep -q 'ctr:ctrt-one/'") != 0,
      "detach deleted the port rules");
  ok (link_exists (NET_A) == 1, "the bridge stays after the last detach");
  close (ns);
}

/* 50 processes attach at once; each reports its address through the pipe. */
static void
test_concurrent (void)
{
  int fds[2];
  char buf[N_CONCURRENT * 32 + 1] = "", *line, *save = NULL;
  size_t len = 0;
  ssize_t n;
  cleanup_strv char **seen = xzalloc ((N_CONCURRENT + 1) * sizeof (char *));
  int count = 0, dups = 0;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    abort ();
  for (int i = 0; i < N_CONCURRENT; i++)
    if (fork () == 0)
      {
        struct network_attachment a = { 0 };
        char owner[32], out[64];
        struct network_attach_request req = { .network = NET_A,
                                              .owner = owner,
                                              .owner_pid = getppid (),
                                              .ifname = "eth0",
                                              .netns_fd = make_netns () };
        ctr_error_t err = NULL;
        snprintf (owner, sizeof (owner), "ctrt-c%d", i);
        if (network_attach (&req, &a, &err) < 0)
          {
            snprintf (out, sizeof (out), "error\n");
            fprintf (stderr, "# %s: %s\n", owner, err->msg);
          }
        else
          snprintf (out, sizeof (out), "%s\n", a.address);
        write_all (fds[1], out, strlen (out));
        _exit (0);
      }
  close (fds[1]);
  while ((n = read (fds[0], buf + len, sizeof (buf) - 1 - len)) > 0)
    len += (size_t)n;
  close (fds[0]);
  while (wait (NULL) > 0)
    ;
  for (line = strtok_r (buf, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      for (int j = 0; j < count; j++)
        dups += strcmp (seen[j], line) == 0;
      if (count < N_CONCURRENT)
        seen[count++] = xstrdup (line);
    }
  is_int (count, N_CONCURRENT, "%d concurrent attaches all answered", N_CONCURRENT);
  ok (strv_len (seen) == N_CONCURRENT && dups == 0, "%d distinct addresses (%d duplicates)",
      N_CONCURRENT, dups);
  for (int j = 0; j < count; j++)
    if (strcmp (seen[j], "error") == 0)
      {
        fail ("an attach failed");
        break;
      }
  for (int i = 0; i < N_CONCURRENT; i++)
    {
      char owner[32];
      snprintf (owner, sizeof (owner), "ctrt-c%d", i);
      detach (owner);
    }
  struct network_leases l = { 0 };
  ctr_error_t err = NULL;
  ok (network_leases_read (NET_A, &l, &err) == 0 && l.n == 0, "detach freed every lease");
  network_leases_clear (&l);
  ok (system ("ip -br link | grep -q '^veth.*@.*" NET_A "'; test $? -ne 0") == 0
          && system ("test -z \"$(ip -br link show master " NET_A ")\"") == 0,
      "no veth left in the bridge");
}

/* A lease whose owner process died is reclaimed by the next attach. */
static void
test_reclaim (void)
{
  struct network_attach_request req = { .network = NET_A, .owner = "ctrt-two", .ifname = "eth0" };
  struct network_attachment a = { 0 };
  struct network_leases l = { 0 };
  ctr_error_t err = NULL;
  int ns = make_netns ();
  pid_t child = fork ();

  if (child == 0)
    {
      pause ();
      _exit (0);
    }
  req.owner_pid = child;
  req.netns_fd = ns;
  ok (network_attach (&req, &a, &err) == 0, "attach owned by a child");
  diag_err (&err);
  kill (child, SIGKILL);
  waitpid (child, NULL, 0);
  network_attachment_clear (&a);
  close (ns); /* the namespace dies with its last holder, and the veth pair with it */
  ns = make_netns ();
  ok (attach (NET_A, "ctrt-one", ns, NULL, 0, &a) == 0, "attach another");
  ok (network_leases_read (NET_A, &l, &err) == 0 && l.n == 1
          && strcmp (l.v[0].owner, "ctrt-one") == 0,
      "the SIGKILLed owner's lease was reclaimed");
  network_leases_clear (&l);
  network_attachment_clear (&a);
  detach ("ctrt-one");
  close (ns);
}

static void
skip_one (const char *what, const char *why)
{
  printf ("ok %d - %s # SKIP %s\n", ++tap_state ()->run, what, why);
}

static int
compare_u64 (const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void
test_timing (void)
{
  uint64_t t[N_TIMED];
  int fails = 0;

  for (int i = 0; i < N_TIMED; i++)
    {
      struct network_attachment a = { 0 };
      int ns = make_netns ();
      uint64_t start = now_ns ();
      fails += attach (NET_A, "ctrt-timed", ns, NULL, 0, &a) < 0;
      t[i] = now_ns () - start;
      network_attachment_clear (&a);
      detach ("ctrt-timed");
      close (ns);
    }
  qsort (t, N_TIMED, sizeof (t[0]), compare_u64);
  ok (fails == 0, "%d attaches in a row", N_TIMED);
  /* for reading only: bench/net.sh measures the cost, side by side (no test asserts time) */
  diag ("network_attach: median %.3f ms, min %.3f ms, max %.3f ms (of %d)", t[N_TIMED / 2] / 1e6,
        t[0] / 1e6, t[N_TIMED - 1] / 1e6, N_TIMED);
}

int
main (void)
{
  struct network_create_options a = { .subnet = "10.203.1.0/24" };
  struct network_create_options b = { .subnet = "10.203.2.0/24", .no_nat = true };
  ctr_error_t err = NULL;
  bool table_before;

  if (geteuid () != 0)
    {
      printf ("1..0 # SKIP needs root\n");
      return 0;
    }
  if (mkdtemp (root_dir) == NULL)
    return 1;
  setenv ("CTR_NETWORK_ROOT", root_dir, 1);
  if (link_exists (NET_A) || link_exists (NET_B) || link_exists (OUT_HOST))
    {
      printf ("1..0 # SKIP test links " NET_A "/" NET_B "/" OUT_HOST " exist already\n");
      rmdir (root_dir);
      return 0;
    }
  table_before = system ("nft list table inet ctr >/dev/null 2>&1") == 0;
  atexit (cleanup_all);
  ok (network_create (NET_A, &a, &err) == 0 && network_create (NET_B, &b, &err) == 0,
      "create " NET_A " and " NET_B);
  diag_err (&err);
  ok (make_outside (), "outside namespace");
  test_reach_and_isolation ();
  test_publish ();
  test_reclaim ();
  test_concurrent ();
  test_timing ();
  cleanup_all ();
  ok (!link_exists (NET_A) && !link_exists (NET_B) && !link_exists (OUT_HOST),
      "no bridge or veth left");
  if (table_before)
    skip_one ("no nft table left", "the host had an `inet ctr` table before");
  else
    ok (system ("nft list table inet ctr >/dev/null 2>&1") != 0, "no nft table left");
  char *cmd = xasprintf (
      "test -z \"$(ls -A %s/run 2>/dev/null | grep -v -x -e networks.lock -e nft.lock -e ports.lock)\"",
      root_dir);
  ok (system (cmd) == 0, "no lease or lock file of a network left");
  free (cmd);
  cmd = xasprintf ("rm -rf %s", root_dir);
  if (system (cmd) != 0)
    diag ("could not remove %s", root_dir);
  free (cmd);
  return done_testing ();
}
