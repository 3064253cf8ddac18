/* cli/ps: `ctr ps`, the processes of a container: pids as JSON, or ps(1) output filtered. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr ps [OPTIONS] ID [PS_OPTION...]\n"
      "\n"
      "Show the processes of a container. The table comes from ps(1), run on the host with\n"
      "PS_OPTION... (default: -ef) and filtered to the container's processes, so the pids are\n"
      "host pids. ps's output needs a PID column.\n"
      "\n"
      "Options:\n"
      "  -f, --format FORMAT  table (default) or json (an array of pids; PS_OPTIONs are\n"
      "                       ignored)\n"
      "  -h, --help           show this help\n";

/* "+": the ps options after the id are not ours. */
#define SHORTOPTS "+:f:h"
/* ps output for every process of a big host stays far below this. */
#define PS_OUTPUT_MAX (64 * 1024 * 1024)

static void
print_pids_json (const pid_t *pids, size_t n)
{
  json_writer *w = json_writer_new (false);
  size_t i;

  json_array_open (w);
  for (i = 0; i < n; i++)
    json_int (w, pids[i]);
  json_array_close (w);
  cli_print_json (w);
}

/* Reads fd to EOF into a NUL-terminated buffer; false when it grows past the cap. */
static bool
read_to_end (int fd, char **out)
{
  size_t used = 0, size = 8192;
  char *buf = xmalloc (size + 1);
  ssize_t r;

  while ((r = read (fd, buf + used, size - used)) != 0)
    {
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0 || used + (size_t)r > PS_OUTPUT_MAX)
        {
          free (buf);
          return false;
        }
      used += (size_t)r;
      if (used == size)
        buf = xrealloc (buf, (size *= 2) + 1);
    }
  buf[used] = '\0';
  *out = buf;
  return true;
}

/* Runs ps with argv and collects its standard output. */
static int
run_ps (char **argv, char **out, ctr_error_t *err)
{
  cleanup_free char *buf = NULL;
  cleanup_close int rd = -1;
  posix_spawn_file_actions_t fa;
  int fds[2], status, ret;
  bool complete;
  pid_t pid;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return ctr_error (err, errno, "pipe");
  rd = fds[0];
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, fds[1], STDOUT_FILENO);
  ret = posix_spawnp (&pid, "ps", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (fds[1]);
  if (ret != 0)
    return ctr_error (err, ret, "run `ps`");

  complete = read_to_end (rd, &buf);
  /* closing first: a ps still writing gets EPIPE instead of blocking us forever */
  close (steal_fd (rd));
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return ctr_error (err, errno, "wait for `ps`");
  if (!complete)
    return ctr_error (err, EFBIG, "read the output of `ps`");
  if (WIFSIGNALED (status))
    return ctr_error (err, 0, "`ps` was killed by signal %d", WTERMSIG (status));
  if (WEXITSTATUS (status) != 0)
    return ctr_error (err, 0, "`ps` exited with status %d", WEXITSTATUS (status));
  *out = steal_ptr (buf);
  return 0;
}

/* The pid column's index in ps's header, or -1. */
static int
pid_column (const char *header)
{
  cleanup_free char *copy = xstrdup (header);
  char *save = NULL, *tok;
  int i = 0;

  for (tok = strtok_r (copy, " \t", &save); tok; tok = strtok_r (NULL, " \t", &save), i++)
    if (strcmp (tok, "PID") == 0)
      return i;
  return -1;
}

static bool
line_in_container (const char *line, int column, const pid_t *pids, size_t n)
{
  cleanup_free char *copy = xstrdup (line);
  char *save = NULL, *tok;
  int64_t pid;
  size_t i;
  int col = 0;

  for (tok = strtok_r (copy, " \t", &save); tok && col < column;
       tok = strtok_r (NULL, " \t", &save))
    col++;
  if (tok == NULL || parse_int64 (tok, &pid) < 0)
    return false;
  for (i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

/* Prints ps's header and the lines of the container's processes (runc's behaviour). */
static int
print_ps_table (char **ps_args, const pid_t *pids, size_t n, ctr_error_t *err)
{
  cleanup_free char *output = NULL;
  char *line, *save = NULL;
  int column;

  if (run_ps (ps_args, &output, err) < 0)
    return -1;
  line = strtok_r (output, "\n", &save);
  if (line == NULL || (column = pid_column (line)) < 0)
    return ctr_error (err, 0, "`ps` output has no PID column");
  printf ("%s\n", line);
  while ((line = strtok_r (NULL, "\n", &save)) != NULL)
    if (line_in_container (line, column, pids, n))
      printf ("%s\n", line);
  return 0;
}

int
cli_ps (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  static char *default_args[] = { (char *)"ps", (char *)"-ef", NULL };
  cleanup_free pid_t *pids = NULL;
  cleanup_free char **ps_args = NULL;
  ctr_error_t err = NULL;
  const char *id = NULL;
  bool json = false;
  size_t n = 0, i;
  int c, rc, index;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, SHORTOPTS, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      else if (c != 'f')
        return cli_option_error ("ps", c, argv, SHORTOPTS, long_options);
      else if (cli_parse_format ("ps", optarg, &json) != CLI_CONTINUE)
        return CLI_EXIT_USAGE;
    }
  index = optind;
  rc = cli_take_id ("ps", argc, argv, &index, false, &id);
  if (rc != CLI_CONTINUE)
    return rc;
  if (index < argc && strcmp (argv[index], "--") == 0)
    index++;

  if (container_ps (ctx, id, &pids, &n, &err) < 0)
    return cli_fail (&err);
  if (json)
    {
      print_pids_json (pids, n);
      return CLI_EXIT_OK;
    }
  if (index < argc)
    {
      ps_args = xzalloc ((size_t)(argc - index + 2) * sizeof (char *));
      ps_args[0] = (char *)"ps";
      for (i = 0; index + (int)i < argc; i++)
        ps_args[i + 1] = argv[index + (int)i];
    }
  if (print_ps_table (ps_args ? ps_args : default_args, pids, n, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
