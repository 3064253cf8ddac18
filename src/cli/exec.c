/* cli/exec: `ctr exec`, runs a new process inside a running container. */
#include <config.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr exec [OPTIONS] ID COMMAND [ARG...]\n"
      "       ctr exec [OPTIONS] -p PROCESS.json ID\n"
      "\n"
      "Run a new process in the namespaces, cgroup and security context of a running\n"
      "container. ctr waits for it and exits with its status (128+N when killed by signal N)\n"
      "unless --detach is given.\n"
      "\n"
      "Options:\n"
      "  -p, --process FILE        read the process (runtime-spec \"process\" object) from\n"
      "                            FILE; the options below then override its fields\n"
      "  -t, --tty                 allocate a pseudo-terminal\n"
      "      --cwd DIR             working directory inside the container\n"
      "  -e, --env KEY=VALUE       set an environment variable (repeatable)\n"
      "  -u, --user UID[:GID]      run as this user and group (numeric)\n"
      "  -g, --additional-gids G   add a supplementary group (repeatable, or G1,G2)\n"
      "  -c, --cap CAP             add a capability, e.g. CAP_NET_ADMIN (repeatable)\n"
      "      --no-new-privs        set no_new_privs for the process\n"
      "  -d, --detach              do not wait for the process\n"
      "      --pid-file FILE       write the process's pid to FILE\n"
      "      --console-socket SOCK send the pty master over the unix socket SOCK (with -t)\n"
      "      --preserve-fds N      pass N file descriptors (from fd 3) to the process\n"
      "      --ignore-paused       exec in a paused container too (the process runs once it\n"
      "                            is resumed)\n"
      "      --apparmor PROFILE    the AppArmor profile of the process\n"
      "      --process-label LABEL the SELinux label of the process\n"
      "      --cgroup PATH         run the process in PATH, an existing cgroup inside the\n"
      "                            container's (relative to it)\n"
      "  -h, --help                show this help\n";

/* "+": the command's own options follow the id and are not ours. */
#define SHORTOPTS "+:p:te:u:g:c:dh"

enum
{
  OPT_CWD = 0x200,
  OPT_NO_NEW_PRIVS,
  OPT_IGNORE_PAUSED,
  OPT_APPARMOR,
  OPT_PROCESS_LABEL,
  OPT_CGROUP,
};

struct exec_args
{
  struct container_exec_options opts;
  char **env, **gids, **caps;
  size_t n_env, n_gids, n_caps;
};

static void
exec_args_free (struct exec_args *a)
{
  strv_free (a->env);
  strv_free (a->gids);
  strv_free (a->caps);
}

/* -g takes one gid or a comma-separated list; each must be a number. */
static int
add_gids (struct exec_args *a, const char *arg)
{
  cleanup_free char *copy = xstrdup (arg);
  char *save = NULL, *tok;
  size_t added = 0;
  uint64_t gid;

  for (tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save), added++)
    {
      if (parse_uint64 (tok, &gid) < 0 || gid > UINT32_MAX)
        return cli_usage_error ("exec", "invalid additional gid \"%s\"", tok);
      cli_strv_push (&a->gids, &a->n_gids, tok);
    }
  if (added == 0)
    return cli_usage_error ("exec", "invalid additional gid \"%s\"", arg);
  return CLI_CONTINUE;
}

static const struct option long_options[] = {
  { "process", required_argument, NULL, 'p' },
  { "tty", no_argument, NULL, 't' },
  { "cwd", required_argument, NULL, OPT_CWD },
  { "env", required_argument, NULL, 'e' },
  { "user", required_argument, NULL, 'u' },
  { "additional-gids", required_argument, NULL, 'g' },
  { "cap", required_argument, NULL, 'c' },
  { "no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS },
  { "detach", no_argument, NULL, 'd' },
  { "pid-file", required_argument, NULL, CLI_OPT_PID_FILE },
  { "console-socket", required_argument, NULL, CLI_OPT_CONSOLE_SOCKET },
  { "preserve-fds", required_argument, NULL, CLI_OPT_PRESERVE_FDS },
  { "ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED },
  { "apparmor", required_argument, NULL, OPT_APPARMOR },
  { "process-label", required_argument, NULL, OPT_PROCESS_LABEL },
  { "cgroup", required_argument, NULL, OPT_CGROUP },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};
static int
exec_option (struct exec_args *a, int c, const char *arg, char **argv)
{
  struct container_exec_options *o = &a->opts;

  switch (c)
    {
    case 'p':
      o->process_file = arg;
      break;
    case 't':
      o->tty = o->tty_set = true;
      break;
    case OPT_CWD:
      o->cwd = arg;
      break;
    case 'e':
      if (strchr (arg, '=') == NULL || arg[0] == '=')
        return cli_usage_error ("exec", "invalid environment variable \"%s\": want KEY=VALUE", arg);
      cli_strv_push (&a->env, &a->n_env, arg);
      break;
    case 'u':
      o->user = arg;
      break;
    case 'g':
      return add_gids (a, arg);
    case 'c':
      cli_strv_push (&a->caps, &a->n_caps, arg);
      break;
    case OPT_NO_NEW_PRIVS:
      o->no_new_privs = true;
      break;
    case OPT_IGNORE_PAUSED:
      o->ignore_paused = true;
      break;
    case OPT_APPARMOR:
      o->apparmor = arg;
      break;
    case OPT_PROCESS_LABEL:
      o->process_label = arg;
      break;
    case OPT_CGROUP:
      o->cgroup = arg;
      break;
    case 'd':
      o->detach = true;
      break;
    case CLI_OPT_PID_FILE:
      o->pid_file = arg;
      break;
    case CLI_OPT_CONSOLE_SOCKET:
      o->console_socket = arg;
      break;
    case CLI_OPT_PRESERVE_FDS:
      return cli_parse_preserve_fds ("exec", arg, &o->preserve_fds);
    default:
      return cli_option_error ("exec", c, argv, SHORTOPTS, long_options);
    }
  return CLI_CONTINUE;
}

static int
exec_parse (struct exec_args *a, int argc, char **argv, const char **id)
{

  int c, rc, index;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, SHORTOPTS, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      rc = exec_option (a, c, optarg, argv);
      if (rc != CLI_CONTINUE)
        return rc;
    }
  index = optind;
  rc = cli_take_id ("exec", argc, argv, &index, false, id);
  if (rc != CLI_CONTINUE)
    return rc;
  if (index < argc && strcmp (argv[index], "--") == 0)
    index++;
  /* argv is NULL-terminated, so the rest of it is the command vector as it stands */
  if (index < argc)
    a->opts.args = &argv[index];
  else if (a->opts.process_file == NULL)
    return cli_usage_error ("exec", "missing command (or --process FILE)");
  return CLI_CONTINUE;
}

int
cli_exec (const struct ctr_context *ctx, int argc, char **argv)
{
  struct exec_args a = { 0 };
  ctr_error_t err = NULL;
  const char *id = NULL;
  int rc, exit_status = 0;

  rc = exec_parse (&a, argc, argv, &id);
  if (rc == CLI_CONTINUE)
    {
      a.opts.env = a.env;
      a.opts.additional_gids = a.gids;
      a.opts.caps = a.caps;
      /* as runc: 255 when the process never ran, so a caller tells it from its own 1 */
      if (container_exec (ctx, id, &a.opts, &exit_status, &err) < 0)
        {
          cli_fail (&err);
          rc = CLI_EXIT_EXEC_FAILED;
        }
      else
        rc = a.opts.detach ? CLI_EXIT_OK : exit_status;
    }
  exec_args_free (&a);
  return rc;
}
