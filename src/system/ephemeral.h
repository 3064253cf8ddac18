/* ephemeral: runs on a throw-away overlay layer over a system container's rootfs (`ctr
   start --ephemeral`), and clones destroyed when their run ends (`ctr clone --ephemeral`). */
#ifndef CTR_EPHEMERAL_H
#define CTR_EPHEMERAL_H

#include <stdbool.h>
#include "base/error.h"

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
/* The same of the container directory sub under dfd (`ctr ls`: NAME under the store). */
bool ephemeral_active_in (int dfd, const char *sub);
bool ephemeral_marked_in (int dfd, const char *sub);
int ephemeral_mark (int dfd, ctr_error_t *err);

/* The layer of an unprivileged container. */
struct store_meta;
/* An idmapped container (its tree unshifted): lowers (colon-separated) and the layer's upper
   idmapped with m's range in <dirpath>/.ephemeral, the overlay of them mounted on rootfs,
   and the run's config written without the idmapped bind of "/". */
int ephemeral_overlay_mapped (int dfd, const char *dirpath, const char *lowers,
                              const struct store_meta *m, ctr_error_t *err);
/* A shifted container: the layer's upper/ is its root's. */
int ephemeral_upper_owned (int dfd, const struct store_meta *m, ctr_error_t *err);
/* The idmapped layers in .ephemeral unmounted (none: nothing to do). */
int ephemeral_unmap (int dfd, ctr_error_t *err);
/* The run's config relative to the container's directory dfd, or NULL: the stored one. */
char *ephemeral_run_config (int dfd);

#endif
