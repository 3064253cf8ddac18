/* cli/network_cmd: `ctr network create|ls|inspect|rm`, the named networks containers join. */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "network/network.h"
#include "system/system.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr network COMMAND [OPTIONS]\n"
      "\n"
      "Manage the named networks (bridge, macvlan, ipvlan) containers join with --net.\n"
      "\n"
      "Commands:\n"
      "  create NAME [OPTIONS]  define a network (its bridge is made on first use)\n"
      "  ls [--format FORMAT]   list networks (table or json)\n"
      "  inspect NAME           print a network and its leases as JSON\n"
      "  rm [-f] NAME...        remove networks no container uses (stored system\n"
      "                         containers naming it, running containers on it);\n"
      "                         -f, --force: remove it anyway, with a warning\n"
      "\n"
      "Options of create:\n"
      "      --subnet CIDR      IPv4 subnet (default: the first free 10.N.0.0/16)\n"
      "      --gateway IP       gateway address on the bridge (default: the first address)\n"
      "      --bridge IFNAME    bridge name (default: NAME when it fits)\n"
      "      --no-nat           no masquerade to the outside\n"
      "      --ipv6 CIDR        also an IPv6 subnet\n"
      "      --mtu N            MTU of the bridge and veths, or of the children (default\n"
      "                         1500; macvlan/ipvlan: the parent's)\n"
      "      --dns-upstream IP  where the network's DNS server forwards other names\n"
      "                         (repeatable; default: the host's resolvers)\n"
      "      --no-dns           no DNS server (dnsmasq) on the gateway\n"
      "      --dhcp             the DNS server also serves DHCP: each container's address\n"
      "                         to its MAC, the rest of the subnet to other clients\n"
      "      --driver DRIVER    bridge (default), macvlan or ipvlan: a child of --parent\n"
      "                         per container, no NAT, no DNS server, no published ports\n"
      "      --parent IFNAME    host interface macvlan/ipvlan children hang from (needed);\n"
      "                         with --vlan, on a bridge network too\n"
      "      --mode MODE        macvlan: bridge (default), private, vepa, passthru;\n"
      "                         ipvlan: l2 (default), l3, l3s\n"
      "      --vlan ID          1..4094: ctr makes the VLAN link PARENT.ID with the first\n"
      "                         container and removes it with the last; it is the parent\n"
      "                         (macvlan/ipvlan) or a port of the bridge\n"
      "  -h, --help             show this help\n"
      "\n"
      "A container can also borrow a host interface: --net phys:IFNAME (see ctr-run(1)).\n";

enum
{
  OPT_SUBNET = 0x200,
  OPT_GATEWAY,
  OPT_BRIDGE,
  OPT_NO_NAT,
  OPT_IPV6,
  OPT_MTU,
  OPT_DNS_UPSTREAM,
  OPT_NO_DNS,
  OPT_DHCP,
  OPT_DRIVER,
  OPT_PARENT,
  OPT_MODE,
  OPT_VLAN,
};

static const struct option create_long_options[] = {
  { "subnet", required_argument, NULL, OPT_SUBNET },
  { "gateway", required_argument, NULL, OPT_GATEWAY },
  { "bridge", required_argument, NULL, OPT_BRIDGE },
  { "no-nat", no_argument, NULL, OPT_NO_NAT },
  { "ipv6", required_argument, NULL, OPT_IPV6 },
  { "mtu", required_argument, NULL, OPT_MTU },
  { "dns-upstream", required_argument, NULL, OPT_DNS_UPSTREAM },
  { "no-dns", no_argument, NULL, OPT_NO_DNS },
  { "dhcp", no_argument, NULL, OPT_DHCP },
  { "driver", required_argument, NULL, OPT_DRIVER },
  { "parent", required_argument, NULL, OPT_PARENT },
  { "mode", required_argument, NULL, OPT_MODE },
  { "vlan", required_argument, NULL, OPT_VLAN },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};
