/* seccomp_enosys: runc's -ENOSYS stub, put in front of the filter libseccomp exports. */
#include <config.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/memory.h"
#include "base/util.h"
#include "process/seccomp_enosys.h"

#define X32_SYSCALL_BIT 0x40000000U

/* SCMP_ARCH_* names every architecture the runtime-spec has: with x32 sharing x86_64's,
   fewer native ones than that */
#define MAX_NATIVE 32
/* header (2 + one jeq each) + sections (at most 5 each) + the return */
#define MAX_STUB (3 + 6 * MAX_NATIVE)

/* One kernel architecture (AUDIT_ARCH_*, what seccomp_data.arch holds) and the largest
   syscall the profile names there; x86_64 also carries x32 (bit 30 of the number). */
struct native_arch
{
  uint32_t audit;
  uint32_t max_main; /* 0: none */
  uint32_t max_x32;  /* 0: none */
  bool s390;
};

/* Jump targets: TO_NEXT, or a label (the ENOSYS return, the filter, a section). */
enum
{
  TO_NEXT = -1,
  L_ENOSYS = 0,
  L_FILTER = 1,
  L_FIRST = 2, /* section i at L_FIRST + 2i, its x32 part at L_FIRST + 2i + 1 */
};

struct stub
{
  struct sock_filter insn[MAX_STUB];
  int jt[MAX_STUB], jf[MAX_STUB]; /* labels; for BPF_JA jt is the target */
  int label[L_FIRST + 2 * MAX_NATIVE];
  size_t n;
};

static void
emit (struct stub *s, uint16_t code, uint32_t k, int jt, int jf)
{
  s->insn[s->n] = (struct sock_filter){ .code = code, .k = k };
  s->jt[s->n] = jt;
  s->jf[s->n] = jf;
  s->n++;
}

static void
place (struct stub *s, int label)
{
  s->label[label] = (int)s->n;
}

/* Turns labels into the forward offsets cBPF jumps take (8 bits for conditional ones). */
static int
resolve (struct stub *s, ctr_error_t *err)
{
  size_t i;

  for (i = 0; i < s->n; i++)
    {
      int t[2] = { s->jt[i], s->jf[i] };
      int off[2];

      if (BPF_CLASS (s->insn[i].code) != BPF_JMP)
        continue;
      for (int k = 0; k < 2; k++)
        off[k] = t[k] == TO_NEXT ? 0 : s->label[t[k]] - (int)i - 1;
      if (BPF_OP (s->insn[i].code) == BPF_JA)
        {
          s->insn[i].k = (uint32_t)off[0];
          continue;
        }
      if (off[0] < 0 || off[0] > 255 || off[1] < 0 || off[1] > 255)
        return ctr_error (err, E2BIG, "linux.seccomp: the ENOSYS check does not fit short jumps");
      s->insn[i].jt = (uint8_t)off[0];
      s->insn[i].jf = (uint8_t)off[1];
    }
  return 0;
}

/* The largest number any name of the profile has on arch; 0 when it names none there.
   Names unknown there are skipped, as are libseccomp's negative pseudo-syscalls. */
static uint32_t
largest_syscall (const struct oci_seccomp *sc, uint32_t arch)
{
  uint32_t max = 0;
  size_t i, j;

  for (i = 0; i < sc->syscalls_len; i++)
    for (j = 0; j < sc->syscalls[i].names_len; j++)
      {
        int nr = seccomp_syscall_resolve_name_arch (arch, sc->syscalls[i].names[j]);
        if (nr >= 0 && (uint32_t)nr > max)
          max = (uint32_t)nr;
      }
  return max;
}

static size_t
collect_natives (const struct oci_seccomp *sc, const uint32_t *arches, size_t n_arches,
                 struct native_arch *natives)
{
  size_t i, k, n = 0;

  for (i = 0; i < n_arches; i++)
    {
      bool x32 = arches[i] == SCMP_ARCH_X32;
      uint32_t audit = x32 ? SCMP_ARCH_X86_64 : arches[i];
      uint32_t max = largest_syscall (sc, arches[i]);

      if (max == 0)
        {
          ctr_log_debug ("linux.seccomp: no syscall named for architecture %#x", arches[i]);
          continue;
        }
      for (k = 0; k < n && natives[k].audit != audit; k++)
        ;
      if (k == n)
        {
          if (n == MAX_NATIVE)
            break;
          natives[n++] = (struct native_arch){ .audit = audit };
        }
      if (x32)
        natives[k].max_x32 = max;
      else
        natives[k].max_main = max;
      natives[k].s390 = audit == SCMP_ARCH_S390 || audit == SCMP_ARCH_S390X;
    }
  return n;
}

