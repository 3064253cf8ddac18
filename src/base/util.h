/* util: small fd/file helpers, parsing, ids, sockets (and base/memory.h for every user). */
#ifndef CTR_UTIL_H
#define CTR_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <dirent.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/memory.h"

/* write()/read() that retry on EINTR and short counts. Return bytes or -1 (errno set). */
ssize_t write_all (int fd, const void *buf, size_t len);
ssize_t read_all (int fd, void *buf, size_t len);

/* Reads a whole file (at most max_size bytes, else EFBIG). *out is NUL-terminated. */
int read_file_at (int dirfd, const char *path, size_t max_size, char **out, size_t *len,
                  ctr_error_t *err);
/* The same for a regular file that is only ever replaced whole (written to a temporary
   name and renamed: state.json, ctr.json, monitor.json): one system call fewer, no fstat;
   a read shorter than asked is its end. */
int read_whole_file_at (int dirfd, const char *path, size_t max_size, char **out, size_t *len,
                        ctr_error_t *err);
/* Writes data to path relative to dirfd (AT_FDCWD allowed), O_CREAT|O_TRUNC, mode. */
int write_file_at (int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                   ctr_error_t *err);
/* Atomic replace: write path.tmp then rename over path. */
int write_file_atomic_at (int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                          ctr_error_t *err);
/* mkdir -p for an absolute path; existing directories are fine. */
int mkdir_p (const char *path, mode_t mode, ctr_error_t *err);
/* The command name of process pid (/proc/PID/comm, without its newline), or NULL. */
char *proc_comm (pid_t pid);
/* The root of process pid as its mount namespace sees it (/proc/PID/root, opened with
   flags | O_DIRECTORY | O_CLOEXEC) from a handle checked to be procfs; -1 with errno
   (EXDEV: /proc is not procfs). */
int proc_root_open (pid_t pid, int flags);

/* Parses a decimal integer that must fill the whole string. 0 or -1 (errno EINVAL/ERANGE). */
int parse_int64 (const char *s, int64_t *out);
int parse_uint64 (const char *s, uint64_t *out);

/* Signal name ("KILL", "SIGKILL", "9", "RTMIN+3") to number; -1 if unknown. */
int signal_parse (const char *s);
const char *signal_name (int sig); /* "SIGKILL"; NULL when unknown */

/* Validates a container id: [A-Za-z0-9_+-][A-Za-z0-9_+.-]*, at most 1024 bytes. */
int validate_container_id (const char *id, ctr_error_t *err);

/* True when the process runs without host root (euid != 0 or not in the initial userns). */
bool is_rootless (void);

/* A connected AF_UNIX stream socket (O_CLOEXEC); errors read "connect to <what> `path`". */
int unix_connect (const char *path, const char *what, ctr_error_t *err);
/* Sends data with one fd attached (SCM_RIGHTS; none when fd < 0). 0, or -1 with errno set. */
int unix_send_fd (int sock, const void *data, size_t len, int fd);
/* One message into buf, its fd (if one came; close-on-exec) in *fd, else -1. The bytes
   read, or -1 with errno set. */
ssize_t unix_recv_fd (int sock, void *buf, size_t len, int *fd);

/* rm -rf of dirfd/name: never follows a symlink and refuses to cross into another mount
   (a leftover bind mount must not take the host's files with it). */
int remove_tree_at (int dirfd, const char *name, ctr_error_t *err);
/* Whether name in dirfd (not followed) is a mount point, by mount id: also a bind of
   dirfd's own filesystem (an idmapped one), which has its st_dev. */
bool is_mountpoint_at (int dirfd, const char *name);

/* The current time, RFC 3339 in UTC with nanoseconds (malloc'd). */
char *rfc3339_now (void);
/* A wait status folded as shells do: the exit code, or 128 + the signal. */
int wait_status_code (int wstatus);

/* Monotonic time in nanoseconds. */
uint64_t now_ns (void);

/* SIGKILL to a child (through its pidfd when >= 0) and reap it; nothing for pid <= 0. */
void kill_and_reap (pid_t pid, int pidfd);

/* Interrupts (SIGINT, SIGTERM, SIGHUP; those the caller ignores stay ignored) of a verb
   whose work is a child (cp, tar): interrupt_catch() catches them; the handler records
   the signal and ends with SIGKILL the child named by interrupt_child (0: none), so that
   the verb's error path cleans up (interrupt_caught() after the child's wait says why);
   interrupt_raise() then ends ctr by the signal, as the shell expects. */
void interrupt_catch (void);
void interrupt_child (pid_t pid);
int interrupt_caught (void);
void interrupt_raise (void);

#endif
