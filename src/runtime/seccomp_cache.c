/* seccomp_cache: compiled filters on tmpfs, so a profile is compiled once per boot. A
   3-architecture profile takes ~9 ms to compile with libseccomp; reading it back ~20 us. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/log.h"
#include "runtime/seccomp_cache.h"
#include "base/owned_dir.h"
#include "base/util.h"

#define CACHE_MAGIC "CTRSECCOMP2\n"
#define CACHE_MAX_FILE (4 * 1024 * 1024)

struct cache_header
{
  char magic[12];
  uint32_t key_len;
  uint32_t flags;
  uint32_t notify;
  uint32_t bpf_len;
};

static char *
cache_dir (void)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  if (!is_rootless ())
    return xstrdup ("/run/ctr-cache/seccomp");
  if (xdg && *xdg == '/')
    return xasprintf ("%s/ctr-cache/seccomp", xdg);
  return NULL;
}

static char *
cache_key (const struct oci_seccomp *sc, size_t *len)
{
  const struct scmp_version *v = seccomp_version ();
  cleanup_free char *profile = oci_seccomp_canonical (sc, NULL);
  struct utsname u;
  char *key;

  uname (&u);
  key = xasprintf ("ctr %s libseccomp %u.%u.%u %s\n%s", PACKAGE_VERSION, v->major, v->minor,
                   v->micro, u.machine, profile);
  *len = strlen (key);
  return key;
}

/* FNV-1a: only picks the file name; the full key inside is what is trusted. */
static uint64_t
fnv1a (const char *s, size_t len)
{
  uint64_t h = 14695981039346656037ULL;
  size_t i;
  for (i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return h;
}

static bool
cache_load (int dfd, const char *name, const char *key, size_t key_len, struct process_seccomp *out)
{
  cleanup_free char *buf = NULL;
  struct cache_header h;
  size_t len;

  if (read_file_at (dfd, name, CACHE_MAX_FILE, &buf, &len, NULL) < 0 || len < sizeof h)
    return false;
  memcpy (&h, buf, sizeof h);
  if (memcmp (h.magic, CACHE_MAGIC, sizeof h.magic) != 0 || h.key_len != key_len
      || (uint64_t)sizeof h + h.key_len + h.bpf_len != len
      || memcmp (buf + sizeof h, key, key_len) != 0)
    return false;
  out->bpf = xmalloc (h.bpf_len ? h.bpf_len : 1);
  memcpy (out->bpf, buf + sizeof h + key_len, h.bpf_len);
  out->len = h.bpf_len;
  out->flags = h.flags;
  out->notify = h.notify != 0;
  return true;
}

static void
cache_store (int dfd, const char *dir, const char *name, const char *key, size_t key_len,
             const struct process_seccomp *s)
{
  struct cache_header h = { .key_len = (uint32_t)key_len,
                            .flags = s->flags,
                            .notify = s->notify,
                            .bpf_len = (uint32_t)s->len };
  size_t len = sizeof h + key_len + s->len;
  cleanup_free char *buf = xmalloc (len);
  cleanup_free char *tmp = xasprintf ("%s.%d", name, (int)getpid ());
  ctr_error_t err = NULL;

  memcpy (h.magic, CACHE_MAGIC, sizeof h.magic);
  memcpy (buf, &h, sizeof h);
  memcpy (buf + sizeof h, key, key_len);
  memcpy (buf + sizeof h + key_len, s->bpf, s->len);
  if (write_file_at (dfd, tmp, buf, len, 0600, &err) < 0 || renameat (dfd, tmp, dfd, name) < 0)
    {
      unlinkat (dfd, tmp, 0);
      ctr_log_debug ("seccomp cache: not stored in %s", dir);
    }
  ctr_error_free (&err);
}

int
seccomp_cache_compile (const struct oci_seccomp *sc, struct process_seccomp *out, ctr_error_t *err)
{
  cleanup_free char *dir = cache_dir ();
  cleanup_free char *key = NULL;
  cleanup_free char *name = NULL;
  cleanup_close int dfd = -1;
  ctr_error_t unsafe = NULL;
  size_t key_len;

  /* the filter loaded into the container comes from this directory: only one of the
     caller's own, that nobody else can write, is used */
  if (dir)
    dfd = owned_dir_open (dir, "seccomp cache", OWNED_DIR_CREATE, &unsafe);
  if (dfd < 0)
    {
      if (unsafe)
        ctr_log_debug ("%s: not used", unsafe->msg);
      ctr_error_free (&unsafe);
      return process_seccomp_compile (sc, out, err);
    }
  key = cache_key (sc, &key_len);
  name = xasprintf ("%016llx", (unsigned long long)fnv1a (key, key_len));
  if (cache_load (dfd, name, key, key_len, out))
    return 0;
  if (process_seccomp_compile (sc, out, err) < 0)
    return -1;
  cache_store (dfd, dir, name, key, key_len, out);
  return 0;
}
