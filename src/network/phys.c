/* network/phys: `--net phys:IFNAME`, a host interface lent to a container and given back. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <net/if.h>

#include "network/network-internal.h"
#include "netlink/netlink.h"
#include "base/util.h"

#define PHYS_PREFIX "phys:"
#define RECORD_MAX 4096

/* What a lent interface's record (<run>/phys/IFNAME) says; written before it moves. */
struct phys_record
{
  char name[16]; /* its host name, given back */
  char *owner;
  pid_t pid;
  unsigned long long start;
  char inner[16]; /* its name in the container */
  int index;      /* kept across namespaces unless taken */
  uint8_t mac[6];
  bool up; /* it was up on the host */
};

bool
network_is_phys (const char *network)
{
  return network && strncmp (network, PHYS_PREFIX, strlen (PHYS_PREFIX)) == 0;
}

static char *
phys_dir (void)
{
  return network_run_path ("phys");
}

static char *
phys_path (const char *name, const char *suffix)
{
  return xasprintf ("%s/phys/%s%s", network_run_dir (), name, suffix);
}

static int
record_read (const char *name, struct phys_record *r, ctr_error_t *err)
{
  cleanup_free char *path = phys_path (name, ""), *text = NULL;
  char owner[1100], inner[32];
  unsigned int m[6], up;
  int pid;
  size_t len;

  memset (r, 0, sizeof (*r));
  if (read_file_at (AT_FDCWD, path, RECORD_MAX, &text, &len, err) < 0)
    return -1;
  if (sscanf (text, "%1099s %d %llu %31s %d %x:%x:%x:%x:%x:%x %u", owner, &pid, &r->start, inner,
              &r->index, &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &up)
          != 12
      || strlen (inner) > 15 || strlen (name) > 15)
    return ctr_error (err, EBADMSG, "`%s`: malformed record", path);
  snprintf (r->name, sizeof (r->name), "%s", name);
  snprintf (r->inner, sizeof (r->inner), "%s", inner);
  r->owner = xstrdup (owner);
  r->pid = pid;
  for (int i = 0; i < 6; i++)
    r->mac[i] = (uint8_t)m[i];
  r->up = up != 0;
  return 0;
}

static int
record_write (const struct phys_record *r, ctr_error_t *err)
{
  cleanup_free char *dir = phys_dir (), *path = phys_path (r->name, ""), *text = NULL;

  text = xasprintf ("%s %d %llu %s %d %02x:%02x:%02x:%02x:%02x:%02x %u\n", r->owner, (int)r->pid,
                    r->start, r->inner, r->index, r->mac[0], r->mac[1], r->mac[2], r->mac[3],
                    r->mac[4], r->mac[5], r->up ? 1u : 0u);
  if (mkdir_p (dir, 0700, err) < 0)
    return -1;
  return write_file_atomic_at (AT_FDCWD, path, text, strlen (text), 0600, err);
}

/* The namespace the holder file keeps alive, or -1 when none is mounted there. */
static int
holder_open (const char *name)
{
  cleanup_free char *path = phys_path (name, ".netns");
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct statfs sf;

  if (fd < 0 || fstatfs (fd, &sf) < 0 || sf.f_type != NSFS_MAGIC)
    return -1;
  return steal_fd (fd);
}

