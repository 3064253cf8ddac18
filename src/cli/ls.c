/* cli/ls: `ctr ls`, the named system containers, stopped ones too. */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "system/system.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr ls [--format table|json]\n"
      "\n"
      "List the named system containers: name, state (running, paused, stopped, or orphaned\n"
      "when its monitor died; a * after it: ephemeral, from `start --ephemeral` or `clone\n"
      "--ephemeral`), init's pid, addresses, template and autostart.\n"
      "`ctr list` lists the OCI containers of the state directory instead.\n"
      "\n"
      "Options:\n"
      "  -f, --format FORMAT  table (default) or json\n"
      "  -h, --help           show this help\n";

static char *
join (char **v)
{
  size_t len = 1;
  char *out;
  for (char **s = v; s && *s; s++)
    len += strlen (*s) + 1;
  out = xzalloc (len);
  for (char **s = v; s && *s; s++)
    {
      if (s != v)
        strcat (out, ",");
      strcat (out, *s);
    }
  return out;
}

void
cli_system_info_json (json_writer *w, const struct system_info *i)
{
  json_map_open (w);
  json_kv_string (w, "name", i->name);
  json_kv_string (w, "state", system_status_name (i->status));
  json_kv_int (w, "pid", i->pid);
  json_kv_strv (w, "addresses", i->addresses);
  json_kv_strv (w, "networks", i->networks);
  json_kv_string (w, "template", i->template_name);
  json_kv_string (w, "kind", i->kind);
  json_kv_bool (w, "autostart", i->autostart);
  json_kv_string (w, "pool", i->pool);
  json_kv_string (w, "idmap", i->idmap);
  if (i->cloned_from)
    json_kv_string (w, "cloned_from", i->cloned_from);
  json_kv_bool (w, "ephemeral", i->ephemeral || i->ephemeral_clone);
  if (i->status != SYSTEM_STOPPED)
    {
      json_kv_int (w, "uptime", (int64_t)i->uptime_s);
      json_kv_int (w, "restarts", i->restarts);
    }
  if (i->has_last_exit)
    json_kv_int (w, "last_exit", i->last_exit);
  if (i->has_usage)
    {
      json_kv_int (w, "cpu_ns", (int64_t)i->cpu_ns);
      json_kv_int (w, "memory_bytes", (int64_t)i->memory_bytes);
    }
  json_map_close (w);
}

/* "running*": on a throw-away layer, or a clone destroyed when it stops */
static const char *
ls_state (const struct system_info *i)
{
  static char buf[32];
  if (!i->ephemeral && !i->ephemeral_clone)
    return system_status_name (i->status);
  snprintf (buf, sizeof buf, "%s*", system_status_name (i->status));
  return buf;
}

int
cli_ls (const struct ctr_context *ctx, int argc, char **argv)
{
  struct system_info *list = NULL;
  ctr_error_t err = NULL;
  bool json = false;
  size_t n, i;
  int c;

  if ((c = cli_parse_format_args ("ls", usage, argc, argv, &json, true)) != CLI_CONTINUE)
    return c;
  if (system_list (ctx, &list, &n, &err) < 0)
    return cli_fail (&err);
  if (json)
    {
      json_writer *w = json_writer_new (false);
      json_array_open (w);
      for (i = 0; i < n; i++)
        cli_system_info_json (w, &list[i]);
      json_array_close (w);
      cli_print_json (w);
    }
  else
    {
      printf ("%-20s %-9s %-8s %-20s %-10s %s\n", "NAME", "STATE", "PID", "ADDRESSES", "TEMPLATE",
              "AUTOSTART");
      for (i = 0; i < n; i++)
        {
          cleanup_free char *addrs = join (list[i].addresses);
          printf ("%-20s %-9s %-8d %-20s %-10s %s\n", list[i].name, ls_state (&list[i]),
                  (int)list[i].pid, *addrs ? addrs : "-",
                  list[i].template_name ? list[i].template_name : "-",
                  list[i].autostart ? "yes" : "no");
        }
    }
  for (i = 0; i < n; i++)
    system_info_clear (&list[i]);
  free (list);
  return CLI_EXIT_OK;
}
