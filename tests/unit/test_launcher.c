/* Finding the native codex behind the npm launcher: install trees made in
 * a temporary directory, laid out as npm and pnpm lay them out, and the
 * cases where the launcher itself must run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "launcher.h"

static char root[PATH_MAX];

static void mkdirs(const char *rel)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    mkdir(path, 0755);
}

static void put(const char *rel, const char *text, int exec)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    char *dir = strdup(rel);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        mkdirs(dir);
    }
    free(dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, exec ? 0755 : 0644);
}

static char *at(const char *rel)
{
    char *p = malloc(PATH_MAX * 2);
    snprintf(p, PATH_MAX * 2, "%s/%s", root, rel);
    return p;
}

static const char *triple(void)
{
    struct utsname u;
    uname(&u);
    return strcmp(u.machine, "aarch64") == 0 ? "aarch64-unknown-linux-musl"
                                             : "x86_64-unknown-linux-musl";
}

static const char *platform_pkg(void)
{
    struct utsname u;
    uname(&u);
    return strcmp(u.machine, "aarch64") == 0 ? "codex-linux-arm64" : "codex-linux-x64";
}

static const char LAUNCHER_PKG[] =
    "{\"name\":\"@openai/codex\",\"version\":\"0.169.0\",\"bin\":{\"codex\":\"bin/codex.js\"}}";

/* A global npm install: <prefix>/lib/node_modules/@openai/codex, its
 * platform package beside it, and <prefix>/bin/codex linking to the
 * launcher. */
static void npm_tree(const char *prefix, int with_platform)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "%s/lib/node_modules/@openai/codex/package.json", prefix);
    put(rel, LAUNCHER_PKG, 0);
    snprintf(rel, sizeof(rel), "%s/lib/node_modules/@openai/codex/bin/codex.js", prefix);
    put(rel, "#!/usr/bin/env node\n", 1);
    if (with_platform) {
        snprintf(rel, sizeof(rel), "%s/lib/node_modules/@openai/%s/package.json", prefix,
                 platform_pkg());
        put(rel, "{\"name\":\"@openai/codex\"}", 0);
        snprintf(rel, sizeof(rel), "%s/lib/node_modules/@openai/%s/vendor/%s/bin/codex", prefix,
                 platform_pkg(), triple());
        put(rel, "#!/bin/sh\n", 1);
    }
    snprintf(rel, sizeof(rel), "%s/bin", prefix);
    mkdirs(rel);
    char *link = NULL, *target = NULL;
    snprintf(rel, sizeof(rel), "%s/bin/codex", prefix);
    link = at(rel);
    target = strdup("../lib/node_modules/@openai/codex/bin/codex.js");
    unlink(link);
    assert_int_equal(symlink(target, link), 0);
    free(link);
    free(target);
}

static int setup(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/codexmcp-launcher-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char *real = realpath(tmpl, NULL);
    snprintf(root, sizeof(root), "%s", real);
    free(real);
    unsetenv("npm_config_user_agent");
    unsetenv("npm_execpath");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *env_of(const codex_cmd *c, const char *name)
{
    size_t n = strlen(name);
    for (char **e = c->env_set; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static void test_npm_global(void **state)
{
    (void)state;
    npm_tree("npm", 1);
    char *found = at("npm/bin/codex");
    codex_cmd c;
    launcher_resolve(found, 1, &c);
    char want[PATH_MAX * 2];
    snprintf(want, sizeof(want), "%s/npm/lib/node_modules/@openai/%s/vendor/%s/bin/codex", root,
             platform_pkg(), triple());
    assert_true(c.native);
    assert_string_equal(c.path, want);
    snprintf(want, sizeof(want), "%s/npm/lib/node_modules/@openai/codex", root);
    assert_string_equal(env_of(&c, "CODEX_MANAGED_PACKAGE_ROOT"), want);
    assert_string_equal(env_of(&c, "CODEX_MANAGED_BY_NPM"), "1");
    /* the launcher's other manager variables are removed */
    int unsets = 0;
    for (const char *const *u = c.env_unset; u && *u; u++)
        unsets +=
            strcmp(*u, "CODEX_MANAGED_BY_PNPM") == 0 || strcmp(*u, "CODEX_MANAGED_BY_BUN") == 0;
    assert_int_equal(unsets, 2);
    codex_cmd_free(&c);

    /* --no-native-codex: the launcher runs, as found */
    launcher_resolve(found, 0, &c);
    assert_false(c.native);
    assert_string_equal(c.path, found);
    assert_null(c.env_set);
    codex_cmd_free(&c);
    free(found);
}

/* No platform package: the launcher falls back to the package's own
 * vendor/, and so does this. */
static void test_vendor_inside_package(void **state)
{
    (void)state;
    npm_tree("own", 0);
    char rel[512];
    snprintf(rel, sizeof(rel), "own/lib/node_modules/@openai/codex/vendor/%s/bin/codex", triple());
    put(rel, "#!/bin/sh\n", 1);
    char *found = at("own/bin/codex");
    codex_cmd c;
    launcher_resolve(found, 1, &c);
    char *want = at(rel);
    assert_true(c.native);
    assert_string_equal(c.path, want);
    codex_cmd_free(&c);
    free(want);
    free(found);
}

/* Whenever something is not as the launcher expects, the launcher runs
 * (and says what is wrong itself). */
static void test_falls_back_to_launcher(void **state)
{
    (void)state;
    codex_cmd c;
    /* no native binary anywhere */
    npm_tree("none", 0);
    char *found = at("none/bin/codex");
    launcher_resolve(found, 1, &c);
    assert_false(c.native);
    assert_string_equal(c.path, found);
    codex_cmd_free(&c);
    free(found);

    /* a package of another name */
    npm_tree("other", 1);
    put("other/lib/node_modules/@openai/codex/package.json",
        "{\"name\":\"not-codex\",\"bin\":{\"codex\":\"bin/codex.js\"}}", 0);
    found = at("other/bin/codex");
    launcher_resolve(found, 1, &c);
    assert_false(c.native);
    assert_string_equal(c.path, found);
    codex_cmd_free(&c);
    free(found);

    /* a native binary found directly is run as it is */
    put("plain/codex", "#!/bin/sh\n", 1);
    found = at("plain/codex");
    launcher_resolve(found, 1, &c);
    assert_false(c.native);
    assert_string_equal(c.path, found);
    codex_cmd_free(&c);
    free(found);

    /* a package.json that is not JSON */
    npm_tree("broken", 1);
    put("broken/lib/node_modules/@openai/codex/package.json", "{not json", 0);
    found = at("broken/bin/codex");
    launcher_resolve(found, 1, &c);
    assert_false(c.native);
    codex_cmd_free(&c);
    free(found);
}

/* pnpm: node_modules/.modules.yaml owns the install. */
static void test_pnpm(void **state)
{
    (void)state;
    npm_tree("pn", 1);
    put("pn/lib/node_modules/.modules.yaml", "layoutVersion: 5\n", 0);
    char *found = at("pn/bin/codex");
    codex_cmd c;
    launcher_resolve(found, 1, &c);
    assert_true(c.native);
    assert_string_equal(env_of(&c, "CODEX_MANAGED_BY_PNPM"), "1");
    assert_null(env_of(&c, "CODEX_MANAGED_BY_NPM"));
    codex_cmd_free(&c);
    free(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npm_global),
        cmocka_unit_test(test_vendor_inside_package),
        cmocka_unit_test(test_falls_back_to_launcher),
        cmocka_unit_test(test_pnpm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
