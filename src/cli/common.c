/* cli/common: option-error reporting, id checks and small helpers shared by the verbs. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util.h"

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
  fprintf (stderr, "ctr %s: ", verb);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\nRun 'ctr %s --help' for usage.\n", verb);
  return CLI_EXIT_USAGE;
}

/* The text of the long option getopt just looked at, without any "=value". */
static int
long_option_name_len (const char *arg)
{
  const char *eq = strchr (arg, '=');
  return eq ? (int) (eq - arg) : (int) strlen (arg);
}

int
cli_option_error (const char *verb, int c, char **argv, const char *shortopts)
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
    return cli_usage_error (verb, "unknown option %.*s", long_option_name_len (arg), arg);
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
cli_parse_id_only (const char *usage, int argc, char **argv, const char **id)
{
  static const struct option long_options[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *verb = argv[0];
  int c, index;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, ":h", long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      return cli_option_error (verb, c, argv, ":h");
    }
  index = optind;
  return cli_take_id (verb, argc, argv, &index, true, id);
}

int
cli_parse_preserve_fds (const char *verb, const char *arg, int *out)
{
  int64_t n;

  if (parse_int64 (arg, &n) < 0 || n < 0 || n > INT32_MAX)
    return cli_usage_error (verb, "invalid --preserve-fds value \"%s\": want a number >= 0",
                            arg);
  *out = (int) n;
  return CLI_CONTINUE;
}

int
cli_create_option (const char *verb, int c, const char *arg,
                   struct container_create_options *opts)
{
  switch (c)
    {
    case 'b':
      opts->bundle = arg;
      return CLI_CONTINUE;
    case CLI_OPT_CONFIG:
      opts->config_file = arg;
      return CLI_CONTINUE;
    case CLI_OPT_PID_FILE:
      opts->pid_file = arg;
      return CLI_CONTINUE;
    case CLI_OPT_CONSOLE_SOCKET:
      opts->console_socket = arg;
      return CLI_CONTINUE;
    case CLI_OPT_PRESERVE_FDS:
      return cli_parse_preserve_fds (verb, arg, &opts->preserve_fds);
    case CLI_OPT_NO_PIVOT:
      opts->no_pivot = true;
      return CLI_CONTINUE;
    case CLI_OPT_NO_NEW_KEYRING:
      opts->no_new_keyring = true;
      return CLI_CONTINUE;
    default:
      return CLI_NOT_MINE;
    }
}

void
cli_json_string (FILE *f, const char *s)
{
  fputc ('"', f);
  for (; s != NULL && *s; s++)
    {
      unsigned char c = (unsigned char) *s;
      if (c == '"' || c == '\\')
        fprintf (f, "\\%c", c);
      else if (c == '\n')
        fputs ("\\n", f);
      else if (c == '\t')
        fputs ("\\t", f);
      else if (c < 0x20 || c == 0x7f)
        fprintf (f, "\\u%04x", c);
      else
        fputc (c, f);
    }
  fputc ('"', f);
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
      used += (size_t) r;
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
