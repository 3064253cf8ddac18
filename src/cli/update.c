/* cli/update: `ctr update`, changes the resource limits of a running container. */
#include "config.h"
#include <stdlib.h>

#include "cli/cli.h"
#include "util.h"

static const char usage[] =
    "Usage: ctr update [OPTIONS] ID\n"
    "\n"
    "Change the cgroup limits of a created, running or paused container. --resources gives\n"
    "a runtime-spec linux.resources object; the other options set single values on top.\n"
    "\n"
    "Options:\n"
    "  -r, --resources FILE     read a linux.resources JSON object from FILE (- for stdin)\n"
    "      --memory N           memory limit in bytes (suffixes k, m, g allowed; -1: none)\n"
    "      --memory-swap N      memory plus swap limit in bytes (-1: unlimited swap)\n"
    "      --cpu-shares N       relative CPU weight (cgroup v1 shares, 2-262144)\n"
    "      --cpu-quota N        CPU time in microseconds allowed per period (-1: none)\n"
    "      --cpu-period N       length of the CPU quota period in microseconds\n"
    "      --cpuset-cpus LIST   CPUs the container may use, e.g. 0-2,5\n"
    "      --cpuset-mems LIST   memory nodes the container may use, e.g. 0,1\n"
    "      --pids-limit N       maximum number of processes (-1 or 0: unlimited)\n"
    "      --blkio-weight N     relative block I/O weight (10-1000)\n"
    "  -h, --help               show this help\n";

#define SHORTOPTS ":r:h"

enum
{
  OPT_MEMORY = 0x200,
  OPT_MEMORY_SWAP,
  OPT_CPU_SHARES,
  OPT_CPU_QUOTA,
  OPT_CPU_PERIOD,
  OPT_CPUSET_CPUS,
  OPT_CPUSET_MEMS,
  OPT_PIDS_LIMIT,
  OPT_BLKIO_WEIGHT,
};

static int
update_option (struct container_update_options *o, const char **resources_file, int c,
               const char *arg, char **argv)
{
  switch (c)
    {
    case 'r': *resources_file = arg; break;
    case OPT_MEMORY: o->memory = arg; break;
    case OPT_MEMORY_SWAP: o->memory_swap = arg; break;
    case OPT_CPU_SHARES: o->cpu_shares = arg; break;
    case OPT_CPU_QUOTA: o->cpu_quota = arg; break;
    case OPT_CPU_PERIOD: o->cpu_period = arg; break;
    case OPT_CPUSET_CPUS: o->cpuset_cpus = arg; break;
    case OPT_CPUSET_MEMS: o->cpuset_mems = arg; break;
    case OPT_PIDS_LIMIT: o->pids_limit = arg; break;
    case OPT_BLKIO_WEIGHT: o->blkio_weight = arg; break;
    default: return cli_option_error ("update", c, argv, SHORTOPTS);
    }
  return CLI_CONTINUE;
}

int
cli_update (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "resources", required_argument, NULL, 'r' },
    { "memory", required_argument, NULL, OPT_MEMORY },
    { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
    { "cpu-shares", required_argument, NULL, OPT_CPU_SHARES },
    { "cpu-share", required_argument, NULL, OPT_CPU_SHARES }, /* runc's spelling */
    { "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
    { "cpu-period", required_argument, NULL, OPT_CPU_PERIOD },
    { "cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS },
    { "cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS },
    { "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
    { "blkio-weight", required_argument, NULL, OPT_BLKIO_WEIGHT },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct container_update_options opts = { 0 };
  cleanup_free char *resources = NULL;
  const char *resources_file = NULL, *id = NULL;
  ctr_error_t err = NULL;
  int c, rc, index;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, SHORTOPTS, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      rc = update_option (&opts, &resources_file, c, optarg, argv);
      if (rc != CLI_CONTINUE)
        return rc;
    }
  index = optind;
  rc = cli_take_id ("update", argc, argv, &index, true, &id);
  if (rc != CLI_CONTINUE)
    return rc;

  if (resources_file != NULL)
    {
      if (cli_read_input (resources_file, &resources, &opts.resources_json_len, &err) < 0)
        return cli_fail (&err);
      opts.resources_json = resources;
    }
  if (container_update (ctx, id, &opts, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
