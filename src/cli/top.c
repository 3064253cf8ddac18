/* cli/top: `ctr top`, CPU, memory, pids and block I/O of every running container, like
   lxc-top and systemd-cgtop. */
#include <config.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "system/system.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr top [OPTIONS]\n"
      "\n"
      "Show the resource usage of every running container (OCI and system containers) from\n"
      "its cgroup: CPU use over the interval (100% is one CPU), memory in use and its limit,\n"
      "processes, and bytes read and written to block devices. Refreshes every interval\n"
      "until interrupted.\n"
      "\n"
      "Options:\n"
      "  -d, --delay SECONDS  the interval (default 1; decimals allowed)\n"
      "  -n, --once           print one table after one interval, then exit\n"
      "  -f, --format FORMAT  table (default) or json (one array per interval)\n"
      "  -h, --help           show this help\n";

#define SHORTOPTS ":d:nf:h"
#define NO_LIMIT (UINT64_C (1) << 62)

static uint64_t
mono_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
compare_rows (const void *a, const void *b)
{
  return strcmp (((const struct container_top_row *)a)->id,
                 ((const struct container_top_row *)b)->id);
}

/* CPU % of row over the interval, from its sample in before (-1: unknown). */
static double
cpu_percent (const struct container_top_row *row, const struct container_top_row *before,
             size_t nbefore, uint64_t interval_ns)
{
  for (size_t i = 0; i < nbefore; i++)
    if (strcmp (before[i].id, row->id) == 0)
      {
        if (!row->has_cpu || !before[i].has_cpu || row->cpu_ns < before[i].cpu_ns || !interval_ns)
          return -1;
        return 100.0 * (double)(row->cpu_ns - before[i].cpu_ns) / (double)interval_ns;
      }
  return -1;
}

static void
human (char *buf, size_t size, bool has, uint64_t v)
{
  static const char units[] = "KMGTP";
  double d = (double)v;
  int u = -1;

  if (!has)
    {
      snprintf (buf, size, "-");
      return;
    }
  while (d >= 1024 && u < 4)
    d /= 1024, u++;
  if (u < 0)
    snprintf (buf, size, "%" PRIu64 "B", v);
  else
    snprintf (buf, size, "%.1f%c", d, units[u]);
}

static void
print_table (const struct ctr_context *ctx, const struct container_top_row *rows, size_t n,
             const double *cpu)
{
  printf ("%-24s %-6s %7s %9s %9s %6s %9s %9s\n", "NAME", "TYPE", "CPU%", "MEMORY", "LIMIT", "PIDS",
          "READ", "WRITE");
  for (size_t i = 0; i < n; i++)
    {
      const struct container_top_row *r = &rows[i];
      char mem[32], lim[32], rd[32], wr[32], pct[32], pids[32];
      human (mem, sizeof mem, r->has_memory, r->memory);
      human (lim, sizeof lim, r->has_memory && r->memory_limit < NO_LIMIT, r->memory_limit);
      human (rd, sizeof rd, r->has_io, r->io_read);
      human (wr, sizeof wr, r->has_io, r->io_write);
      snprintf (pct, sizeof pct, cpu[i] < 0 ? "-" : "%.1f", cpu[i]);
      snprintf (pids, sizeof pids, r->has_pids ? "%" PRIu64 : "-", r->pids);
      printf ("%-24s %-6s %7s %9s %9s %6s %9s %9s\n", r->id,
              system_exists (ctx, r->id) ? "system" : "oci", pct, mem, lim, pids, rd, wr);
    }
}

