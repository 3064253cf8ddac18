/* system: the system-container face of ctr (LXC-style named containers): create from a
   template, start under a monitor, attach, stop, list, inspect, destroy. */
#ifndef CTR_SYSTEM_H
#define CTR_SYSTEM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "runtime/container.h"
#include "base/error.h"

struct system_create_options
{
  const char *template_name;
  char **template_args; /* passed to the template as they are (options, `--`, program) */
  char **networks;      /* NULL: the default ("ctr0" as root, "none" rootless) */
  const char *ip;
  char **publish;
  bool autostart;
  const char *stop_signal; /* NULL: the template's */
  const char *pool;        /* NULL: "default", the store itself */
  const char *size;        /* lvm pools: the thin volume's size (NULL: 4G) */
  bool privileged;         /* root's container without a user namespace of its own */
};

int system_create (const struct ctr_context *ctx, const char *name,
                   const struct system_create_options *o, ctr_error_t *err);
/* Rootless: only networks that need no root (none, host, user-mode). */
int system_check_networks (char *const *networks, ctr_error_t *err);
/* Boots a stored container under its monitor. foreground: stays on its console and
   returns with *exit_status when it ends. */
int system_start (const struct ctr_context *ctx, const char *name, bool foreground,
                  int *exit_status, ctr_error_t *err);
/* `start --ephemeral`: on a throw-away overlay layer over the rootfs, gone when the run
   ends. locked_fd: -1, or the container's directory locked by the caller (clone). */
int system_start_ephemeral (const struct ctr_context *ctx, const char *name, int locked_fd,
                            bool foreground, int *exit_status, ctr_error_t *err);
/* What a run left that ended without its monitor (killed, a host reboot): the layer of a
   stopped container removed, a stopped ephemeral clone destroyed. Only when its lock is
   free (a start or a monitor at work holds it). 1 when the container was destroyed. */
int system_ephemeral_reap (const struct ctr_context *ctx, const char *name);
/* How a stop went. */
struct system_stopped
{
  int exit_status;      /* init's: its exit code, or 128 + the signal that ended it */
  bool killed;          /* init did not end by the deadline: everything was killed (SIGKILL) */
  bool orphaned;        /* its monitor was gone: what was left got killed (said already) */
  int timeout;          /* the seconds it was given */
  char stop_signal[32]; /* and the signal it was sent first ("SIGPWR") */
};
/* timeout < 0: the container's stop_timeout. */
int system_stop (const struct ctr_context *ctx, const char *name, int timeout,
                 struct system_stopped *out, ctr_error_t *err);
int system_destroy (const struct ctr_context *ctx, const char *name, bool force, ctr_error_t *err);
/* args NULL: a login shell. */
int system_attach (const struct ctr_context *ctx, const char *name, char **args, int *exit_status,
                   ctr_error_t *err);
/* escape: the console's escape key (monitor_parse_escape), 0 for Ctrl-a. */
int system_console (const struct ctr_context *ctx, const char *name, int escape, ctr_error_t *err);
/* The buffered console output (the saved log when the container is stopped). */
int system_console_log (const struct ctr_context *ctx, const char *name, int fd, ctr_error_t *err);

enum system_status
{
  SYSTEM_STOPPED,
  SYSTEM_RUNNING,
  SYSTEM_PAUSED,
  SYSTEM_ORPHANED, /* its processes are there but the monitor is gone */
};
const char *system_status_name (enum system_status s);

struct system_info
{
  char *name;
  enum system_status status;
  pid_t pid;
  char *template_name;
  char *kind;
  bool autostart;
  char **addresses;
  char **networks;
  uint64_t uptime_s;
  int64_t restarts; /* guest reboots under the current monitor (running only) */
  bool has_last_exit;
  int last_exit;
  bool has_usage;
  uint64_t cpu_ns, memory_bytes;
  char *cloned_from; /* or NULL */
  char *pool;        /* its storage pool (docs/storage.md), "default": the store */
  char *idmap;       /* its id range "UID:GID:COUNT", or "none" (privileged) */
  int autostart_order, autostart_delay; /* `ctr start --autostart`: order, then seconds */
  char *autostart_group;                /* or NULL */
  bool ephemeral;                       /* its run is on a throw-away layer (start --ephemeral) */
  bool ephemeral_clone;                 /* destroyed when its run ends (clone --ephemeral) */
};

int system_info (const struct ctr_context *ctx, const char *name, bool usage,
                 struct system_info *out, ctr_error_t *err);
int system_list (const struct ctr_context *ctx, struct system_info **out, size_t *n,
                 ctr_error_t *err);
void system_info_clear (struct system_info *i);
/* True when name is a stored system container (the OCI verbs then act on it by name). */
bool system_exists (const struct ctr_context *ctx, const char *name);

/* system_checkpoint.c: `ctr checkpoint NAME [--stop] [DIR]` with criu(8) (dir NULL: the
   store's NAME/checkpoint, replaced only by a complete image); stop: the container is
   stopped by the dump, else it runs on. */
int system_checkpoint (const struct ctr_context *ctx, const char *name, const char *dir, bool stop,
                       ctr_error_t *err);
/* One dump into the new directory image (absolute), for `ctr migrate`: a pre-dump (memory
   only, the container runs on) or a dump that stops it; parent: the previous pre-dump,
   relative to image. */
