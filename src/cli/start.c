/* cli/start: `ctr start`, lets a created container's process run. */
#include "config.h"

#include "cli/cli.h"

static const char usage[]
    = "Usage: ctr start ID\n"
      "\n"
      "Start a container made by `ctr create`: its process runs the program of config.json.\n"
      "\n"
      "Options:\n"
      "  -h, --help  show this help\n";

int
cli_start (const struct ctr_context *ctx, int argc, char **argv)
{
  return cli_id_verb (ctx, usage, argc, argv, container_start);
}
