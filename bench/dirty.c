/* bench/dirty.c: a process that keeps writing memory, for bench/migrate.sh (built there,
   statically, into the container's rootfs; never installed).
   dirty MIB RATE: maps MIB MiB, touches all of it, then writes RATE MiB per second of it,
   page by page around the area, for ever. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

int
main (int argc, char **argv)
{
  size_t mib = argc > 1 ? strtoul (argv[1], NULL, 10) : 256;
  size_t rate = argc > 2 ? strtoul (argv[2], NULL, 10) : 16;
  size_t size = mib << 20, page = 4096, pos = 0, per_tick = (rate << 20) / 10;
  struct timespec tick = { 0, 100000000 };
  unsigned char *p = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  if (p == MAP_FAILED)
    return 1;
  memset (p, 1, size);
  for (unsigned char v = 2;; v++)
    {
      for (size_t done = 0; done < per_tick; done += page)
        {
          p[pos] = v;
          pos = (pos + page) % size;
        }
      nanosleep (&tick, NULL);
    }
}
