/* cli/config: `ctr config`, shows or changes the definition of a system container. */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "system/system.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr config NAME [get [KEY] | keys | set KEY VALUE | edit]\n"
      "\n"
      "Without a subcommand, print the definition of a system container: its ctr settings\n"
      "(\"ctr\") and its OCI configuration (\"config\") as one JSON document.\n"
      "\n"
      "  get KEY        print one setting\n"
      "  get, keys      print every key with its value, \"KEY = VALUE\" lines\n"
      "  set KEY VALUE  change one setting (checked before it is saved)\n"
      "  edit           edit config.json in $VISUAL or $EDITOR; an invalid result is not\n"
      "                 saved\n"
      "\n"
      "Keys: autostart (true|false), stop_signal (e.g. SIGPWR), stop_timeout (seconds),\n"
      "net (comma-separated networks, or none, or host), ip, publish (comma-separated\n"
      "[HOSTIP:]HOSTPORT:PORT[/PROTO]), privileged (true|false, while stopped);\n"
      "read-only: template, created, kind, last_exit, cloned_from, pool, idmap.\n"
      "Keys of the OCI config (config.json) and of autostart, see ctr-config(1):\n"
      "memory and swap (512M, 1G, max), cpus (1.5), cpu.shares or cpu.weight,\n"
      "cpuset.cpus, cpuset.mems, pids, blkio.weight, rlimit.NAME (SOFT[:HARD]), env.NAME,\n"
      "env.unset (NAME), hostname, mount.add (/HOST:/GUEST[:ro]), mount.rm (/GUEST),\n"
      "device.add and device.rm (/dev/PATH), cap.add and cap.drop (CAP_X), seccomp\n"
      "(on|off), nesting (true|false), lxcfs (auto|true|false), autostart.order,\n"
      "autostart.delay (seconds), autostart.group; read-only: mounts, devices, caps.\n"
      "Changes take effect at the next start.\n"
      "\n"
      "Options:\n"
      "  -h, --help  show this help\n";

int
cli_config (const struct ctr_context *ctx, int argc, char **argv)
{
  ctr_error_t err = NULL;
  const char *name = NULL, *sub;
  cleanup_free char *out = NULL;
  int rest = 0, rc = cli_parse_simple (usage, argc, argv, NULL, NULL, &name, &rest);
  int left;

  if (rc != CLI_CONTINUE)
    return rc;
  left = argc - rest;
  sub = left > 0 ? argv[rest] : NULL;
  if (sub == NULL)
    rc = system_config_show (ctx, name, &out, &err);
  else if ((strcmp (sub, "get") == 0 || strcmp (sub, "keys") == 0) && left == 1)
    rc = system_config_get (ctx, name, NULL, &out, &err);
  else if (strcmp (sub, "get") == 0 && left == 2)
    rc = system_config_get (ctx, name, argv[rest + 1], &out, &err);
  else if (strcmp (sub, "set") == 0 && left == 3)
    rc = system_config_set (ctx, name, argv[rest + 1], argv[rest + 2], &err);
  else if (strcmp (sub, "edit") == 0 && left == 1)
    rc = system_config_edit (ctx, name, &err);
  else
    return cli_usage_error ("config",
                            "want `get [KEY]`, `keys`, `set KEY VALUE` or `edit` after NAME");
  if (rc < 0)
    return cli_fail (&err);
  if (out)
    {
      fputs (out, stdout);
      if (*out && out[strlen (out) - 1] != '\n')
        putchar ('\n');
    }
  return CLI_EXIT_OK;
}
