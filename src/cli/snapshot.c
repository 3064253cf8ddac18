/* cli/snapshot: `ctr snapshot create|ls|restore|rm`, copies of a stopped system container. */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "system/system.h"

static const char usage[]
    = "Usage: ctr snapshot COMMAND NAME [ARGS]\n"
      "\n"
      "Keep copies of a stopped system container (its root filesystem and definition) and go\n"
      "back to them. Snapshots live in the container's directory and go with `ctr destroy`.\n"
      "\n"
      "Commands:\n"
      "  create NAME [SNAP] [--comment TEXT]  copy NAME (SNAP: the next free snapN)\n"
      "  ls [--format table|json] NAME        list NAME's snapshots: name, created,\n"
      "                                       comment, size\n"
      "  restore NAME SNAP                    put NAME back as SNAP has it\n"
      "  rm NAME SNAP                         remove a snapshot\n"
      "\n"
      "Options:\n"
      "  -c, --comment TEXT   (create) a note kept with the snapshot\n"
      "  -f, --format FORMAT  (ls) table (default) or json\n"
      "  -h, --help           show this help\n";

static int
do_create (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "comment", required_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  static const char shortopts[] = ":c:h";
  ctr_error_t err = NULL;
  const char *name = NULL, *snap = NULL, *comment = NULL;
  char *made = NULL;
  int c, index, rc;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, shortopts, long_options, NULL)) != -1)
    if (c == 'h')
      return cli_help (usage);
    else if (c == 'c')
      comment = optarg;
    else
      return cli_option_error ("snapshot create", c, argv, shortopts, long_options);
  index = optind;
  if ((rc = cli_take_id ("snapshot create", argc, argv, &index, false, &name)) != CLI_CONTINUE)
    return rc;
  if (index < argc)
    snap = argv[index++];
  if (index < argc)
    return cli_usage_error ("snapshot create", "unexpected argument \"%s\"", argv[index]);
  if (system_snapshot_create (ctx, name, snap, comment, &made, &err) < 0)
    return cli_fail (&err);
  printf ("%s\n", made);
  free (made);
  return CLI_EXIT_OK;
}

static int
do_ls (const struct ctr_context *ctx, int argc, char **argv)
{
  struct system_snapshot *list = NULL;
  ctr_error_t err = NULL;
  const char *name = NULL;
  bool json = false;
  size_t n;
  int c;

  if ((c = cli_parse_format_args ("snapshot ls", usage, argc, argv, &json, false)) != CLI_CONTINUE)
    return c;
  if ((c = cli_take_final_id (argc, argv, &name)) != CLI_CONTINUE)
    return c;
  if (system_snapshot_list (ctx, name, &list, &n, &err) < 0)
    return cli_fail (&err);
  if (json)
    {
      json_writer *w = json_writer_new (false);
      json_array_open (w);
      for (size_t i = 0; i < n; i++)
        {
          json_map_open (w);
          json_kv_string (w, "name", list[i].name);
          json_kv_string (w, "created", list[i].created);
          json_kv_string (w, "comment", list[i].comment ? list[i].comment : "");
          json_key (w, "size");
          json_uint (w, list[i].size);
          json_map_close (w);
        }
      json_array_close (w);
      cli_print_json (w);
    }
  else
    {
      printf ("%-16s %-30s %10s  %s\n", "NAME", "CREATED", "SIZE", "COMMENT");
      for (size_t i = 0; i < n; i++)
        printf ("%-16s %-30s %9.1fM  %s\n", list[i].name, list[i].created, list[i].size / 1048576.0,
                list[i].comment ? list[i].comment : "");
    }
  system_snapshot_list_free (list, n);
  return CLI_EXIT_OK;
}

/* restore and rm: NAME SNAP. */
static int
do_pair (const struct ctr_context *ctx, const char *verb, int argc, char **argv,
         int (*fn) (const struct ctr_context *, const char *, const char *, ctr_error_t *))
{
  ctr_error_t err = NULL;
  const char *name = NULL;
  int index, rc = cli_parse_simple (usage, argc, argv, NULL, NULL, &name, &index);

  if (rc != CLI_CONTINUE)
    return rc;
  if (index >= argc)
    return cli_usage_error (verb, "missing snapshot name");
  if (index + 1 < argc)
    return cli_usage_error (verb, "unexpected argument \"%s\"", argv[index + 1]);
  if (fn (ctx, name, argv[index], &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}

int
cli_snapshot (const struct ctr_context *ctx, int argc, char **argv)
{
  const char *sub;
  char *sub_argv0;

  if (argc < 2)
    return cli_usage_error ("snapshot", "missing command (create, ls, restore or rm)");
  sub = argv[1];
  if (strcmp (sub, "-h") == 0 || strcmp (sub, "--help") == 0 || strcmp (sub, "help") == 0)
    return cli_help (usage);
  /* argv[0] names the verb in errors */
  if (strcmp (sub, "create") == 0)
    sub_argv0 = "snapshot create";
  else if (strcmp (sub, "ls") == 0 || strcmp (sub, "list") == 0)
    sub_argv0 = "snapshot ls";
  else if (strcmp (sub, "restore") == 0)
    sub_argv0 = "snapshot restore";
  else if (strcmp (sub, "rm") == 0 || strcmp (sub, "remove") == 0)
    sub_argv0 = "snapshot rm";
  else
    return cli_usage_error ("snapshot", "unknown command \"%s\"", sub);
  argv[1] = sub_argv0;
  if (sub_argv0[9] == 'c')
    return do_create (ctx, argc - 1, argv + 1);
  if (sub_argv0[9] == 'l')
    return do_ls (ctx, argc - 1, argv + 1);
  if (sub_argv0[9] == 'r' && sub_argv0[10] == 'e')
    return do_pair (ctx, sub_argv0, argc - 1, argv + 1, system_snapshot_restore);
  return do_pair (ctx, sub_argv0, argc - 1, argv + 1, system_snapshot_remove);
}
