/* netlink: the rtnetlink socket, request/ack with extended-ack errors, links, addresses, routes. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <linux/if_ether.h>
#include <libmnl/libmnl.h>

#include "netlink/netlink.h"
#include "base/log.h"
#include "base/util.h"

struct netlink
{
  struct mnl_socket *sock;
  unsigned int portid;
  unsigned int seq;
  char buf[16384]; /* requests and replies; a dump reply is read in several parts */
};

static struct netlink *
netlink_from_socket (struct mnl_socket *sock, ctr_error_t *err)
{
  struct netlink *nl;
  int one = 1;

  /* extended acks carry the kernel's message; capped acks keep replies small */
  (void)mnl_socket_setsockopt (sock, NETLINK_EXT_ACK, &one, sizeof (one));
  (void)mnl_socket_setsockopt (sock, NETLINK_CAP_ACK, &one, sizeof (one));
  if (mnl_socket_bind (sock, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      int saved = errno;
      mnl_socket_close (sock);
      ctr_error (err, saved, "netlink: bind");
      return NULL;
    }
  nl = xzalloc (sizeof (*nl));
  nl->sock = sock;
  nl->portid = mnl_socket_get_portid (sock);
  nl->seq = (unsigned int)now_ns ();
  return nl;
}

struct netlink *
netlink_open (ctr_error_t *err)
{
  struct mnl_socket *sock = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);

  if (sock == NULL)
    {
      ctr_error (err, errno, "netlink: open socket");
      return NULL;
    }
  return netlink_from_socket (sock, err);
}

struct netlink *
netlink_open_in_netns (int netns_fd, ctr_error_t *err)
{
  cleanup_close int self = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  struct mnl_socket *sock;
  int saved;

  if (self < 0)
    {
      ctr_error (err, errno, "open `/proc/thread-self/ns/net`");
      return NULL;
    }
  if (setns (netns_fd, CLONE_NEWNET) < 0)
    {
      ctr_error (err, errno, "netlink: enter network namespace (fd %d)", netns_fd);
      return NULL;
    }
  sock = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);
  saved = errno;
  /* staying in the wrong namespace would silently misconfigure the host: no way on */
  if (setns (self, CLONE_NEWNET) < 0)
    abort ();
  if (sock == NULL)
    {
      ctr_error (err, saved, "netlink: open socket in network namespace");
      return NULL;
    }
  return netlink_from_socket (sock, err);
}

void
netlink_close (struct netlink *nl)
{
  if (nl == NULL)
    return;
  mnl_socket_close (nl->sock);
  free (nl);
}

void
cleanup_netlinkp (struct netlink **nl)
{
  netlink_close (*nl);
}

/* The kernel's extended-ack message (NLMSGERR_ATTR_MSG) of an error reply, or NULL. */
static const char *
ext_ack_message (const struct nlmsghdr *nlh)
{
  const struct nlmsgerr *e = mnl_nlmsg_get_payload (nlh);
  size_t off = sizeof (struct nlmsgerr);
  const struct nlattr *attr;

  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
    return NULL;
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
    off += e->msg.nlmsg_len - sizeof (struct nlmsghdr);
  if (MNL_ALIGN (off) + MNL_NLMSG_HDRLEN > nlh->nlmsg_len)
    return NULL;
  mnl_attr_for_each (attr, nlh, MNL_ALIGN (off))
  {
    if (mnl_attr_get_type (attr) == NLMSGERR_ATTR_MSG
        && mnl_attr_validate (attr, MNL_TYPE_NUL_STRING) >= 0)
      return mnl_attr_get_str (attr);
  }
  return NULL;
}

typedef int (*reply_fn) (const struct nlmsghdr *nlh, void *data);

