/* idmap: the id ranges of unprivileged system containers: allocation from root's
   subordinate ids, and the user namespace they make in config.json. */
#ifndef CTR_SYSTEM_IDMAP_H
#define CTR_SYSTEM_IDMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/json_edit.h"
#include "system/idmap_shift.h"
#include "system/store.h"

#define IDMAP_COUNT 65536
/* Without a root line in /etc/subuid (/etc/subgid): LXD's default, far above users' ids. */
#define IDMAP_DEFAULT_START 1000000
#define IDMAP_DEFAULT_SIZE 1000000000
#define IDMAP_SUBUID "/etc/subuid"
#define IDMAP_SUBGID "/etc/subgid"

/* Gives the container of dirfd (in the store rootfd; name for messages) the first free
   range of root's subordinate ids and records it in its ctr.json (m, written whole) under
   the store's lock. */
int idmap_allocate (int rootfd, int dirfd, const char *name, struct store_meta *m,
                    ctr_error_t *err);
/* The range in ctr.json of dirfd (a container that comes with one: migrated) overlaps
   no other container's of the store rootfd: an error naming it when it does. */
int idmap_check_free (int rootfd, int dirfd, const char *name, ctr_error_t *err);
/* config.json made to match m: a user namespace with m's range, the rootfs idmapped onto
   "/" (unless shifted on disk), /sys bound when there is no netns; or none of that. For an
   unprivileged user, its own mapping, whatever m says. */
void idmap_config_apply (json_node *config, const struct store_meta *m);
/* The stored config.json of dirfd has a user namespace (false when it cannot be read). */
bool idmap_config_has_userns (int dirfd);
/* The stored config.json of dirfd made to match m (checked by the OCI parser, written
   atomically). */
int idmap_config_rewrite (int dirfd, const struct store_meta *m, ctr_error_t *err);
/* `ctr config NAME set privileged true|false` on a stopped container (its lock held):
   the range released, or one allocated, the rootfs at dirpath shifted (back) where it
   cannot be idmapped, and config.json rewritten. */
int idmap_set_privileged (int rootfd, int dirfd, const char *dirpath, const char *name,
                          struct store_meta *m, bool privileged, ctr_error_t *err);

#endif
