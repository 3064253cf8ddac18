/* cli/delete: `ctr delete`, removes a container and everything the runtime made for it. */
#include <config.h>

#include "cli/cli.h"

static const char usage[]
    = "Usage: ctr delete [OPTIONS] ID\n"
      "\n"
      "Delete a stopped container: run its poststop hooks, remove its cgroup and its state.\n"
      "A created or running container is refused unless --force is given.\n"
      "\n"
      "Options:\n"
      "  -f, --force  kill the container (SIGKILL) first if it is still created or running\n"
      "  -h, --help   show this help\n";

int
cli_delete (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option force_option = { "force", no_argument, NULL, 'f' };
  ctr_error_t err = NULL;
  const char *id = NULL;
  bool force = false;
  int rc = cli_parse_simple (usage, argc, argv, &force_option, &force, &id, NULL);

  if (rc != CLI_CONTINUE)
    return rc;
  if (container_delete (ctx, id, force, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
