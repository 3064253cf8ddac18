/* selfexec: protection of the ctr binary against containers (CVE-2019-5736 class). */
#ifndef CTR_SELFEXEC_H
#define CTR_SELFEXEC_H

#include <stdbool.h>
#include "error.h"

/* True when this process runs from a sealed in-memory copy of ctr, or from a binary on a
   read-only mount: either way nothing can write it through /proc/PID/exe. */
bool selfexec_is_sealed (void);
/* Re-executes ctr from a sealed memfd copy of /proc/self/exe with the same argv and
   environment. Returns only on failure. */
int selfexec_reexec_sealed (char **argv, ctr_error_t *err);
/* Makes this process (and the children it clones) non-dumpable: /proc/PID/exe, mem,
   fds... are then closed to processes without CAP_SYS_PTRACE, i.e. to the container.
   execve() of the container's program makes it dumpable again. */
void selfexec_nondumpable (void);

#endif
