/* The `codex_sessions` tool: the session registry (store.h) as the model
 * sees it. Lists sessions newest first, filtered by cd or by text in their
 * title or last message; with SESSION_ID, that session's turns. Read-only:
 * it lets the model find a SESSION_ID again after its context was
 * compacted or the client restarted. */
#ifndef CODEXMCP_TOOL_SESSIONS_H
#define CODEXMCP_TOOL_SESSIONS_H

#include "jobs.h"
#include "store.h"
#include "tools.h"

/* The tool definition (a static object), bound to the registry (NULL when
 * there is none; `why` then says why) and the job runner (for
 * the result budget). */
const tool_def *tool_sessions_def(store *s, const char *why, jobs *j);

#endif
