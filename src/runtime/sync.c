/* sync: framed parent <-> child messages over a SOCK_SEQPACKET pair, errors included. */
#include <config.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "runtime/sync.h"
#include "base/util.h"
#include "stub/stub.h"

struct sync_header
{
  uint32_t type;
  int32_t status;
  uint32_t len;
};

/* ctr-stub (src/stub/) reports on the same socket in the same frames */
_Static_assert(STUB_SYNC_PID == SYNC_PID && STUB_SYNC_ERRNO == SYNC_ERRNO,
               "ctr-stub speaks the sync protocol");
_Static_assert(sizeof (struct stub_sync_header) == sizeof (struct sync_header),
               "ctr-stub's frame header is sync's");

int
sync_socketpair (int fds[2], ctr_error_t *err)
{
  int one = 1;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return ctr_error (err, errno, "socketpair");
  /* the parent end learns the real pid of a grandchild from SCM_CREDENTIALS */
  if (setsockopt (fds[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0)
    return ctr_error (err, errno, "setsockopt SO_PASSCRED");
  return 0;
}

/* The other side closed: it usually left its error in the socket before dying. */
static int
sync_peer_gone (int sock, int errnum, ctr_error_t *err)
{
  struct sync_header h;
  cleanup_free char *buf = xmalloc (sizeof h + SYNC_MAX_PAYLOAD + 1);
  ssize_t r = recv (sock, buf, sizeof h + SYNC_MAX_PAYLOAD, MSG_DONTWAIT);

  if (r >= (ssize_t)sizeof h)
    {
      memcpy (&h, buf, sizeof h);
      if ((h.type == SYNC_ERROR || h.type == SYNC_ERRNO || h.type == SYNC_STUB_REFUSED)
          && h.len == (size_t)r - sizeof h)
        {
          buf[r] = '\0';
          if (h.type != SYNC_ERROR)
            return ctr_error (err, h.status, "%s", buf + sizeof h);
          return ctr_error_set_raw (err, h.status, buf + sizeof h);
        }
    }
  return ctr_error (err, errnum, "setup process exited unexpectedly");
}

static int
sync_sendmsg (int sock, const struct sync_header *h, const void *data, int fd, bool creds,
              ctr_error_t *err)
{
  struct iovec iov[2] = { { (void *)h, sizeof *h }, { (void *)data, h->len } };
  union
  {
    char buf[CMSG_SPACE (sizeof (int)) + CMSG_SPACE (sizeof (struct ucred))];
    struct cmsghdr align;
  } ctl;
  struct msghdr mh = { .msg_iov = iov, .msg_iovlen = h->len ? 2 : 1 };
  struct cmsghdr *c;
  size_t ctl_len = 0;

  memset (&ctl, 0, sizeof ctl);
  mh.msg_control = ctl.buf;
  mh.msg_controllen = sizeof ctl.buf;
  c = CMSG_FIRSTHDR (&mh);
  if (fd >= 0)
    {
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &fd, sizeof (int));
      ctl_len += CMSG_SPACE (sizeof (int));
      c = CMSG_NXTHDR (&mh, c);
    }
  if (creds)
    {
      struct ucred uc = { .pid = getpid (), .uid = getuid (), .gid = getgid () };
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_CREDENTIALS;
      c->cmsg_len = CMSG_LEN (sizeof uc);
      memcpy (CMSG_DATA (c), &uc, sizeof uc);
      ctl_len += CMSG_SPACE (sizeof uc);
    }
  mh.msg_controllen = ctl_len;
  if (ctl_len == 0)
    mh.msg_control = NULL;
  for (;;)
    {
      if (sendmsg (sock, &mh, MSG_NOSIGNAL) >= 0)
        return 0;
      if (errno == EPIPE || errno == ECONNRESET)
        return sync_peer_gone (sock, errno, err);
      if (errno != EINTR)
        return ctr_error (err, errno, "send to setup process");
    }
}

int
sync_send (int sock, enum sync_type type, int32_t status, const void *data, size_t len, int fd,
           ctr_error_t *err)
{
  struct sync_header h = { type, status, (uint32_t)len };
  if (len > SYNC_MAX_PAYLOAD)
    return ctr_error (err, EMSGSIZE, "sync message of %zu bytes", len);
  return sync_sendmsg (sock, &h, data, fd, false, err);
}

int
sync_send_pid (int sock, ctr_error_t *err)
{
  struct sync_header h = { SYNC_PID, 0, 0 };
  return sync_sendmsg (sock, &h, NULL, -1, true, err);
}

void
sync_send_error (int sock, ctr_error_t *err)
{
  const char *msg = (err && *err) ? (*err)->msg : "unknown error";
  int status = (err && *err) ? (*err)->status : 0;
  size_t len = strlen (msg);
  if (len > SYNC_MAX_PAYLOAD)
    len = SYNC_MAX_PAYLOAD;
  sync_send (sock, SYNC_ERROR, status, msg, len, -1, NULL);
}

static void
sync_take_cmsgs (struct msghdr *mh, struct sync_msg *msg)
{
  struct cmsghdr *c;
  for (c = CMSG_FIRSTHDR (mh); c; c = CMSG_NXTHDR (mh, c))
    {
      if (c->cmsg_level != SOL_SOCKET)
        continue;
      if (c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN (sizeof (int)))
        {
          size_t n = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int), i;
          int *fds = (int *)CMSG_DATA (c);
          for (i = 0; i < n; i++)
            {
              if (msg->fd < 0)
                msg->fd = fds[i];
              else
                close (fds[i]); /* only one fd per message is expected */
            }
        }
      else if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN (sizeof (struct ucred)))
        {
          struct ucred uc;
          memcpy (&uc, CMSG_DATA (c), sizeof uc);
          msg->pid = uc.pid;
        }
    }
}

