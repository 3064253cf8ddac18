/* oci/sections: the section parsers of config.json, for the files above them (oci/ only). */
#ifndef CTR_OCI_SECTIONS_H
#define CTR_OCI_SECTIONS_H

#include "oci/oci.h"
#include "oci/parse.h"

/* Readers of one section object, the current path naming it. All but process leave a
   partly read section in *out on error, for the owner's free function. */
int oci_parse_process (struct oci_pctx *c, const struct json_value *v, struct oci_process **out);
int oci_parse_resources (struct oci_pctx *c, const struct json_value *v,
                         struct oci_resources **out);
int oci_parse_seccomp (struct oci_pctx *c, const struct json_value *v, struct oci_seccomp **out);
void oci_seccomp_free (struct oci_seccomp *s);
int oci_parse_linux (struct oci_pctx *c, const struct json_value *v, struct oci_linux **out);
void oci_linux_free (struct oci_linux *l);
int oci_parse_memory_policy (struct oci_pctx *c, const struct json_value *v,
                             struct oci_memory_policy **out);
void oci_memory_policy_free (struct oci_memory_policy *mp);
/* mounts[]: mappings in pairs, with idmap or ridmap, on bind mounts, within the kernel's
   limits. */
int oci_check_mount_idmaps (struct oci_pctx *c, const struct oci_config *cfg);

/* Known names shared by the parser and the features document. */
extern const char *const oci_seccomp_actions[];
extern const char *const oci_seccomp_operators[];
extern const char *const oci_seccomp_archs[];
extern const char *const oci_seccomp_flags[];
extern const char *const oci_memory_policy_modes[];
extern const char *const oci_memory_policy_flags[];

#endif
