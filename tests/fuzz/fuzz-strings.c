/* The small string parsers of options and files: Go durations (`ctr events --interval`,
   events_parse_duration), signal names (--signal, stop_signal: signal_parse), cpu lists
   (process_parse_cpu_list: execCPUAffinity), integers (parse_int64/parse_uint64). Each line
   of the input is tried with each. */
#define _GNU_SOURCE
#include <config.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <strings.h>
#include "fuzz.h"
#include "base/util.h"
#include "process/process-internal.h"
#include "runtime/events.h"

/* RTMIN+N / RTMAX-N: a signal only when N itself keeps it in the real-time range (the
   offset must not wrap: RTMIN+4294967298 once parsed as RTMIN+2). */
static void
check_rt (const char *s, int sig)
{
  const char *p = strncasecmp (s, "SIG", 3) == 0 ? s + 3 : s;
  long long n, want;
  char *end;

  if (sig < 0 || strlen (p) < 6 || (strncasecmp (p, "RTMIN", 5) && strncasecmp (p, "RTMAX", 5)))
    return;
  if (p[5] != '+' && p[5] != '-')
    return;
  errno = 0;
  n = strtoll (p + 6, &end, 10);
  if (errno || *end)
    abort ();
  want = (strncasecmp (p, "RTMIN", 5) == 0 ? SIGRTMIN : SIGRTMAX) + (p[5] == '+' ? n : -n);
  if (want != sig)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_string (data, size), *save = NULL, *line;

  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      uint64_t ns, u;
      int64_t i;
      cpu_set_t *set = NULL;
      size_t setsize = 0;

      if (events_parse_duration (line, &ns) == 0 && ns == 0)
        abort (); /* a zero interval would spin */
      check_rt (line, signal_parse (line));
      if (process_parse_cpu_list (line, &set, &setsize) == 0 && set)
        CPU_FREE (set);
      parse_int64 (line, &i);
      parse_uint64 (line, &u);
    }
  free (text);
  return 0;
}
