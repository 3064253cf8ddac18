/* rootfs/mountopts: runtime-spec mount option strings to MS_* flags, propagation and data. */
#include <config.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "rootfs/mountopts.h"
#include "base/util.h"

struct flag_opt
{
  const char *name;
  bool clear;
  unsigned long flag;
};

static const struct flag_opt flag_table[] = {
  { "defaults", false, 0 },
  { "ro", false, MS_RDONLY },
  { "rw", true, MS_RDONLY },
  { "nosuid", false, MS_NOSUID },
  { "suid", true, MS_NOSUID },
  { "nodev", false, MS_NODEV },
  { "dev", true, MS_NODEV },
  { "noexec", false, MS_NOEXEC },
  { "exec", true, MS_NOEXEC },
  { "sync", false, MS_SYNCHRONOUS },
  { "async", true, MS_SYNCHRONOUS },
  { "dirsync", false, MS_DIRSYNC },
  { "remount", false, MS_REMOUNT },
  { "mand", false, MS_MANDLOCK },
  { "nomand", true, MS_MANDLOCK },
  { "atime", true, MS_NOATIME },
  { "noatime", false, MS_NOATIME },
  { "diratime", true, MS_NODIRATIME },
  { "nodiratime", false, MS_NODIRATIME },
  { "relatime", false, MS_RELATIME },
  { "norelatime", true, MS_RELATIME },
  { "strictatime", false, MS_STRICTATIME },
  { "nostrictatime", true, MS_STRICTATIME },
  { "lazytime", false, MS_LAZYTIME },
  { "nolazytime", true, MS_LAZYTIME },
  { "iversion", false, MS_I_VERSION },
  { "noiversion", true, MS_I_VERSION },
  { "silent", false, MS_SILENT },
  { "loud", true, MS_SILENT },
  { "nosymfollow", false, MS_NOSYMFOLLOW },
  { "symfollow", true, MS_NOSYMFOLLOW },
  { "bind", false, MS_BIND },
  { "rbind", false, MS_BIND | MS_REC },
};

static const struct flag_opt propagation_table[] = {
  { "private", false, MS_PRIVATE },       { "rprivate", false, MS_PRIVATE | MS_REC },
  { "shared", false, MS_SHARED },         { "rshared", false, MS_SHARED | MS_REC },
  { "slave", false, MS_SLAVE },           { "rslave", false, MS_SLAVE | MS_REC },
  { "unbindable", false, MS_UNBINDABLE }, { "runbindable", false, MS_UNBINDABLE | MS_REC },
};

/* Recursive attributes (runc's rro, rnosuid ...) applied with mount_setattr(AT_RECURSIVE). */
static const struct flag_opt attr_table[] = {
  { "rro", false, MOUNT_ATTR_RDONLY },
  { "rrw", true, MOUNT_ATTR_RDONLY },
  { "rnosuid", false, MOUNT_ATTR_NOSUID },
  { "rsuid", true, MOUNT_ATTR_NOSUID },
  { "rnodev", false, MOUNT_ATTR_NODEV },
  { "rdev", true, MOUNT_ATTR_NODEV },
  { "rnoexec", false, MOUNT_ATTR_NOEXEC },
  { "rexec", true, MOUNT_ATTR_NOEXEC },
  { "rnodiratime", false, MOUNT_ATTR_NODIRATIME },
  { "rdiratime", true, MOUNT_ATTR_NODIRATIME },
  { "rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW },
  { "rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW },
};

static const struct flag_opt *
lookup (const struct flag_opt *table, size_t n, const char *name)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (strcmp (table[i].name, name) == 0)
      return &table[i];
  return NULL;
}

unsigned long
propagation_flags (const char *name)
{
  const struct flag_opt *f = lookup (propagation_table, ARRAY_SIZE (propagation_table), name);
  return f ? f->flag : 0;
}

static void
append_data (char **data, const char *opt)
{
  char *d;
  if (*data == NULL)
    {
      *data = xstrdup (opt);
      return;
    }
  d = xasprintf ("%s,%s", *data, opt);
  free (*data);
  *data = d;
}

static bool
parse_special (const char *opt, struct mount_opts *out)
{
  const struct flag_opt *f;
  if (strcmp (opt, "tmpcopyup") == 0)
    return (out->tmpcopyup = true);
  if (strcmp (opt, "idmap") == 0 || strcmp (opt, "ridmap") == 0)
    {
      out->idmap_recursive = opt[0] == 'r';
      return (out->idmap = true);
    }
  if ((f = lookup (propagation_table, ARRAY_SIZE (propagation_table), opt)) != NULL)
    {
      if (out->propagation_len < ARRAY_SIZE (out->propagation))
        out->propagation[out->propagation_len++] = f->flag;
      return true;
    }
  if ((f = lookup (attr_table, ARRAY_SIZE (attr_table), opt)) != NULL)
    {
      if (f->clear)
        out->attr_clr |= f->flag, out->attr_set &= ~f->flag;
      else
        out->attr_set |= f->flag, out->attr_clr &= ~f->flag;
      return true;
    }
  return false;
}

void
mount_opts_parse (char *const *options, size_t n, struct mount_opts *out)
{
  size_t i;
  memset (out, 0, sizeof *out);
  for (i = 0; i < n; i++)
    {
      const char *opt = options[i];
      const struct flag_opt *f = lookup (flag_table, ARRAY_SIZE (flag_table), opt);
      if (f != NULL)
        {
          if (f->clear)
            out->flags &= ~f->flag, out->cleared |= f->flag;
          else
            out->flags |= f->flag, out->cleared &= ~f->flag;
        }
      else if (!parse_special (opt, out))
        append_data (&out->data, opt);
    }
}

void
mount_opts_release (struct mount_opts *o)
{
  free (o->data);
  o->data = NULL;
}
