/* ephemeral: runs on a throw-away overlay layer over a system container's rootfs (`ctr
   start --ephemeral`), and clones destroyed when their run ends (`ctr clone --ephemeral`). */
#ifndef CTR_EPHEMERAL_H
#define CTR_EPHEMERAL_H

#include <stdbool.h>
#include "base/error.h"
#include "runtime/container.h"

/* <store>/NAME/.ephemeral: the run's layer (upper/, work/; a tmpfs where the store cannot
   hold an overlay upper). Made before it is mounted: it is the run's record. */
#define EPHEMERAL_LAYER ".ephemeral"
/* <store>/NAME/ephemeral: the mark of a clone that is destroyed when its run ends. */
#define EPHEMERAL_MARK "ephemeral"

/* The layer made and mounted over rootfs (the container directory dfd at dirpath, locked
   and stopped). */
int ephemeral_begin (int dfd, const char *dirpath, const char *name, ctr_error_t *err);
/* The layer's mounts undone and its directory removed; nothing to do without one. */
int ephemeral_end (int dfd, const char *name, ctr_error_t *err);
bool ephemeral_active (int dfd);
bool ephemeral_marked (int dfd);
int ephemeral_mark (int dfd, ctr_error_t *err);

/* What a run left that ended without its monitor (killed, a host reboot): the layer of a
   stopped container removed, a stopped ephemeral clone destroyed. Only when its lock is
   free (a start or a monitor at work holds it). 1 when the container was destroyed. */
int ephemeral_reap (const struct ctr_context *ctx, const char *name);
/* The monitor's last act (store_fd unlocked): the layer, or the whole ephemeral clone. */
void ephemeral_monitor_end (const struct ctr_context *ctx, const char *name, int store_fd);

#endif