/* One architecture's check: the syscall number, compared with the largest named. */
static void
emit_section (struct stub *s, const struct native_arch *a, int self)
{
  const uint16_t jgt = BPF_JMP | BPF_JGT | BPF_K, jset = BPF_JMP | BPF_JSET | BPF_K;

  place (s, self);
  emit (s, BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr), 0, 0);
  /* s390: an unknown large number is left as 0, setup(2), long gone from the kernel */
  if (a->s390)
    emit (s, BPF_JMP | BPF_JEQ | BPF_K, 0, L_ENOSYS, TO_NEXT);
  if (a->max_main && a->max_x32)
    {
      emit (s, jset, X32_SYSCALL_BIT, self + 1, TO_NEXT);
      emit (s, jgt, a->max_main, L_ENOSYS, L_FILTER);
      place (s, self + 1);
      emit (s, jgt, a->max_x32, L_ENOSYS, L_FILTER);
      return;
    }
  /* the other ABI of x86_64 is not in the profile: the filter refuses it as a bad arch */
  if (a->max_main && a->audit == SCMP_ARCH_X86_64)
    emit (s, jset, X32_SYSCALL_BIT, L_FILTER, TO_NEXT);
  else if (a->max_x32)
    emit (s, jset, X32_SYSCALL_BIT, TO_NEXT, L_FILTER);
  emit (s, jgt, a->max_main ? a->max_main : a->max_x32, L_ENOSYS, L_FILTER);
}

static bool
lets_calls_through (uint32_t action)
{
  return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG
         || (action & 0xffff0000U) == SCMP_ACT_TRACE (0) || action == SCMP_ACT_ERRNO (ENOSYS);
}

int
seccomp_enosys_patch (const struct oci_seccomp *sc, const uint32_t *arches, size_t n_arches,
                      uint32_t default_action, struct process_seccomp *out, ctr_error_t *err)
{
  struct native_arch natives[MAX_NATIVE];
  struct stub s = { .n = 0 };
  size_t n, i, total;
  char *bpf;

  /* a tracer handles new syscalls itself; allow and log give the kernel's own ENOSYS */
  if (lets_calls_through (default_action))
    return 0;
  n = collect_natives (sc, arches, n_arches, natives);
  if (n == 0)
    return 0;
  emit (&s, BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch), 0, 0);
  for (i = 0; i < n; i++)
    emit (&s, BPF_JMP | BPF_JEQ | BPF_K, natives[i].audit, L_FIRST + 2 * (int)i, TO_NEXT);
  emit (&s, BPF_JMP | BPF_JA, 0, L_FILTER, TO_NEXT);
  for (i = 0; i < n; i++)
    emit_section (&s, &natives[i], L_FIRST + 2 * (int)i);
  place (&s, L_ENOSYS);
  emit (&s, BPF_RET | BPF_K, SCMP_ACT_ERRNO (ENOSYS), 0, 0);
  place (&s, L_FILTER);
  if (resolve (&s, err) < 0)
    return -1;
  total = s.n + out->len / sizeof (struct sock_filter);
  if (total > BPF_MAXINSNS)
    return ctr_error (err, E2BIG,
                      "linux.seccomp: the filter has %zu instructions (the kernel "
                      "takes %d)",
                      total, BPF_MAXINSNS);
  bpf = xmalloc (total * sizeof (struct sock_filter));
  memcpy (bpf, s.insn, s.n * sizeof (struct sock_filter));
  memcpy (bpf + s.n * sizeof (struct sock_filter), out->bpf, out->len);
  free (out->bpf);
  out->bpf = bpf;
  out->len = total * sizeof (struct sock_filter);
  ctr_log_debug ("linux.seccomp: %zu instructions return ENOSYS for syscalls newer than the "
                 "profile on %zu architectures",
                 s.n, n);
  return 0;
}
