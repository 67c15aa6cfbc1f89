/* Data-driven tests of the JSON-RPC and MCP layers: each file in
 * data/protocol/ is a conversation. Lines:
 *   > LINE        sent to the session as one input line
 *   >raw TEXT     sent with C escapes decoded (\xff, \n…) for invalid bytes
 *   > @oversized N  a line of N bytes was dropped by the transport
 *   > @finish ID  the test tool "hold" finishes its call with that JSON id
 *   > @reset      a fresh session
 *   < JSON        the next message the session must send, as it is
 *                 written to stdout and read back; objects and arrays
 *                 match when every member listed is present and equal
 *                 (listed arrays must have the same length)
 *   <raw TEXT     the next message, written to stdout, is exactly TEXT
 *   < @none       nothing further was sent
 *   # comment, blank lines ignored.
 * After each input every message sent must have been expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "tools.h"

#include "datafiles.h"

#define MAX_HELD 16

typedef struct {
    json_t *sent; /* array of messages not yet checked */
    mcp_call *held[MAX_HELD];
    size_t nheld;
} harness;

static harness H;

static void send_cb(void *ctx, json_t *msg)
{
    (void)ctx;
    json_array_append_new(H.sent, msg);
}

static json_t *schema_empty(void)
{
    return json_pack("{s:s}", "type", "object");
}

static void echo_start(void *ctx, mcp_call *call, json_t *args)
{
    (void)ctx;
    mcp_call_progress(call, "echoing\n  now");
    json_t *text = json_object_get(args, "text");
    json_t *res = json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text",
                            json_is_string(text) ? json_string_value(text) : "");
    if (mcp_call_structured(call))
        json_object_set_new(res, "structuredContent", json_pack("{s:b}", "structured", 1));
    mcp_call_finish(call, res);
}

static void hold_start(void *ctx, mcp_call *call, json_t *args)
{
    (void)ctx;
    (void)args;
    assert_true(H.nheld < MAX_HELD);
    H.held[H.nheld++] = call;
}

static void hold_cancel(void *ctx, mcp_call *call)
{
    (void)ctx;
    assert_true(mcp_call_cancelled(call));
}

static const tool_def echo_tool = {.name = "echo",
                                   .title = "Echo",
                                   .description = "echoes",
                                   .input_schema = schema_empty,
                                   .start = echo_start};
static const tool_def hold_tool = {
    .name = "hold", .input_schema = schema_empty, .start = hold_start, .cancel = hold_cancel};
static const tool_def third_tool = {
    .name = "third", .input_schema = schema_empty, .start = echo_start};

static int json_subset(json_t *want, json_t *got)
{
    if (json_is_object(want)) {
        if (!json_is_object(got))
            return 0;
        const char *k;
        json_t *v;
        json_object_foreach(want, k, v)
        {
            json_t *g = json_object_get(got, k);
            if (g == NULL || !json_subset(v, g))
                return 0;
        }
        return 1;
    }
    if (json_is_array(want)) {
        if (!json_is_array(got) || json_array_size(want) != json_array_size(got))
            return 0;
        for (size_t i = 0; i < json_array_size(want); i++)
            if (!json_subset(json_array_get(want, i), json_array_get(got, i)))
                return 0;
        return 1;
    }
    return json_equal(want, got);
}

static size_t unescape(const char *in, char *out)
{
    size_t n = 0;
    while (*in) {
        if (in[0] == '\\' && in[1] == 'x') {
            unsigned v;
            sscanf(in + 2, "%2x", &v);
            out[n++] = (char)v;
            in += 4;
        } else if (in[0] == '\\' && in[1] == 'n') {
            out[n++] = '\n';
            in += 2;
        } else {
            out[n++] = *in++;
        }
    }
    return n;
}

static mcp_session *new_session(tool_registry *reg)
{
    static const mcp_server_info info = {"codexmcp", "test", NULL};
    H.nheld = 0;
    return mcp_session_new(&info, reg, send_cb, NULL);
}

