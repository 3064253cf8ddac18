/* cgroups devices: the device rules ctr enforces and their cgroup v2 eBPF program (raw bpf(2)). */
#include <config.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/driver.h"
#include "base/log.h"
#include "base/util.h"

/* What runc always allows after the config's rules (libcontainer/specconv AllowedDevices),
   plus /dev/console as crun does. */
static const struct oci_device_cgroup default_rules[] = {
  { true, 'c', -1, -1, (char *)"m" },    { true, 'b', -1, -1, (char *)"m" },
  { true, 'c', 1, 3, (char *)"rwm" },    /* null */
  { true, 'c', 1, 5, (char *)"rwm" },    /* zero */
  { true, 'c', 1, 7, (char *)"rwm" },    /* full */
  { true, 'c', 1, 8, (char *)"rwm" },    /* random */
  { true, 'c', 1, 9, (char *)"rwm" },    /* urandom */
  { true, 'c', 5, 0, (char *)"rwm" },    /* tty */
  { true, 'c', 5, 1, (char *)"rwm" },    /* console */
  { true, 'c', 5, 2, (char *)"rwm" },    /* ptmx */
  { true, 'c', 136, -1, (char *)"rwm" }, /* pts */
  { true, 'c', 10, 200, (char *)"rwm" }, /* net/tun */
};

struct oci_device_cgroup *
cg_device_rules (const struct oci_resources *res, size_t *n)
{
  size_t ncfg = res ? res->devices_len : 0, i = 0;
  struct oci_device_cgroup *r = xmalloc ((1 + ncfg + ARRAY_SIZE (default_rules)) * sizeof (*r));

  r[i++] = (struct oci_device_cgroup){ false, 'a', -1, -1, (char *)"rwm" };
  if (ncfg)
    memcpy (r + i, res->devices, ncfg * sizeof (*r));
  i += ncfg;
  memcpy (r + i, default_rules, sizeof default_rules);
  *n = i + ARRAY_SIZE (default_rules);
  return r;
}

struct prog
{
  struct bpf_insn *insns;
  size_t n, alloc;
};

static size_t
emit (struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  if (p->n == p->alloc)
    {
      p->alloc = p->alloc ? p->alloc * 2 : 64;
      p->insns = xrealloc (p->insns, p->alloc * sizeof (*p->insns));
    }
  p->insns[p->n]
      = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
  return p->n++;
}

static unsigned
access_bits (const char *access, bool *ok)
{
  unsigned bits = 0;
  *ok = true;
  for (; access && *access; access++)
    switch (*access)
      {
      case 'r':
        bits |= BPF_DEVCG_ACC_READ;
        break;
      case 'w':
        bits |= BPF_DEVCG_ACC_WRITE;
        break;
      case 'm':
        bits |= BPF_DEVCG_ACC_MKNOD;
        break;
      default:
        *ok = false;
      }
  return access ? bits : BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
}

/* Registers: r2 device type, r3 access bits still undecided, r4 major, r5 minor.
   Rules run last to first: a matching deny of any undecided bit denies; a matching allow
   decides its bits, and once none is left the access is allowed. That is per-bit
   last-match-wins, like the v1 devices controller. An access of no bits (access(2) with
   F_OK, which systemd's ConditionPathExists= makes of /dev/console) asks ACC_EXISTS
   instead, which every allow carries and a deny only of all of rwm: as on v1, the device
   exists for the container while some access to it is allowed (runc's and crun's programs
   allow it too). */
