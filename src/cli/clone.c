/* cli/clone: `ctr clone`, a stopped system container copied as a new one. */
#include <config.h>

#include "cli/cli.h"
#include "system/system.h"

static const char usage[]
    = "Usage: ctr clone SRC DST\n"
      "\n"
      "Copy the stopped system container SRC as a new container DST: its root filesystem\n"
      "(cp -a --reflink=auto: cheap on btrfs and xfs) and its definition, renamed (hostname\n"
      "and /etc/hostname when they say SRC). A static address and published ports are not\n"
      "copied: DST gets its own lease. `ctr info DST` shows where it came from. Snapshots of\n"
      "SRC are not copied.\n"
      "\n"
      "Options:\n"
      "  -h, --help  show this help\n";

int
cli_clone (const struct ctr_context *ctx, int argc, char **argv)
{
  ctr_error_t err = NULL;
  const char *src = NULL, *dst = NULL;
  int index, rc = cli_parse_simple (usage, argc, argv, NULL, NULL, &src, &index);

  if (rc != CLI_CONTINUE)
    return rc;
  if (index >= argc)
    return cli_usage_error ("clone", "missing the new container's name (DST)");
  if ((rc = cli_take_id ("clone", argc, argv, &index, true, &dst)) != CLI_CONTINUE)
    return rc;
  if (system_clone (ctx, src, dst, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
