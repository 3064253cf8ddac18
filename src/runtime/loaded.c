/* loaded: opening an existing container from its state directory. */
#include <config.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/util.h"
#include "runtime/loaded.h"

/* A container stays `creating' (pid 0) only while its creator holds the state lock: a free
   lock means the create was killed halfway, and what it left is a stopped container that
   delete removes. With the lock held by us, it is free of anyone else. */
static bool
creator_gone (int dirfd, const char *dir, bool we_hold_lock)
{
  cleanup_close int fd = -1;
  if (we_hold_lock)
    return true;
  fd = openat (dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd >= 0 && flock (fd, LOCK_SH | LOCK_NB) == 0;
}

/* The status of l->state from the kernel; dir is the state directory's name in dirfd ("."
   for the directory itself). */
static void
loaded_status (struct loaded *l, int dirfd, const char *dir, bool lock, int freezer_mountfd)
{
  l->status = state_status (dirfd, dir, l->state, &l->ppid);
  if (l->status == CTR_STATUS_CREATING && creator_gone (dirfd, dir, lock))
    l->status = CTR_STATUS_STOPPED;
  if ((l->status == CTR_STATUS_RUNNING || l->status == CTR_STATUS_CREATED) && l->state->cgroup)
    {
      bool frozen = false;
      ctr_error_t ignored = NULL;
      if (cgroup_state_is_frozen (l->state->cgroup, freezer_mountfd, &frozen, &ignored) == 0
          && frozen)
        l->status = CTR_STATUS_PAUSED;
      ctr_error_free (&ignored);
    }
}

int
loaded_open (const struct ctr_context *ctx, const char *id, bool lock, struct loaded *l,
             ctr_error_t *err)
{
  cleanup_close int rootfd = -1;
  const char *root = container_state_root (ctx);

  memset (l, 0, sizeof *l);
  l->dirfd = -1;
  if (validate_container_id (id, err) < 0)
    return -1;
  rootfd = state_root_open_existing (root, err);
  return loaded_open_at (rootfd, root, id, lock, -1, l, err);
}

int
loaded_open_at (int rootfd, const char *root, const char *id, bool lock, int freezer_mountfd,
                struct loaded *l, ctr_error_t *err)
{
  memset (l, 0, sizeof *l);
  l->dirfd = state_dir_open_at (rootfd, root, id, err);
  if (l->dirfd < 0)
    return -1;
  if (lock && state_lock (l->dirfd, err) < 0)
    goto fail;
  if (state_read (l->dirfd, id, &l->state, err) < 0)
    goto fail;
  loaded_status (l, l->dirfd, ".", lock, freezer_mountfd);
  return 0;
fail:
  close (l->dirfd);
  l->dirfd = -1;
  return -1;
}

int
loaded_peek_at (int rootfd, const char *root, const char *id, int freezer_mountfd, struct loaded *l,
                ctr_error_t *err)
{
  memset (l, 0, sizeof *l);
  l->dirfd = -1;
  if (state_dir_check_at (rootfd, root, id, err) < 0
      || state_read_in (rootfd, id, &l->state, err) < 0)
    return -1;
  loaded_status (l, rootfd, id, false, freezer_mountfd);
  return 0;
}

void
loaded_release (struct loaded *l)
{
  if (l->dirfd >= 0)
    close (l->dirfd);
  l->dirfd = -1;
  ctr_state_free (l->state);
  l->state = NULL;
}

int
loaded_config (const struct loaded *l, struct oci_config **out, ctr_error_t *err)
{
  return oci_config_load_at (l->dirfd, STATE_CONFIG, out, err);
}

int
loaded_cgroup (const struct loaded *l, struct cgroup **out, ctr_error_t *err)
{
  *out = NULL;
  if (l->state->cgroup == NULL)
    return 0;
  return cgroup_load (l->state->cgroup, out, err);
}
