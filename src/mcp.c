/* MCP session: lifecycle, dispatch, batches, calls in flight, logging. */
#include "mcp.h"

#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "limits.h"
#include "log.h"
#include "prompts.h"
#include "util.h"

/* Versions echoed back when a client asks for them, oldest first. */
static const char *const known_versions[] = {"2024-11-05", "2025-03-26", "2025-06-18",
                                             "2025-11-25"};

/* A JSON-RPC batch (2025-03-26 only): its replies go out together, as one
 * array, once every element, tool calls included, has been answered. */
typedef struct batch {
    json_t *replies;
    size_t pending; /* tool calls of this batch still in flight */
    int closed;     /* every element has been dispatched */
} batch;

struct mcp_call {
    mcp_session *session;
    json_t *id;
    json_t *progress_token; /* NULL: the client asked for no progress */
    json_int_t progress;
    batch *batch;
    json_t *task; /* params.task of a task-augmented tools/call, or NULL */
    /* Who stops it when the client cancels: its tool, or the tasks. */
    void (*cancel)(void *ctx, mcp_call *c);
    void *cancel_ctx;
    void *data;
    int cancelled;
    char *pending; /* newest progress message held while the client is behind */
    mcp_call *next;
};

struct mcp_session {
    mcp_server_info info;
    const tool_registry *tools;
    mcp_send_fn send;
    void *send_ctx;
    const char *version; /* negotiated; NULL before initialize */
    char *client_name;   /* clientInfo.name, or NULL */
    int client_initialized;
    mcp_call *calls;
    size_t ncalls;
    int log_sink_set;
    int behind;         /* the client is not reading: hold back (limits.h) */
    size_t log_dropped; /* log records not sent while it was behind */
    void (*on_idle)(void *ctx);
    void *idle_ctx;
    const mcp_task_ops *task_ops; /* NULL: no MCP tasks */
    void *task_ctx;
};

static void emit(mcp_session *s, batch *b, json_t *msg)
{
    if (b)
        json_array_append_new(b->replies, msg);
    else
        s->send(s->send_ctx, msg);
}

static void batch_maybe_send(mcp_session *s, batch *b)
{
    if (!b->closed || b->pending > 0)
        return;
    if (json_array_size(b->replies) > 0)
        s->send(s->send_ctx, b->replies);
    else
        json_decref(b->replies);
    free(b);
}

static void client_log(void *ctx, log_level level, const char *text)
{
    mcp_session *s = ctx;
    if (s->behind) {
        s->log_dropped++;
        return;
    }
    json_t *params = json_pack("{s:s, s:s, s:s}", "level", log_level_name(level), "logger",
                               "codexmcp", "data", text);
    s->send(s->send_ctx, jrpc_notification("notifications/message", params));
}

mcp_session *mcp_session_new(const mcp_server_info *info, const tool_registry *tools,
                             mcp_send_fn send, void *send_ctx)
{
    mcp_session *s = xcalloc(1, sizeof(*s));
    s->info = *info;
    s->tools = tools;
    s->send = send;
    s->send_ctx = send_ctx;
    return s;
}

void mcp_session_free(mcp_session *s)
{
    if (s == NULL)
        return;
    if (s->log_sink_set)
        log_set_client_sink(NULL, NULL, LOG_OFF);
    free(s->client_name);
    free(s);
}

void mcp_session_set_tasks(mcp_session *s, const mcp_task_ops *ops, void *ctx)
{
    s->task_ops = ops;
    s->task_ctx = ctx;
}

int mcp_session_tasks_on(const mcp_session *s)
{
    return s->task_ops != NULL && s->version != NULL && strcmp(s->version, "2025-11-25") >= 0;
}

void mcp_session_notify(mcp_session *s, const char *method, json_t *params)
{
    s->send(s->send_ctx, jrpc_notification(method, params));
}

