/* process/mempolicy: linux.memoryPolicy as set_mempolicy(2) arguments, checked against the
   host's NUMA nodes at create and set in the container process before its program runs. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "process/cpulist.h"
#include "process/mempolicy.h"
#include "base/util.h"

/* The kernel's numbers (uapi linux/mempolicy.h), spelled out: older headers lack the newer
   modes, and the names are all the config can hold. */
static const struct
{
  const char *name;
  int value;
} mpol_modes[] = {
  { "MPOL_DEFAULT", 0 },        { "MPOL_PREFERRED", 1 },      { "MPOL_BIND", 2 },
  { "MPOL_INTERLEAVE", 3 },     { "MPOL_LOCAL", 4 },          { "MPOL_PREFERRED_MANY", 5 },
  { "MPOL_WEIGHTED_INTERLEAVE", 6 },
},
  mpol_flags[] = {
    { "MPOL_F_NUMA_BALANCING", 1 << 13 },
    { "MPOL_F_RELATIVE_NODES", 1 << 14 },
    { "MPOL_F_STATIC_NODES", 1 << 15 },
  };

#define MPOL_F_RELATIVE_NODES_BIT (1 << 14)
#define MPOL_F_STATIC_NODES_BIT (1 << 15)

static int
mpol_value (const char *name, bool flag)
{
  size_t i, n = flag ? ARRAY_SIZE (mpol_flags) : ARRAY_SIZE (mpol_modes);
  for (i = 0; i < n; i++)
    if (strcmp (flag ? mpol_flags[i].name : mpol_modes[i].name, name) == 0)
      return flag ? mpol_flags[i].value : mpol_modes[i].value;
  return -1; /* the oci layer only lets known names through */
}

/* Every node of set must be in the host's list (/sys/devices/system/node/<file>). */
static int
check_host_nodes (const cpu_set_t *set, size_t size, const char *nodes, const char *file,
                  ctr_error_t *err)
{
  cleanup_free char *path = xasprintf ("/sys/devices/system/node/%s", file);
  cleanup_free char *text = NULL;
  cpu_set_t *host = NULL;
  size_t len, host_size, node;
  int r = 0;

  if (read_file_at (AT_FDCWD, path, 4096, &text, &len, NULL) < 0)
    return ctr_error (err, ENOSYS,
                      "linux.memoryPolicy: this kernel has no NUMA memory policies (`%s` "
                      "missing)",
                      path);
  text[strcspn (text, "\n")] = '\0';
  if (process_parse_cpu_list (text, &host, &host_size) < 0)
    return ctr_error (err, EINVAL, "linux.memoryPolicy: cannot read the host's nodes in `%s`",
                      path);
  for (node = 0; node < size * 8; node++)
    if (CPU_ISSET_S (node, size, set)
        && !(node < host_size * 8 && CPU_ISSET_S (node, host_size, host)))
      {
        r = ctr_error (err, 0,
                       "linux.memoryPolicy.nodes: node %zu of \"%s\" is not on this host (%s "
                       "nodes: %s)",
                       node, nodes, file, text);
        break;
      }
  CPU_FREE (host);
  return r;
}

int
process_mempolicy_plan (struct process_mempolicy *plan, const struct oci_memory_policy *mp,
                        ctr_error_t *err)
{
  size_t i;

  if (mp == NULL)
    return 0;
  plan->set = true;
  plan->mode = mpol_value (mp->mode, false);
  for (i = 0; i < mp->flags_len; i++)
    plan->mode |= mpol_value (mp->flags[i], true);
  if (mp->nodes == NULL)
    return check_host_nodes (NULL, 0, "", "online", err);
  if (process_parse_cpu_list (mp->nodes, &plan->nodes, &plan->nodes_size) < 0)
    return ctr_error (err, 0, "linux.memoryPolicy.nodes: invalid node list \"%s\"", mp->nodes);
  /* relative nodes are positions in the container's allowed set, not node numbers; static
     nodes may be ones that come online later */
  if (plan->mode & MPOL_F_RELATIVE_NODES_BIT)
    return 0;
  return check_host_nodes (plan->nodes, plan->nodes_size, mp->nodes,
                           (plan->mode & MPOL_F_STATIC_NODES_BIT) ? "possible" : "online", err);
}

int
process_mempolicy_apply (const struct process_mempolicy *plan, ctr_error_t *err)
{
  /* maxnode counts one past the last bit the kernel reads */
  unsigned long maxnode = plan->nodes ? plan->nodes_size * 8 + 1 : 0;

  if (!plan->set)
    return 0;
  if (syscall (SYS_set_mempolicy, plan->mode, plan->nodes, maxnode) < 0)
    return ctr_error (err, errno, "linux.memoryPolicy: set_mempolicy%s",
                      errno == EINVAL ? " (this kernel refuses that mode, flags and nodes together)"
                                      : "");
  return 0;
}

void
process_mempolicy_release (struct process_mempolicy *m)
{
  if (m->nodes)
    CPU_FREE (m->nodes);
  m->nodes = NULL;
}
