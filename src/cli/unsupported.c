/* cli/unsupported: runc verbs ctr accepts by name but does not implement (checkpoint, restore). */
#include <config.h>
#include <stdio.h>

#include "cli/cli.h"

int
cli_unsupported (const struct ctr_context *ctx, int argc, char **argv)
{
  fflush (stdout);
  fprintf (stderr, "ctr %s: not supported\n", argv[0]);
  return CLI_EXIT_FAILURE;
}