/* Handles one reply message: 1 done (ack or end of dump), 0 go on, -1 error filled. */
static int
handle_reply (const struct nlmsghdr *nlh, reply_fn fn, void *data, const char *what,
              ctr_error_t *err)
{
  if (nlh->nlmsg_type == NLMSG_DONE)
    return 1;
  if (nlh->nlmsg_type == NLMSG_ERROR)
    {
      const struct nlmsgerr *e;
      const char *msg;

      if (nlh->nlmsg_len < mnl_nlmsg_size (sizeof (struct nlmsgerr)))
        return ctr_error (err, EBADMSG, "netlink: %s: short error reply", what);
      e = mnl_nlmsg_get_payload (nlh);
      if (e->error == 0)
        return 1;
      msg = ext_ack_message (nlh);
      if (msg && *msg)
        return ctr_error (err, -e->error, "netlink: %s (kernel: %s)", what, msg);
      return ctr_error (err, -e->error, "netlink: %s", what);
    }
  if (fn && fn (nlh, data) < 0)
    return -1;
  return 0;
}

/* Sends the request in nl->buf and reads replies until the ack (or the end of a dump). */
static int
transact (struct netlink *nl, struct nlmsghdr *req, reply_fn fn, void *data, const char *what,
          ctr_error_t *err)
{
  unsigned int seq = req->nlmsg_seq = ++nl->seq;

  req->nlmsg_flags |= NLM_F_ACK;
  if (mnl_socket_sendto (nl->sock, req, req->nlmsg_len) < 0)
    return ctr_error (err, errno, "netlink: %s: send", what);
  for (;;)
    {
      ssize_t n = mnl_socket_recvfrom (nl->sock, nl->buf, sizeof (nl->buf));
      const struct nlmsghdr *nlh = (const struct nlmsghdr *)nl->buf;
      int len = (int)n;

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return ctr_error (err, errno, "netlink: %s: receive", what);
        }
      for (; mnl_nlmsg_ok (nlh, len); nlh = mnl_nlmsg_next (nlh, &len))
        {
          int r;
          if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != nl->portid)
            continue; /* stale reply of an earlier, abandoned request */
          r = handle_reply (nlh, fn, data, what, err);
          if (r != 0)
            return r < 0 ? -1 : 0;
        }
      if (len != 0)
        return ctr_error (err, EBADMSG, "netlink: %s: truncated reply", what);
    }
}

static struct nlmsghdr *
link_request (struct netlink *nl, int type, int flags, int index, struct ifinfomsg **ifm_out)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (nl->buf);
  struct ifinfomsg *ifm;

  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  ifm = mnl_nlmsg_put_extra_header (nlh, sizeof (*ifm));
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = index;
  if (ifm_out)
    *ifm_out = ifm;
  return nlh;
}

static int
check_ifname (const char *name, ctr_error_t *err)
{
  if (name == NULL || *name == '\0' || strlen (name) >= NETLINK_IFNAME_MAX || strchr (name, '/')
      || strchr (name, ':') || strpbrk (name, " \t\n"))
    return ctr_error (err, EINVAL, "netlink: invalid interface name `%s`", name ? name : "(null)");
  return 0;
}

/* IFLA_LINKINFO's kind, nested one level, and a VLAN's id (IFLA_INFO_DATA, one more). */
static void
parse_linkinfo (const struct nlattr *linkinfo, struct netlink_link_info *out)
{
  const struct nlattr *attr, *data = NULL, *d;

  mnl_attr_for_each_nested (attr, linkinfo)
  {
    if (mnl_attr_get_type (attr) == IFLA_INFO_KIND
        && mnl_attr_validate (attr, MNL_TYPE_STRING) >= 0)
      snprintf (out->kind, sizeof (out->kind), "%.*s", (int)mnl_attr_get_payload_len (attr),
                (const char *)mnl_attr_get_payload (attr));
    else if (mnl_attr_get_type (attr) == IFLA_INFO_DATA
             && mnl_attr_validate (attr, MNL_TYPE_NESTED) >= 0)
      data = attr;
  }
  if (data == NULL || strcmp (out->kind, "vlan") != 0)
    return;
  mnl_attr_for_each_nested (d, data)
  {
    if (mnl_attr_get_type (d) == IFLA_VLAN_ID && mnl_attr_validate (d, MNL_TYPE_U16) >= 0)
      out->vlan_id = mnl_attr_get_u16 (d);
  }
}

