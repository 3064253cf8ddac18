/* test-oci: unit tests of oci/ (config.json parsing and validation, spec, features, JSON). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "oci/oci.h"
#include "base/json.h"
#include "tap.h"
#include "base/util.h"

/* Test documents are written with ' for " to stay readable. */
static char *
j (const char *s)
{
  char *r = xstrdup (s), *p;
  for (p = r; *p; p++)
    if (*p == '\'')
      *p = '"';
  return r;
}

static struct oci_config *
parse_ok (const char *text, const char *name)
{
  cleanup_free char *doc = j (text);
  struct oci_config *c = NULL;
  ctr_error_t err = NULL;
  if (oci_config_parse (doc, strlen (doc), "config.json", &c, &err) < 0)
    {
      fail ("%s: parse failed: %s", name, err->msg);
      ctr_error_free (&err);
      return NULL;
    }
  pass ("%s: parses", name);
  return c;
}

/* Returns the error message of a parse expected to fail (NULL if it parsed). */
static char *
parse_err (const char *text)
{
  cleanup_free char *doc = j (text);
  struct oci_config *c = NULL;
  ctr_error_t err = NULL;
  char *msg;
  if (oci_config_parse (doc, strlen (doc), "config.json", &c, &err) == 0)
    {
      oci_config_free (c);
      return NULL;
    }
  msg = xstrdup (err->msg);
  ctr_error_free (&err);
  return msg;
}

static void
expect_err (const char *text, const char *want)
{
  cleanup_free char *msg = parse_err (text);
  like (msg, want, "rejects: %s", want);
}

#define ROOT "'root':{'path':'rootfs'}"
#define PROC "'process':{'args':['sh'],'cwd':'/'}"
#define BASE "'ociVersion':'1.2.0'," ROOT "," PROC

static void
test_minimal (void)
{
  struct oci_config *c = parse_ok ("{" BASE "}", "minimal config");
  if (c == NULL)
    return;
  is (c->oci_version, "1.2.0", "ociVersion");
  is (c->root.path, "rootfs", "root.path");
  ok (!c->root.readonly, "root.readonly defaults to false");
  ok (c->process != NULL, "process present");
  is_int (c->process->args_len, 1, "one arg");
  is (c->process->args[0], "sh", "args[0]");
  ok (c->process->args[1] == NULL, "args NULL-terminated");
  is (c->process->cwd, "/", "cwd");
  ok (!c->process->terminal && !c->process->has_oom_score_adj, "optional scalars absent");
  ok (c->linux_ == NULL && c->mounts == NULL && c->annotations == NULL, "absent sections NULL");
  ok (oci_config_namespace (c, OCI_NS_PID) == NULL, "no namespaces");
  oci_config_free (c);

  c = parse_ok ("{'root':{'path':'second','readonly':null},"
                "'process':null,'hostname':null,'linux':{'namespaces':null,'seccomp':null}}",
                "nulls");
  if (c == NULL)
    return;
  ok (!c->root.readonly && c->process == NULL && c->hostname == NULL, "null means absent");
  ok (c->linux_ && c->linux_->namespaces == NULL && c->linux_->seccomp == NULL,
      "null sections are absent");
  oci_config_free (c);
}

static const char full_config[]
    = "{'ociVersion':'1.2.0',"
      "'root':{'path':'/var/rootfs','readonly':true},"
      "'hostname':'box','domainname':'example.org',"
      "'process':{'terminal':true,'consoleSize':{'height':25,'width':80},"
      "  'user':{'uid':1000,'gid':100,'umask':18,'additionalGids':[5,4294967295]},"
      "  'args':['/bin/sh','-c','true'],'env':['A=1','B=2'],'cwd':'/home',"
      "  'capabilities':{'bounding':['CAP_KILL','CAP_CHOWN'],'effective':['CAP_KILL'],"
      "    'inheritable':[],'permitted':['CAP_KILL'],'ambient':['CAP_KILL']},"
      "  'rlimits':[{'type':'RLIMIT_NOFILE','soft':1024,'hard':4096},"
      "    {'type':'RLIMIT_CORE','soft':18446744073709551615,'hard':18446744073709551615}],"
      "  'noNewPrivileges':true,'apparmorProfile':'prof','oomScoreAdj':-500,"
      "  'selinuxLabel':'system_u:system_r:container_t:s0',"
      "  'ioPriority':{'class':'IOPRIO_CLASS_BE','priority':4},"
      "  'scheduler':{'policy':'SCHED_DEADLINE','nice':-5,'priority':3,"
      "    'flags':['SCHED_FLAG_RESET_ON_FORK'],'runtime':100,'deadline':200,'period':300},"
      "  'execCPUAffinity':{'initial':'7','final':'0-3,7'}},"
      "'mounts':[{'destination':'/proc','type':'proc','source':'proc'},"
      "  {'destination':'/data','source':'/srv','options':['rbind','ro','ridmap'],"
      "   'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
      "   'gidMappings':[{'containerID':0,'hostID':100000,'size':65536}]},"
      "  {'destination':'relative/dir','type':'tmpfs','source':'tmpfs'}],"
      "'hooks':{'prestart':[{'path':'/bin/pre'}],"
      "  'createRuntime':[{'path':'/bin/a','args':['a','1'],'env':['X=1'],'timeout':5},"
      "    {'path':'/bin/b'}],"
      "  'createContainer':[{'path':'/bin/cc'}],'startContainer':[{'path':'/bin/sc'}],"
      "  'poststart':[{'path':'/bin/ps'}],'poststop':[{'path':'/bin/pst'}]},"
      "'annotations':{'org.example.key':'value','k2':''},"
      "'unknownTopLevel':{'ignored':[1,2,{'deep':true}]},"
      "'linux':{"
      "  'namespaces':[{'type':'pid'},{'type':'network','path':'/var/run/netns/x'},"
      "    {'type':'mount'},{'type':'ipc'},{'type':'uts'},{'type':'user'},{'type':'cgroup'},"
      "    {'type':'time'}],"
      "  'uidMappings':[{'containerID':0,'hostID':1000,'size':1},"
      "    {'containerID':1,'hostID':100000,'size':65536}],"
      "  'gidMappings':[{'containerID':0,'hostID':1000,'size':1}],"
      "  'timeOffsets':{'monotonic':{'secs':-10,'nanosecs':5},'boottime':{'secs':3600}},"
      "  'devices':[{'path':'/dev/fuse','type':'c','major':10,'minor':229,'fileMode':438,"
      "    'uid':0,'gid':0},{'path':'/dev/fifo','type':'p'}],"
      "  'cgroupsPath':'/ctr/test',"
      "  'resources':{"
      "    'devices':[{'allow':false,'access':'rwm'},"
      "      {'allow':true,'type':'c','major':10,'minor':229,'access':'rw'}],"
      "    'memory':{'limit':536870912,'reservation':268435456,'swap':-1,'kernel':-1,"
      "      'kernelTCP':1048576,'swappiness':60,'disableOOMKiller':true,'useHierarchy':true,"
      "      'checkBeforeUpdate':false},"
      "    'cpu':{'shares':1024,'quota':100000,'burst':50000,'period':100000,"
      "      'realtimeRuntime':950000,'realtimePeriod':1000000,'cpus':'0-1','mems':'0',"
      "      'idle':1},"
      "    'pids':{'limit':32771},"
      "    'blockIO':{'weight':500,'leafWeight':300,"
      "      'weightDevice':[{'major':8,'minor':0,'weight':500,'leafWeight':300},"
      "        {'major':8,'minor':16,'weight':200}],"
      "      'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':600}],"
      "      'throttleWriteBpsDevice':[{'major':8,'minor':0,'rate':700}],"
      "      'throttleReadIOPSDevice':[{'major':8,'minor':0,'rate':800}],"
      "      'throttleWriteIOPSDevice':[{'major':8,'minor':16,'rate':300}]},"
      "    'hugepageLimits':[{'pageSize':'2MB','limit':209715200},"
      "      {'pageSize':'1GB','limit':0}],"
      "    'network':{'classID':1048577,'priorities':[{'name':'eth0','priority':500}]},"
      "    'rdma':{'mlx5_1':{'hcaHandles':3,'hcaObjects':10000},'rxe3':{'hcaObjects':1}},"
      "    'unified':{'memory.high':'1G','io.max':'259:0 rbps=2097152'}},"
      "  'rootfsPropagation':'rslave',"
      "  'seccomp':{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':38,"
      "    'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86'],"
      "    'flags':['SECCOMP_FILTER_FLAG_LOG'],"
      "    'listenerPath':'/run/agent.sock','listenerMetadata':'meta',"
      "    'syscalls':[{'names':['read','write'],'action':'SCMP_ACT_ALLOW'},"
      "      {'names':['mkdir'],'action':'SCMP_ACT_NOTIFY'},"
      "      {'names':['personality'],'action':'SCMP_ACT_ALLOW','args':["
      "        {'index':0,'value':18446744073709551615,'valueTwo':1,'op':'SCMP_CMP_MASKED_EQ'},"
      "        {'index':5,'value':8,'op':'SCMP_CMP_EQ'}]},"
      "      {'names':['chmod'],'action':'SCMP_ACT_ERRNO','errnoRet':1}]},"
      "  'sysctl':{'net.ipv4.ip_forward':'1'},"
      "  'maskedPaths':['/proc/kcore'],'readonlyPaths':['/proc/sys','/proc/bus'],"
      "  'mountLabel':'system_u:object_r:container_file_t:s0',"
      "  'personality':{'domain':'LINUX32','flags':[]},"
      "  'intelRdt':{'closID':'x'},'memoryPolicy':{'mode':'MPOL_BIND','nodes':'0-1'}}}";

