/* oci/spec: the default config.json of `ctr spec` and the `ctr features` document. */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "oci/oci.h"
#include "base/json.h"
#include "oci/sections.h"
#include "oci/seccomp_default.h"
#include "base/util.h"

static const char *const default_caps[]
    = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };

/* A system container's init mounts, chowns, binds low ports, sets its clock-less hostname
   and network, and reboots (which in a pid namespace only ends that namespace's init):
   Docker's default set plus what LXC leaves an OS container. */
static const char *const system_caps[] = {
  "CAP_AUDIT_WRITE",
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_MKNOD",
  "CAP_NET_ADMIN",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_RAW",
  "CAP_SETFCAP",
  "CAP_SETGID",
  "CAP_SETPCAP",
  "CAP_SETUID",
  "CAP_SYS_BOOT",
  "CAP_SYS_CHROOT",
  "CAP_SYS_NICE",
  "CAP_SYS_PTRACE",
  NULL,
};

/* What an unprivileged system container's root adds to system_caps, as LXC's userns.conf
   keeps every capability: in the container's own user namespace they act on its own
   namespaces only (mount, sethostname, its network and ipc), nothing on the host. Left out
   are those whose only use is in the host's namespace (modules, raw io, the clock, process
   accounting, the kernel log, bpf, perf, vhangup, LSM policy): held in a user namespace
   they grant nothing, and the default seccomp profile would open their calls. */
const char *const oci_system_userns_caps[] = {
  "CAP_AUDIT_CONTROL",   "CAP_AUDIT_READ",
  "CAP_BLOCK_SUSPEND",   "CAP_CHECKPOINT_RESTORE",
  "CAP_DAC_READ_SEARCH", "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",       "CAP_LEASE",
  "CAP_LINUX_IMMUTABLE", "CAP_NET_BROADCAST",
  "CAP_SYS_ADMIN",       "CAP_SYS_RESOURCE",
  "CAP_WAKE_ALARM",      NULL,
};

static const char *const default_env[]
    = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL };

const char *const oci_default_masked_paths[] = {
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
  NULL,
};

const char *const oci_default_readonly_paths[]
    = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL };

/* Every option the rootfs code understands. */
static const char *const mount_options[] = {
  "async",      "atime",    "bind",        "dev",         "diratime",   "dirsync",
  "exec",       "lazytime", "loud",        "mand",        "noatime",    "nodev",
  "nodiratime", "noexec",   "nolazytime",  "nomand",      "norelatime", "nostrictatime",
  "nosuid",     "private",  "rbind",       "relatime",    "remount",    "ro",
  "rprivate",   "rshared",  "rslave",      "runbindable", "rw",         "shared",
  "silent",     "slave",    "strictatime", "suid",        "sync",       "tmpcopyup",
  "unbindable", "idmap",    "ridmap",      NULL,
};

static const char *const capability_names[] = {
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
  NULL,
};

static void
map_open_at (json_writer *w, const char *key)
{
  json_key (w, key);
  json_map_open (w);
}

static void
array_open_at (json_writer *w, const char *key)
{
  json_key (w, key);
  json_array_open (w);
}

static void
write_strv (json_writer *w, const char *key, const char *const *v)
{
  array_open_at (w, key);
  for (; *v; v++)
    json_string (w, *v);
  json_array_close (w);
}

static bool
env_has (const char *const *env, const char *name)
{
  size_t len = strlen (name);
  for (; env && *env; env++)
    if (strncmp (*env, name, len) == 0 && (*env)[len] == '=')
      return true;
  return false;
}

