/* cli/pause: `ctr pause`, freezes every process of a container. */
#include "config.h"

#include "cli/cli.h"

static const char usage[] =
    "Usage: ctr pause ID\n"
    "\n"
    "Suspend all processes of a running container (cgroup freezer). `ctr resume ID`\n"
    "thaws them.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

int
cli_pause (const struct ctr_context *ctx, int argc, char **argv)
{
  ctr_error_t err = NULL;
  const char *id = NULL;
  int rc = cli_parse_id_only (usage, argc, argv, &id);

  if (rc != CLI_CONTINUE)
    return rc;
  if (container_pause (ctx, id, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
