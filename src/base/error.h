/* error: the error object that travels up the call stack (and from the setup child). */
#ifndef CTR_ERROR_H
#define CTR_ERROR_H

struct ctr_error_s
{
  int status; /* errno value, 0 when the error has no system cause */
  char *msg;  /* "context: context: message" */
};
typedef struct ctr_error_s *ctr_error_t;

/* Fills *err (replacing any earlier error) and returns -1. errnum may be 0. */
int ctr_error (ctr_error_t *err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Prefixes "<context>: " to the message in *err and returns -1. No-op prefix if *err is NULL. */
int ctr_error_wrap (ctr_error_t *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Builds an error from a status and a full message (used for errors received from the child). */
int ctr_error_set_raw (ctr_error_t *err, int status, const char *msg);
/* "message: strerror" into a new malloc'd string. */
char *ctr_error_string (const ctr_error_t err);
void ctr_error_free (ctr_error_t *err);

#define cleanup_error __attribute__ ((cleanup (ctr_error_free)))

#endif