static void
test_full_process (const struct oci_process *p)
{
  ok (p->terminal && p->has_console_size, "terminal and consoleSize");
  is_int (p->console_height, 25, "consoleSize.height");
  is_int (p->console_width, 80, "consoleSize.width");
  ok (p->user.uid == 1000 && p->user.gid == 100, "user.uid/gid");
  ok (p->user.has_umask && p->user.umask == 18, "user.umask");
  ok (p->user.additional_gids_len == 2 && p->user.additional_gids[1] == UINT32_MAX,
      "user.additionalGids up to uint32 max");
  is (p->args[2], "true", "args[2]");
  ok (p->env_len == 2 && strcmp (p->env[1], "B=2") == 0 && p->env[2] == NULL, "env");
  is (p->cwd, "/home", "cwd");
  ok (p->capabilities && p->capabilities->bounding_len == 2
          && strcmp (p->capabilities->bounding[1], "CAP_CHOWN") == 0,
      "capabilities.bounding");
  ok (p->capabilities->inheritable && p->capabilities->inheritable_len == 0
          && p->capabilities->inheritable[0] == NULL,
      "empty inheritable is an empty vector");
  ok (p->capabilities->ambient_len == 1, "capabilities.ambient");
  ok (p->rlimits_len == 2 && p->rlimits[0].resource == RLIMIT_NOFILE && p->rlimits[0].soft == 1024
          && p->rlimits[0].hard == 4096,
      "rlimits[0]");
  ok (p->rlimits[1].resource == RLIMIT_CORE && p->rlimits[1].hard == UINT64_MAX,
      "rlimits[1] takes uint64 max");
  ok (p->no_new_privileges, "noNewPrivileges");
  is (p->apparmor_profile, "prof", "apparmorProfile");
  ok (p->has_oom_score_adj && p->oom_score_adj == -500, "oomScoreAdj");
  is (p->selinux_label, "system_u:system_r:container_t:s0", "selinuxLabel");
  ok (p->io_priority && strcmp (p->io_priority->class_, "IOPRIO_CLASS_BE") == 0
          && p->io_priority->priority == 4,
      "ioPriority");
  ok (p->scheduler && strcmp (p->scheduler->policy, "SCHED_DEADLINE") == 0 && p->scheduler->has_nice
          && p->scheduler->nice == -5 && p->scheduler->priority == 3 && p->scheduler->flags_len == 1
          && p->scheduler->runtime == 100 && p->scheduler->deadline == 200
          && p->scheduler->has_period && p->scheduler->period == 300,
      "scheduler");
  ok (p->exec_cpu_affinity && strcmp (p->exec_cpu_affinity->initial, "7") == 0
          && strcmp (p->exec_cpu_affinity->final, "0-3,7") == 0,
      "execCPUAffinity");
}

