/* terminal: pty allocation in the container, --console-socket hand-over, raw mode and
   window-size forwarding for `run`/`exec` with a terminal. */
#ifndef CTR_TERMINAL_H
#define CTR_TERMINAL_H

#include <stdbool.h>
#include <termios.h>
#include "base/error.h"

/* Opens /dev/ptmx of the current mount namespace (the container's devpts) and its peer.
   Both fds are O_CLOEXEC. */
int terminal_open_pty (int *master, int *slave, ctr_error_t *err);
/* A machine's console: fd as stdin/stdout/stderr but nobody's controlling terminal, and
   the process no session leader (a new session only if the caller had a terminal), so
   that the guest's getty, not its init, takes the console. */
int terminal_make_console (int slave, ctr_error_t *err);
/* A process group for a machine console's init, made by a child that exits and stays
   unreaped until terminal_group_join() moves the container's first process into it: that
   init is then in no group of its caller's and leads none, so that its own setsid()
   (sysvinit, busybox init, systemd) makes it a session leader inside its pid namespace,
   which criu needs. The group's id is not of the container's pid namespace, whose init
   could not end while one of its ids outlived its process. Returns the maker's pid. */
pid_t terminal_group_make (ctr_error_t *err);
int terminal_group_join (pid_t child, pid_t maker, ctr_error_t *err);
/* Makes fd the controlling terminal of a new session and stdin/stdout/stderr. */
int terminal_make_controlling (int slave, ctr_error_t *err);
int terminal_set_size (int fd, unsigned rows, unsigned cols, ctr_error_t *err);
/* Copies the window size of from (a tty) to to; silently nothing when from is no tty. */
void terminal_copy_size (int from, int to);
/* A foreground run or exec whose stdout is not a terminal: the pty passes "\n" through
   instead of "\r\n" (no ONLCR), as runc leaves it, so output piped to a file stays the
   program's own. Best effort. */
void terminal_plain_newlines_unless_tty (int master);
/* Sends fd over the unix socket at path (SCM_RIGHTS), as runc's --console-socket. */
int terminal_send_to_socket (const char *path, int fd, ctr_error_t *err);
/* Connects to the --console-socket at path: done before anything of the container exists,
   so a missing path or one that is no socket fails create with nothing to undo. */
int terminal_connect_console_socket (const char *path, ctr_error_t *err);
/* Sends the pty master fd over a socket terminal_connect_console_socket returned. */
int terminal_send_to_connected (int sock, const char *path, int fd, ctr_error_t *err);

struct terminal_saved
{
  bool active;
  int fd;
  struct termios tio;
};
/* Puts fd into raw mode when it is a tty; terminal_restore undoes it. */
int terminal_raw (int fd, struct terminal_saved *saved, ctr_error_t *err);
void terminal_restore (struct terminal_saved *saved);

#endif