static int
create_option (int c, struct network_create_options *o, char ***upstreams, char **argv)
{
  uint64_t mtu, vlan;
  size_t n;

  switch (c)
    {
    case OPT_DRIVER:
      o->driver = optarg;
      return CLI_CONTINUE;
    case OPT_PARENT:
      o->parent = optarg;
      return CLI_CONTINUE;
    case OPT_MODE:
      o->mode = optarg;
      return CLI_CONTINUE;
    case OPT_VLAN:
      if (parse_uint64 (optarg, &vlan) < 0 || vlan < 1 || vlan > 4094)
        return cli_usage_error ("network create", "invalid --vlan \"%s\": from 1 to 4094", optarg);
      o->vlan = (unsigned int)vlan;
      return CLI_CONTINUE;
    case OPT_DNS_UPSTREAM:
      n = strv_len (*upstreams);
      *upstreams = xrealloc (*upstreams, (n + 2) * sizeof (char *));
      (*upstreams)[n] = xstrdup (optarg);
      (*upstreams)[n + 1] = NULL;
      o->dns_upstream = *upstreams;
      return CLI_CONTINUE;
    case OPT_NO_DNS:
      o->no_dns = true;
      return CLI_CONTINUE;
    case OPT_DHCP:
      o->dhcp = true;
      return CLI_CONTINUE;
    case OPT_SUBNET:
      o->subnet = optarg;
      return CLI_CONTINUE;
    case OPT_GATEWAY:
      o->gateway = optarg;
      return CLI_CONTINUE;
    case OPT_BRIDGE:
      o->bridge = optarg;
      return CLI_CONTINUE;
    case OPT_NO_NAT:
      o->no_nat = true;
      return CLI_CONTINUE;
    case OPT_IPV6:
      o->ipv6 = optarg;
      return CLI_CONTINUE;
    case OPT_MTU:
      if (parse_uint64 (optarg, &mtu) < 0 || mtu < 68 || mtu > 65535)
        return cli_usage_error ("network create", "invalid mtu \"%s\": from 68 to 65535", optarg);
      o->mtu = (unsigned int)mtu;
      return CLI_CONTINUE;
    case 'h':
      return cli_help (usage);
    default:
      return cli_option_error ("network create", c, argv, ":h", create_long_options);
    }
}

