/* cli/cp: `ctr cp`, files between the host and a system container. */
#include <config.h>

#include "cli/cli.h"
#include "system/dataio.h"

static const char usage[]
    = "Usage: ctr cp [-a] [-L] NAME:PATH HOSTPATH\n"
      "       ctr cp [-a] [-L] HOSTPATH NAME:PATH\n"
      "\n"
      "Copy a file, symlink or directory (recursively) out of or into the system container\n"
      "NAME, stopped or running. PATH is resolved inside the container's root (for a running\n"
      "one, the tree its mount namespace sees): a symlink in the container never leads out\n"
      "of it, and below PATH none is followed. Into an existing directory the copy keeps its\n"
      "name; a symlink in the way is replaced, not written through. Copies into the container\n"
      "belong to its root, copies out of it to the caller, unless -a. A host path with a\n"
      "colon is written ./a:b. NAME may also be a running OCI container's id.\n"
      "\n"
      "Options:\n"
      "  -a, --archive      keep owners (as ids inside the container, mapped through its id\n"
      "                     range when it has one), xattrs and file capabilities\n"
      "  -L, --follow-link  when the source is a symlink, copy what it names (resolved inside\n"
      "                     the container's root for a container path)\n"
      "  -h, --help         show this help\n";

int
cli_cp (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "archive", no_argument, NULL, 'a' },
    { "follow-link", no_argument, NULL, 'L' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  static const char shortopts[] = ":aLh";
  struct system_cp_options o = { 0 };
  ctr_error_t err = NULL;
  int c;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, shortopts, long_options, NULL)) != -1)
    if (c == 'h')
      return cli_help (usage);
    else if (c == 'a')
      o.archive = true;
    else if (c == 'L')
      o.follow_link = true;
    else
      return cli_option_error ("cp", c, argv, shortopts, long_options);
  if (argc - optind != 2)
    return cli_usage_error (
        "cp", argc - optind < 2 ? "needs a source and a destination" : "unexpected argument \"%s\"",
        argv[optind + 2 < argc ? optind + 2 : 0]);
  if (system_cp (ctx, argv[optind], argv[optind + 1], &o, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