static void
print_json (const struct ctr_context *ctx, const struct container_top_row *rows, size_t n,
            const double *cpu)
{
  json_writer *w = json_writer_new (false);
  json_array_open (w);
  for (size_t i = 0; i < n; i++)
    {
      const struct container_top_row *r = &rows[i];
      json_map_open (w);
      json_kv_string (w, "id", r->id);
      json_kv_string (w, "type", system_exists (ctx, r->id) ? "system" : "oci");
      json_kv_string (w, "status", r->status);
      json_key (w, "cpu_percent");
      if (cpu[i] < 0)
        json_null (w);
      else
        {
          char buf[32];
          snprintf (buf, sizeof buf, "%.2f", cpu[i]);
          json_raw (w, buf, strlen (buf));
        }
#define KV_U64(key, has, v)                                                                        \
  json_key (w, key);                                                                               \
  if (has)                                                                                         \
    json_uint (w, v);                                                                              \
  else                                                                                             \
    json_null (w);
      KV_U64 ("cpu_ns", r->has_cpu, r->cpu_ns);
      KV_U64 ("memory_bytes", r->has_memory, r->memory);
      KV_U64 ("memory_limit_bytes", r->has_memory && r->memory_limit < NO_LIMIT, r->memory_limit);
      KV_U64 ("pids", r->has_pids, r->pids);
      KV_U64 ("io_read_bytes", r->has_io, r->io_read);
      KV_U64 ("io_write_bytes", r->has_io, r->io_write);
#undef KV_U64
      json_map_close (w);
    }
  json_array_close (w);
  cli_print_json (w);
}

/* The options: CLI_CONTINUE, or the exit status of --help or a usage error. */
static int
parse_options (int argc, char **argv, bool *once, bool *json, double *delay)
{
  static const struct option long_options[] = {
    { "delay", required_argument, NULL, 'd' },
    { "once", no_argument, NULL, 'n' },
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  char *end;
  int c;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, SHORTOPTS, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      else if (c == 'n')
        *once = true;
      else if (c == 'd')
        {
          errno = 0;
          *delay = strtod (optarg, &end);
          if (errno || end == optarg || *end || !(*delay >= 0.01 && *delay <= 3600))
            return cli_usage_error ("top", "--delay: `%s` is not a number of seconds (0.01-3600)",
                                    optarg);
        }
      else if (c == 'f')
        {
          if (cli_parse_format ("top", optarg, json) != CLI_CONTINUE)
            return CLI_EXIT_USAGE;
        }
      else
        return cli_option_error ("top", c, argv, SHORTOPTS, long_options);
    }
  if (optind < argc)
    return cli_usage_error ("top", "unexpected argument `%s`", argv[optind]);
  return CLI_CONTINUE;
}

/* One screen: rows with the CPU use since before, t1 - t0 ago. */
static void
print_sample (const struct ctr_context *ctx, struct container_top_row *rows, size_t n,
              const struct container_top_row *before, size_t nbefore, uint64_t interval_ns,
              bool json, bool clear)
{
  double *cpu = xzalloc ((n + 1) * sizeof *cpu);

  qsort (rows, n, sizeof *rows, compare_rows);
  for (size_t i = 0; i < n; i++)
    cpu[i] = cpu_percent (&rows[i], before, nbefore, interval_ns);
  if (clear)
    fputs ("\033[H\033[2J", stdout);
  if (json)
    print_json (ctx, rows, n, cpu);
  else
    print_table (ctx, rows, n, cpu);
  fflush (stdout);
  free (cpu);
}

int
cli_top (const struct ctr_context *ctx, int argc, char **argv)
{
  struct container_top_row *before = NULL;
  size_t nbefore = 0;
  bool once = false, json = false;
  double delay = 1;
  uint64_t t0;
  ctr_error_t err = NULL;
  int rc = parse_options (argc, argv, &once, &json, &delay);

  if (rc != CLI_CONTINUE)
    return rc;
  if (container_top_sample (ctx, &before, &nbefore, &err) < 0)
    return cli_fail (&err);
  t0 = mono_ns ();
  for (;;)
    {
      struct container_top_row *rows = NULL;
      struct timespec ts = { (time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9) };
      size_t n = 0;
      uint64_t t1;

      while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
        ;
      if (container_top_sample (ctx, &rows, &n, &err) < 0)
        {
          container_top_free (before, nbefore);
          return cli_fail (&err);
        }
      t1 = mono_ns ();
      print_sample (ctx, rows, n, before, nbefore, t1 - t0, json,
                    !once && !json && isatty (STDOUT_FILENO));
      container_top_free (before, nbefore);
      before = rows;
      nbefore = n;
      t0 = t1;
      if (once)
        break;
    }
  container_top_free (before, nbefore);
  return CLI_EXIT_OK;
}
