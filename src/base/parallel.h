/* parallel: a loop whose iterations are independent system calls (list, ls), spread over the
   caller and one more thread per CPU it may run on. */
#ifndef CTR_PARALLEL_H
#define CTR_PARALLEL_H

#include <stddef.h>

/* Calls fn (arg, i) once for each i < count, in no order and concurrently: fn writes only
   what belongs to i. One thread per per_thread items at most (none besides the caller's
   for fewer), never more than the CPUs the caller may run on. Returns when all are done. */
void parallel_for (size_t count, size_t per_thread, void (*fn) (void *arg, size_t i), void *arg);

#endif
