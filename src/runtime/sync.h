/* sync: length-checked messages between ctr and its setup child (SOCK_SEQPACKET), with
   fd passing, credentials, and errors that cross the process boundary. */
#ifndef CTR_SYNC_H
#define CTR_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"

#define SYNC_MAX_PAYLOAD (128 * 1024)

enum sync_type
{
  SYNC_ERROR = 1,      /* child -> parent: status = errno, payload = message */
  SYNC_CONTINUE,       /* parent -> child: ids mapped, cgroup joined: go on */
  SYNC_USERNS,         /* child -> parent: user namespace unshared, write the id maps */
  SYNC_USERNS_DONE,    /* parent -> child */
  SYNC_PID,            /* child -> parent: the container process (sent with SCM_CREDENTIALS;
                          from ctr-stub, status = the pid of the child it forked) */
  SYNC_HOOKS,          /* child -> parent: run prestart/createRuntime hooks now */
  SYNC_HOOKS_DONE,     /* parent -> child: payload = state JSON for in-container hooks */
  SYNC_SECCOMP,        /* parent -> child: status = flags | notify<<31, payload = BPF */
  SYNC_PTY,            /* child -> parent: the pty master (SCM_RIGHTS) */
  SYNC_READY,          /* child -> parent: set up, waiting for start (or about to exec) */
  SYNC_LISTENER_STATE, /* parent -> child: containerProcessState for linux.seccomp.listenerPath */
  SYNC_NS_FD,          /* child -> parent: status = CLONE_NEWNET or CLONE_NEWUSER, its ns fd */
  SYNC_ERRNO,          /* child -> parent: status = errno, payload = context (from ctr-stub,
                          which has no strerror: the receiver appends it) */
  SYNC_STUB_REFUSED,   /* child -> parent: as SYNC_ERRNO, but ctr-stub could not run or was
                          refused a syscall with EPERM/ENOSYS (seccomp): not turned into an
                          error by sync_recv, the caller may retry without the stub */
};

struct sync_msg
{
  uint32_t type;
  int32_t status;
  uint32_t len;
  char *data; /* NUL-terminated, malloc'd, NULL when len == 0 */
  int fd;     /* received fd or -1 */
  pid_t pid;  /* pid from SCM_CREDENTIALS or 0 */
};

int sync_socketpair (int fds[2], ctr_error_t *err);
int sync_send (int sock, enum sync_type type, int32_t status, const void *data, size_t len, int fd,
               ctr_error_t *err);
/* Sends SCM_CREDENTIALS with the caller's pid (translated by the kernel for the receiver). */
int sync_send_pid (int sock, ctr_error_t *err);
/* Sends *err to the other side (child -> parent). */
void sync_send_error (int sock, ctr_error_t *err);
/* Receives one message. A SYNC_ERROR is turned into *err (returns -1). EOF is an error
   "setup process exited unexpectedly" when expect != 0; with expect == 0 it returns 0
   with msg->type == 0. If expect != 0, another type is an error. */
int sync_recv (int sock, enum sync_type expect, struct sync_msg *msg, ctr_error_t *err);
void sync_msg_release (struct sync_msg *msg);

#endif