static void finish_held(json_t *id)
{
    for (size_t i = 0; i < H.nheld; i++) {
        if (jrpc_id_equal(mcp_call_id(H.held[i]), id)) {
            mcp_call *c = H.held[i];
            H.held[i] = H.held[--H.nheld];
            mcp_call_finish(
                c, json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text", "held done"));
            return;
        }
    }
    fail_msg("no held call with that id");
}

static void run_file(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    tool_registry reg;
    tools_init(&reg, 2);
    tools_add(&reg, &echo_tool);
    tools_add(&reg, &hold_tool);
    tools_add(&reg, &third_tool);
    H.sent = json_array();
    mcp_session *s = new_session(&reg);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (strncmp(line, "> ", 2) == 0 || strncmp(line, ">raw ", 5) == 0) {
            if (json_array_size(H.sent) != 0) {
                char *extra = json_dumps(json_array_get(H.sent, 0), JSON_COMPACT);
                fail_msg("%s:%d: unexpected message before this input: %s", path, lineno, extra);
            }
            const char *text = line + 2;
            if (strncmp(line, ">raw ", 5) == 0) {
                char *raw = malloc((size_t)len);
                size_t n = unescape(line + 5, raw);
                mcp_session_handle_line(s, raw, n);
                free(raw);
            } else if (strncmp(text, "@oversized ", 11) == 0) {
                mcp_session_handle_oversized(s, (size_t)atol(text + 11), 1024);
            } else if (strncmp(text, "@finish ", 8) == 0) {
                /* Decoded as an id would be, raw numbers included. */
                char wrapped[256];
                json_t *err = NULL;
                int n = snprintf(wrapped, sizeof(wrapped), "{\"id\":%s}", text + 8);
                json_t *w = jrpc_decode(wrapped, (size_t)n, &err, NULL);
                assert_non_null(w);
                finish_held(json_object_get(w, "id"));
                json_decref(w);
            } else if (strcmp(text, "@reset") == 0) {
                while (H.nheld)
                    finish_held(mcp_call_id(H.held[0]));
                json_array_clear(H.sent);
                mcp_session_free(s);
                s = new_session(&reg);
            } else {
                mcp_session_handle_line(s, text, strlen(text));
            }
        } else if (strncmp(line, "< ", 2) == 0 || strncmp(line, "<raw ", 5) == 0) {
            const char *text = line + 2;
            if (strcmp(text, "@none") == 0) {
                if (json_array_size(H.sent) != 0) {
                    char *extra = json_dumps(json_array_get(H.sent, 0), JSON_COMPACT);
                    fail_msg("%s:%d: expected nothing, got %s", path, lineno, extra);
                }
                continue;
            }
            if (json_array_size(H.sent) == 0)
                fail_msg("%s:%d: expected %s, got nothing", path, lineno, text);
            /* What the client reads: the message as the transport writes it. */
            size_t glen;
            char *g = jrpc_serialize(json_array_get(H.sent, 0), &glen);
            g[--glen] = '\0';
            json_array_remove(H.sent, 0);
            if (strncmp(line, "<raw ", 5) == 0) {
                if (strcmp(g, line + 5) != 0)
                    fail_msg("%s:%d:\n  want %s\n  got  %s", path, lineno, line + 5, g);
                free(g);
                continue;
            }
            json_error_t e;
            json_t *want = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
            if (want == NULL)
                fail_msg("%s:%d: bad expectation: %s", path, lineno, e.text);
            json_t *got = json_loadb(g, glen, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
            if (got == NULL || !json_subset(want, got))
                fail_msg("%s:%d:\n  want %s\n  got  %s", path, lineno, text, g);
            free(g);
            json_decref(got);
            json_decref(want);
        } else {
            fail_msg("%s:%d: unknown line", path, lineno);
        }
    }
    if (json_array_size(H.sent) != 0) {
        char *extra = json_dumps(json_array_get(H.sent, 0), JSON_COMPACT);
        fail_msg("%s: unexpected message at the end: %s", path, extra);
    }
    while (H.nheld)
        finish_held(mcp_call_id(H.held[0]));
    json_array_clear(H.sent);
    mcp_session_free(s);
    json_decref(H.sent);
    tools_free(&reg);
    free(line);
    fclose(f);
}

static void test_file(void **state)
{
    char path[600];
    snprintf(path, sizeof(path), "%s.txt", (const char *)*state);
    run_file(path);
}

int main(void)
{
    log_set_stderr_level(LOG_OFF);
    char *names[256];
    int count = datafiles_list("data/protocol", ".txt", names, 256);
    if (count < 0)
        return 1;
    size_t n = (size_t)count;
    struct CMUnitTest *tests = calloc(n, sizeof(*tests));
    for (size_t i = 0; i < n; i++) {
        tests[i].name = names[i];
        tests[i].test_func = test_file;
        tests[i].initial_state = names[i];
    }
    int rc = _cmocka_run_group_tests("protocol", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(tests);
    return rc;
}
