/* cli/spec: `ctr spec`, writes a default config.json into a bundle directory. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "oci/oci.h"
#include "base/util.h"

static const char usage[]
    = "Usage: ctr spec [OPTIONS]\n"
      "\n"
      "Write a default config.json (the runtime-spec configuration runc writes: a shell in\n"
      "./rootfs, the usual namespaces, mounts, capabilities and masked paths) into the\n"
      "bundle directory. An existing config.json is never overwritten.\n"
      "\n"
      "Options:\n"
      "  -b, --bundle DIR  the bundle directory (default: the current directory)\n"
      "      --rootless    a configuration for an unprivileged user: a user namespace that\n"
      "                    maps the caller's uid and gid to root, no cgroup limits\n"
      "  -h, --help        show this help\n";

#define SHORTOPTS ":b:h"

enum
{
  OPT_ROOTLESS = 0x200,
};

/* Creates config.json exclusively (O_EXCL: never replaces an existing file or symlink).
   Returns 1 (err untouched) when it exists. */
static int
write_config (const char *bundle, const char *data, size_t len, ctr_error_t *err)
{
  cleanup_close int dirfd = -1, fd = -1;

  dirfd = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return ctr_error (err, errno, "open bundle directory `%s`", bundle);
  fd = openat (dirfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST)
    return 1;
  if (fd < 0)
    return ctr_error (err, errno, "create `%s/config.json`", bundle);
  /* 0644 whatever the umask: the bundle is read by whoever runs the container */
  if (fchmod (fd, 0644) < 0 || write_all (fd, data, len) < 0)
    {
      int saved = errno;
      unlinkat (dirfd, "config.json", 0);
      return ctr_error (err, saved, "write `%s/config.json`", bundle);
    }
  return 0;
}

int
cli_spec (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "rootless", no_argument, NULL, OPT_ROOTLESS },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *data = NULL, *cwd = NULL;
  const char *bundle = NULL;
  ctr_error_t err = NULL;
  bool rootless = false;
  size_t len = 0;
  int c, rc;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, SHORTOPTS, long_options, NULL)) != -1)
    {
      if (c == 'h')
        return cli_help (usage);
      else if (c == 'b')
        bundle = optarg;
      else if (c == OPT_ROOTLESS)
        rootless = true;
      else
        return cli_option_error ("spec", c, argv, SHORTOPTS, long_options);
    }
  if (optind < argc)
    return cli_usage_error ("spec", "unexpected argument \"%s\"", argv[optind]);
  if (bundle == NULL)
    bundle = cwd = get_current_dir_name ();
  if (bundle == NULL)
    {
      ctr_error (&err, errno, "get the current directory");
      return cli_fail (&err);
    }

  data = oci_spec_default (rootless, getuid (), getgid (), &len);
  if (data == NULL)
    {
      ctr_error (&err, 0, "build the default configuration");
      return cli_fail (&err);
    }
  rc = write_config (bundle, data, len, &err);
  if (rc < 0)
    return cli_fail (&err);
  if (rc > 0)
    {
      fprintf (stderr, "ctr spec: config.json already exists in %s: remove it first\n", bundle);
      return CLI_EXIT_FAILURE;
    }
  return CLI_EXIT_OK;
}
