/* store: named system containers, one directory each under the store root
   (<store>/<name>/: an OCI bundle, config.json + rootfs/, plus ctr.json, ctr's metadata). */
#ifndef CTR_STORE_H
#define CTR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include "base/error.h"

#define STORE_META "ctr.json"
#define STORE_CONSOLE_LOG "console.log"
/* The pid of a monitor booting its rebooted guest again, while the container is down. */
#define STORE_REBOOTING "rebooting"

/* ctr.json: what the OCI config does not say. */
struct store_meta
{
  char *template_name;
  char *created; /* RFC 3339 */
  char *kind;    /* "system" (an OS init) or "application" */
  bool autostart;
  char *stop_signal; /* what makes init shut down cleanly: SIGPWR, SIGRTMIN+3, ... */
  int stop_timeout;  /* seconds before `ctr stop` kills */
  char **networks;   /* NULL-terminated: network names, or the single "none" / "host" */
  char *ip;          /* static address on the first network, or NULL */
  char **publish;    /* NULL-terminated [HOSTIP:]HOSTPORT:PORT[/PROTO] */
  bool has_last_exit;
  int last_exit; /* wait status folded as the shell does: 128+signal */
  char *last_exit_time;
  char *cloned_from; /* `ctr clone`: the container this one was copied from, or NULL */
  char *pool;        /* the storage pool of its rootfs; NULL: "default" (the store) */
  /* `ctr start --autostart`: lower order first, delay seconds after each, group a name */
  int autostart_order;
  int autostart_delay;
  char *autostart_group;
  char *lxcfs; /* lxcfs's files over /proc: "auto" (NULL), "true" (required), "false" */
  /* unprivileged (docs/system-containers.md, "Id ranges"): container ids 0..count-1 are
     host uids idmap_uid.. and gids idmap_gid..; count 0: privileged (no user namespace) */
  uint32_t idmap_uid, idmap_gid, idmap_count;
  bool idmap_shifted; /* the rootfs was chowned into the range (no idmapped mount there) */
};

void store_meta_clear (struct store_meta *m);
/* Every key of ctr.json as `ctr config NAME get` knows them. */
extern const char *const store_meta_keys[];

/* --store, $CTR_STORE, /var/lib/ctr/containers (root) or $XDG_DATA_HOME/ctr/containers. */
const char *store_root (const char *override);
/* Opens <root>/<name>; a missing one: "container `name` does not exist". */
int store_open (const char *root, const char *name, ctr_error_t *err);
/* store_open of a valid name within the store root rootfd (owned_dir_open of root, with
   OWNED_DIR_MISSING_OK: -1 with *err set, or OWNED_DIR_MISSING), opened once for many. */
int store_open_at (int rootfd, const char *root, const char *name, ctr_error_t *err);
bool store_exists (const char *root, const char *name);
/* The text of a ctr.json (origin names it in errors); store_meta_read reads and parses. */
int store_meta_parse (const char *text, size_t len, const char *origin, struct store_meta *m,
                      ctr_error_t *err);
int store_meta_read (int dirfd, const char *name, struct store_meta *m, ctr_error_t *err);
/* The same of <store>/NAME/ctr.json from the store's fd rootfd (`ctr ls`: no open of NAME). */
int store_meta_read_in (int rootfd, const char *name, struct store_meta *m, ctr_error_t *err);
/* A copy becomes a container of its own (clone, import): no static address (its MAC comes
   from it) nor published ports, created now, no last exit, cloned from nothing. */
void store_meta_renew (struct store_meta *m);
int store_meta_write (int dirfd, const struct store_meta *m, ctr_error_t *err);
/* Names of every stored container (sorted; half-made ones are not listed). */
/* Removes `.NAME.new`, the staging directory of a create that was killed (its lock is
   free): 1 when removed, 0 when there is none or (*busy) a create holds it. */
int store_staging_remove (int rootfd, const char *name, bool *busy, ctr_error_t *err);
/* Claims `.NAME.new` for a create or a clone: made (or taken over from a killed one,
   whose lock is free) and returned open and locked; its lock lives as long as the fd. */
int store_staging_claim (int rootfd, const char *name, ctr_error_t *err);
/* The names in the store (its directories whose names are valid ids: one without ctr.json
   is not a container, as its reader finds); staging directories left by killed creates are
   removed first. */
int store_list (const char *root, char ***names, size_t *n, ctr_error_t *err);
/* Exclusive flock on a store directory (waits): create, start, config set and destroy
   serialize on it. */
int store_lock (int dirfd, ctr_error_t *err);

/* `ctr config NAME get KEY`: the value as text (strings bare, lists comma-separated). */
int store_meta_get (const struct store_meta *m, const char *key, char **out, ctr_error_t *err);
/* `ctr config NAME set KEY VALUE`: validated (signal names, numbers, network names). */
int store_meta_set (struct store_meta *m, const char *key, const char *value, ctr_error_t *err);

#endif
