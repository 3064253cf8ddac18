/* cli/checkpoint: `ctr checkpoint`, and `ctr restore`: runc's flags over criu(8). */
#include <config.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "cli/cli.h"
#include "system/system.h"

static const char checkpoint_usage[]
    = "Usage: ctr checkpoint [OPTIONS] ID\n"
      "       ctr checkpoint [--stop] NAME [DIR]\n"
      "\n"
      "Save the state of a running container with criu(8). Unless --leave-running or\n"
      "--pre-dump is given, the container stops and is deleted; `ctr restore` brings it back.\n"
      "A named system container keeps running unless --stop is given; its image goes to DIR\n"
      "(default: the checkpoint directory in its store directory).\n"
      "\n"
      "Options:\n"
      "      --stop                system container: stop it once it is saved\n"
      "      --image-path DIR      where criu writes the image (default: ./checkpoint)\n"
      "      --work-path DIR       where criu writes its log and work files (default: the\n"
      "                            image directory)\n"
      "      --parent-path DIR     a previous --pre-dump image, relative to the image path\n"
      "      --leave-running       leave the container running after the checkpoint\n"
      "      --tcp-established     allow open TCP connections\n"
      "      --ext-unix-sk         allow unix sockets connected outside the container\n"
      "      --shell-job           allow a process of a shell job (session, terminal outside)\n"
      "      --lazy-pages          leave memory pages to a criu lazy-pages server\n"
      "      --status-fd FD        with --lazy-pages: criu writes \\0 to FD when it is ready\n"
      "      --page-server ADDR:PORT  send the memory pages to a criu page server\n"
      "      --file-locks          checkpoint file locks\n"
      "      --pre-dump            dump memory only, the container keeps running\n"
      "      --manage-cgroups-mode MODE  soft (default), full, strict or ignore\n"
      "      --empty-ns NS         leave namespace NS (network) to be set up on restore\n"
      "      --auto-dedup          deduplicate memory against the parent image\n"
      "  -h, --help                show this help\n";

static const char restore_usage[]
    = "Usage: ctr restore [OPTIONS] ID\n"
      "       ctr restore NAME [DIR]\n"
      "\n"
      "Restore a container from a checkpoint made by `ctr checkpoint`, with its bundle. In the\n"
      "foreground ctr waits for it as `ctr run` does; with --detach it returns once the\n"
      "container runs again. A stopped system container NAME comes back under its monitor\n"
      "from DIR (default: the checkpoint directory in its store directory).\n"
      "\n"
      "Options:\n"
      "      --image-path DIR      the checkpoint image (default: ./checkpoint)\n"
      "      --work-path DIR       where criu writes its log (default: the image directory)\n"
      "  -b, --bundle DIR          the bundle directory (default: the current directory)\n"
      "  -d, --detach              return once the container runs; do not wait for it\n"
      "      --pid-file FILE       write the restored process's pid to FILE\n"
      "      --console-socket SOCK send the pty master of a terminal container over the\n"
      "                            unix socket SOCK\n"
      "      --tcp-established     restore open TCP connections\n"
      "      --ext-unix-sk         allow unix sockets connected outside the container\n"
      "      --shell-job           restore a process of a shell job\n"
      "      --file-locks          restore file locks\n"
      "      --manage-cgroups-mode MODE  soft (default), full, strict or ignore\n"
      "      --empty-ns NS         leave namespace NS (network) empty\n"
      "      --auto-dedup          punch restored pages out of the image\n"
      "      --lazy-pages          fetch memory pages on demand from a lazy-pages server\n"
      "      --lsm-profile TYPE:NAME  the LSM profile (apparmor or selinux) to restore with\n"
      "      --lsm-mount-context CTX  the LSM mount context to restore with\n"
      "      --no-subreaper        do not make ctr a subreaper in the foreground\n"
      "      --no-pivot            refused: criu always restores with pivot_root\n"
      "  -h, --help                show this help\n";

enum
{
  OPT_IMAGE_PATH = 0x300,
  OPT_WORK_PATH,
  OPT_PARENT_PATH,
  OPT_LEAVE_RUNNING,
  OPT_TCP,
  OPT_EXT_UNIX,
  OPT_SHELL_JOB,
  OPT_LAZY,
  OPT_STATUS_FD,
  OPT_PAGE_SERVER,
  OPT_FILE_LOCKS,
  OPT_PRE_DUMP,
  OPT_CG_MODE,
  OPT_EMPTY_NS,
  OPT_DEDUP,
  OPT_LSM_PROFILE,
  OPT_LSM_MOUNT,
  OPT_STOP,
};

