/* ctr: the entry point: global options, the verb table, dispatch to src/cli/<verb>.c. */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "runtime/container.h"
#include "base/log.h"
#include "network/network.h"
#include "process/selfexec.h"
#include "base/util.h"
#include "oci/oci.h"

struct verb
{
  const char *name;
  cli_verb_fn fn;
  const char *summary; /* NULL: accepted for runc compatibility, not listed */
  bool system;         /* listed under the system-container commands */
};

static const struct verb verbs[] = {
  { "create", cli_create, "create a container from a bundle, or from a template (-t)" },
  { "start", cli_start, "run a created container, or boot a system container" },
  { "run", cli_run, "create and start a container, wait for it unless --detach" },
  { "exec", cli_exec, "run a new process inside a running container" },
  { "state", cli_state, "print the state of a container (JSON)" },
  { "list", cli_list, "list containers" },
  { "ps", cli_ps, "show the processes of a container" },
  { "kill", cli_kill, "send a signal to a container's process(es)" },
  { "pause", cli_pause, "suspend all processes of a container" },
  { "resume", cli_resume, "resume the processes of a paused container" },
  { "update", cli_update, "change the resource limits of a container" },
  { "events", cli_events, "print a container's resource usage and OOM events (JSON)" },
  { "top", cli_top, "show CPU, memory, pids and block I/O of every running container" },
  { "delete", cli_delete, "delete a container and its resources" },
  { "spec", cli_spec, "write a default config.json" },
  { "features", cli_features, "print the runtime features of this build (JSON)" },
  { "checkpoint", cli_checkpoint, "save a running container's state with criu" },
  { "restore", cli_restore, "restore a container from a checkpoint with criu" },
  /* system containers */
  { "attach", cli_attach, "run a command (a login shell) in a running system container", true },
  { "console", cli_console, "connect to a system container's console (or print its log)", true },
  { "stop", cli_stop, "shut a system container down", true },
  { "ls", cli_ls, "list the named system containers", true },
  { "info", cli_info, "show a system container's state and resource use", true },
  { "destroy", cli_destroy, "remove a system container and its root filesystem", true },
  { "clone", cli_clone, "copy a stopped system container as a new one", true },
  { "snapshot", cli_snapshot, "keep and restore copies of a stopped system container", true },
  { "export", cli_export, "write a stopped system container as a tar archive", true },
  { "import", cli_import, "make a system container from an archive of export", true },
  { "cp", cli_cp, "copy files between a system container and the host", true },
  { "pool", cli_pool, "storage pools for system containers' root filesystems", true },
  { "move", cli_move, "move a stopped system container's rootfs to another pool", true },
  { "config", cli_config, "show or change a system container's definition", true },
  { "templates", cli_templates, "list the templates of system containers", true },
  { "check-config", cli_check_config, "check what this host and user offer ctr, and what to fix",
    true },
  { "migrate", cli_migrate, "move a running system container to another ctr host", true },
  { "network", cli_network, "manage named networks (create, ls, inspect, rm)", true },
};