static int
parse_link_attr (const struct nlattr *attr, void *data)
{
  struct netlink_link_info *out = data;
  int type = mnl_attr_type_valid (attr, IFLA_MAX) < 0 ? -1 : mnl_attr_get_type (attr);

  switch (type)
    {
    case IFLA_IFNAME:
      if (mnl_attr_validate (attr, MNL_TYPE_NUL_STRING) >= 0)
        snprintf (out->name, sizeof (out->name), "%s", mnl_attr_get_str (attr));
      break;
    case IFLA_IFALIAS:
      if (mnl_attr_validate (attr, MNL_TYPE_STRING) >= 0)
        snprintf (out->alias, sizeof (out->alias), "%.*s", (int)mnl_attr_get_payload_len (attr),
                  (const char *)mnl_attr_get_payload (attr));
      break;
    case IFLA_MTU:
      if (mnl_attr_validate (attr, MNL_TYPE_U32) >= 0)
        out->mtu = mnl_attr_get_u32 (attr);
      break;
    case IFLA_MASTER:
      if (mnl_attr_validate (attr, MNL_TYPE_U32) >= 0)
        out->master = (int)mnl_attr_get_u32 (attr);
      break;
    case IFLA_LINK:
      if (mnl_attr_validate (attr, MNL_TYPE_U32) >= 0)
        out->link = (int)mnl_attr_get_u32 (attr);
      break;
    case IFLA_ADDRESS:
      if (mnl_attr_get_payload_len (attr) == 6)
        memcpy (out->mac, mnl_attr_get_payload (attr), 6);
      break;
    case IFLA_LINKINFO:
      if (mnl_attr_validate (attr, MNL_TYPE_NESTED) >= 0)
        parse_linkinfo (attr, out);
      break;
    default:
      break;
    }
  return MNL_CB_OK;
}

static int
link_reply (const struct nlmsghdr *nlh, void *data)
{
  struct netlink_link_info *out = data;
  const struct ifinfomsg *ifm;

  if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size (sizeof (*ifm)))
    return 0;
  ifm = mnl_nlmsg_get_payload (nlh);
  out->index = ifm->ifi_index;
  out->flags = ifm->ifi_flags;
  mnl_attr_parse (nlh, sizeof (*ifm), parse_link_attr, out);
  return 0;
}

/* Hands a local error to the caller's (who may pass NULL); returns -1. */
static int
pass_error (ctr_error_t *err, ctr_error_t *e)
{
  if (err)
    {
      ctr_error_free (err);
      *err = steal_ptr (*e);
    }
  ctr_error_free (e);
  return -1;
}

