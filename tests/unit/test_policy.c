/* The caps a server is started with (policy.c): which calls pass, and that
 * every refusal names the option that refused it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "util.h"

static codex_request request(const char *cd, const char *sandbox, int yolo)
{
    codex_request r;
    memset(&r, 0, sizeof(r));
    r.tool = "codex";
    r.cd = xstrdup(cd);
    r.cd_given = xstrdup(cd);
    r.sandbox = sandbox ? xstrdup(sandbox) : NULL;
    r.yolo = yolo;
    return r;
}

static void expect(const policy *p, const char *cd, const char *sandbox, int yolo,
                   const char *needle)
{
    codex_request r = request(cd, sandbox, yolo);
    char *err = policy_check(p, &r);
    if (needle == NULL) {
        if (err)
            fail_msg("refused unexpectedly: %s", err);
    } else {
        assert_non_null(err);
        if (strstr(err, needle) == NULL)
            fail_msg("\"%s\" does not name \"%s\"", err, needle);
    }
    free(err);
    codex_request_free(&r);
}

static void test_no_caps(void **state)
{
    (void)state;
    policy p;
    policy_init(&p);
    assert_false(policy_read_only(&p));
    assert_false(policy_bounds_writes(&p)); /* a configuration's writable_roots apply */
    expect(&p, "/tmp", "danger-full-access", 1, NULL);
    expect(&p, "/tmp", NULL, 0, NULL);
    policy_free(&p);
}

static void test_sandbox_caps(void **state)
{
    (void)state;
    policy p;
    policy_init(&p);
    sandbox_level lv;
    assert_int_equal(policy_sandbox_parse("workspace-write", &lv), 0);
    assert_int_equal(policy_sandbox_parse("everything", &lv), -1);
    policy_cap_sandbox(&p, SANDBOX_WORKSPACE_WRITE, "--max-sandbox");
    assert_true(policy_bounds_writes(&p));
    expect(&p, "/tmp", "workspace-write", 0, NULL);
    expect(&p, "/tmp", "danger-full-access", 0, "(--max-sandbox workspace-write)");
    /* yolo is full access: any cap below forbids it, naming the cap */
    expect(&p, "/tmp", NULL, 1,
           "yolo is not allowed on this server (--max-sandbox workspace-write)");
    assert_false(policy_read_only(&p));
    /* only ever tightens */
    policy_cap_sandbox(&p, SANDBOX_FULL_ACCESS, "CODEXMCP_MAX_SANDBOX");
    expect(&p, "/tmp", "danger-full-access", 0, "--max-sandbox");
    policy_cap_sandbox(&p, SANDBOX_READ_ONLY, "--read-only");
    assert_true(policy_read_only(&p));
    expect(&p, "/tmp", "workspace-write", 0, "at most in \"read-only\" (--read-only)");
    expect(&p, "/tmp", "read-only", 0, NULL);
    expect(&p, "/tmp", NULL, 0, NULL);
    policy_free(&p);
}

static void test_no_yolo(void **state)
{
    (void)state;
    policy p;
    policy_init(&p);
    policy_forbid_yolo(&p, "--no-yolo");
    assert_false(policy_bounds_writes(&p)); /* danger-full-access is still allowed */
    expect(&p, "/tmp", NULL, 1, "(--no-yolo)");
    expect(&p, "/tmp", "danger-full-access", 0, NULL);
    assert_false(policy_read_only(&p));
    policy_free(&p);
}

static void test_roots(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/codexmcp-policy-XXXXXX";
    char *base = mkdtemp(tmpl);
    assert_non_null(base);
    char *root = xasprintf("%s/root", base);
    char *inner = xasprintf("%s/root/sub", base);
    char *twin = xasprintf("%s/root-twin", base);
    char *link = xasprintf("%s/root/escape", base);
    assert_int_equal(mkdir(root, 0700), 0);
    assert_int_equal(mkdir(inner, 0700), 0);
    assert_int_equal(mkdir(twin, 0700), 0);
    assert_int_equal(symlink(twin, link), 0);
    char real_root[4096], real_inner[4096], real_twin[4096];
    assert_non_null(realpath(root, real_root));
    assert_non_null(realpath(inner, real_inner));

    policy p;
    policy_init(&p);
    char *err = NULL;
    assert_int_equal(policy_add_root(&p, "/does/not/exist", "--allow-root", &err), -1);
    assert_non_null(strstr(err, "--allow-root \"/does/not/exist\" is not an existing directory"));
    free(err);
    assert_false(policy_bounds_writes(&p)); /* a refused root is none */
    assert_int_equal(policy_add_root(&p, root, "--allow-root", &err), 0);
    assert_true(policy_bounds_writes(&p)); /* with full access still allowed */
    expect(&p, real_root, NULL, 0, NULL);
    expect(&p, real_inner, NULL, 0, NULL);
    /* a sibling whose name starts with the root's is outside */
    assert_non_null(realpath(twin, real_twin));
    expect(&p, real_twin, NULL, 0,
           "is outside the directories this server may work in (--allow-root");
    /* a link inside that resolves outside: the error says where it goes */
    codex_request r = request(real_twin, NULL, 0);
    free(r.cd_given);
    r.cd_given = xstrdup(link);
    char *e = policy_check(&p, &r);
    assert_non_null(e);
    assert_non_null(strstr(e, "resolves to"));
    assert_non_null(strstr(e, "--allow-root"));
    free(e);
    codex_request_free(&r);
    policy_free(&p);

    unlink(link);
    rmdir(inner);
    rmdir(root);
    rmdir(twin);
    rmdir(base);
    free(root);
    free(inner);
    free(twin);
    free(link);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_caps),
        cmocka_unit_test(test_sandbox_caps),
        cmocka_unit_test(test_no_yolo),
        cmocka_unit_test(test_roots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
