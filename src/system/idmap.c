/* idmap: the id ranges of unprivileged system containers (docs/system-containers.md, "Id
   ranges"): one 65536-id range each, taken from root's subordinate ids at create, recorded
   in ctr.json under the store's lock, and the user namespace they make in config.json. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "namespaces/namespaces.h"
#include "oci/oci.h"
#include "system/config_keys_process.h"
#include "system/idmap.h"

#define SUBID_MAX_SIZE (1 << 20)

struct id_span
{
  uint64_t start, count;
};

struct subid_file
{
  const char *path;
  struct id_span root;    /* root's own line, or the default range */
  bool root_has_line;     /* root's line was there */
  struct id_span *others; /* every other user's range: never given to a container */
  size_t n_others;
};

static void
subid_file_clear (struct subid_file *f)
{
  free (f->others);
  f->others = NULL;
  f->n_others = 0;
}

/* name:start:count lines (shadow's subuid(5)); root is "root" or "0". A missing file gives
   the default range and no others. */
static int
subid_file_read (const char *path, struct subid_file *f, ctr_error_t *err)
{
  cleanup_free char *text = NULL;
  char *save = NULL;
  size_t len;
  ctr_error_t e = NULL;

  memset (f, 0, sizeof *f);
  f->path = path;
  f->root = (struct id_span){ IDMAP_DEFAULT_START, IDMAP_DEFAULT_SIZE };
  if (read_file_at (AT_FDCWD, path, SUBID_MAX_SIZE, &text, &len, &e) < 0)
    {
      if (e->status == ENOENT)
        {
          ctr_error_free (&e);
          return 0;
        }
      *err = e;
      return -1;
    }
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *a = strchr (line, ':'), *b = a ? strchr (a + 1, ':') : NULL;
      uint64_t s, c;
      if (line[0] == '#' || b == NULL)
        continue;
      *a++ = '\0';
      *b++ = '\0';
      if (parse_uint64 (a, &s) < 0 || parse_uint64 (b, &c) < 0 || c == 0 || s + c > UINT32_MAX)
        continue;
      if ((strcmp (line, "root") == 0 || strcmp (line, "0") == 0) && !f->root_has_line)
        {
          f->root = (struct id_span){ s, c };
          f->root_has_line = true;
          continue;
        }
      f->others = xrealloc (f->others, (f->n_others + 1) * sizeof *f->others);
      f->others[f->n_others++] = (struct id_span){ s, c };
    }
  return 0;
}

static bool
overlaps (uint64_t s, uint64_t c, const struct id_span *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s < v[i].start + v[i].count && v[i].start < s + c)
      return true;
  return false;
}

/* The ranges of every container in the store but skip (the one being given a range):
   ctr.json of each directory, staging ones (`.NAME.new`, creates and destroys in progress)
   included. */
static void
used_ranges (int rootfd, int skip, struct id_span **uids, struct id_span **gids, size_t *n)
{
  cleanup_dir DIR *d = fdopendir (fcntl (rootfd, F_DUPFD_CLOEXEC, 0));
  struct stat self = { 0 };
  struct dirent *de;

  *uids = *gids = NULL;
  *n = 0;
  if (skip >= 0)
    fstat (skip, &self);
  while (d && (de = readdir (d)) != NULL)
    {
      cleanup_close int fd = -1;
      cleanup_free char *text = NULL;
      struct store_meta m;
      struct stat st;
      ctr_error_t e = NULL;
      size_t len;

      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      fd = openat (rootfd, de->d_name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 || fstat (fd, &st) < 0 || (st.st_ino == self.st_ino && st.st_dev == self.st_dev))
        continue;
      if (read_file_at (fd, STORE_META, 1 << 20, &text, &len, &e) < 0
          || store_meta_parse (text, len, de->d_name, &m, &e) < 0)
        {
          ctr_error_free (&e);
          continue;
        }
      if (m.idmap_count)
        {
          *uids = xrealloc (*uids, (*n + 1) * sizeof **uids);
          *gids = xrealloc (*gids, (*n + 1) * sizeof **gids);
          (*uids)[*n] = (struct id_span){ m.idmap_uid, m.idmap_count };
          (*gids)[(*n)++] = (struct id_span){ m.idmap_gid, m.idmap_count };
        }
      store_meta_clear (&m);
    }
}

