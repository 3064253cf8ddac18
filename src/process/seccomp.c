/* seccomp: linux.seccomp compiled to BPF by libseccomp (parent), loaded with seccomp(2). */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/log.h"
#include "process/process.h"
#include "process/seccomp_enosys.h"
#include "base/util.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif

/* runc's threshold: libseccomp <= 2.5.4 misbehaves with the binary tree and no rules */
#define SECCOMP_BINARY_TREE_MIN_RULES 32

static int
seccomp_syscall (unsigned int op, unsigned int flags, void *args)
{
  return (int)syscall (SYS_seccomp, op, flags, args);
}

/* Resolves an SCMP_ACT_* name; ERRNO and TRACE default to EPERM, as in runc. */
static int
action_resolve (const char *name, bool has_ret, uint32_t ret, uint32_t *action)
{
  uint16_t code = has_ret ? (uint16_t)ret : EPERM;

  if (name == NULL)
    return -1;
  if (strcmp (name, "SCMP_ACT_KILL") == 0 || strcmp (name, "SCMP_ACT_KILL_THREAD") == 0)
    *action = SCMP_ACT_KILL_THREAD;
  else if (strcmp (name, "SCMP_ACT_KILL_PROCESS") == 0)
    *action = SCMP_ACT_KILL_PROCESS;
  else if (strcmp (name, "SCMP_ACT_TRAP") == 0)
    *action = SCMP_ACT_TRAP;
  else if (strcmp (name, "SCMP_ACT_ERRNO") == 0)
    *action = SCMP_ACT_ERRNO (code);
  else if (strcmp (name, "SCMP_ACT_TRACE") == 0)
    *action = SCMP_ACT_TRACE (code);
  else if (strcmp (name, "SCMP_ACT_ALLOW") == 0)
    *action = SCMP_ACT_ALLOW;
  else if (strcmp (name, "SCMP_ACT_LOG") == 0)
    *action = SCMP_ACT_LOG;
  else if (strcmp (name, "SCMP_ACT_NOTIFY") == 0)
    *action = SCMP_ACT_NOTIFY;
  else
    return -1;
  return 0;
}

static int
op_resolve (const char *name, enum scmp_compare *op)
{
  static const struct
  {
    const char *name;
    enum scmp_compare op;
  } ops[] = {
    { "SCMP_CMP_NE", SCMP_CMP_NE },
    { "SCMP_CMP_LT", SCMP_CMP_LT },
    { "SCMP_CMP_LE", SCMP_CMP_LE },
    { "SCMP_CMP_EQ", SCMP_CMP_EQ },
    { "SCMP_CMP_GE", SCMP_CMP_GE },
    { "SCMP_CMP_GT", SCMP_CMP_GT },
    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
  };
  size_t i;

  for (i = 0; name && i < ARRAY_SIZE (ops); i++)
    if (strcmp (name, ops[i].name) == 0)
      {
        *op = ops[i].op;
        return 0;
      }
  return -1;
}

/* Architectures the runtime-spec names; those this libseccomp does not know are skipped
   (a portable profile lists them all), any other name is an error. */
static const char *const spec_arches[] = {
  "X86",    "X86_64",   "X32",         "ARM",         "AARCH64", "MIPS",    "MIPS64", "MIPS64N32",
  "MIPSEL", "MIPSEL64", "MIPSEL64N32", "PPC",         "PPC64",   "PPC64LE", "S390",   "S390X",
  "PARISC", "PARISC64", "RISCV64",     "LOONGARCH64", "M68K",    "SH",      "SHEB",
};

/* The architectures added to ctx (SCMP_ARCH_*), for the ENOSYS check. */
struct added_arches
{
  uint32_t arch[ARRAY_SIZE (spec_arches)];
  size_t n;
};