void mcp_session_task_progress(mcp_session *s, json_t *token, json_int_t progress,
                               const char *message, const char *task_id)
{
    /* Lossy while the client is behind, as every progress is. */
    if (s->behind)
        return;
    char *line = one_line(message, PROGRESS_MESSAGE_MAX);
    json_t *params =
        json_pack("{s:O, s:I, s:s, s:{s:{s:s}}}", "progressToken", token, "progress", progress,
                  "message", line, "_meta", MCP_RELATED_TASK, "taskId", task_id);
    free(line);
    s->send(s->send_ctx, jrpc_notification("notifications/progress", params));
}

static void send_progress(mcp_call *c, const char *line)
{
    json_t *params = json_pack("{s:O, s:I, s:s}", "progressToken", c->progress_token, "progress",
                               c->progress, "message", line);
    c->session->send(c->session->send_ctx, jrpc_notification("notifications/progress", params));
}

void mcp_session_set_behind(mcp_session *s, int behind)
{
    s->behind = behind;
    if (behind)
        return;
    /* Each call's newest message, in the order of the calls list; a send
     * may make the client behind again, and then the rest waits. */
    for (mcp_call *c = s->calls; c && !s->behind; c = c->next) {
        if (c->pending == NULL)
            continue;
        char *line = c->pending;
        c->pending = NULL;
        send_progress(c, line);
        free(line);
    }
    if (s->log_dropped > 0 && !s->behind) {
        size_t n = s->log_dropped;
        s->log_dropped = 0;
        log_msg(LOG_WARNING, "%zu log records were not sent while the client was not reading", n);
    }
}

size_t mcp_session_inflight(const mcp_session *s)
{
    return s->ncalls;
}

void mcp_session_on_idle(mcp_session *s, void (*fn)(void *ctx), void *ctx)
{
    s->on_idle = fn;
    s->idle_ctx = ctx;
}

/* ---- handlers of the individual methods ---- */

static json_t *handle_initialize(mcp_session *s, json_t *id, json_t *params)
{
    if (s->version != NULL)
        return jrpc_error(id, JRPC_INVALID_REQUEST,
                          "Invalid Request: initialize was already called for this session");
    json_t *requested = params ? json_object_get(params, "protocolVersion") : NULL;
    if (!json_is_string(requested))
        return jrpc_error(id, JRPC_INVALID_PARAMS,
                          "Invalid params: initialize needs params.protocolVersion (a string)");
    const char *want = jrpc_string(requested); /* NULL (a NUL byte): unknown */
    s->version = MCP_LATEST_VERSION;
    for (size_t i = 0; want && i < sizeof(known_versions) / sizeof(known_versions[0]); i++)
        if (strcmp(want, known_versions[i]) == 0)
            s->version = known_versions[i];
    json_t *info = json_pack("{s:s, s:s, s:s}", "name", s->info.name, "title", "Codex MCP",
                             "version", s->info.version);
    json_t *result = json_pack("{s:s, s:{s:{s:b}, s:{s:b}, s:{}}, s:o}", "protocolVersion",
                               s->version, "capabilities", "tools", "listChanged", 0, "prompts",
                               "listChanged", 0, "logging", "serverInfo", info);
    if (mcp_session_tasks_on(s))
        json_object_set_new(
            json_object_get(result, "capabilities"), "tasks",
            json_pack("{s:{}, s:{}, s:{s:{s:{}}}}", "list", "cancel", "requests", "tools", "call"));
    /* Who the client is decides what a result may hold (limits.h). */
    const char *name = jrpc_string(json_object_get(json_object_get(params, "clientInfo"), "name"));
    if (name)
        s->client_name = utf8_clean(name);
    if (s->info.instructions)
        json_object_set_new(result, "instructions", json_string(s->info.instructions));
    log_msg(LOG_DEBUG, "initialize: client asked for %s, using %s", want ? want : "(NUL)",
            s->version);
    return jrpc_result(id, result);
}

