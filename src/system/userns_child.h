/* system/userns_child: an unprivileged ctr's children as root of a user namespace with the
   user's own mapping (docs/rootless.md). */
#ifndef CTR_USERNS_CHILD_H
#define CTR_USERNS_CHILD_H

#include <sys/types.h>

#include "base/error.h"

/* p: two pipes made with pipe2 (p[0..1], p[2..3]), before the fork. The child calls
   userns_child_enter: a new user namespace, root in it once the parent has mapped it;
   the parent calls userns_child_map with the child's pid. Each closes the ends it does
   not use. */
int userns_child_enter (int p[4]);
int userns_child_map (pid_t pid, int p[4], ctr_error_t *err);

/* remove_tree_at, and when an unprivileged user may not (a directory of one of the
   container's other users), again as root of such a user namespace. */
int store_remove_tree_at (int dirfd, const char *name, ctr_error_t *err);

#endif
