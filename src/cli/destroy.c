/* cli/destroy: `ctr destroy`, removes a named system container and its root filesystem. */
#include <config.h>

#include "cli/cli.h"
#include "system/system.h"

static const char usage[]
    = "Usage: ctr destroy [-f] NAME\n"
      "\n"
      "Remove a stopped system container: its definition and its root filesystem.\n"
      "\n"
      "Options:\n"
      "  -f, --force  kill it first if it is running (or left running by a dead monitor)\n"
      "  -h, --help   show this help\n";

int
cli_destroy (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option force_option = { "force", no_argument, NULL, 'f' };
  ctr_error_t err = NULL;
  const char *name = NULL;
  bool force = false;
  int rc = cli_parse_simple (usage, argc, argv, &force_option, &force, &name, NULL);

  if (rc != CLI_CONTINUE)
    return rc;
  if (system_destroy (ctx, name, force, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
