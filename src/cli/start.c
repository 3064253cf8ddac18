/* cli/start: `ctr start`, lets a created container's process run, or boots a named system
   container under its monitor. */
#include <config.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "system/system.h"

static const char usage[]
    = "Usage: ctr start [-F] [--ephemeral] ID|NAME\n"
      "       ctr start --autostart [--group GROUP] [--jobs N]\n"
      "\n"
      "Start a container made by `ctr create`: its process runs the program of config.json.\n"
      "For a named system container (`ctr create -t`), boot it detached under its monitor:\n"
      "the console is kept in a log (`ctr console NAME`), `ctr stop NAME` shuts it down.\n"
      "\n"
      "Options:\n"
      "  -F, --foreground  system containers: stay on the console until the container ends\n"
      "                    and exit with its status (Ctrl-a q detaches)\n"
      "  -e, --ephemeral   system containers: run on a throw-away overlay layer over the\n"
      "                    rootfs; every change is gone when the container stops\n"
      "  -a, --autostart   boot every stopped system container marked autostart (at boot:\n"
      "                    `ctr config NAME set autostart true`), lowest autostart.order\n"
      "                    first, one order's containers in parallel; a container's\n"
      "                    autostart.delay holds the next ones back that many seconds\n"
      "  -g, --group GROUP with --autostart: only those whose autostart.group is GROUP\n"
      "  -j, --jobs N      with --autostart: at most N starts at once (default: 4 per CPU)\n"
      "  -h, --help        show this help\n";

int
cli_start (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "foreground", no_argument, NULL, 'F' },
    { "ephemeral", no_argument, NULL, 'e' },
    { "autostart", no_argument, NULL, 'a' },
    { "group", required_argument, NULL, 'g' },
    { "jobs", required_argument, NULL, 'j' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  ctr_error_t err = NULL;
  const char *id = NULL, *group = NULL, *jobs = NULL;
  bool foreground = false, autostart = false, ephemeral = false;
  int c, status;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, ":Feag:j:h", long_options, NULL)) != -1)
    switch (c)
      {
      case 'F':
        foreground = true;
        break;
      case 'e':
        ephemeral = true;
        break;
      case 'a':
        autostart = true;
        break;
      case 'g':
        group = optarg;
        break;
      case 'j':
        jobs = optarg;
        break;
      case 'h':
        return cli_help (usage);
      default:
        return cli_option_error ("start", c, argv, ":Feag:j:h", long_options);
      }
  if (autostart)
    {
      if (optind < argc || foreground || ephemeral)
        return cli_usage_error ("start", "--autostart takes no NAME, no -F and no --ephemeral");
      return cli_start_autostart (ctx, &(struct cli_batch){ .group = group, .jobs = jobs });
    }
  if (group || jobs)
    return cli_usage_error ("start", "%s goes with --autostart", group ? "--group" : "--jobs");
  if ((c = cli_take_final_id (argc, argv, &id)) != CLI_CONTINUE)
    return c;
  if (system_exists (ctx, id))
    {
      if ((ephemeral ? system_start_ephemeral (ctx, id, -1, foreground, &status, &err)
                     : system_start (ctx, id, foreground, &status, &err))
          < 0)
        return cli_fail (&err);
      return status;
    }
  if (ephemeral)
    return cli_usage_error ("start", "--ephemeral: `%s` is not a named system container", id);
  if (foreground)
    return cli_usage_error ("start", "-F: `%s` is not a named system container", id);
  if (container_start (ctx, id, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