static json_t *handle_tools_list(mcp_session *s, json_t *id, json_t *params)
{
    json_t *cursor = params ? json_object_get(params, "cursor") : NULL;
    if (cursor != NULL && !json_is_null(cursor) && !json_is_string(cursor))
        return jrpc_error(id, JRPC_INVALID_PARAMS, "Invalid params: cursor must be a string");
    const char *c = json_is_string(cursor) ? jrpc_string(cursor) : NULL;
    json_t *page = json_is_string(cursor) && c == NULL
                       ? NULL
                       : tools_list_page(s->tools, c, mcp_session_tasks_on(s));
    if (page == NULL)
        return jrpc_error(id, JRPC_INVALID_PARAMS, "Invalid params: unknown cursor");
    return jrpc_result(id, page);
}

static json_t *handle_prompts_get(json_t *id, json_t *params)
{
    json_t *name = params ? json_object_get(params, "name") : NULL;
    const char *n = jrpc_string(name);
    if (n == NULL)
        return jrpc_error(id, JRPC_INVALID_PARAMS, "Invalid params: name must be a string");
    json_t *args = json_object_get(params, "arguments");
    if (args != NULL && !json_is_null(args) && !json_is_object(args))
        return jrpc_error(id, JRPC_INVALID_PARAMS,
                          "Invalid params: arguments must be an object of strings");
    char *error = NULL;
    json_t *result = prompts_get(n, json_is_object(args) ? args : NULL, &error);
    if (result == NULL) {
        json_t *e = jrpc_error(id, JRPC_INVALID_PARAMS, "Invalid params: %s", error);
        free(error);
        return e;
    }
    return jrpc_result(id, result);
}

static json_t *handle_set_level(mcp_session *s, json_t *id, json_t *params)
{
    json_t *level = params ? json_object_get(params, "level") : NULL;
    const char *name = jrpc_string(level);
    log_level lv;
    if (name == NULL || log_level_parse(name, &lv) != 0)
        return jrpc_error(id, JRPC_INVALID_PARAMS,
                          "Invalid params: level must be one of debug, info, notice, warning, "
                          "error, critical, alert, emergency");
    log_set_client_sink(client_log, s, lv);
    s->log_sink_set = 1;
    return jrpc_result(id, json_object());
}

static mcp_call *find_call(mcp_session *s, json_t *id)
{
    for (mcp_call *c = s->calls; c; c = c->next)
        if (!c->cancelled && jrpc_id_equal(c->id, id))
            return c;
    return NULL;
}

static mcp_call *call_new(mcp_session *s, json_t *id, batch *b)
{
    mcp_call *c = xcalloc(1, sizeof(*c));
    c->session = s;
    c->id = json_incref(id);
    c->batch = b;
    c->next = s->calls;
    s->calls = c;
    s->ncalls++;
    if (b)
        b->pending++;
    return c;
}

/* tasks/get, tasks/result, tasks/list, tasks/cancel: answered later, by the
 * tasks (they may wait, or read the registry). */
static json_t *handle_tasks(mcp_session *s, const jrpc_msg *m, json_t *params, batch *b)
{
    json_t *id = m->id;
    int list = jrpc_method_is(m, "tasks/list");
    const char *arg = NULL;
    if (list) {
        json_t *cursor = params ? json_object_get(params, "cursor") : NULL;
        if (cursor != NULL && !json_is_null(cursor) && !json_is_string(cursor))
            return jrpc_error(id, JRPC_INVALID_PARAMS, "Invalid params: cursor must be a string");
        arg = json_is_string(cursor) ? jrpc_string(cursor) : NULL;
        if (json_is_string(cursor) && arg == NULL)
            return jrpc_error(id, JRPC_INVALID_PARAMS, "Invalid params: unknown cursor");
    } else {
        arg = jrpc_string(params ? json_object_get(params, "taskId") : NULL);
        if (arg == NULL)
            return jrpc_error(id, JRPC_INVALID_PARAMS,
                              "Invalid params: taskId must be a string (the task's id)");
    }
    mcp_call *c = call_new(s, id, b);
    c->cancel = s->task_ops->abandon;
    c->cancel_ctx = s->task_ctx;
    if (list)
        s->task_ops->list(s->task_ctx, c, arg);
    else if (jrpc_method_is(m, "tasks/get"))
        s->task_ops->get(s->task_ctx, c, arg);
    else if (jrpc_method_is(m, "tasks/result"))
        s->task_ops->result(s->task_ctx, c, arg);
    else
        s->task_ops->cancel(s->task_ctx, c, arg);
    return NULL;
}

