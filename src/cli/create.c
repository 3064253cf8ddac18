/* cli/create: `ctr create`, a container from an OCI bundle, stopped before its process runs. */
#include "config.h"
#include <stdlib.h>

#include "cli/cli.h"

static const char usage[]
    = "Usage: ctr create [OPTIONS] ID\n"
      "\n"
      "Create a container from an OCI bundle. Its process is set up and waits; `ctr start ID`\n"
      "lets it run.\n"
      "\n"
      "Options:\n"
      "  -b, --bundle DIR          the bundle directory (default: the current directory)\n"
      "      --config FILE         the configuration file (default: DIR/config.json)\n" CLI_CREATE_OPTIONS_HELP
      "  -t, --template NAME       create a system container from a template (not available yet)\n"
      "  -h, --help                show this help\n";

#define SHORTOPTS ":b:t:h"

/* Named system containers built by a template: a later step implements them. */
static int
create_system_container (const struct ctr_context *ctx, const char *template_name, int argc,
                         char **argv)
{
  return cli_usage_error ("create", "system containers (-t) are not available yet");
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
  if (rc == CLI_CONTINUE)
    rc = cli_take_final_id (argc, argv, &id);
  if (rc != CLI_CONTINUE)
    return rc;
  if (container_create (ctx, id, &opts, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
