/* oci/seccomp: linux.seccomp of config.json, checked with runc's rules (no libseccomp here). */
#include <config.h>
#include <stdlib.h>
#include <string.h>

#include "oci/sections.h"
#include "base/util.h"

const char *const oci_seccomp_actions[] = {
  "SCMP_ACT_KILL",        "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",       "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",       "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",      NULL,
};

const char *const oci_seccomp_operators[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
  "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};

/* The runtime-spec list (libseccomp 2.5); names newer libseccomp versions added are also
   accepted by the parser, process/ reports those its libseccomp does not know. */
const char *const oci_seccomp_archs[] = {
  "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     NULL,
};

static const char *const newer_archs[] = {
  "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB", NULL,
};

const char *const oci_seccomp_flags[] = {
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
  NULL,
};

static bool
takes_errno (const char *action)
{
  return strcmp (action, "SCMP_ACT_ERRNO") == 0 || strcmp (action, "SCMP_ACT_TRACE") == 0;
}

static int
check_action (struct oci_pctx *c, const char *key, const char *action)
{
  if (!oci_str_in (action, oci_seccomp_actions))
    return oci_perr_key (c, key, "unknown seccomp action \"%s\"", action);
  return 0;
}

static int
parse_arg (struct oci_pctx *c, const struct json_value *v, void *elem, size_t index)
{
  struct oci_seccomp_arg *a = elem;
  bool has;
  if (oci_expect_object (c, v) < 0 || oci_get_u32 (c, v, "index", &a->index, NULL) < 0
      || oci_get_u64 (c, v, "value", UINT64_MAX, &a->value, NULL) < 0
      || oci_get_u64 (c, v, "valueTwo", UINT64_MAX, &a->value_two, &has) < 0
      || oci_get_string (c, v, "op", &a->op, NULL) < 0)
    return -1;
  /* Syscalls take at most six arguments. */
  if (a->index > 5)
    return oci_perr_key (c, "index", "value %u out of range (0 to 5)", a->index);
  if (!oci_str_in (a->op, oci_seccomp_operators))
    return oci_perr_key (c, "op", "unknown seccomp operator \"%s\"", a->op);
  return 0;
}

static int
parse_syscall (struct oci_pctx *c, const struct json_value *v, void *elem, size_t index)
{
  struct oci_seccomp_syscall *s = elem;
  size_t i;
  if (oci_expect_object (c, v) < 0 || oci_get_strv (c, v, "names", &s->names, &s->names_len) < 0
      || oci_get_string (c, v, "action", &s->action, NULL) < 0
      || oci_get_u32 (c, v, "errnoRet", &s->errno_ret, &s->has_errno_ret) < 0
      || oci_parse_array (c, v, "args", &s->args, sizeof (*s->args), &s->args_len, parse_arg) < 0)
    return -1;
  if (s->names_len == 0)
    return oci_perr_key (c, "names", "must contain at least one syscall name");
  if (check_action (c, "action", s->action) < 0)
    return -1;
  if (s->has_errno_ret && !takes_errno (s->action))
    return oci_perr_key (c, "errnoRet", "not valid with action %s", s->action);
  /* The notify fd is sent with sendmsg (a write): intercepting it would deadlock. */
  if (strcmp (s->action, "SCMP_ACT_NOTIFY") == 0)
    for (i = 0; i < s->names_len; i++)
      if (strcmp (s->names[i], "write") == 0)
        return oci_perr_key (c, "names", "SCMP_ACT_NOTIFY cannot be used for write");
  return 0;
}

static int
check_list (struct oci_pctx *c, const char *key, char **v, size_t n, const char *const *known,
            const char *const *also, const char *what)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (!oci_str_in (v[i], known) && !(also && oci_str_in (v[i], also)))
      return oci_perr_entry (c, key, NULL, i, "unknown seccomp %s \"%s\"", what, v[i]);
  return 0;
}

