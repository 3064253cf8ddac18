/* cli/pool: `ctr pool create|ls|info|prune|rm`, storage pools for system containers. */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "cli/cli.h"
#include "system/pool.h"
#include "system/pool_image.h"
#include "system/pool_usage.h"
#include "system/store.h"

static const char usage[]
    = "Usage: ctr pool COMMAND [ARGS]\n"
      "\n"
      "Storage pools hold system containers' root filesystems (`ctr create -t T NAME --pool\n"
      "POOL`). The pool `default` (type dir) is the store itself.\n"
      "\n"
      "Commands:\n"
      "  create NAME --type dir|btrfs|lvm|overlay [--path DIR | --vg VG --thinpool POOL]\n"
      "                          define a pool: dir (directories under DIR), btrfs (a\n"
      "                          subvolume each, DIR on btrfs), lvm (a thin volume each\n"
      "                          in VG/POOL, ext4), overlay (an upper each over the\n"
      "                          template's tree, kept in DIR)\n"
      "  ls [--format table|json]  list pools: name, type, path or VG, capacity, used,\n"
      "                          containers\n"
      "  info NAME               show one pool, and its bases (name, size, users)\n"
      "  prune NAME              remove the bases no container uses\n"
      "  rm NAME                 forget a pool and its bases (refused while containers\n"
      "                          live in it)\n"
      "\n"
      "Options:\n"
      "  -t, --type TYPE       (create) dir, btrfs, lvm or overlay\n"
      "  -P, --path DIR        (create) the pool's directory (dir, btrfs, overlay)\n"
      "      --vg VG           (create) the LVM volume group (lvm)\n"
      "      --thinpool POOL   (create) the thin pool in VG (lvm)\n"
      "  -f, --format FORMAT   (ls, info) table (default) or json\n"
      "  -h, --help            show this help\n";

static int
do_create (const struct ctr_context *ctx, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "type", required_argument, NULL, 't' }, { "path", required_argument, NULL, 'P' },
    { "vg", required_argument, NULL, 'V' },   { "thinpool", required_argument, NULL, 'T' },
    { "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
  };
  static const char shortopts[] = ":t:P:h";
  struct pool p = { 0 };
  ctr_error_t err = NULL;
  const char *name = NULL, *type = NULL;
  int c, index, rc;

  cli_getopt_begin ();
  while ((c = getopt_long (argc, argv, shortopts, long_options, NULL)) != -1)
    if (c == 'h')
      return cli_help (usage);
    else if (c == 't')
      type = optarg;
    else if (c == 'P')
      p.path = optarg;
    else if (c == 'V')
      p.vg = optarg;
    else if (c == 'T')
      p.thinpool = optarg;
    else
      return cli_option_error ("pool create", c, argv, shortopts, long_options);
  index = optind;
  if ((rc = cli_take_id ("pool create", argc, argv, &index, true, &name)) != CLI_CONTINUE)
    return rc;
  if (type == NULL)
    return cli_usage_error ("pool create", "missing --type (dir, btrfs, lvm or overlay)");
  if (pool_type_parse (type, &p.type) < 0)
    return cli_usage_error ("pool create", "%s: unknown type \"%s\" (dir, btrfs, lvm or overlay)",
                            name, type);
  p.name = (char *)name;
  if (pool_create (store_root (ctx->store), &p, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}

static void
write_bases_json (json_writer *w, const struct pool_image *l, size_t n)
{
  json_key (w, "bases");
  json_array_open (w);
  for (size_t i = 0; i < n; i++)
    {
      json_map_open (w);
      json_kv_string (w, "name", l[i].key);
      json_key (w, "size");
      json_uint (w, l[i].size);
      json_kv_strv (w, "users", l[i].users);
      json_map_close (w);
    }
  json_array_close (w);
}

static void
print_bases (const struct pool_image *l, size_t n)
{
  printf ("Bases:%s\n", n ? "" : "      none");
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *users = xstrv_join (l[i].users, ",");
      printf ("  %-40s %9.1fM  users: %s\n", l[i].key, l[i].size / 1048576.0,
              *users ? users : "none");
    }
}