static void
holder_remove (const char *name)
{
  cleanup_free char *path = phys_path (name, ".netns");

  while (umount2 (path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
    ; /* mounted twice by a racing attach is impossible under the lock, but be thorough */
  unlink (path);
}

/* Keeps netns_fd alive after the container's last process: a virtual device (dummy, veth)
   would be destroyed with the namespace, before it could be given back. */
static int
holder_make (const char *name, int netns_fd, ctr_error_t *err)
{
  cleanup_free char *path = phys_path (name, ".netns");
  char src[64];
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    return ctr_error (err, errno, "create `%s`", path);
  close (fd);
  snprintf (src, sizeof (src), "/proc/self/fd/%d", netns_fd);
  if (mount (src, path, NULL, MS_BIND, NULL) < 0)
    return ctr_error (err, errno, "hold the container's network namespace on `%s`", path);
  return 0;
}

/* Sets a host link down, renames it, restores up (a link must be down to be renamed). */
static int
rename_on_host (struct netlink *nl, const struct netlink_link_info *l, const char *name, bool up,
                ctr_error_t *err)
{
  if ((l->flags & IFF_UP) && netlink_link_set_up (nl, l->index, false, err) < 0)
    return -1;
  if (netlink_link_rename (nl, l->index, name, err) < 0)
    return -1;
  return up ? netlink_link_set_up (nl, l->index, true, err) : 0;
}

/* Finds the lent link in nl's namespace: by its name there, else by index and MAC. */
static int
find_lent (struct netlink *nl, const struct phys_record *r, const char *name,
           struct netlink_link_info *l, ctr_error_t *err)
{
  int found = netlink_link_get (nl, name, l, err);

  if (found < 0)
    return -1;
  if (found > 0 && memcmp (l->mac, r->mac, 6) == 0)
    return 1;
  found = netlink_link_get_by_index (nl, r->index, l, err);
  if (found <= 0)
    return found;
  return memcmp (l->mac, r->mac, 6) == 0 ? 1 : 0;
}

/* Gives one lent interface back under its name, then forgets it. Under phys.lock. */
static int
give_back (const struct phys_record *r, ctr_error_t *err)
{
  cleanup_close int ns = holder_open (r->name), self = -1;
  cleanup_netlink struct netlink *host = netlink_open (err);
  cleanup_free char *path = phys_path (r->name, "");
  struct netlink_link_info l;
  int found, ret = 0;

  if (host == NULL)
    return -1;
  if (ns >= 0)
    {
      cleanup_netlink struct netlink *inner = netlink_open_in_netns (ns, err);
      self = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
      if (inner == NULL || self < 0)
        return inner ? ctr_error (err, errno, "open `/proc/self/ns/net`") : -1;
      found = find_lent (inner, r, r->inner, &l, err);
      if (found < 0)
        return -1;
      /* moving closes it; the name is checked here, where it must be free */
      if (found && netlink_link_move (inner, l.index, self, r->name, err) < 0)
        return ctr_error_wrap (err, "give `%s` back to the host", r->name);
    }
  /* moved back above, or returned by the kernel when the namespace died (a physical
     device, possibly as eth0 or devN); a virtual one was destroyed with it */
  found = find_lent (host, r, r->name, &l, err);
  if (found < 0)
    return -1;
  if (found && strcmp (l.name, r->name) != 0)
    ret = rename_on_host (host, &l, r->name, r->up, err);
  else if (found && r->up && !(l.flags & IFF_UP))
    ret = netlink_link_set_up (host, l.index, true, err);
  if (ret < 0)
    return ctr_error_wrap (err, "give `%s` back to the host", r->name);
  holder_remove (r->name);
  unlink (path);
  return 0;
}

static bool
record_alive (const struct phys_record *r)
{
  return r->pid <= 0 || network_pid_start_time (r->pid) == r->start;
}

/* Undoes a lending that failed halfway (the record is written). */
static void
undo_lend (const struct phys_record *r)
{
  ctr_error_t ignored = NULL;
  if (give_back (r, &ignored) < 0)
    ctr_error_free (&ignored);
}

int
network_phys_check (const char *network, const char *owner, ctr_error_t *err)
{
  const char *name = network + strlen (PHYS_PREFIX);
  cleanup_netlink struct netlink *nl = NULL;
  struct netlink_link_info l;
  struct phys_record r;
  ctr_error_t e = NULL;
  int found;

  if (network_check_ifname (name, "interface", err) < 0)
    return ctr_error_wrap (err, "net `%s`", network);
  if (record_read (name, &r, &e) == 0)
    {
      bool other = strcmp (r.owner, owner) != 0 && record_alive (&r);
      cleanup_free char *holder = r.owner;
      if (other)
        return ctr_error (err, EBUSY, "net `%s`: lent to container `%s`", network, holder);
      return 0;
    }
  ctr_error_free (&e);
  nl = netlink_open (err);
  if (nl == NULL)
    return -1;
  found = netlink_link_get (nl, name, &l, err);
  if (found < 0)
    return -1;
  if (found == 0)
    return ctr_error (err, 0, "net `%s`: no such interface on the host", network);
  if (l.index == 1 || strcmp (name, "lo") == 0)
    return ctr_error (err, 0, "net `%s`: loopback cannot be lent", network);
  if (strncmp (l.alias, "ctr network ", 12) == 0)
    return ctr_error (err, 0, "net `%s`: a link of ctr's networks cannot be lent", network);
  if (l.master > 0)
    return ctr_error (err, 0, "net `%s`: the interface is enslaved (to a bridge or bond)", network);
  return 0;
}

int
network_phys_attach (const struct network_attach_request *req, struct network_attachment *out,
                     ctr_error_t *err)
{
  const char *name = req->network + strlen (PHYS_PREFIX);
  cleanup_close int lock = -1;
  cleanup_netlink struct netlink *nl = NULL, *ns = NULL;
  struct netlink_link_info l;
  struct phys_record r = { 0 }, old;
  ctr_error_t e = NULL;
  int index;

  if (req->n_ports)
    return ctr_error (err, 0, "--publish: net `%s` publishes no ports", req->network);
  if (req->static_ip)
    return ctr_error (err, 0, "--ip: net `%s` gets no address from ctr", req->network);
  lock = network_lock_file ("phys.lock", err);
  if (lock < 0)
    return -1;
  /* a record of a dead owner is given back first */
  if (record_read (name, &old, &e) == 0)
    {
      cleanup_free char *o = old.owner;
      if (record_alive (&old) && strcmp (old.owner, req->owner) != 0)
        return ctr_error (err, EBUSY, "net `%s`: lent to container `%s`", req->network, o);
      if (give_back (&old, err) < 0)
        return -1;
    }
  ctr_error_free (&e);
  if (network_phys_check (req->network, req->owner, err) < 0)
    return -1;
  nl = netlink_open (err);
  if (nl == NULL || netlink_link_get (nl, name, &l, err) <= 0)
    return *err ? -1 : ctr_error (err, ENODEV, "net `%s`: no such interface", req->network);
  snprintf (r.name, sizeof (r.name), "%s", name);
  snprintf (r.inner, sizeof (r.inner), "%s", req->ifname);
  r.owner = (char *)req->owner;
  r.pid = req->owner_pid;
  r.start = req->owner_pid > 0 ? network_pid_start_time (req->owner_pid) : 0;
  r.index = l.index;
  memcpy (r.mac, l.mac, 6);
  r.up = (l.flags & IFF_UP) != 0;
  /* recorded before anything moves: a kill -9 from here on leaves what delete gives back */
  if (record_write (&r, err) < 0)
    return -1;
  if (holder_make (name, req->netns_fd, err) < 0
      || netlink_link_move (nl, l.index, req->netns_fd, req->ifname, err) < 0
      || (ns = netlink_open_in_netns (req->netns_fd, err)) == NULL
      || netlink_link_set_up (ns, 1 /* lo */, true, err) < 0
      || (index = netlink_link_index (ns, req->ifname, err)) <= 0
      || netlink_link_set_up (ns, index, true, err) < 0)
    {
      if (*err == NULL)
        ctr_error (err, ENODEV, "interface `%s` missing in the namespace", req->ifname);
      undo_lend (&r);
      return ctr_error_wrap (err, "net `%s`", req->network);
    }
  out->network = xstrdup (req->network);
  out->ifname = xstrdup (req->ifname);
  out->host_ifname = xstrdup (name);
  return 0;
}

int
network_phys_release (const char *owner, ctr_error_t *err)
{
  cleanup_free char *dir = phys_dir ();
  cleanup_close int lock = -1;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int ret = 0;

  if (access (dir, F_OK) < 0)
    return 0; /* nothing was ever lent: no lock file made either */
  lock = network_lock_file ("phys.lock", err);
  if (lock < 0)
    return -1;
  d = opendir (dir);
  while (d && (de = readdir (d)))
    {
      struct phys_record r;
      ctr_error_t e = NULL;
      size_t len = strlen (de->d_name);
      if (de->d_name[0] == '.' || (len > 6 && strcmp (de->d_name + len - 6, ".netns") == 0)
          || (len > 4 && strcmp (de->d_name + len - 4, ".tmp") == 0))
        continue; /* holders (IFNAME.netns), a writer's temporary file */
      if (record_read (de->d_name, &r, &e) < 0)
        {
          ctr_error_free (&e);
          continue;
        }
      if (strcmp (r.owner, owner) == 0 && give_back (&r, &e) < 0)
        {
          if (ret == 0)
            *err = steal_ptr (e);
          ctr_error_free (&e);
          ret = -1;
        }
      free (r.owner);
    }
  if (d)
    rmdir (dir); /* fails while records are left, as it should */
  return ret;
}
