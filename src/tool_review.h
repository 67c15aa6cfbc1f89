/* The `codex_review` tool: Codex's code review (`codex exec review`) of
 * the uncommitted changes, a branch or a commit, as a job like `codex`. */
#ifndef CODEXMCP_TOOL_REVIEW_H
#define CODEXMCP_TOOL_REVIEW_H

#include "tasks.h"
#include "tools.h"

/* The tool definition, bound to the tasks (a static object). */
const tool_def *tool_review_def(tasks *t);

#endif
