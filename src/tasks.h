/* Calls of codex and codex_review as tasks: each call's turn (a job) is
 * owned by a task, and requests only watch it. A plain call waits for the
 * end; a call with wait_s answers "running" after that long and its task
 * goes on in the background; a task-augmented tools/call (MCP tasks,
 * 2025-11-25) is answered at once. A background call and an MCP task are
 * the same thing: an id (128 random bits), a status, the result kept for
 * its TTL, and a row in the registry so that codex_wait in another
 * codexmcp process of the same user finds it. codex_wait and codex_cancel,
 * and tasks/get, tasks/result, tasks/list and tasks/cancel, are served
 * here. A task does not outlive the server: one still running when it
 * stops is recorded as interrupted.
 * Ownership: tasks_new creates; tasks_close (the loop still running) ends
 * every timer, then tasks_free. A task frees itself when it expires. */
#ifndef CODEXMCP_TASKS_H
#define CODEXMCP_TASKS_H

#include <jansson.h>
#include <uv.h>

#include "jobs.h"
#include "mcp.h"
#include "store.h"

typedef struct tasks tasks;

tasks *tasks_new(uv_loop_t *loop, jobs *j, store *st, double ttl_s);
/* What serves the MCP tasks methods (mcp_session_set_tasks). */
const mcp_task_ops *tasks_mcp_ops(void);
/* Runs one codex or codex_review call (req taken): as a plain call, with
 * wait_s, or as an MCP task, as the call asks. */
void tasks_run(tasks *t, mcp_call *call, codex_request *req);
/* A call whose arguments were refused: its error result, or, when it
 * asked for an MCP task, a task that fails at once with it. */
void tasks_refuse(tasks *t, mcp_call *call, const char *tool, const char *error);
/* The client cancelled a call started by tasks_run (its tool's cancel). */
void tasks_cancel_call(tasks *t, mcp_call *call);
/* The codex_wait and codex_cancel tools (args borrowed). */
void tasks_wait(tasks *t, mcp_call *call, json_t *args);
void tasks_cancel(tasks *t, mcp_call *call, json_t *args);
void tasks_abandon(tasks *t, mcp_call *call);
const policy *tasks_policy(const tasks *t);
/* Turns still queued or running (background ones included). */
size_t tasks_running(const tasks *t);
/* Calls fn each time the last running turn ends (for shutdown). */
void tasks_on_idle(tasks *t, void (*fn)(void *ctx), void *ctx);
/* Shutdown: every turn still running is stopped and recorded as
 * interrupted. */
void tasks_stop_all(tasks *t);
void tasks_close(tasks *t);
void tasks_free(tasks *t);

#endif
