/* The `codex_wait` and `codex_cancel` tools: the model's handle on calls
 * running in the background (tasks.h). */
#ifndef CODEXMCP_TOOL_TASKS_H
#define CODEXMCP_TOOL_TASKS_H

#include "tasks.h"
#include "tools.h"

/* The tool definitions, bound to the tasks (static objects). */
const tool_def *tool_wait_def(tasks *t);
const tool_def *tool_cancel_def(tasks *t);

#endif