int
idmap_check_free (int rootfd, int dirfd, const char *name, ctr_error_t *err)
{
  struct store_meta m = { 0 };
  struct id_span *uids, *gids;
  size_t n;
  int r = 0;

  if (store_meta_read (dirfd, name, &m, err) < 0)
    return -1;
  if (m.idmap_count)
    {
      used_ranges (rootfd, dirfd, &uids, &gids, &n);
      if (overlaps (m.idmap_uid, m.idmap_count, uids, n)
          || overlaps (m.idmap_gid, m.idmap_count, gids, n))
        r = ctr_error (err, 0,
                       "container `%s`: its id range %u:%u:%u is another container's here "
                       "(the restored user namespace must have the same one)",
                       name, m.idmap_uid, m.idmap_gid, m.idmap_count);
      free (uids);
      free (gids);
    }
  store_meta_clear (&m);
  return r;
}

/* The first free slot: the k-th IDMAP_COUNT ids of root's uid range and of its gid range,
   used by no other container of the store and given to no other user. */
static bool
first_free (const struct subid_file *su, const struct subid_file *sg, const struct id_span *uids,
            const struct id_span *gids, size_t n, uint32_t *uid, uint32_t *gid)
{
  for (uint64_t k = 0;; k++)
    {
      uint64_t u = su->root.start + k * IDMAP_COUNT, g = sg->root.start + k * IDMAP_COUNT;
      if (u + IDMAP_COUNT > su->root.start + su->root.count
          || g + IDMAP_COUNT > sg->root.start + sg->root.count)
        return false;
      if (overlaps (u, IDMAP_COUNT, uids, n) || overlaps (g, IDMAP_COUNT, gids, n)
          || overlaps (u, IDMAP_COUNT, su->others, su->n_others)
          || overlaps (g, IDMAP_COUNT, sg->others, sg->n_others))
        continue;
      *uid = (uint32_t)u;
      *gid = (uint32_t)g;
      return true;
    }
}

static char *
span_text (const struct subid_file *f)
{
  if (!f->root_has_line)
    return xasprintf ("ctr's default %" PRIu64 "-%" PRIu64 " (no root line in %s)", f->root.start,
                      f->root.start + f->root.count - 1, f->path);
  return xasprintf ("root:%" PRIu64 ":%" PRIu64 " of %s", f->root.start, f->root.count, f->path);
}

