/* selfexec: protection of the ctr binary against containers (CVE-2019-5736 class). */
#ifndef CTR_SELFEXEC_H
#define CTR_SELFEXEC_H

#include <stdbool.h>
#include <stdint.h>
#include "base/error.h"

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

/* False when the protection is switched off with CTR_BENCH_NO_SEAL=1, which bench/ sets
   to measure what it costs (see docs/security.md). */
bool selfexec_enabled (void);
/* ctr-stub (src/stub/) is built in and enabled: container programs are executed through
   it, from a sealed memfd. */
bool selfexec_use_stub (void);
/* A sealed, executable memfd holding ctr-stub (O_CLOEXEC). */
int selfexec_stub_fd (ctr_error_t *err);
/* Executes ctr-stub from stub_fd; it does FLAGS (STUB_FORK, STUB_SETSID, STUB_CTTY,
   STUB_CAPS of stub/stub.h; with STUB_CAPS, caps holds its effective, inheritable and
   lower masks, else it may be NULL), reports errors on sync_fd (-1: on stderr) and executes
   PATH with argv and envp. sync_fd must not be O_CLOEXEC. Returns only on failure. */
int selfexec_exec_stub (int stub_fd, unsigned flags, int sync_fd, const uint64_t caps[3],
                        const char *path, char *const argv[], char *const envp[], ctr_error_t *err);
/* Set when selfexec_exec_stub failed with EPERM or ENOSYS: most likely the seccomp filter,
   already loaded, refused execveat and execve of the stub. */
extern bool selfexec_stub_refused;
/* main() keeps its argv for a later selfexec_reexec_saved(). */
void selfexec_save_argv (char **argv);
/* Unless this ctr already runs sealed (or the protection is off), re-executes it from a
   sealed copy with the saved argv: for the commands whose setup process must live in a pid
   namespace where container processes already run. Returns 0 when nothing was needed. */
int selfexec_reexec_saved (ctr_error_t *err);

#endif
