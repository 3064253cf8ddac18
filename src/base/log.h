/* log: runtime diagnostics to stderr and to --log FILE (text or json, as runc writes them). */
#ifndef CTR_LOG_H
#define CTR_LOG_H

#include <stdbool.h>
#include "base/error.h"

enum ctr_log_format
{
  CTR_LOG_TEXT,
  CTR_LOG_JSON,
};

/* Opens the log file (append). path NULL: stderr only. */
int ctr_log_init (const char *path, enum ctr_log_format format, bool debug, ctr_error_t *err);
bool ctr_log_debug_enabled (void);
/* The --log file's fd (-1: none), for a process that closes the rest of its fds. */
int ctr_log_fd (void);
void ctr_log_debug (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void ctr_log_warning (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Writes an error line (stderr gets "ctr: msg"; the log file gets level=error). */
void ctr_log_error_msg (const char *msg);
/* Prints "ctr: <message>[: <strerror>]" to stderr (and the log) and frees the error. */
void ctr_error_print (ctr_error_t *err);

#endif
