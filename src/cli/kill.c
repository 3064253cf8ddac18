/* cli/kill: `ctr kill`, sends a signal to a container's process (or all its processes). */
#include <config.h>
#include <signal.h>
#include <string.h>

#include "cli/cli.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr kill [OPTIONS] ID [SIGNAL]\n"
      "\n"
      "Send SIGNAL to the init process of a container. SIGNAL is a name with or without\n"
      "the SIG prefix (TERM, SIGKILL, RTMIN+3) or a number; the default is SIGTERM. 0\n"
      "sends nothing: it only checks that the container's process is there.\n"
      "\n"
      "Options:\n"
      "  -a, --all   send the signal to every process of the container\n"
      "  -h, --help  show this help\n";

int
cli_kill (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option all_option = { "all", no_argument, NULL, 'a' };
  ctr_error_t err = NULL;
  const char *id = NULL;
  bool all = false;
  int index, sig = SIGTERM;
  int rc = cli_parse_simple (usage, argc, argv, &all_option, &all, &id, &index);

  if (rc != CLI_CONTINUE)
    return rc;
  /* an empty signal is the default, as runc takes it (`kill ID "$SIG"` with SIG unset) */
  if (index < argc && (argv[index][0] != '\0' || index + 1 < argc))
    {
      if (index + 1 < argc)
        return cli_usage_error ("kill", "unexpected argument \"%s\"", argv[index + 1]);
      /* 0, as for kill(1): whether the container's process is there, nothing sent */
      sig = strcmp (argv[index], "0") == 0 ? 0 : signal_parse (argv[index]);
      if (sig < 0)
        return cli_usage_error ("kill", "invalid signal \"%s\"", argv[index]);
    }
  if (container_kill (ctx, id, sig, all, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}