int
netlink_link_get (struct netlink *nl, const char *name, struct netlink_link_info *out,
                  ctr_error_t *err)
{
  ctr_error_t e = NULL;
  struct nlmsghdr *nlh;
  cleanup_free char *what = NULL;

  if (check_ifname (name, err) < 0)
    return -1;
  memset (out, 0, sizeof (*out));
  nlh = link_request (nl, RTM_GETLINK, 0, 0, NULL);
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  mnl_attr_put_u32 (nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  what = xasprintf ("get link \"%s\"", name);
  if (transact (nl, nlh, link_reply, out, what, &e) < 0)
    {
      if (e->status == ENODEV)
        {
          ctr_error_free (&e);
          return 0;
        }
      return pass_error (err, &e);
    }
  return out->index > 0 ? 1 : 0;
}

int
netlink_link_get_by_index (struct netlink *nl, int index, struct netlink_link_info *out,
                           ctr_error_t *err)
{
  ctr_error_t e = NULL;
  struct nlmsghdr *nlh;

  memset (out, 0, sizeof (*out));
  nlh = link_request (nl, RTM_GETLINK, 0, index, NULL);
  mnl_attr_put_u32 (nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  if (transact (nl, nlh, link_reply, out, "get link by index", &e) < 0)
    {
      if (e->status == ENODEV)
        {
          ctr_error_free (&e);
          return 0;
        }
      return pass_error (err, &e);
    }
  return out->index > 0 ? 1 : 0;
}

int
netlink_link_index (struct netlink *nl, const char *name, ctr_error_t *err)
{
  struct netlink_link_info info;
  int r = netlink_link_get (nl, name, &info, err);

  return r <= 0 ? r : info.index;
}

/* The ifinfomsg + attributes of the peer inside VETH_INFO_PEER. */
static int
put_veth_peer (struct nlmsghdr *nlh, const struct netlink_veth *v, ctr_error_t *err)
{
  struct nlattr *linkinfo = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  struct nlattr *data, *peer;
  struct ifinfomsg *pifm;

  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "veth");
  data = mnl_attr_nest_start (nlh, IFLA_INFO_DATA);
  peer = mnl_attr_nest_start (nlh, VETH_INFO_PEER);
  pifm = mnl_nlmsg_put_extra_header (nlh, sizeof (*pifm));
  memset (pifm, 0, sizeof (*pifm));
  pifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, v->peer_name);
  if (v->peer_netns_fd >= 0)
    mnl_attr_put_u32 (nlh, IFLA_NET_NS_FD, (uint32_t)v->peer_netns_fd);
  else if (v->peer_netns_pid > 0)
    mnl_attr_put_u32 (nlh, IFLA_NET_NS_PID, (uint32_t)v->peer_netns_pid);
  if (v->mtu)
    mnl_attr_put_u32 (nlh, IFLA_MTU, v->mtu);
  if (v->peer_mac)
    mnl_attr_put (nlh, IFLA_ADDRESS, 6, v->peer_mac);
  mnl_attr_nest_end (nlh, peer);
  mnl_attr_nest_end (nlh, data);
  mnl_attr_nest_end (nlh, linkinfo);
  return 0;
}

int
netlink_veth_create (struct netlink *nl, const struct netlink_veth *v, ctr_error_t *err)
{
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh;
  cleanup_free char *what = NULL;

  if (check_ifname (v->name, err) < 0 || check_ifname (v->peer_name, err) < 0)
    return -1;
  nlh = link_request (nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, &ifm);
  if (v->up)
    {
      ifm->ifi_flags = IFF_UP;
      ifm->ifi_change = IFF_UP;
    }
  mnl_attr_put_strz (nlh, IFLA_IFNAME, v->name);
  if (v->mtu)
    mnl_attr_put_u32 (nlh, IFLA_MTU, v->mtu);
  if (v->master > 0)
    mnl_attr_put_u32 (nlh, IFLA_MASTER, (uint32_t)v->master);
  put_veth_peer (nlh, v, err);
  what = xasprintf ("create veth \"%s\"", v->name);
  return transact (nl, nlh, NULL, NULL, what, err);
}

/* The alias (IFLA_IFALIAS) of a link just made, when there is one: only honoured on an
   existing link. what names the request in errors. */
static int
set_alias (struct netlink *nl, const char *name, const char *alias, const char *what,
           ctr_error_t *err)
{
  struct nlmsghdr *nlh;
  if (alias == NULL)
    return 0;
  nlh = link_request (nl, RTM_NEWLINK, 0, 0, NULL);
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  mnl_attr_put_strz (nlh, IFLA_IFALIAS, alias);
  return transact (nl, nlh, NULL, NULL, what, err);
}

