/* owned_dir: directories whose contents ctr trusts (the state root, the store, caches) are
   the caller's: owned by the effective uid and writable by nobody else, and so is every
   directory on the way to them unless it is root's (or sticky, like /tmp). The check is
   made on the fd that is then used; nothing is opened again by path. */
#ifndef CTR_OWNED_DIR_H
#define CTR_OWNED_DIR_H

#include <stdbool.h>

#include "base/error.h"

/* Opens path (O_DIRECTORY, read-only) after the checks above; what names it in errors
   ("state root"). With create, missing directories are made first (mode 0700). With
   missing_ok, a path that does not exist returns OWNED_DIR_MISSING and err is untouched;
   any other failure returns -1. */
#define OWNED_DIR_CREATE 1
#define OWNED_DIR_MISSING_OK 2
#define OWNED_DIR_MISSING (-2)
int owned_dir_open (const char *path, const char *what, int flags, ctr_error_t *err);

/* What owned_dir_open with OWNED_DIR_CREATE would check, making nothing: returns an fd of
   path, or of its nearest existing ancestor when path is missing (held to the rule
   for directories on the way), and sets *existing to the one opened. */
int owned_dir_probe (const char *path, const char *what, char **existing, ctr_error_t *err);

/* Opens the directory name in the owned directory dirfd (never through a symlink) and
   checks it is the caller's too. path names it in errors ("WHAT `path` does not exist"
   when it is missing; errno is then ENOENT). */
int owned_subdir_open (int dirfd, const char *name, const char *path, const char *what,
                       ctr_error_t *err);

/* While on, the checks take the effective uid asked when it was turned on, instead of
   asking it once per directory: for a command that checks many (`ctr ls`, one thread per
   CPU) and changes no ids meanwhile. */
void owned_dir_remember_euid (bool on);

/* The check alone, on an open directory. */
int owned_dir_check (int fd, const char *path, const char *what, ctr_error_t *err);
/* The check of owned_subdir_open without the open (fstatat, never through a symlink): for a
   directory whose entries are then opened by relative paths from dirfd, when dirfd is the
   caller's (so no one else can replace name between the check and those opens). */
int owned_subdir_check (int dirfd, const char *name, const char *path, const char *what,
                        ctr_error_t *err);

/* The subdirectories of the owned directory root whose names are valid ids, sorted (a
   missing root: none). what names root in errors ("state root", "store"). */
int owned_dir_list_ids (const char *root, const char *what, char ***ids, size_t *n,
                        ctr_error_t *err);
/* The same of root already open (owned_dir_open) as fd, which it takes (and closes). */
int owned_dir_list_ids_fd (int fd, const char *root, const char *what, char ***ids, size_t *n,
                           ctr_error_t *err);
/* Those of them whose directory (opened O_NOFOLLOW, as dirfd) match accepts,
   NULL-terminated; a root that cannot be listed has none. */
char **owned_dir_select_ids (const char *root, const char *what,
                             bool (*match) (int dirfd, const char *id, void *data), void *data);

#endif
