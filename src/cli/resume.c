/* cli/resume: `ctr resume`, thaws the processes of a paused container. */
#include <config.h>

#include "cli/cli.h"

static const char usage[] = "Usage: ctr resume ID\n"
                            "\n"
                            "Resume all processes of a container suspended by `ctr pause`.\n"
                            "\n"
                            "Options:\n"
                            "  -h, --help  show this help\n";

int
cli_resume (const struct ctr_context *ctx, int argc, char **argv)
{
  return cli_id_verb (ctx, usage, argc, argv, container_resume);
}
