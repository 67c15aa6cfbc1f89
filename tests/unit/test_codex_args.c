/* The codex tool's pure parts: argument validation (a table of arguments
 * and the error each must produce), the argv built for codex, and the
 * result object built from a reducer state. */
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

#include "codex_args.h"

/* Arguments as JSON with @DIR@ for an existing directory and @FILE@ for an
 * existing file; NULL error: must be accepted. */
static const struct {
    const char *args;
    const char *error; /* a substring of the message */
} cases[] = {
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\"}", NULL},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"sandbox\":\"workspace-write\",\"SESSION_ID\":\"router-"
     "session-001\","
     "\"skip_git_repo_check\":false,\"return_all_messages\":true,\"image\":[\"@FILE@\"],\"model\":"
     "\"gpt-5.5\","
     "\"yolo\":false,\"profile\":\"work\",\"reasoning_effort\":\"xhigh\",\"timeout_s\":2.5}",
     NULL},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"model\":null,\"SESSION_ID\":\"\",\"reasoning_effort\":"
     "\"\"}",
     NULL},
    /* a relative image path is relative to cd */
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"image\":[\"pic.png\"]}", NULL},
    {"{\"PROMPT\":\"hi\",\"cd\":\"/\",\"image\":[\"pic.png\"]}",
     "image[0] \"pic.png\" is not an existing file"},
    {"{\"cd\":\"@DIR@\"}", "PROMPT is required"},
    {"{\"PROMPT\":5,\"cd\":\"@DIR@\"}", "PROMPT must be a string"},
    {"{\"PROMPT\":\"\",\"cd\":\"@DIR@\"}", "PROMPT must not be empty"},
    {"{\"PROMPT\":\"hi\"}", "cd is required"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"/nonexistent/dir\"}",
     "cd \"/nonexistent/dir\" is not an existing directory"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@FILE@\"}", "is not an existing directory"},
    {"{\"PROMPT\":\"hi\",\"cd\":[\"/tmp\"]}", "cd must be a string"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"sandbox\":\"bogus\"}",
     "sandbox must be one of read-only, workspace-write, danger-full-access"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"sandbox\":1}", "sandbox must be a string"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"SESSION_ID\":\"-x\"}",
     "SESSION_ID must not start with '-'"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"SESSION_ID\":\"a b\"}",
     "SESSION_ID must not contain white space"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"SESSION_ID\":\"a\\nb\"}",
     "SESSION_ID must not contain white space"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"model\":\"--yolo\"}", "model must not start with '-'"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"profile\":\"a\\tb\"}", "profile must not contain"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"skip_git_repo_check\":\"true\"}",
     "skip_git_repo_check must be a boolean"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"yolo\":1}", "yolo must be a boolean"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"return_all_messages\":\"yes\"}",
     "return_all_messages must be a boolean"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"image\":\"@FILE@\"}", "image must be an array"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"image\":[3]}", "image[0] must be a string"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"image\":[\"@FILE@\",\"/nonexistent.png\"]}",
     "image[1] \"/nonexistent.png\" is not an existing file"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"image\":[\"@DIR@\"]}", "is not an existing file"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"reasoning_effort\":\"ultra\"}",
     "reasoning_effort must be one of minimal, low, medium, high, xhigh"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"timeout_s\":0}",
     "timeout_s must be a number of seconds greater than 0"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"timeout_s\":-1}", "timeout_s must be"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"timeout_s\":\"5\"}", "timeout_s must be"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"session_id\":\"abc\"}",
     "unknown parameter \"session_id\""},
    /* codex splits --image at commas: refused, unless a path without one
     * reaches the same file */
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"image\":[\"pic.png\",\"a,b.png\"]}",
     "image[1] \"a,b.png\": codex cannot take an image path with a comma"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"image\":[\"ab.png\"]}", NULL},
    /* in a cd with a comma, a relative path is passed as given (codex runs there) */
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@/c,d\",\"image\":[\"pic.png\"]}", NULL},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@/c,d\",\"image\":[\"@DIR@/c,d/pic.png\"]}",
     "codex cannot take an image path with a comma"},
    /* a NUL byte: fine on stdin (PROMPT), never in argv */
    {"{\"PROMPT\":\"a\\u0000b\",\"cd\":\"@DIR@\"}", NULL},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\\u0000x\"}", "cd must not contain NUL characters"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"image\":[\"pic.png\\u0000\"]}",
     "image[0] must not contain NUL characters"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"model\":\"m\\u0000\"}",
     "model must not contain NUL characters"},
    {"{\"PROMPT\":\"hi\",\"cd\":\"@DIR@\",\"SESSION_ID\":\"\\u0000\"}",
     "SESSION_ID must not contain NUL characters"},
};