/* The system form (NAME [DIR]) when the first operand is a stored system container: 1 and
 *name, *dir set; 0 for the OCI form; or a usage error's exit code (negative: -code). */
static int
system_form (const struct ctr_context *ctx, const char *verb, int argc, char **argv,
             const char *oci_flag, const char **name, const char **dir)
{
  if (optind >= argc || !system_exists (ctx, argv[optind]))
    return 0;
  if (oci_flag)
    return -cli_usage_error (verb, "--%s: not for a system container (`%s` is one)", oci_flag,
                             argv[optind]);
  if (argc - optind > 2)
    return -cli_usage_error (verb, "too many arguments: want NAME [DIR]");
  *name = argv[optind];
  *dir = argc - optind == 2 ? argv[optind + 1] : NULL;
  return 1;
}

#define COMMON_OPTIONS                                                                             \
  { "image-path", required_argument, NULL, OPT_IMAGE_PATH },                                       \
      { "work-path", required_argument, NULL, OPT_WORK_PATH },                                     \
      { "tcp-established", no_argument, NULL, OPT_TCP },                                           \
      { "ext-unix-sk", no_argument, NULL, OPT_EXT_UNIX },                                          \
      { "shell-job", no_argument, NULL, OPT_SHELL_JOB },                                           \
      { "lazy-pages", no_argument, NULL, OPT_LAZY },                                               \
      { "file-locks", no_argument, NULL, OPT_FILE_LOCKS },                                         \
      { "manage-cgroups-mode", required_argument, NULL, OPT_CG_MODE },                             \
      { "empty-ns", required_argument, NULL, OPT_EMPTY_NS },                                       \
      { "auto-dedup", no_argument, NULL, OPT_DEDUP },                                              \
  {                                                                                                \
    "help", no_argument, NULL, 'h'                                                                 \
  }

/* The options both verbs take; false when c is none of them. */
static bool
common_option (int c, struct container_criu_options *o)
{
  switch (c)
    {
    case OPT_IMAGE_PATH:
      o->image_path = optarg;
      return true;
    case OPT_WORK_PATH:
      o->work_path = optarg;
      return true;
    case OPT_TCP:
      o->tcp_established = true;
      return true;
    case OPT_EXT_UNIX:
      o->ext_unix_sk = true;
      return true;
    case OPT_SHELL_JOB:
      o->shell_job = true;
      return true;
    case OPT_LAZY:
      o->lazy_pages = true;
      return true;
    case OPT_FILE_LOCKS:
      o->file_locks = true;
      return true;
    case OPT_CG_MODE:
      o->manage_cgroups_mode = optarg;
      return true;
    case OPT_EMPTY_NS:
      o->empty_ns = optarg;
      return true;
    case OPT_DEDUP:
      o->auto_dedup = true;
      return true;
    default:
      return false;
    }
}

/* runc's default image path: ./checkpoint (the string to free, or NULL) */
static char *
default_image_path (struct container_criu_options *o)
{
  char *cwd, *path;
  if (o->image_path)
    return NULL;
  cwd = getcwd (NULL, 0);
  path = cwd ? xasprintf ("%s/checkpoint", cwd) : xstrdup ("checkpoint");
  free (cwd);
  o->image_path = path;
  return path;
}