static void
test_full_top (const struct oci_config *c)
{
  is (c->root.path, "/var/rootfs", "root.path");
  ok (c->root.readonly, "root.readonly");
  is (c->hostname, "box", "hostname");
  is (c->domainname, "example.org", "domainname");
  is_int (c->mounts_len, 3, "three mounts");
  ok (c->mounts[0].options == NULL && strcmp (c->mounts[0].type, "proc") == 0,
      "mount without options");
  ok (c->mounts[1].type == NULL && c->mounts[1].options_len == 3, "bind mount: no type");
  ok (c->mounts[1].uid_mappings_len == 1 && c->mounts[1].uid_mappings[0].host_id == 100000
          && c->mounts[1].gid_mappings[0].size == 65536,
      "idmapped mount mappings");
  is (c->mounts[2].destination, "relative/dir", "relative destination accepted");
  ok (c->hooks.len[OCI_HOOK_PRESTART] == 1 && c->hooks.len[OCI_HOOK_CREATE_RUNTIME] == 2
          && c->hooks.len[OCI_HOOK_POSTSTOP] == 1,
      "hook counts");
  ok (c->hooks.hooks[OCI_HOOK_CREATE_RUNTIME][0].has_timeout
          && c->hooks.hooks[OCI_HOOK_CREATE_RUNTIME][0].timeout == 5
          && c->hooks.hooks[OCI_HOOK_CREATE_RUNTIME][0].args_len == 2
          && !c->hooks.hooks[OCI_HOOK_CREATE_RUNTIME][1].has_timeout,
      "hook fields");
  is (c->hooks.hooks[OCI_HOOK_START_CONTAINER][0].path, "/bin/sc", "startContainer hook");
  ok (c->annotations_len == 2 && strcmp (c->annotations[0].key, "org.example.key") == 0
          && strcmp (c->annotations[1].value, "") == 0,
      "annotations");
}

static void
test_full_linux (const struct oci_linux *l, const struct oci_config *c)
{
  const struct oci_namespace *net = oci_config_namespace (c, OCI_NS_NETWORK);
  is_int (l->namespaces_len, 8, "eight namespaces");
  ok (net && strcmp (net->path, "/var/run/netns/x") == 0, "network namespace path");
  ok (oci_config_namespace (c, OCI_NS_TIME) && !oci_config_namespace (c, OCI_NS_TIME)->path,
      "time namespace");
  ok (l->uid_mappings_len == 2 && l->uid_mappings[1].size == 65536, "uidMappings");
  ok (l->time_offset_monotonic.present && l->time_offset_monotonic.secs == -10
          && l->time_offset_monotonic.nanosecs == 5 && l->time_offset_boottime.secs == 3600,
      "timeOffsets");
  ok (l->devices_len == 2 && l->devices[0].type == 'c' && l->devices[0].major == 10
          && l->devices[0].minor == 229 && l->devices[0].has_file_mode
          && l->devices[0].file_mode == 438 && l->devices[1].type == 'p',
      "devices");
  is (l->cgroups_path, "/ctr/test", "cgroupsPath");
  is (l->rootfs_propagation, "rslave", "rootfsPropagation");
  ok (l->sysctl_len == 1 && strcmp (l->sysctl[0].key, "net.ipv4.ip_forward") == 0, "sysctl");
  ok (l->masked_paths_len == 1 && l->readonly_paths_len == 2, "masked and readonly paths");
  is (l->mount_label, "system_u:object_r:container_file_t:s0", "mountLabel");
  ok (l->personality && strcmp (l->personality->domain, "LINUX32") == 0, "personality");
  ok (l->has_intel_rdt, "intelRdt noticed");
  ok (l->memory_policy && strcmp (l->memory_policy->nodes, "0-1") == 0, "memoryPolicy read");
}

static void
test_full_resources (const struct oci_resources *r)
{
  ok (r->devices_len == 2 && !r->devices[0].allow && r->devices[0].type == 'a'
          && r->devices[0].major == -1 && r->devices[0].minor == -1 && r->devices[1].type == 'c'
          && r->devices[1].major == 10 && strcmp (r->devices[1].access, "rw") == 0,
      "resources.devices with wildcards");
  ok (r->memory && r->memory->limit == 536870912 && r->memory->has_swap && r->memory->swap == -1
          && r->memory->kernel_tcp == 1048576 && r->memory->swappiness == 60
          && r->memory->disable_oom_killer && r->memory->use_hierarchy
          && r->memory->has_check_before_update && !r->memory->check_before_update,
      "memory");
  ok (r->cpu && r->cpu->shares == 1024 && r->cpu->quota == 100000 && r->cpu->burst == 50000
          && r->cpu->period == 100000 && r->cpu->realtime_runtime == 950000
          && r->cpu->realtime_period == 1000000 && strcmp (r->cpu->cpus, "0-1") == 0
          && strcmp (r->cpu->mems, "0") == 0 && r->cpu->has_idle && r->cpu->idle == 1,
      "cpu");
  ok (r->has_pids_limit && r->pids_limit == 32771, "pids.limit");
  ok (r->block_io && r->block_io->weight == 500 && r->block_io->leaf_weight == 300
          && r->block_io->weight_device_len == 2 && !r->block_io->weight_device[1].has_leaf_weight
          && r->block_io->throttle_read_bps_device[0].rate == 600
          && r->block_io->throttle_write_bps_device[0].rate == 700
          && r->block_io->throttle_read_iops_device[0].rate == 800
          && r->block_io->throttle_write_iops_device[0].minor == 16,
      "blockIO");
  ok (r->hugepage_limits_len == 2 && strcmp (r->hugepage_limits[1].page_size, "1GB") == 0,
      "hugepageLimits");
  ok (r->has_network_class_id && r->network_class_id == 1048577 && r->network_priorities_len == 1
          && r->network_priorities[0].priority == 500,
      "network");
  ok (r->rdma_len == 2 && strcmp (r->rdma[0].device, "mlx5_1") == 0 && r->rdma[0].hca_handles == 3
          && !r->rdma[1].has_hca_handles && r->rdma[1].hca_objects == 1,
      "rdma");
  ok (r->unified_len == 2 && strcmp (r->unified[1].key, "io.max") == 0, "unified");
}

static void
test_full_seccomp (const struct oci_seccomp *s)
{
  ok (s && strcmp (s->default_action, "SCMP_ACT_ERRNO") == 0 && s->has_default_errno_ret
          && s->default_errno_ret == 38,
      "seccomp default action");
  ok (s->architectures_len == 2 && s->flags_len == 1, "seccomp architectures and flags");
  is (s->listener_path, "/run/agent.sock", "listenerPath");
  is (s->listener_metadata, "meta", "listenerMetadata");
  is_int (s->syscalls_len, 4, "four syscall rules");
  ok (s->syscalls[2].args_len == 2 && s->syscalls[2].args[0].value == UINT64_MAX
          && s->syscalls[2].args[0].value_two == 1
          && strcmp (s->syscalls[2].args[0].op, "SCMP_CMP_MASKED_EQ") == 0
          && s->syscalls[2].args[1].index == 5,
      "seccomp args (uint64 max value)");
  ok (s->syscalls[3].has_errno_ret && s->syscalls[3].errno_ret == 1, "errnoRet");
}

static void
test_full (void)
{
  struct oci_config *c = parse_ok (full_config, "full config");
  if (c == NULL)
    return;
  test_full_top (c);
  test_full_process (c->process);
  test_full_linux (c->linux_, c);
  test_full_resources (c->linux_->resources);
  test_full_seccomp (c->linux_->seccomp);
  oci_config_free (c);
}

