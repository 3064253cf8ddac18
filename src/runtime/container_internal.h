/* container_internal: pieces shared by container.c (create/run/...) and exec.c. */
#ifndef CTR_CONTAINER_INTERNAL_H
#define CTR_CONTAINER_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include "cgroups/cgroup.h"
#include "runtime/container.h"
#include "oci/config.h"
#include "process/process.h"
#include "runtime/state.h"

/* A container loaded from its state directory. */
struct loaded
{
  int dirfd;
  struct ctr_state *state;
  enum ctr_status status;
};

int loaded_open (const struct ctr_context *ctx, const char *id, bool lock, struct loaded *l,
                 ctr_error_t *err);
void loaded_release (struct loaded *l);
/* Parses the config saved in the state dir at create time. */
int loaded_config (const struct loaded *l, struct oci_config **out, ctr_error_t *err);
int loaded_cgroup (const struct loaded *l, struct cgroup **out, ctr_error_t *err);

/* `run --net`: attaches opts->networks to the container process pid (state dir dirfd; its
   namespaces as the container handed them over);
   container_net_detach undoes it when the state dir says the container has networks. */
int container_net_attach (const char *id, int dirfd, pid_t pid, int netns_fd, int userns_fd,
                          const struct container_create_options *opts, ctr_error_t *err);
void container_net_detach (const char *id, int dirfd);
int container_release_fifo (int dirfd, ctr_error_t *err);

/* The containerProcessState sent with a seccomp listener fd to linux.seccomp.listenerPath
   (runtime-spec): pid is the process the filter confines, state_json the container's state. */
char *listener_state_json (const struct oci_seccomp *sc, pid_t pid, const char *state_json,
                           size_t *len);

/* Foreground supervision: forwards signals to pid, proxies a pty (master >= 0) to the
   caller's stdin/stdout, and returns the exit status (128+signal when killed). */
int supervise (pid_t pid, int pidfd, int master, int *exit_status, ctr_error_t *err);
/* Blocks the signals that supervise() forwards; the old mask goes to *oldmask. */
void supervise_block_signals (sigset_t *oldmask);
/* In a child: default dispositions and an empty mask, as a fresh process would have. */
void reset_signals (void);
/* Fills closed fds in [3, 3 + n) with /dev/null so that no fd ctr opens itself lands in
   the range handed to the container with --preserve-fds. */
void reserve_preserved_fds (int n);
/* Compiles linux.seccomp (if any) and sends it to the child; the child unpacks it. */
struct sync_msg;
int seccomp_send (int sock, const struct oci_linux *l, ctr_error_t *err);
void seccomp_from_msg (struct sync_msg *msg, struct process_seccomp *out);
/* Runs the hooks of a stage where a failure is only a warning (poststart, poststop). */
void hooks_run_warn (const struct oci_hooks *hooks, enum oci_hook_stage stage,
                     const char *state_json);
/* process.oomScoreAdj of the calling process, through the verified procfs. */
int write_self_oom_score_adj (int value, ctr_error_t *err);
/* Writes a pid file atomically. */
int write_pid_file (const char *path, pid_t pid, ctr_error_t *err);

#endif
