/* cli/check_config: `ctr check-config`, what this host and user offer ctr and what to fix. */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "checkconfig/checkconfig.h"
#include "cli/cli.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr check-config [--format table|json]\n"
      "\n"
      "Check what this host and the current user offer ctr: namespaces, user namespaces and\n"
      "their sysctls, /etc/subuid and /etc/subgid, newuidmap/newgidmap, the cgroup layout and\n"
      "delegation, seccomp, overlayfs, nftables, pasta/slirp4netns, the state and store\n"
      "directories. Each check is ok, warn (optional, some features are unavailable) or\n"
      "missing (required in the current mode, root or rootless); advice on what to do\n"
      "follows the table. Exit status 0 when nothing required is missing, else 1.\n"
      "\n"
      "Options:\n"
      "  -f, --format FORMAT  table (default) or json: an array of {name, status, required,\n"
      "                       detail, advice}\n"
      "  -h, --help           show this help\n";

static void
print_table (const struct check_report *r)
{
  int width = 5;
  bool any_advice = false;
  size_t i;

  for (i = 0; i < r->n; i++)
    if ((int)strlen (r->results[i].name) > width)
      width = (int)strlen (r->results[i].name);
  printf ("%-7s  %-*s  %s\n", "STATUS", width, "CHECK", "DETAIL");
  for (i = 0; i < r->n; i++)
    printf ("%-7s  %-*s  %s\n", check_status_name (r->results[i].status), width, r->results[i].name,
            r->results[i].detail);
  for (i = 0; i < r->n; i++)
    if (r->results[i].advice)
      {
        if (!any_advice)
          fputs ("\nWhat to do:\n", stdout);
        any_advice = true;
        printf ("  %s %s: %s\n", check_status_name (r->results[i].status), r->results[i].name,
                r->results[i].advice);
      }
  if (check_report_ok (r))
    printf ("\nctr has what it needs to run containers %s.\n",
            r->rootless ? "rootless" : "as root");
  else
    printf ("\nctr cannot run containers %s until the missing checks are fixed.\n",
            r->rootless ? "rootless" : "as root");
}

static void
print_json (const struct check_report *r)
{
  json_writer *w = json_writer_new (false);

  json_array_open (w);
  for (size_t i = 0; i < r->n; i++)
    {
      json_map_open (w);
      json_kv_string (w, "name", r->results[i].name);
      json_kv_string (w, "status", check_status_name (r->results[i].status));
      json_kv_bool (w, "required", r->results[i].required);
      json_kv_string (w, "detail", r->results[i].detail);
      json_kv_string (w, "advice", r->results[i].advice);
      json_map_close (w);
    }
  json_array_close (w);
  cli_print_json (w);
}

int
cli_check_config (const struct ctr_context *ctx, int argc, char **argv)
{
  struct check_report report;
  bool json = false;
  int c;

  if ((c = cli_parse_format_args ("check-config", usage, argc, argv, &json, true)) != CLI_CONTINUE)
    return c;

  check_config_run (ctx, &report);
  if (json)
    print_json (&report);
  else
    print_table (&report);
  c = check_report_ok (&report) ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
  check_report_clear (&report);
  return c;
}