int
netlink_bridge_create (struct netlink *nl, const char *name, unsigned int mtu, const char *alias,
                       ctr_error_t *err)
{
  struct nlmsghdr *nlh;
  struct nlattr *linkinfo;
  cleanup_free char *what = NULL;

  if (check_ifname (name, err) < 0)
    return -1;
  nlh = link_request (nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, NULL);
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  if (mtu)
    mnl_attr_put_u32 (nlh, IFLA_MTU, mtu);
  linkinfo = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end (nlh, linkinfo);
  what = xasprintf ("create bridge \"%s\"", name);
  if (transact (nl, nlh, NULL, NULL, what, err) < 0)
    return -1;
  return set_alias (nl, name, alias, what, err);
}

int
netlink_child_create (struct netlink *nl, const struct netlink_child *c, ctr_error_t *err)
{
  struct nlmsghdr *nlh;
  struct nlattr *linkinfo, *data;
  bool macvlan = strcmp (c->kind, "macvlan") == 0;
  cleanup_free char *what = NULL;

  if (check_ifname (c->name, err) < 0)
    return -1;
  if (!macvlan && strcmp (c->kind, "ipvlan") != 0)
    return ctr_error (err, EINVAL, "netlink: unknown child kind `%s`", c->kind);
  nlh = link_request (nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, NULL);
  mnl_attr_put_strz (nlh, IFLA_IFNAME, c->name);
  mnl_attr_put_u32 (nlh, IFLA_LINK, (uint32_t)c->link);
  if (c->netns_fd >= 0)
    mnl_attr_put_u32 (nlh, IFLA_NET_NS_FD, (uint32_t)c->netns_fd);
  if (c->mtu)
    mnl_attr_put_u32 (nlh, IFLA_MTU, c->mtu);
  if (c->mac && macvlan)
    mnl_attr_put (nlh, IFLA_ADDRESS, 6, c->mac);
  linkinfo = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, c->kind);
  data = mnl_attr_nest_start (nlh, IFLA_INFO_DATA);
  if (macvlan)
    mnl_attr_put_u32 (nlh, IFLA_MACVLAN_MODE, c->mode);
  else
    mnl_attr_put_u16 (nlh, IFLA_IPVLAN_MODE, (uint16_t)c->mode);
  mnl_attr_nest_end (nlh, data);
  mnl_attr_nest_end (nlh, linkinfo);
  what = xasprintf ("create %s \"%s\" on link %d", c->kind, c->name, c->link);
  return transact (nl, nlh, NULL, NULL, what, err);
}

int
netlink_vlan_create (struct netlink *nl, const char *name, int link, unsigned int id,
                     unsigned int mtu, const char *alias, ctr_error_t *err)
{
  struct nlmsghdr *nlh;
  struct nlattr *linkinfo, *data;
  cleanup_free char *what = NULL;

  if (check_ifname (name, err) < 0)
    return -1;
  if (id < 1 || id > 4094)
    return ctr_error (err, EINVAL, "netlink: vlan id %u out of range", id);
  nlh = link_request (nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, NULL);
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  mnl_attr_put_u32 (nlh, IFLA_LINK, (uint32_t)link);
  if (mtu)
    mnl_attr_put_u32 (nlh, IFLA_MTU, mtu);
  linkinfo = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "vlan");
  data = mnl_attr_nest_start (nlh, IFLA_INFO_DATA);
  mnl_attr_put_u16 (nlh, IFLA_VLAN_ID, (uint16_t)id);
  mnl_attr_nest_end (nlh, data);
  mnl_attr_nest_end (nlh, linkinfo);
  what = xasprintf ("create vlan \"%s\" (id %u on link %d)", name, id, link);
  if (transact (nl, nlh, NULL, NULL, what, err) < 0)
    return -1;
  return set_alias (nl, name, alias, what, err);
}

