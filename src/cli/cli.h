/* cli: the verbs of the ctr command line and the small helpers they share. */
#ifndef CTR_CLI_H
#define CTR_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "container.h"
#include "error.h"

/* The runtime-spec version ctr implements (printed by `ctr --version`). */
#define CTR_OCI_SPEC_VERSION "1.2.0"

/* Exit codes (DESIGN.md §3); run and exec return the container process's status. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2
/* Returned by parsing helpers when the verb should go on (never an exit code). */
#define CLI_CONTINUE (-1)
/* Returned by cli_create_option for an option that is not one of create's. */
#define CLI_NOT_MINE (-2)

/* Every verb: argv[0] is the verb's name; returns the process exit code. */
typedef int (*cli_verb_fn) (const struct ctr_context *ctx, int argc, char **argv);

int cli_create (const struct ctr_context *ctx, int argc, char **argv);
int cli_start (const struct ctr_context *ctx, int argc, char **argv);
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
/* Verbs runc has and ctr does not implement (checkpoint, restore). */
int cli_unsupported (const struct ctr_context *ctx, int argc, char **argv);

/* Long-only options (values above any short option character). */
enum
{
  CLI_OPT_PID_FILE = 0x100,
  CLI_OPT_CONSOLE_SOCKET,
  CLI_OPT_PRESERVE_FDS,
  CLI_OPT_NO_PIVOT,
  CLI_OPT_NO_NEW_KEYRING,
  CLI_OPT_CONFIG,
};

/* The options create and run share; cli_create_option handles them. */
#define CLI_CREATE_LONG_OPTIONS                                                      \
  { "bundle", required_argument, NULL, 'b' },                                        \
      { "config", required_argument, NULL, CLI_OPT_CONFIG },                         \
      { "pid-file", required_argument, NULL, CLI_OPT_PID_FILE },                     \
      { "console-socket", required_argument, NULL, CLI_OPT_CONSOLE_SOCKET },         \
      { "preserve-fds", required_argument, NULL, CLI_OPT_PRESERVE_FDS },             \
      { "no-pivot", no_argument, NULL, CLI_OPT_NO_PIVOT },                           \
      { "no-new-keyring", no_argument, NULL, CLI_OPT_NO_NEW_KEYRING },               \
      { "help", no_argument, NULL, 'h' }

/* Applies one of the shared create/run options: CLI_CONTINUE when it was one,
   CLI_NOT_MINE when it was not, or CLI_EXIT_USAGE after printing why its value is bad. */
int cli_create_option (const char *verb, int c, const char *arg,
                       struct container_create_options *opts);

/* Starts a getopt_long loop over a verb's argv (resets getopt's state, silences it). */
void cli_getopt_begin (void);
/* Reports the '?' or ':' result of getopt_long ("ctr VERB: unknown option --foo");
   shortopts is the optstring the verb passed. Returns CLI_EXIT_USAGE. */
int cli_option_error (const char *verb, int c, char **argv, const char *shortopts);
/* "ctr VERB: <message>" plus a hint to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error (const char *verb, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Prints a verb's help text to stdout; returns CLI_EXIT_OK. */
int cli_help (const char *usage);
/* Prints a library error ("ctr: <message>") and frees it; returns CLI_EXIT_FAILURE. */
int cli_fail (ctr_error_t *err);

/* Takes the container id at argv[*index] and advances *index: CLI_CONTINUE, or
   CLI_EXIT_USAGE when it is missing, or CLI_EXIT_FAILURE when it is not a valid id.
   When last, further arguments are a usage error. */
int cli_take_id (const char *verb, int argc, char **argv, int *index, bool last, const char **id);
/* The common shape of verbs that take only an id (start, pause, resume, state):
   parses -h and the id; CLI_CONTINUE or an exit code. */
int cli_parse_id_only (const char *usage, int argc, char **argv, const char **id);

/* Parses a --preserve-fds value (a non-negative number): CLI_CONTINUE or CLI_EXIT_USAGE. */
int cli_parse_preserve_fds (const char *verb, const char *arg, int *out);

/* Writes s as a JSON string (quoted and escaped). */
void cli_json_string (FILE *f, const char *s);
/* Appends a copy of s to a NULL-terminated vector of *n entries. */
void cli_strv_push (char ***v, size_t *n, const char *s);
/* Reads a whole file, or standard input when path is "-" (size-capped, NUL-terminated). */
int cli_read_input (const char *path, char **out, size_t *len, ctr_error_t *err);

#endif
