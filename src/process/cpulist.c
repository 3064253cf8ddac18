/* process/cpulist: cpu and node lists ("0-3,7") as bit sets (execCPUAffinity, the nodes of
   linux.memoryPolicy). */
#include <config.h>
#include <ctype.h>
#include <stdlib.h>

#include "process/cpulist.h"

/* Highest cpu number accepted in a list: far above any real machine, low enough that a
   typo cannot make us allocate a huge set. */
#define CPU_LIST_MAX 65535

static int
cpu_list_walk (const char *list, cpu_set_t *set, size_t size, long *max)
{
  const char *p = list;

  *max = -1;
  while (*p)
    {
      char *end;
      long lo, hi;

      if (!isdigit ((unsigned char)*p))
        return -1;
      lo = hi = strtol (p, &end, 10);
      p = end;
      if (*p == '-')
        {
          if (!isdigit ((unsigned char)p[1]))
            return -1;
          hi = strtol (p + 1, &end, 10);
          p = end;
        }
      if (lo > hi || hi > CPU_LIST_MAX)
        return -1;
      if (hi > *max)
        *max = hi;
      for (; set && lo <= hi; lo++)
        CPU_SET_S ((size_t)lo, size, set);
      if (*p == ',' && p[1] != '\0')
        p++;
      else if (*p != '\0')
        return -1;
    }
  return *max < 0 ? -1 : 0;
}

int
process_parse_cpu_list (const char *list, cpu_set_t **set, size_t *size)
{
  long max;

  if (cpu_list_walk (list, NULL, 0, &max) < 0)
    return -1;
  *set = CPU_ALLOC ((int)max + 1);
  if (*set == NULL)
    abort ();
  *size = CPU_ALLOC_SIZE ((int)max + 1);
  CPU_ZERO_S (*size, *set);
  return cpu_list_walk (list, *set, *size, &max);
}
