/* rootfs/mountinfo: parsing /proc/self/mountinfo (parent mount of the rootfs, cgroup mounts). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rootfs/mountinfo.h"
#include "base/util.h"

#define MOUNTINFO_MAX_SIZE (64 * 1024 * 1024)

/* Undoes the kernel's octal escapes (\040 for space, \011, \012, \134). */
static char *
unescape (const char *s)
{
  char *out = xmalloc (strlen (s) + 1), *o = out;
  while (*s)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0'
          && s[3] <= '7')
        {
          *o++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
          s += 4;
        }
      else
        *o++ = *s++;
    }
  *o = '\0';
  return out;
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue" */
static int
parse_line (char *line, struct mountinfo *m)
{
  char *fields[6], *sep, *tail[3], *save = NULL;
  int i;

  sep = strstr (line, " - ");
  if (sep == NULL)
    return -1;
  *sep = '\0';
  for (i = 0; i < 6; i++)
    if ((fields[i] = strtok_r (i ? NULL : line, " ", &save)) == NULL)
      return -1;
  save = NULL;
  for (i = 0; i < 3; i++)
    if ((tail[i] = strtok_r (i ? NULL : sep + 3, " ", &save)) == NULL)
      return -1;
  m->id = atoi (fields[0]);
  m->parent = atoi (fields[1]);
  m->root = unescape (fields[3]);
  m->mountpoint = unescape (fields[4]);
  /* optional fields: everything after the per-mount options */
  save = fields[5] + strlen (fields[5]) + 1;
  m->optional = xstrdup (save < sep ? save : "");
  m->fstype = unescape (tail[0]);
  m->source = unescape (tail[1]);
  m->superopts = unescape (tail[2]);
  return 0;
}

/* procfs gives no size (fstat would say 0): read until EOF into a growing buffer. */
static int
read_mountinfo (char **out, size_t *len, ctr_error_t *err)
{
  cleanup_close int fd = open ("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  cleanup_free char *buf = NULL;
  size_t size = 0, alloc = 16384;

  if (fd < 0)
    return ctr_error (err, errno, "open `/proc/self/mountinfo`");
  buf = xmalloc (alloc + 1);
  for (;;)
    {
      ssize_t r = read (fd, buf + size, alloc - size);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return ctr_error (err, errno, "read `/proc/self/mountinfo`");
      if (r == 0)
        break;
      size += r;
      if (size == alloc)
        {
          if (alloc >= MOUNTINFO_MAX_SIZE)
            return ctr_error (err, EFBIG, "read `/proc/self/mountinfo`: larger than %d bytes",
                              MOUNTINFO_MAX_SIZE);
          alloc *= 2;
          buf = xrealloc (buf, alloc + 1);
        }
    }
  buf[size] = '\0';
  *out = steal_ptr (buf);
  *len = size;
  return 0;
}

int
mountinfo_read (struct mountinfo **out, size_t *len, ctr_error_t *err)
{
  cleanup_free char *data = NULL;
  struct mountinfo *v = NULL;
  size_t n = 0, alloc = 0, size;
  char *line, *save = NULL;

  if (read_mountinfo (&data, &size, err) < 0)
    return -1;
  for (line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      if (n + 1 >= alloc)
        {
          alloc = alloc ? alloc * 2 : 64;
          v = xrealloc (v, alloc * sizeof *v);
        }
      memset (&v[n], 0, sizeof v[n]);
      if (parse_line (line, &v[n]) == 0)
        n++;
    }
  if (v == NULL)
    v = xmalloc (sizeof *v);
  memset (&v[n], 0, sizeof v[n]);
  *out = v;
  *len = n;
  return 0;
}

void
mountinfo_free (struct mountinfo *m, size_t len)
{
  size_t i;
  if (m == NULL)
    return;
  for (i = 0; i < len; i++)
    {
      free (m[i].root);
      free (m[i].mountpoint);
      free (m[i].optional);
      free (m[i].fstype);
      free (m[i].source);
      free (m[i].superopts);
    }
  free (m);
}

static bool
is_path_prefix (const char *prefix, const char *path)
{
  size_t n = strlen (prefix);
  if (strcmp (prefix, "/") == 0)
    return true;
  return strncmp (prefix, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

const struct mountinfo *
mountinfo_find_parent (const struct mountinfo *m, size_t len, const char *path)
{
  const struct mountinfo *best = NULL;
  size_t i, best_len = 0;
  for (i = 0; i < len; i++)
    {
      size_t l = strlen (m[i].mountpoint);
      if (is_path_prefix (m[i].mountpoint, path) && (best == NULL || l >= best_len))
        {
          best = &m[i];
          best_len = l;
        }
    }
  return best;
}

bool
opt_list_has (const char *list, const char *token)
{
  size_t n = strlen (token);
  const char *s = list;
  while (s && *s)
    {
      const char *end = strchrnul (s, ',');
      if ((size_t)(end - s) == n && strncmp (s, token, n) == 0)
        return true;
      s = *end ? end + 1 : end;
    }
  return false;
}
