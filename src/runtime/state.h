/* state: the per-container state directory (<root>/<id>/): state.json written atomically,
   the exec fifo, a saved config.json, a lock, and status derivation. */
#ifndef CTR_STATE_H
#define CTR_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"

#define STATE_FIFO "exec.fifo"
#define STATE_CONFIG "config.json"
/* where the root is bound and set up for a container in the caller's mount namespace */
#define STATE_SHARED_ROOT "root"

struct oci_config;
/* The config's annotations as one JSON object (the state's `annotations`), NULL if none. */
char *state_annotations_json (const struct oci_config *cfg);

enum ctr_status
{
  CTR_STATUS_CREATING,
  CTR_STATUS_CREATED,
  CTR_STATUS_RUNNING,
  CTR_STATUS_STOPPED,
  CTR_STATUS_PAUSED,
};

const char *ctr_status_name (enum ctr_status s);

struct ctr_state
{
  char *id;
  pid_t pid;
  uint64_t pid_start; /* /proc/PID/stat starttime: guards against pid reuse */
  char *bundle;
  char *rootfs;
  char *created; /* RFC 3339 */
  uid_t owner;
  char *cgroup;      /* cgroup_serialize() text, or NULL */
  char *annotations; /* the config's annotations object as JSON text, or NULL */
  bool has_poststart;
  bool has_poststop;
};

void ctr_state_free (struct ctr_state *s);

/* Makes <root> (0700) if needed and creates <root>/<id> exclusively (0700). Returns the
   directory fd. A duplicate id fails with "container `id` already exists". */
int state_dir_create (const char *root, const char *id, ctr_error_t *err);
/* Opens an existing state dir (a directory of the caller's, see base/owned_dir.h); a
   missing one fails with "container `id` does not exist" and errno ENOENT. */
int state_dir_open (const char *root, const char *id, ctr_error_t *err);
/* The checked state root, for many state_dir_open_at: its fd, OWNED_DIR_MISSING when there
   is none yet, or -1 with *err. */
int state_root_open_existing (const char *root, ctr_error_t *err);
/* state_dir_open within a root that state_root_open_existing opened (rootfd as it gave). */
int state_dir_open_at (int rootfd, const char *root, const char *id, ctr_error_t *err);
/* Its checks without the open (owned_subdir_check), for state_read_in. */
int state_dir_check_at (int rootfd, const char *root, const char *id, ctr_error_t *err);
/* Exclusive flock on the state dir (waits). */
int state_lock (int dirfd, ctr_error_t *err);
/* Removes <root>/<id> and everything in it. */
int state_dir_remove (const char *root, const char *id, ctr_error_t *err);

int state_write (int dirfd, const struct ctr_state *s, ctr_error_t *err);
/* The text of a state.json (id names the container in errors); state_read reads and parses. */
int state_parse (const char *text, size_t len, const char *id, struct ctr_state **out,
                 ctr_error_t *err);
int state_read (int dirfd, const char *id, struct ctr_state **out, ctr_error_t *err);
/* state_read of the state directory id in the state root rootfd, which is not opened (the
   caller checked it with owned_subdir_check): `list` saves an open and a close for each. */
int state_read_in (int rootfd, const char *id, struct ctr_state **out, ctr_error_t *err);

/* starttime of a pid from /proc/PID/stat; 0 when the pid does not exist or is a zombie. */
uint64_t pid_start_time (pid_t pid);
/* The same, and the pid of its parent in *ppid (0 when it does not exist). */
uint64_t pid_stat (pid_t pid, pid_t *ppid);
/* created/running/stopped from the process and the fifo (paused is the cgroup's business);
   the fifo is in dir ("." or a state directory's name) of dirfd. *ppid: the parent of the
   container's process when it runs, else 0. */
enum ctr_status state_status (int dirfd, const char *dir, const struct ctr_state *s, pid_t *ppid);
/* The state document of `ctr state`, with the owner's name (runc's keys and order). */
char *state_oci_json (const struct ctr_state *s, enum ctr_status status, const char *owner,
                      size_t *len);
/* The runtime-spec State a hook reads on its stdin, as runc writes it: compact, with
   ociVersion, id, status, pid (not once stopped), bundle and annotations. */
char *state_hook_json (const struct ctr_state *s, enum ctr_status status, size_t *len);

/* Ids of all state dirs under root (sorted). */
int state_list_ids (const char *root, char ***ids, size_t *n, ctr_error_t *err);

/* Lets the created container go: one byte into the exec fifo it waits on. */
int container_release_fifo (int dirfd, ctr_error_t *err);
/* The container side: why it could not reach execve, for container_release_fifo. */
void container_fifo_report (int fifo_fd, ctr_error_t *err);

#endif
