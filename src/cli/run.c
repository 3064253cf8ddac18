/* cli/run: `ctr run`, create + start, then wait for the container process (or detach). */
#include "config.h"
#include <stdlib.h>

#include "cli/cli.h"

static const char usage[] =
    "Usage: ctr run [OPTIONS] ID\n"
    "\n"
    "Create and start a container from an OCI bundle. In the foreground ctr waits for the\n"
    "container process, forwards signals to it, deletes the container when it exits and\n"
    "exits with its status (128+N when killed by signal N).\n"
    "\n"
    "Options:\n"
    "  -b, --bundle DIR          the bundle directory (default: the current directory)\n"
    "      --config FILE         the configuration file (default: DIR/config.json)\n"
    "  -d, --detach              return once the container runs; do not wait for it\n"
    "      --pid-file FILE       write the container process's pid to FILE\n"
    "      --console-socket SOCK send the pty master of a terminal container over the\n"
    "                            unix socket SOCK\n"
    "      --preserve-fds N      pass N file descriptors (from fd 3) to the container\n"
    "      --no-pivot            use chroot-like MS_MOVE instead of pivot_root\n"
    "      --no-new-keyring      keep the caller's session keyring\n"
    "  -h, --help                show this help\n";

#define SHORTOPTS ":b:dh"

enum
{
  OPT_NO_SUBREAPER = 0x200,
};

int
cli_run (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    CLI_CREATE_LONG_OPTIONS,
    { "detach", no_argument, NULL, 'd' },
    /* runc compatibility: deprecated there, without effect here */
    { "no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER },
    { NULL, 0, NULL, 0 },
  };
  struct container_create_options opts = { 0 };
  ctr_error_t err = NULL;
  const char *id = NULL;
  int c, rc, index, exit_status = 0;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, SHORTOPTS, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      if (c == 'd')
        {
          opts.detach = true;
          continue;
        }
      if (c == OPT_NO_SUBREAPER)
        continue;
      rc = cli_create_option ("run", c, optarg, &opts);
      if (rc == CLI_NOT_MINE)
        return cli_option_error ("run", c, argv, SHORTOPTS);
      if (rc != CLI_CONTINUE)
        return rc;
    }
  index = optind;
  rc = cli_take_id ("run", argc, argv, &index, true, &id);
  if (rc != CLI_CONTINUE)
    return rc;
  if (container_run (ctx, id, &opts, &exit_status, &err) < 0)
    return cli_fail (&err);
  return exit_status;
}
