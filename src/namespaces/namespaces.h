/* namespaces: planning which namespaces are created or joined, clone3, setns/unshare in the
   setup child, user namespace id maps and time namespace offsets. */
#ifndef CTR_NAMESPACES_H
#define CTR_NAMESPACES_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"
#include "oci/oci.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080

#endif

struct ns_plan
{
  int clone_flags;            /* CLONE_NEW* passed to clone3 */
  int unshare_flags;          /* CLONE_NEW* the child unshares itself */
  int new_flags;              /* every namespace created */
  int join_fds[OCI_NS_COUNT]; /* opened linux.namespaces[].path, or -1 */
  bool join_pid_in_parent;    /* parent setns()es the pid namespace before clone3 */
  bool userns_in_child;       /* the child unshares the user ns: parent writes maps on request */
  bool needs_fork;            /* pid/time namespaces created by unshare: the child forks the init */
  bool shares_mount_ns;       /* no mount namespace entry: the caller's is the container's */
  bool in_userns;             /* a user namespace is created or joined (its ids, not the host's) */
};

int ns_flag (enum oci_ns_type t);
/* Validates linux.namespaces and opens the namespaces to join. */
int ns_plan_build (const struct oci_config *c, struct ns_plan *p, ctr_error_t *err);
void ns_plan_release (struct ns_plan *p);
/* Parent, before clone3: joins the pid namespace (affects only children). */
int ns_parent_prepare (const struct ns_plan *p, ctr_error_t *err);
/* clone3 with flags (CLONE_NEW* | CLONE_PIDFD | CLONE_INTO_CGROUP when cgroup_fd >= 0).
   Returns 0 in the child, the pid in the parent; *pidfd set in the parent. */
pid_t ns_clone3 (int flags, int cgroup_fd, int *pidfd, ctr_error_t *err);
/* Child: joins the namespaces to join (user first) and unshares plan->unshare_flags. */
int ns_child_join_and_unshare (const struct ns_plan *p, ctr_error_t *err);
/* Child, right after unsharing a time namespace: writes linux.timeOffsets. */
int ns_write_time_offsets (const struct oci_linux *l, ctr_error_t *err);
/* Parent: writes uid_map/gid_map of pid (through a procfs handle checked to be procfs). */
int ns_write_id_maps (pid_t pid, const struct oci_linux *l, ctr_error_t *err);
/* A user namespace holding these id maps (written as root: no newuidmap), as an O_CLOEXEC
   fd: made by a short-lived helper process that is gone when this returns. */
int ns_userns_fd_with_maps (const struct oci_id_mapping *uids, size_t uids_len,
                            const struct oci_id_mapping *gids, size_t gids_len, ctr_error_t *err);
/* Opens /proc and checks it is a real procfs (security rule 4). Cached for the process. */
int ns_procfs_fd (ctr_error_t *err);
/* After a sweep closed every fd (a monitor leaving its caller): the cached handle is gone. */
void ns_procfs_forget (void);
/* In a new network namespace: lo up, as runc and crun leave it (127.0.0.1 works). */
int ns_loopback_up (ctr_error_t *err);
/* Whether fd is a namespace of the calling process itself; type: "net", "user", ... */
bool ns_is_own (int fd, const char *type);

/* The first range of uid's subordinate ids in path (/etc/subuid or /etc/subgid), by user
   name or number: 0, or -1 when there is none (or no file). */
int subid_range (const char *path, uid_t uid, uint32_t *start, uint32_t *count);
/* The same from the file's text (cut up), for user name (may be NULL) or number num. */
int subid_parse (char *text, const char *num, const char *name, uint32_t *start, uint32_t *count);
/* The caller's ids and subordinate ranges for a rootless container: ranges only when both
   files have one and newuidmap/newgidmap are there. Returns NULL, or why only the caller's
   own ids are mapped (a one-line note for the user). Read once per process: a child that
   became root of a user namespace (userns_as_root) still gets the user's. */
const char *ns_rootless_ids (struct oci_rootless_ids *ids);

#endif
