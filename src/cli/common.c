/* cli/common: option parsing, usage errors, id checks and output helpers the verbs share. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/util.h"
#include "base/log.h"

/* A resources file or process file is small; refuse anything absurd. */
#define CLI_INPUT_MAX (4 * 1024 * 1024)

void
cli_getopt_begin (void)
{
  /* 0 (not 1) makes glibc re-initialise fully: each verb parses a new argv. */
  optind = 0;
  opterr = 0;
}

int
cli_usage_error (const char *verb, const char *fmt, ...)
{
  va_list ap;

  fflush (stdout);
  if (verb)
    fprintf (stderr, "ctr %s: ", verb);
  else
    fputs ("ctr: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  if (verb)
    fprintf (stderr, "\nRun 'ctr %s --help' for usage.\n", verb);
  else
    fputs ("\nRun 'ctr --help' for usage.\n", stderr);
  return CLI_EXIT_USAGE;
}

/* The text of the long option getopt just looked at, without any "=value". */
static int
long_option_name_len (const char *arg)
{
  const char *eq = strchr (arg, '=');
  return eq ? (int)(eq - arg) : (int)strlen (arg);
}

/* Optimal string alignment distance: insertions, deletions, substitutions, and swaps of
   two neighbouring letters each cost one. */
static size_t
edit_distance (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b), i, j;
  size_t d[64][64];

  if (la >= 64 || lb >= 64)
    return SIZE_MAX;
  for (i = 0; i <= la; i++)
    d[i][0] = i;
  for (j = 0; j <= lb; j++)
    d[0][j] = j;
  for (i = 1; i <= la; i++)
    for (j = 1; j <= lb; j++)
      {
        size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;
        if (d[i - 1][j] + 1 < best)
          best = d[i - 1][j] + 1;
        if (d[i][j - 1] + 1 < best)
          best = d[i][j - 1] + 1;
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
            && d[i - 2][j - 2] + 1 < best)
          best = d[i - 2][j - 2] + 1;
        d[i][j] = best;
      }
  return d[la][lb];
}

const char *
cli_nearest (const char *word, const char *const *names, size_t n)
{
  const char *best = NULL;
  size_t best_d = 3, i;
  bool tie = false;

  for (i = 0; i < n; i++)
    {
      size_t dist = edit_distance (word, names[i]);
      if (dist < best_d)
        {
          best = names[i];
          best_d = dist;
          tie = false;
        }
      else if (dist == best_d && best && strcmp (best, names[i]) != 0)
        tie = true;
    }
  return tie ? NULL : best;
}

/* "unknown option --detatch" and, when one is near, "; did you mean --detach?" */
static int
unknown_long_option (const char *verb, const char *arg, const struct option *long_options)
{
  const char *names[64];
  size_t n = 0;
  int len = long_option_name_len (arg);
  char word[64];
  const char *near;

  snprintf (word, sizeof word, "%.*s", len > 2 ? len - 2 : 0, arg + 2);
  for (const struct option *o = long_options; o && o->name && n < 64; o++)
    names[n++] = o->name;
  near = cli_nearest (word, names, n);
  if (near)
    return cli_usage_error (verb, "unknown option %.*s; did you mean --%s?", len, arg, near);
  return cli_usage_error (verb, "unknown option %.*s", len, arg);
}

int
cli_option_error (const char *verb, int c, char **argv, const char *shortopts,
                  const struct option *long_options)
{
  const char *arg = optind > 0 ? argv[optind - 1] : NULL;
  bool is_long = arg != NULL && strncmp (arg, "--", 2) == 0;

  if (c == ':')
    {
      if (is_long)
        return cli_usage_error (verb, "option %.*s requires an argument",
                                long_option_name_len (arg), arg);
      return cli_usage_error (verb, "option -%c requires an argument", optopt);
    }
  /* glibc sets optopt to 0 for an unknown long option and to the option's value for a
     known long option given an argument it does not take (the only way a known value
     comes back as '?'); otherwise it is the unknown short option's character. */
  if (optopt == 0)
    return unknown_long_option (verb, arg, long_options);
  if (is_long && (optopt > 0xff || strchr (shortopts, optopt) != NULL))
    return cli_usage_error (verb, "option %.*s does not take an argument",
                            long_option_name_len (arg), arg);
  return cli_usage_error (verb, "unknown option -%c", optopt);
}

