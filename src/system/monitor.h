/* monitor: the per-container process of a system container (ctr itself in a monitor role):
   creates and starts the container with a pty, keeps the console in a bounded log, reaps
   init, records the exit, undoes everything when init ends, and serves console, log and
   stop requests on a socket in the container's state directory. Declarations only:
   monitor_process.c is the monitor, monitor_client.c its clients, monitor_net.c its
   networks. */
#ifndef CTR_MONITOR_H
#define CTR_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include "runtime/container.h"
#include "base/error.h"

#define MONITOR_SOCKET "monitor.sock"
/* Written into the state directory once the container runs: pid, start time, addresses. */
#define MONITOR_INFO "monitor.json"
/* The console output kept in memory (and saved to the store when the container ends). */
#define MONITOR_LOG_SIZE (128 * 1024)

/* Requests (client → monitor) and replies (monitor → client): SOCK_SEQPACKET messages
   whose first byte is the type. */
enum monitor_msg
{
  MON_CONSOLE = 'C', /* attach to the console: DATA and RESIZE follow; + byte 1: the
                        buffered output first (`start -F`: nothing the run printed is lost) */
  MON_LOG = 'L',     /* the buffered console output: DATA..., END */
  MON_STOP = 'S',    /* + int32 timeout in seconds: EXIT when everything is undone */
  MON_DATA = 'D',    /* + bytes */
  MON_RESIZE = 'W',  /* + struct winsize */
  MON_END = 'E',
  MON_EXIT = 'X', /* + int32 exit status, int32 flags: the container is gone and cleaned up */
};
/* MON_EXIT flag: init did not end by the stop deadline and everything was killed */
#define MON_EXIT_KILLED 1

/* One request as the monitor reads it: the type (payload checked) and what it carries. */
struct monitor_request
{
  char type;
  const char *data; /* MON_DATA: the bytes to the console */
  size_t len;
  int32_t timeout;   /* MON_STOP */
  struct winsize ws; /* MON_RESIZE */
  bool replay;       /* MON_CONSOLE: the buffered output first */
};
/* 1 and *req filled; 0 for a malformed request to ignore; -1 for one to drop the client for. */
int monitor_request_decode (const char *buf, size_t n, struct monitor_request *req);
/* The monitor's EXIT reply: 0 with its exit status and MON_EXIT_* flags, -1 when malformed. */
int monitor_exit_decode (const char *buf, size_t n, int32_t *status, int32_t *flags);

struct monitor_network;

struct monitor_config
{
  const struct ctr_context *ctx;
  const char *name;
  const char *bundle; /* the store directory */
  int store_fd;       /* the same, open: console.log and ctr.json go there */
  int stop_signal;
  int stop_timeout;
  char *const *networks; /* NULL or {"none"}: loopback only; {"host"}: the host's */
  const char *ip;
  char *const *publish;
  /* the start hears "running" only once init is through its early setup, and of an init
     that ends before, with its last console lines (an OS booting, not a foreground start) */
  bool report_boot;
  /* NULL, or the last step of the monitor's teardown, before its clients hear of the end
     (an ephemeral run's layer removed, an ephemeral clone destroyed) */
  void (*ended) (const struct monitor_config *cfg);
  /* ctr.json's lxcfs setting (NULL: auto), for rootfs/lxcfs.h at each boot */
  const char *lxcfs;
  /* `ctr restore`: the container comes back from this criu image instead of being created
     and started (the first run only; a guest reboot creates it anew) */
  const struct monitor_restore_image *restore;
  /* `start -F`: the monitor's end of a socket pair whose other end the start keeps, a
     console client from before init runs, so that none of its output (nor its end) can
     come before the client does; -1: none */
  int console_client;
};

/* A checkpoint to restore (system_checkpoint.c reads it from the image's system.json). */
struct monitor_restore_image
{
  const char *dir;  /* criu's images */
  const char *work; /* where criu writes restore.log (kept) */
  bool netns;       /* init had a network namespace of its own, dumped as external */
  /* and a user namespace of its own (unprivileged): its network namespace was dumped
     empty, criu makes it again inside the user namespace it restores, the monitor
     attaches the networks to it before the tasks run */
  bool userns;
};

