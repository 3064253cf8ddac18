/* template: running a template for `ctr create -t` (template_run.c). */
#ifndef CTR_TEMPLATE_H
#define CTR_TEMPLATE_H

#include "base/error.h"

/* Runs the template at path (named tname) to fill dir for container name, with args after
   the fixed ones. Nothing of the template outlives ctr, also when ctr is killed. The caller
   blocks SIGINT, SIGTERM and SIGHUP: one of those received meanwhile stops the template
   and is returned in *interrupted (with an error), still blocked, for the caller to clean
   up first and then let it take effect. */
int template_run (const char *path, const char *tname, const char *name, const char *dir,
                  char **args, int *interrupted, ctr_error_t *err);

#endif
