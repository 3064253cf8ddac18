/* network/nft: ctr's nftables table `inet ctr` (NAT, published ports) via dlopen'ed libnftables. */
#include <config.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "network/network-internal.h"
#include "base/util.h"

#define NFT_TABLE "inet ctr"
#define NFT_OUTPUT_HANDLE (1u << 3) /* NFT_CTX_OUTPUT_HANDLE of libnftables.h */
/* nft caps comments at 128 bytes: long owner ids are hashed */
#define OWNER_TAG_MAX 100

/* The few libnftables entry points ctr uses, declared here so no header is needed to build. */
struct nft_ctx;
struct nft_api
{
  void *handle;
  struct nft_ctx *(*ctx_new) (uint32_t flags);
  void (*ctx_free) (struct nft_ctx *ctx);
  int (*buffer_output) (struct nft_ctx *ctx);
  int (*buffer_error) (struct nft_ctx *ctx);
  const char *(*get_output) (struct nft_ctx *ctx);
  const char *(*get_error) (struct nft_ctx *ctx);
  void (*set_flags) (struct nft_ctx *ctx, unsigned int flags);
  int (*run) (struct nft_ctx *ctx, const char *buf);
};

static int
nft_load (struct nft_api *api, ctr_error_t *err)
{
  const struct
  {
    const char *name;
    void **slot;
  } syms[] = {
    { "nft_ctx_new", (void **)&api->ctx_new },
    { "nft_ctx_free", (void **)&api->ctx_free },
    { "nft_ctx_buffer_output", (void **)&api->buffer_output },
    { "nft_ctx_buffer_error", (void **)&api->buffer_error },
    { "nft_ctx_get_output_buffer", (void **)&api->get_output },
    { "nft_ctx_get_error_buffer", (void **)&api->get_error },
    { "nft_ctx_output_set_flags", (void **)&api->set_flags },
    { "nft_run_cmd_from_buffer", (void **)&api->run },
  };
  size_t i;

  if (api->handle)
    return 0;
  api->handle = dlopen ("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
  if (api->handle == NULL)
    return ctr_error (
        err, 0, "nftables: libnftables.so.1 not found: install the Debian package libnftables1");
  for (i = 0; i < ARRAY_SIZE (syms); i++)
    {
      *syms[i].slot = dlsym (api->handle, syms[i].name);
      if (*syms[i].slot == NULL)
        return ctr_error (err, ENOENT, "nftables: libnftables.so.1 lacks `%s`", syms[i].name);
    }
  return 0;
}

static struct nft_api api;

/* Runs a batch (atomic in the kernel); *output gets the output text when asked for. */
static int
nft_run (const char *cmds, char **output, ctr_error_t *err)
{
  struct nft_ctx *ctx;
  int r;

  if (nft_load (&api, err) < 0)
    return -1;
  ctx = api.ctx_new (0);
  if (ctx == NULL)
    return ctr_error (err, ENOMEM, "nftables: create context");
  api.buffer_output (ctx);
  api.buffer_error (ctx);
  api.set_flags (ctx, NFT_OUTPUT_HANDLE);
  r = api.run (ctx, cmds);
  if (r != 0)
    {
      const char *e = api.get_error (ctx);
      size_t len = e ? strcspn (e, "\n") : 0;
      ctr_error (err, 0, "nftables: %.*s", (int)len, len ? e : "command failed");
    }
  else if (output)
    {
      /* the buffer empties on read: one call */
      const char *text = api.get_output (ctx);
      *output = xstrdup (text ? text : "");
    }
  api.ctx_free (ctx);
  return r != 0 ? -1 : 0;
}

static const char table_cmds[]
    = "add table " NFT_TABLE "\n"
      "add chain " NFT_TABLE
      " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
      "add chain " NFT_TABLE " output { type nat hook output priority -100; policy accept; }\n"
      "add chain " NFT_TABLE
      " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
      "add chain " NFT_TABLE
      " forward { type filter hook forward priority filter; policy accept; }\n"
      "add chain " NFT_TABLE " input { type filter hook input priority filter; policy accept; }\n";

/* The forward rules of every network: replies, published ports and traffic inside the
   bridge pass; other new connections into the bridge (from other networks, from routed
   outsiders) drop, which keeps networks isolated from each other. The rules guarding a
   bridge go to the head of the chain (inserted last-first, so they read in order there)
   and the "leaving the bridge" accept to its end: another network's accept must never
   come before this one's drop. */
static char *
forward_rules (const struct network_def *def)
{
  const char *b = def->bridge, *n = def->name;

  return xasprintf (
      "insert rule " NFT_TABLE " forward oifname \"%s\" drop comment \"ctr-net:%s\"\n"
      "insert rule " NFT_TABLE
      " forward oifname \"%s\" iifname \"%s\" accept comment \"ctr-net:%s\"\n"
      "insert rule " NFT_TABLE
      " forward oifname \"%s\" ct status dnat accept comment \"ctr-net:%s\"\n"
      "insert rule " NFT_TABLE
      " forward oifname \"%s\" ct state established,related accept comment \"ctr-net:%s\"\n"
      "add rule " NFT_TABLE " forward iifname \"%s\" accept comment \"ctr-net:%s\"\n",
      b, n, b, b, n, b, n, b, n, b, n);
}

/* Ports published on the host's loopback: the bridge has route_localnet=1, so that a
   connection of the host's to 127.0.0.1 DNATed to a container may leave through it; its
   source is masqueraded to the gateway (the container could not answer 127.0.0.1). The
   same sysctl would let the containers reach the host's loopback services by routing a
   packet for 127.0.0.1 to the gateway (CVE-2020-8558, as kube-proxy and netavark guard
   it): whatever comes in from the bridge for 127.0.0.0/8 and is not DNATed drops (the
   replies of the host's DNATed connections are). `ct status != dnat` would not do: nft
   compares the whole status word with it, which drops those replies too. The
   rules stand on every network, so a bridge never has the sysctl without its guard. */
static char *
loopback_rules (const struct network_def *def)
{
  const char *b = def->bridge, *n = def->name;

  return xasprintf ("add rule " NFT_TABLE " input iifname \"%s\" ip daddr 127.0.0.0/8 ct status "
                    "& dnat == 0 drop comment \"ctr-net:%s\"\n"
                    "add rule " NFT_TABLE " postrouting oifname \"%s\" ip saddr 127.0.0.0/8 "
                    "masquerade comment \"ctr-net:%s\"\n",
                    b, n, b, n);
}

/* Masquerade outbound, and hairpin (a container to a published port of its own network). */
static char *
nat_rules (const struct network_def *def)
{
  cleanup_free char *s4 = network_cidr_format (&def->subnet), *v6 = NULL;

  if (!def->nat)
    return xstrdup ("");
  if (def->has_ipv6)
    {
      cleanup_free char *s6 = network_cidr_format (&def->subnet6);
      v6 = xasprintf ("add rule " NFT_TABLE " postrouting ip6 saddr %s ip6 daddr != %s masquerade "
                      "comment \"ctr-net:%s\"\n",
                      s6, s6, def->name);
    }
  return xasprintf ("add rule " NFT_TABLE " postrouting ip saddr %s ip daddr != %s masquerade "
                    "comment \"ctr-net:%s\"\n"
                    "add rule " NFT_TABLE " postrouting ip saddr %s ip daddr %s ct status dnat "
                    "masquerade comment \"ctr-net:%s\"\n%s",
                    s4, s4, def->name, s4, s4, def->name, v6 ? v6 : "");
}

/* The comment tag of an owner's rules: "ctr:<owner>/<ifname>". */
static char *
owner_tag (const char *owner, const char *ifname)
{
  if (strlen (owner) > OWNER_TAG_MAX)
    return xasprintf ("ctr:#%08x/%s", network_hash (owner, NULL), ifname ? ifname : "");
  return xasprintf ("ctr:%s/%s", owner, ifname ? ifname : "");
}

int
network_nft_add_ports (const char *owner, const char *ifname, const char *address,
                       const struct network_port *ports, size_t n, ctr_error_t *err)
{
  cleanup_free char *tag = owner_tag (owner, ifname);
  char *cmds = NULL;
  size_t len = 0, i;
  FILE *f = open_memstream (&cmds, &len);
  cleanup_close int lock = -1;
  int r;

  if (f == NULL)
    return ctr_error (err, errno, "open_memstream");
  fputs (table_cmds, f);
  for (i = 0; i < n; i++)
    {
      const struct network_port *p = &ports[i];
      const char *proto = p->proto == IPPROTO_UDP ? "udp" : "tcp";
      cleanup_free char *match = p->host_ip ? xasprintf ("ip daddr %s", p->host_ip) : NULL;
      /* from outside: the host's addresses but loopback ones (those only come from the host
         itself, or from a container through route_localnet, which loopback_rules drops);
         from the host itself: every local address, loopback included (podman's way) */
      const char *pre = match ? match : "ip daddr != 127.0.0.0/8 fib daddr type local";
      const char *out = match ? match : "fib daddr type local";
      if (!network_port_reaches_loopback (p) || p->host_ip == NULL)
        fprintf (
            f, "add rule " NFT_TABLE " prerouting %s %s dport %u dnat ip to %s:%u comment \"%s\"\n",
            pre, proto, p->host_port, address, p->port, tag);
      fprintf (f, "add rule " NFT_TABLE " output %s %s dport %u dnat ip to %s:%u comment \"%s\"\n",
               out, proto, p->host_port, address, p->port, tag);
    }
  fclose (f);
  lock = network_lock_file ("nft.lock", err);
  r = lock < 0 ? -1 : nft_run (cmds, NULL, err);
  free (cmds);
  return r;
}

/* The "delete rule" commands for every rule of the listing whose comment starts with
   prefix (exact: the whole comment equals it); *n_rules counts the rules left. */
static char *
delete_cmds (const char *listing, const char *prefix, bool exact, size_t *n_rules)
{
  cleanup_free char *copy = xstrdup (listing), *needle = xasprintf ("comment \"%s", prefix);
  char chain[128] = "", *line, *save = NULL;
  char *cmds = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&cmds, &len);

  *n_rules = 0;
  for (line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      const char *h = strstr (line, "# handle "), *c;
      line += strspn (line, " \t");
      if (sscanf (line, "chain %127s", chain) == 1 || h == NULL || strncmp (line, "table ", 6) == 0)
        continue;
      c = strstr (line, needle);
      if (c == NULL || (exact && c[strlen (needle)] != '"'))
        {
          (*n_rules)++;
          continue;
        }
      fprintf (f, "delete rule " NFT_TABLE " %s handle %s\n", chain, h + strlen ("# handle "));
    }
  fclose (f);
  return cmds;
}

