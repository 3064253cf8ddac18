/* oci/names: the spec's names of hook stages and namespace types, and namespace lookup. */
#include <config.h>
#include <stddef.h>

#include "oci/oci.h"

static const char *const hook_stage_names[OCI_HOOK_STAGES] = {
  [OCI_HOOK_PRESTART] = "prestart",
  [OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
  [OCI_HOOK_CREATE_CONTAINER] = "createContainer",
  [OCI_HOOK_START_CONTAINER] = "startContainer",
  [OCI_HOOK_POSTSTART] = "poststart",
  [OCI_HOOK_POSTSTOP] = "poststop",
};

static const char *const ns_type_names[OCI_NS_COUNT] = {
  [OCI_NS_PID] = "pid",       [OCI_NS_NETWORK] = "network", [OCI_NS_MOUNT] = "mount",
  [OCI_NS_IPC] = "ipc",       [OCI_NS_UTS] = "uts",         [OCI_NS_USER] = "user",
  [OCI_NS_CGROUP] = "cgroup", [OCI_NS_TIME] = "time",
};

const char *
oci_hook_stage_name (enum oci_hook_stage stage)
{
  if ((unsigned)stage >= OCI_HOOK_STAGES)
    return "unknown";
  return hook_stage_names[stage];
}

const char *
oci_ns_type_name (enum oci_ns_type t)
{
  if ((unsigned)t >= OCI_NS_COUNT)
    return "unknown";
  return ns_type_names[t];
}

const struct oci_namespace *
oci_config_namespace (const struct oci_config *c, enum oci_ns_type t)
{
  size_t i;
  if (c == NULL || c->linux_ == NULL)
    return NULL;
  for (i = 0; i < c->linux_->namespaces_len; i++)
    if (c->linux_->namespaces[i].type == t)
      return &c->linux_->namespaces[i];
  return NULL;
}
