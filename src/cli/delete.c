/* cli/delete: `ctr delete`, removes a container and everything the runtime made for it. */
#include "config.h"

#include "cli/cli.h"

static const char usage[] =
    "Usage: ctr delete [OPTIONS] ID\n"
    "\n"
    "Delete a stopped container: run its poststop hooks, remove its cgroup and its state.\n"
    "A created or running container is refused unless --force is given.\n"
    "\n"
    "Options:\n"
    "  -f, --force  kill the container (SIGKILL) first if it is still created or running\n"
    "  -h, --help   show this help\n";

#define SHORTOPTS ":fh"

int
cli_delete (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  ctr_error_t err = NULL;
  const char *id = NULL;
  bool force = false;
  int c, rc, index;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, SHORTOPTS, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      if (c != 'f')
        return cli_option_error ("delete", c, argv, SHORTOPTS);
      force = true;
    }
  index = optind;
  rc = cli_take_id ("delete", argc, argv, &index, true, &id);
  if (rc != CLI_CONTINUE)
    return rc;
  if (container_delete (ctx, id, force, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
