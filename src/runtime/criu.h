/* criu: running Debian's criu(8) binary for checkpoint and restore: its argument list, the
   fds it inherits, the log it leaves, and the description of a container CRIU needs. */
#ifndef CTR_CRIU_H
#define CTR_CRIU_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "base/error.h"
#include "cgroups/cgroup.h"
#include "oci/oci.h"

/* The image file in which checkpoint records init's stdio (criu keys) for restore. */
#define CRIU_DESCRIPTORS "descriptors.json"

/* A growing argument list for criu. */
struct criu_args
{
  char **v;
  size_t n;
};
void criu_arg (struct criu_args *a, const char *s);
void criu_argf (struct criu_args *a, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void criu_args_release (struct criu_args *a);

/* An fd criu inherits at number `at` (for --inherit-fd fd[at]:KEY). */
struct criu_fd
{
  int fd;
  int at;
};

struct criu_run
{
  const char *action;      /* "dump", "pre-dump", "restore": names the step in errors */
  const char *binary;      /* NULL: criu from PATH */
  const char *log_dir;     /* where criu writes log_file (the work or image directory) */
  const char *log_file;    /* "dump.log", "restore.log" */
  const struct cgroup *cg; /* restore: criu joins it first, so what it restores lands there */
  struct criu_fd *fds;     /* kept open in criu at their numbers */
  size_t fds_len;
  int status_fd;    /* --status-fd: kept open at its own number (-1: none) */
  bool log_removed; /* the caller removes the log on failure: errors do not name it */
  /* restore: called once criu has made the restored tree's namespaces, before any task
     runs, with init's pid on the host (criu's setup-namespaces action, criu_hook_args);
     a failure there makes criu give up */
  int (*setup_ns) (void *arg, pid_t init_pid, ctr_error_t *err);
  void *setup_ns_arg;
  int hook_dirfd; /* with setup_ns: the directory criu_hook_args wrote into */
};

/* The action script for run->setup_ns and its two fifos, written into dirfd (a directory
   only the caller can write, at dirpath; criu 3.17 executes the script's path itself, and
   passes it no fd of ours): on setup-namespaces it writes init's pid into one fifo and
   waits for criu_exec's answer on the other. */
int criu_hook_args (struct criu_args *a, int dirfd, const char *dirpath, ctr_error_t *err);
/* Removes them (fine when absent). */
void criu_hook_remove (int dirfd);

/* Runs criu with args (args->v[0] is "criu") and waits for it. A failure names the action,
   criu's exit status, and the first error line of its log (with the log's path). */
int criu_exec (const struct criu_args *args, const struct criu_run *run, ctr_error_t *err);

/* The options that mean the same on dump and restore (runc's names, criu's arguments). */
struct criu_common
{
  const char *work_path;
  const char *manage_cgroups_mode; /* soft, full, strict, ignore (NULL: soft) */
  const char *empty_ns;            /* "network" */
  bool tcp_established, ext_unix_sk, shell_job, file_locks, lazy_pages, auto_dedup;
};
/* Checks the values (errors name the flag) and appends criu's arguments for them. */
int criu_add_common (struct criu_args *a, const struct criu_common *c, ctr_error_t *err);
/* --external mnt[DEST]:COOKIE for every mount of the config whose source lies outside the
   container (bind mounts, masked files, devices), as runc describes them; restore maps
   each cookie to its source on the host. dump_pid: init of the container being dumped
   (its masked paths are looked at through /proc), 0 on restore. */
void criu_add_mounts (struct criu_args *a, const struct oci_config *cfg, pid_t dump_pid);
/* --config FILE for the annotation org.criu.config, as runc passes it. */
void criu_add_config_file (struct criu_args *a, const struct oci_config *cfg);
/* The key criu uses for an external namespace of type t ("extRootNetNS"). */
const char *criu_ns_key (enum oci_ns_type t);

#endif
