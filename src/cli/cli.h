/* cli: the verbs of the ctr command line and the small helpers they share. */
#ifndef CTR_CLI_H
#define CTR_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "runtime/container.h"
#include "base/error.h"
#include "base/json.h"

/* The runtime-spec version ctr implements (printed by `ctr --version`). */

/* Exit codes (DESIGN.md §3); run and exec return the container process's status. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2
/* `stop`: the container is stopped, but init had to be killed */
#define CLI_EXIT_STOP_KILLED 3
/* exec whose process never ran (runc's code: the process's own statuses stay apart) */
#define CLI_EXIT_EXEC_FAILED 255
/* Returned by parsing helpers when the verb should go on (never an exit code). */
#define CLI_CONTINUE (-1)

/* Every verb: argv[0] is the verb's name; returns the process exit code. */
typedef int (*cli_verb_fn) (const struct ctr_context *ctx, int argc, char **argv);

int cli_create (const struct ctr_context *ctx, int argc, char **argv);
int cli_start (const struct ctr_context *ctx, int argc, char **argv);
/* autostart.c: many containers at once. group: only those of autostart.group GROUP (NULL:
   all); jobs: --jobs as given (NULL: a few per CPU); timeout: a stop's (-1: each one's). */
struct cli_batch
{
  const char *group, *jobs;
  int timeout;
};
/* `ctr start --autostart`: the stopped ones marked autostart, lowest order first. */
int cli_start_autostart (const struct ctr_context *ctx, const struct cli_batch *opt);
/* `ctr stop --all`: every running system container, the highest order first. */
int cli_stop_all (const struct ctr_context *ctx, const struct cli_batch *opt);
/* The exit status of a stop done (CLI_EXIT_STOP_KILLED, with a warning, when it
   had to kill). */
struct system_stopped;
int cli_stop_status (const char *name, const struct system_stopped *how);
int cli_run (const struct ctr_context *ctx, int argc, char **argv);
int cli_state (const struct ctr_context *ctx, int argc, char **argv);
int cli_kill (const struct ctr_context *ctx, int argc, char **argv);
int cli_delete (const struct ctr_context *ctx, int argc, char **argv);
int cli_exec (const struct ctr_context *ctx, int argc, char **argv);
int cli_list (const struct ctr_context *ctx, int argc, char **argv);
int cli_ps (const struct ctr_context *ctx, int argc, char **argv);
int cli_pause (const struct ctr_context *ctx, int argc, char **argv);
int cli_resume (const struct ctr_context *ctx, int argc, char **argv);
int cli_update (const struct ctr_context *ctx, int argc, char **argv);
int cli_spec (const struct ctr_context *ctx, int argc, char **argv);
int cli_features (const struct ctr_context *ctx, int argc, char **argv);
int cli_events (const struct ctr_context *ctx, int argc, char **argv);
int cli_top (const struct ctr_context *ctx, int argc, char **argv);
int cli_network (const struct ctr_context *ctx, int argc, char **argv);
/* The system-container verbs. */
int cli_stop (const struct ctr_context *ctx, int argc, char **argv);
int cli_attach (const struct ctr_context *ctx, int argc, char **argv);
int cli_console (const struct ctr_context *ctx, int argc, char **argv);
int cli_ls (const struct ctr_context *ctx, int argc, char **argv);
int cli_info (const struct ctr_context *ctx, int argc, char **argv);
int cli_destroy (const struct ctr_context *ctx, int argc, char **argv);
int cli_clone (const struct ctr_context *ctx, int argc, char **argv);
int cli_move (const struct ctr_context *ctx, int argc, char **argv);
int cli_snapshot (const struct ctr_context *ctx, int argc, char **argv);
int cli_pool (const struct ctr_context *ctx, int argc, char **argv);
int cli_config (const struct ctr_context *ctx, int argc, char **argv);
int cli_templates (const struct ctr_context *ctx, int argc, char **argv);
int cli_check_config (const struct ctr_context *ctx, int argc, char **argv);
/* export.c: `ctr export` and `ctr import`; cp.c: `ctr cp`. */
int cli_export (const struct ctr_context *ctx, int argc, char **argv);
int cli_import (const struct ctr_context *ctx, int argc, char **argv);
int cli_cp (const struct ctr_context *ctx, int argc, char **argv);
struct system_info;
/* One system container as ls and info print it in JSON. */
void cli_system_info_json (json_writer *w, const struct system_info *i);
/* checkpoint.c: the two verbs over criu(8). */
int cli_checkpoint (const struct ctr_context *ctx, int argc, char **argv);
int cli_restore (const struct ctr_context *ctx, int argc, char **argv);
/* migrate.c: `ctr migrate`, sender and receiver. */
int cli_migrate (const struct ctr_context *ctx, int argc, char **argv);

/* Long-only options (values above any short option character). */
enum
{
  CLI_OPT_PID_FILE = 0x100,
  CLI_OPT_CONSOLE_SOCKET,
  CLI_OPT_PRESERVE_FDS,
  CLI_OPT_NO_PIVOT,
  CLI_OPT_NO_NEW_KEYRING,
  CLI_OPT_CONFIG,
  CLI_OPT_NO_SUBREAPER,
  CLI_OPT_NET,
  CLI_OPT_IP,
  CLI_OPT_PUBLISH,
  CLI_OPT_KEEP,
};

