/* cli/features: `ctr features`, the runtime-spec features document of this build. */
#include <config.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "oci/oci.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr features\n"
      "\n"
      "Print the runtime-spec \"features\" JSON document: the namespaces, capabilities,\n"
      "mount options, hooks, seccomp actions and cgroup support this build of ctr offers.\n"
      "\n"
      "Options:\n"
      "  -h, --help  show this help\n";

int
cli_features (const struct ctr_context *ctx, int argc, char **argv)
{
  cleanup_free char *json = NULL;
  ctr_error_t err = NULL;
  size_t len = 0;
  int rc = cli_parse_simple (usage, argc, argv, NULL, NULL, NULL, NULL);

  if (rc != CLI_CONTINUE)
    return rc;

  json = oci_features_json (&len);
  if (json == NULL)
    {
      ctr_error (&err, 0, "build the features document");
      return cli_fail (&err);
    }
  cli_print_document (json, len);
  return CLI_EXIT_OK;
}
