/* cli/update: `ctr update`, changes the resource limits of a running container. */
#include <config.h>
#include <stddef.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "system/system.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr update [OPTIONS] ID\n"
      "\n"
      "Change the cgroup limits of a created, running or paused container. --resources gives\n"
      "a runtime-spec linux.resources object; the other options set single values on top.\n"
      "A system container (ctr create -t) also keeps the new limits in its stored\n"
      "config.json, so that they hold after a restart; when it is stopped, they are only\n"
      "stored.\n"
      "\n"
      "Options:\n"
      "  -r, --resources FILE     read a linux.resources JSON object from FILE (- for stdin)\n"
      "      --memory N           memory limit in bytes (suffixes k, m, g allowed; -1: none)\n"
      "      --memory-swap N      memory plus swap limit in bytes (-1: unlimited swap)\n"
      "      --memory-reservation N  memory soft limit in bytes (suffixes allowed)\n"
      "      --cpu-shares N       relative CPU weight (cgroup v1 shares, 2-262144); also\n"
      "      --cpu-share N        (runc's spelling)\n"
      "      --cpu-rt-period N    realtime period in microseconds (cgroup v1)\n"
      "      --cpu-rt-runtime N   realtime runtime in microseconds per period (cgroup v1)\n"
      "      --cpu-quota N        CPU time in microseconds allowed per period (-1: none)\n"
      "      --cpu-period N       length of the CPU quota period in microseconds\n"
      "      --cpuset-cpus LIST   CPUs the container may use, e.g. 0-2,5\n"
      "      --cpuset-mems LIST   memory nodes the container may use, e.g. 0,1\n"
      "      --pids-limit N       maximum number of processes (-1 or 0: unlimited)\n"
      "      --blkio-weight N     relative block I/O weight (10-1000)\n"
      "      --l3-cache-schema S  Intel RDT L3 cache schema: refused (no resctrl support)\n"
      "      --mem-bw-schema S    Intel RDT memory bandwidth schema: refused likewise\n"
      "      --no-persist         a system container: change the running one only\n"
      "  -h, --help               show this help\n";

#define SHORTOPTS ":r:h"

/* Each option but --resources sets one string of container_update_options, which
   container_update checks; getopt returns OPT_VALUE + its index in value_options. */
#define OPT_VALUE 0x200
#define OPT_NO_PERSIST 0x100
#define FIELD(name) offsetof (struct container_update_options, name)
static const struct
{
  const char *name;
  size_t field;
} value_options[] = {
  { "memory", FIELD (memory) },
  { "memory-swap", FIELD (memory_swap) },
  { "cpu-shares", FIELD (cpu_shares) },
  { "cpu-share", FIELD (cpu_shares) }, /* runc's spelling */
  { "cpu-quota", FIELD (cpu_quota) },
  { "cpu-period", FIELD (cpu_period) },
  { "cpuset-cpus", FIELD (cpuset_cpus) },
  { "cpuset-mems", FIELD (cpuset_mems) },
  { "pids-limit", FIELD (pids_limit) },
  { "blkio-weight", FIELD (blkio_weight) },
  { "memory-reservation", FIELD (memory_reservation) },
  { "cpu-rt-period", FIELD (cpu_rt_period) },
  { "cpu-rt-runtime", FIELD (cpu_rt_runtime) },
  { "l3-cache-schema", FIELD (l3_cache_schema) },
  { "mem-bw-schema", FIELD (mem_bw_schema) },
};
#define N_VALUE_OPTIONS ARRAY_SIZE (value_options)

/* --resources, the value options, --help, --no-persist and the terminator. */
static void
build_long_options (struct option long_options[N_VALUE_OPTIONS + 4])
{
  size_t i;

  long_options[0] = (struct option){ "resources", required_argument, NULL, 'r' };
  for (i = 0; i < N_VALUE_OPTIONS; i++)
    long_options[i + 1]
        = (struct option){ value_options[i].name, required_argument, NULL, OPT_VALUE + (int)i };
  long_options[i + 1] = (struct option){ "help", no_argument, NULL, 'h' };
  long_options[i + 2] = (struct option){ "no-persist", no_argument, NULL, OPT_NO_PERSIST };
  long_options[i + 3] = (struct option){ NULL, 0, NULL, 0 };
}

int
cli_update (const struct ctr_context *ctx, int argc, char **argv)
{
  struct option long_options[N_VALUE_OPTIONS + 4];
  struct container_update_options opts = { 0 };
  cleanup_free char *resources = NULL;
  const char *resources_file = NULL, *id = NULL;
  ctr_error_t err = NULL;
  bool persist = true;
  int c, rc;

  build_long_options (long_options);
  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, SHORTOPTS, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      else if (c == 'r')
        resources_file = optarg;
      else if (c == OPT_NO_PERSIST)
        persist = false;
      else if (c >= OPT_VALUE && c < OPT_VALUE + (int)N_VALUE_OPTIONS)
        *(const char **)((char *)&opts + value_options[c - OPT_VALUE].field) = optarg;
      else
        return cli_option_error ("update", c, argv, SHORTOPTS, long_options);
    }
  rc = cli_take_final_id (argc, argv, &id);
  if (rc != CLI_CONTINUE)
    return rc;

  if (resources_file != NULL)
    {
      if (cli_read_input (resources_file, &resources, &opts.resources_json_len, &err) < 0)
        return cli_fail (&err);
      opts.resources_json = resources;
    }
  persist = persist && system_exists (ctx, id);
  /* a stopped system container has no cgroup to change: its next start reads the store */
  if ((!persist || system_status_get (ctx, id) != SYSTEM_STOPPED)
      && container_update (ctx, id, &opts, &err) < 0)
    return cli_fail (&err);
  if (persist && system_update_persist (ctx, id, &opts, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