static char dir[] = "/tmp/codexmcp-unit-XXXXXX";
static char file[600], comma[600], link_[600], commadir[600], commapic[700];

static char *subst(const char *in)
{
    char *out = malloc(strlen(in) + 2048);
    char *o = out;
    while (*in) {
        if (strncmp(in, "@DIR@", 5) == 0) {
            o += sprintf(o, "%s", dir);
            in += 5;
        } else if (strncmp(in, "@FILE@", 6) == 0) {
            o += sprintf(o, "%s", file);
            in += 6;
        } else {
            *o++ = *in++;
        }
    }
    *o = '\0';
    return out;
}

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(file, sizeof(file), "%s/pic.png", dir);
    FILE *f = fopen(file, "w");
    fputs("png", f);
    fclose(f);
    snprintf(comma, sizeof(comma), "%s/a,b.png", dir);
    snprintf(link_, sizeof(link_), "%s/ab.png", dir);
    f = fopen(comma, "w");
    fputs("png", f);
    fclose(f);
    snprintf(commadir, sizeof(commadir), "%s/c,d", dir);
    snprintf(commapic, sizeof(commapic), "%s/c,d/pic.png", dir);
    if (mkdir(commadir, 0700) != 0)
        return -1;
    f = fopen(commapic, "w");
    fputs("png", f);
    fclose(f);
    return symlink(comma, link_);
}

static int teardown(void **state)
{
    (void)state;
    unlink(file);
    unlink(comma);
    unlink(link_);
    unlink(commapic);
    rmdir(commadir);
    rmdir(dir);
    return 0;
}

static void test_validation(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = subst(cases[i].args);
        json_error_t e;
        json_t *args = json_loads(text, JSON_ALLOW_NUL, &e);
        if (args == NULL)
            fail_msg("case %zu: bad JSON: %s", i, e.text);
        codex_request req;
        char *error = NULL;
        int rc = codex_request_parse(args, &req, &error);
        if (cases[i].error == NULL) {
            if (rc != 0)
                fail_msg("case %zu: rejected: %s", i, error);
            for (size_t k = 0; k < req.nimages; k++)
                if (strchr(req.images[k], ','))
                    fail_msg("case %zu: image path with a comma for codex: %s", i, req.images[k]);
            codex_request_free(&req);
        } else {
            if (rc == 0)
                fail_msg("case %zu: accepted, want \"%s\"", i, cases[i].error);
            if (strstr(error, cases[i].error) == NULL)
                fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, error, cases[i].error);
            free(error);
        }
        json_decref(args);
        free(text);
    }
}

static char *argv_text(char **argv)
{
    static char buf[4096];
    buf[0] = '\0';
    for (char **p = argv; *p; p++) {
        if (p != argv)
            strcat(buf, " ");
        strcat(buf, *p);
    }
    return buf;
}

static codex_request parse_ok(const char *json)
{
    char *text = subst(json);
    json_t *args = json_loads(text, 0, NULL);
    codex_request req;
    char *error = NULL;
    if (codex_request_parse(args, &req, &error) != 0)
        fail_msg("rejected: %s", error);
    json_decref(args);
    free(text);
    return req;
}

