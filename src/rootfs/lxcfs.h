/* lxcfs: finding a running lxcfs (its fuse.lxcfs mount) and the files of it that a system
   container gets over its own /proc and /sys entries, as LXC's lxcfs mount hook does. */
#ifndef CTR_ROOTFS_LXCFS_H
#define CTR_ROOTFS_LXCFS_H

#include <stdbool.h>
#include <stddef.h>
#include "base/error.h"

/* Where lxcfs mounts itself when started by its package's service. */
#define LXCFS_DEFAULT_DIR "/var/lib/lxcfs"
/* An lxcfs of one's own elsewhere (tests, a second instance): its mount point. */
#define LXCFS_DIR_ENV "CTR_LXCFS_DIR"

/* The mount point of a running lxcfs, read from /proc/self/mountinfo: $CTR_LXCFS_DIR when
   set, else /var/lib/lxcfs when lxcfs is mounted there, else the first fuse.lxcfs mount.
   A mount whose daemon is gone (it no longer answers) does not count. NULL when none; then
   *why (malloc'd) says what was looked at, for messages. */
char *lxcfs_find (char **why, ctr_error_t *err);

/* The files this lxcfs offers, as source/destination pairs (NULL-terminated, sources under
   mountpoint, destinations in the container: /proc/meminfo, ..., /sys/devices/system/cpu/
   online). Files it does not offer are left out. */
char **lxcfs_binds (const char *mountpoint);

/* The binds a system container gets for its `lxcfs` setting: "auto" (or NULL) those of
   a running lxcfs, none when there is none; "true" the same, but no lxcfs is an error;
   "false" none. *out is NULL-terminated (maybe empty). */
int lxcfs_container_binds (const char *mode, char ***out, ctr_error_t *err);
/* Whether value is a setting lxcfs_container_binds knows. */
bool lxcfs_mode_valid (const char *value);

/* Appends read-only bind mounts (source/destination pairs) to the mounts of a config.json
   text, which is replaced by the edited one. origin names the file in errors. */
int lxcfs_config_add_binds (char **text, size_t *len, char *const *binds, const char *origin,
                            ctr_error_t *err);

#endif