/* bases: info's (NULL: ls, which does not walk them) */
static void
write_pool_json (json_writer *w, const struct pool *p, const struct pool_usage *u,
                 const struct pool_image *bases, size_t nbases)
{
  json_map_open (w);
  json_kv_string (w, "name", p->name);
  json_kv_string (w, "type", pool_type_name (p->type));
  if (p->type == POOL_LVM)
    {
      json_kv_string (w, "vg", p->vg);
      json_kv_string (w, "thinpool", p->thinpool);
    }
  else
    json_kv_string (w, "path", p->path);
  json_key (w, "capacity");
  json_uint (w, u->capacity);
  json_key (w, "used");
  json_uint (w, u->used);
  json_kv_strv (w, "containers", u->containers);
  if (bases)
    write_bases_json (w, bases, nbases);
  json_map_close (w);
}

static char *
where (const struct pool *p)
{
  return p->type == POOL_LVM ? xasprintf ("%s/%s", p->vg, p->thinpool) : xstrdup (p->path);
}

static int
do_ls (const struct ctr_context *ctx, int argc, char **argv)
{
  const char *store = store_root (ctx->store);
  struct pool *list = NULL;
  ctr_error_t err = NULL;
  bool json = false;
  size_t n = 0;
  int c;

  if ((c = cli_parse_format_args ("pool ls", usage, argc, argv, &json, true)) != CLI_CONTINUE)
    return c;
  if (pool_list (store, &list, &n, &err) < 0)
    {
      pool_list_free (list, n);
      return cli_fail (&err);
    }
  json_writer *w = json ? json_writer_new (false) : NULL;
  if (w)
    json_array_open (w);
  else
    printf ("%-16s %-8s %-40s %10s %10s  %s\n", "NAME", "TYPE", "PATH/VG", "CAPACITY", "USED",
            "CONTAINERS");
  for (size_t i = 0; i < n; i++)
    {
      struct pool_usage u;
      ctr_error_t e = NULL;
      if (pool_usage_get (store, &list[i], &u, &e) < 0)
        ctr_error_print (&e); /* one pool that cannot be read does not hide the others */
      if (w)
        write_pool_json (w, &list[i], &u, NULL, 0);
      else
        {
          cleanup_free char *at = where (&list[i]);
          size_t k = 0;
          for (char **s = u.containers; s && *s; s++)
            k++;
          printf ("%-16s %-8s %-40s %9.1fG %9.1fG  %zu\n", list[i].name,
                  pool_type_name (list[i].type), at, u.capacity / 1073741824.0,
                  u.used / 1073741824.0, k);
        }
      pool_usage_clear (&u);
    }
  if (w)
    {
      json_array_close (w);
      cli_print_json (w);
    }
  pool_list_free (list, n);
  return CLI_EXIT_OK;
}

static int
do_info (const struct ctr_context *ctx, int argc, char **argv)
{
  const char *store = store_root (ctx->store), *name = NULL;
  struct pool p;
  struct pool_usage u;
  struct pool_image *bases = NULL;
  size_t nbases = 0;
  ctr_error_t err = NULL;
  bool json = false;
  int c;

  if (argc < 2)
    return cli_usage_error ("pool info", "missing pool name");
  if ((c = cli_parse_format_args ("pool info", usage, argc, argv, &json, false)) != CLI_CONTINUE)
    return c;
  if ((c = cli_take_final_id (argc, argv, &name)) != CLI_CONTINUE)
    return c;
  if (pool_load (store, name, &p, &err) < 0)
    return cli_fail (&err);
  if (pool_usage_get (store, &p, &u, &err) < 0)
    {
      pool_clear (&p);
      return cli_fail (&err);
    }
  if (pool_image_list (store, &p, &bases, &nbases, &err) < 0)
    {
      pool_usage_clear (&u);
      pool_clear (&p);
      return cli_fail (&err);
    }
  if (json)
    {
      json_writer *w = json_writer_new (false);
      write_pool_json (w, &p, &u, bases ? bases : (struct pool_image[]){ 0 }, nbases);
      cli_print_json (w);
    }
  else
    {
      cleanup_free char *at = where (&p);
      printf ("Name:       %s\nType:       %s\n%s%s\nCapacity:   %.1fG\nUsed:       %.1fG\n"
              "Containers:",
              p.name, pool_type_name (p.type),
              p.type == POOL_LVM ? "Thin pool:  " : "Path:       ", at, u.capacity / 1073741824.0,
              u.used / 1073741824.0);
      for (char **s = u.containers; *s; s++)
        printf (" %s", *s);
      printf ("\n");
      print_bases (bases, nbases);
    }
  pool_image_list_free (bases, nbases);
  pool_usage_clear (&u);
  pool_clear (&p);
  return CLI_EXIT_OK;
}

