/* namespaces/subid: a user's subordinate id range from /etc/subuid and /etc/subgid. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "namespaces/namespaces.h"
#include "base/util.h"

/* The user's name from /etc/passwd (read directly: no NSS modules in a runtime). */
static char *
user_name (uid_t uid)
{
  cleanup_file FILE *f = fopen ("/etc/passwd", "re");
  struct passwd *pw;
  while (f && (pw = fgetpwent (f)) != NULL)
    if (pw->pw_uid == uid)
      return xstrdup (pw->pw_name);
  return NULL;
}

int
subid_parse (char *text, const char *num, const char *name, uint32_t *start, uint32_t *count)
{
  char *save = NULL;

  *start = *count = 0;
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *first = strchr (line, ':'), *n;
      uint64_t s, c;
      if (line[0] == '#' || first == NULL || (n = strchr (first + 1, ':')) == NULL)
        continue;
      *first++ = '\0';
      *n++ = '\0';
      if (strcmp (line, num) != 0 && (name == NULL || strcmp (line, name) != 0))
        continue;
      if (parse_uint64 (first, &s) < 0 || parse_uint64 (n, &c) < 0 || c == 0 || s > UINT32_MAX
          || c > UINT32_MAX - s)
        continue;
      *start = (uint32_t)s;
      *count = (uint32_t)c;
      return 0;
    }
  return -1;
}

int
subid_range (const char *path, uid_t uid, uint32_t *start, uint32_t *count)
{
  cleanup_free char *text = NULL, *name = user_name (uid);
  cleanup_free char *num = xasprintf ("%u", (unsigned)uid);
  ctr_error_t err = NULL;
  size_t len;

  *start = *count = 0;
  if (read_file_at (AT_FDCWD, path, 1 << 20, &text, &len, &err) < 0)
    {
      ctr_error_free (&err);
      return -1;
    }
  return subid_parse (text, num, name, start, count);
}

static bool
in_path (const char *prog)
{
  const char *path = getenv ("PATH");
  cleanup_free char *copy = xstrdup (path && *path ? path : "/usr/bin:/bin");
  char *save = NULL;
  for (char *d = strtok_r (copy, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      cleanup_free char *f = xasprintf ("%s/%s", d, prog);
      if (access (f, X_OK) == 0)
        return true;
    }
  return false;
}

static const char *
rootless_ids_read (struct oci_rootless_ids *ids)
{
  bool u, g;

  memset (ids, 0, sizeof *ids);
  ids->uid = geteuid ();
  ids->gid = getegid ();
  u = subid_range ("/etc/subuid", ids->uid, &ids->subuid_start, &ids->subuid_count) == 0;
  g = subid_range ("/etc/subgid", ids->uid, &ids->subgid_start, &ids->subgid_count) == 0;
  if (u && g && in_path ("newuidmap") && in_path ("newgidmap"))
    return NULL;
  ids->subuid_start = ids->subuid_count = ids->subgid_start = ids->subgid_count = 0;
  if (!u || !g)
    return "no /etc/subuid and /etc/subgid range for this user: only your own uid is mapped "
           "(`ctr check-config` says how to add one)";
  return "newuidmap/newgidmap not found: only your own uid is mapped (apt-get install uidmap)";
}

const char *
ns_rootless_ids (struct oci_rootless_ids *ids)
{
  static struct oci_rootless_ids cached;
  static const char *note;
  static bool read;

  if (!read)
    {
      note = rootless_ids_read (&cached);
      read = true;
    }
  *ids = cached;
  return note;
}