/* The table's listing (nft.lock held); an empty text when there is no table. */
static int
list_table (char **listing, ctr_error_t *err)
{
  if (nft_run ("list table " NFT_TABLE, listing, err) == 0)
    return 0;
  if (strstr ((*err)->msg, "No such file or directory") == NULL)
    return -1;
  ctr_error_free (err); /* no table yet */
  *listing = xstrdup ("");
  return 0;
}

/* Replaces the network's rules in one batch: a bridge made again (deleted by hand, or a
   reboot of the bridge but not of the table) must not add a second copy of them. */
int
network_nft_add_network (const struct network_def *def, ctr_error_t *err)
{
  cleanup_free char *fwd = forward_rules (def), *nat = nat_rules (def), *cmds = NULL;
  cleanup_free char *lo = loopback_rules (def);
  cleanup_free char *tag = xasprintf ("ctr-net:%s", def->name), *listing = NULL, *old = NULL;
  cleanup_close int lock = network_lock_file ("nft.lock", err);
  size_t left;

  if (lock < 0 || list_table (&listing, err) < 0)
    return lock < 0 ? -1 : ctr_error_wrap (err, "network `%s`", def->name);
  old = delete_cmds (listing, tag, true, &left);
  cmds = xasprintf ("%s%s%s%s%s", table_cmds, old, fwd, lo, nat);
  return nft_run (cmds, NULL, err) < 0 ? ctr_error_wrap (err, "network `%s`", def->name) : 0;
}