#define ACC_EXISTS 8u
static int
emit_rule (struct prog *p, const struct oci_device_cgroup *d, size_t index, ctr_error_t *err)
{
  size_t jumps[4], nj = 0, i;
  bool ok;
  unsigned acc = access_bits (d->access, &ok), decides;

  if (!ok || (d->type != 'a' && d->type != 'b' && d->type != 'c') || d->major > INT32_MAX
      || d->minor > INT32_MAX)
    return ctr_error (err, EINVAL, "linux.resources.devices[%zu]: invalid rule", index);
  if (acc == 0)
    return 0;
  decides = acc | (d->allow || acc == 7u ? ACC_EXISTS : 0);
  if (d->type != 'a')
    jumps[nj++] = emit (p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
                        d->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
  if (d->major >= 0)
    jumps[nj++] = emit (p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int32_t)d->major);
  if (d->minor >= 0)
    jumps[nj++] = emit (p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int32_t)d->minor);
  emit (p, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
  emit (p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t)decides);
  jumps[nj++] = emit (p, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_1, 0, 0, 0);
  if (d->allow)
    {
      emit (p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_3, 0, 0, (int32_t)(~decides & 15u));
      /* bits left to decide: on to the next rule (skip the two below) */
      emit (p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, 2, 0);
      emit (p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
      emit (p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    }
  else
    {
      emit (p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
      emit (p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    }
  for (i = 0; i < nj; i++)
    p->insns[jumps[i]].off = (int16_t)(p->n - jumps[i] - 1);
  return 0;
}

int
devices_bpf_build (const struct oci_device_cgroup *rules, size_t n, void **insns, ctr_error_t *err)
{
  struct prog p = { 0 };
  size_t i;

  /* struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major, minor; } */
  emit (&p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0);
  emit (&p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
  emit (&p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0);
  emit (&p, BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
  emit (&p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, 1, 0);
  emit (&p, BPF_ALU | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, (int32_t)ACC_EXISTS);
  emit (&p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0);
  emit (&p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0);
  for (i = n; i-- > 0;)
    if (emit_rule (&p, &rules[i], i == 0 ? 0 : i - 1, err) < 0)
      {
        free (p.insns);
        return -1;
      }
  emit (&p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
  emit (&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  if (p.n > 1000000)
    {
      free (p.insns);
      return ctr_error (err, E2BIG, "linux.resources.devices: too many rules");
    }
  *insns = p.insns;
  return (int)p.n;
}

static int
bpf (int cmd, union bpf_attr *attr)
{
  return (int)syscall (SYS_bpf, cmd, attr, sizeof (*attr));
}

static int
prog_load (const struct bpf_insn *insns, int n, ctr_error_t *err)
{
  static const char license[] = "GPL";
  union bpf_attr attr;
  char log[4096];
  int fd;

  memset (&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)n;
  attr.license = (uint64_t)(uintptr_t)license;
  fd = bpf (BPF_PROG_LOAD, &attr);
  if (fd >= 0)
    return fd;
  if (errno != EINVAL && errno != EACCES)
    return ctr_error (err, errno, "linux.resources.devices: load the eBPF device program");
  /* again with the verifier's log, for the message */
  log[0] = '\0';
  attr.log_buf = (uint64_t)(uintptr_t)log;
  attr.log_size = sizeof log;
  attr.log_level = 1;
  fd = bpf (BPF_PROG_LOAD, &attr);
  if (fd >= 0)
    return fd;
  log[sizeof log - 1] = '\0';
  while (*log && log[strlen (log) - 1] == '\n')
    log[strlen (log) - 1] = '\0';
  return ctr_error (err, errno, "linux.resources.devices: load the eBPF device program (%s)",
                    strrchr (log, '\n') ? strrchr (log, '\n') + 1 : log);
}

/* Ids of the device programs attached to the cgroup itself. */
static int
prog_query (int cgfd, uint32_t *ids, uint32_t *n)
{
  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t)cgfd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = *n;
  if (bpf (BPF_PROG_QUERY, &attr) < 0)
    return -1;
  *n = attr.query.prog_cnt;
  return 0;
}

static void
prog_detach_id (int cgfd, uint32_t id)
{
  union bpf_attr attr;
  int fd;

  memset (&attr, 0, sizeof attr);
  attr.prog_id = id;
  fd = bpf (BPF_PROG_GET_FD_BY_ID, &attr);
  if (fd < 0)
    return;
  memset (&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cgfd;
  attr.attach_bpf_fd = (uint32_t)fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (bpf (BPF_PROG_DETACH, &attr) < 0)
    ctr_log_warning ("cgroup: detach the old device program %u: %s", id, strerror (errno));
  close (fd);
}

int
devices_bpf_apply (int cgfd, const struct oci_device_cgroup *rules, size_t n, bool fresh,
                   ctr_error_t *err)
{
  cleanup_free void *insns = NULL;
  cleanup_close int prog = -1;
  uint32_t old[64], nold = ARRAY_SIZE (old), i;
  union bpf_attr attr;
  int count;

  count = devices_bpf_build (rules, n, &insns, err);
  if (count < 0)
    return -1;
  prog = prog_load (insns, count, err);
  if (prog < 0)
    return -1;
  /* a directory ctr has just made has no program to replace */
  if (fresh || prog_query (cgfd, old, &nold) < 0)
    nold = 0;
  memset (&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cgfd;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf (BPF_PROG_ATTACH, &attr) < 0)
    return ctr_error (err, errno, "linux.resources.devices: attach the eBPF device program");
  /* the new program is in place: only now drop the ones it replaces */
  for (i = 0; i < nold && i < ARRAY_SIZE (old); i++)
    prog_detach_id (cgfd, old[i]);
  return 0;
}
