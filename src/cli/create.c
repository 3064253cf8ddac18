/* cli/create: `ctr create`, a container from an OCI bundle, stopped before its process runs. */
#include "config.h"
#include <stdlib.h>

#include "cli/cli.h"

static const char usage[] =
    "Usage: ctr create [OPTIONS] ID\n"
    "\n"
    "Create a container from an OCI bundle. Its process is set up and waits; `ctr start ID`\n"
    "lets it run.\n"
    "\n"
    "Options:\n"
    "  -b, --bundle DIR          the bundle directory (default: the current directory)\n"
    "      --config FILE         the configuration file (default: DIR/config.json)\n"
    "      --pid-file FILE       write the container process's pid to FILE\n"
    "      --console-socket SOCK send the pty master of a terminal container over the\n"
    "                            unix socket SOCK\n"
    "      --preserve-fds N      pass N file descriptors (from fd 3) to the container\n"
    "      --no-pivot            use chroot-like MS_MOVE instead of pivot_root\n"
    "      --no-new-keyring      keep the caller's session keyring\n"
    "  -t, --template NAME       create a system container from a template (not available yet)\n"
    "  -h, --help                show this help\n";

#define SHORTOPTS ":b:t:h"

/* Named system containers built by a template: a later step implements them. */
static int
create_system_container (const struct ctr_context *ctx, const char *template_name,
                         int argc, char **argv)
{
  return cli_usage_error ("create", "system containers (-t) are not available yet");
}

int
cli_create (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    CLI_CREATE_LONG_OPTIONS,
    { "template", required_argument, NULL, 't' },
    { NULL, 0, NULL, 0 },
  };
  struct container_create_options opts = { 0 };
  ctr_error_t err = NULL;
  const char *id = NULL, *template_name = NULL;
  int c, rc, index;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, SHORTOPTS, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      if (c == 't')
        {
          template_name = optarg;
          continue;
        }
      rc = cli_create_option ("create", c, optarg, &opts);
      if (rc == CLI_NOT_MINE)
        return cli_option_error ("create", c, argv, SHORTOPTS);
      if (rc != CLI_CONTINUE)
        return rc;
    }
  if (template_name != NULL)
    return create_system_container (ctx, template_name, argc - optind, argv + optind);

  index = optind;
  rc = cli_take_id ("create", argc, argv, &index, true, &id);
  if (rc != CLI_CONTINUE)
    return rc;
  if (container_create (ctx, id, &opts, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
