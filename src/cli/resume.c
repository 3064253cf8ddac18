/* cli/resume: `ctr resume`, thaws the processes of a paused container. */
#include "config.h"

#include "cli/cli.h"

static const char usage[] =
    "Usage: ctr resume ID\n"
    "\n"
    "Resume all processes of a container suspended by `ctr pause`.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

int
cli_resume (const struct ctr_context *ctx, int argc, char **argv)
{
  ctr_error_t err = NULL;
  const char *id = NULL;
  int rc = cli_parse_id_only (usage, argc, argv, &id);

  if (rc != CLI_CONTINUE)
    return rc;
  if (container_resume (ctx, id, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
