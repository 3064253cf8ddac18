/* cli/state: `ctr state`, prints a container's runtime-spec state document. */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr state ID\n"
      "\n"
      "Print the state of a container as the JSON document of the OCI runtime specification\n"
      "(ociVersion, id, status, pid, bundle, annotations, ...).\n"
      "\n"
      "Options:\n"
      "  -h, --help  show this help\n";

int
cli_state (const struct ctr_context *ctx, int argc, char **argv)
{
  ctr_error_t err = NULL;
  cleanup_free char *json = NULL;
  const char *id = NULL;
  int rc = cli_parse_simple (usage, argc, argv, NULL, NULL, &id, NULL);

  if (rc != CLI_CONTINUE)
    return rc;
  if (container_state (ctx, id, &json, &err) < 0)
    return cli_fail (&err);
  cli_print_document (json, strlen (json));
  return CLI_EXIT_OK;
}
