/* test-cgroup: TAP tests of cgroups/: paths, persistence, eBPF devices, real cgroups (root). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/driver.h"
#include "runtime/events.h"
#include "base/util.h"

static int test_no;
static int failures;

static void __attribute__ ((format (printf, 2, 3))) ok (bool cond, const char *fmt, ...)
{
  va_list ap;
  printf ("%s %d - ", cond ? "ok" : "not ok", ++test_no);
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  printf ("\n");
  fflush (stdout);
  if (!cond)
    failures++;
}

static void
skip (const char *what, const char *why)
{
  printf ("ok %d - %s # SKIP %s\n", ++test_no, what, why);
}

static void
diag_err (ctr_error_t *err)
{
  if (*err)
    {
      char *s = ctr_error_string (*err);
      printf ("# error: %s\n", s);
      free (s);
      ctr_error_free (err);
    }
}

/* resolve cgroupsPath; NULL result: expect an error containing `want_err` */
static void
check_path (const char *in, const char *id, const char *want, const char *want_err)
{
  cleanup_error ctr_error_t err = NULL;
  cleanup_free char *p = cgroup_resolve_path (in, id, &err);
  if (want)
    ok (p && strcmp (p, want) == 0, "cgroupsPath %s -> %s (got %s)", in ? in : "(null)", want,
        p ? p : err->msg);
  else
    ok (p == NULL && err && strstr (err->msg, want_err), "cgroupsPath %s refused (%s)", in,
        err ? err->msg : p);
}

static void
test_paths (void)
{
  check_path (NULL, "abc", "/ctr/abc", NULL);
  check_path ("foo/bar", "abc", "/ctr/foo/bar", NULL);
  check_path ("/a//b/./c/", "abc", "/a/b/c", NULL);
  check_path ("/machine/x", "abc", "/machine/x", NULL);
  check_path ("/a/../../x", "abc", NULL,
              "linux.cgroupsPath: \"/a/../../x\": must stay inside the cgroup hierarchy");
  check_path ("../x", "abc", NULL, "must stay inside the cgroup hierarchy");
  check_path ("/a/..", "abc", NULL, "must stay inside the cgroup hierarchy");
  check_path ("system.slice:ctr:abc", "abc", NULL, "systemd cgroup paths are not supported");
  check_path ("/", "abc", NULL, "must not be the cgroup root");
  check_path ("/./", "abc", NULL, "must not be the cgroup root");
}