static void test_argv(void **state)
{
    (void)state;
    char want[2048];
    codex_request req = parse_ok("{\"PROMPT\":\"-- resume\",\"cd\":\"@DIR@\"}");
    char **argv = codex_argv_build(&req, "/bin/codex");
    snprintf(want, sizeof(want),
             "/bin/codex exec --json --sandbox read-only --cd %s --skip-git-repo-check "
             "--config approval_policy=\"never\" -- -",
             dir);
    assert_string_equal(argv_text(argv), want);
    codex_argv_free(argv);
    codex_request_free(&req);

    /* flags that `resume` rejects come before it; images last, then -- - */
    req = parse_ok(
        "{\"PROMPT\":\"x\",\"cd\":\"@DIR@\",\"sandbox\":\"workspace-write\",\"SESSION_ID\":\"abc\","
        "\"skip_git_repo_check\":false,\"model\":\"m1\",\"profile\":\"p1\",\"reasoning_effort\":"
        "\"high\","
        "\"image\":[\"@FILE@\",\"@FILE@\"]}");
    argv = codex_argv_build(&req, "/bin/codex");
    snprintf(want, sizeof(want),
             "/bin/codex exec --json --sandbox workspace-write --cd %s --model m1 --profile p1 "
             "--config model_reasoning_effort=\"high\" --config approval_policy=\"never\" "
             "resume abc --image %s --image %s -- -",
             dir, file, file);
    assert_string_equal(argv_text(argv), want);
    codex_argv_free(argv);

    /* Under a cap that bounds writes, workspace-write gets no writable_roots
     * of the configuration or the profile: -c after --profile, before resume. */
    req.cd_only_writes = 1;
    assert_true(codex_cd_only_writes(&req));
    argv = codex_argv_build(&req, "/bin/codex");
    snprintf(want, sizeof(want),
             "/bin/codex exec --json --sandbox workspace-write --cd %s --model m1 --profile p1 "
             "--config model_reasoning_effort=\"high\" --config approval_policy=\"never\" "
             "--config sandbox_workspace_write.writable_roots=[] "
             "resume abc --image %s --image %s -- -",
             dir, file, file);
    assert_string_equal(argv_text(argv), want);
    codex_argv_free(argv);
    codex_request_free(&req);

    /* read-only and yolo have no writable roots to empty */
    req = parse_ok("{\"PROMPT\":\"x\",\"cd\":\"@DIR@\"}");
    req.cd_only_writes = 1;
    assert_false(codex_cd_only_writes(&req));
    argv = codex_argv_build(&req, "/bin/codex");
    snprintf(want, sizeof(want),
             "/bin/codex exec --json --sandbox read-only --cd %s --skip-git-repo-check "
             "--config approval_policy=\"never\" -- -",
             dir);
    assert_string_equal(argv_text(argv), want);
    codex_argv_free(argv);
    codex_request_free(&req);
    req = parse_ok(
        "{\"PROMPT\":\"x\",\"cd\":\"@DIR@\",\"yolo\":true,\"sandbox\":\"workspace-write\"}");
    req.cd_only_writes = 1;
    assert_false(codex_cd_only_writes(&req));
    codex_request_free(&req);

    req = parse_ok("{\"PROMPT\":\"x\",\"cd\":\"@DIR@\",\"yolo\":true,\"sandbox\":\"read-only\"}");
    argv = codex_argv_build(&req, "/bin/codex");
    snprintf(want, sizeof(want),
             "/bin/codex exec --json --dangerously-bypass-approvals-and-sandbox --cd %s "
             "--skip-git-repo-check -- -",
             dir);
    assert_string_equal(argv_text(argv), want);
    codex_argv_free(argv);
    codex_request_free(&req);
}

static json_t *result_object(json_t *result, int structured)
{
    json_t *content = json_object_get(result, "content");
    assert_int_equal(json_array_size(content), 1);
    const char *text = json_string_value(json_object_get(json_array_get(content, 0), "text"));
    assert_non_null(text);
    assert_null(strchr(text, '\n')); /* compact */
    json_t *obj = json_loads(text, 0, NULL);
    assert_non_null(obj);
    if (structured)
        assert_true(json_equal(obj, json_object_get(result, "structuredContent")));
    else
        assert_null(json_object_get(result, "structuredContent"));
    return obj;
}

static void feed(events_state *st, const char *line)
{
    free(events_feed(st, line, strlen(line)));
}

