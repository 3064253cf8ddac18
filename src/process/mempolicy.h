/* process/mempolicy: linux.memoryPolicy as set_mempolicy(2) arguments. */
#ifndef CTR_PROCESS_MEMPOLICY_H
#define CTR_PROCESS_MEMPOLICY_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include "base/error.h"
#include "oci/oci.h"

struct process_mempolicy
{
  bool set;          /* linux.memoryPolicy given */
  int mode;          /* MPOL_* | MPOL_F_* */
  cpu_set_t *nodes;  /* a node mask has the layout of a cpu set; NULL: none */
  size_t nodes_size; /* bytes */
};

/* Parent side, at create: names to numbers, the node list parsed and checked against the
   host's nodes (online ones; possible ones with MPOL_F_STATIC_NODES; none with
   MPOL_F_RELATIVE_NODES, whose numbers are positions). mp may be NULL. */
int process_mempolicy_plan (struct process_mempolicy *out, const struct oci_memory_policy *mp,
                            ctr_error_t *err);
/* Child side: set_mempolicy(2), inherited across fork and kept across execve. */
int process_mempolicy_apply (const struct process_mempolicy *m, ctr_error_t *err);
void process_mempolicy_release (struct process_mempolicy *m);

#endif