static void
test_type_errors (void)
{
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','rlimits':["
              "{'type':'RLIMIT_CPU','soft':1,'hard':1},{'type':'RLIMIT_AS','soft':1,'hard':1},"
              "{'type':'RLIMIT_NOFILE','soft':1,'hard':'x'}]}}",
              "config.json: process.rlimits[2].hard: expected a number");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','terminal':'yes'}}",
              "config.json: process.terminal: expected a boolean, got a string");
  expect_err ("{" ROOT ",'process':{'args':['sh',1],'cwd':'/'}}",
              "config.json: process.args[1]: expected a string, got a number");
  expect_err ("{" ROOT ",'process':[]}", "config.json: process: expected an object, got an array");
  expect_err ("[]", "config.json: expected an object, got an array");
  expect_err ("{" BASE ",'annotations':{'a':1}}",
              "config.json: annotations[\"a\"]: expected a string, got a number");
  expect_err ("{" BASE ",'linux':{'sysctl':{'net.x':true}}}",
              "config.json: linux.sysctl[\"net.x\"]: expected a string");
  expect_err ("{" BASE ",'mounts':{}}", "config.json: mounts: expected an array, got an object");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','user':{'uid':1.5}}}",
              "config.json: process.user.uid: expected an integer, got 1.5");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','user':{'uid':1e3}}}",
              "process.user.uid: expected an integer, got 1e3");
}

static void
test_range_errors (void)
{
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','user':{'uid':4294967296}}}",
              "config.json: process.user.uid: value 4294967296 out of range (0 to 4294967295)");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','user':{'gid':-1}}}",
              "config.json: process.user.gid: value -1 out of range (0 to 4294967295)");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','rlimits':[{'type':'RLIMIT_CPU',"
              "'soft':18446744073709551616,'hard':1}]}}",
              "process.rlimits[0].soft: value 18446744073709551616 out of range");
  expect_err ("{" BASE ",'linux':{'resources':{'blockIO':{'weight':65536}}}}",
              "linux.resources.blockIO.weight: value 65536 out of range (0 to 65535)");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','oomScoreAdj':1001}}",
              "process.oomScoreAdj: value 1001 out of range (-1000 to 1000)");
  expect_err ("{" BASE ",'linux':{'resources':{'memory':{'limit':-2}}}}",
              "linux.resources.memory.limit: value -2 out of range");
  expect_err ("{" BASE ",'linux':{'resources':{'memory':{'swappiness':101}}}}",
              "linux.resources.memory.swappiness: value 101 out of range (0 to 100)");
  expect_err ("{" BASE ",'hooks':{'poststop':[{'path':'/x','timeout':0}]}}",
              "hooks.poststop[0].timeout: value 0 out of range");
  expect_err ("{" BASE ",'linux':{'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':0,"
              "'hostID':0,'size':0}],'gidMappings':[]}}",
              "linux.uidMappings[0].size: must be greater than 0");
  expect_err ("{" BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':["
              "{'names':['read'],'action':'SCMP_ACT_ALLOW','args':[{'index':6,'value':1,"
              "'op':'SCMP_CMP_EQ'}]}]}}}",
              "linux.seccomp.syscalls[0].args[0].index: value 6 out of range");
}

/* A policy tool that reads the first of two equal keys and ctr the last would disagree. */
static void
test_duplicate_keys (void)
{
  cleanup_free char *big = xstrdup ("{" BASE ",'annotations':{");
  expect_err ("{'root':{'path':'first'},'root':{'path':'second'}}",
              "config.json: root: duplicate key `root`");
  expect_err ("{" BASE
              ",'linux':{'namespaces':[{'type':'pid'},{'type':'ipc','path':'/a','type':'pid'}]}}",
              "config.json: linux.namespaces[1].type: duplicate key `type`");
  expect_err ("{'ociVersion':'1.2.0'," ROOT
              ",'process':{'args':['sh'],'env':[],'cwd':'/','env':['A=1']}}",
              "config.json: process.env: duplicate key `env`");
  /* a big map takes the sorting path */
  for (int i = 0; i < 200; i++)
    {
      char *next = xasprintf ("%s'k%d':'v',", big, i);
      free (big);
      big = next;
    }
  char *dup = xasprintf ("%s'k7':'again'}}", big);
  expect_err (dup, "config.json: annotations.k7: duplicate key `k7`");
  free (dup);
  big[strlen (big) - 1] = '\0';
  dup = xasprintf ("%s}}", big);
  struct oci_config *c = parse_ok (dup, "200 distinct annotations");
  oci_config_free (c);
  free (dup);
}

static void
test_namespace_errors (void)
{
  expect_err ("{" BASE ",'linux':{'namespaces':[{'type':'pid'},{'type':'foo'}]}}",
              "config.json: linux.namespaces[1].type: unknown namespace type \"foo\"");
  expect_err ("{" BASE ",'linux':{'namespaces':[{'type':'pid'},{'type':'ipc'},{'type':'pid'}]}}",
              "config.json: linux.namespaces[2].type: duplicate namespace type \"pid\"");
  expect_err ("{" BASE ",'linux':{'namespaces':[{'type':'net'}]}}",
              "unknown namespace type \"net\"");
  expect_err ("{" BASE ",'linux':{'namespaces':[{'type':'pid','path':'proc/1/ns/pid'}]}}",
              "linux.namespaces[0].path: must be an absolute path");
  expect_err ("{" BASE ",'linux':{'namespaces':[{'type':'user'}]}}",
              "a new user namespace needs linux.uidMappings");
  expect_err ("{" BASE ",'linux':{'uidMappings':[{'containerID':0,'hostID':0,'size':1}]}}",
              "no user namespace is configured");
  expect_err ("{" BASE ",'linux':{'namespaces':[{'type':'user'}],"
              "'uidMappings':[{'containerID':0,'hostID':0,'size':1}]}}",
              "linux.gidMappings: required with a new user namespace");
  expect_err ("{" BASE ",'hostname':'x'}", "hostname: cannot be set without a uts namespace");
  expect_err ("{" BASE ",'linux':{'timeOffsets':{'monotonic':{'secs':1}}}}",
              "linux.timeOffsets: given but no time namespace");
  expect_err ("{" BASE ",'linux':{'namespaces':[{'type':'time'}],"
              "'timeOffsets':{'realtime':{'secs':1}}}}",
              "linux.timeOffsets.realtime: unknown clock");
}

