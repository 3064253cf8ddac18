/* The listing of an archive to import (src/system/archive_import.c): archive_layout_line
   and archive_layout_finish over `tar -tv --numeric-owner --quoting-style=c` lines, whose
   member names come from whoever made the archive. Whatever they accept names no absolute
   path, no `..` and nothing outside the top directory. */
#include <config.h>
#include "fuzz.h"
#include "system/archive-internal.h"

static void
check_accepted (const struct archive_layout *l)
{
  size_t tlen = strlen (l->top);
  for (size_t i = 0; i < l->n_names; i++)
    {
      const char *n = l->names[i];
      if (n[0] == '/' || strncmp (n, l->top, tlen) != 0 || (n[tlen] != '/' && n[tlen] != '\0')
          || strstr (n, "/../") || strcmp (n + strlen (n) - (strlen (n) >= 3 ? 3 : 0), "/..") == 0)
        abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_string (data, size), *line, *save = NULL;
  struct archive_layout l = { 0 };
  ctr_error_t err = NULL;
  int r = 0;

  for (line = strtok_r (text, "\n", &save); line && r == 0; line = strtok_r (NULL, "\n", &save))
    r = archive_layout_line ("fuzz", &l, line, &err);
  if (r == 0 && archive_layout_finish ("fuzz", &l, &err) == 0)
    check_accepted (&l);
  archive_layout_clear (&l);
  fuzz_error_check (&err);
  free (text);
  return 0;
}
