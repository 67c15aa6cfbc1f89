/* The native codex binary behind the npm launcher (see launcher.h). */
#include "launcher.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <jansson.h>

#include "limits.h"
#include "util.h"

static const char *const managed_vars[] = {"CODEX_MANAGED_BY_NPM", "CODEX_MANAGED_BY_BUN",
                                           "CODEX_MANAGED_BY_PNPM", "CODEX_MANAGED_BY_VITE_PLUS",
                                           NULL};

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The parent directory of an absolute path (new string; "/" stays "/"). */
static char *parent_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path)
        return xstrdup("/");
    return xasprintf("%.*s", (int)(slash - path), path);
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The launcher's target triple and platform package for this machine. */
static int platform(const char **triple, const char **package)
{
    struct utsname u;
    if (uname(&u) != 0)
        return -1;
    int x64 = strcmp(u.machine, "x86_64") == 0;
    int arm64 = strcmp(u.machine, "aarch64") == 0 || strcmp(u.machine, "arm64") == 0;
#if defined(__linux__)
    if (x64)
        *triple = "x86_64-unknown-linux-musl", *package = "@openai/codex-linux-x64";
    else if (arm64)
        *triple = "aarch64-unknown-linux-musl", *package = "@openai/codex-linux-arm64";
    else
        return -1;
#elif defined(__APPLE__)
    if (x64)
        *triple = "x86_64-apple-darwin", *package = "@openai/codex-darwin-x64";
    else if (arm64)
        *triple = "aarch64-apple-darwin", *package = "@openai/codex-darwin-arm64";
    else
        return -1;
#else
    (void)x64;
    (void)arm64;
    return -1;
#endif
    return 0;
}

/* The package root is @openai/codex with bin/codex.js as its `codex`. */
static int is_codex_package(const char *root)
{
    char *pj = xasprintf("%s/package.json", root);
    struct stat st;
    json_t *j = NULL;
    if (stat(pj, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= LAUNCHER_PACKAGE_JSON_MAX)
        j = json_load_file(pj, 0, NULL);
    free(pj);
    const char *name = json_string_value(json_object_get(j, "name"));
    json_t *bin = json_object_get(j, "bin");
    const char *entry =
        json_string_value(json_is_object(bin) ? json_object_get(bin, "codex") : bin);
    int ok = name && strcmp(name, "@openai/codex") == 0 && entry &&
             (strcmp(entry, "bin/codex.js") == 0 || strcmp(entry, "./bin/codex.js") == 0);
    json_decref(j);
    return ok;
}

/* Where Node's require finds `<package>/package.json` from the launcher's
 * directory: <dir>/node_modules/<package> for each ancestor that is not
 * itself a node_modules; else the codex package's own vendor/. */
static char *vendor_root(const char *root, const char *package)
{
    char *dir = xasprintf("%s/bin", root);
    while (1) {
        if (strcmp(base_of(dir), "node_modules") != 0) {
            char *pj = xasprintf("%s%snode_modules/%s/package.json", dir,
                                 strcmp(dir, "/") == 0 ? "" : "/", package);
            int found = is_file(pj);
            free(pj);
            if (found) {
                char *v = xasprintf("%s%snode_modules/%s/vendor", dir,
                                    strcmp(dir, "/") == 0 ? "" : "/", package);
                free(dir);
                return v;
            }
        }
        if (strcmp(dir, "/") == 0)
            break;
        char *up = parent_of(dir);
        free(dir);
        dir = up;
    }
    free(dir);
    return xasprintf("%s/vendor", root);
}

/* pnpm owns the install when <dir>/node_modules/.modules.yaml exists and
 * its @openai/codex is this package. */
static int pnpm_owned(const char *dir, const char *root)
{
    const char *sep = strcmp(dir, "/") == 0 ? "" : "/";
    char *yaml = xasprintf("%s%snode_modules/.modules.yaml", dir, sep);
    int owned = 0;
    if (is_file(yaml)) {
        char *pkg = xasprintf("%s%snode_modules/@openai/codex", dir, sep);
        char *real = realpath(pkg, NULL);
        owned = real && strcmp(real, root) == 0;
        free(real);
        free(pkg);
    }
    free(yaml);
    return owned;
}

/* The launcher's package manager, as the name of the variable it sets, or
 * NULL for an install it knows that this does not (vite-plus): then the
 * launcher runs. */
static const char *manager_var(const char *root, const char *entry_dir)
{
    const char *starts[2] = {root, entry_dir};
    for (int i = 0; i < 2; i++) {
        char *dir = xstrdup(starts[i]);
        while (strcmp(dir, "/") != 0) {
            char *meta = xasprintf("%s/@openai/codex.json", dir);
            int vite = strcmp(base_of(dir), "packages") == 0 && is_file(meta);
            free(meta);
            if (vite) {
                free(dir);
                return NULL;
            }
            if (pnpm_owned(dir, root)) {
                free(dir);
                return "CODEX_MANAGED_BY_PNPM";
            }
            char *up = parent_of(dir);
            free(dir);
            dir = up;
        }
        int owned = pnpm_owned("/", root);
        free(dir);
        if (owned)
            return "CODEX_MANAGED_BY_PNPM";
    }
    const char *ua = getenv("npm_config_user_agent");
    const char *ep = getenv("npm_execpath");
    if ((ua && strstr(ua, "bun/")) || (ep && strstr(ep, "bun")) ||
        strstr(root, ".bun/install/global"))
        return "CODEX_MANAGED_BY_BUN";
    return "CODEX_MANAGED_BY_NPM";
}

static void as_found(const char *found, codex_cmd *cmd)
{
    cmd->path = xstrdup(found);
}

void launcher_resolve(const char *found, int native, codex_cmd *cmd)
{
    memset(cmd, 0, sizeof(*cmd));
    char *real = native ? realpath(found, NULL) : NULL;
    char *bin = real ? parent_of(real) : NULL;
    if (real == NULL || strcmp(base_of(real), "codex.js") != 0 ||
        strcmp(base_of(bin), "bin") != 0) {
        as_found(found, cmd);
        free(real);
        free(bin);
        return;
    }
    char *root = parent_of(bin);
    char *entry_dir = parent_of(found);
    const char *triple, *package, *var = NULL;
    char *vendor = NULL, *exe = NULL;
    if (is_codex_package(root) && platform(&triple, &package) == 0) {
        vendor = vendor_root(root, package);
        exe = xasprintf("%s/%s/bin/codex", vendor, triple);
        var = manager_var(root, entry_dir);
    }
    if (exe && var && is_file(exe) && access(exe, X_OK) == 0 && is_dir(root)) {
        cmd->path = exe;
        exe = NULL;
        cmd->env_set = xcalloc(3, sizeof(char *));
        cmd->env_set[0] = xasprintf("CODEX_MANAGED_PACKAGE_ROOT=%s", root);
        cmd->env_set[1] = xasprintf("%s=1", var);
        cmd->env_unset = managed_vars;
        cmd->native = 1;
    } else {
        as_found(found, cmd);
    }
    free(exe);
    free(vendor);
    free(entry_dir);
    free(root);
    free(bin);
    free(real);
}

void codex_cmd_free(codex_cmd *cmd)
{
    free(cmd->path);
    for (char **e = cmd->env_set; e && *e; e++)
        free(*e);
    free(cmd->env_set);
    memset(cmd, 0, sizeof(*cmd));
}
