/* migrate: `ctr migrate NAME DEST` moves a running system container to another ctr host, and
   `ctr migrate --listen ADDR` is the receiver there. The two speak frames over one stream
   (unix or TCP socket): a type byte and a big-endian 32-bit length, then the payload. */
#ifndef CTR_MIGRATE_H
#define CTR_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>
#include "base/error.h"
#include "runtime/container.h"

#define MIG_VERSION 1
#define MIG_MAX_FRAME (1u << 20)

enum mig_frame
{
  MIG_HELLO = 'H',   /* json: version, name, arch, networks */
  MIG_OK = 'K',      /* the last request went well (payload: nothing, or a note) */
  MIG_ERR = 'E',     /* the last request failed: the payload is the error line */
  MIG_BEGIN = 'B',   /* a tar stream follows: "rootfs" or "image DIR" */
  MIG_DATA = 'D',    /* a piece of the tar stream */
  MIG_END = 'Z',     /* the tar stream is complete */
  MIG_RESTORE = 'R', /* restore from the image "final" and say when it runs */
};

/* One frame; a received payload is NUL-terminated (free it). */
int mig_send (int fd, char type, const void *buf, size_t len, ctr_error_t *err);
int mig_recv (int fd, char *type, char **buf, size_t *len, ctr_error_t *err);
/* Waits for MIG_OK (its payload in *note, may be NULL); MIG_ERR is returned as the error. */
int mig_wait_ok (int fd, const char *what, char **note, ctr_error_t *err);

/* Whether dest reads "unix:PATH", "tcp:HOST:PORT" or "ssh://[USER@]HOST" (nothing is
   looked up). */
int mig_check_address (const char *dest, ctr_error_t *err);
/* A connected stream socket (O_CLOEXEC) to the receiver at dest; for ssh://, one end of a
   socket pair whose other end is `ssh HOST ctr migrate --listen stdio` (*child: its pid,
   to wait for once the socket is closed; else 0). */
int mig_connect (const char *dest, pid_t *child, ctr_error_t *err);
/* The listening socket for ADDR. A TCP wildcard address (0.0.0.0, ::) is refused unless
   insecure; a unix socket is made 0600 (and *unix_path set: the caller unlinks it). */
int mig_listen (const char *addr, bool insecure, char **unix_path, ctr_error_t *err);

/* Runs tar with args (NULL-terminated, without "tar") and sends its stdout as MIG_DATA
   frames, then MIG_END; *bytes: how much was sent. */
int mig_send_tar (int fd, char *const *args, uint64_t *bytes, ctr_error_t *err);
/* Receives MIG_DATA frames up to MIG_END into tar -x in dir (extra: more tar arguments). */
int mig_recv_tar (int fd, const char *dir, char *const *extra, ctr_error_t *err);

/* The two faces of the verb. */
struct mig_options
{
  int max_rounds; /* pre-dump rounds at most (0: stop and copy) */
  bool json;      /* --format json: one report on stdout once it runs there */
};
int system_migrate (const struct ctr_context *ctx, const char *name, const char *dest,
                    const struct mig_options *o, ctr_error_t *err);
int system_migrate_listen (const struct ctr_context *ctx, const char *addr, bool insecure,
                           ctr_error_t *err);

#endif