/* The options create and run share; cli_parse_create_args handles them. */
#define CLI_CREATE_LONG_OPTIONS                                                                    \
  { "bundle", required_argument, NULL, 'b' },                                                      \
      { "config", required_argument, NULL, CLI_OPT_CONFIG },                                       \
      { "pid-file", required_argument, NULL, CLI_OPT_PID_FILE },                                   \
      { "console-socket", required_argument, NULL, CLI_OPT_CONSOLE_SOCKET },                       \
      { "preserve-fds", required_argument, NULL, CLI_OPT_PRESERVE_FDS },                           \
      { "no-pivot", no_argument, NULL, CLI_OPT_NO_PIVOT },                                         \
      { "no-new-keyring", no_argument, NULL, CLI_OPT_NO_NEW_KEYRING },                             \
  {                                                                                                \
    "help", no_argument, NULL, 'h'                                                                 \
  }

/* The help lines of the shared options after --bundle and --config. */
#define CLI_CREATE_OPTIONS_HELP                                                                    \
  "      --pid-file FILE       write the container process's pid to FILE\n"                        \
  "      --console-socket SOCK send the pty master of a terminal container over the\n"             \
  "                            unix socket SOCK\n"                                                 \
  "      --preserve-fds N      pass N file descriptors (from fd 3) to the container\n"             \
  "      --no-pivot            use chroot-like MS_MOVE instead of pivot_root\n"                    \
  "      --no-new-keyring      keep the caller's session keyring\n"

/* The getopt loop of create and run (argv[0] names the verb): -h, the shared options, run's
   --detach and --no-subreaper, and create's --template into *template_name (NULL for run).
   CLI_CONTINUE (optind at the first operand) or an exit code. */
int cli_parse_create_args (const char *usage, int argc, char **argv, const char *shortopts,
                           const struct option *long_options, struct container_create_options *opts,
                           const char **template_name);

/* Starts a getopt_long loop over a verb's argv (resets getopt's state, silences it). */
void cli_getopt_begin (void);
/* Reports the '?' or ':' result of getopt_long ("ctr VERB: unknown option --foo"; an unknown
   long option gets the nearest of long_options suggested); shortopts and long_options are
   what the verb passed. Returns CLI_EXIT_USAGE. verb NULL: the global options before the
   verb ("ctr: unknown option --foo"). */
int cli_option_error (const char *verb, int c, char **argv, const char *shortopts,
                      const struct option *long_options);
/* The one of names (n of them) nearest to word, for "did you mean": within an edit
   distance of 2 (a swap of two letters counts one), and closer than every other; NULL when
   none is. */
const char *cli_nearest (const char *word, const char *const *names, size_t n);
/* "ctr VERB: <message>" plus a hint to stderr; returns CLI_EXIT_USAGE. verb NULL: "ctr:
   <message>" and the hint to `ctr --help`. */
int cli_usage_error (const char *verb, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* Prints a verb's help text to stdout; returns CLI_EXIT_OK. */
int cli_help (const char *usage);
/* Prints a library error ("ctr: <message>") and frees it; returns CLI_EXIT_FAILURE. */
int cli_fail (ctr_error_t *err);
/* cli_fail, then, where the verb was interrupted (interrupt_catch, base/util.h) and has
   cleaned up, ctr ends by that signal. */
int cli_fail_interrupted (ctr_error_t *err);

/* Takes the container id at argv[*index] and advances *index: CLI_CONTINUE, or
   CLI_EXIT_USAGE when it is missing, or CLI_EXIT_FAILURE when it is not a valid id.
   When last, further arguments are a usage error. */
int cli_take_id (const char *verb, int argc, char **argv, int *index, bool last, const char **id);
/* cli_take_id for the id at optind that ends the command line (argv[0] names the verb). */
int cli_take_final_id (int argc, char **argv, const char **id);
/* The whole command line of verbs whose only options are -h and at most one flag (flag:
   its long option with the short letter as val, or NULL; *flag_set becomes true when
   given), then the container id when id is not NULL. With rest NULL nothing may follow;
   otherwise *rest is the index after the id. CLI_CONTINUE or an exit code. */
int cli_parse_simple (const char *usage, int argc, char **argv, const struct option *flag,
                      bool *flag_set, const char **id, int *rest);
/* The verbs that only act on an id (start, pause, resume): parses, calls fn, reports. */
int cli_id_verb (const struct ctr_context *ctx, const char *usage, int argc, char **argv,
                 int (*fn) (const struct ctr_context *ctx, const char *id, ctr_error_t *err));

/* Parses a --preserve-fds value (a non-negative number): CLI_CONTINUE or CLI_EXIT_USAGE. */
int cli_parse_preserve_fds (const char *verb, const char *arg, int *out);
/* The whole option loop of verbs whose only options are -h and -f/--format table|json
   (verb names the verb in errors). optind is left at the first operand; with
   no_operands, any operand is a usage error. CLI_CONTINUE or an exit code. */
int cli_parse_format_args (const char *verb, const char *usage, int argc, char **argv, bool *json,
                           bool no_operands);
/* Parses a --format value, table or json: CLI_CONTINUE or CLI_EXIT_USAGE. */
int cli_parse_format (const char *verb, const char *arg, bool *json);

/* Prints a document to stdout, ending it with a newline if it has none. */
void cli_print_document (const char *text, size_t len);
/* Finishes w (a compact document) and prints it. */
void cli_print_json (json_writer *w);
/* Appends a copy of s to a NULL-terminated vector of *n entries. */
void cli_strv_push (char ***v, size_t *n, const char *s);
/* Reads a whole file, or standard input when path is "-" (size-capped, NUL-terminated). */
int cli_read_input (const char *path, char **out, size_t *len, ctr_error_t *err);

#endif