static void
test_process_errors (void)
{
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','rlimits':[{'type':'RLIMIT_FOO',"
              "'soft':1,'hard':1}]}}",
              "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','rlimits':[{'type':'RLIMIT_CPU',"
              "'soft':1,'hard':1},{'type':'RLIMIT_CPU','soft':2,'hard':2}]}}",
              "process.rlimits[1].type: duplicate rlimit \"RLIMIT_CPU\"");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','rlimits':[{'type':'RLIMIT_CPU',"
              "'soft':1}]}}",
              "process.rlimits[0].hard: required but missing");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','rlimits':[{'type':'RLIMIT_CPU',"
              "'soft':2,'hard':1}]}}",
              "process.rlimits[0]: soft limit 2 is greater than hard limit 1");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'home'}}",
              "config.json: process.cwd: must be an absolute path, got \"home\"");
  expect_err ("{" ROOT ",'process':{'args':['sh']}}", "process.cwd: required but missing");
  expect_err ("{" ROOT ",'process':{'args':[],'cwd':'/'}}",
              "process.args: must contain at least one element");
  expect_err ("{" ROOT ",'process':{'cwd':'/'}}", "process.args: must contain at least one");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','ioPriority':{'class':'X',"
              "'priority':1}}}",
              "process.ioPriority.class: unknown io priority class \"X\"");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','ioPriority':{'class':"
              "'IOPRIO_CLASS_RT','priority':8}}}",
              "process.ioPriority.priority: value 8 out of range (0 to 7)");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','scheduler':{'policy':'SCHED_X'}}}",
              "process.scheduler.policy: unknown scheduler policy");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','scheduler':{'policy':'SCHED_RR',"
              "'flags':['SCHED_FLAG_X']}}}",
              "process.scheduler.flags[0]: unknown scheduler flag");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','execCPUAffinity':{'final':'0-'}}}",
              "process.execCPUAffinity.final: invalid cpu list");
  expect_err ("{" ROOT ",'process':{'args':['sh'],'cwd':'/','consoleSize':{'height':1}}}",
              "process.consoleSize.width: required but missing");
}

static void
test_root_mount_hook_errors (void)
{
  expect_err ("{" PROC "}", "config.json: root: required but missing");
  expect_err ("{'root':{}," PROC "}", "config.json: root.path: required but missing");
  expect_err ("{'root':{'path':''}," PROC "}", "config.json: root.path: must not be empty");
  expect_err ("{'root':{'path':5}," PROC "}", "root.path: expected a string, got a number");
  expect_err ("{" BASE ",'mounts':[{'type':'tmpfs'}]}",
              "config.json: mounts[0].destination: required but missing");
  expect_err ("{" BASE ",'mounts':[{'destination':'/a'},{'destination':'a/../../etc'}]}",
              "mounts[1].destination: relative path \"a/../../etc\" leaves the container root");
  expect_err ("{" BASE ",'mounts':[{'destination':''}]}",
              "mounts[0].destination: must not be empty");
  expect_err ("{" BASE ",'hooks':{'createRuntime':[{'path':'bin/x'}]}}",
              "hooks.createRuntime[0].path: must be an absolute path");
  expect_err ("{" BASE ",'hooks':{'prestart':[{'args':['x']}]}}",
              "hooks.prestart[0].path: required but missing");
}

static void
test_linux_errors (void)
{
  expect_err ("{" BASE ",'linux':{'devices':[{'path':'/dev/x','type':'z','major':1,'minor':1}]}}",
              "linux.devices[0].type: unknown device type \"z\"");
  expect_err ("{" BASE ",'linux':{'devices':[{'path':'dev/x','type':'c','major':1,'minor':1}]}}",
              "linux.devices[0].path: must be an absolute path");
  expect_err ("{" BASE ",'linux':{'devices':[{'path':'/dev/x','type':'b','major':1}]}}",
              "linux.devices[0].minor: required for device type b");
  expect_err ("{" BASE ",'linux':{'rootfsPropagation':'everywhere'}}",
              "linux.rootfsPropagation: unknown propagation mode \"everywhere\"");
  expect_err ("{" BASE ",'linux':{'maskedPaths':['/ok','relative']}}",
              "linux.maskedPaths[1]: must be an absolute path");
  expect_err ("{" BASE ",'linux':{'personality':{'domain':'BSD'}}}",
              "linux.personality.domain: unknown personality domain");
  expect_err ("{" BASE ",'linux':{'resources':{'devices':[{'allow':true,'access':'rwx'}]}}}",
              "linux.resources.devices[0].access: invalid access \"rwx\"");
  expect_err ("{" BASE ",'linux':{'resources':{'devices':[{'access':'r'}]}}}",
              "linux.resources.devices[0].allow: required but missing");
  expect_err ("{" BASE ",'linux':{'resources':{'hugepageLimits':[{'pageSize':'../2MB',"
              "'limit':1}]}}}",
              "linux.resources.hugepageLimits[0].pageSize: invalid page size");
  expect_err ("{" BASE ",'linux':{'resources':{'unified':{'../x':'1'}}}}",
              "linux.resources.unified[\"../x\"]: not a cgroup file name");
  expect_err ("{" BASE ",'linux':{'resources':{'rdma':{'mlx':{}}}}}",
              "linux.resources.rdma[\"mlx\"]: needs hcaHandles or hcaObjects");
  expect_err ("{" BASE ",'linux':{'resources':{'cpu':{'quota':1000,'burst':2000}}}}",
              "linux.resources.cpu.burst: must not be larger than quota");
}

