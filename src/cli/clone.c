/* cli/clone: `ctr clone`, a stopped system container copied as a new one. */
#include <config.h>
#include <string.h>

#include "cli/cli.h"
#include "base/util.h"
#include "system/system.h"

static const char usage[]
    = "Usage: ctr clone [--snapshot] [--ephemeral [-F]] SRC DST\n"
      "\n"
      "Copy the stopped system container SRC as a new container DST in SRC's storage pool:\n"
      "its root filesystem (cp -a --reflink=auto: cheap on btrfs and xfs) and its definition,\n"
      "renamed (hostname and /etc/hostname when they say SRC). A static address and\n"
      "published ports are not copied: DST gets its own lease. `ctr info DST` shows where it\n"
      "came from. Snapshots of SRC are not copied.\n"
      "\n"
      "Options:\n"
      "  -s, --snapshot  copy-on-write: a btrfs subvolume snapshot, an LVM thin snapshot, or\n"
      "                  an overlay upper over SRC (SRC cannot be destroyed while it has\n"
      "                  such clones); in a dir pool, the copy above\n"
      "  -e, --ephemeral started at once on a throw-away layer, and destroyed entirely when\n"
      "                  it stops (lxc-copy -e); `ctr ls` and `ctr info` say so\n"
      "  -F, --foreground with --ephemeral: stay on its console until it ends, and exit with\n"
      "                  its status\n"
      "  -h, --help      show this help\n";

int
cli_clone (const struct ctr_context *ctx, int argc, char **argv)
{
  ctr_error_t err = NULL;
  const char *src = NULL, *dst = NULL;
  bool snapshot = false, ephemeral = false, foreground = false;
  int index, rc, status;

  /* the flags anywhere among the arguments */
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--snapshot") == 0 || strcmp (argv[i], "-s") == 0
        || strcmp (argv[i], "--ephemeral") == 0 || strcmp (argv[i], "-e") == 0
        || strcmp (argv[i], "--foreground") == 0 || strcmp (argv[i], "-F") == 0)
      {
        if (argv[i][1] == 's' || argv[i][2] == 's')
          snapshot = true;
        else if (argv[i][1] == 'e' || argv[i][2] == 'e')
          ephemeral = true;
        else
          foreground = true;
        memmove (argv + i, argv + i + 1, (argc - i) * sizeof *argv);
        argc--;
        i--;
      }
  rc = cli_parse_simple (usage, argc, argv, NULL, NULL, &src, &index);
  if (rc != CLI_CONTINUE)
    return rc;
  if (index >= argc)
    return cli_usage_error ("clone", "missing the new container's name (DST)");
  if ((rc = cli_take_id ("clone", argc, argv, &index, true, &dst)) != CLI_CONTINUE)
    return rc;
  if (foreground && !ephemeral)
    return cli_usage_error ("clone", "-F goes with --ephemeral");
  if (ephemeral)
    {
      if (system_clone_ephemeral (ctx, src, dst, snapshot, foreground, &status, &err) < 0)
        return cli_fail (&err);
      return status;
    }
  interrupt_catch ();
  if (system_clone (ctx, src, dst, snapshot, &err) < 0)
    return cli_fail_interrupted (&err);
  return CLI_EXIT_OK;
}