static int
add_arches (scmp_filter_ctx ctx, const struct oci_seccomp *sc, struct added_arches *added,
            ctr_error_t *err)
{
  size_t i, k;

  for (i = 0; i < sc->architectures_len; i++)
    {
      const char *name = sc->architectures[i];
      char lower[32];
      uint32_t arch = 0;
      int rc;

      for (k = 0; k < ARRAY_SIZE (spec_arches); k++)
        if (strncmp (name, "SCMP_ARCH_", 10) == 0 && strcmp (name + 10, spec_arches[k]) == 0)
          break;
      if (k == ARRAY_SIZE (spec_arches))
        return ctr_error (err, 0, "linux.seccomp.architectures[%zu]: unknown architecture `%s`", i,
                          name);
      for (k = 0; name[10 + k] && k < sizeof lower - 1; k++)
        lower[k] = (char)tolower ((unsigned char)name[10 + k]);
      lower[k] = '\0';
      arch = seccomp_arch_resolve_name (lower);
      if (arch == 0)
        {
          ctr_log_debug ("linux.seccomp.architectures[%zu]: `%s` unknown to libseccomp, skipped", i,
                         name);
          continue;
        }
      rc = seccomp_arch_add (ctx, arch);
      if (rc < 0 && rc != -EEXIST)
        return ctr_error (err, -rc, "linux.seccomp.architectures[%zu]: adding `%s`", i, name);
      /* the native one is there from seccomp_init: EEXIST */
      for (k = 0; k < added->n && added->arch[k] != arch; k++)
        ;
      if (k == added->n && added->n < ARRAY_SIZE (added->arch))
        added->arch[added->n++] = arch;
    }
  return 0;
}

/* A flag is known to the kernel when seccomp(2) gets as far as reading the (NULL)
   program: EFAULT. An unknown flag is EINVAL. */
static bool
flag_supported (unsigned long flag)
{
  unsigned long probe = flag;

  if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER; /* only valid together */
  return seccomp_syscall (SECCOMP_SET_MODE_FILTER, (unsigned)probe, NULL) < 0 && errno == EFAULT;
}

