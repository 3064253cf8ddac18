/* template.conf (src/system/system.c): template_conf_parse, what `ctr create -t` reads from
   the template's output (the oci template copies the image's user into user=). As the
   caller does, the result is freed only on success: a failure must leave nothing behind. */
#include <config.h>
#include <errno.h>
#include "fuzz.h"
#include "system/system.h"

/* The last user= line, parsed wide: the uid and gid must be exactly these, not wrapped. */
static void
check_user (const uint8_t *data, size_t size, const struct template_conf *t)
{
  char *text = fuzz_string (data, size), *line, *save = NULL, *last = NULL;
  unsigned long long uid, gid;
  char *end;

  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if (strncmp (line, "user=", 5) == 0)
      last = line + 5;
  if (last)
    {
      errno = 0;
      uid = strtoull (last, &end, 10);
      if (*end != ':')
        abort ();
      gid = strtoull (end + 1, &end, 10);
      if (errno || uid != t->uid || gid != t->gid || uid >= UINT32_MAX || gid >= UINT32_MAX)
        abort ();
    }
  free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_string (data, size);
  ctr_error_t err = NULL;
  struct template_conf t;

  if (template_conf_parse (text, "fuzz", &t, &err) == 0)
    {
      if (t.n_args == 0 || t.args[t.n_args] != NULL)
        abort ();
      check_user (data, size, &t);
      template_conf_clear (&t);
    }
  fuzz_error_check (&err);
  free (text);
  return 0;
}
