/* cli/start: `ctr start`, lets a created container's process run. */
#include "config.h"

#include "cli/cli.h"

static const char usage[] =
    "Usage: ctr start ID\n"
    "\n"
    "Start a container made by `ctr create`: its process runs the program of config.json.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

int
cli_start (const struct ctr_context *ctx, int argc, char **argv)
{
  ctr_error_t err = NULL;
  const char *id = NULL;
  int rc = cli_parse_id_only (usage, argc, argv, &id);

  if (rc != CLI_CONTINUE)
    return rc;
  if (container_start (ctx, id, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