static void
test_seccomp_errors (void)
{
#define SC(x) "{" BASE ",'linux':{'seccomp':" x "}}"
  expect_err (SC ("{'defaultAction':'SCMP_ACT_FOO'}"),
              "config.json: linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_FOO\"");
  expect_err (SC ("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],"
                  "'action':'SCMP_ACT_DENY'}]}"),
              "linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_DENY\"");
  expect_err (SC ("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],"
                  "'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':1,'op':'SCMP_CMP_XX'}]}]}"),
              "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_XX\"");
  expect_err (SC ("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['mkdir'],"
                  "'action':'SCMP_ACT_NOTIFY'}]}"),
              "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
  expect_err (SC ("{'defaultAction':'SCMP_ACT_NOTIFY','listenerPath':'/x'}"),
              "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  expect_err (SC ("{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'/x','syscalls':[{'names':"
                  "['write'],'action':'SCMP_ACT_NOTIFY'}]}"),
              "SCMP_ACT_NOTIFY cannot be used for write");
  expect_err (SC ("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],"
                  "'action':'SCMP_ACT_ALLOW','errnoRet':1}]}"),
              "linux.seccomp.syscalls[0].errnoRet: not valid with action SCMP_ACT_ALLOW");
  expect_err (SC ("{'defaultAction':'SCMP_ACT_KILL','defaultErrnoRet':1}"),
              "linux.seccomp.defaultErrnoRet: not valid with action SCMP_ACT_KILL");
  expect_err (SC ("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':[],"
                  "'action':'SCMP_ACT_ALLOW'}]}"),
              "linux.seccomp.syscalls[0].names: must contain at least one syscall name");
  expect_err (SC ("{'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_VAX']}"),
              "linux.seccomp.architectures[0]: unknown seccomp architecture \"SCMP_ARCH_VAX\"");
  expect_err (SC ("{'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_FILTER_FLAG_X']}"),
              "linux.seccomp.flags[0]: unknown seccomp flag");
  expect_err (SC ("{'syscalls':[]}"), "linux.seccomp.defaultAction: required but missing");
  expect_err (SC ("{'defaultAction':'SCMP_ACT_ALLOW','listenerMetadata':'m'}"),
              "linux.seccomp.listenerMetadata: given without listenerPath");
#undef SC
}

static void
test_malformed (void)
{
  cleanup_free char *msg = NULL;
  ctr_error_t err = NULL;
  struct oci_config *c = NULL;
  static const char nul_doc[] = "{\"root\":{\"path\":\"a\\u0000b\"}}";

  expect_err ("{'root':{'path':'rootfs'},\n  'process': }",
              "config.json: line 2, column 14: parse error: unallowed token");
  expect_err ("{'root':{'path':'rootfs'}",
              "config.json: line 1, column 26: parse error: premature EOF");
  expect_err ("{'root':{'path':'rootfs'}} x", "trailing garbage");
  expect_err ("", "config.json: empty document");
  expect_err ("{'a':1,}", "config.json: line 1");
  ok (oci_config_parse (nul_doc, strlen (nul_doc), "config.json", &c, &err) < 0, "NUL in string");
  like (err ? err->msg : NULL, "string contains a NUL character", "NUL in string: message");
  ctr_error_free (&err);
  ok (oci_config_parse ("{}x", 2, NULL, &c, &err) < 0, "length is honoured (no NUL needed)");
  like (err ? err->msg : NULL, "config.json: root: required", "default origin config.json");
  ctr_error_free (&err);
  ok (oci_config_parse ("{\"root\":{\"path\":\"\xff\"}}", 21, NULL, &c, &err) < 0,
      "invalid UTF-8 refused");
  like (err ? err->msg : NULL, "lexical error: invalid bytes in UTF8 string", "UTF-8 message");
  ctr_error_free (&err);
  msg = parse_err ("{'root':{'path':'rootfs'},\n 'x': 'a\nb'}");
  ok (msg && strchr (msg, '\n') == NULL, "error messages are one line: %s", msg ? msg : "");
}

static char *
nested (size_t depth)
{
  char *s = xmalloc (depth * 2 + 64), *p = s;
  size_t i;
  p += sprintf (p, "{\"root\":{\"path\":\"r\"},\"x\":");
  for (i = 0; i < depth - 1; i++)
    *p++ = '[';
  for (i = 0; i < depth - 1; i++)
    *p++ = ']';
  *p++ = '}';
  *p = '\0';
  return s;
}

static void
test_limits (void)
{
  ctr_error_t err = NULL;
  struct oci_config *c = NULL;
  cleanup_free char *ok64 = nested (JSON_MAX_DEPTH);
  cleanup_free char *deep = nested (JSON_MAX_DEPTH + 1);
  cleanup_free char *very_deep = nested (200000);
  cleanup_free char *big = NULL;
  size_t big_len = OCI_CONFIG_MAX_SIZE + 1;
  char path[] = "/tmp/test-oci-XXXXXX";
  int fd;

  ok (oci_config_parse (ok64, strlen (ok64), "config.json", &c, &err) == 0,
      "nesting of exactly %d levels is accepted", JSON_MAX_DEPTH);
  oci_config_free (c);
  c = NULL;
  ctr_error_free (&err);
  ok (oci_config_parse (deep, strlen (deep), "config.json", &c, &err) < 0, "65 levels refused");
  like (err ? err->msg : NULL, "nesting deeper than 64 levels", "nesting message");
  ctr_error_free (&err);
  ok (oci_config_parse (very_deep, strlen (very_deep), "config.json", &c, &err) < 0,
      "200000 levels refused without crashing");
  ctr_error_free (&err);

  big = xmalloc (big_len + 1);
  memset (big, ' ', big_len);
  memcpy (big, "{\"root\":{\"path\":\"r\"}}", 21);
  big[big_len] = '\0';
  ok (oci_config_parse (big, big_len, "config.json", &c, &err) < 0, "oversized input refused");
  like (err ? err->msg : NULL, "config.json: larger than 4194304 bytes", "size message");
  ctr_error_free (&err);
  ok (oci_config_parse (big, big_len - 1, "config.json", &c, &err) == 0,
      "input of exactly the cap is accepted");
  oci_config_free (c);
  c = NULL;
  ctr_error_free (&err);

  fd = mkstemp (path);
  ok (fd >= 0 && write_all (fd, big, big_len) == (ssize_t)big_len, "wrote oversized file");
  if (fd >= 0)
    close (fd);
  ok (oci_config_load_at (AT_FDCWD, path, &c, &err) < 0 && err && err->status == EFBIG,
      "oci_config_load_at refuses an oversized file (EFBIG)");
  ctr_error_free (&err);
  unlink (path);
}

static void
test_load_at (void)
{
  char dir[] = "/tmp/test-oci-dir-XXXXXX";
  cleanup_free char *doc = j ("{" BASE ",'linux':{'namespaces':[{'type':'mount'}]}}");
  cleanup_free char *bad = j ("{" BASE ",'linux':{'namespaces':[{'type':'mnt'}]}}");
  struct oci_config *c = NULL;
  ctr_error_t err = NULL;
  int dfd;

  ok (mkdtemp (dir) != NULL, "temp bundle dir");
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ok (write_file_at (dfd, "config.json", doc, strlen (doc), 0600, &err) == 0, "wrote config");
  ok (oci_config_load_at (dfd, "config.json", &c, &err) == 0 && c
          && oci_config_namespace (c, OCI_NS_MOUNT) != NULL,
      "oci_config_load_at parses the file");
  oci_config_free (c);
  c = NULL;
  write_file_at (dfd, "config.json", bad, strlen (bad), 0600, &err);
  ok (oci_config_load_at (dfd, "config.json", &c, &err) < 0, "load_at reports errors");
  like (err ? err->msg : NULL, "config.json: linux.namespaces[0].type: unknown namespace type",
        "load_at error names the file and path");
  ctr_error_free (&err);
  ok (oci_config_load_at (dfd, "missing.json", &c, &err) < 0 && err && err->status == ENOENT,
      "missing file is ENOENT");
  ctr_error_free (&err);
  unlinkat (dfd, "config.json", 0);
  close (dfd);
  rmdir (dir);
}

static void
test_process_parse (void)
{
  cleanup_free char *doc = j ("{'args':['ls','-l'],'cwd':'/tmp','env':['A=b'],"
                              "'user':{'uid':5,'gid':6}}");
  cleanup_free char *bad = j ("{'args':['ls'],'cwd':'/','rlimits':[{'type':'NOFILE',"
                              "'soft':1,'hard':1}]}");
  struct oci_process *p = NULL;
  ctr_error_t err = NULL;

  ok (oci_process_parse (doc, strlen (doc), "process.json", &p, &err) == 0 && p,
      "oci_process_parse");
  ok (p && p->args_len == 2 && p->user.uid == 5 && strcmp (p->cwd, "/tmp") == 0,
      "process.json values");
  oci_process_free (p);
  p = NULL;
  ok (oci_process_parse (bad, strlen (bad), "process.json", &p, &err) < 0, "bad process.json");
  is (err ? err->msg : NULL, "process.json: rlimits[0].type: unknown rlimit \"NOFILE\"",
      "process.json error path starts at its root");
  ctr_error_free (&err);
}

static void
test_spec_default (bool rootless)
{
  const char *what = rootless ? "rootless spec" : "spec";
  struct oci_config *c = NULL;
  ctr_error_t err = NULL;
  cleanup_free char *doc = NULL;
  size_t len = 0, i;
  bool has_gid5 = false;

  doc = oci_spec_default (rootless, 1234, 5678, &len);
  ok (doc && len == strlen (doc) && doc[len - 1] == '\n', "%s: text with trailing newline", what);
  ok (strstr (doc, "\n  \"ociVersion\": \"1.2.0\"") != NULL, "%s: 2-space indent", what);
  if (!ok (oci_config_parse (doc, len, "config.json", &c, &err) == 0, "%s: parses back", what))
    {
      diag ("%s", err->msg);
      ctr_error_free (&err);
      return;
    }
  is (c->root.path, "rootfs", "%s: root.path", what);
  ok (c->root.readonly, "%s: root readonly", what);
  is (c->hostname, "ctr", "%s: hostname", what);
  ok (c->process->terminal && c->process->no_new_privileges, "%s: terminal, nnp", what);
  ok (c->process->rlimits_len == 1 && c->process->rlimits[0].resource == RLIMIT_NOFILE,
      "%s: RLIMIT_NOFILE", what);
  ok (c->process->capabilities->bounding_len == 3 && c->process->capabilities->ambient == NULL,
      "%s: default capabilities", what);
  is_int (c->mounts_len, 7, "%s: seven mounts", what);
  for (i = 0; i < c->mounts[2].options_len; i++)
    has_gid5 |= strcmp (c->mounts[2].options[i], "gid=5") == 0;
  ok (has_gid5 != rootless, "%s: devpts gid=5 only when rootful", what);
  is (c->mounts[5].type, rootless ? "none" : "sysfs", "%s: /sys mount type", what);
  ok (c->linux_->masked_paths_len == 11 && c->linux_->readonly_paths_len == 5,
      "%s: masked and readonly paths", what);
  ok ((oci_config_namespace (c, OCI_NS_NETWORK) == NULL) == rootless,
      "%s: network namespace only when rootful", what);
  ok ((oci_config_namespace (c, OCI_NS_USER) != NULL) == rootless,
      "%s: user namespace only when rootless", what);
  ok (oci_config_namespace (c, OCI_NS_CGROUP) != NULL, "%s: cgroup namespace", what);
  if (rootless)
    ok (c->linux_->uid_mappings_len == 1 && c->linux_->uid_mappings[0].host_id == 1234
            && c->linux_->gid_mappings[0].host_id == 5678 && c->linux_->resources == NULL,
        "%s: id maps of the caller, no resources", what);
  else
    ok (c->linux_->resources && c->linux_->resources->devices_len == 1
            && !c->linux_->resources->devices[0].allow,
        "%s: deny-all device rule", what);
  oci_config_free (c);
}

static void
test_features (void)
{
  size_t len = 0;
  cleanup_free char *doc = oci_features_json (&len);
  ctr_error_t err = NULL;
  json_value *v = json_parse (doc, len, "features", &err);
  const json_value *linux_, *seccomp;
  const char *s = NULL;

  ok (v != NULL, "features is valid JSON");
  if (v == NULL)
    return;
  ok (json_as_string (json_get (v, "ociVersionMin"), &s) && strcmp (s, "1.0.0") == 0,
      "ociVersionMin");
  ok (json_as_string (json_get (v, "ociVersionMax"), &s) && strcmp (s, "1.2.0") == 0,
      "ociVersionMax");
  is_int (json_len (json_get (v, "hooks")), 6, "six hooks");
  ok (json_len (json_get (v, "mountOptions")) >= 30, "mount options listed");
  linux_ = json_get (v, "linux");
  is_int (json_len (json_get (linux_, "namespaces")), 8, "eight namespaces");
  is_int (json_len (json_get (linux_, "capabilities")), 41, "41 capabilities");
  seccomp = json_get (linux_, "seccomp");
  is_int (json_len (json_get (seccomp, "actions")), 9, "nine seccomp actions");
  is_int (json_len (json_get (seccomp, "operators")), 7, "seven seccomp operators");
  ok (json_as_string (json_get (json_get (v, "annotations"), "io.github.ctr.version"), &s)
          && strcmp (s, PACKAGE_VERSION) == 0,
      "version annotation");
  json_value_free (v);
}

static void
test_json_writer_reader (void)
{
  json_writer *w = json_writer_new (false);
  cleanup_free char *text = NULL, *again = NULL;
  ctr_error_t err = NULL;
  const json_value *arr;
  json_value *v;
  const char *s = NULL;
  int64_t n = 0;
  bool b = false;
  size_t len = 0, len2 = 0;

  json_map_open (w);
  json_kv_string (w, "s", "quote\" backslash\\ nl\n tab\t ü");
  json_kv_int (w, "neg", INT64_MIN);
  json_key (w, "big");
  json_uint (w, UINT64_MAX);
  json_kv_bool (w, "t", true);
  json_key (w, "n");
  json_null (w);
  json_key (w, "nulls");
  json_string (w, NULL);
  json_key (w, "raw");
  json_raw (w, "{\"x\":[1,2]}", 11);
  json_key (w, "a");
  json_array_open (w);
  json_int (w, 1);
  json_string (w, "two");
  json_array_close (w);
  json_map_close (w);
  text = json_writer_finish (w, &len);
  ok (text && len == strlen (text), "writer output");
  diag ("%s", text);

  v = json_parse (text, len, "doc", &err);
  ok (v != NULL, "writer output parses");
  if (v == NULL)
    return;
  ok (json_is_object (v) && json_len (v) == 8, "eight members");
  ok (json_as_string (json_get (v, "s"), &s) && strcmp (s, "quote\" backslash\\ nl\n tab\t ü") == 0,
      "string round trip with escapes and UTF-8");
  ok (json_as_int64 (json_get (v, "neg"), &n) && n == INT64_MIN, "int64 min round trip");
  ok (!json_as_int64 (json_get (v, "big"), &n), "uint64 max is not an int64");
  ok (json_as_bool (json_get (v, "t"), &b) && b, "bool");
  ok (json_get (v, "n") != NULL && !json_as_string (json_get (v, "n"), &s), "null member");
  ok (json_get (v, "missing") == NULL, "absent member");
  ok (json_is_object (json_get (v, "raw")) && json_len (json_get (json_get (v, "raw"), "x")) == 2,
      "raw JSON inserted as a value");
  arr = json_get (v, "a");
  ok (json_is_array (arr) && json_len (arr) == 2 && json_as_string (json_at (arr, 1), &s)
          && strcmp (s, "two") == 0 && json_at (arr, 2) == NULL,
      "array access");
  is (json_key_at (v, 0), "s", "json_key_at");
  ok (json_value_at (v, 3) == json_get (v, "t"), "json_value_at");
  again = json_value_to_string (v, &len2);
  is (again, text, "json_value_to_string reproduces the document");
  json_value_free (v);

  w = json_writer_new (true);
  json_map_open (w);
  json_kv_int (w, "a", 1);
  json_map_close (w);
  free (text);
  text = json_writer_finish (w, &len);
  is (text, "{\n  \"a\": 1\n}\n", "pretty output: 2-space indent and final newline");
}

static void
test_names (void)
{
  is (oci_hook_stage_name (OCI_HOOK_CREATE_RUNTIME), "createRuntime", "hook stage name");
  is (oci_hook_stage_name (OCI_HOOK_POSTSTOP), "poststop", "poststop name");
  is (oci_ns_type_name (OCI_NS_NETWORK), "network", "namespace name");
  is (oci_ns_type_name (OCI_NS_TIME), "time", "time namespace name");
}

/* The rule of the default profile naming exactly NAME, or NULL. */
static const struct oci_seccomp_syscall *
seccomp_rule (const struct oci_seccomp *sc, const char *name, const char *action)
{
  size_t i, k;
  for (i = 0; i < sc->syscalls_len; i++)
    for (k = 0; k < sc->syscalls[i].names_len; k++)
      if (strcmp (sc->syscalls[i].names[k], name) == 0
          && strcmp (sc->syscalls[i].action, action) == 0)
        return &sc->syscalls[i];
  return NULL;
}

static void
test_spec_seccomp (bool rootless)
{
  const char *what = rootless ? "rootless spec seccomp" : "spec seccomp";
  static const char *const allowed[] = { "read",         "write", "openat", "execve", "exit_group",
                                         "rt_sigreturn", "futex", "wait4",  NULL };
  static const char *const denied[]
      = { "mount",  "umount2",    "pivot_root",  "keyctl", "unshare",     "setns", "bpf",
          "ptrace", "kexec_load", "init_module", "reboot", "userfaultfd", "clone", NULL };
  const struct oci_seccomp_syscall *r;
  const struct oci_seccomp *sc;
  struct oci_config *c = NULL;
  cleanup_free char *doc = NULL;
  const char *const *n;
  size_t len = 0;
  bool good = true;

  doc = oci_spec_default (rootless, 1000, 1000, &len);
  if (!ok (oci_config_parse (doc, len, "config.json", &c, NULL) == 0, "%s: parses back", what))
    return;
  sc = c->linux_->seccomp;
  if (!ok (sc != NULL, "%s: present", what))
    goto out;
  is (sc->default_action, "SCMP_ACT_ERRNO", "%s: default action", what);
  ok (sc->has_default_errno_ret && sc->default_errno_ret == 1, "%s: default errno EPERM", what);
  ok (sc->architectures_len >= 1, "%s: architectures", what);
#if defined(__x86_64__)
  is (sc->architectures[0], "SCMP_ARCH_X86_64", "%s: native architecture first", what);
#endif
  for (n = allowed; *n; n++)
    {
      r = seccomp_rule (sc, *n, "SCMP_ACT_ALLOW");
      good &= r != NULL && r->args_len == 0;
    }
  ok (good, "%s: ordinary syscalls allowed unconditionally", what);
  good = true;
  for (n = denied; *n; n++)
    {
      r = seccomp_rule (sc, *n, "SCMP_ACT_ALLOW");
      good &= r == NULL || r->args_len > 0;
    }
  ok (good, "%s: dangerous syscalls not allowed unconditionally", what);
  r = seccomp_rule (sc, "clone", "SCMP_ACT_ALLOW");
  ok (r && r->args_len == 1 && strcmp (r->args[0].op, "SCMP_CMP_MASKED_EQ") == 0
          && r->args[0].value == 0x7E020000 && r->args[0].value_two == 0,
      "%s: clone only without namespace flags", what);
  r = seccomp_rule (sc, "clone3", "SCMP_ACT_ERRNO");
  ok (r && r->has_errno_ret && r->errno_ret == 38, "%s: clone3 gives ENOSYS", what);
  r = seccomp_rule (sc, "personality", "SCMP_ACT_ALLOW");
  ok (r && r->args_len == 1 && strcmp (r->args[0].op, "SCMP_CMP_EQ") == 0,
      "%s: personality only with safe values", what);
out:
  oci_config_free (c);
}

static void
bench_parse (void)
{
  cleanup_free char *doc = j (full_config);
  size_t len = strlen (doc);
  int i, n = 2000;
  uint64_t start = now_ns ();
  for (i = 0; i < n; i++)
    {
      struct oci_config *c = NULL;
      if (oci_config_parse (doc, len, NULL, &c, NULL) < 0)
        break;
      oci_config_free (c);
    }
  ok (i == n, "parsed the full config %d times", n);
  diag ("full config (%zu bytes): %.1f us per parse", len,
        (double)(now_ns () - start) / n / 1000.0);
}

int
main (void)
{
  test_minimal ();
  test_full ();
  test_type_errors ();
  test_range_errors ();
  test_duplicate_keys ();
  test_namespace_errors ();
  test_process_errors ();
  test_root_mount_hook_errors ();
  test_linux_errors ();
  test_seccomp_errors ();
  test_malformed ();
  test_limits ();
  test_load_at ();
  test_process_parse ();
  test_spec_default (false);
  test_spec_default (true);
  test_spec_seccomp (false);
  test_spec_seccomp (true);
  test_features ();
  test_json_writer_reader ();
  test_names ();
  bench_parse ();
  return done_testing ();
}