/* Returns a reply to send now, or NULL when the call went to its tool. */
static json_t *handle_tools_call(mcp_session *s, json_t *id, json_t *params, batch *b)
{
    json_t *name = params ? json_object_get(params, "name") : NULL;
    if (!json_is_string(name))
        return jrpc_error(id, JRPC_INVALID_PARAMS, "Invalid params: tools/call needs params.name");
    const char *tool_name = jrpc_string(name);
    const tool_def *tool = tool_name ? tools_find(s->tools, tool_name) : NULL;
    if (tool == NULL) {
        char *shown = jrpc_text_shown(json_string_value(name), json_string_length(name));
        json_t *e = jrpc_error(id, JRPC_INVALID_PARAMS, "Unknown tool: %s", shown);
        free(shown);
        return e;
    }
    json_t *args = json_object_get(params, "arguments");
    if (args != NULL && !json_is_null(args) && !json_is_object(args))
        return jrpc_error(id, JRPC_INVALID_PARAMS, "Invalid params: arguments must be an object");
    json_t *meta = json_object_get(params, "_meta");
    json_t *token = json_is_object(meta) ? json_object_get(meta, "progressToken") : NULL;
    if (token != NULL && !json_is_string(token) && !jrpc_is_number(token))
        return jrpc_error(id, JRPC_INVALID_PARAMS,
                          "Invalid params: _meta.progressToken must be a string or a number");
    /* A server that has not declared tasks handles the call normally,
     * ignoring params.task (2025-11-25, tasks). */
    json_t *task = mcp_session_tasks_on(s) ? json_object_get(params, "task") : NULL;
    if (task != NULL && !json_is_object(task))
        return jrpc_error(id, JRPC_INVALID_PARAMS, "Invalid params: task must be an object");
    json_t *ttl = task ? json_object_get(task, "ttl") : NULL;
    if (ttl != NULL && !json_is_null(ttl) && (!json_is_number(ttl) || json_number_value(ttl) < 0))
        return jrpc_error(id, JRPC_INVALID_PARAMS,
                          "Invalid params: task.ttl must be a number of milliseconds");
    if (task != NULL && !tool->task_support) {
        char *shown = jrpc_text_shown(json_string_value(name), json_string_length(name));
        json_t *e = jrpc_error(id, JRPC_METHOD_NOT_FOUND,
                               "Method not found: tool %s cannot run as a task "
                               "(execution.taskSupport is forbidden); call it without params.task",
                               shown);
        free(shown);
        return e;
    }

    mcp_call *c = call_new(s, id, b);
    c->progress_token = token ? json_incref(token) : NULL;
    c->task = task ? json_incref(task) : NULL;
    c->cancel = tool->cancel;
    c->cancel_ctx = tool->tool_ctx;
    json_t *empty = NULL;
    if (!json_is_object(args))
        args = empty = json_object();
    tool->start(tool->tool_ctx, c, args);
    json_decref(empty);
    return NULL;
}

static void handle_cancelled(mcp_session *s, json_t *params)
{
    json_t *rid = params ? json_object_get(params, "requestId") : NULL;
    if (rid == NULL)
        return;
    mcp_call *c = find_call(s, rid);
    if (c == NULL) {
        log_msg(LOG_DEBUG, "cancel for a request that is not running: ignored");
        return;
    }
    json_t *reason = json_object_get(params, "reason");
    log_msg(LOG_INFO, "request cancelled by the client%s%s", json_is_string(reason) ? ": " : "",
            json_is_string(reason) ? json_string_value(reason) : "");
    c->cancelled = 1;
    if (c->cancel)
        c->cancel(c->cancel_ctx, c);
}

