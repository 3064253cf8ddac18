/* memory: allocation wrappers that abort on OOM, string vectors, cleanup attributes. */
#ifndef CTR_MEMORY_H
#define CTR_MEMORY_H

#include <stddef.h>
#include <stdio.h>
#include <dirent.h>

void *xmalloc (size_t size);
void *xzalloc (size_t size);
void *xrealloc (void *ptr, size_t size);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Duplicates a NULL-terminated string vector (NULL in, NULL out). */
char **xstrv_dup (char *const *v);
void strv_free (char **v);
size_t strv_len (char *const *v);
/* The strings of v with sep between them ("" for an empty or NULL v). */
char *xstrv_join (char *const *v, const char *sep);

void cleanup_freep (void *p);
void cleanup_closep (int *fd);
void cleanup_filep (FILE **f);
void cleanup_dirp (DIR **d);
void cleanup_strvp (char ***v);
#define cleanup_free __attribute__ ((cleanup (cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cleanup_closep)))
#define cleanup_file __attribute__ ((cleanup (cleanup_filep)))
#define cleanup_dir __attribute__ ((cleanup (cleanup_dirp)))
#define cleanup_strv __attribute__ ((cleanup (cleanup_strvp)))

/* Move ownership out of a cleanup variable. */
#define steal_ptr(p)                                                                               \
  ({                                                                                               \
    __typeof__ (p) _tmp = (p);                                                                     \
    (p) = NULL;                                                                                    \
    _tmp;                                                                                          \
  })
#define steal_fd(fd)                                                                               \
  ({                                                                                               \
    int _tmp = (fd);                                                                               \
    (fd) = -1;                                                                                     \
    _tmp;                                                                                          \
  })

#define ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))

#endif