int
sync_recv (int sock, enum sync_type expect, struct sync_msg *msg, ctr_error_t *err)
{
  struct sync_header h;
  cleanup_free char *buf = xmalloc (sizeof h + SYNC_MAX_PAYLOAD + 1);
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * 4) + CMSG_SPACE (sizeof (struct ucred))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = { buf, sizeof h + SYNC_MAX_PAYLOAD };
  struct msghdr mh = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf
  };
  ssize_t r;
  int resets = 0;

  memset (msg, 0, sizeof *msg);
  msg->fd = -1;
  do
    r = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC);
  /* a peer that exits with messages it never read leaves ECONNRESET on our socket, and the
     kernel reports that before what the peer sent last (its error, say): reading it
     clears it, so read again for the message */
  while (r < 0 && (errno == EINTR || (errno == ECONNRESET && resets++ == 0)));
  if (r < 0)
    return ctr_error (err, errno, "receive from setup process");
  sync_take_cmsgs (&mh, msg);
  if (r == 0)
    {
      /* EOF: the child exec'd (its end is O_CLOEXEC) or died; callers that accept
         any message (expect == 0) tell the two apart themselves */
      if (expect == 0)
        return 0;
      return ctr_error (err, 0, "setup process exited unexpectedly");
    }
  if ((size_t)r < sizeof h || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
    {
      sync_msg_release (msg);
      return ctr_error (err, EPROTO, "malformed message from setup process");
    }
  memcpy (&h, buf, sizeof h);
  if (h.len != (size_t)r - sizeof h || h.len > SYNC_MAX_PAYLOAD)
    {
      sync_msg_release (msg);
      return ctr_error (err, EPROTO, "message length %u does not match %zd bytes received", h.len,
                        r);
    }
  msg->type = h.type;
  msg->status = h.status;
  msg->len = h.len;
  if (h.len)
    {
      msg->data = xmalloc (h.len + 1);
      memcpy (msg->data, buf + sizeof h, h.len);
      msg->data[h.len] = '\0';
    }
  if (h.type == SYNC_ERROR)
    {
      ctr_error_set_raw (err, h.status, msg->data ? msg->data : "error in setup process");
      sync_msg_release (msg);
      return -1;
    }
  if (h.type == SYNC_ERRNO)
    {
      ctr_error (err, h.status, "%s", msg->data ? msg->data : "error in setup process");
      sync_msg_release (msg);
      return -1;
    }
  if (expect && h.type != (uint32_t)expect)
    {
      sync_msg_release (msg);
      return ctr_error (err, EPROTO, "unexpected message %u from setup process (wanted %u)", h.type,
                        (unsigned)expect);
    }
  return 0;
}

void
sync_msg_release (struct sync_msg *msg)
{
  free (msg->data);
  msg->data = NULL;
  if (msg->fd >= 0)
    close (msg->fd);
  msg->fd = -1;
}
