/* cli/console: `ctr console`, the console of a running system container, or its log. */
#include <config.h>
#include <unistd.h>

#include "cli/cli.h"
#include "system/system.h"

static const char usage[]
    = "Usage: ctr console [--log] NAME\n"
      "\n"
      "Connect to the console of a running system container (what its init prints, and a\n"
      "shell or getty). Ctrl-a q detaches and leaves the container running; Ctrl-a Ctrl-a\n"
      "sends Ctrl-a.\n"
      "\n"
      "Options:\n"
      "  -l, --log   print the buffered console output (the last 128 KiB; kept after the\n"
      "              container stops) and exit\n"
      "  -h, --help  show this help\n";

int
cli_console (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option log_option = { "log", no_argument, NULL, 'l' };
  ctr_error_t err = NULL;
  const char *name = NULL;
  bool log = false;
  int rc = cli_parse_simple (usage, argc, argv, &log_option, &log, &name, NULL);

  if (rc != CLI_CONTINUE)
    return rc;
  if (log ? system_console_log (ctx, name, STDOUT_FILENO, &err) < 0
          : system_console (ctx, name, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
