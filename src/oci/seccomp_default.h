/* oci/seccomp_default: the default linux.seccomp profile of `ctr spec`. */
#ifndef CTR_OCI_SECCOMP_DEFAULT_H
#define CTR_OCI_SECCOMP_DEFAULT_H

#include <stdbool.h>
#include "base/json.h"

/* Writes the "seccomp" key and its profile into the open linux object, for a process whose
   bounding set is caps (NULL-terminated names): what a capability governs is allowed with
   it (chroot with CAP_SYS_CHROOT, reboot with CAP_SYS_BOOT...). */
void oci_seccomp_default_write (json_writer *w, const char *const *caps);

#endif