static void
test_mountinfo (void)
{
  static const char text[]
      = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
        "42 31 0:39 / /sys/fs/cgroup/mem\\040ory rw shared:5 - cgroup cgroup rw,memory\n"
        "43 31 0:39 / /mnt/again rw - cgroup cgroup rw,memory\n";
  size_t n = 0;
  struct cg_hierarchy *h = cg_parse_mountinfo (text, &n);

  ok (n == 2, "mountinfo: v1 hierarchies without ',' in the mount and no duplicates (%zu)", n);
  ok (n >= 1 && strcmp (h[0].key, "name=systemd") == 0, "mountinfo: named hierarchy key");
  ok (n >= 2 && strcmp (h[1].key, "memory") == 0
          && strcmp (h[1].mount, "/sys/fs/cgroup/mem ory") == 0 && h[1].ctrls == CG_MEMORY,
      "mountinfo: octal escapes and controller bits");
  h = cg_parse_mountinfo ("1 2 0:1 / /x rw - cgroup cgroup rw,cpu,cpuacct\n", &n);
  ok (n == 1 && strcmp (h[0].key, "cpu+cpuacct") == 0 && h[0].ctrls == (CG_CPU | CG_CPUACCT),
      "mountinfo: co-mounted controllers");
  ok (cg_layout_from_mountinfo ("30 24 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
          == CGROUP_LAYOUT_UNIFIED,
      "mountinfo: cgroup2 on /sys/fs/cgroup is the unified layout");
  ok (cg_layout_from_mountinfo ("30 24 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n"
                                "31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
                                "32 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n")
          == CGROUP_LAYOUT_HYBRID,
      "mountinfo: cgroup2 on /sys/fs/cgroup/unified beside v1 is the hybrid layout");
  ok (cg_layout_from_mountinfo ("30 24 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n"
                                "32 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
                                "33 30 0:29 / /sys/fs/cgroup/unifiedx rw - cgroup2 cgroup2 rw\n")
          == CGROUP_LAYOUT_LEGACY,
      "mountinfo: v1 alone is the legacy layout");
  ok (cg_layout_from_mountinfo ("30 24 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
                                "40 24 0:30 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n")
          == CGROUP_LAYOUT_LEGACY,
      "mountinfo: the last mount on /sys/fs/cgroup decides");
}

static void
test_serialize (void)
{
  enum cgroup_layout layout = cgroup_layout_detect ();
  cleanup_error ctr_error_t err = NULL;
  const struct cg_hierarchy *hs;
  struct cgroup *cg = NULL;
  char in[4096], *out;
  size_t nh, i, len;

  if (cg_hierarchies (layout, &hs, &nh, &err) < 0 || nh == 0)
    {
      skip ("serialize/load round trip", "no cgroup hierarchy mounted");
      return;
    }
  len = (size_t)snprintf (in, sizeof in, "%s;", cgroup_layout_name (layout));
  for (i = 0; i < nh; i++)
    len += (size_t)snprintf (in + len, sizeof in - len, "%s%s:%zu", i ? "," : "", hs[i].key, i % 3);
  snprintf (in + len, sizeof in - len, ";/ctr-test-x/y z");
  ok (cgroup_load (in, &cg, &err) == 0, "load `%s`", in);
  diag_err (&err);
  if (cg)
    {
      out = cgroup_serialize (cg);
      ok (strcmp (out, in) == 0, "serialize round trip (%s)", out);
      ok (strcmp (cgroup_path (cg), "/ctr-test-x/y z") == 0, "loaded path");
      free (out);
      cgroup_free (cg);
    }
  snprintf (in, sizeof in, "%s;%s:3;/ctr-test-x/y", cgroup_layout_name (layout), hs[0].key);
  ok (cgroup_load (in, &cg, &err) < 0, "load refuses a depth beyond the path");
  ctr_error_free (&err);
  snprintf (in, sizeof in, "%s;%s:1;/x/../../etc", cgroup_layout_name (layout), hs[0].key);
  ok (cgroup_load (in, &cg, &err) < 0, "load refuses `..`");
  ctr_error_free (&err);
  ok (cgroup_load ("nonsense", &cg, &err) < 0, "load refuses garbage");
  ctr_error_free (&err);
  snprintf (in, sizeof in, "%s;%s:1;/", cgroup_layout_name (layout), hs[0].key);
  ok (cgroup_load (in, &cg, &err) < 0, "load refuses the root cgroup");
}

/* ---- rootless: the delegated subtree ---- */

/* A fake cgroup directory: the two files delegation is judged by, owned by uid. */
static void
fake_cgroup (const char *dir, uid_t uid)
{
  static const char *const files[] = { "", "/cgroup.procs", "/cgroup.subtree_control" };
  size_t i;
  if (mkdir (dir, 0755) < 0)
    abort ();
  for (i = 0; i < ARRAY_SIZE (files); i++)
    {
      cleanup_free char *p = xasprintf ("%s%s", dir, files[i]);
      cleanup_close int fd = i ? open (p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) : -1;
      if ((i && fd < 0) || (geteuid () == 0 && lchown (p, uid, uid) < 0))
        abort ();
    }
}

static void
check_deleg (const char *mount, const char *own, uid_t uid, const char *want, const char *why)
{
  cleanup_free char *reason = NULL;
  cleanup_free char *d = cg_delegation_find (mount, own, uid, &reason);
  if (want)
    ok (d && strcmp (d, want) == 0, "delegation root of %s: %s (got %s)", own, want,
        d ? d : reason);
  else
    ok (d == NULL && reason && strstr (reason, why), "no delegation root for %s (%s)", own,
        reason ? reason : d);
}

static void
check_rootless_path (const char *in, const char *want, const char *want_err)
{
  cleanup_error ctr_error_t err = NULL;
  cleanup_free char *p = cg_rootless_path ("/deleg", "/deleg/shell", in, "abc", &err);
  if (want)
    ok (p && strcmp (p, want) == 0, "rootless cgroupsPath %s -> %s (got %s)", in ? in : "(null)",
        want, p ? p : err->msg);
  else
    ok (p == NULL && err && strstr (err->msg, want_err), "rootless cgroupsPath %s refused (%s)", in,
        err ? err->msg : p);
}

static void
test_rootless_paths (void)
{
  char tmpl[] = "/tmp/ctr-test-deleg.XXXXXX";
  char *mount = mkdtemp (tmpl);
  uid_t me = geteuid (), user = me == 0 ? 54321 : me;
  cleanup_free char *own = NULL;
  static const char *const dirs[] = { "/a", "/a/b", "/a/b/c", "/a/b/c/d", "/x", "/x/y" };
  size_t i;

  own = cg_own_v2_path ("12:pids:/v1/x\n1:name=systemd:/s\n0::/user.slice/u@1.service/app\n");
  ok (own && strcmp (own, "/user.slice/u@1.service/app") == 0, "own cgroup from the 0:: line");
  free (own);
  own = cg_own_v2_path ("12:pids:/v1/x\n");
  ok (own == NULL, "no 0:: line: no own cgroup");
  if (mount == NULL)
    abort ();
  /* as root: /a is root's, /a/b down the user's (an admin's chown -R of /a/b);
     otherwise everything is the caller's and only the hierarchy root bounds the walk */
  for (i = 0; i < ARRAY_SIZE (dirs); i++)
    {
      cleanup_free char *d = xasprintf ("%s%s", mount, dirs[i]);
      fake_cgroup (d, i == 0 && me == 0 ? 0 : user);
    }
  check_deleg (mount, "/a/b/c/d", user, me == 0 ? "/a/b" : "/a", NULL);
  check_deleg (mount, "/x/y", user, "/x", NULL);
  check_deleg (mount, "/a/b/c/d", user + 1, NULL, "is not owned by uid");
  check_deleg (mount, "/", user, NULL, "root cgroup");
  check_deleg (mount, "/a/b/missing", user, NULL, "is not owned by uid");
  if (me == 0)
    {
      /* a parent whose cgroup.procs is not the user's is not delegated */
      cleanup_free char *p = xasprintf ("%s/a/b/c/cgroup.procs", mount);
      if (chown (p, 0, 0) < 0)
        abort ();
      check_deleg (mount, "/a/b/c/d", user, "/a/b/c/d", NULL);
      check_deleg (mount, "/a/b/c", user, NULL, "is not owned by uid");
    }
  else
    skip ("a parent with a control file of another user", "needs root to chown");
  for (i = ARRAY_SIZE (dirs); i-- > 0;)
    {
      cleanup_free char *d = xasprintf ("%s%s", mount, dirs[i]);
      cleanup_free char *f1 = xasprintf ("%s/cgroup.procs", d);
      cleanup_free char *f2 = xasprintf ("%s/cgroup.subtree_control", d);
      unlink (f1);
      unlink (f2);
      rmdir (d);
    }
  rmdir (mount);

  check_rootless_path (NULL, "/deleg/ctr/abc", NULL);
  check_rootless_path ("foo/bar", "/deleg/ctr/foo/bar", NULL);
  check_rootless_path ("/deleg//sub/./x", "/deleg/sub/x", NULL);
  check_rootless_path ("/other/x", NULL,
                       "rootless: linux.cgroupsPath: \"/other/x\": outside the delegated cgroup "
                       "subtree `/deleg`");
  check_rootless_path ("/deleg", NULL, "outside the delegated cgroup subtree");
  check_rootless_path ("/delegx/y", NULL, "outside the delegated cgroup subtree");
  check_rootless_path ("/deleg/shell", NULL, "holds ctr's own cgroup `/deleg/shell`");
  check_rootless_path ("/deleg/../x", NULL, "must stay inside the cgroup hierarchy");
  check_rootless_path ("../x", NULL, "must stay inside the cgroup hierarchy");
}

static void
test_serialize_delegated (void)
{
  enum cgroup_layout layout = cgroup_layout_detect ();
  cleanup_error ctr_error_t err = NULL;
  const struct cg_hierarchy *hs;
  struct cgroup *cg = NULL;
  size_t nh;
  char in[512];

  if (cg_hierarchies (layout, &hs, &nh, &err) < 0 || nh == 0)
    {
      skip ("rootless serialize/load", "no cgroup hierarchy mounted");
      return;
    }
  snprintf (in, sizeof in, "%s;%s:2,delegated:2;/d1/d2/ctr/x", cgroup_layout_name (layout),
            hs[0].key);
  ok (cgroup_load (in, &cg, &err) == 0 && cg && cg->deleg_len == 6, "load `%s`", in);
  diag_err (&err);
  if (cg)
    {
      cleanup_free char *out = cgroup_serialize (cg);
      ok (strcmp (out, in) == 0, "rootless serialize round trip (%s)", out);
      cgroup_free (cg);
      cg = NULL;
    }
  snprintf (in, sizeof in, "%s;%s:3,delegated:2;/d1/d2/ctr/x", cgroup_layout_name (layout),
            hs[0].key);
  ok (cgroup_load (in, &cg, &err) < 0 && strstr (err->msg, "above the delegated subtree"),
      "load refuses a depth reaching the delegation root");
  ctr_error_free (&err);
  snprintf (in, sizeof in, "%s;%s:1,delegated:4;/d1/d2/ctr/x", cgroup_layout_name (layout),
            hs[0].key);
  ok (cgroup_load (in, &cg, &err) < 0, "load refuses a delegation root that is the cgroup");
  ctr_error_free (&err);
  snprintf (in, sizeof in, "%s;delegated:0;/d1/x", cgroup_layout_name (layout));
  ok (cgroup_load (in, &cg, &err) < 0, "load refuses the hierarchy root as delegation root");
  ctr_error_free (&err);
}

static void
test_conversions (void)
{
  int64_t v = 0;
  cleanup_error ctr_error_t err = NULL;

  ok (unified_cpu_weight (1024) == 39 && unified_cpu_weight (2) == 1
          && unified_cpu_weight (262144) == 10000,
      "cpu.shares -> cpu.weight");
  ok (unified_swap_max (64 << 20, 32 << 20, &v, &err) == 0 && v == 32 << 20, "swap - limit");
  ok (unified_swap_max (-1, 32 << 20, &v, &err) == 0 && v == -1, "swap -1 -> max");
  ok (unified_swap_max (0, -1, &v, &err) == 0 && v == -1, "unlimited memory, unset swap -> max");
  ok (unified_swap_max (0, 32 << 20, &v, &err) == 0 && v == -2, "swap 0 -> unset");
  ok (unified_swap_max (16 << 20, 32 << 20, &v, &err) < 0 && strstr (err->msg, "memory.swap"),
      "swap below limit refused");
}

/* A tiny interpreter of the instructions devices_bpf.c emits. */
static int
run_prog (const struct bpf_insn *p, int n, char type, unsigned major, unsigned minor,
          const char *access)
{
  uint32_t ctx[3];
  uint64_t r[11] = { 0 };
  int pc = 0;
  unsigned acc = 0;

  for (; *access; access++)
    acc |= *access == 'r'   ? BPF_DEVCG_ACC_READ
           : *access == 'w' ? BPF_DEVCG_ACC_WRITE
                            : BPF_DEVCG_ACC_MKNOD;
  ctx[0] = acc << 16 | (type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
  ctx[1] = major;
  ctx[2] = minor;
  while (pc < n)
    {
      const struct bpf_insn *i = &p[pc++];
      uint64_t src = (i->code & BPF_X) ? r[i->src_reg] : (uint64_t)(int64_t)i->imm;
      switch (i->code)
        {
        case BPF_LDX | BPF_MEM | BPF_W:
          r[i->dst_reg] = ctx[i->off / 4];
          break;
        case BPF_ALU | BPF_AND | BPF_K:
          r[i->dst_reg] = (uint32_t)(r[i->dst_reg] & src);
          break;
        case BPF_ALU | BPF_RSH | BPF_K:
          r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm;
          break;
        case BPF_ALU | BPF_MOV | BPF_X:
        case BPF_ALU | BPF_MOV | BPF_K:
          r[i->dst_reg] = (uint32_t)src;
          break;
        case BPF_ALU64 | BPF_MOV | BPF_K:
          r[i->dst_reg] = src;
          break;
        case BPF_JMP | BPF_JNE | BPF_K:
          if (r[i->dst_reg] != src)
            pc += i->off;
          break;
        case BPF_JMP | BPF_JEQ | BPF_K:
          if (r[i->dst_reg] == src)
            pc += i->off;
          break;
        case BPF_JMP | BPF_EXIT:
          return (int)r[0];
        default:
          return -1;
        }
    }
  return -2;
}

static void
test_bpf (void)
{
  struct oci_device_cgroup cfg[] = {
    { true, 'c', 1, 11, (char *)"r" },
    { false, 'c', 1, 5, (char *)"w" }, /* zero: later default allows it again */
    { true, 'b', 8, -1, (char *)"rw" },
    { false, 'b', 8, 1, (char *)"w" },
  };
  struct oci_resources res = { .devices = cfg, .devices_len = ARRAY_SIZE (cfg) };
  cleanup_error ctr_error_t err = NULL;
  cleanup_free struct oci_device_cgroup *rules = NULL;
  cleanup_free struct bpf_insn *p = NULL;
  size_t n;
  int count;
  char buf[64];

  rules = cg_device_rules (&res, &n);
  count = devices_bpf_build (rules, n, (void **)&p, &err);
  ok (count > 0, "device program built (%d instructions)", count);
  if (count <= 0)
    return;
  ok (run_prog (p, count, 'c', 1, 3, "rw") == 1, "bpf: /dev/null allowed by default");
  ok (run_prog (p, count, 'c', 1, 11, "r") == 1, "bpf: allowed rule");
  ok (run_prog (p, count, 'c', 1, 11, "rw") == 0, "bpf: partial access denied");
  ok (run_prog (p, count, 'c', 1, 11, "m") == 1, "bpf: mknod of any char device allowed");
  ok (run_prog (p, count, 'c', 4, 1, "r") == 0, "bpf: unknown device denied");
  ok (run_prog (p, count, 'b', 8, 0, "rw") == 1, "bpf: wildcard minor");
  ok (run_prog (p, count, 'b', 8, 1, "r") == 1 && run_prog (p, count, 'b', 8, 1, "rw") == 0,
      "bpf: later deny of one access bit wins for that bit only");
  ok (run_prog (p, count, 'c', 1, 5, "rw") == 1, "bpf: rules run last-match-wins");
  /* access(2) with F_OK asks no bits: allowed where some access is (mknod of every device
     among the defaults, as on v1 and with runc) */
  ok (run_prog (p, count, 'c', 1, 11, "") == 1, "bpf: F_OK of an allowed device allowed");
  ok (run_prog (p, count, 'c', 4, 1, "") == 1, "bpf: F_OK of a device one may mknod allowed");
  free (p);
  p = NULL;
  {
    struct oci_device_cgroup only[] = {
      { false, 'a', -1, -1, (char *)"rwm" }, { true, 'c', 136, -1, (char *)"rw" },
      { true, 'c', 1, 11, (char *)"r" },     { false, 'c', 136, 3, (char *)"w" },
      { false, 'c', 136, 4, (char *)"rwm" },
    };
    count = devices_bpf_build (only, ARRAY_SIZE (only), (void **)&p, &err);
    ok (count > 0 && run_prog (p, count, 'c', 136, 0, "") == 1,
        "bpf: F_OK of an allowed pty (systemd's ConditionPathExists=/dev/console)");
    ok (count > 0 && run_prog (p, count, 'c', 4, 1, "") == 0,
        "bpf: F_OK of an unlisted device denied");
    ok (count > 0 && run_prog (p, count, 'c', 136, 3, "") == 1
            && run_prog (p, count, 'c', 136, 3, "w") == 0,
        "bpf: F_OK stays while some access is allowed");
    ok (count > 0 && run_prog (p, count, 'c', 136, 4, "") == 0,
        "bpf: F_OK denied once all of rwm is");
    free (p);
    p = NULL;
  }
  rules[1].access = (char *)"rx"; /* rules[0] is ctr's deny-all */
  count = devices_bpf_build (rules, n, (void **)&p, &err);
  ok (count < 0 && strstr (err->msg, "devices[0]"), "bpf: invalid access refused (%s)",
      err ? err->msg : "");
  legacy_device_rule (&cfg[2], buf, sizeof buf);
  ok (strcmp (buf, "b 8:* rw") == 0, "v1 rule text `%s`", buf);
}

/* ---- real cgroups (root) ---- */

static char *
member_file (const struct cgroup *cg, unsigned ctrl, const char *file)
{
  ssize_t i = cg->layout == CGROUP_LAYOUT_UNIFIED ? 0 : cg_member_find (cg, ctrl);
  if (i < 0)
    return NULL;
  return xasprintf ("%s%s/%s", cg->m[i].h->mount, cg->path, file);
}

static char *
read_text (const char *path)
{
  char *s = NULL;
  size_t len = 0;
  cleanup_error ctr_error_t err = NULL;
  if (path == NULL || read_file_at (AT_FDCWD, path, 1 << 20, &s, &len, &err) < 0)
    return xstrdup ("");
  while (len && s[len - 1] == '\n')
    s[--len] = '\0';
  return s;
}

static bool
file_is (const struct cgroup *cg, unsigned ctrl, const char *file, const char *want)
{
  cleanup_free char *path = member_file (cg, ctrl, file);
  cleanup_free char *s = read_text (path);
  if (strcmp (s, want) != 0)
    printf ("# %s: `%s`, expected `%s`\n", path ? path : file, s, want);
  return strcmp (s, want) == 0;
}

/* No directory named `name` at the top of any mounted cgroup hierarchy. */
static bool
nothing_left_q (const char *name, bool quiet)
{
  cleanup_free char *text = read_text ("/proc/self/mountinfo");
  char *save = NULL, *line;
  bool clean = true;

  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char mnt[512], *sep = strstr (line, " - cgroup");
      cleanup_free char *p = NULL;
      struct stat st;
      if (sep == NULL || sscanf (line, "%*s %*s %*s %*s %511s", mnt) != 1)
        continue;
      p = xasprintf ("%s/%s", mnt, name);
      if (stat (p, &st) == 0)
        {
          if (!quiet)
            printf ("# left behind: %s\n", p);
          clean = false;
        }
    }
  return clean;
}

static bool
nothing_left (const char *name)
{
  return nothing_left_q (name, false);
}

/* A child that reports device access inside the cgroup, then waits to be killed. */
static pid_t
spawn_child (int *go_w, int *report_r)
{
  int go[2], rep[2];
  pid_t pid;

  if (pipe2 (go, O_CLOEXEC) < 0 || pipe2 (rep, O_CLOEXEC) < 0)
    abort ();
  pid = fork ();
  if (pid == 0)
    {
      char c, res[3];
      int fd;
      if (read (go[0], &c, 1) != 1)
        _exit (1);
      fd = open ("/dev/kmsg", O_RDONLY | O_CLOEXEC);
      res[0] = fd >= 0 ? 'y' : (errno == EPERM ? 'n' : '?');
      fd = open ("/dev/kmsg", O_WRONLY | O_CLOEXEC);
      res[1] = fd >= 0 ? 'y' : (errno == EPERM ? 'n' : '?');
      fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
      res[2] = fd >= 0 ? 'y' : (errno == EPERM ? 'n' : '?');
      if (write (rep[1], res, 3) != 3)
        _exit (1);
      for (;;)
        pause ();
    }
  close (go[0]);
  close (rep[1]);
  *go_w = go[1];
  *report_r = rep[0];
  return pid;
}

static void
check_freeze (struct cgroup *cg)
{
  cleanup_error ctr_error_t err = NULL;
  bool frozen = false;

  ok (cgroup_freeze (cg, true, &err) == 0 && cgroup_is_frozen (cg, &frozen, &err) == 0 && frozen,
      "freeze");
  diag_err (&err);
  if (cg->layout == CGROUP_LAYOUT_UNIFIED)
    ok (file_is (cg, 0, "cgroup.freeze", "1"), "cgroup.freeze is 1");
  else
    ok (file_is (cg, CG_FREEZER, "freezer.state", "FROZEN"), "freezer.state is FROZEN");
  ok (cgroup_freeze (cg, false, &err) == 0 && cgroup_is_frozen (cg, &frozen, &err) == 0 && !frozen,
      "thaw");
  diag_err (&err);
}

static void
test_lifecycle (const char *top, struct oci_resources *res)
{
  cleanup_error ctr_error_t err = NULL;
  cleanup_free char *path = xasprintf ("/%s/c1", top), *ser = NULL;
  struct cgroup_config cfg = { .cgroups_path = path, .id = "c1", .resources = res };
  struct cgroup *cg = NULL, *cg2 = NULL;
  cleanup_free pid_t *pids = NULL;
  size_t npids = 0, i;
  int go, rep, status;
  bool found = false;
  char rbuf[4] = "";
  pid_t pid;

  ok (cgroup_create (&cfg, &cg, &err) == 0, "create %s (%s layout)", path,
      cgroup_layout_name (cgroup_layout_detect ()));
  diag_err (&err);
  if (cg == NULL)
    return;
  ser = cgroup_serialize (cg);
  printf ("# state: %s\n", ser);
  ok (strstr (ser, ":0") == NULL, "every hierarchy's directory owned (depth > 0)");
  ok (cg->layout == CGROUP_LAYOUT_LEGACY || cgroup_v2_fd (cg) >= 0,
      "cgroup2 fd for CLONE_INTO_CGROUP");
  pid = spawn_child (&go, &rep);
  ok (cgroup_enter (cg, pid, false, &err) == 0, "enter child %d", (int)pid);
  diag_err (&err);
  if (write (go, "g", 1) != 1 || read (rep, rbuf, 3) != 3)
    rbuf[0] = '\0';
  ok (strcmp (rbuf, "yny") == 0,
      "device rules: /dev/kmsg r allowed, w denied, /dev/null rw allowed (%s)", rbuf);
  if (cg->layout == CGROUP_LAYOUT_UNIFIED)
    ok (file_is (cg, 0, "memory.max", "33554432") && file_is (cg, 0, "pids.max", "20"),
        "memory.max and pids.max written");
  else
    ok (file_is (cg, CG_MEMORY, "memory.limit_in_bytes", "33554432")
            && file_is (cg, CG_PIDS, "pids.max", "20"),
        "memory.limit_in_bytes and pids.max written");
  if (cg->layout == CGROUP_LAYOUT_HYBRID)
    {
      cleanup_free char *p = xasprintf ("/sys/fs/cgroup/unified%s/cgroup.procs", cg->path);
      cleanup_free char *s = read_text (p);
      ok (atoi (s) == pid, "hybrid: the child also joined the cgroup2 directory");
    }
  {
    uint64_t kills = 99;
    ok (cgroup_oom_kills (cg, &kills, &err) == 0 && kills == 0, "no OOM kill so far");
    diag_err (&err);
  }
  ok (cgroup_pids (cg, &pids, &npids, &err) == 0, "cgroup_pids");
  for (i = 0; i < npids; i++)
    found |= pids[i] == pid;
  ok (found && npids == 1, "cgroup_pids finds the child only (%zu)", npids);

  check_freeze (cg);

  res->pids_limit = 30;
  ok (cgroup_update (cg, res, &err) == 0 && file_is (cg, CG_PIDS, "pids.max", "30"),
      "update pids.max to 30");
  diag_err (&err);

  /* a later command works from the serialized form */
  ok (cgroup_load (ser, &cg2, &err) == 0, "load from state");
  diag_err (&err);
  if (cg2 == NULL)
    cg2 = cg;
  ok (cgroup_kill (cg2, SIGKILL, &err) == 0, "cgroup_kill SIGKILL");
  diag_err (&err);
  ok (waitpid (pid, &status, 0) == pid && WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL,
      "the child died of SIGKILL");
  close (go);
  close (rep);
  ok (cgroup_destroy (cg2, &err) == 0, "destroy");
  diag_err (&err);
  ok (nothing_left (top), "no directory left in any hierarchy (incl. /%s)", top);
  if (cg2 != cg)
    cgroup_free (cg2);
  cgroup_free (cg);
}

/* destroy alone kills what is left; a path that existed is joined and kept. */
static void
test_destroy_and_join (const char *top)
{
  cleanup_error ctr_error_t err = NULL;
  cleanup_free char *path = xasprintf ("/%s/c2", top);
  struct cgroup_config cfg = { .cgroups_path = path, .id = "c2" };
  struct cgroup *a = NULL, *b = NULL;
  int go, rep, status;
  char *ser;
  pid_t pid;

  if (cgroup_create (&cfg, &a, &err) < 0)
    {
      ok (false, "create %s", path);
      diag_err (&err);
      return;
    }
  ok (cgroup_create (&cfg, &b, &err) == 0, "create on an existing path joins it");
  diag_err (&err);
  if (b)
    {
      ser = cgroup_serialize (b);
      ok (strstr (ser, ":1") == NULL && strstr (ser, ":2") == NULL, "joined: nothing owned (%s)",
          ser);
      free (ser);
      ok (cgroup_destroy (b, &err) == 0 && !nothing_left_q (top, true),
          "destroying the joiner keeps it");
      cgroup_free (b);
    }
  pid = spawn_child (&go, &rep);
  cgroup_enter (a, pid, false, &err);
  diag_err (&err);
  ok (cgroup_destroy (a, &err) == 0, "destroy with a live process");
  diag_err (&err);
  ok (waitpid (pid, &status, 0) == pid && WIFSIGNALED (status), "destroy killed the process");
  ok (nothing_left (top), "destroy removed everything");
  close (go);
  close (rep);
  cgroup_free (a);
}

static void
test_failures (const char *top)
{
  cleanup_error ctr_error_t err = NULL;
  cleanup_free char *path = xasprintf ("/%s/c3", top);
  struct oci_cpu cpu = { .cpus = (char *)"9999" };
  struct oci_resources res = { .cpu = &cpu };
  struct cgroup_config cfg = { .cgroups_path = path, .id = "c3", .resources = &res };
  struct cgroup *cg = NULL;

  int r = cgroup_create (&cfg, &cg, &err);
  ok (r < 0 && err && strstr (err->msg, "linux.resources.cpu.cpus: write cpuset.cpus"),
      "bad cpuset refused: %s", err ? err->msg : "no error");
  ctr_error_free (&err);
  ok (nothing_left (top), "a failed create leaves nothing behind");

  /* as root on cgroup v2 every cgroup looks delegated: rootless_cgroups.bats covers that */
  if (cgroup_layout_detect () == CGROUP_LAYOUT_UNIFIED)
    {
      skip ("rootless without a delegated subtree", "pure cgroup v2 host");
      return;
    }
  cfg.rootless = true;
  ok (cgroup_create (&cfg, &cg, &err) < 0 && err
          && strstr (err->msg, "rootless: linux.resources.cpu: limits need a delegated cgroup v2 "
                               "subtree: the host's cgroup layout is"),
      "rootless with limits refused: %s", err ? err->msg : "no error");
  ctr_error_free (&err);
  cfg.resources = NULL;
  ok (cgroup_create (&cfg, &cg, &err) == 0 && cg && cg->n == 0 && cgroup_v2_fd (cg) < 0,
      "rootless without limits: no cgroup");
  cgroup_destroy (cg, NULL);
  cgroup_free (cg);
  ok (nothing_left (top), "rootless created nothing");
}

/* cgroup v2: read back what test_resources wrote, then updates. */
static void
check_resources_v2 (struct cgroup *cg)
{
  cleanup_error ctr_error_t err = NULL;
  int r;

  ok (file_is (cg, 0, "memory.max", "67108864") && file_is (cg, 0, "memory.low", "16777216")
          && file_is (cg, 0, "memory.swap.max", "67108864"),
      "memory.max, memory.low, memory.swap.max = swap - limit");
  ok (file_is (cg, 0, "cpu.weight", "39") && file_is (cg, 0, "cpu.max", "50000 100000"),
      "cpu.weight from shares, cpu.max");
  ok (file_is (cg, 0, "cpuset.cpus", "0") && file_is (cg, 0, "pids.max", "50")
          && file_is (cg, 0, "hugetlb.2MB.max", "4194304")
          && file_is (cg, 0, "memory.high", "52428800"),
      "cpuset.cpus, pids.max, hugetlb.2MB.max, unified memory.high");
  {
    struct oci_cpu c2 = { .has_period = true, .period = 200000 };
    struct oci_resources u = { .cpu = &c2 };
    ok (cgroup_update (cg, &u, &err) == 0 && file_is (cg, 0, "cpu.max", "50000 200000"),
        "update of the period alone keeps the quota");
    diag_err (&err);
  }
  {
    struct oci_kv bad = { .key = (char *)"nosuch.file", .value = (char *)"1" };
    struct oci_resources u = { .unified = &bad, .unified_len = 1 };
    r = cgroup_update (cg, &u, &err);
    ok (r < 0 && err
            && strcmp (err->msg, "linux.resources.unified.nosuch.file: write nosuch.file") == 0,
        "unknown unified key: %s", err ? err->msg : "no error");
    ctr_error_free (&err);
  }
}

/* cgroup v1: read back what test_resources wrote, then updates. */
static void
check_resources_v1 (struct cgroup *cg)
{
  cleanup_error ctr_error_t err = NULL;
  struct oci_kv kv = { .key = (char *)"memory.high", .value = (char *)"52428800" };
  int r;

  ok (file_is (cg, CG_MEMORY, "memory.limit_in_bytes", "67108864")
          && file_is (cg, CG_MEMORY, "memory.memsw.limit_in_bytes", "134217728")
          && file_is (cg, CG_MEMORY, "memory.soft_limit_in_bytes", "16777216")
          && file_is (cg, CG_MEMORY, "memory.swappiness", "10"),
      "memory limit, memsw, soft limit, swappiness");
  ok (file_is (cg, CG_CPU, "cpu.shares", "512") && file_is (cg, CG_CPU, "cpu.cfs_quota_us", "50000")
          && file_is (cg, CG_CPU, "cpu.cfs_period_us", "100000")
          && file_is (cg, CG_CPUSET, "cpuset.cpus", "0"),
      "cpu.shares, cfs quota and period, cpuset.cpus");
  {
    struct oci_memory m2
        = { .has_limit = true, .limit = 256 << 20, .has_swap = true, .swap = 512 << 20 };
    struct oci_resources u = { .memory = &m2 };
    ok (cgroup_update (cg, &u, &err) == 0
            && file_is (cg, CG_MEMORY, "memory.limit_in_bytes", "268435456")
            && file_is (cg, CG_MEMORY, "memory.memsw.limit_in_bytes", "536870912"),
        "raising memory above the old memsw limit (memsw written first)");
    diag_err (&err);
  }
  {
    struct oci_memory m3 = { .has_limit = true, .limit = -42 };
    struct oci_resources u = { .memory = &m3 };
    r = cgroup_update (cg, &u, &err);
    ok (r < 0 && err
            && strcmp (err->msg, "linux.resources.memory.limit: write memory.limit_in_bytes") == 0
            && err->status == EINVAL,
        "bad value: %s", err ? err->msg : "no error");
    ctr_error_free (&err);
  }
  {
    struct oci_resources u = { .unified = &kv, .unified_len = 1 };
    ok (cgroup_update (cg, &u, &err) < 0 && err
            && strcmp (err->msg, "linux.resources.unified: requires cgroup v2") == 0,
        "unified map on v1 refused");
    ctr_error_free (&err);
  }
}

/* Most resources at once, read back; on the layout this runs on. */
/* Whether this v1 host's blkio controller has weight files (CFQ or BFQ). */
static bool
v1_blkio_weights (void)
{
  return access (CGROUP_ROOT "/blkio/blkio.weight", F_OK) == 0
         || access (CGROUP_ROOT "/blkio/blkio.bfq.weight", F_OK) == 0;
}

/* Without them a weight is refused with the reason, at create, and nothing is left. */
static void
test_no_blkio_weights (const char *top)
{
  cleanup_error ctr_error_t err = NULL;
  cleanup_free char *path = xasprintf ("/%s/c8", top);
  struct oci_block_io bio = { .has_weight = true, .weight = 100 };
  struct oci_resources res = { .block_io = &bio };
  struct cgroup_config cfg = { .cgroups_path = path, .id = "c8", .resources = &res };
  struct cgroup *cg = NULL;
  int r = cgroup_create (&cfg, &cg, &err);

  ok (r < 0 && err
          && strcmp (err->msg, "linux.resources.blockIO.weight: this host's blkio controller "
                               "has no weights (they need the BFQ I/O scheduler)")
                 == 0,
      "blkio weight without BFQ: %s", err ? err->msg : "accepted");
  ok (nothing_left (top), "the refused create left nothing");
}

static void
test_resources (const char *top)
{
  cleanup_error ctr_error_t err = NULL;
  cleanup_free char *path = xasprintf ("/%s/c4", top);
  struct oci_memory mem = { .has_limit = true,
                            .limit = 64 << 20,
                            .has_reservation = true,
                            .reservation = 16 << 20,
                            .has_swap = true,
                            .swap = 128 << 20 };
  struct oci_cpu cpu = { .has_shares = true,
                         .shares = 1024,
                         .has_quota = true,
                         .quota = 50000,
                         .has_period = true,
                         .period = 100000,
                         .cpus = (char *)"0",
                         .mems = (char *)"0" };
  struct oci_block_io bio = { .has_weight = true, .weight = 100 };
  struct oci_hugepage_limit huge = { .page_size = (char *)"2MB", .limit = 4 << 20 };
  struct oci_kv kv = { .key = (char *)"memory.high", .value = (char *)"52428800" };
  struct oci_resources res
      = { .memory = &mem, .cpu = &cpu, .has_pids_limit = true, .pids_limit = 50, .block_io = &bio };
  struct cgroup_config cfg = { .cgroups_path = path, .id = "c4", .resources = &res };
  bool v2 = cgroup_layout_detect () == CGROUP_LAYOUT_UNIFIED;
  struct cgroup *cg = NULL;
  int r;

  if (v2)
    {
      /* on the hybrid host this would enable hugetlb in the host's cgroup2 root */
      res.hugepage_limits = &huge;
      res.hugepage_limits_len = 1;
      res.unified = &kv;
      res.unified_len = 1;
    }
  else
    {
      mem.has_swappiness = true;
      mem.swappiness = 10;
      cpu.shares = 512;
      /* blkio weights need an I/O scheduler that has them: test_no_blkio_weights */
      if (!v1_blkio_weights ())
        res.block_io = NULL;
    }
  r = cgroup_create (&cfg, &cg, &err);
  ok (r == 0, "create with memory, swap, cpu, cpuset, pids, io%s", v2 ? ", hugetlb, unified" : "");
  diag_err (&err);
  if (r < 0)
    return;
  if (v2)
    check_resources_v2 (cg);
  else
    check_resources_v1 (cg);
  ok (cgroup_destroy (cg, &err) == 0 && nothing_left (top), "destroy");
  diag_err (&err);
  cgroup_free (cg);
}

static void
test_oom (const char *top)
{
  cleanup_error ctr_error_t err = NULL;
  cleanup_free char *path = xasprintf ("/%s/c5", top);
  struct oci_memory mem
      = { .has_limit = true, .limit = 16 << 20, .has_swap = true, .swap = 16 << 20 };
  struct oci_resources res = { .memory = &mem };
  struct cgroup_config cfg = { .cgroups_path = path, .id = "c5", .resources = &res };
  struct cgroup *cg = NULL;
  struct cgroup_stats st;
  uint64_t kills = 0;
  int go[2], status = 0, watch = -1;
  pid_t pid;
  char c;

  if (cgroup_create (&cfg, &cg, &err) < 0)
    {
      ok (false, "create %s with a 16M limit and no swap", path);
      diag_err (&err);
      return;
    }
  if (pipe2 (go, O_CLOEXEC) < 0)
    abort ();
  pid = fork ();
  if (pid == 0)
    {
      size_t size = 64 << 20;
      char *p;
      if (read (go[0], &c, 1) != 1)
        _exit (1);
      p = malloc (size);
      for (size_t i = 0; p && i < size; i += 4096)
        p[i] = 1;
      _exit (0);
    }
  close (go[0]);
  cgroup_enter (cg, pid, false, &err);
  diag_err (&err);
  ok (cgroup_oom_watch (cg, &watch, &err) == 0 && watch >= 0, "cgroup_oom_watch gives an fd");
  diag_err (&err);
  if (write (go[1], "g", 1) != 1)
    abort ();
  close (go[1]);
  waitpid (pid, &status, 0);
  ok (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL, "64M in a 16M cgroup: OOM-killed");
  status = cgroup_oom_kills (cg, &kills, &err);
  ok (status == 0 && kills >= 1, "cgroup_oom_kills reports it (%llu)", (unsigned long long)kills);
  diag_err (&err);
  if (watch >= 0)
    {
      struct pollfd p = { watch, POLLIN, 0 };
      ok (poll (&p, 1, 1000) == 1, "the OOM watch fd became readable");
      cgroup_oom_watch_drain (watch);
      close (watch);
    }
  ok (cgroup_stats (cg, &st, &err) == 0, "cgroup_stats");
  diag_err (&err);
  ok (st.has_memory && st.memory_limit == 16 << 20, "stats: memory limit %llu",
      (unsigned long long)st.memory_limit);
  ok (st.has_oom_kills && st.oom_kills == kills, "stats: oom kills %llu",
      (unsigned long long)st.oom_kills);
  ok (st.has_pids && st.pids_current == 0 && st.pids_limit == 0, "stats: pids %llu/%llu",
      (unsigned long long)st.pids_current, (unsigned long long)st.pids_limit);
  ok (st.has_cpu && st.cpu_usage_ns > 0, "stats: cpu usage %llu ns",
      (unsigned long long)st.cpu_usage_ns);
  ok (st.memory_raw_len > 0, "stats: memory.stat has %zu values", st.memory_raw_len);
  cgroup_stats_clear (&st);
  ok (cgroup_destroy (cg, &err) == 0 && nothing_left (top), "destroy");
  diag_err (&err);
  cgroup_free (cg);
}

/* Creates a directory named `name` inside the container's directory in every hierarchy,
   as a container managing its own cgroups would. */
static bool
make_nested (const struct cgroup *cg, const char *name)
{
  size_t i;
  for (i = 0; i < cg->n; i++)
    {
      cleanup_free char *p = xasprintf ("%s%s/%s", cg->m[i].h->mount, cg->path, name);
      if (mkdir (p, 0755) < 0)
        return false;
    }
  return true;
}

/* The short cuts: leaf-first mkdir, the cpuset copied down a new chain, one rmdir per
   directory at destroy and the careful path when that is refused, whole-file reads. */
static void
test_fast_paths (const char *top)
{
  cleanup_error ctr_error_t err = NULL;
  cleanup_free char *p6 = xasprintf ("/%s/c6", top), *p7 = xasprintf ("/%s/c7", top);
  cleanup_free char *s6 = NULL, *s7 = NULL, *big = xmalloc (10001), *got = NULL;
  struct cgroup_config c6 = { .cgroups_path = p6, .id = "c6" };
  struct cgroup_config c7 = { .cgroups_path = p7, .id = "c7" };
  struct cgroup *a = NULL, *b = NULL;
  char tmp[] = "/tmp/test-cgroup-XXXXXX";
  int fd;

  if (cgroup_create (&c6, &a, &err) < 0 || cgroup_create (&c7, &b, &err) < 0)
    {
      ok (false, "create %s and %s", p6, p7);
      diag_err (&err);
      cgroup_destroy (a, NULL);
      cgroup_free (a);
      return;
    }
  s6 = cgroup_serialize (a);
  s7 = cgroup_serialize (b);
  ok (strstr (s6, ":1") == NULL && strstr (s6, ":0") == NULL && strstr (s7, ":2") == NULL
          && strstr (s7, ":0") == NULL,
      "new parent: depth 2 (%s); sibling under it: depth 1 (%s)", s6, s7);
  if (cg_member_find (a, CG_CPUSET) >= 0)
    {
      ssize_t i = cg_member_find (a, CG_CPUSET);
      cleanup_free char *rp = xasprintf ("%s/cpuset.cpus", a->m[i].h->mount);
      cleanup_free char *rm = xasprintf ("%s/cpuset.mems", a->m[i].h->mount);
      cleanup_free char *root_cpus = read_text (rp), *root_mems = read_text (rm);
      ok (file_is (a, CG_CPUSET, "cpuset.cpus", root_cpus)
              && file_is (a, CG_CPUSET, "cpuset.mems", root_mems)
              && file_is (b, CG_CPUSET, "cpuset.cpus", root_cpus),
          "cpuset copied down a new chain (%s, %s)", root_cpus, root_mems);
    }
  else
    skip ("cpuset copied down a new chain", "no v1 cpuset hierarchy");
  ok (make_nested (a, "inner"), "nested cgroups made inside c6");
  ok (cgroup_destroy (a, &err) == 0, "destroy with nested cgroups (the careful path)");
  diag_err (&err);
  {
    /* c6 and its nested directory went; the shared parent stays for c7 */
    cleanup_free char *n6 = xasprintf ("%s/c6", top);
    ok (nothing_left (n6) && !nothing_left_q (top, true), "c6 removed, %s kept for c7", top);
  }
  {
    /* c7 owns only its leaf: the parent c6 made and could not remove is the test's now */
    cleanup_free char *n7 = xasprintf ("%s/c7", top);
    size_t i;
    ok (cgroup_destroy (b, &err) == 0 && nothing_left (n7), "destroy of an empty cgroup");
    diag_err (&err);
    for (i = 0; i < b->n; i++)
      {
        cleanup_free char *t = xasprintf ("%s/%s", b->m[i].h->mount, top);
        rmdir (t);
      }
    ok (nothing_left (top), "nothing left");
  }
  cgroup_free (a);
  cgroup_free (b);

  memset (big, 'x', 10000);
  big[10000] = '\0';
  fd = mkstemp (tmp);
  if (fd < 0 || write (fd, big, 10000) != 10000 || write (fd, "\n", 1) != 1)
    abort ();
  close (fd);
  ok (cg_read (AT_FDCWD, tmp, &got, &err) == 0 && strcmp (got, big) == 0,
      "cg_read: a file over half a page is read whole");
  diag_err (&err);
  unlink (tmp);
  free (got);
  got = NULL;
  ok (cg_read (AT_FDCWD, "/proc/self/cgroup", &got, &err) == 0 && strchr (got, ':'),
      "cg_read: a short seq_file");
  diag_err (&err);
}

static void
test_stats_parsers (void)
{
  struct cgroup_stats s = { 0 };
  struct cgroup_blkio_entry *b = NULL;
  struct cgroup_stat_value *kv;
  uint64_t v = 0, *list;
  size_t n = 0;
  char name[16];

  ok (cg_stat_kv ("nr_periods 5\nnr_throttled 2\nthrottled_time 77", "nr_throttled", &v) && v == 2,
      "flat keyed file: nr_throttled");
  ok (!cg_stat_kv ("oom 1\noom_kill 3", "oom_kil", &v), "flat keyed file: no prefix match");
  ok (cg_stat_kv ("oom 1\noom_kill 3\n", "oom_kill", &v) && v == 3, "flat keyed file: oom_kill");
  kv = cg_stat_parse_flat ("rss 10\ncache 20\nbad line\nactive_anon 5\n", &n);
  ok (n == 3 && strcmp (kv[0].key, "active_anon") == 0 && strcmp (kv[1].key, "cache") == 0
          && kv[1].value == 20,
      "memory.stat: parsed and sorted by key");
  for (size_t i = 0; i < n; i++)
    free (kv[i].key);
  free (kv);
  list = cg_stat_parse_list ("1951425 6082286 \n", &n);
  ok (n == 2 && list[0] == 1951425 && list[1] == 6082286, "cpuacct.usage_percpu");
  free (list);
  n = 0;
  cg_stat_parse_blkio_v1 ("8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n", &b, &n);
  ok (n == 3 && b[0].major == 8 && b[0].minor == 0 && strcmp (b[1].op, "Write") == 0
          && b[1].value == 8192 && strcmp (b[2].op, "Total") == 0,
      "blkio v1: device lines kept, the closing Total line dropped");
  free (b);
  cg_stat_parse_io_v2 ("259:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n", &s);
  ok (s.io_service_bytes_len == 2 && s.io_service_bytes[0].major == 259
          && strcmp (s.io_service_bytes[0].op, "Read") == 0 && s.io_service_bytes[1].value == 200
          && s.io_serviced_len == 2 && s.io_serviced[1].value == 4,
      "io.stat: bytes and ios per direction");
  cg_stat_parse_cpu_v2 ("usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\n"
                        "nr_throttled 4\nthrottled_usec 250\n",
                        &s);
  ok (s.has_cpu && s.cpu_usage_ns == 1500000 && s.cpu_user_ns == 1000000
          && s.cpu_kernel_ns == 500000 && s.has_cpu_throttling && s.cpu_throttled_periods == 4
          && s.cpu_throttled_ns == 250000,
      "cpu.stat (v2): microseconds to nanoseconds");
  cgroup_stats_clear (&s);
  cg_stat_hugepage_name (2048, name, sizeof name);
  ok (strcmp (name, "2MB") == 0, "hugepage 2048kB -> %s", name);
  cg_stat_hugepage_name (1048576, name, sizeof name);
  ok (strcmp (name, "1GB") == 0, "hugepage 1048576kB -> %s", name);
  cg_stat_hugepage_name (64, name, sizeof name);
  ok (strcmp (name, "64KB") == 0, "hugepage 64kB -> %s", name);
}

static void
test_events_format (void)
{
  static const struct
  {
    const char *in;
    uint64_t ns; /* 0: invalid */
  } d[] = { { "5s", 5000000000ULL },
            { "500ms", 500000000ULL },
            { "2m", 120000000000ULL },
            { "1m30s", 90000000000ULL },
            { "1.5h", 5400000000000ULL },
            { "10us", 10000 },
            { "+1s", 1000000000ULL },
            { "5", 0 },
            { "0", 0 },
            { "0s", 0 },
            { "-1s", 0 },
            { "1x", 0 },
            { "", 0 },
            { "s", 0 },
            { "1.s", 1000000000ULL },
            { ".", 0 },
            { "3000000h", 0 } };
  struct cgroup_blkio_entry blk = { 8, 0, 4096, "Read" };
  struct cgroup_hugetlb_stats h[2] = { { "2MB", 4096, 0, 1 }, { "1GB", 0, 0, 0 } };
  struct cgroup_stat_value raw = { (char *)"cache", 7 };
  struct cgroup_stats s = { .cpu_usage_ns = 10,
                            .cpuset_cpus = (char *)"0-2,5",
                            .memory_usage = 100,
                            .memory_limit = UINT64_MAX,
                            .memory_cache = 7,
                            .memory_raw = &raw,
                            .memory_raw_len = 1,
                            .pids_current = 3,
                            .io_service_bytes = &blk,
                            .io_service_bytes_len = 1,
                            .hugetlb = h,
                            .hugetlb_len = 2 };
  size_t i, len;
  char *json;

  for (i = 0; i < ARRAY_SIZE (d); i++)
    {
      uint64_t ns = 0;
      int r = events_parse_duration (d[i].in, &ns);
      if (d[i].ns)
        ok (r == 0 && ns == d[i].ns, "duration `%s` = %llu ns", d[i].in, (unsigned long long)ns);
      else
        ok (r < 0, "duration `%s` refused", d[i].in);
    }
  json = events_stats_json ("c1", &s, &len);
  ok (strcmp (json,
              "{\"type\":\"stats\",\"id\":\"c1\",\"data\":{\"cpu\":{\"usage\":{\"total\":10,"
              "\"kernel\":0,\"user\":0},\"throttling\":{}},\"cpuset\":{\"cpus\":[0,1,2,5],"
              "\"cpu_exclusive\":0,\"mem_hardwall\":0,\"mem_exclusive\":0,\"memory_migrate\":0,"
              "\"memory_spread_page\":0,\"memory_spread_slab\":0,\"memory_pressure\":0,"
              "\"sched_load_balance\":0,\"sched_relax_domain_level\":0},\"memory\":{\"cache\":7,"
              "\"usage\":{\"limit\":18446744073709551615,\"usage\":100,\"failcnt\":0},"
              "\"swap\":{\"limit\":0,\"failcnt\":0},\"kernel\":{\"limit\":0,\"failcnt\":0},"
              "\"kernelTCP\":{\"limit\":0,\"failcnt\":0},\"raw\":{\"cache\":7}},\"pids\":{"
              "\"current\":3},\"blkio\":{\"ioServiceBytesRecursive\":[{\"major\":8,\"op\":"
              "\"Read\",\"value\":4096}]},\"hugetlb\":{\"1GB\":{\"failcnt\":0},\"2MB\":{"
              "\"usage\":4096,\"failcnt\":1}},\"intel_rdt\":{},\"network_interfaces\":null}}")
          == 0,
      "stats event: runc's layout, zero values left out as Go's omitempty does");
  if (failures)
    printf ("# %s\n", json);
  free (json);
  json = events_oom_json ("c1", &len);
  ok (strcmp (json, "{\"type\":\"oom\",\"id\":\"c1\"}") == 0, "oom event");
  free (json);
}

int
main (void)
{
  struct oci_device_cgroup devs[]
      = { { false, 'a', -1, -1, (char *)"rwm" }, { true, 'c', 1, 11, (char *)"r" } };
  struct oci_memory mem = { .has_limit = true, .limit = 32 << 20 };
  struct oci_resources res = { .memory = &mem,
                               .has_pids_limit = true,
                               .pids_limit = 20,
                               .devices = devs,
                               .devices_len = ARRAY_SIZE (devs) };
  char top[64];

  test_paths ();
  test_mountinfo ();
  test_serialize ();
  test_rootless_paths ();
  test_serialize_delegated ();
  test_conversions ();
  test_bpf ();
  test_stats_parsers ();
  test_events_format ();
  snprintf (top, sizeof top, "ctr-test-%d", (int)getpid ());
  if (geteuid () != 0)
    skip ("real cgroups", "needs root");
  else
    {
      test_lifecycle (top, &res);
      test_destroy_and_join (top);
      test_failures (top);
      test_resources (top);
      if (cgroup_layout_detect () != CGROUP_LAYOUT_UNIFIED && !v1_blkio_weights ())
        test_no_blkio_weights (top);
      test_oom (top);
      test_fast_paths (top);
    }
  printf ("1..%d\n", test_no);
  return failures ? 1 : 0;
}
