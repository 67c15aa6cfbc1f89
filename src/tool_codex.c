/* The `codex` tool: argument validation, then a job. */
#include "tool_codex.h"

#include <stdlib.h>

#include "codex_args.h"
#include "mcp.h"

static json_t *annotations(void *ctx)
{
    /* Honest either way: under --read-only (or --max-sandbox read-only)
     * Codex cannot change anything, and a client such as Claude Code then
     * runs several calls at once. */
    int ro = policy_read_only(tasks_policy(ctx));
    return json_pack("{s:s, s:b, s:b, s:b, s:b}", "title", "Codex", "readOnlyHint", ro,
                     "destructiveHint", !ro, "idempotentHint", 0, "openWorldHint", 1);
}

static void start(void *ctx, mcp_call *call, json_t *args)
{
    codex_request req;
    char *error = NULL;
    if (codex_request_parse(args, &req, &error) != 0) {
        tasks_refuse(ctx, call, "codex", error);
        free(error);
        return;
    }
    tasks_run(ctx, call, &req);
}

static void cancel(void *ctx, mcp_call *call)
{
    tasks_cancel_call(ctx, call);
}

static tool_def codex_tool = {
    .name = "codex",
    .title = "Codex",
    .description =
        "Hand a coding task to OpenAI's Codex CLI (codex exec) and get its answer. Codex can "
        "read the project in `cd`, run commands and, with sandbox \"workspace-write\", edit "
        "files. Every result carries a SESSION_ID: pass it back as SESSION_ID to continue the "
        "same conversation with Codex (it keeps its context); leave SESSION_ID empty to start a "
        "new one. The result is JSON: {success, SESSION_ID, agent_messages} or {success: false, "
        "error}. To run several Codex tasks at once, start each with wait_s: 0 (the answer is "
        "{status: \"running\", task, SESSION_ID}) and then call codex_wait with all their task "
        "ids; codex_cancel stops one.",
    .input_schema = codex_input_schema,
    .output_schema = codex_output_schema,
    .annotations = annotations,
    .start = start,
    .cancel = cancel,
    .task_support = 1,
};

const tool_def *tool_codex_def(tasks *t)
{
    codex_tool.tool_ctx = t;
    return &codex_tool;
}
