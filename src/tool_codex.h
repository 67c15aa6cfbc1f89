/* The `codex` tool: a drop-in for the CodexMCP tool of the same name. */
#ifndef CODEXMCP_TOOL_CODEX_H
#define CODEXMCP_TOOL_CODEX_H

#include "tasks.h"
#include "tools.h"

/* The tool definition, bound to the tasks (a static object). */
const tool_def *tool_codex_def(tasks *t);

#endif