static int
do_create (int argc, char **argv)
{

  struct network_create_options o = { 0 };
  cleanup_strv char **upstreams = NULL;
  ctr_error_t err = NULL;
  int c, rc;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, ":h", create_long_options, NULL)) != -1)
    if ((rc = create_option (c, &o, &upstreams, argv)) != CLI_CONTINUE)
      return rc;
  if (optind >= argc)
    return cli_usage_error ("network create", "missing network name");
  if (optind + 1 < argc)
    return cli_usage_error ("network create", "unexpected argument \"%s\"", argv[optind + 1]);
  if (network_create (argv[optind], &o, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}

static void
write_info (json_writer *w, const struct network_info *info)
{
  size_t i;

  json_map_open (w);
  json_kv_string (w, "name", info->name);
  json_kv_string (w, "driver", info->driver ? info->driver : "bridge");
  if (info->bridge && *info->bridge)
    json_kv_string (w, "bridge", info->bridge);
  if (info->parent)
    json_kv_string (w, "parent", info->parent);
  if (info->mode)
    json_kv_string (w, "mode", info->mode);
  if (info->vlan)
    {
      json_kv_int (w, "vlan", info->vlan);
      json_kv_string (w, "vlanLink", info->vlan_link);
    }
  json_kv_string (w, "subnet", info->subnet);
  if (info->gateway && *info->gateway) /* macvlan/ipvlan without --gateway have none */
    json_kv_string (w, "gateway", info->gateway);
  if (info->subnet6)
    {
      json_kv_string (w, "ipv6", info->subnet6);
      json_kv_string (w, "gateway6", info->gateway6);
    }
  json_kv_bool (w, "nat", info->nat);
  json_kv_int (w, "mtu", info->mtu);
  json_kv_bool (w, "dns", info->dns);
  json_kv_bool (w, "dhcp", info->dhcp);
  if (info->dns_upstream)
    {
      json_key (w, "dns_upstream");
      json_array_open (w);
      for (size_t j = 0; info->dns_upstream[j]; j++)
        json_string (w, info->dns_upstream[j]);
      json_array_close (w);
    }
  json_key (w, "leases");
  json_array_open (w);
  for (i = 0; i < info->n_leases; i++)
    {
      const struct network_lease_info *l = &info->leases[i];
      json_map_open (w);
      json_kv_string (w, "address", l->address);
      json_kv_string (w, "owner", l->owner);
      json_kv_string (w, "interface", l->ifname);
      if (l->host_ifname && *l->host_ifname)
        json_kv_string (w, "hostInterface", l->host_ifname);
      json_kv_int (w, "pid", l->pid);
      json_map_close (w);
    }
  json_array_close (w);
  json_map_close (w);
}

static void
print_table (const struct network_info *infos, size_t n)
{
  size_t i;

  printf ("%-16s %-8s %-16s %-20s %-16s %-4s %-6s %-16s %-8s %s\n", "NAME", "DRIVER", "BRIDGE",
          "SUBNET", "GATEWAY", "NAT", "LEASES", "PARENT", "MODE", "VLAN");
  for (i = 0; i < n; i++)
    {
      const struct network_info *f = &infos[i];
      char vlan[16] = "-";
      if (f->vlan)
        snprintf (vlan, sizeof (vlan), "%u", f->vlan);
      printf ("%-16s %-8s %-16s %-20s %-16s %-4s %-6zu %-16s %-8s %s\n", f->name,
              f->driver ? f->driver : "bridge", f->bridge && *f->bridge ? f->bridge : "-",
              f->subnet, f->gateway && *f->gateway ? f->gateway : "-", f->nat ? "yes" : "no",
              f->n_leases, f->parent ? f->parent : "-", f->mode ? f->mode : "-", vlan);
    }
}

static int
do_ls (int argc, char **argv)
{
  struct network_info *infos = NULL;
  ctr_error_t err = NULL;
  bool json = false;
  size_t n, i;
  int c;

  if ((c = cli_parse_format_args ("network ls", usage, argc, argv, &json, true)) != CLI_CONTINUE)
    return c;
  if (network_list (&infos, &n, &err) < 0)
    return cli_fail (&err);
  if (json)
    {
      json_writer *w = json_writer_new (false);
      json_array_open (w);
      for (i = 0; i < n; i++)
        write_info (w, &infos[i]);
      json_array_close (w);
      cli_print_json (w);
    }
  else
    print_table (infos, n);
  network_info_free_all (infos, n);
  return CLI_EXIT_OK;
}

/* The stored system containers whose definition names network (a NULL-terminated list). */
static int
stored_users (const struct ctr_context *ctx, const char *network, char ***out, ctr_error_t *err)
{
  struct system_info *infos = NULL;
  size_t n, k = 0;

  *out = NULL;
  if (system_list (ctx, &infos, &n, err) < 0)
    return -1;
  *out = xzalloc ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    {
      for (char **net = infos[i].networks; net && *net; net++)
        if (strcmp (*net, network) == 0)
          {
            (*out)[k++] = xstrdup (infos[i].name);
            break;
          }
      system_info_clear (&infos[i]);
    }
  free (infos);
  return 0;
}

static int
remove_one (const struct ctr_context *ctx, const char *name, bool force, ctr_error_t *err)
{
  cleanup_strv char **users = NULL;
  struct network_remove_options o = { .force = force };

  if (stored_users (ctx, name, &users, err) < 0)
    return ctr_error_wrap (err, "network `%s`: list the stored containers", name);
  o.users = users;
  return network_remove_with (name, &o, err);
}

/* inspect and rm: -h (rm: -f) and network names only. */
static int
do_names (const struct ctr_context *ctx, const char *verb, int argc, char **argv, bool single)
{
  static const struct option long_options[] = {
    { "help", no_argument, NULL, 'h' },
    { "force", no_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 },
  };
  const char *short_opts = single ? ":h" : ":hf";
  ctr_error_t err = NULL;
  bool force = false;
  int c, i, rc = CLI_EXIT_OK;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, short_opts, long_options, NULL)) != -1)
    if (c == 'h')
      return cli_help (usage);
    else if (c == 'f' && !single)
      force = true;
    else
      return cli_option_error (verb, c, argv, short_opts, long_options);
  if (optind >= argc)
    return cli_usage_error (verb, "missing network name");
  if (single && optind + 1 < argc)
    return cli_usage_error (verb, "unexpected argument \"%s\"", argv[optind + 1]);
  for (i = optind; i < argc; i++)
    {
      struct network_info info;
      if (!single)
        {
          if (remove_one (ctx, argv[i], force, &err) < 0)
            rc = cli_fail (&err);
          continue;
        }
      if (network_inspect (argv[i], &info, &err) < 0)
        return cli_fail (&err);
      json_writer *w = json_writer_new (true);
      write_info (w, &info);
      cli_print_json (w);
      network_info_clear (&info);
    }
  return rc;
}

int
cli_network (const struct ctr_context *ctx, int argc, char **argv)
{
  const char *sub;

  if (argc < 2)
    return cli_usage_error ("network", "missing command (create, ls, inspect or rm)");
  sub = argv[1];
  if (strcmp (sub, "-h") == 0 || strcmp (sub, "--help") == 0 || strcmp (sub, "help") == 0)
    return cli_help (usage);
  if (strcmp (sub, "create") == 0)
    return do_create (argc - 1, argv + 1);
  if (strcmp (sub, "ls") == 0 || strcmp (sub, "list") == 0)
    return do_ls (argc - 1, argv + 1);
  if (strcmp (sub, "inspect") == 0)
    return do_names (ctx, "network inspect", argc - 1, argv + 1, true);
  if (strcmp (sub, "rm") == 0 || strcmp (sub, "remove") == 0)
    return do_names (ctx, "network rm", argc - 1, argv + 1, false);
  return cli_usage_error ("network", "unknown command \"%s\"", sub);
}
