/* cli/stop: `ctr stop`, shuts a named system container down. */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "system/system.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr stop [-t SECONDS] NAME\n"
      "       ctr stop --all [-t SECONDS] [--group GROUP] [--jobs N]\n"
      "\n"
      "Ask the init of a system container to shut down (its stop signal: SIGPWR for\n"
      "busybox and sysvinit, SIGRTMIN+3 for systemd; `ctr config NAME set stop_signal`),\n"
      "kill whatever is left after the timeout, and wait until its network, cgroup and\n"
      "state are gone.\n"
      "\n"
      "Exit status: 0 when init shut down by itself; 3 when it did not within the timeout\n"
      "and was killed (with a warning); 1 on error.\n"
      "\n"
      "Options:\n"
      "  -t, --timeout SECONDS  how long to wait before killing (default: the container's\n"
      "                         stop_timeout: 10, or its template's: debian's is 60)\n"
      "  -f, --format FORMAT    text (default: nothing on a clean stop) or json: name, clean,\n"
      "                         exit_status, timeout\n"
      "  -a, --all              stop every running system container of the store, as a\n"
      "                         host's shutdown does (ctr-autostart.service at its stop):\n"
      "                         highest autostart.order first, one order's containers in\n"
      "                         parallel; each is printed as `stopped NAME`\n"
      "  -g, --group GROUP      with --all: only those whose autostart.group is GROUP\n"
      "  -j, --jobs N           with --all: at most N stops at once (default: 4 per CPU)\n"
      "  -h, --help             show this help\n";

int
cli_stop (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "timeout", required_argument, NULL, 't' },
    { "format", required_argument, NULL, 'f' },
    { "all", no_argument, NULL, 'a' },
    { "group", required_argument, NULL, 'g' },
    { "jobs", required_argument, NULL, 'j' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  ctr_error_t err = NULL;
  const char *name = NULL;
  struct system_stopped how;
  struct cli_batch batch = { 0 };
  int64_t timeout = -1;
  bool json = false, all = false;
  int c;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, ":t:f:ag:j:h", long_options, NULL)) != -1)
    switch (c)
      {
      case 't':
        if (parse_int64 (optarg, &timeout) < 0 || timeout < 0 || timeout > 86400)
          return cli_usage_error ("stop", "invalid --timeout \"%s\": want seconds (0-86400)",
                                  optarg);
        break;
      case 'f':
        if (strcmp (optarg, "text") != 0
            && cli_parse_format ("stop", optarg, &json) != CLI_CONTINUE)
          return CLI_EXIT_USAGE;
        break;
      case 'a':
        all = true;
        break;
      case 'g':
        batch.group = optarg;
        break;
      case 'j':
        batch.jobs = optarg;
        break;
      case 'h':
        return cli_help (usage);
      default:
        return cli_option_error ("stop", c, argv, ":t:f:ag:j:h", long_options);
      }
  if (all)
    {
      if (optind < argc || json)
        return cli_usage_error ("stop", "--all takes no NAME and no --format");
      batch.timeout = (int)timeout;
      return cli_stop_all (ctx, &batch);
    }
  if (batch.group || batch.jobs)
    return cli_usage_error ("stop", "%s goes with --all", batch.group ? "--group" : "--jobs");
  if ((c = cli_take_final_id (argc, argv, &name)) != CLI_CONTINUE)
    return c;
  if (system_stop (ctx, name, (int)timeout, &how, &err) < 0)
    return cli_fail (&err);
  if (json)
    {
      json_writer *w = json_writer_new (false);
      json_map_open (w);
      json_kv_string (w, "name", name);
      json_kv_bool (w, "clean", !how.killed);
      json_kv_int (w, "exit_status", how.exit_status);
      json_kv_int (w, "timeout", how.timeout);
      json_map_close (w);
      cli_print_json (w);
    }
  return cli_stop_status (name, &how);
}
