/* stub: what ctr and ctr-stub (src/stub/ctr-stub.c) agree on. No libc here: the stub
   includes it too. */
#ifndef CTR_STUB_H
#define CTR_STUB_H

#include <stdint.h>

#define STUB_ARGV0_PREFIX "ctr-stub:"

enum
{
  STUB_FORK = 1,   /* fork; the parent sends STUB_SYNC_PID (status = the child's pid), exits */
  STUB_SETSID = 2, /* setsid() */
  STUB_CTTY = 4,   /* ioctl(0, TIOCSCTTY) */
  STUB_CAPS = 8,   /* argv[0] goes on with ":EFF:INH:LOWER" (hex masks): before executing the
                      program, effective = EFF & permitted, inheritable = INH, and the ambient
                      capabilities of LOWER are lowered (see ctr-stub.c) */
};

/* src/sync.h's wire format and the message types the stub sends */
struct stub_sync_header
{
  uint32_t type;
  int32_t status;
  uint32_t len;
};
#define STUB_SYNC_PID 5    /* SYNC_PID */
#define STUB_SYNC_ERRNO 13 /* SYNC_ERRNO: status = errno, payload = context */
#define STUB_SYNC_REFUSED                                                                          \
  14 /* SYNC_STUB_REFUSED: as SYNC_ERRNO, for EPERM or ENOSYS (the                                 \
          seccomp filter, most likely, refused the stub a syscall) */
#define STUB_MSG_MAX 2048

#endif