int
cli_checkpoint (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    COMMON_OPTIONS,
    { "parent-path", required_argument, NULL, OPT_PARENT_PATH },
    { "leave-running", no_argument, NULL, OPT_LEAVE_RUNNING },
    { "status-fd", required_argument, NULL, OPT_STATUS_FD },
    { "page-server", required_argument, NULL, OPT_PAGE_SERVER },
    { "pre-dump", no_argument, NULL, OPT_PRE_DUMP },
    { "stop", no_argument, NULL, OPT_STOP },
    { NULL, 0, NULL, 0 },
  };
  struct container_criu_options o = { .status_fd = -1 };
  cleanup_free char *image = NULL;
  ctr_error_t err = NULL;
  const char *id = NULL, *oci_flag = NULL, *dir = NULL;
  bool stop = false;
  int64_t fd;
  int c, rc, idx = -1;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, ":h", long_options, &idx)) != -1)
    {
      if (idx >= 0 && c != OPT_STOP)
        oci_flag = long_options[idx].name;
      idx = -1;
      if (common_option (c, &o))
        continue;
      switch (c)
        {
        case 'h':
          return cli_help (checkpoint_usage);
        case OPT_STOP:
          stop = true;
          break;
        case OPT_PARENT_PATH:
          o.parent_path = optarg;
          break;
        case OPT_LEAVE_RUNNING:
          o.leave_running = true;
          break;
        case OPT_STATUS_FD:
          if (parse_int64 (optarg, &fd) < 0 || fd < 0 || fd > 65535)
            return cli_usage_error ("checkpoint", "--status-fd: \"%s\": want a file descriptor",
                                    optarg);
          o.status_fd = (int)fd;
          break;
        case OPT_PAGE_SERVER:
          o.page_server = optarg;
          break;
        case OPT_PRE_DUMP:
          o.pre_dump = true;
          break;
        default:
          return cli_option_error ("checkpoint", c, argv, ":h", long_options);
        }
    }
  rc = system_form (ctx, "checkpoint", argc, argv, oci_flag, &id, &dir);
  if (rc < 0)
    return -rc;
  if (rc == 1)
    return system_checkpoint (ctx, id, dir, stop, &err) < 0 ? cli_fail (&err) : CLI_EXIT_OK;
  if (stop)
    return cli_usage_error ("checkpoint", "--stop: only for a named system container (an OCI "
                                          "container stops unless --leave-running)");
  rc = cli_take_final_id (argc, argv, &id);
  if (rc != CLI_CONTINUE)
    return rc;
  image = default_image_path (&o);
  if (container_checkpoint (ctx, id, &o, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}

int
cli_restore (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    COMMON_OPTIONS,
    { "bundle", required_argument, NULL, 'b' },
    { "detach", no_argument, NULL, 'd' },
    { "pid-file", required_argument, NULL, CLI_OPT_PID_FILE },
    { "console-socket", required_argument, NULL, CLI_OPT_CONSOLE_SOCKET },
    { "no-subreaper", no_argument, NULL, CLI_OPT_NO_SUBREAPER },
    { "no-pivot", no_argument, NULL, CLI_OPT_NO_PIVOT },
    { "lsm-profile", required_argument, NULL, OPT_LSM_PROFILE },
    { "lsm-mount-context", required_argument, NULL, OPT_LSM_MOUNT },
    { NULL, 0, NULL, 0 },
  };
  struct container_criu_options o = { .status_fd = -1 };
  cleanup_free char *image = NULL;
  ctr_error_t err = NULL;
  const char *id = NULL, *oci_flag = NULL, *dir = NULL;
  int c, rc, exit_status = 0, idx = -1;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, ":b:dh", long_options, &idx)) != -1)
    {
      if (idx >= 0)
        oci_flag = long_options[idx].name;
      else if (c == 'b' || c == 'd')
        oci_flag = c == 'b' ? "bundle" : "detach";
      idx = -1;
      if (common_option (c, &o))
        continue;
      switch (c)
        {
        case 'h':
          return cli_help (restore_usage);
        case 'b':
          o.bundle = optarg;
          break;
        case 'd':
          o.detach = true;
          break;
        case CLI_OPT_PID_FILE:
          o.pid_file = optarg;
          break;
        case CLI_OPT_CONSOLE_SOCKET:
          o.console_socket = optarg;
          break;
        case CLI_OPT_NO_SUBREAPER:
          o.no_subreaper = true;
          break;
        case CLI_OPT_NO_PIVOT:
          return cli_usage_error ("restore", "--no-pivot: not supported: criu restores the root "
                                             "with pivot_root");
        case OPT_LSM_PROFILE:
          o.lsm_profile = optarg;
          break;
        case OPT_LSM_MOUNT:
          o.lsm_mount_context = optarg;
          break;
        default:
          return cli_option_error ("restore", c, argv, ":b:dh", long_options);
        }
    }
  rc = system_form (ctx, "restore", argc, argv, oci_flag, &id, &dir);
  if (rc < 0)
    return -rc;
  if (rc == 1)
    return system_restore (ctx, id, dir, &err) < 0 ? cli_fail (&err) : CLI_EXIT_OK;
  rc = cli_take_final_id (argc, argv, &id);
  if (rc != CLI_CONTINUE)
    return rc;
  image = default_image_path (&o);
  if (container_restore (ctx, id, &o, &exit_status, &err) < 0)
    return cli_fail (&err);
  return exit_status;
}
