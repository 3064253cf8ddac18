/* cli/list: `ctr list`, the containers under the state root as a table, JSON or ids. */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "oci/oci.h"

static const char usage[] = "Usage: ctr list [OPTIONS]\n"
                            "\n"
                            "List the containers known to ctr (under the state root, see --root).\n"
                            "\n"
                            "Options:\n"
                            "  -f, --format FORMAT  table (default) or json\n"
                            "  -q, --quiet          print only the container ids\n"
                            "  -h, --help           show this help\n";

#define SHORTOPTS ":f:qh"

/* Like runc's tabwriter (minimum width 12, padding 3); the last column is not padded. */
#define COLUMN_MIN 12
#define COLUMN_PAD 3
#define N_COLUMNS 6

static void
print_row (const char *const cells[N_COLUMNS], const size_t widths[N_COLUMNS])
{
  size_t i;

  for (i = 0; i < N_COLUMNS - 1; i++)
    printf ("%-*s", (int)widths[i], cells[i]);
  printf ("%s\n", cells[N_COLUMNS - 1]);
}

/* The table cells of one container; pid_buf holds the pid's text. */
static void
row_cells (const struct container_info *info, char pid_buf[24], const char *cells[N_COLUMNS])
{
  size_t j;

  snprintf (pid_buf, 24, "%d", (int)info->pid);
  cells[0] = info->id;
  cells[1] = pid_buf;
  cells[2] = info->status;
  cells[3] = info->bundle;
  cells[4] = info->created;
  cells[5] = info->owner;
  for (j = 0; j < N_COLUMNS; j++)
    if (cells[j] == NULL)
      cells[j] = "";
}

static void
print_table (const struct container_info *infos, size_t n)
{
  static const char *const header[N_COLUMNS]
      = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
  const char *cells[N_COLUMNS];
  size_t widths[N_COLUMNS], i, j;
  char pid_buf[24];

  for (j = 0; j < N_COLUMNS; j++)
    widths[j] = strlen (header[j]);
  for (i = 0; i < n; i++)
    {
      row_cells (&infos[i], pid_buf, cells);
      for (j = 0; j < N_COLUMNS; j++)
        if (strlen (cells[j]) > widths[j])
          widths[j] = strlen (cells[j]);
    }
  for (j = 0; j < N_COLUMNS; j++)
    widths[j] = widths[j] + COLUMN_PAD < COLUMN_MIN ? COLUMN_MIN : widths[j] + COLUMN_PAD;
  print_row (header, widths);
  for (i = 0; i < n; i++)
    {
      row_cells (&infos[i], pid_buf, cells);
      print_row (cells, widths);
    }
}

/* runc's document: its keys in its order, the pid as a number. */
static void
print_json (const struct container_info *infos, size_t n)
{
  json_writer *w = json_writer_new (false);
  size_t i;

  json_array_open (w);
  for (i = 0; i < n; i++)
    {
      const struct container_info *c = &infos[i];
      json_map_open (w);
      json_kv_string (w, "ociVersion", OCI_SPEC_VERSION);
      json_kv_string (w, "id", c->id);
      json_kv_int (w, "pid", (int)c->pid);
      json_kv_string (w, "status", c->status);
      json_kv_string (w, "bundle", c->bundle);
      json_kv_string (w, "rootfs", c->rootfs ? c->rootfs : "");
      json_kv_string (w, "created", c->created);
      if (c->annotations)
        {
          json_key (w, "annotations");
          json_raw (w, c->annotations, strlen (c->annotations));
        }
      json_kv_string (w, "owner", c->owner);
      json_map_close (w);
    }
  json_array_close (w);
  cli_print_json (w);
}

int
cli_list (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "format", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct container_info *infos = NULL;
  ctr_error_t err = NULL;
  bool quiet = false, json = false;
  size_t n = 0, i;
  int c;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, SHORTOPTS, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      else if (c == 'q')
        quiet = true;
      else if (c != 'f')
        return cli_option_error ("list", c, argv, SHORTOPTS, long_options);
      else if (cli_parse_format ("list", optarg, &json) != CLI_CONTINUE)
        return CLI_EXIT_USAGE;
    }
  if (optind < argc)
    return cli_usage_error ("list", "unexpected argument \"%s\"", argv[optind]);

  if (container_list (ctx, &infos, &n, &err) < 0)
    return cli_fail (&err);
  if (quiet)
    for (i = 0; i < n; i++)
      printf ("%s\n", infos[i].id);
  else if (json)
    print_json (infos, n);
  else
    print_table (infos, n);
  container_info_free (infos, n);
  return CLI_EXIT_OK;
}
