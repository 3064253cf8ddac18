/* process/cpulist: cpu and node lists as bit sets. */
#ifndef CTR_PROCESS_CPULIST_H
#define CTR_PROCESS_CPULIST_H

#include <sched.h>
#include <stddef.h>

/* Parses a cpu list ("0-3,7") into a CPU_ALLOC'd set. */
int process_parse_cpu_list (const char *list, cpu_set_t **set, size_t *size);

#endif
