/* supervise: the foreground side of `run` and `exec`. */
#ifndef CTR_SUPERVISE_H
#define CTR_SUPERVISE_H

#include <signal.h>
#include <sys/types.h>
#include "base/error.h"

/* Foreground supervision: forwards signals to pid, proxies a pty (master >= 0) to the
   caller's stdin/stdout, and returns the exit status (128+signal when killed). */
int supervise (pid_t pid, int pidfd, int master, int *exit_status, ctr_error_t *err);
/* Blocks the signals that supervise() forwards; the old mask goes to *oldmask. */
void supervise_block_signals (sigset_t *oldmask);

#endif
