/* The `codex_review` tool: argument validation, then a job. */
#include "tool_review.h"

#include <stdlib.h>

#include "codex_args.h"
#include "mcp.h"

static json_t *annotations(void *ctx)
{
    (void)ctx;
    /* Codex reviews in the read-only sandbox: it changes nothing, so a
     * client may run several at once. */
    return json_pack("{s:s, s:b, s:b, s:b, s:b}", "title", "Codex review", "readOnlyHint", 1,
                     "destructiveHint", 0, "idempotentHint", 0, "openWorldHint", 1);
}

static void start(void *ctx, mcp_call *call, json_t *args)
{
    codex_request req;
    char *error = NULL;
    if (codex_review_parse(args, &req, &error) != 0) {
        tasks_refuse(ctx, call, "codex_review", error);
        free(error);
        return;
    }
    tasks_run(ctx, call, &req);
}

static void cancel(void *ctx, mcp_call *call)
{
    tasks_cancel_call(ctx, call);
}

static tool_def review_tool = {
    .name = "codex_review",
    .title = "Codex review",
    .description =
        "Have Codex review code changes in a git repository (codex exec review), read-only. "
        "Give cd and one target: uncommitted: true (staged, unstaged and untracked changes), "
        "base (a branch to diff against) or commit (a sha, optionally with title); or, instead "
        "of a target, custom review instructions in PROMPT. The result is the same JSON as the "
        "codex tool's: {success, SESSION_ID, agent_messages (the review), transcript}; the "
        "SESSION_ID can be passed to the codex tool to discuss the review.",
    .input_schema = codex_review_input_schema,
    .output_schema = codex_output_schema,
    .annotations = annotations,
    .start = start,
    .cancel = cancel,
    .task_support = 1,
};

const tool_def *tool_review_def(tasks *t)
{
    review_tool.tool_ctx = t;
    return &review_tool;
}
