/* cli/pause: `ctr pause`, freezes every process of a container. */
#include <config.h>

#include "cli/cli.h"

static const char usage[]
    = "Usage: ctr pause ID\n"
      "\n"
      "Suspend all processes of a running container (cgroup freezer). `ctr resume ID`\n"
      "thaws them.\n"
      "\n"
      "Options:\n"
      "  -h, --help  show this help\n";

int
cli_pause (const struct ctr_context *ctx, int argc, char **argv)
{
  return cli_id_verb (ctx, usage, argc, argv, container_pause);
}
