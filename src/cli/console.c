/* cli/console: `ctr console`, the console of a running system container, or its log. */
#include <config.h>
#include <unistd.h>

#include "cli/cli.h"
#include "system/monitor.h"
#include "system/system.h"

static const char usage[]
    = "Usage: ctr console [-e KEY] [--log] NAME\n"
      "\n"
      "Connect to the console of a running system container (what its init prints, and a\n"
      "shell or getty). Ctrl-a q detaches and leaves the container running; Ctrl-a Ctrl-a\n"
      "sends Ctrl-a.\n"
      "\n"
      "Options:\n"
      "  -e, --escape KEY  the escape key instead of Ctrl-a, as ^X (Ctrl-X: ^b, ^t, ...)\n"
      "                    or one character\n"
      "  -l, --log         print the buffered console output (the last 128 KiB; kept after\n"
      "                    the container stops) and exit\n"
      "  -h, --help        show this help\n";

int
cli_console (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "escape", required_argument, NULL, 'e' },
    { "log", no_argument, NULL, 'l' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  ctr_error_t err = NULL;
  const char *name = NULL;
  bool log = false;
  int c, escape = 0;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, ":e:lh", long_options, NULL)) != -1)
    switch (c)
      {
      case 'e':
        escape = monitor_parse_escape (optarg);
        if (escape < 0)
          return cli_usage_error ("console",
                                  "invalid --escape \"%s\": want ^X (Ctrl-X) or one "
                                  "character other than q",
                                  optarg);
        break;
      case 'l':
        log = true;
        break;
      case 'h':
        return cli_help (usage);
      default:
        return cli_option_error ("console", c, argv, ":e:lh", long_options);
      }
  if ((c = cli_take_final_id (argc, argv, &name)) != CLI_CONTINUE)
    return c;
  if (log ? system_console_log (ctx, name, STDOUT_FILENO, &err) < 0
          : system_console (ctx, name, escape, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