static void test_results(void **state)
{
    (void)state;
    events_state st;
    events_init(&st, 1, NULL);
    feed(&st, "{\"type\":\"thread.started\",\"thread_id\":\"T1\"}");
    feed(&st, "{\"type\":\"item.completed\",\"item\":{\"type\":\"agent_message\",\"text\":\"a\"}}");
    feed(&st, "garbage");
    feed(&st, "{\"type\":\"item.completed\",\"item\":{\"type\":\"agent_message\",\"text\":\"b\"}}");
    feed(&st, "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":1}}");
    json_t *r =
        codex_result_build(&st, NULL, &(codex_result_opts){.include_all = 1, .structured = 1});
    assert_null(json_object_get(r, "isError"));
    json_t *o = result_object(r, 1);
    assert_true(json_is_true(json_object_get(o, "success")));
    assert_string_equal(json_string_value(json_object_get(o, "SESSION_ID")), "T1");
    assert_string_equal(json_string_value(json_object_get(o, "agent_messages")), "a\n\nb");
    assert_int_equal(json_array_size(json_object_get(o, "all_messages")), 4);
    assert_int_equal(json_array_size(json_object_get(o, "warnings")), 1);
    assert_non_null(json_object_get(o, "usage"));
    assert_null(json_object_get(o, "error"));
    json_decref(o);
    json_decref(r);

    /* without return_all_messages, and an error that overrides success */
    r = codex_result_build(&st, "timed out after 2 s", &(codex_result_opts){0});
    assert_true(json_is_true(json_object_get(r, "isError")));
    o = result_object(r, 0);
    assert_true(json_is_false(json_object_get(o, "success")));
    assert_string_equal(json_string_value(json_object_get(o, "error")), "timed out after 2 s");
    assert_string_equal(json_string_value(json_object_get(o, "SESSION_ID")), "T1");
    assert_string_equal(json_string_value(json_object_get(o, "agent_messages")), "a\n\nb");
    assert_null(json_object_get(o, "all_messages"));
    json_decref(o);
    json_decref(r);
    events_free(&st);

    /* a failed turn: the cause is the error, not repeated as a warning */
    events_init(&st, 0, NULL);
    feed(&st, "{\"type\":\"thread.started\",\"thread_id\":\"T2\"}");
    feed(&st, "{\"type\":\"error\",\"message\":\"Reconnecting... 1/2 (boom)\"}");
    feed(&st, "{\"type\":\"error\",\"message\":\"boom\"}");
    feed(&st, "{\"type\":\"turn.failed\",\"error\":{\"message\":\"boom\"}}");
    r = codex_result_build(&st, NULL, &(codex_result_opts){.structured = 1});
    assert_true(json_is_true(json_object_get(r, "isError")));
    o = result_object(r, 1);
    assert_string_equal(json_string_value(json_object_get(o, "error")), "boom");
    assert_string_equal(json_string_value(json_object_get(o, "SESSION_ID")), "T2");
    assert_null(json_object_get(o, "warnings"));
    assert_null(json_object_get(o, "agent_messages"));
    json_decref(o);
    json_decref(r);
    events_free(&st);

    r = codex_result_error("bad cd", NULL, 1);
    o = result_object(r, 1);
    assert_string_equal(json_string_value(json_object_get(o, "error")), "bad cd");
    assert_null(json_object_get(o, "SESSION_ID"));
    json_decref(o);
    json_decref(r);
}

static void test_schemas(void **state)
{
    (void)state;
    json_t *in = codex_input_schema();
    json_t *props = json_object_get(in, "properties");
    static const char *const names[] = {"PROMPT",
                                        "cd",
                                        "sandbox",
                                        "SESSION_ID",
                                        "skip_git_repo_check",
                                        "return_all_messages",
                                        "image",
                                        "model",
                                        "yolo",
                                        "profile",
                                        "reasoning_effort",
                                        "timeout_s",
                                        "max_result_chars",
                                        "all_messages_filter",
                                        "wait_s"};
    assert_int_equal(json_object_size(props), sizeof(names) / sizeof(names[0]));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_non_null(json_object_get(props, names[i]));
    json_decref(in);
    json_t *out = codex_output_schema();
    assert_string_equal(json_string_value(json_object_get(out, "type")), "object");
    json_decref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_argv),
        cmocka_unit_test(test_results),
        cmocka_unit_test(test_schemas),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