int
netlink_link_move (struct netlink *nl, int index, int netns_fd, const char *new_name,
                   ctr_error_t *err)
{
  struct nlmsghdr *nlh = link_request (nl, RTM_NEWLINK, 0, index, NULL);
  cleanup_free char *what = NULL;

  if (new_name && check_ifname (new_name, err) < 0)
    return -1;
  mnl_attr_put_u32 (nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
  if (new_name)
    mnl_attr_put_strz (nlh, IFLA_IFNAME, new_name);
  what = xasprintf ("move link %d to another namespace%s%s", index, new_name ? " as " : "",
                    new_name ? new_name : "");
  return transact (nl, nlh, NULL, NULL, what, err);
}

int
netlink_link_del (struct netlink *nl, const char *name, ctr_error_t *err)
{
  ctr_error_t e = NULL;
  struct nlmsghdr *nlh;
  cleanup_free char *what = NULL;

  if (check_ifname (name, err) < 0)
    return -1;
  nlh = link_request (nl, RTM_DELLINK, 0, 0, NULL);
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  what = xasprintf ("delete link \"%s\"", name);
  if (transact (nl, nlh, NULL, NULL, what, &e) < 0)
    {
      if (e->status == ENODEV)
        {
          ctr_error_free (&e);
          return 0;
        }
      return pass_error (err, &e);
    }
  return 1;
}

/* An RTM_NEWLINK on an existing index with one attribute (or only flags when type < 0). */
static int
link_set (struct netlink *nl, int index, int type, const void *val, size_t len, unsigned int flags,
          unsigned int change, const char *what, ctr_error_t *err)
{
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = link_request (nl, RTM_NEWLINK, 0, index, &ifm);
  cleanup_free char *msg = NULL;

  ifm->ifi_flags = flags;
  ifm->ifi_change = change;
  if (type >= 0)
    mnl_attr_put (nlh, (uint16_t)type, len, val);
  msg = xasprintf ("%s (link %d)", what, index);
  return transact (nl, nlh, NULL, NULL, msg, err);
}

int
netlink_link_set_up (struct netlink *nl, int index, bool up, ctr_error_t *err)
{
  return link_set (nl, index, -1, NULL, 0, up ? IFF_UP : 0, IFF_UP, up ? "set up" : "set down",
                   err);
}

int
netlink_link_set_master (struct netlink *nl, int index, int master, ctr_error_t *err)
{
  uint32_t m = (uint32_t)master;
  return link_set (nl, index, IFLA_MASTER, &m, sizeof (m), 0, 0, "set master", err);
}

int
netlink_link_set_mtu (struct netlink *nl, int index, unsigned int mtu, ctr_error_t *err)
{
  uint32_t m = mtu;
  return link_set (nl, index, IFLA_MTU, &m, sizeof (m), 0, 0, "set mtu", err);
}

int
netlink_link_set_mac (struct netlink *nl, int index, const uint8_t mac[6], ctr_error_t *err)
{
  return link_set (nl, index, IFLA_ADDRESS, mac, 6, 0, 0, "set address", err);
}

int
netlink_link_rename (struct netlink *nl, int index, const char *name, ctr_error_t *err)
{
  if (check_ifname (name, err) < 0)
    return -1;
  return link_set (nl, index, IFLA_IFNAME, name, strlen (name) + 1, 0, 0, "rename", err);
}

int
netlink_link_set_netns_fd (struct netlink *nl, int index, int netns_fd, ctr_error_t *err)
{
  uint32_t fd = (uint32_t)netns_fd;
  return link_set (nl, index, IFLA_NET_NS_FD, &fd, sizeof (fd), 0, 0, "move to netns", err);
}

int
netlink_link_set_netns_pid (struct netlink *nl, int index, pid_t pid, ctr_error_t *err)
{
  uint32_t p = (uint32_t)pid;
  return link_set (nl, index, IFLA_NET_NS_PID, &p, sizeof (p), 0, 0, "move to netns", err);
}

static size_t
family_len (int family)
{
  return family == AF_INET6 ? 16 : 4;
}

int
netlink_addr_add (struct netlink *nl, int index, int family, const void *addr,
                  unsigned int prefix_len, ctr_error_t *err)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (nl->buf);
  struct ifaddrmsg *ifa;
  char text[INET6_ADDRSTRLEN] = "";
  cleanup_free char *what = NULL;

  if ((family != AF_INET && family != AF_INET6) || prefix_len > family_len (family) * 8)
    return ctr_error (err, EINVAL, "netlink: add address: bad family or prefix length %u",
                      prefix_len);
  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
  ifa = mnl_nlmsg_put_extra_header (nlh, sizeof (*ifa));
  ifa->ifa_family = (uint8_t)family;
  ifa->ifa_prefixlen = (uint8_t)prefix_len;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (uint32_t)index;
  mnl_attr_put (nlh, IFA_LOCAL, family_len (family), addr);
  mnl_attr_put (nlh, IFA_ADDRESS, family_len (family), addr);
  if (family == AF_INET6)
    {
      ifa->ifa_flags = IFA_F_NODAD;
      mnl_attr_put_u32 (nlh, IFA_FLAGS, IFA_F_NODAD);
    }
  inet_ntop (family, addr, text, sizeof (text));
  what = xasprintf ("add address %s/%u", text, prefix_len);
  return transact (nl, nlh, NULL, NULL, what, err);
}

