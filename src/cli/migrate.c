/* cli/migrate: `ctr migrate NAME DEST` and its receiver `ctr migrate --listen ADDR`. */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "cli/cli.h"
#include "system/migrate.h"

static const char migrate_usage[]
    = "Usage: ctr migrate [--pre-dumps N] [--format text|json] NAME DEST\n"
      "       ctr migrate --listen ADDR [--insecure-listen]\n"
      "\n"
      "Move the running system container NAME to another ctr host, with its processes and\n"
      "memory (criu(8)). DEST is unix:PATH or tcp:HOST:PORT of a receiver started there with\n"
      "`ctr migrate --listen ADDR`, which takes one migration and exits, or ssh://[USER@]HOST,\n"
      "which runs `ctr migrate --listen stdio` there over ssh(1). The store directory\n"
      "goes over as a tar stream, memory in pre-dump rounds while it runs, then the container\n"
      "stops, its last dump goes over and it is restored there; it is removed here only once\n"
      "it runs there. On any failure before that it keeps running here.\n"
      "The receiver authenticates nobody: listen only on a trusted address.\n"
      "\n"
      "Options:\n"
      "      --pre-dumps N         pre-dump rounds at most, fewer once the dirty memory stops\n"
      "                            shrinking (default 3; 0: stop and copy)\n"
      "  -f, --format FORMAT       text (default: a line per step as it ends) or json (one\n"
      "                            report once it runs there: phases, downtime_ms, total_ms)\n"
      "      --listen ADDR         receive one migration on unix:PATH (made 0600),\n"
      "                            tcp:HOST:PORT, or stdio (stdin and stdout)\n"
      "      --insecure-listen     allow --listen on a wildcard address (0.0.0.0, ::)\n"
      "  -h, --help                show this help\n";

enum
{
  OPT_PRE_DUMPS = 0x300,
  OPT_LISTEN,
  OPT_INSECURE,
};

int
cli_migrate (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "pre-dumps", required_argument, NULL, OPT_PRE_DUMPS },
    { "format", required_argument, NULL, 'f' },
    { "listen", required_argument, NULL, OPT_LISTEN },
    { "insecure-listen", no_argument, NULL, OPT_INSECURE },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct mig_options o = { .max_rounds = 3 };
  const char *listen_addr = NULL;
  ctr_error_t err = NULL;
  bool insecure = false;
  int64_t n;
  int c;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, ":hf:", long_options, NULL)) != -1)
    switch (c)
      {
      case 'h':
        return cli_help (migrate_usage);
      case OPT_PRE_DUMPS:
        if (parse_int64 (optarg, &n) < 0 || n < 0 || n > 100)
          return cli_usage_error ("migrate", "--pre-dumps: \"%s\": want a number from 0 to 100",
                                  optarg);
        o.max_rounds = (int)n;
        break;
      case 'f':
        if (strcmp (optarg, "json") != 0 && strcmp (optarg, "text") != 0)
          return cli_usage_error ("migrate", "--format: \"%s\": want text or json", optarg);
        o.json = strcmp (optarg, "json") == 0;
        break;
      case OPT_LISTEN:
        listen_addr = optarg;
        break;
      case OPT_INSECURE:
        insecure = true;
        break;
      default:
        return cli_option_error ("migrate", c, argv, ":hf:", long_options);
      }
  if (listen_addr)
    {
      if (optind < argc)
        return cli_usage_error ("migrate", "--listen takes no NAME or DEST");
      return system_migrate_listen (ctx, listen_addr, insecure, &err) < 0 ? cli_fail (&err)
                                                                          : CLI_EXIT_OK;
    }
  if (insecure)
    return cli_usage_error ("migrate", "--insecure-listen: only with --listen");
  if (argc - optind != 2)
    return cli_usage_error ("migrate", "want NAME DEST (or --listen ADDR)");
  if (system_migrate (ctx, argv[optind], argv[optind + 1], &o, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
