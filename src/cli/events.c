/* cli/events: `ctr events`, a container's stats and OOM events as JSON lines. */
#include <config.h>
#include <stdio.h>

#include "cli/cli.h"
#include "runtime/events.h"

static const char usage[]
    = "Usage: ctr events [OPTIONS] ID\n"
      "\n"
      "Print the container's resource usage (cpu, memory, pids, blkio, hugetlb) and OOM\n"
      "kills as JSON events, one per line, in runc's format: a stats event every interval\n"
      "and an oom event as soon as the kernel's OOM killer strikes in the container's\n"
      "cgroup. Ends when the container's process exits.\n"
      "\n"
      "Options:\n"
      "      --interval T  time between stats events (default 5s; 500ms, 2m, 1m30s...)\n"
      "      --stats       print one stats event and exit\n"
      "  -h, --help        show this help\n";

#define SHORTOPTS ":h"

enum
{
  OPT_INTERVAL = 0x100,
  OPT_STATS,
};

static void
print_event (const char *json, size_t len, void *data)
{
  fwrite (json, 1, len, stdout);
  fputc ('\n', stdout);
  /* each event is useful the moment it happens: a pipe reader must not wait */
  fflush (stdout);
}

int
cli_events (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "interval", required_argument, NULL, OPT_INTERVAL },
    { "stats", no_argument, NULL, OPT_STATS },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct events_options opts = { .interval_ns = EVENTS_DEFAULT_INTERVAL_NS };
  ctr_error_t err = NULL;
  const char *id = NULL;
  int c, rc;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, SHORTOPTS, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      else if (c == OPT_STATS)
        opts.stats_only = true;
      else if (c != OPT_INTERVAL)
        return cli_option_error ("events", c, argv, SHORTOPTS, long_options);
      else if (events_parse_duration (optarg, &opts.interval_ns) < 0)
        return cli_usage_error ("events",
                                "--interval `%s`: expected a positive duration such as 5s or "
                                "500ms",
                                optarg);
    }
  rc = cli_take_final_id (argc, argv, &id);
  if (rc != CLI_CONTINUE)
    return rc;
  if (container_events (ctx, id, &opts, print_event, NULL, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
