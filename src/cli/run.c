/* cli/run: `ctr run`, create + start, then wait for the container process (or detach). */
#include <config.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr run [OPTIONS] ID\n"
      "\n"
      "Create and start a container from an OCI bundle. In the foreground ctr waits for the\n"
      "container process, forwards signals to it, deletes the container when it exits and\n"
      "exits with its status (128+N when killed by signal N).\n"
      "\n"
      "Options:\n"
      "  -b, --bundle DIR          the bundle directory (default: the current directory)\n"
      "      --config FILE         the configuration file (default: DIR/config.json)\n"
      "  -d, --detach              return once the container runs; do not wait for it\n"
      "      --keep                keep the container (stopped) when it exits, until\n"
      "                            `ctr delete`\n"
      "      --net NET             attach the container to network NET (repeatable: eth0,\n"
      "                            eth1, ...; `ctr network ls`; ctr0 is made on first use).\n"
      "                            The config needs a new network namespace of its own.\n"
      "                            phys:IFNAME lends a host interface (given back after)\n"
      "      --ip ADDR             a static address on the first network\n"
      "      --publish SPEC        publish a port: [HOSTIP:]HOSTPORT:PORT[/tcp|udp]\n" CLI_CREATE_OPTIONS_HELP
      "      --no-subreaper        accepted for runc compatibility, no effect\n"
      "  -h, --help                show this help\n";

#define SHORTOPTS ":b:dh"

int
cli_run (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    CLI_CREATE_LONG_OPTIONS,
    { "detach", no_argument, NULL, 'd' },
    /* runc compatibility: deprecated there, without effect here */
    { "no-subreaper", no_argument, NULL, CLI_OPT_NO_SUBREAPER },
    { "keep", no_argument, NULL, CLI_OPT_KEEP },
    { "net", required_argument, NULL, CLI_OPT_NET },
    { "ip", required_argument, NULL, CLI_OPT_IP },
    { "publish", required_argument, NULL, CLI_OPT_PUBLISH },
    { NULL, 0, NULL, 0 },
  };
  struct container_create_options opts = { 0 };
  ctr_error_t err = NULL;
  const char *id = NULL;
  int rc, exit_status = 0;

  rc = cli_parse_create_args (usage, argc, argv, SHORTOPTS, long_options, &opts, NULL);
  if (rc == CLI_CONTINUE)
    rc = cli_take_final_id (argc, argv, &id);
  if (rc != CLI_CONTINUE)
    return rc;
  if ((opts.ip || opts.publish) && opts.networks == NULL)
    rc = cli_usage_error ("run", "--ip and --publish need a network (--net NET)");
  else if (container_run (ctx, id, &opts, &exit_status, &err) < 0)
    rc = cli_fail (&err);
  else
    rc = exit_status;
  strv_free (opts.networks);
  strv_free (opts.publish);
  return rc;
}
