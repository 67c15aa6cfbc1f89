/* libFuzzer target for everything that parses outside input: the first
 * byte picks the parser, the rest is split into lines.
 *   even: client lines into an MCP session (jsonrpc.c, mcp.c, tools.c)
 *   odd:  codex stdout lines into the event reducer and a result
 *         (events.c, codex_args.c), as the job runner does. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codex_args.h"
#include "limits.h"
#include "events.h"
#include "jsonrpc.h"
#include "linebuf.h"
#include "log.h"
#include "mcp.h"
#include "tools.h"

static void drop(void *ctx, json_t *msg)
{
    (void)ctx;
    /* Every message must serialize to one line of valid JSON, as the
     * transport writes it (raw numbers past jansson's range included). */
    size_t n;
    char *s = jrpc_serialize(msg, &n);
    json_error_t e;
    json_t *back = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if ((back == NULL && strstr(e.text, "overflow") == NULL && strstr(e.text, "too big") == NULL) ||
        memchr(s, '\n', n - 1) != NULL)
        abort();
    json_decref(back);
    free(s);
    json_decref(msg);
}

static json_t *schema(void)
{
    return json_pack("{s:s}", "type", "object");
}

static void echo_start(void *ctx, mcp_call *call, json_t *args)
{
    (void)ctx;
    mcp_call_progress(call, "working");
    mcp_call_finish(call, json_pack("{s:[{s:s, s:O}]}", "content", "type", "text", "args", args));
}

/* A tool that may run as a task, and task methods that answer at once:
 * what mcp.c parses of params.task, taskId and cursors is fuzzed. */
static const tool_def echo = {
    .name = "echo", .input_schema = schema, .start = echo_start, .task_support = 1};

static void task_get(void *ctx, mcp_call *c, const char *id)
{
    (void)ctx;
    mcp_call_finish(c, json_pack("{s:s}", "taskId", id));
}

static void task_list(void *ctx, mcp_call *c, const char *cursor)
{
    (void)ctx;
    if (cursor)
        mcp_call_fail(c, -32602, "unknown cursor");
    else
        mcp_call_finish(c, json_pack("{s:[]}", "tasks"));
}

static void task_abandon(void *ctx, mcp_call *c)
{
    (void)ctx;
    mcp_call_finish(c, json_object());
}

static const mcp_task_ops task_ops = {task_get, task_get, task_list, task_get, task_abandon};

typedef struct {
    mcp_session *s;
    events_state *ev;
} sink;

static void on_line(void *ctx, const char *line, size_t len, int overflow)
{
    sink *k = ctx;
    if (k->s) {
        if (overflow)
            mcp_session_handle_oversized(k->s, len, 4096);
        else
            mcp_session_handle_line(k->s, line, len);
    } else if (overflow) {
        events_overlong(k->ev, len, 4096);
    } else {
        free(events_feed(k->ev, line, len));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    log_set_stderr_level(LOG_OFF);
    int mode = data[0] & 1;
    linebuf_t lb;
    linebuf_init(&lb, 4096);
    sink k = {0};
    tool_registry reg;
    events_state ev;
    if (mode == 0) {
        static const mcp_server_info info = {"codexmcp", "fuzz", NULL};
        tools_init(&reg, 1);
        tools_add(&reg, &echo);
        k.s = mcp_session_new(&info, &reg, drop, NULL);
        mcp_session_set_tasks(k.s, &task_ops, NULL);
    } else {
        events_init(&ev, 1, NULL);
        k.ev = &ev;
    }
    linebuf_feed(&lb, (const char *)data + 1, size - 1, on_line, &k);
    linebuf_finish(&lb, on_line, &k);
    if (mode == 0) {
        mcp_session_free(k.s);
        tools_free(&reg);
    } else {
        /* The budget too: a small one, so every stage runs. */
        json_t *r = codex_result_build(&ev, NULL,
                                       &(codex_result_opts){.include_all = 1,
                                                            .structured = 1,
                                                            .transcript = "/t.jsonl",
                                                            .max_chars = BUDGET_MIN_CHARS});
        drop(NULL, r);
        events_free(&ev);
    }
    linebuf_free(&lb);
    return 0;
}
