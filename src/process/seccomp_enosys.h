/* seccomp_enosys: runc's -ENOSYS stub, put in front of the filter libseccomp exports. */
#ifndef CTR_SECCOMP_ENOSYS_H
#define CTR_SECCOMP_ENOSYS_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/oci.h"
#include "process/process.h"

/* A syscall newer than the profile must fail with ENOSYS, as if the kernel lacked it (so
   that libc falls back to the older call), not with the profile's default errno. As runc
   1.1 (libcontainer/seccomp/patchbpf): for each of the profile's architectures (arches,
   SCMP_ARCH_* values), numbers above the largest one any syscalls[].names entry has there
   return ENOSYS; none when the default action lets calls through (allow, log, trace) or
   already is ENOSYS. Prepends that check to out->bpf. */
int seccomp_enosys_patch (const struct oci_seccomp *sc, const uint32_t *arches, size_t n_arches,
                          uint32_t default_action, struct process_seccomp *out, ctr_error_t *err);

#endif