struct system_dump_options
{
  const char *parent;
  bool pre_dump, stop;
};
int system_dump (const struct ctr_context *ctx, const char *name, const char *image,
                 const struct system_dump_options *d, ctr_error_t *err);
/* What criu cannot dump of the running container, said in one line before anything is
   frozen or sent: an init that leads no session, a shell on the console, an idmapped
   rootfs. */
int system_dump_check (const struct ctr_context *ctx, const char *name, ctr_error_t *err);
/* `ctr restore NAME [DIR]`: the stopped container brought back from the image under a new
   monitor, with its address and limits. */
int system_restore (const struct ctr_context *ctx, const char *name, const char *dir,
                    ctr_error_t *err);

/* The status of a stored container (stopped when it has no OCI container). */
enum system_status system_status_get (const struct ctr_context *ctx, const char *name);

/* storage.c: ctr.json of a copy (clone, import) written to dfd: with an id range of its
   own when m has one (allocated, the config's mappings rewritten, a shifted tree shifted
   into it). */
struct store_meta;
int system_meta_write_copy (const struct ctr_context *ctx, int dfd, const char *name,
                            struct store_meta *m, ctr_error_t *err);
/* storage.c: opens NAME's store directory, takes its lock (start waits on it) and checks
   that it is stopped; what names the verb in the errors. The fd, or -1. */
int system_open_stopped (const struct ctr_context *ctx, const char *name, const char *what,
                         ctr_error_t *err);
/* storage.c: copies of stopped containers. `ctr clone`: SRC copied to a new container DST
   (rootfs with cp -a --reflink=auto, definition renamed, no shared network identity). */
int system_clone (const struct ctr_context *ctx, const char *src, const char *dst, bool snapshot,
                  ctr_error_t *err);
/* `clone --ephemeral`: the clone started at once on a throw-away layer, and destroyed when
   its run ends (also when the start fails). */
int system_clone_ephemeral (const struct ctr_context *ctx, const char *src, const char *dst,
                            bool snapshot, bool foreground, int *exit_status, ctr_error_t *err);
/* `ctr move NAME --pool P`: a stopped container's rootfs copied into a new volume in P and
   swapped in (flattened when it leaves an overlay pool); the old volume released after. */
int system_move (const struct ctr_context *ctx, const char *name, const char *pool,
                 ctr_error_t *err);
struct system_snapshot
{
  char *name;
  char *created; /* RFC 3339 */
  char *comment; /* or NULL */
  uint64_t size; /* bytes its files take (st_blocks, shared extents counted in full) */
};
/* Snapshots under <store>/NAME/snapshots/SNAP/ (rootfs + the definition). snap NULL: the
   next free "snapN"; *made (may be NULL) gets the name used. */
int system_snapshot_create (const struct ctr_context *ctx, const char *name, const char *snap,
                            const char *comment, char **made, ctr_error_t *err);
/* Sorted by creation time. */
int system_snapshot_list (const struct ctr_context *ctx, const char *name,
                          struct system_snapshot **out, size_t *n, ctr_error_t *err);
void system_snapshot_list_free (struct system_snapshot *s, size_t n);
int system_snapshot_restore (const struct ctr_context *ctx, const char *name, const char *snap,
                             ctr_error_t *err);
int system_snapshot_remove (const struct ctr_context *ctx, const char *name, const char *snap,
                            ctr_error_t *err);

/* The definition: ctr.json and config.json as one document. */
int system_config_show (const struct ctr_context *ctx, const char *name, char **out,
                        ctr_error_t *err);
/* The rootfs's /etc/hostname of the container directory dirfd, when it says old, says new
   (clone, and `config set hostname`). */
void system_rename_etc_hostname (int dirfd, const char *old, const char *new);
/* key NULL: every key with its value, "KEY = VALUE" lines. */
int system_config_get (const struct ctr_context *ctx, const char *name, const char *key, char **out,
                       ctr_error_t *err);
int system_config_set (const struct ctr_context *ctx, const char *name, const char *key,
                       const char *value, ctr_error_t *err);
/* Opens config.json in $VISUAL/$EDITOR (vi) and saves it only when it parses. */
/* `ctr update` of a system container: the new limits written into its stored config.json
   too, so that the next start has them. */
int system_update_persist (const struct ctr_context *ctx, const char *name,
                           const struct container_update_options *opts, ctr_error_t *err);
int system_config_edit (const struct ctr_context *ctx, const char *name, ctr_error_t *err);

struct template_info
{
  char *name;
  char *path;
  char *description;
};
int system_templates (struct template_info **out, size_t *n, ctr_error_t *err);
void template_info_free (struct template_info *t, size_t n);
char *system_template_describe (const char *path);

/* template.conf, what a template writes beside the root filesystem: arg=, env=, cwd=,
   user=UID:GID, stop_signal=, stop_timeout=, kind=, terminal=, init= lines. */
struct template_conf
{
  char **args, **env;
  size_t n_args, n_env;
  char *cwd, *stop_signal, *kind;
  uid_t uid;
  gid_t gid;
  bool systemd;     /* init=systemd: the guest gets systemd's container interface */
  int stop_timeout; /* seconds a clean shutdown may take; 0: ctr's default */
};
/* Parses its text (cut up); tname names the template in errors. On failure *t holds
   nothing to free. */
int template_conf_parse (char *text, const char *tname, struct template_conf *t, ctr_error_t *err);
void template_conf_clear (struct template_conf *t);

#endif