static int
do_rm (const struct ctr_context *ctx, int argc, char **argv)
{
  ctr_error_t err = NULL;
  const char *name = NULL;
  int index, rc;

  if (argc < 2)
    return cli_usage_error ("pool rm", "missing pool name");
  rc = cli_parse_simple (usage, argc, argv, NULL, NULL, &name, &index);
  if (rc != CLI_CONTINUE)
    return rc;
  if (index < argc)
    return cli_usage_error ("pool rm", "unexpected argument \"%s\"", argv[index]);
  if (pool_remove (store_root (ctx->store), name, &err) < 0)
    return cli_fail (&err);
  return CLI_EXIT_OK;
}

static int
do_prune (const struct ctr_context *ctx, int argc, char **argv)
{
  const char *store = store_root (ctx->store), *name = NULL;
  cleanup_strv char **removed = NULL;
  ctr_error_t err = NULL;
  struct pool p;
  int index, rc, r;

  if (argc < 2)
    return cli_usage_error ("pool prune", "missing pool name");
  rc = cli_parse_simple (usage, argc, argv, NULL, NULL, &name, &index);
  if (rc != CLI_CONTINUE)
    return rc;
  if (index < argc)
    return cli_usage_error ("pool prune", "unexpected argument \"%s\"", argv[index]);
  if (pool_load (store, name, &p, &err) < 0)
    return cli_fail (&err);
  r = pool_image_prune (store, &p, false, &removed, &err);
  pool_clear (&p);
  if (r < 0)
    {
      ctr_error_wrap (&err, "pool prune %s", name);
      return cli_fail (&err);
    }
  for (char **k = removed; *k; k++)
    printf ("removed %s\n", *k);
  return CLI_EXIT_OK;
}

int
cli_pool (const struct ctr_context *ctx, int argc, char **argv)
{
  const char *sub;

  if (argc < 2)
    return cli_usage_error ("pool", "missing command (create, ls, info, prune or rm)");
  sub = argv[1];
  if (strcmp (sub, "-h") == 0 || strcmp (sub, "--help") == 0 || strcmp (sub, "help") == 0)
    return cli_help (usage);
  /* argv[0] names the verb in errors */
  if (strcmp (sub, "create") == 0)
    return argv[1] = "pool create", do_create (ctx, argc - 1, argv + 1);
  if (strcmp (sub, "ls") == 0 || strcmp (sub, "list") == 0)
    return argv[1] = "pool ls", do_ls (ctx, argc - 1, argv + 1);
  if (strcmp (sub, "info") == 0)
    return argv[1] = "pool info", do_info (ctx, argc - 1, argv + 1);
  if (strcmp (sub, "prune") == 0)
    return argv[1] = "pool prune", do_prune (ctx, argc - 1, argv + 1);
  if (strcmp (sub, "rm") == 0 || strcmp (sub, "remove") == 0)
    return argv[1] = "pool rm", do_rm (ctx, argc - 1, argv + 1);
  return cli_usage_error ("pool", "unknown command \"%s\"", sub);
}