static void dispatch_notification(mcp_session *s, const jrpc_msg *m)
{
    if (jrpc_method_is(m, "notifications/initialized"))
        s->client_initialized = 1;
    else if (jrpc_method_is(m, "notifications/cancelled"))
        handle_cancelled(s, json_is_object(m->params) ? m->params : NULL);
    else
        log_msg(LOG_DEBUG, "notification %s ignored", m->method);
}

/* Returns the reply to send, or NULL when there is none yet. */
static json_t *dispatch_request(mcp_session *s, const jrpc_msg *m, batch *b)
{
    json_t *id = m->id;
    json_t *params = json_is_object(m->params) ? m->params : NULL;
    if (m->params != NULL && params == NULL)
        return jrpc_error(id, JRPC_INVALID_PARAMS, "Invalid params: params must be an object");
    if (find_call(s, id) != NULL)
        return jrpc_error(id, JRPC_INVALID_REQUEST,
                          "Invalid Request: id is already in use by a request in flight");
    if (jrpc_method_is(m, "ping"))
        return jrpc_result(id, json_object());
    if (jrpc_method_is(m, "initialize"))
        return handle_initialize(s, id, params);
    if (s->version == NULL)
        return jrpc_error(id, JRPC_INVALID_REQUEST,
                          "Invalid Request: server not initialized; send initialize first");
    if (jrpc_method_is(m, "tools/list"))
        return handle_tools_list(s, id, params);
    if (jrpc_method_is(m, "tools/call"))
        return handle_tools_call(s, id, params, b);
    if (mcp_session_tasks_on(s) &&
        (jrpc_method_is(m, "tasks/get") || jrpc_method_is(m, "tasks/result") ||
         jrpc_method_is(m, "tasks/list") || jrpc_method_is(m, "tasks/cancel")))
        return handle_tasks(s, m, params, b);
    if (jrpc_method_is(m, "prompts/list"))
        return jrpc_result(id, json_pack("{s:o}", "prompts", prompts_list()));
    if (jrpc_method_is(m, "prompts/get"))
        return handle_prompts_get(id, params);
    if (jrpc_method_is(m, "logging/setLevel")) {
        json_t *reply = handle_set_level(s, id, params);
        if (json_object_get(reply, "result") != NULL) {
            /* The reply goes first, then the record that confirms it. */
            emit(s, b, reply);
            log_msg(LOG_INFO, "log level set to %s",
                    json_string_value(json_object_get(params, "level")));
            return NULL;
        }
        return reply;
    }
    char *shown = jrpc_text_shown(m->method, m->method_len);
    json_t *e = jrpc_error(id, JRPC_METHOD_NOT_FOUND, "Method not found: %s", shown);
    free(shown);
    return e;
}

static void handle_element(mcp_session *s, json_t *value, batch *b)
{
    jrpc_msg m;
    json_t *err;
    switch (jrpc_classify(value, &m, &err)) {
    case JRPC_INVALID:
        log_msg(LOG_WARNING, "invalid message: %s",
                json_string_value(json_object_get(json_object_get(err, "error"), "message")));
        emit(s, b, err);
        break;
    case JRPC_RESPONSE:
        log_msg(LOG_DEBUG, "response from the client ignored (no request was sent)");
        break;
    case JRPC_NOTIFICATION:
        dispatch_notification(s, &m);
        break;
    case JRPC_REQUEST: {
        json_t *reply = dispatch_request(s, &m, b);
        if (reply)
            emit(s, b, reply);
        break;
    }
    }
}