/* monitor_cgroup.c: the monitor's own cgroup, apart from its caller's session. */
#define MONITOR_CGROUP "ctr.monitor"
/* where an ending monitor goes to remove its own directory (a sibling, kept) */
#define MONITOR_CGROUP_PIVOT ".exit"
struct cgroup;
/* Moves the calling (single-threaded) process into <root>/ctr.monitor/<name>; NULL (with
   a warning) when it stays where it is. */
struct cgroup *monitor_cgroup_enter (const char *name);
/* The ending monitor leaves its cgroup and removes it. */
void monitor_cgroup_leave (struct cgroup *cg);
/* Removes what a dead monitor left there, killing anything still in it. */
void monitor_cgroup_remove (const char *name);
/* The pivot (MONITOR_CGROUP_PIVOT) monitors leave through, and /ctr.monitor, removed when
   empty: after the last monitor is gone, nothing of ctr's stays in the cgroup tree. */
void monitor_cgroup_tidy (void);
/* Whether the monitor's own cgroup was frozen from outside (false when it has none). */
bool monitor_cgroup_frozen (const char *name);

/* Starts a detached monitor that creates and starts the container; returns its pid once
   the container runs, or the error that stopped it (nothing is left behind then). */
pid_t monitor_spawn (const struct monitor_config *cfg, ctr_error_t *err);

/* Clients. A container whose monitor is not there: "container `NAME` is not running". */
int monitor_connect (const struct ctr_context *ctx, const char *name, ctr_error_t *err);
/* monitor_connect through the container's state directory dfd, already open. */
int monitor_connect_at (int dfd, const char *name, ctr_error_t *err);
/* True when a monitor answers on the container's socket (in the state directory dfd). */
bool monitor_alive (const struct ctr_context *ctx, const char *name);
bool monitor_alive_at (int dfd, const char *name);
/* Ctrl-a: the console's escape key (as screen and lxc-console) unless `console -e`. */
#define MONITOR_ESCAPE_DEFAULT 0x01
/* Proxies the console to stdin/stdout until ESCAPE q (0), or the container ends (1, status
   in *exit_status). foreground: the end of a non-terminal stdin does not detach. escape:
   the escape key, 0 for MONITOR_ESCAPE_DEFAULT. */
int monitor_console (const struct ctr_context *ctx, const char *name, bool foreground, int escape,
                     int *exit_status, ctr_error_t *err);
/* The same on sock, the start's end of monitor_config.console_client (closed here). */
int monitor_console_paired (const char *name, int sock, int *exit_status, ctr_error_t *err);
/* "^a".."^z" (and ^@ ^[ ^\ ^] ^^ ^_, any case) for a control key, or one other byte: the
   key, or -1 (q, which detaches, and what is not one key). */
int monitor_parse_escape (const char *text);
/* Writes the buffered console output to fd. */
int monitor_log (const struct ctr_context *ctx, const char *name, int fd, ctr_error_t *err);
/* Asks init to shut down, kills after timeout seconds; returns when all is undone. */
int monitor_stop (const struct ctr_context *ctx, const char *name, int timeout, int *exit_status,
                  bool *killed, ctr_error_t *err);

/* Network side of the monitor (monitor_net.c): attaches the container's networks, writes what it
   got into the rootfs' /etc/hosts and /etc/resolv.conf and into *addresses (NULL-terminated
   "10.88.0.5/16" strings); monitor_net_down undoes it and is safe to call at any time.
   mntns_fd: the container's mount namespace (or -1): rootless, the files are written
   there, where an overlay volume or an ephemeral layer is mounted. */
int monitor_net_up (const struct monitor_config *cfg, pid_t pid, int netns_fd, int userns_fd,
                    int mntns_fd, char ***addresses, ctr_error_t *err);
void monitor_net_down (const char *name, char *const *networks);

/* monitor_restore.c: init restored by criu as the monitor's child, in a network namespace
   made here with the networks attached again (cfg->ip: the checkpoint's address). On
   failure nothing of it is left. */
int monitor_restore (const struct monitor_config *cfg, pid_t *pid, int *master, char ***addresses,
                     ctr_error_t *err);
/* system_run.c: `ctr restore` of a stopped system container: its monitor brings it back from
   the image; ip: the address it had (NULL: none). */
int system_run_restored (const struct ctr_context *ctx, const char *name,
                         const struct monitor_restore_image *img, const char *ip, ctr_error_t *err);

#endif
