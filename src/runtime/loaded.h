/* loaded: a container as its state directory describes it, for the verbs that act on an
   existing container (start, kill, delete, exec, events, ...). */
#ifndef CTR_LOADED_H
#define CTR_LOADED_H

#include <stdbool.h>
#include "base/error.h"
#include "cgroups/cgroup.h"
#include "oci/oci.h"
#include "runtime/container.h"
#include "runtime/state.h"

struct loaded
{
  int dirfd;
  struct ctr_state *state;
  enum ctr_status status;
  pid_t ppid; /* the parent of the container's process while it runs (else 0) */
};

/* Opens (and with lock, locks) the state directory of id and reads its state; a running
   container whose cgroup is frozen is paused. */
int loaded_open (const struct ctr_context *ctx, const char *id, bool lock, struct loaded *l,
                 ctr_error_t *err);
/* loaded_open of an id already checked, within a state root opened once for many
   (state_root_open_existing): `ls` does not walk the root again for each container. The
   freezer's file is opened relative to freezer_mountfd (-1, or cgroup_freezer_mount_open's). */
int loaded_open_at (int rootfd, const char *root, const char *id, bool lock, int freezer_mountfd,
                    struct loaded *l, ctr_error_t *err);
/* loaded_open_at without opening the state directory (dirfd stays -1, nothing locked): its
   owner and mode are checked and its files read by paths relative to rootfd, which only
   the caller can change. For `list`, which reads every container once. */
int loaded_peek_at (int rootfd, const char *root, const char *id, int freezer_mountfd,
                    struct loaded *l, ctr_error_t *err);
void loaded_release (struct loaded *l);
/* Parses the config saved in the state dir at create time. */
int loaded_config (const struct loaded *l, struct oci_config **out, ctr_error_t *err);
/* The container's cgroup (NULL in *out when it has none). */
int loaded_cgroup (const struct loaded *l, struct cgroup **out, ctr_error_t *err);

#endif
