/* pool_usage: what is in a storage pool (the containers whose ctr.json names it, the space
   used) and `pool rm`, refused while any container lives there. Above the store, which
   pool.c is below. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/log.h"
#include "base/owned_dir.h"
#include "base/util.h"
#include "system/pool.h"
#include "system/pool_image.h"
#include "system/pool-internal.h"
#include "system/pool_usage.h"
#include "system/store.h"

struct pool_match
{
  const char *store, *pool;
};

static bool
names_pool (int dirfd, const char *id, void *data)
{
  const struct pool_match *pm = data;
  struct store_meta m;
  ctr_error_t e = NULL;
  bool yes = false;

  if (store_exists (pm->store, id) && store_meta_read (dirfd, id, &m, &e) == 0)
    {
      yes = strcmp (m.pool ? m.pool : POOL_DEFAULT, pm->pool) == 0;
      store_meta_clear (&m);
    }
  ctr_error_free (&e);
  return yes;
}

/* The containers whose ctr.json names the pool (none: "default"). */
static char **
pool_containers (const char *store, const char *pool)
{
  struct pool_match pm = { store, pool };
  return owned_dir_select_ids (store, "store", names_pool, &pm);
}

int
pool_usage_get (const char *store, const struct pool *p, struct pool_usage *u, ctr_error_t *err)
{
  memset (u, 0, sizeof *u);
  u->containers = pool_containers (store, p->name);
  if (p->type == POOL_LVM)
    {
      cleanup_free char *vgpool = xasprintf ("%s/%s", p->vg, p->thinpool), *text = NULL;
      const char *argv[]
          = { "lvs", "--noheadings",         "--units", "b", "--nosuffix", "--separator", ";",
              "-o",  "lv_size,data_percent", vgpool,    NULL };
      double pct = 0;
      unsigned long long size = 0;
      if (pool_run_tool (argv, &text, -1, err) < 0)
        return ctr_error_wrap (err, "pool `%s`", p->name);
      if (sscanf (text, " %llu;%lf", &size, &pct) >= 1)
        {
          u->capacity = size;
          u->used = (uint64_t)(size * pct / 100.0);
        }
      return 0;
    }
  struct statvfs sv;
  if (statvfs (p->path, &sv) == 0)
    {
      u->capacity = (uint64_t)sv.f_blocks * sv.f_frsize;
      u->used = (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
    }
  return 0;
}

void
pool_usage_clear (struct pool_usage *u)
{
  strv_free (u->containers);
  memset (u, 0, sizeof *u);
}

int
pool_remove (const char *store, const char *name, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *file = NULL;
  cleanup_strv char **inside = NULL;
  struct pool p;

  if (name && strcmp (name, POOL_DEFAULT) == 0)
    return ctr_error (err, 0, "pool rm default: the default pool is the store itself");
  /* locked (and swept of what a killed create left) before the definition is read */
  fd = pool_dir_lock (store, false, err);
  if (fd < 0 && errno != ENOENT)
    return ctr_error_wrap (err, "pool rm %s", name);
  if (pool_load (store, name, &p, err) < 0)
    return ctr_error_wrap (err, "pool rm %s", name);
  inside = pool_containers (store, name);
  if (inside[0])
    {
      cleanup_free char *list = xstrv_join (inside, ", ");
      pool_clear (&p);
      return ctr_error (err, 0, "pool rm %s: containers live in it: %s", name, list);
    }
  /* the bases are ctr's own (gone with the definition); the directory is the user's */
  if (pool_image_prune (store, &p, true, NULL, err) < 0)
    {
      pool_clear (&p);
      return ctr_error_wrap (err, "pool rm %s", name);
    }
  pool_clear (&p);
  file = xasprintf ("%s.json", name);
  if (unlinkat (fd, file, 0) < 0)
    return ctr_error (err, errno, "pool rm %s", name);
  return 0;
}