void mcp_session_handle_line(mcp_session *s, const char *line, size_t len)
{
    /* Blank lines between messages are tolerated, not errors. */
    if (blank_line(line, len))
        return;
    json_t *err = NULL;
    char *why = NULL;
    json_t *value = jrpc_decode(line, len, &err, &why);
    if (value == NULL) {
        /* Never the text of the line: it may be a prompt. */
        log_msg(LOG_WARNING, "malformed line of %zu bytes: %s", len, why);
        free(why);
        s->send(s->send_ctx, err);
        return;
    }
    if (!json_is_array(value)) {
        handle_element(s, value, NULL);
        json_decref(value);
        return;
    }
    if (s->version == NULL || strcmp(s->version, "2025-03-26") != 0) {
        s->send(s->send_ctx, jrpc_error(NULL, JRPC_INVALID_REQUEST,
                                        "Invalid Request: batches are only accepted under "
                                        "protocol version 2025-03-26"));
    } else if (json_array_size(value) == 0) {
        s->send(s->send_ctx,
                jrpc_error(NULL, JRPC_INVALID_REQUEST, "Invalid Request: empty batch"));
    } else {
        batch *b = xcalloc(1, sizeof(*b));
        b->replies = json_array();
        size_t i2;
        json_t *el;
        json_array_foreach(value, i2, el)
        {
            handle_element(s, el, b);
        }
        b->closed = 1;
        batch_maybe_send(s, b);
    }
    json_decref(value);
}

void mcp_session_handle_oversized(mcp_session *s, size_t len, size_t max)
{
    log_msg(LOG_WARNING, "dropped a line of %zu bytes (limit %zu)", len, max);
    s->send(s->send_ctx,
            jrpc_error(NULL, JRPC_INVALID_REQUEST,
                       "Invalid Request: line of %zu bytes exceeds the limit of %zu bytes "
                       "(--max-line-bytes)",
                       len, max));
}

void mcp_session_cancel_all(mcp_session *s)
{
    mcp_call *next;
    for (mcp_call *c = s->calls; c; c = next) {
        next = c->next; /* cancel may finish, and free, c */
        if (c->cancelled)
            continue;
        c->cancelled = 1;
        if (c->cancel)
            c->cancel(c->cancel_ctx, c);
    }
}

/* ---- calls ---- */

json_t *mcp_call_id(const mcp_call *c)
{
    return c->id;
}

const char *mcp_call_client(const mcp_call *c)
{
    return c->session->client_name;
}

int mcp_call_structured(const mcp_call *c)
{
    const char *v = c->session->version;
    return v != NULL && strcmp(v, "2025-06-18") >= 0;
}

int mcp_call_cancelled(const mcp_call *c)
{
    return c->cancelled;
}

int mcp_call_has_progress(const mcp_call *c)
{
    return c->progress_token != NULL;
}

json_t *mcp_call_task(const mcp_call *c)
{
    return c->task;
}

json_t *mcp_call_progress_token(const mcp_call *c)
{
    return c->progress_token;
}

mcp_session *mcp_call_session(const mcp_call *c)
{
    return c->session;
}

void mcp_call_set_data(mcp_call *c, void *data)
{
    c->data = data;
}

void *mcp_call_data(const mcp_call *c)
{
    return c->data;
}

void mcp_call_progress(mcp_call *c, const char *message)
{
    if (c->progress_token == NULL || c->cancelled)
        return;
    c->progress += 1;
    char *line = one_line(message, PROGRESS_MESSAGE_MAX);
    if (c->session->behind) {
        free(c->pending);
        c->pending = line;
        return;
    }
    send_progress(c, line);
    free(line);
}

static void call_end(mcp_call *c, json_t *reply);

void mcp_call_finish(mcp_call *c, json_t *result)
{
    call_end(c, c->cancelled ? (json_decref(result), NULL) : jrpc_result(c->id, result));
}

void mcp_call_fail(mcp_call *c, int code, const char *message)
{
    call_end(c, c->cancelled ? NULL : jrpc_error(c->id, code, "%s", message));
}

/* Sends reply (NULL: none, the call was cancelled) and frees the call. */
static void call_end(mcp_call *c, json_t *reply)
{
    mcp_session *s = c->session;
    mcp_call **pp = &s->calls;
    while (*pp != c)
        pp = &(*pp)->next;
    *pp = c->next;
    s->ncalls--;
    if (reply)
        emit(s, c->batch, reply);
    if (c->batch) {
        c->batch->pending--;
        batch_maybe_send(s, c->batch);
    }
    json_decref(c->id);
    json_decref(c->progress_token);
    json_decref(c->task);
    free(c->pending);
    free(c);
    if (s->ncalls == 0 && s->on_idle)
        s->on_idle(s->idle_ctx);
}
