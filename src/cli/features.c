/* cli/features: `ctr features`, the runtime-spec features document of this build. */
#include "config.h"
#include <stdlib.h>

#include "cli/cli.h"
#include "oci/config.h"
#include "util.h"

static const char usage[] =
    "Usage: ctr features\n"
    "\n"
    "Print the runtime-spec \"features\" JSON document: the namespaces, capabilities,\n"
    "mount options, hooks, seccomp actions and cgroup support this build of ctr offers.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

#define SHORTOPTS ":h"

int
cli_features (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *json = NULL;
  ctr_error_t err = NULL;
  size_t len = 0;
  int c;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, SHORTOPTS, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      return cli_option_error ("features", c, argv, SHORTOPTS);
    }
  if (optind < argc)
    return cli_usage_error ("features", "unexpected argument \"%s\"", argv[optind]);

  json = oci_features_json (&len);
  if (json == NULL)
    {
      ctr_error (&err, 0, "build the features document");
      return cli_fail (&err);
    }
  fwrite (json, 1, len, stdout);
  if (len == 0 || json[len - 1] != '\n')
    fputc ('\n', stdout);
  return CLI_EXIT_OK;
}
