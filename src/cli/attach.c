/* cli/attach: `ctr attach`, runs a command (a login shell by default) in a running system
   container. */
#include <config.h>
#include <string.h>

#include "cli/cli.h"
#include "system/system.h"

static const char usage[]
    = "Usage: ctr attach NAME [-- COMMAND [ARG...]]\n"
      "\n"
      "Run COMMAND (default: root's login shell) inside a running system container: in all\n"
      "of its namespaces and its cgroup, with its capabilities and seccomp filter, on a new\n"
      "pty when standard input is a terminal. Exits with the command's status.\n"
      "\n"
      "Options:\n"
      "  -h, --help  show this help\n";

int
cli_attach (const struct ctr_context *ctx, int argc, char **argv)
{
  ctr_error_t err = NULL;
  const char *name = NULL;
  int rest = 0, status;
  int rc = cli_parse_simple (usage, argc, argv, NULL, NULL, &name, &rest);
  char **args = NULL;

  if (rc != CLI_CONTINUE)
    return rc;
  if (rest < argc && strcmp (argv[rest], "--") == 0)
    rest++;
  if (rest < argc)
    args = argv + rest;
  if (system_attach (ctx, name, args, &status, &err) < 0)
    return cli_fail (&err);
  return status;
}