int
cli_help (const char *usage)
{
  fputs (usage, stdout);
  return CLI_EXIT_OK;
}

int
cli_fail (ctr_error_t *err)
{
  fflush (stdout);
  ctr_error_print (err);
  return CLI_EXIT_FAILURE;
}

int
cli_fail_interrupted (ctr_error_t *err)
{
  cli_fail (err);
  fflush (stderr);
  interrupt_raise ();
  return CLI_EXIT_FAILURE;
}

int
cli_take_id (const char *verb, int argc, char **argv, int *index, bool last, const char **id)
{
  ctr_error_t err = NULL;

  if (*index >= argc)
    return cli_usage_error (verb, "missing container id");
  if (last && *index + 1 < argc)
    return cli_usage_error (verb, "unexpected argument \"%s\"", argv[*index + 1]);
  if (validate_container_id (argv[*index], &err) < 0)
    return cli_fail (&err);
  *id = argv[(*index)++];
  return CLI_CONTINUE;
}

int
cli_take_final_id (int argc, char **argv, const char **id)
{
  int index = optind;
  return cli_take_id (argv[0], argc, argv, &index, true, id);
}

int
cli_parse_simple (const char *usage, int argc, char **argv, const struct option *flag,
                  bool *flag_set, const char **id, int *rest)
{
  struct option long_options[3] = { { "help", no_argument, NULL, 'h' } };
  const char shortopts[] = { ':', 'h', flag ? (char)flag->val : '\0', '\0' };
  const char *verb = argv[0];
  int c, rc, index;

  if (flag)
    long_options[1] = *flag;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, shortopts, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      if (flag == NULL || c != flag->val)
        return cli_option_error (verb, c, argv, shortopts, long_options);
      *flag_set = true;
    }
  index = optind;
  if (id == NULL && index < argc)
    return cli_usage_error (verb, "unexpected argument \"%s\"", argv[index]);
  if (id == NULL)
    return CLI_CONTINUE;
  rc = cli_take_id (verb, argc, argv, &index, rest == NULL, id);
  if (rest)
    *rest = index;
  return rc;
}

int
cli_id_verb (const struct ctr_context *ctx, const char *usage, int argc, char **argv,
             int (*fn) (const struct ctr_context *ctx, const char *id, ctr_error_t *err))
{
  ctr_error_t err = NULL;
  const char *id = NULL;
  int rc = cli_parse_simple (usage, argc, argv, NULL, NULL, &id, NULL);

  if (rc != CLI_CONTINUE)
    return rc;
  if (fn (ctx, id, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}

int
cli_parse_preserve_fds (const char *verb, const char *arg, int *out)
{
  int64_t n;

  if (parse_int64 (arg, &n) < 0 || n < 0 || n > INT32_MAX)
    return cli_usage_error (verb, "invalid --preserve-fds value \"%s\": want a number >= 0", arg);
  *out = (int)n;
  return CLI_CONTINUE;
}

int
cli_parse_format_args (const char *verb, const char *usage, int argc, char **argv, bool *json,
                       bool no_operands)
{
  static const struct option long_options[] = {
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, ":f:h", long_options, NULL)) != -1)
    if (c == 'h')
      return cli_help (usage);
    else if (c != 'f')
      return cli_option_error (verb, c, argv, ":f:h", long_options);
    else if ((c = cli_parse_format (verb, optarg, json)) != CLI_CONTINUE)
      return c;
  if (no_operands && optind < argc)
    return cli_usage_error (verb, "unexpected argument \"%s\"", argv[optind]);
  return CLI_CONTINUE;
}

int
cli_parse_format (const char *verb, const char *arg, bool *json)
{
  if (strcmp (arg, "json") != 0 && strcmp (arg, "table") != 0)
    return cli_usage_error (verb, "invalid format \"%s\": want table or json", arg);
  *json = strcmp (arg, "json") == 0;
  return CLI_CONTINUE;
}