static int
validate_seccomp (struct oci_pctx *c, const struct oci_seccomp *sc)
{
  bool notify = false;
  size_t i;

  if (check_action (c, "defaultAction", sc->default_action) < 0)
    return -1;
  if (strcmp (sc->default_action, "SCMP_ACT_NOTIFY") == 0)
    return oci_perr_key (c, "defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
  if (sc->has_default_errno_ret && !takes_errno (sc->default_action))
    return oci_perr_key (c, "defaultErrnoRet", "not valid with action %s", sc->default_action);
  if (check_list (c, "architectures", sc->architectures, sc->architectures_len, oci_seccomp_archs,
                  newer_archs, "architecture")
          < 0
      || check_list (c, "flags", sc->flags, sc->flags_len, oci_seccomp_flags, NULL, "flag") < 0)
    return -1;
  for (i = 0; i < sc->syscalls_len; i++)
    notify |= strcmp (sc->syscalls[i].action, "SCMP_ACT_NOTIFY") == 0;
  if (notify && (sc->listener_path == NULL || sc->listener_path[0] == '\0'))
    return oci_perr_key (c, "listenerPath", "required when SCMP_ACT_NOTIFY is used");
  if (sc->listener_path && sc->listener_path[0] && !oci_path_is_absolute (sc->listener_path))
    return oci_perr_key (c, "listenerPath", "must be an absolute path, got \"%s\"",
                         sc->listener_path);
  if (sc->listener_metadata && sc->listener_metadata[0]
      && (sc->listener_path == NULL || sc->listener_path[0] == '\0'))
    return oci_perr_key (c, "listenerMetadata", "given without listenerPath");
  return 0;
}

int
oci_parse_seccomp (struct oci_pctx *c, const struct json_value *v, struct oci_seccomp **out)
{
  struct oci_seccomp *sc;
  bool has;

  if (oci_expect_object (c, v) < 0)
    return -1;
  sc = *out = xzalloc (sizeof (*sc));
  if (oci_get_string (c, v, "defaultAction", &sc->default_action, NULL) < 0
      || oci_get_u32 (c, v, "defaultErrnoRet", &sc->default_errno_ret, &sc->has_default_errno_ret)
             < 0
      || oci_get_strv (c, v, "architectures", &sc->architectures, &sc->architectures_len) < 0
      || oci_get_strv (c, v, "flags", &sc->flags, &sc->flags_len) < 0
      || oci_get_string (c, v, "listenerPath", &sc->listener_path, &has) < 0
      || oci_get_string (c, v, "listenerMetadata", &sc->listener_metadata, &has) < 0
      || oci_parse_array (c, v, "syscalls", &sc->syscalls, sizeof (*sc->syscalls),
                          &sc->syscalls_len, parse_syscall)
             < 0)
    return -1;
  return validate_seccomp (c, sc);
}

void
oci_seccomp_free (struct oci_seccomp *s)
{
  size_t i, j;
  if (s == NULL)
    return;
  free (s->default_action);
  strv_free (s->architectures);
  strv_free (s->flags);
  free (s->listener_path);
  free (s->listener_metadata);
  for (i = 0; s->syscalls && i < s->syscalls_len; i++)
    {
      strv_free (s->syscalls[i].names);
      free (s->syscalls[i].action);
      for (j = 0; s->syscalls[i].args && j < s->syscalls[i].args_len; j++)
        free (s->syscalls[i].args[j].op);
      free (s->syscalls[i].args);
    }
  free (s->syscalls);
  free (s);
}

static void
write_strv (json_writer *w, const char *key, char **v, size_t n)
{
  size_t i;
  json_key (w, key);
  json_array_open (w);
  for (i = 0; i < n; i++)
    json_string (w, v[i]);
  json_array_close (w);
}

char *
oci_seccomp_canonical (const struct oci_seccomp *s, size_t *len)
{
  json_writer *w = json_writer_new (false);
  size_t i, k;

  json_map_open (w);
  json_kv_string (w, "defaultAction", s->default_action);
  if (s->has_default_errno_ret)
    json_kv_int (w, "defaultErrnoRet", s->default_errno_ret);
  write_strv (w, "architectures", s->architectures, s->architectures_len);
  write_strv (w, "flags", s->flags, s->flags_len);
  json_kv_string (w, "listenerPath", s->listener_path);
  json_key (w, "syscalls");
  json_array_open (w);
  for (i = 0; i < s->syscalls_len; i++)
    {
      const struct oci_seccomp_syscall *sc = &s->syscalls[i];
      json_map_open (w);
      write_strv (w, "names", sc->names, sc->names_len);
      json_kv_string (w, "action", sc->action);
      if (sc->has_errno_ret)
        json_kv_int (w, "errnoRet", sc->errno_ret);
      json_key (w, "args");
      json_array_open (w);
      for (k = 0; k < sc->args_len; k++)
        {
          json_map_open (w);
          json_kv_int (w, "index", sc->args[k].index);
          json_key (w, "value");
          json_uint (w, sc->args[k].value);
          json_key (w, "valueTwo");
          json_uint (w, sc->args[k].value_two);
          json_kv_string (w, "op", sc->args[k].op);
          json_map_close (w);
        }
      json_array_close (w);
      json_map_close (w);
    }
  json_array_close (w);
  json_map_close (w);
  return json_writer_finish (w, len);
}