static void
write_env (json_writer *w, const char *const *extra, bool container_env)
{
  array_open_at (w, "env");
  /* an OS container's init learns it runs in one, and whose (systemd's Container
     Interface; LXC says container=lxc) */
  if (container_env && !env_has (extra, "container"))
    json_string (w, "container=ctr");
  for (const char *const *e = default_env; *e; e++)
    {
      size_t name_len = strcspn (*e, "=") + 1;
      bool overridden = false;
      /* NAME=VALUE replaces a default, a bare NAME takes it away */
      for (const char *const *x = extra; x && *x && !overridden; x++)
        overridden = strncmp (*x, *e, name_len) == 0
                     || (strncmp (*x, *e, name_len - 1) == 0 && (*x)[name_len - 1] == '\0');
      if (!overridden)
        json_string (w, *e);
    }
  for (; extra && *extra; extra++)
    if (strchr (*extra, '='))
      json_string (w, *extra);
  json_array_close (w);
}

static void
write_process (json_writer *w, const struct oci_spec_options *o)
{
  const char *const *caps = o->system ? system_caps : default_caps;

  map_open_at (w, "process");
  json_kv_bool (w, "terminal", true);
  map_open_at (w, "user");
  json_kv_int (w, "uid", o->user_uid);
  json_kv_int (w, "gid", o->user_gid);
  json_map_close (w);
  write_strv (w, "args", o->args ? o->args : (const char *const[]){ "sh", NULL });
  write_env (w, o->env, o->system && o->container_env);
  json_kv_string (w, "cwd", o->cwd ? o->cwd : "/");
  map_open_at (w, "capabilities");
  write_strv (w, "bounding", caps);
  write_strv (w, "effective", caps);
  write_strv (w, "permitted", caps);
  json_map_close (w);
  /* a system container inherits its limits, as an OS does from its boot */
  if (!o->system)
    {
      array_open_at (w, "rlimits");
      json_map_open (w);
      json_kv_string (w, "type", "RLIMIT_NOFILE");
      json_kv_int (w, "hard", 1024);
      json_kv_int (w, "soft", 1024);
      json_map_close (w);
      json_array_close (w);
    }
  json_kv_bool (w, "noNewPrivileges", !o->system);
  json_map_close (w);
}

static void
write_mount (json_writer *w, const char *dest, const char *type, const char *source,
             const char *const *options)
{
  json_map_open (w);
  json_kv_string (w, "destination", dest);
  json_kv_string (w, "type", type);
  json_kv_string (w, "source", source);
  if (options)
    write_strv (w, "options", options);
  json_map_close (w);
}

/* Rootless (like `runc spec --rootless`): no gid= on devpts (gid 5 is not mapped), and /sys
   is a read-only rbind of the host's since sysfs cannot be mounted without a netns of our
   own. */