/* create_option's answer for an option that is none of create's or run's (neither
   CLI_CONTINUE nor an exit code). */
#define NOT_A_CREATE_OPTION (-2)

/* One option of create or run: CLI_CONTINUE, CLI_EXIT_USAGE for a bad value, or
   NOT_A_CREATE_OPTION. */
static int
create_option (const char *verb, int c, const char *arg, struct container_create_options *opts,
               const char **template_name)
{
  switch (c)
    {
    case 'b':
      opts->bundle = arg;
      break;
    case CLI_OPT_CONFIG:
      opts->config_file = arg;
      break;
    case CLI_OPT_PID_FILE:
      opts->pid_file = arg;
      break;
    case CLI_OPT_CONSOLE_SOCKET:
      opts->console_socket = arg;
      break;
    case CLI_OPT_PRESERVE_FDS:
      return cli_parse_preserve_fds (verb, arg, &opts->preserve_fds);
    case CLI_OPT_NO_PIVOT:
      opts->no_pivot = true;
      break;
    case CLI_OPT_NO_NEW_KEYRING:
      opts->no_new_keyring = true;
      break;
    case 'd':
      opts->detach = true;
      break;
    /* runc compatibility: deprecated there, without effect here */
    case CLI_OPT_NO_SUBREAPER:
      break;
    case CLI_OPT_KEEP:
      opts->keep = true;
      break;
    case 't':
      *template_name = arg;
      break;
    case CLI_OPT_NET:
      {
        size_t n = strv_len (opts->networks);
        cli_strv_push (&opts->networks, &n, arg);
      }
      break;
    case CLI_OPT_IP:
      opts->ip = arg;
      break;
    case CLI_OPT_PUBLISH:
      {
        size_t n = strv_len (opts->publish);
        cli_strv_push (&opts->publish, &n, arg);
      }
      break;
    default:
      return NOT_A_CREATE_OPTION;
    }
  return CLI_CONTINUE;
}

int
cli_parse_create_args (const char *usage, int argc, char **argv, const char *shortopts,
                       const struct option *long_options, struct container_create_options *opts,
                       const char **template_name)
{
  int c, rc;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, shortopts, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      rc = create_option (argv[0], c, optarg, opts, template_name);
      if (rc == NOT_A_CREATE_OPTION)
        return cli_option_error (argv[0], c, argv, shortopts, long_options);
      if (rc != CLI_CONTINUE)
        return rc;
    }
  return CLI_CONTINUE;
}

void
cli_print_document (const char *text, size_t len)
{
  fwrite (text, 1, len, stdout);
  if (len == 0 || text[len - 1] != '\n')
    fputc ('\n', stdout);
}

void
cli_print_json (json_writer *w)
{
  size_t len = 0;
  cleanup_free char *text = json_writer_finish (w, &len);
  cli_print_document (text, len);
}

void
cli_strv_push (char ***v, size_t *n, const char *s)
{
  *v = xrealloc (*v, (*n + 2) * sizeof (char *));
  (*v)[(*n)++] = xstrdup (s);
  (*v)[*n] = NULL;
}

/* Standard input may be a pipe: read until EOF instead of trusting its size. */
static int
read_stdin (char **out, size_t *len, ctr_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t used = 0, size = 0;

  for (;;)
    {
      ssize_t r;
      if (size - used < 4096)
        {
          size = size ? size * 2 : 8192;
          buf = xrealloc (buf, size + 1);
        }
      r = read (STDIN_FILENO, buf + used, size - used);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return ctr_error (err, errno, "read standard input");
      if (r == 0)
        break;
      used += (size_t)r;
      if (used > CLI_INPUT_MAX)
        return ctr_error (err, EFBIG, "read standard input");
    }
  buf[used] = '\0';
  *len = used;
  *out = steal_ptr (buf);
  return 0;
}

int
cli_read_input (const char *path, char **out, size_t *len, ctr_error_t *err)
{
  if (strcmp (path, "-") == 0)
    return read_stdin (out, len, err);
  return read_file_at (AT_FDCWD, path, CLI_INPUT_MAX, out, len, err);
}
