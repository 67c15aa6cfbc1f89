/* The MCP session: lifecycle and version negotiation, request dispatch,
 * batches, in-flight tool calls (progress, cancellation) and the client's
 * log level. Pure with respect to I/O: lines come in through
 * mcp_session_handle_line and every outgoing message leaves through the
 * send callback, so the whole protocol is unit-tested without pipes.
 * Ownership: the session owns its calls; a call is freed by
 * mcp_call_finish, which every tool must call exactly once. */
#ifndef CODEXMCP_MCP_H
#define CODEXMCP_MCP_H

#include <jansson.h>
#include <stddef.h>

#include "tools.h"

#define MCP_LATEST_VERSION "2025-11-25"
/* The _meta key that ties a message to its task (2025-11-25). */
#define MCP_RELATED_TASK "io.modelcontextprotocol/related-task"

/* Receives every outgoing message; takes ownership of msg. */
typedef void (*mcp_send_fn)(void *ctx, json_t *msg);

typedef struct mcp_session mcp_session;

typedef struct {
    const char *name;         /* serverInfo.name */
    const char *version;      /* serverInfo.version */
    const char *instructions; /* NULL: none */
} mcp_server_info;

mcp_session *mcp_session_new(const mcp_server_info *info, const tool_registry *tools,
                             mcp_send_fn send, void *send_ctx);
/* Frees the session. Calls still in flight must have been finished. */
void mcp_session_free(mcp_session *s);

void mcp_session_handle_line(mcp_session *s, const char *line, size_t len);
/* A line of `len` bytes was over the `max` accepted and was dropped. */
void mcp_session_handle_oversized(mcp_session *s, size_t len, size_t max);
/* Cancels every call in flight (shutdown): their replies are dropped. */
void mcp_session_cancel_all(mcp_session *s);
size_t mcp_session_inflight(const mcp_session *s);
/* Calls fn each time the last call in flight finishes (for shutdown). */
void mcp_session_on_idle(mcp_session *s, void (*fn)(void *ctx), void *ctx);
/* The client is behind on its replies (1) or caught up (0). While behind,
 * progress is lossy: each call keeps only its newest message, sent when the
 * client catches up; log records are counted, and one record says how many
 * were dropped. */
void mcp_session_set_behind(mcp_session *s, int behind);

/* MCP tasks (2025-11-25): who answers tasks/get, tasks/result, tasks/list
 * and tasks/cancel. Each gets a call in flight (taskId or cursor checked
 * to be a string) and finishes it later with mcp_call_finish or
 * mcp_call_fail; `abandon` hears that the client cancelled one. */
typedef struct {
    void (*get)(void *ctx, mcp_call *c, const char *task_id);
    void (*result)(void *ctx, mcp_call *c, const char *task_id);
    void (*list)(void *ctx, mcp_call *c, const char *cursor);
    void (*cancel)(void *ctx, mcp_call *c, const char *task_id);
    void (*abandon)(void *ctx, mcp_call *c);
} mcp_task_ops;

void mcp_session_set_tasks(mcp_session *s, const mcp_task_ops *ops, void *ctx);
/* Tasks were negotiated: the server has them and the client speaks
 * 2025-11-25 or later. */
int mcp_session_tasks_on(const mcp_session *s);
/* Sends a notification (params stolen). */
void mcp_session_notify(mcp_session *s, const char *method, json_t *params);
/* Progress of a task after its tools/call was answered: the call's token
 * stays valid until the task ends. Dropped while the client is behind. */
void mcp_session_task_progress(mcp_session *s, json_t *token, json_int_t progress,
                               const char *message, const char *task_id);

/* --- for tools: one call in flight --- */
json_t *mcp_call_id(const mcp_call *c); /* borrowed */
/* The client's clientInfo.name (UTF-8), or NULL if it sent none. */
const char *mcp_call_client(const mcp_call *c);
/* Non-zero when results may carry structuredContent (2025-06-18 and later). */
int mcp_call_structured(const mcp_call *c);
int mcp_call_cancelled(const mcp_call *c);
int mcp_call_has_progress(const mcp_call *c);
/* Sends notifications/progress with a strictly increasing `progress` and
 * `message` shortened to one line; nothing without a progress token, after
 * a cancel, or after the call finished. While the client is behind only
 * the newest message of the call is kept, to be sent when it catches up. */
void mcp_call_progress(mcp_call *c, const char *message);
/* params.task of a task-augmented tools/call (borrowed), or NULL. */
json_t *mcp_call_task(const mcp_call *c);
json_t *mcp_call_progress_token(const mcp_call *c); /* borrowed, or NULL */
mcp_session *mcp_call_session(const mcp_call *c);
void mcp_call_set_data(mcp_call *c, void *data);
void *mcp_call_data(const mcp_call *c);
/* Finishes the call with a CallToolResult (stolen) and frees it. The
 * result is dropped if the call was cancelled. */
void mcp_call_finish(mcp_call *c, json_t *result);
/* Finishes the call with a JSON-RPC error instead (dropped if cancelled). */
void mcp_call_fail(mcp_call *c, int code, const char *message);

#endif
