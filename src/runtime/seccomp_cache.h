/* seccomp_cache: compiled seccomp filters kept between runs, keyed by the whole profile. */
#ifndef CTR_SECCOMP_CACHE_H
#define CTR_SECCOMP_CACHE_H

#include "base/error.h"
#include "oci/oci.h"
#include "process/process.h"

/* Fills *out with the compiled filter for sc: from the cache when an entry's full key
   (ctr and libseccomp versions, machine, the profile's canonical text) matches byte for
   byte, else compiled and stored. A cache that can't be read or written is ignored. */
int seccomp_cache_compile (const struct oci_seccomp *sc, struct process_seccomp *out,
                           ctr_error_t *err);

#endif
