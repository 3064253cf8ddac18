/* hooks: running the OCI hooks of one stage with the container state on stdin. */
#ifndef CTR_HOOKS_H
#define CTR_HOOKS_H

#include <stddef.h>
#include "base/error.h"
#include "oci/oci.h"

/* Runs the hooks in order: fork, state_json on stdin, exec path with args and env
   (an empty env when none given), honour timeout (SIGKILL, error). A failing hook
   (non-zero exit, signal, timeout, missing path) stops the stage with an error naming
   the stage, its index and path: "createRuntime hook #1 `/bin/x`: exited with status 3". */
int hooks_run (const struct oci_hook *hooks, size_t n, enum oci_hook_stage stage,
               const char *state_json, ctr_error_t *err);
/* hooks_run of the config's hooks of one stage. */
int hooks_run_stage (const struct oci_hooks *hooks, enum oci_hook_stage stage,
                     const char *state_json, ctr_error_t *err);
/* Runs the hooks of a stage where a failure is only a warning (poststart, poststop). */
void hooks_run_warn (const struct oci_hooks *hooks, enum oci_hook_stage stage,
                     const char *state_json);

#endif