int
idmap_allocate (int rootfd, int dirfd, const char *name, struct store_meta *m, ctr_error_t *err)
{
  struct subid_file su, sg;
  cleanup_close int lockfd = openat (rootfd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  cleanup_free struct id_span *uids = NULL, *gids = NULL;
  size_t n;
  int r = 0;

  if (lockfd < 0)
    return ctr_error (err, errno, "open the store");
  if (subid_file_read (IDMAP_SUBUID, &su, err) < 0)
    return -1;
  if (subid_file_read (IDMAP_SUBGID, &sg, err) < 0)
    {
      subid_file_clear (&su);
      return -1;
    }
  /* one allocation at a time in a store: the scan and the record are one step */
  while (flock (lockfd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        r = ctr_error (err, errno, "lock the store");
        goto out;
      }
  used_ranges (rootfd, dirfd, &uids, &gids, &n);
  if (!first_free (&su, &sg, uids, gids, n, &m->idmap_uid, &m->idmap_gid))
    {
      cleanup_free char *us = span_text (&su), *gs = span_text (&sg);
      r = ctr_error (err, 0,
                     "`%s`: no free range of %d ids left in %s and %s (%zu in use); give root "
                     "more subordinate ids or use --privileged",
                     name, IDMAP_COUNT, us, gs, n);
      goto out;
    }
  m->idmap_count = IDMAP_COUNT;
  /* recorded before the lock goes: the next allocation sees it */
  r = store_meta_write (dirfd, m, err);
  if (r < 0)
    m->idmap_count = 0;
out:
  flock (lockfd, LOCK_UN);
  subid_file_clear (&su);
  subid_file_clear (&sg);
  return r;
}

static ssize_t
namespace_index (json_node *nss, const char *type)
{
  for (size_t i = 0; i < jnode_len (nss); i++)
    {
      const char *t = jnode_string (jnode_get (jnode_at (nss, i), "type"));
      if (t && strcmp (t, type) == 0)
        return (ssize_t)i;
    }
  return -1;
}

static json_node *
mapping (uint32_t host, uint32_t count)
{
  json_node *a = jnode_new_array (), *o = jnode_new_object ();
  jnode_set (o, "containerID", jnode_new_uint (0));
  jnode_set (o, "hostID", jnode_new_uint (host));
  jnode_set (o, "size", jnode_new_uint (count));
  jnode_append (a, o);
  return a;
}

static json_node *
strings (const char *const *v)
{
  json_node *a = jnode_new_array ();
  for (; *v; v++)
    jnode_append (a, jnode_new_string (*v));
  return a;
}

/* mounts[0]: the rootfs bound onto "/" idmapped with the container's user namespace, so
   that files owned by 0 on disk are root's inside (ctr's marker for it: this very entry). */
static bool
is_root_idmap (json_node *mnt)
{
  const char *d = jnode_string (jnode_get (mnt, "destination"));
  json_node *opts = jnode_get (mnt, "options");
  if (d == NULL || strcmp (d, "/") != 0)
    return false;
  for (size_t i = 0; i < jnode_len (opts); i++)
    if (jnode_string (jnode_at (opts, i))
        && strcmp (jnode_string (jnode_at (opts, i)), "idmap") == 0)
      return true;
  return false;
}

static void
set_root_idmap (json_node *config, bool on)
{
  json_node *mounts = jnode_array_member (config, "mounts", true), *m, *rest;
  const char *root = jnode_string (jnode_get (jnode_get (config, "root"), "path"));
  static const char *const opts[] = { "rbind", "idmap", NULL };

  while (jnode_len (mounts) && is_root_idmap (jnode_at (mounts, 0)))
    jnode_array_remove (mounts, 0);
  if (!on)
    return;
  m = jnode_new_object ();
  jnode_set (m, "destination", jnode_new_string ("/"));
  jnode_set (m, "type", jnode_new_string ("bind"));
  jnode_set (m, "source", jnode_new_string (root ? root : "rootfs"));
  jnode_set (m, "options", strings (opts));
  /* first: every other mount goes onto the idmapped root */
  rest = jnode_copy (mounts);
  jnode_set (config, "mounts", jnode_new_array ());
  mounts = jnode_array_member (config, "mounts", true);
  jnode_append (mounts, m);
  for (size_t i = 0; i < jnode_len (rest); i++)
    jnode_append (mounts, jnode_copy (jnode_at (rest, i)));
  jnode_free (rest);
}

/* /sys: a new sysfs needs a network namespace the user namespace owns; with the host's
   network (no netns of its own) the host's /sys is bound read-only instead, as rootless. */
static void
set_sys (json_node *config, bool bind)
{
  json_node *mounts = jnode_array_member (config, "mounts", true);
  static const char *const sysfs[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const rbind[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
  for (size_t i = 0; i < jnode_len (mounts); i++)
    {
      json_node *m = jnode_at (mounts, i);
      const char *d = jnode_string (jnode_get (m, "destination"));
      if (d == NULL || strcmp (d, "/sys") != 0)
        continue;
      jnode_set (m, "type", jnode_new_string (bind ? "bind" : "sysfs"));
      jnode_set (m, "source", jnode_new_string (bind ? "/sys" : "sysfs"));
      jnode_set (m, "options", strings (bind ? rbind : sysfs));
    }
}

/* The capabilities root has in its own user namespace (oci_system_userns_caps), added when
   the container becomes unprivileged and dropped when it becomes privileged, where they
   would be the host's; the default seccomp profile (when there is one) follows them. */
static void
set_userns_caps (json_node *config, bool on)
{
  json_node *linux_ = jnode_path (config, "linux", false);
  /* `nesting true` (no masks) asked for CAP_SYS_ADMIN itself: it stays */
  bool nesting = jnode_len (jnode_get (linux_, "maskedPaths")) == 0
                 && jnode_len (jnode_get (linux_, "readonlyPaths")) == 0;
  for (const char *const *c = oci_system_userns_caps; *c; c++)
    {
      if (on)
        config_caps_add (config, *c);
      else if (!nesting || strcmp (*c, "CAP_SYS_ADMIN") != 0)
        config_caps_drop (config, *c);
    }
  if (jnode_get (linux_, "seccomp"))
    config_seccomp_default (config);
}

/* "uidMappings" of an unprivileged user's containers: its own id as 0, its subordinate
   range (when it has one) from 1. */
static json_node *
rootless_mapping (uint32_t id, uint32_t start, uint32_t count)
{
  json_node *a = jnode_new_array (), *o = jnode_new_object ();
  jnode_set (o, "containerID", jnode_new_uint (0));
  jnode_set (o, "hostID", jnode_new_uint (id));
  jnode_set (o, "size", jnode_new_uint (1));
  jnode_append (a, o);
  if (count == 0)
    return a;
  o = jnode_new_object ();
  jnode_set (o, "containerID", jnode_new_uint (1));
  jnode_set (o, "hostID", jnode_new_uint (start));
  jnode_set (o, "size", jnode_new_uint (count));
  jnode_append (a, o);
  return a;
}

/* An unprivileged user's containers all have its own mapping (no range in ctr.json), on
   the tree as it is (no idmapped mount: that takes root), whatever store a config came
   from (an archive of root's, a snapshot). */
static void
apply_rootless (json_node *config, json_node *linux_, json_node *nss)
{
  struct oci_rootless_ids ids;

  ns_rootless_ids (&ids);
  if (namespace_index (nss, "user") < 0)
    {
      json_node *ns = jnode_new_object ();
      jnode_set (ns, "type", jnode_new_string ("user"));
      jnode_append (nss, ns);
    }
  jnode_set (linux_, "uidMappings", rootless_mapping (ids.uid, ids.subuid_start, ids.subuid_count));
  jnode_set (linux_, "gidMappings", rootless_mapping (ids.gid, ids.subgid_start, ids.subgid_count));
  set_root_idmap (config, false);
  if (namespace_index (nss, "network") < 0)
    set_sys (config, true);
}

void
idmap_config_apply (json_node *config, const struct store_meta *m)
{
  json_node *linux_ = jnode_path (config, "linux", true);
  json_node *nss = jnode_array_member (linux_, "namespaces", true);
  ssize_t i = namespace_index (nss, "user");
  bool on = m->idmap_count > 0;

  if (is_rootless ())
    {
      apply_rootless (config, linux_, nss);
      return;
    }
  if (on && i < 0)
    {
      json_node *ns = jnode_new_object ();
      jnode_set (ns, "type", jnode_new_string ("user"));
      jnode_append (nss, ns);
    }
  else if (!on && i >= 0)
    jnode_array_remove (nss, (size_t)i);
  if (on != (i >= 0))
    set_userns_caps (config, on);
  if (on)
    {
      jnode_set (linux_, "uidMappings", mapping (m->idmap_uid, m->idmap_count));
      jnode_set (linux_, "gidMappings", mapping (m->idmap_gid, m->idmap_count));
    }
  else
    {
      jnode_remove (linux_, "uidMappings");
      jnode_remove (linux_, "gidMappings");
    }
  set_root_idmap (config, on && !m->idmap_shifted);
  if (namespace_index (nss, "network") < 0)
    set_sys (config, on);
}

bool
idmap_config_has_userns (int dirfd)
{
  json_node *config = jnode_read_at (dirfd, "config.json", OCI_CONFIG_MAX_SIZE, NULL);
  bool r;

  if (config == NULL)
    return false;
  r = namespace_index (jnode_get (jnode_get (config, "linux"), "namespaces"), "user") >= 0;
  jnode_free (config);
  return r;
}

int
idmap_config_rewrite (int dirfd, const struct store_meta *m, ctr_error_t *err)
{
  cleanup_free char *out = NULL;
  struct oci_config *check = NULL;
  json_node *config = jnode_read_at (dirfd, "config.json", OCI_CONFIG_MAX_SIZE, err);
  size_t len;
  int r;

  if (config == NULL)
    return -1;
  idmap_config_apply (config, m);
  out = jnode_to_string (config, &len);
  jnode_free (config);
  if (oci_config_parse (out, len, "config.json", &check, err) < 0)
    return ctr_error_wrap (err, "config.json with the id range: not saved");
  oci_config_free (check);
  r = write_file_atomic_at (dirfd, "config.json", out, len, 0600, err);
  return r;
}

int
idmap_set_privileged (int rootfd, int dirfd, const char *dirpath, const char *name,
                      struct store_meta *m, bool privileged, ctr_error_t *err)
{
  if (privileged)
    {
      /* a shifted tree back to 0 first: an interrupted shift is finished by the next set */
      if (idmap_shift_rootfs (dirfd, dirpath, m, true, err) < 0)
        return -1;
      m->idmap_uid = m->idmap_gid = m->idmap_count = 0;
      m->idmap_shifted = false;
      /* the range is released once ctr.json no longer holds it */
      if (idmap_config_rewrite (dirfd, m, err) < 0)
        return -1;
      return store_meta_write (dirfd, m, err);
    }
  /* a range already recorded (this or an interrupted earlier set) is kept */
  if (m->idmap_count == 0 && idmap_allocate (rootfd, dirfd, name, m, err) < 0)
    return -1;
  if (!m->idmap_shifted)
    {
      if (idmap_shift_rootfs (dirfd, dirpath, m, false, err) < 0)
        return -1;
      if (m->idmap_shifted && store_meta_write (dirfd, m, err) < 0)
        return -1;
    }
  return idmap_config_rewrite (dirfd, m, err);
}
