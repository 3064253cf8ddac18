/* cli/move: `ctr move NAME --pool P`, a stopped system container's rootfs into another
   storage pool. */
#include <config.h>
#include <string.h>

#include "cli/cli.h"
#include "system/system.h"

static const char usage[]
    = "Usage: ctr move NAME --pool POOL\n"
      "\n"
      "Move the stopped system container NAME's root filesystem into the storage pool POOL\n"
      "(`ctr pool ls`): a new volume there (a directory, a btrfs subvolume, an LVM thin\n"
      "volume, or an overlay upper over an empty lower of its own) gets a copy (cp -a\n"
      "--reflink=auto) of the tree as the container sees it (an overlay's is flattened), then\n"
      "replaces the old volume, which is released. Refused for a running container, one with\n"
      "snapshots, and one with overlay clones stacked on its files. A move that was killed is\n"
      "undone (while copying) or finished (once the copy was whole) by the next `move`,\n"
      "`start` or `destroy` of NAME.\n"
      "\n"
      "Options:\n"
      "  -p, --pool POOL  the pool to move to (\"default\": the store itself)\n"
      "  -h, --help       show this help\n";

int
cli_move (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "pool", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  ctr_error_t err = NULL;
  const char *name = NULL, *pool = NULL;
  int c;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, "+:p:h", long_options, NULL)) != -1
         || (optind < argc && name == NULL))
    {
      if (c == -1)
        {
          /* NAME before or after --pool */
          name = argv[optind++];
          continue;
        }
      switch (c)
        {
        case 'p':
          pool = optarg;
          break;
        case 'h':
          return cli_help (usage);
        default:
          return cli_option_error ("move", c, argv, "+:p:h", long_options);
        }
    }
  if (name == NULL)
    return cli_usage_error ("move", "missing the container's NAME");
  if (optind < argc)
    return cli_usage_error ("move", "unexpected argument `%s`", argv[optind]);
  if (pool == NULL)
    return cli_usage_error ("move", "missing --pool POOL");
  if (system_move (ctx, name, pool, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