static void
print_usage (FILE *f)
{
  size_t i;

  fputs ("Usage: ctr [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS...]\n"
         "\n"
         "ctr runs OCI containers (the runc command line, for podman, containerd and CRI-O)\n"
         "and named system containers built from templates (as LXC does). The OCI verbs also\n"
         "act on a running system container by its name.\n"
         "\n"
         "OCI runtime commands:\n",
         f);
  for (i = 0; i < ARRAY_SIZE (verbs); i++)
    if (verbs[i].summary != NULL && !verbs[i].system)
      fprintf (f, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
  fputs ("\nSystem container commands (also create -t, start NAME):\n", f);
  for (i = 0; i < ARRAY_SIZE (verbs); i++)
    if (verbs[i].summary != NULL && verbs[i].system)
      fprintf (f, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
  fputs ("\n"
         "Global options:\n"
         "      --root DIR            directory for container state (default: /run/ctr, or\n"
         "                            $XDG_RUNTIME_DIR/ctr when rootless)\n"
         "      --store DIR           directory of named system containers (default:\n"
         "                            /var/lib/ctr/containers, or $XDG_DATA_HOME/ctr/containers)\n"
         "      --log FILE            also write diagnostics to FILE\n"
         "      --log-format FORMAT   text (default) or json\n"
         "      --debug               log debug messages\n"
         "      --systemd-cgroup      manage cgroups through systemd (slice:prefix:name)\n"
         "      --rootless VALUE      accepted for runc compatibility, ignored\n"
         "      --criu PATH           the criu binary checkpoint and restore run (default:\n"
         "                            criu, from PATH)\n"
         "  -v, --version             print the version and exit\n"
         "  -h, --help                print this help and exit\n"
         "\n"
         "Run 'ctr COMMAND --help' for the options of a command; see ctr(1).\n",
         f);
}

static void
print_version (void)
{
  printf ("ctr version %s\n", PACKAGE_VERSION);
  printf ("spec: %s\n", OCI_SPEC_VERSION);
  /* Each feature this build was compiled with; cgroup drivers and yajl are not optional. */
#ifdef HAVE_SECCOMP
  fputs ("+SECCOMP ", stdout);
#else
  fputs ("-SECCOMP ", stdout);
#endif
#ifdef HAVE_CAP
  fputs ("+CAP ", stdout);
#else
  fputs ("-CAP ", stdout);
#endif
  fputs ("+CGROUPV1 +CGROUPV2 +YAJL\n", stdout);
}

static const struct verb *
find_verb (const char *name)
{
  size_t i;

  for (i = 0; i < ARRAY_SIZE (verbs); i++)
    if (strcmp (verbs[i].name, name) == 0)
      return &verbs[i];
  return NULL;
}

/* containerd's client is also called ctr: its syntax gets one line saying which ctr this is
   (ctr(1), CONTAINERD'S CLIENT) instead of a usage error. Its singular `snapshot` is this
   ctr's verb (snapshots of system containers); the plural stays containerd's. */
static bool
is_containerd_client_syntax (int argc, char **argv)
{
  static const char *const client_verbs[]
      = { "images", "image",     "i",          "containers",  "container", "c",       "tasks",
          "task",   "t",         "namespaces", "namespace",   "ns",        "content", "snapshots",
          "leases", "plugins",   "plugin",     "version",     "install",   "oci",     "shim",
          "pprof",  "sandboxes", "sandbox",    "deprecations" };
  static const char *const client_options[]
      = { "-n", "--namespace", "-a", "--address", "--connect-timeout", "--timeout" };
  const char *first = argc > 1 ? argv[1] : "";
  size_t i;

  for (i = 0; i < ARRAY_SIZE (client_options); i++)
    {
      size_t len = strlen (client_options[i]);
      if (strncmp (first, client_options[i], len) == 0 && (first[len] == '\0' || first[len] == '='))
        return true;
    }
  for (i = 0; first[0] != '-' && i < ARRAY_SIZE (client_verbs); i++)
    if (strcmp (first, client_verbs[i]) == 0)
      return true;
  return false;
}

static int
unknown_verb (const char *name)
{
  const char *names[ARRAY_SIZE (verbs)];
  const char *near;
  size_t i, n = 0;

  for (i = 0; i < ARRAY_SIZE (verbs); i++)
    if (verbs[i].summary)
      names[n++] = verbs[i].name;
  near = cli_nearest (name, names, n);
  if (near)
    return cli_usage_error (NULL, "unknown command \"%s\"; did you mean \"%s\"?", name, near);
  return cli_usage_error (NULL, "unknown command \"%s\"", name);
}

struct global_options
{
  struct ctr_context ctx;
  const char *log_path;
  enum ctr_log_format log_format;
  bool debug;
};

enum
{
  OPT_ROOT = 0x200,
  OPT_LOG,
  OPT_LOG_FORMAT,
  OPT_DEBUG,
  OPT_SYSTEMD_CGROUP,
  OPT_ROOTLESS,
  OPT_CRIU,
  OPT_STORE,
};

#define SHORTOPTS "+:vh"

/* Parses the options before the verb; CLI_CONTINUE or an exit code. */
static int
parse_global_options (struct global_options *g, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "root", required_argument, NULL, OPT_ROOT },
    { "log", required_argument, NULL, OPT_LOG },
    { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
    { "debug", no_argument, NULL, OPT_DEBUG },
    { "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP },
    { "rootless", required_argument, NULL, OPT_ROOTLESS },
    { "criu", required_argument, NULL, OPT_CRIU },
    { "store", required_argument, NULL, OPT_STORE },
    { "version", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  opterr = 0;
  /* "+": stop at the verb, whose own options come after it */
  while ((c = getopt_long (argc, argv, SHORTOPTS, long_options, NULL)) != -1)
    switch (c)
      {
      case OPT_ROOT:
        g->ctx.state_root = optarg;
        break;
      case OPT_LOG:
        g->log_path = optarg;
        break;
      case OPT_LOG_FORMAT:
        if (strcmp (optarg, "text") == 0)
          g->log_format = CTR_LOG_TEXT;
        else if (strcmp (optarg, "json") == 0)
          g->log_format = CTR_LOG_JSON;
        else
          return cli_usage_error (NULL, "invalid --log-format \"%s\": want text or json", optarg);
        break;
      case OPT_DEBUG:
        g->debug = true;
        break;
      case OPT_SYSTEMD_CGROUP:
        g->ctx.systemd_cgroup = true;
        break;
      case OPT_STORE:
        g->ctx.store = optarg;
        break;
      case OPT_CRIU:
        g->ctx.criu = optarg;
        break;
      case OPT_ROOTLESS: /* runc compatibility: rootless mode is detected */
        break;
      case 'v':
        print_version ();
        return CLI_EXIT_OK;
      case 'h':
        print_usage (stdout);
        return CLI_EXIT_OK;
      default:
        return cli_option_error (NULL, c, argv, SHORTOPTS, long_options);
      }
  return CLI_CONTINUE;
}

/* `ctr help [COMMAND]`. */
static int
run_help (const struct ctr_context *ctx, int argc, char **argv)
{
  const struct verb *v;
  char *help_argv[] = { NULL, (char *)"--help", NULL };

  if (argc < 2)
    {
      print_usage (stdout);
      return CLI_EXIT_OK;
    }
  v = find_verb (argv[1]);
  if (v == NULL)
    return cli_usage_error (NULL, "unknown command \"%s\"", argv[1]);
  help_argv[0] = argv[1];
  return v->fn (ctx, 2, help_argv);
}

/* Reports a failed write of stdout (a full disk, a closed pipe) as a runtime error. */
static int
flush_stdout (int rc)
{
  if (fflush (stdout) == 0 && !ferror (stdout))
    return rc;
  fprintf (stderr, "ctr: write standard output: %s\n", strerror (errno));
  return rc == CLI_EXIT_OK ? CLI_EXIT_FAILURE : rc;
}

int
main (int argc, char **argv)
{
  /* the lifecycle is handed the network layer's attach step (run --net, delete) */
  struct global_options g = { .ctx.attach = &network_container_step, .log_format = CTR_LOG_TEXT };
  const struct verb *v;
  ctr_error_t err = NULL;
  int rc;

  /* containerd's bash completion asks its ctr this: no answer is the harmless one */
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--generate-bash-completion") == 0)
      return CLI_EXIT_OK;
  if (is_containerd_client_syntax (argc, argv))
    {
      fputs ("ctr: this is ctr, the container runtime (runc's command line), not containerd's "
             "client of the same name: see CONTAINERD'S CLIENT in ctr(1)\n",
             stderr);
      return CLI_EXIT_USAGE;
    }
  rc = parse_global_options (&g, argc, argv);
  if (rc != CLI_CONTINUE)
    return flush_stdout (rc);
  if (optind >= argc)
    {
      print_usage (stderr);
      return CLI_EXIT_USAGE;
    }
  v = find_verb (argv[optind]);
  if (v == NULL && strcmp (argv[optind], "help") != 0)
    return unknown_verb (argv[optind]);

  /* the commands whose setup process must live in a pid namespace where container
     processes run re-execute ctr from a sealed copy (rule 1): with these arguments */
  selfexec_save_argv (argv);
  if (ctr_log_init (g.log_path, g.log_format, g.debug, &err) < 0)
    return cli_fail (&err);
  if (v == NULL)
    rc = run_help (&g.ctx, argc - optind, argv + optind);
  else
    rc = v->fn (&g.ctx, argc - optind, argv + optind);
  return flush_stdout (rc);
}
