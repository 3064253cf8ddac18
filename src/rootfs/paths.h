/* paths: symlink-safe lookups inside a root directory fd, /proc/self/fd names. */
#ifndef CTR_ROOTFS_PATHS_H
#define CTR_ROOTFS_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"

#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#else
struct open_how
{
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#endif

/* Big enough for "/proc/self/fd/" and any int. */
#define FD_PATH_SIZE 32
/* "/proc/self/fd/<fd>": how mount(2) reaches an O_PATH fd. */
const char *fd_path (char buf[FD_PATH_SIZE], int fd);

/* Opens path (absolute or relative, taken as relative to the root) inside root_fd: symlinks
   and ".." never leave the root, magic links are refused. extra_resolve adds RESOLVE_*
   flags (RESOLVE_NO_SYMLINKS for /dev). Returns an fd or -1 with errno set. */
int resolve_in_root (int root_fd, const char *path, int flags, uint64_t extra_resolve);
/* The userspace walker used when openat2 is missing (exposed for tests). O_PATH only. */
int resolve_in_root_walk (int root_fd, const char *path, int flags, bool no_symlinks);
/* Like resolve_in_root (O_PATH), creating missing components: directories, and for the
   last one a directory (is_dir) or an empty regular file. Returns an O_PATH fd; *created
   (may be NULL) says whether the last component was created. On failure (*err)->status
   is the errno (ELOOP: a symlink on the way with RESOLVE_NO_SYMLINKS). */
int mkpath_in_root (int root_fd, const char *path, bool is_dir, uint64_t extra_resolve,
                    bool *created, ctr_error_t *err);
/* Lexical clean-up of a path inside the root: "a//b/./../c" -> "/a/c" (".." stops at
   "/"). It is where a symlink-free path lands under RESOLVE_IN_ROOT. */
char *path_clean (const char *path);
/* The path of fd relative to the root directory root_path ("/proc/sys"); NULL if outside. */
char *fd_path_in_root (int fd, const char *root_path);
/* The host path of the directory at fd, from /proc/self/fd (malloc'd; NULL with errno set,
   ENOENT when it is not a path, e.g. after pivot_root). */
char *fd_realpath (int fd);
/* Mount id of the mount holding fd (0 if unknown). */
uint64_t fd_mount_id (int fd);

#endif