static void
write_mounts (json_writer *w, bool rootless, bool systemd)
{
  array_open_at (w, "mounts");
  write_mount (w, "/proc", "proc", "proc", NULL);
  write_mount (w, "/dev", "tmpfs", "tmpfs",
               (const char *const[]){ "nosuid", "strictatime", "mode=755", "size=65536k", NULL });
  write_mount (w, "/dev/pts", "devpts", "devpts",
               (const char *const[]){ "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                      "mode=0620", rootless ? NULL : "gid=5", NULL });
  write_mount (
      w, "/dev/shm", "tmpfs", "shm",
      (const char *const[]){ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL });
  write_mount (w, "/dev/mqueue", "mqueue", "mqueue",
               (const char *const[]){ "nosuid", "noexec", "nodev", NULL });
  if (rootless)
    write_mount (w, "/sys", "none", "/sys",
                 (const char *const[]){ "rbind", "nosuid", "noexec", "nodev", "ro", NULL });
  else
    write_mount (w, "/sys", "sysfs", "sysfs",
                 (const char *const[]){ "nosuid", "noexec", "nodev", "ro", NULL });
  /* systemd as init needs its cgroup subtree writable: inside the container's cgroup
     namespace the mount shows the container's own cgroup only (rootfs/cgroupfs.c keeps
     v1 controllers read-only even so), and it mounts no API filesystem itself without
     CAP_SYS_ADMIN, so /run, /run/lock and /tmp must be there when it starts, as
     systemd-nspawn and LXC provide them */
  write_mount (w, "/sys/fs/cgroup", "cgroup", "cgroup",
               (const char *const[]){ "nosuid", "noexec", "nodev", "relatime",
                                      systemd ? "rw" : "ro", NULL });
  if (systemd)
    {
      write_mount (
          w, "/run", "tmpfs", "tmpfs",
          (const char *const[]){ "nosuid", "nodev", "strictatime", "mode=755", "size=20%", NULL });
      write_mount (
          w, "/run/lock", "tmpfs", "tmpfs",
          (const char *const[]){ "nosuid", "nodev", "noexec", "mode=1777", "size=5m", NULL });
      write_mount (
          w, "/tmp", "tmpfs", "tmpfs",
          (const char *const[]){ "nosuid", "nodev", "strictatime", "mode=1777", "size=50%", NULL });
    }
  json_array_close (w);
}

static void
write_id_mapping (json_writer *w, const char *key, unsigned long host_id, uint32_t sub_start,
                  uint32_t sub_count)
{
  array_open_at (w, key);
  json_map_open (w);
  json_kv_int (w, "containerID", 0);
  json_kv_int (w, "hostID", (int64_t)host_id);
  json_kv_int (w, "size", 1);
  json_map_close (w);
  if (sub_count > 0)
    {
      json_map_open (w);
      json_kv_int (w, "containerID", 1);
      json_kv_int (w, "hostID", sub_start);
      json_kv_int (w, "size", sub_count);
      json_map_close (w);
    }
  json_array_close (w);
}

static void
write_namespaces (json_writer *w, bool rootless, bool host_network, bool system)
{
  static const char *const rootful[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", NULL };
  static const char *const unprivileged[]
      = { "pid", "ipc", "uts", "mount", "cgroup", "user", NULL };
  const char *const *ns;

  array_open_at (w, "namespaces");
  /* a rootless system container has a network namespace of its own (loopback, or
     user-mode networking): `ctr spec --rootless` keeps runc's host network */
  if (rootless && system && !host_network)
    {
      json_map_open (w);
      json_kv_string (w, "type", "network");
      json_map_close (w);
    }
  for (ns = rootless ? unprivileged : rootful; *ns; ns++)
    {
      if (host_network && strcmp (*ns, "network") == 0)
        continue;
      json_map_open (w);
      json_kv_string (w, "type", *ns);
      json_map_close (w);
    }
  json_array_close (w);
}

static void
write_linux (json_writer *w, const struct oci_spec_options *o)
{
  bool rootless = o->rootless, host_network = o->host_network;
  uid_t uid = o->uid;
  gid_t gid = o->gid;

  map_open_at (w, "linux");
  if (rootless)
    {
      write_id_mapping (w, "uidMappings", uid, o->subuid_start, o->subuid_count);
      write_id_mapping (w, "gidMappings", gid, o->subgid_start, o->subgid_count);
    }
  else
    {
      /* Rootless cannot use a device cgroup, so runc leaves resources out there. */
      map_open_at (w, "resources");
      array_open_at (w, "devices");
      json_map_open (w);
      json_kv_bool (w, "allow", false);
      json_kv_string (w, "access", "rwm");
      json_map_close (w);
      json_array_close (w);
      json_map_close (w);
    }
  write_namespaces (w, rootless, host_network, o->system);
  write_strv (w, "maskedPaths", oci_default_masked_paths);
  write_strv (w, "readonlyPaths", oci_default_readonly_paths);
  oci_seccomp_default_write (w, o->system ? system_caps : default_caps);
  json_map_close (w);
}

char *
oci_spec_generate (const struct oci_spec_options *o, size_t *len)
{
  json_writer *w = json_writer_new (true);

  json_map_open (w);
  json_kv_string (w, "ociVersion", OCI_SPEC_VERSION);
  write_process (w, o);
  map_open_at (w, "root");
  json_kv_string (w, "path", "rootfs");
  json_kv_bool (w, "readonly", !o->system);
  json_map_close (w);
  json_kv_string (w, "hostname", o->hostname ? o->hostname : "ctr");
  write_mounts (w, o->rootless, o->system && o->systemd);
  write_linux (w, o);
  json_map_close (w);
  return json_writer_finish (w, len);
}

char *
oci_spec_default (bool rootless, uid_t uid, gid_t gid, size_t *len)
{
  struct oci_spec_options o = { .rootless = rootless, .uid = uid, .gid = gid };
  return oci_spec_generate (&o, len);
}

static void
write_features_seccomp (json_writer *w)
{
  static const char *const supported_flags[]
      = { "SECCOMP_FILTER_FLAG_TSYNC",
          "SECCOMP_FILTER_FLAG_LOG",
#if HAVE_DECL_SECCOMP_FILTER_FLAG_SPEC_ALLOW
          "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
#endif
#if HAVE_DECL_SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
          "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
#endif
          NULL,
        };
  map_open_at (w, "seccomp");
  json_kv_bool (w, "enabled", true);
  write_strv (w, "actions", oci_seccomp_actions);
  write_strv (w, "operators", oci_seccomp_operators);
  write_strv (w, "archs", oci_seccomp_archs);
  write_strv (w, "knownFlags", oci_seccomp_flags);
  write_strv (w, "supportedFlags", supported_flags);
  json_map_close (w);
}

static void
write_enabled (json_writer *w, const char *key, bool enabled)
{
  map_open_at (w, key);
  json_kv_bool (w, "enabled", enabled);
  json_map_close (w);
}

static void
write_features_linux (json_writer *w)
{
  static const struct
  {
    const char *name;
    bool supported;
  } cgroup_features[] = {
    { "v1", true },           { "v2", true },    { "systemd", false },
    { "systemdUser", false }, { "rdma", false },
  };
  const char *ns[OCI_NS_COUNT + 1];
  int i;

  for (i = 0; i < OCI_NS_COUNT; i++)
    ns[i] = oci_ns_type_name (i);
  ns[OCI_NS_COUNT] = NULL;
  map_open_at (w, "linux");
  write_strv (w, "namespaces", ns);
  write_strv (w, "capabilities", capability_names);
  map_open_at (w, "cgroup");
  for (i = 0; i < (int)ARRAY_SIZE (cgroup_features); i++)
    json_kv_bool (w, cgroup_features[i].name, cgroup_features[i].supported);
  json_map_close (w);
  write_features_seccomp (w);
  write_enabled (w, "apparmor", true);
  write_enabled (w, "selinux", true);
  write_enabled (w, "intelRdt", false);
  map_open_at (w, "mountExtensions");
  write_enabled (w, "idmap", true);
  json_map_close (w);
  map_open_at (w, "memoryPolicy");
  write_strv (w, "modes", oci_memory_policy_modes);
  write_strv (w, "flags", oci_memory_policy_flags);
  json_map_close (w);
  json_map_close (w);
}

char *
oci_features_json (size_t *len)
{
  const char *hooks[OCI_HOOK_STAGES + 1];
  json_writer *w = json_writer_new (true);
  int i;

  for (i = 0; i < OCI_HOOK_STAGES; i++)
    hooks[i] = oci_hook_stage_name (i);
  hooks[OCI_HOOK_STAGES] = NULL;
  json_map_open (w);
  json_kv_string (w, "ociVersionMin", "1.0.0");
  json_kv_string (w, "ociVersionMax", OCI_SPEC_VERSION);
  write_strv (w, "hooks", hooks);
  write_strv (w, "mountOptions", mount_options);
  write_features_linux (w);
  map_open_at (w, "annotations");
  json_kv_string (w, "io.github.ctr.version", PACKAGE_VERSION);
  json_map_close (w);
  json_map_close (w);
  return json_writer_finish (w, len);
}
