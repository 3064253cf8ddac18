/* container: the lifecycle of OCI containers (create/start/run/exec/kill/delete/state...),
   the one API the CLI verbs call. Declarations only: create.c (create, run),
   container_ops.c (the verbs on existing containers), exec.c and state.c implement it. */
#ifndef CTR_CONTAINER_H
#define CTR_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"

struct container_attach_step;

struct ctr_context
{
  const char *state_root; /* --root; NULL: default (/run/ctr, or $XDG_RUNTIME_DIR/ctr) */
  bool systemd_cgroup;    /* --systemd-cgroup (refused: not supported yet) */
  const char *store;      /* --store: the named system containers (NULL: store_root()) */
  const char *criu;       /* --criu: the criu binary (NULL: criu from PATH) */
  /* what attaches the networks of `run --net` (NULL: none can be asked for) */
  const struct container_attach_step *attach;
};

/* Resolves the state root to use (the default when ctx->state_root is NULL). */
const char *container_state_root (const struct ctr_context *ctx);

struct container_create_options
{
  const char *bundle;      /* NULL: current directory */
  const char *config_file; /* NULL: <bundle>/config.json */
  const char *pid_file;
  const char *console_socket;
  int preserve_fds;
  bool no_pivot;
  bool no_new_keyring;
  bool detach; /* run only */
  bool keep;   /* run only: a stopped container is left for `delete` */
  /* Library callers (the system-container monitor): the pty master of a terminal
     container is handed over here instead of going to console_socket, and the container
     process's pid is stored in pid_out. */
  int *console_master;
  pid_t *pid_out;
  /* the container's network and user namespaces, opened by the container itself (a
     rootless owner may not open /proc/PID/ns/ of its non-dumpable setup process); its
     mount namespace too when mntns_fd_out is set (with netns_fd_out) */
  int *netns_fd_out, *userns_fd_out, *mntns_fd_out;
  /* system containers: read-only bind mounts (source, destination pairs, NULL-terminated)
     added after the config's own: lxcfs's files (rootfs/lxcfs.h) */
  char *const *ro_binds;
  /* run --net/--ip/--publish: named networks (NULL: none, the config's own netns) */
  char **networks;
  const char *ip;
  char **publish;
};

/* A step the lifecycle is handed and runs without knowing what it does: attach once the
   container process exists (its namespaces handed over) and before it starts, detach when
   the container goes away (delete, the end of a foreground run, a failed create). The
   network layer implements it for `run --net` (network/container_step.c); the lifecycle
   never calls up into that layer. */
struct container_attach_step
{
  /* dirfd: the container's state directory, where the step records what it must undo
     before it does it; netns_fd and userns_fd: the container's namespaces */
  int (*attach) (const char *id, int dirfd, pid_t pid, int netns_fd, int userns_fd,
                 const struct container_create_options *opts, ctr_error_t *err);
  /* safe at any time, also when attach never ran or failed halfway */
  void (*detach) (const char *id, int dirfd);
};

int container_create (const struct ctr_context *ctx, const char *id,
                      const struct container_create_options *opts, ctr_error_t *err);
int container_start (const struct ctr_context *ctx, const char *id, ctr_error_t *err);
/* create + start. In the foreground (not detach) waits for the container process,
   forwarding signals (and a terminal), deletes the container, and stores the process's
   exit status in *exit_status (128+signal when killed). */
int container_run (const struct ctr_context *ctx, const char *id,
                   const struct container_create_options *opts, int *exit_status, ctr_error_t *err);
/* Runtime-spec state document (malloc'd JSON). */
int container_state (const struct ctr_context *ctx, const char *id, char **json, ctr_error_t *err);
int container_kill (const struct ctr_context *ctx, const char *id, int sig, bool all,
                    ctr_error_t *err);
/* Refuses a running/created container unless force (then SIGKILL first). Runs poststop
   hooks, removes the cgroup and the state directory. */
int container_delete (const struct ctr_context *ctx, const char *id, bool force, ctr_error_t *err);

struct container_exec_options
{
  const char *process_file; /* -p: a process.json; the fields below then only override */
  char **args;              /* NULL-terminated; required without process_file */
  bool tty;
  bool tty_set; /* -t given explicitly */
  const char *cwd;
  char **env;             /* K=V, appended/overriding */
  const char *user;       /* UID[:GID] */
  char **additional_gids; /* decimal strings */
  char **caps;            /* added to every set */
  bool no_new_privs;
  bool detach;
  const char *pid_file;
  const char *console_socket;
  int preserve_fds;
  bool ignore_paused;        /* a paused container takes it: it runs once resumed */
  const char *apparmor;      /* process.apparmorProfile */
  const char *process_label; /* process.selinuxLabel */
  const char *cgroup;        /* an existing sub-cgroup of the container's to run in */
};

