/* cli/info: `ctr info`, the state and resource use of one system container. */
#include <config.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "system/system.h"

static const char usage[]
    = "Usage: ctr info [--format table|json] NAME\n"
      "\n"
      "Show a system container: state, init's pid, uptime (since the last boot), restarts\n"
      "(reboots of the guest), CPU time and memory in use (from its cgroup), addresses,\n"
      "template, last exit status.\n"
      "\n"
      "Options:\n"
      "  -f, --format FORMAT  table (default) or json\n"
      "  -h, --help           show this help\n";

static void
print_text (const struct system_info *i)
{
  printf ("Name:       %s\n", i->name);
  printf ("State:      %s\n", system_status_name (i->status));
  if (i->pid)
    printf ("PID:        %d\n", (int)i->pid);
  if (i->status != SYSTEM_STOPPED)
    {
      printf ("Uptime:     %llus\n", (unsigned long long)i->uptime_s);
      printf ("Restarts:   %lld\n", (long long)i->restarts);
    }
  if (i->has_usage)
    {
      printf ("CPU use:    %.3fs\n", i->cpu_ns / 1e9);
      printf ("Memory use: %.1f MiB\n", i->memory_bytes / 1048576.0);
    }
  for (char **a = i->addresses; a && *a; a++)
    printf ("Address:    %s\n", *a);
  for (char **n = i->networks; n && *n; n++)
    printf ("Network:    %s\n", *n);
  printf ("Template:   %s\n", i->template_name ? i->template_name : "-");
  printf ("Kind:       %s\n", i->kind ? i->kind : "-");
  printf ("Autostart:  %s\n", i->autostart ? "yes" : "no");
  printf ("Pool:       %s\n", i->pool);
  printf ("Id range:   %s\n", i->idmap ? i->idmap : "-");
  if (i->cloned_from)
    printf ("Clone of:   %s\n", i->cloned_from);
  if (i->ephemeral_clone)
    printf ("Ephemeral:  clone (destroyed when it stops)\n");
  else if (i->ephemeral)
    printf ("Ephemeral:  run (its changes are gone when it stops)\n");
  if (i->has_last_exit)
    printf ("Last exit:  %d\n", i->last_exit);
}

int
cli_info (const struct ctr_context *ctx, int argc, char **argv)
{
  struct system_info info;
  ctr_error_t err = NULL;
  const char *name = NULL;
  bool json = false;
  int c;

  if ((c = cli_parse_format_args ("info", usage, argc, argv, &json, false)) != CLI_CONTINUE)
    return c;
  if ((c = cli_take_final_id (argc, argv, &name)) != CLI_CONTINUE)
    return c;
  if (system_info (ctx, name, true, &info, &err) < 0)
    return cli_fail (&err);
  if (json)
    {
      json_writer *w = json_writer_new (false);
      cli_system_info_json (w, &info);
      cli_print_json (w);
    }
  else
    print_text (&info);
  system_info_clear (&info);
  return CLI_EXIT_OK;
}
