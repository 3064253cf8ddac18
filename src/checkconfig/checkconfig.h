/* checkconfig: what this host and user offer ctr, and what to do about each missing piece. */
#ifndef CTR_CHECKCONFIG_H
#define CTR_CHECKCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/container.h"

enum check_status
{
  CHECK_OK,      /* there, or not needed in this mode */
  CHECK_WARN,    /* an optional piece is absent or limited: some features are unavailable */
  CHECK_MISSING, /* a piece the current mode (root or rootless) requires is absent */
};

struct check_result
{
  char *name; /* stable, e.g. "namespace.user", "subuid", "state-dir" */
  enum check_status status;
  bool required; /* needed in the current mode: when not there, status is CHECK_MISSING */
  char *detail;  /* what was found, one line */
  char *advice;  /* what to do, one line; NULL when status is CHECK_OK */
};

struct check_report
{
  bool rootless;
  uid_t uid;
  char *user; /* the user's name, or the uid in decimal when it has no passwd entry */
  struct check_result *results;
  size_t n;
};

/* Runs every check for the calling user and this host (ctx picks the state and store
   roots). Nothing is created or changed; a missing feature is a result, not an error. */
void check_config_run (const struct ctr_context *ctx, struct check_report *out);
void check_report_clear (struct check_report *r);
/* "ok", "warn", "missing". */
const char *check_status_name (enum check_status s);
/* True when no required check is missing (the exit status of `ctr check-config`). */
bool check_report_ok (const struct check_report *r);

#endif
