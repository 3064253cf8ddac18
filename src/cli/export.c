/* cli/export: `ctr export` and `ctr import`, a system container as a tar archive. */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "base/util.h"
#include "system/dataio.h"

static const char export_usage[]
    = "Usage: ctr export [--snapshots] NAME FILE\n"
      "\n"
      "Write the stopped system container NAME as a tar archive to FILE (\"-\": standard\n"
      "output, uncompressed): its root filesystem with numeric owners, modes, xattrs, file\n"
      "capabilities and ACLs, and its definition (config.json, ctr.json, template.conf), all\n"
      "under NAME/. FILE's suffix picks the compression: .tar, .tar.gz or .tgz (gzip),\n"
      ".tar.xz or .txz (xz), .tar.zst or .tzst (zstd). The archive appears under its name\n"
      "only when complete (mode 0600); a failed or killed export leaves none.\n"
      "\n"
      "Options:\n"
      "  -s, --snapshots  also the container's snapshots (those of a btrfs or lvm pool are\n"
      "                   volumes, which an archive cannot hold yet)\n"
      "  -h, --help       show this help\n";

static const char import_usage[]
    = "Usage: ctr import [--pool POOL] FILE [NAME]\n"
      "\n"
      "Make a new system container from an archive of `ctr export` (plain, gzip, xz or zstd,\n"
      "told by its content). Every member is checked first: the layout NAME/{config.json,\n"
      "ctr.json,rootfs/...}, no absolute or `..` names, no device nodes outside /dev, nothing\n"
      "beneath a symlink of the archive, no hooks in the definition. The container gets the\n"
      "archive's name unless NAME is given, its own address (a static address and published\n"
      "ports are dropped), and, when its hostname was the old name, the new one.\n"
      "\n"
      "Options:\n"
      "  -p, --pool POOL  the storage pool of its root filesystem (default: the store)\n"
      "  -h, --help       show this help\n";

int
cli_export (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "snapshots", no_argument, NULL, 's' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  static const char shortopts[] = ":sh";
  ctr_error_t err = NULL;
  const char *name = NULL;
  bool snapshots = false;
  int c, index, rc;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, shortopts, long_options, NULL)) != -1)
    if (c == 'h')
      return cli_help (export_usage);
    else if (c == 's')
      snapshots = true;
    else
      return cli_option_error ("export", c, argv, shortopts, long_options);
  index = optind;
  if ((rc = cli_take_id ("export", argc, argv, &index, false, &name)) != CLI_CONTINUE)
    return rc;
  if (index >= argc)
    return cli_usage_error ("export", "missing the archive's file name (FILE, or - for stdout)");
  if (index + 1 < argc)
    return cli_usage_error ("export", "unexpected argument \"%s\"", argv[index + 1]);
  interrupt_catch ();
  if (system_export (ctx, name, argv[index], snapshots, &err) < 0)
    return cli_fail_interrupted (&err);
  return CLI_EXIT_OK;
}

int
cli_import (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "pool", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  static const char shortopts[] = ":p:h";
  ctr_error_t err = NULL;
  const char *name = NULL, *pool = NULL, *file;
  char *made = NULL;
  int c, index, rc;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, shortopts, long_options, NULL)) != -1)
    if (c == 'h')
      return cli_help (import_usage);
    else if (c == 'p')
      pool = optarg;
    else
      return cli_option_error ("import", c, argv, shortopts, long_options);
  index = optind;
  if (index >= argc)
    return cli_usage_error ("import", "missing the archive (FILE)");
  file = argv[index++];
  if (index < argc
      && (rc = cli_take_id ("import", argc, argv, &index, true, &name)) != CLI_CONTINUE)
    return rc;
  interrupt_catch ();
  if (system_import (ctx, file, name, pool, &made, &err) < 0)
    return cli_fail_interrupted (&err);
  printf ("%s\n", made);
  free (made);
  return CLI_EXIT_OK;
}
