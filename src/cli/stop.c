/* cli/stop: `ctr stop`, shuts a named system container down. */
#include <config.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "system/system.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr stop [-t SECONDS] NAME\n"
      "\n"
      "Ask the init of a system container to shut down (its stop signal: SIGPWR for\n"
      "busybox and sysvinit, SIGRTMIN+3 for systemd; `ctr config NAME set stop_signal`),\n"
      "kill whatever is left after the timeout, and wait until its network, cgroup and\n"
      "state are gone.\n"
      "\n"
      "Options:\n"
      "  -t, --timeout SECONDS  how long to wait before killing (default: the container's\n"
      "                         stop_timeout, 10)\n"
      "  -h, --help             show this help\n";

int
cli_stop (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "timeout", required_argument, NULL, 't' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  ctr_error_t err = NULL;
  const char *name = NULL;
  int64_t timeout = -1;
  int c, status;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, ":t:h", long_options, NULL)) != -1)
    switch (c)
      {
      case 't':
        if (parse_int64 (optarg, &timeout) < 0 || timeout < 0 || timeout > 86400)
          return cli_usage_error ("stop", "invalid --timeout \"%s\": want seconds (0-86400)",
                                  optarg);
        break;
      case 'h':
        return cli_help (usage);
      default:
        return cli_option_error ("stop", c, argv, ":t:h", long_options);
      }
  if ((c = cli_take_final_id (argc, argv, &name)) != CLI_CONTINUE)
    return c;
  if (system_stop (ctx, name, (int)timeout, &status, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