int container_exec (const struct ctr_context *ctx, const char *id,
                    const struct container_exec_options *opts, int *exit_status, ctr_error_t *err);

struct container_info
{
  char *id;
  pid_t pid; /* 0 when stopped */
  char *status;
  char *bundle;
  char *rootfs;  /* as the config names it, resolved against the bundle */
  char *created; /* RFC 3339 */
  char *owner;
  char *annotations; /* the config's annotations as JSON text, or NULL */
};

int container_list (const struct ctr_context *ctx, struct container_info **out, size_t *n,
                    ctr_error_t *err);
void container_info_free (struct container_info *info, size_t n);
int container_ps (const struct ctr_context *ctx, const char *id, pid_t **pids, size_t *n,
                  ctr_error_t *err);
int container_pause (const struct ctr_context *ctx, const char *id, ctr_error_t *err);
/* CPU time and memory in use, from the container's cgroup; -1 when unknown. */
int container_usage (const struct ctr_context *ctx, const char *id, uint64_t *cpu_ns,
                     uint64_t *memory_bytes);
int container_resume (const struct ctr_context *ctx, const char *id, ctr_error_t *err);
/* `ctr top`: the cgroup counters of every running or paused container, now. */
struct container_top_row
{
  char *id, *status;
  bool has_cpu, has_memory, has_pids, has_io;
  uint64_t cpu_ns;               /* CPU time used since it started */
  uint64_t memory, memory_limit; /* bytes (the limit: the kernel's maximum when none) */
  uint64_t pids;
  uint64_t io_read, io_write; /* bytes */
};
int container_top_sample (const struct ctr_context *ctx, struct container_top_row **out, size_t *n,
                          ctr_error_t *err);
void container_top_free (struct container_top_row *rows, size_t n);
/* `ctr update`: resources_json is a linux.resources object (may be NULL); the flags
   fill/override it. */
struct container_update_options
{
  const char *resources_json;
  size_t resources_json_len;
  const char *memory, *memory_swap, *cpu_shares, *cpu_quota, *cpu_period, *cpuset_cpus,
      *cpuset_mems, *pids_limit, *blkio_weight, *memory_reservation, *cpu_rt_period,
      *cpu_rt_runtime, *l3_cache_schema, *mem_bw_schema;
};
int container_update (const struct ctr_context *ctx, const char *id,
                      const struct container_update_options *opts, ctr_error_t *err);

/* `ctr checkpoint` and `ctr restore` (runc's flags), through criu(8): checkpoint.c,
   restore.c. Paths are the caller's; image_path is required. */
struct container_criu_options
{
  const char *image_path;
  const char *work_path;           /* NULL: criu writes its log into image_path */
  const char *manage_cgroups_mode; /* soft (NULL), full, strict, ignore */
  const char *empty_ns;            /* "network" */
  bool tcp_established, ext_unix_sk, shell_job, file_locks, lazy_pages, auto_dedup;
  /* checkpoint */
  const char *parent_path; /* a previous (pre-)dump, relative to image_path as criu reads it */
  const char *page_server; /* ADDRESS:PORT */
  int status_fd;           /* -1: none */
  bool leave_running, pre_dump;
  /* library callers (system containers): the network namespace stays outside the image
     (its links belong to the caller, who attaches them again on restore), and the dumped
     container is left to its monitor, which undoes it when init ends */
  bool external_netns, keep_state;
  /* restore */
  const char *bundle; /* NULL: the current directory */
  const char *pid_file;
  const char *console_socket;
  const char *lsm_profile, *lsm_mount_context;
  bool detach, no_subreaper;
  /* library callers (the system-container monitor): the namespace the external network
     namespace of the image is restored into, where the pty master of a terminal container
     goes (instead of console_socket), and the restored init's pid */
  const int *netns_fd;
  int *console_master;
  pid_t *pid_out;
  /* or (an image whose network namespace was dumped empty, --empty-ns network): criu makes
     a new one, inside the restored user namespace, and setup_netns wires it (init's pid on
     the host) before any restored task runs */
  int (*setup_netns) (void *arg, pid_t init_pid, ctr_error_t *err);
  void *setup_netns_arg;
};

/* Dumps a running container into opts->image_path; unless leave_running or pre_dump, the
   container is then gone (deleted, as runc does), so that restore can take its id. */
int container_checkpoint (const struct ctr_context *ctx, const char *id,
                          const struct container_criu_options *opts, ctr_error_t *err);
/* Restores a container named id from opts->bundle and opts->image_path. In the foreground
   (not detach) waits for it as run does, and stores its exit status in *exit_status. */
int container_restore (const struct ctr_context *ctx, const char *id,
                       const struct container_criu_options *opts, int *exit_status,
                       ctr_error_t *err);

#endif