/* Deletes the tagged rules; with drop_empty_table the table goes when no rule is left. */
static int
nft_delete_tagged (const char *prefix, bool exact, bool drop_empty_table, ctr_error_t *err)
{
  cleanup_close int lock = network_lock_file ("nft.lock", err);
  cleanup_free char *listing = NULL, *cmds = NULL;
  size_t left;

  if (lock < 0 || list_table (&listing, err) < 0)
    return -1;
  if (*listing == '\0')
    return 0; /* no table, nothing to delete */
  cmds = delete_cmds (listing, prefix, exact, &left);
  if (drop_empty_table && left == 0)
    return nft_run ("delete table " NFT_TABLE, NULL, err);
  if (*cmds == '\0')
    return 0;
  return nft_run (cmds, NULL, err);
}

int
network_nft_del_network (const char *name, ctr_error_t *err)
{
  cleanup_free char *tag = xasprintf ("ctr-net:%s", name);
  return nft_delete_tagged (tag, true, true, err);
}

int
network_nft_del_owner (const char *owner, const char *ifname, ctr_error_t *err)
{
  cleanup_free char *tag = owner_tag (owner, ifname);
  /* a bare "ctr:<owner>/" prefix must not match "ctr:<owner>x/": the '/' ends the owner */
  return nft_delete_tagged (tag, ifname != NULL, false, err);
}