int
netlink_route_add_default (struct netlink *nl, int family, const void *gw, int index,
                           ctr_error_t *err)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (nl->buf);
  struct rtmsg *rtm;
  char text[INET6_ADDRSTRLEN] = "";
  cleanup_free char *what = NULL;

  nlh->nlmsg_type = RTM_NEWROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
  rtm = mnl_nlmsg_put_extra_header (nlh, sizeof (*rtm));
  rtm->rtm_family = (uint8_t)family;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put (nlh, RTA_GATEWAY, family_len (family), gw);
  mnl_attr_put_u32 (nlh, RTA_OIF, (uint32_t)index);
  inet_ntop (family, gw, text, sizeof (text));
  what = xasprintf ("add default route via %s", text);
  return transact (nl, nlh, NULL, NULL, what, err);
}

struct route_walk
{
  void (*fn) (const struct netlink_route *r, void *data);
  void *data;
};

static int
parse_route_attr (const struct nlattr *attr, void *data)
{
  struct netlink_route *r = data;
  int type = mnl_attr_type_valid (attr, RTA_MAX) < 0 ? -1 : mnl_attr_get_type (attr);

  if (type == RTA_DST && mnl_attr_get_payload_len (attr) == family_len (r->family))
    memcpy (r->dst, mnl_attr_get_payload (attr), family_len (r->family));
  else if (type == RTA_OIF && mnl_attr_validate (attr, MNL_TYPE_U32) >= 0)
    r->oif = (int)mnl_attr_get_u32 (attr);
  else if (type == RTA_TABLE && mnl_attr_validate (attr, MNL_TYPE_U32) >= 0)
    r->table = mnl_attr_get_u32 (attr);
  return MNL_CB_OK;
}

static int
route_reply (const struct nlmsghdr *nlh, void *data)
{
  struct route_walk *walk = data;
  const struct rtmsg *rtm;
  struct netlink_route r;

  if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size (sizeof (*rtm)))
    return 0;
  rtm = mnl_nlmsg_get_payload (nlh);
  if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
    return 0;
  memset (&r, 0, sizeof (r));
  r.family = rtm->rtm_family;
  r.dst_len = rtm->rtm_dst_len;
  r.table = rtm->rtm_table;
  mnl_attr_parse (nlh, sizeof (*rtm), parse_route_attr, &r);
  if (r.table != RT_TABLE_MAIN)
    return 0;
  walk->fn (&r, walk->data);
  return 0;
}

int
netlink_route_foreach (struct netlink *nl, int family,
                       void (*fn) (const struct netlink_route *r, void *data), void *data,
                       ctr_error_t *err)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (nl->buf);
  struct rtmsg *rtm;
  struct route_walk walk = { fn, data };

  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  rtm = mnl_nlmsg_put_extra_header (nlh, sizeof (*rtm));
  rtm->rtm_family = (uint8_t)family;
  return transact (nl, nlh, route_reply, &walk, "list routes", err);
}