static int
resolve_flags (const struct oci_seccomp *sc, unsigned *flags, ctr_error_t *err)
{
  static const struct
  {
    const char *name;
    unsigned long value;
  } names[] = {
    { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
    { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
    { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
    { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
  };
  size_t i, k;

  for (i = 0; i < sc->flags_len; i++)
    {
      for (k = 0; k < ARRAY_SIZE (names); k++)
        if (strcmp (sc->flags[i], names[k].name) == 0)
          break;
      if (k == ARRAY_SIZE (names))
        return ctr_error (err, 0, "linux.seccomp.flags[%zu]: unknown flag `%s`", i, sc->flags[i]);
      if (!flag_supported (names[k].value))
        return ctr_error (err, 0,
                          "linux.seccomp.flags[%zu]: `%s` is not supported by the "
                          "running kernel",
                          i, sc->flags[i]);
      *flags |= (unsigned)names[k].value;
    }
  return 0;
}

static int
build_conditions (const struct oci_seccomp_syscall *call, size_t idx, struct scmp_arg_cmp *conds,
                  bool *shared_index, ctr_error_t *err)
{
  unsigned counts[6] = { 0 };
  size_t j;

  *shared_index = false;
  for (j = 0; j < call->args_len; j++)
    {
      const struct oci_seccomp_arg *a = &call->args[j];
      enum scmp_compare op;

      if (a->index > 5)
        return ctr_error (err, 0,
                          "linux.seccomp.syscalls[%zu].args[%zu].index: %u is out of "
                          "range 0..5",
                          idx, j, a->index);
      if (op_resolve (a->op, &op) < 0)
        return ctr_error (err, 0,
                          "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator "
                          "`%s`",
                          idx, j, a->op ? a->op : "");
      /* MASKED_EQ: value is the mask, valueTwo the datum (libseccomp's order, as runc) */
      conds[j] = (struct scmp_arg_cmp){
        .arg = a->index, .op = op, .datum_a = a->value, .datum_b = a->value_two
      };
      if (++counts[a->index] > 1)
        *shared_index = true;
    }
  return 0;
}

static int
add_syscall_rules (scmp_filter_ctx ctx, const struct oci_seccomp_syscall *call, size_t idx,
                   uint32_t default_action, bool *notify, ctr_error_t *err)
{
  cleanup_free struct scmp_arg_cmp *conds = NULL;
  bool shared_index;
  uint32_t action;
  size_t j, k;

  if (action_resolve (call->action, call->has_errno_ret, call->errno_ret, &action) < 0)
    return ctr_error (err, 0, "linux.seccomp.syscalls[%zu].action: unknown action `%s`", idx,
                      call->action ? call->action : "");
  if (action == default_action)
    return 0; /* libseccomp refuses a rule that repeats the default */
  conds = xzalloc ((call->args_len + 1) * sizeof (*conds));
  if (build_conditions (call, idx, conds, &shared_index, err) < 0)
    return -1;
  for (j = 0; j < call->names_len; j++)
    {
      const char *name = call->names[j];
      int nr, rc = 0;

      /* the child reports its listener fd with write(): notifying it would hang setup */
      if (action == SCMP_ACT_NOTIFY && strcmp (name, "write") == 0)
        return ctr_error (err, 0,
                          "linux.seccomp.syscalls[%zu]: SCMP_ACT_NOTIFY cannot be used "
                          "for `write`",
                          idx);
      nr = seccomp_syscall_resolve_name (name);
      if (nr == __NR_SCMP_ERROR)
        {
          ctr_log_debug ("linux.seccomp.syscalls[%zu]: unknown syscall `%s` skipped", idx, name);
          continue;
        }
      /* libseccomp cannot AND two comparisons of one argument: OR them as runc does */
      if (!shared_index)
        rc = seccomp_rule_add_array (ctx, action, nr, (unsigned)call->args_len, conds);
      for (k = 0; shared_index && rc == 0 && k < call->args_len; k++)
        rc = seccomp_rule_add_array (ctx, action, nr, 1, &conds[k]);
      if (rc < 0)
        return ctr_error (err, -rc, "linux.seccomp.syscalls[%zu]: adding a rule for `%s`", idx,
                          name);
      if (action == SCMP_ACT_NOTIFY)
        *notify = true;
    }
  return 0;
}

/* libseccomp 2.5 has no export to memory: export to a memfd and read it back. */
static int
export_bpf (scmp_filter_ctx ctx, struct process_seccomp *out, ctr_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free void *buf = NULL;
  struct stat st;
  int rc;

  fd = memfd_create ("ctr-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return ctr_error (err, errno, "linux.seccomp: memfd_create");
  rc = seccomp_export_bpf (ctx, fd);
  if (rc < 0)
    return ctr_error (err, -rc, "linux.seccomp: exporting the filter");
  if (fstat (fd, &st) < 0)
    return ctr_error (err, errno, "linux.seccomp: fstat");
  if (st.st_size <= 0 || st.st_size % sizeof (struct sock_filter) != 0)
    return ctr_error (err, EINVAL, "linux.seccomp: libseccomp exported %lld bytes",
                      (long long)st.st_size);
  if ((size_t)st.st_size / sizeof (struct sock_filter) > BPF_MAXINSNS)
    return ctr_error (err, E2BIG,
                      "linux.seccomp: the filter has %zu instructions (the kernel "
                      "takes %d)",
                      (size_t)st.st_size / sizeof (struct sock_filter), BPF_MAXINSNS);
  buf = xmalloc (st.st_size);
  errno = 0;
  if (lseek (fd, 0, SEEK_SET) < 0 || read_all (fd, buf, st.st_size) != st.st_size)
    return ctr_error (err, errno ? errno : EIO, "linux.seccomp: reading the exported filter");
  out->bpf = steal_ptr (buf);
  out->len = (size_t)st.st_size;
  return 0;
}

static void
cleanup_seccomp_ctx (scmp_filter_ctx *ctx)
{
  if (*ctx)
    seccomp_release (*ctx);
}

static int
compile_rules (scmp_filter_ctx ctx, const struct oci_seccomp *sc, uint32_t default_action,
               struct added_arches *arches, struct process_seccomp *out, ctr_error_t *err)
{
  size_t i;
  int rc;

  /* no_new_privs is ours to set (process.noNewPrivileges), never libseccomp's */
  rc = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc == 0 && sc->syscalls_len > SECCOMP_BINARY_TREE_MIN_RULES)
    seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); /* not fatal when unavailable */
  if (rc < 0)
    return ctr_error (err, -rc, "linux.seccomp: seccomp_attr_set");
  if (add_arches (ctx, sc, arches, err) < 0 || resolve_flags (sc, &out->flags, err) < 0)
    return -1;
  for (i = 0; i < sc->syscalls_len; i++)
    if (add_syscall_rules (ctx, &sc->syscalls[i], i, default_action, &out->notify, err) < 0)
      return -1;
  if (out->notify)
    {
      /* TSYNC with a listener needs TSYNC_ESRCH; the setup child has a single thread,
         so TSYNC has nothing to do there anyway */
      out->flags &= ~(unsigned)SECCOMP_FILTER_FLAG_TSYNC;
      out->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    }
  else
    out->flags &= ~(unsigned)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV; /* needs a listener */
  return 0;
}

int
process_seccomp_compile (const struct oci_seccomp *sc, struct process_seccomp *out,
                         ctr_error_t *err)
{
  __attribute__ ((cleanup (cleanup_seccomp_ctx))) scmp_filter_ctx ctx = NULL;
  struct added_arches arches = { .n = 0 };
  uint32_t default_action;

  memset (out, 0, sizeof (*out));
  if (sc == NULL)
    return 0;
  if (action_resolve (sc->default_action, sc->has_default_errno_ret, sc->default_errno_ret,
                      &default_action)
      < 0)
    return ctr_error (err, 0, "linux.seccomp.defaultAction: unknown action `%s`",
                      sc->default_action ? sc->default_action : "");
  if (default_action == SCMP_ACT_NOTIFY)
    return ctr_error (err, 0,
                      "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the "
                      "default action");
  ctx = seccomp_init (default_action);
  if (ctx == NULL)
    return ctr_error (err, EINVAL, "linux.seccomp: seccomp_init");
  if (compile_rules (ctx, sc, default_action, &arches, out, err) < 0
      || export_bpf (ctx, out, err) < 0
      || seccomp_enosys_patch (sc, arches.arch, arches.n, default_action, out, err) < 0)
    {
      process_seccomp_release (out);
      return -1;
    }
  return 0;
}

void
process_seccomp_release (struct process_seccomp *s)
{
  if (s == NULL)
    return;
  free (s->bpf);
  memset (s, 0, sizeof (*s));
}

int
process_seccomp_load (const struct process_seccomp *s, ctr_error_t *err)
{
  struct sock_fprog prog;
  int fd;

  if (s == NULL || s->len == 0)
    return 0;
  if (s->len % sizeof (struct sock_filter) != 0
      || s->len / sizeof (struct sock_filter) > BPF_MAXINSNS)
    return ctr_error (err, EINVAL, "linux.seccomp: malformed filter of %zu bytes", s->len);
  prog.len = (unsigned short)(s->len / sizeof (struct sock_filter));
  prog.filter = s->bpf;
  fd = seccomp_syscall (SECCOMP_SET_MODE_FILTER, s->flags, &prog);
  if (fd < 0)
    return ctr_error (err, errno, "linux.seccomp: loading the filter");
  return s->notify ? fd : 0;
}

/* A classic BPF interpreter, enough for any seccomp filter (the instructions the kernel's
   seccomp_check_filter accepts). An invalid program (a jump or a memory slot out of range,
   no return) gives SECCOMP_RET_KILL_PROCESS. */
#define BPF_BAD SECCOMP_RET_KILL_PROCESS

/* BPF_ALU: a OP src; false for a division by zero or an unknown op */
static bool
bpf_alu (uint16_t op, uint32_t *a, uint32_t src)
{
  if ((op == BPF_DIV || op == BPF_MOD) && src == 0)
    return false;
  if (op == BPF_ADD)
    *a += src;
  else if (op == BPF_SUB)
    *a -= src;
  else if (op == BPF_MUL)
    *a *= src;
  else if (op == BPF_DIV)
    *a /= src;
  else if (op == BPF_MOD)
    *a %= src;
  else if (op == BPF_OR)
    *a |= src;
  else if (op == BPF_AND)
    *a &= src;
  else if (op == BPF_XOR)
    *a ^= src;
  else if (op == BPF_LSH)
    *a = src < 32 ? *a << src : 0;
  else if (op == BPF_RSH)
    *a = src < 32 ? *a >> src : 0;
  else if (op == BPF_NEG)
    *a = -*a;
  else
    return false;
  return true;
}

/* BPF_LD / BPF_LDX: the value loaded */
static bool
bpf_load (const struct sock_filter *f, const uint32_t *mem, const struct seccomp_data *data,
          uint32_t *v)
{
  if (BPF_MODE (f->code) == BPF_ABS && f->k % 4 == 0 && f->k + 4 <= sizeof *data)
    memcpy (v, (const char *)data + f->k, 4);
  else if (BPF_MODE (f->code) == BPF_IMM)
    *v = f->k;
  else if (BPF_MODE (f->code) == BPF_MEM && f->k < BPF_MEMWORDS)
    *v = mem[f->k];
  else if (BPF_MODE (f->code) == BPF_LEN)
    *v = sizeof *data;
  else
    return false;
  return true;
}

/* BPF_JMP: the offset to the next instruction; false for an unknown op */
static bool
bpf_jump (const struct sock_filter *f, uint32_t a, uint32_t src, uint32_t *offset)
{
  uint16_t op = BPF_OP (f->code);
  bool taken;

  if (op == BPF_JA)
    {
      *offset = f->k;
      return true;
    }
  if (op == BPF_JEQ)
    taken = a == src;
  else if (op == BPF_JGT)
    taken = a > src;
  else if (op == BPF_JGE)
    taken = a >= src;
  else if (op == BPF_JSET)
    taken = (a & src) != 0;
  else
    return false;
  *offset = taken ? f->jt : f->jf;
  return true;
}

static uint32_t
bpf_run (const struct sock_filter *insns, size_t n, const struct seccomp_data *data)
{
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
  size_t pc;

  for (pc = 0; pc < n; pc++)
    {
      const struct sock_filter *f = &insns[pc];
      uint32_t src = BPF_SRC (f->code) == BPF_X ? x : f->k, v;

      switch (BPF_CLASS (f->code))
        {
        case BPF_LD:
        case BPF_LDX:
          if (!bpf_load (f, mem, data, &v))
            return BPF_BAD;
          *(BPF_CLASS (f->code) == BPF_LD ? &a : &x) = v;
          break;
        case BPF_ST:
        case BPF_STX:
          if (f->k >= BPF_MEMWORDS)
            return BPF_BAD;
          mem[f->k] = BPF_CLASS (f->code) == BPF_ST ? a : x;
          break;
        case BPF_ALU:
          if (!bpf_alu (BPF_OP (f->code), &a, src))
            return BPF_BAD;
          break;
        case BPF_JMP:
          if (!bpf_jump (f, a, src, &v))
            return BPF_BAD;
          pc += v;
          break;
        case BPF_RET:
          return BPF_RVAL (f->code) == BPF_A ? a : f->k;
        case BPF_MISC:
          if (BPF_MISCOP (f->code) == BPF_TAX)
            x = a;
          else
            a = x;
          break;
        default:
          return BPF_BAD;
        }
    }
  return BPF_BAD;
}

uint32_t
process_seccomp_verdict (const struct process_seccomp *s, const struct seccomp_data *data)
{
  if (s == NULL || s->len == 0)
    return SECCOMP_RET_ALLOW;
  return bpf_run (s->bpf, s->len / sizeof (struct sock_filter), data);
}

bool
process_seccomp_allows (const struct process_seccomp *s, uint32_t arch, int nr,
                        const uint64_t args[6])
{
  struct seccomp_data data = { .nr = nr, .arch = arch };
  uint32_t action;
  int i;

  if (s == NULL || s->len == 0)
    return true;
  for (i = 0; i < 6; i++)
    data.args[i] = args[i];
  action = process_seccomp_verdict (s, &data) & SECCOMP_RET_ACTION_FULL;
  return action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG;
}
