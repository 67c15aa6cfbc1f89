/* The `codex_wait` and `codex_cancel` tools: schemas, then tasks.c. */
#include "tool_tasks.h"

#include <stdlib.h>

#include "codex_args.h"
#include "mcp.h"

static const char wait_schema_json[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"task\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"array\",\"items\":{\"type\":"
    "\"string\"},\"minItems\":1,\"maxItems\":32}],\"description\":\"The task id from a "
    "result's \\\"task\\\" (a call made with wait_s), or an array of them.\"},"
    "\"wait_s\":{\"type\":\"number\",\"minimum\":0,\"maximum\":3600,\"default\":50,"
    "\"description\":\"Wait at most this many seconds (default 50), then answer with what is "
    "done and the latest progress of the rest.\"},"
    "\"mode\":{\"type\":\"string\",\"enum\":[\"all\",\"any\"],\"default\":\"all\","
    "\"description\":\"all: answer when every task is done; any: as soon as one is.\"}"
    "},\"required\":[\"task\"],\"additionalProperties\":false}";

static const char cancel_schema_json[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"task\":{\"type\":\"string\",\"description\":\"The task to stop (the \\\"task\\\" of a "
    "result).\"},"
    "\"SESSION_ID\":{\"type\":\"string\",\"description\":\"Or: stop the running turn of this "
    "session.\"}"
    "},\"additionalProperties\":false}";

static json_t *wait_schema(void)
{
    json_t *v = json_loads(wait_schema_json, 0, NULL);
    if (v == NULL)
        abort(); /* a typo in the literal: caught by every test */
    return v;
}

static json_t *cancel_schema(void)
{
    json_t *v = json_loads(cancel_schema_json, 0, NULL);
    if (v == NULL)
        abort();
    return v;
}

static json_t *wait_annotations(void *ctx)
{
    (void)ctx;
    /* It only reads: a client may run several at once. */
    return json_pack("{s:s, s:b, s:b, s:b, s:b}", "title", "Wait for Codex", "readOnlyHint", 1,
                     "destructiveHint", 0, "idempotentHint", 1, "openWorldHint", 0);
}

static json_t *cancel_annotations(void *ctx)
{
    (void)ctx;
    return json_pack("{s:s, s:b, s:b, s:b, s:b}", "title", "Cancel Codex", "readOnlyHint", 0,
                     "destructiveHint", 1, "idempotentHint", 1, "openWorldHint", 0);
}

static void wait_start(void *ctx, mcp_call *call, json_t *args)
{
    tasks_wait(ctx, call, args);
}

static void cancel_start(void *ctx, mcp_call *call, json_t *args)
{
    tasks_cancel(ctx, call, args);
}

static void abandon(void *ctx, mcp_call *call)
{
    tasks_abandon(ctx, call);
}

static tool_def wait_tool = {
    .name = "codex_wait",
    .title = "Wait for Codex",
    .description =
        "Wait for Codex calls running in the background (started with wait_s) and get their "
        "results. Give task: one task id, or an array of them to wait for several at once "
        "(mode \"all\", the default, or \"any\" to return when the first is done). A finished "
        "task's result is exactly what the call would have returned: {success, SESSION_ID, "
        "agent_messages}. An unfinished one answers {status: \"running\", task, SESSION_ID, "
        "progress} after wait_s seconds (default 50): call codex_wait again. With an array the "
        "answer is {done, pending, tasks: [one result per task, in order]}. Finished results "
        "are kept for an hour, and tasks of other codexmcp servers of this user are found too.",
    .input_schema = wait_schema,
    .output_schema = codex_output_schema,
    .annotations = wait_annotations,
    .start = wait_start,
    .cancel = abandon,
};

static tool_def cancel_tool = {
    .name = "codex_cancel",
    .title = "Cancel Codex",
    .description =
        "Stop Codex work: give task (the id of a call started with wait_s) or SESSION_ID (the "
        "running turn of that session, whoever started it). Answers once every process of the "
        "turn is gone: {success, status: \"cancelled\", task, SESSION_ID}. The session can be "
        "resumed afterwards with its SESSION_ID.",
    .input_schema = cancel_schema,
    .output_schema = codex_output_schema,
    .annotations = cancel_annotations,
    .start = cancel_start,
    .cancel = abandon,
};

const tool_def *tool_wait_def(tasks *t)
{
    wait_tool.tool_ctx = t;
    return &wait_tool;
}

const tool_def *tool_cancel_def(tasks *t)
{
    cancel_tool.tool_ctx = t;
    return &cancel_tool;
}
