/* setup_shared: what the setup of `create` and of `exec` share, on the parent's side and in
   the setup child. */
#ifndef CTR_SETUP_SHARED_H
#define CTR_SETUP_SHARED_H

#include <stddef.h>
#include <sys/types.h>
#include "base/error.h"
#include "oci/oci.h"
#include "process/process.h"

/* In a child: default dispositions and an empty mask, as a fresh process would have. */
void reset_signals (void);
/* Fills closed fds in [3, 3 + n) with /dev/null so that no fd ctr opens itself lands in
   the range handed to the container with --preserve-fds. */
void reserve_preserved_fds (int n);
/* process.oomScoreAdj of the calling process, through the verified procfs. */
int write_self_oom_score_adj (int value, ctr_error_t *err);
/* Writes a pid file atomically. */
int write_pid_file (const char *path, pid_t pid, ctr_error_t *err);
/* Compiles linux.seccomp (if any) and sends it to the child; the child unpacks it. */
struct sync_msg;
int seccomp_send (int sock, const struct oci_linux *l, ctr_error_t *err);
void seccomp_from_msg (struct sync_msg *msg, struct process_seccomp *out);
/* The containerProcessState sent with a seccomp listener fd to linux.seccomp.listenerPath
   (runtime-spec): pid is the process the filter confines, state_json the container's state. */
char *listener_state_json (const struct oci_seccomp *sc, pid_t pid, const char *state_json,
                           size_t *len);

#endif
