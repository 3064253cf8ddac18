/* cli/create: `ctr create`, a container from an OCI bundle, stopped before its process runs. */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "system/system.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr create [OPTIONS] ID\n"
      "       ctr create -t TEMPLATE NAME [--net NET]... [--ip ADDR] [--publish SPEC]...\n"
      "                  [--autostart] [--stop-signal SIG] [--pool POOL [--size SIZE]]\n"
      "                  [--privileged] [TEMPLATE OPTIONS] [-- ARGS...]\n"
      "\n"
      "Create a container from an OCI bundle. Its process is set up and waits; `ctr start ID`\n"
      "lets it run.\n"
      "\n"
      "Options:\n"
      "  -b, --bundle DIR          the bundle directory (default: the current directory)\n"
      "      --config FILE         the configuration file (default: DIR/config.json)\n" CLI_CREATE_OPTIONS_HELP
      "  -t, --template TEMPLATE   create the named system container NAME from a template\n"
      "                            (`ctr templates` lists them); what follows NAME:\n"
      "      --net NET             join network NET (repeatable; default ctr0 as root, none\n"
      "                            rootless); none: loopback only; host: the host's network;\n"
      "                            phys:IFNAME: a host interface lent while it runs\n"
      "      --ip ADDR             a static address on the first network\n"
      "  -p, --publish SPEC        publish a port: [HOSTIP:]HOSTPORT:PORT[/tcp|udp]\n"
      "      --autostart           mark it to be started at boot (`ctr ls` shows it)\n"
      "      --stop-signal SIG     the signal that makes its init shut down\n"
      "      --pool POOL           keep its root filesystem in storage pool POOL\n"
      "                            (`ctr pool ls`; default: the store itself)\n"
      "      --size SIZE           lvm pools: the thin volume's size (default 4G)\n"
      "      --privileged          as root: no user namespace (by default it gets its own\n"
      "                            range of 65536 subordinate ids, `ctr config NAME get idmap`)\n"
      "                            any other option, and `--` with what follows, goes to the\n"
      "                            template (`ctr create -t app NAME -- /usr/bin/prog args`)\n"
      "  -h, --help                show this help\n";

/* "+": a system container's NAME ends ctr's options; the template's follow it */
#define SHORTOPTS "+:b:t:h"

/* The options after NAME: ctr's own, and the template's (in order, with `--` and what follows). */
static int
parse_system_args (int argc, char **argv, struct system_create_options *o, size_t *n_nets,
                   size_t *n_pub, size_t *n_targs)
{
  int i;
  for (i = 0; i < argc; i++)
    {
      const char *a = argv[i];
      const char *const takes[]
          = { "--net", "--ip", "--publish", "-p", "--stop-signal", "--pool", "--size" };
      const char *opt = NULL, *val = NULL;
      size_t k;

      if (strcmp (a, "--") == 0)
        break;
      if (strcmp (a, "--autostart") == 0 || strcmp (a, "--privileged") == 0)
        {
          *(a[2] == 'a' ? &o->autostart : &o->privileged) = true;
          continue;
        }
      for (k = 0; k < ARRAY_SIZE (takes) && opt == NULL; k++)
        {
          size_t len = strlen (takes[k]);
          if (strcmp (a, takes[k]) == 0)
            {
              if (i + 1 >= argc)
                return cli_usage_error ("create", "option %s needs a value", a);
              opt = takes[k];
              val = argv[++i];
            }
          else if (strncmp (a, takes[k], len) == 0 && a[len] == '=')
            {
              opt = takes[k];
              val = a + len + 1;
            }
        }
      if (opt == NULL)
        cli_strv_push (&o->template_args, n_targs, a);
      else if (strcmp (opt, "--net") == 0)
        cli_strv_push (&o->networks, n_nets, val);
      else if (strcmp (opt, "--ip") == 0)
        o->ip = val;
      else if (strcmp (opt, "--stop-signal") == 0)
        o->stop_signal = val;
      else if (strcmp (opt, "--pool") == 0)
        o->pool = val;
      else if (strcmp (opt, "--size") == 0)
        o->size = val;
      else
        cli_strv_push (&o->publish, n_pub, val);
    }
  for (; i < argc; i++)
    cli_strv_push (&o->template_args, n_targs, argv[i]);
  return CLI_CONTINUE;
}

/* Named system containers built by a template. */
static int
create_system_container (const struct ctr_context *ctx, const char *template_name, int argc,
                         char **argv)
{
  struct system_create_options o = { .template_name = template_name };
  size_t n_nets = 0, n_pub = 0, n_targs = 0;
  ctr_error_t err = NULL;
  int rc;

  if (argc < 1)
    return cli_usage_error ("create", "-t %s: missing the container NAME", template_name);
  rc = parse_system_args (argc - 1, argv + 1, &o, &n_nets, &n_pub, &n_targs);
  if (rc == CLI_CONTINUE && system_create (ctx, argv[0], &o, &err) < 0)
    rc = cli_fail (&err);
  strv_free (o.networks);
  strv_free (o.publish);
  strv_free (o.template_args);
  return rc == CLI_CONTINUE ? CLI_EXIT_OK : rc;
}

int
cli_create (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    CLI_CREATE_LONG_OPTIONS,
    { "template", required_argument, NULL, 't' },
    { NULL, 0, NULL, 0 },
  };
  struct container_create_options opts = { 0 };
  ctr_error_t err = NULL;
  const char *id = NULL, *template_name = NULL;
  int rc;

  rc = cli_parse_create_args (usage, argc, argv, SHORTOPTS, long_options, &opts, &template_name);
  if (rc == CLI_CONTINUE && template_name != NULL)
    return create_system_container (ctx, template_name, argc - optind, argv + optind);
  if (rc == CLI_CONTINUE && optind + 1 < argc)
    {
      /* as runc: options may follow the id (`ctr create ID --pid-file F`); the id stands in
         for the verb while the rest is parsed, so that errors still name the verb */
      int at = optind;
      id = argv[at];
      argv[at] = argv[0];
      rc = cli_parse_create_args (usage, argc - at, argv + at, SHORTOPTS + 1, long_options, &opts,
                                  &template_name);
      argv[at] = (char *)id;
      if (rc == CLI_CONTINUE && template_name != NULL)
        return cli_usage_error ("create", "-t goes before the name: ctr create -t TEMPLATE NAME");
      if (rc == CLI_CONTINUE && optind < argc - at)
        return cli_usage_error ("create", "unexpected argument \"%s\"", argv[at + optind]);
      if (rc == CLI_CONTINUE)
        {
          char *only_id[] = { argv[0], (char *)id, NULL };
          int index = 1;
          rc = cli_take_id ("create", 2, only_id, &index, true, &id);
        }
    }
  else if (rc == CLI_CONTINUE)
    rc = cli_take_final_id (argc, argv, &id);
  if (rc != CLI_CONTINUE)
    return rc;
  if (container_create (ctx, id, &opts, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
