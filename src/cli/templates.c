/* cli/templates: `ctr templates`, the templates system containers can be made from. */
#include <config.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "system/system.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr templates [--format table|json]\n"
      "\n"
      "List the installed templates (`ctr create -t NAME`), with one line of description\n"
      "each. $CTR_TEMPLATE_PATH (colon-separated directories) is searched first.\n"
      "\n"
      "Options:\n"
      "  -f, --format FORMAT  table (default) or json\n"
      "  -h, --help           show this help\n";

int
cli_templates (const struct ctr_context *ctx, int argc, char **argv)
{
  struct template_info *t = NULL;
  ctr_error_t err = NULL;
  bool json = false;
  json_writer *w = NULL;
  size_t n, i;
  int c;

  if ((c = cli_parse_format_args ("templates", usage, argc, argv, &json, true)) != CLI_CONTINUE)
    return c;
  if (system_templates (&t, &n, &err) < 0)
    return cli_fail (&err);
  if (json)
    {
      w = json_writer_new (false);
      json_array_open (w);
    }
  for (i = 0; i < n; i++)
    {
      cleanup_free char *d = system_template_describe (t[i].path);
      if (w)
        {
          json_map_open (w);
          json_kv_string (w, "name", t[i].name);
          json_kv_string (w, "description", d);
          json_kv_string (w, "path", t[i].path);
          json_map_close (w);
        }
      else
        printf ("%-12s %s\n", t[i].name, d);
    }
  if (w)
    {
      json_array_close (w);
      cli_print_json (w);
    }
  template_info_free (t, n);
  return CLI_EXIT_OK;
}
