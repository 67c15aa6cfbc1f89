/* The app-server's turn as exec's event lines. */
#include "asmap.h"

#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "util.h"

void asmap_init(asmap *m)
{
    m->ids = json_object();
    m->next = 0;
    m->usage = NULL;
}

void asmap_free(asmap *m)
{
    json_decref(m->ids);
    json_decref(m->usage);
    m->ids = m->usage = NULL;
}

static char *dump_new(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(v);
    return s;
}

char *asmap_thread_started(const char *thread_id)
{
    return dump_new(json_pack("{s:s, s:s}", "type", "thread.started", "thread_id", thread_id));
}

/* "inProgress" -> "in_progress": exec's statuses are snake case. */
static json_t *snake(json_t *v)
{
    const char *s = json_string_value(v);
    if (s == NULL)
        return json_null();
    size_t n = strlen(s);
    char *out = xmalloc(2 * n + 1), *o = out;
    for (const char *p = s; *p; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            *o++ = '_';
            *o++ = (char)(*p - 'A' + 'a');
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    json_t *r = json_string(out);
    free(out);
    return r ? r : json_null();
}

/* A copy of src[key], or `dflt` (stolen) when it is missing. */
static json_t *field(json_t *src, const char *key, json_t *dflt)
{
    json_t *v = json_object_get(src, key);
    if (v == NULL)
        return dflt;
    json_decref(dflt);
    return json_deep_copy(v);
}

/* exec's id of an app-server item: item_N in the order first seen. */
static json_t *item_id(asmap *m, json_t *item)
{
    const char *id = json_string_value(json_object_get(item, "id"));
    json_t *known = id ? json_object_get(m->ids, id) : NULL;
    if (known)
        return json_incref(known);
    char name[32];
    (void)snprintf(name, sizeof(name), "item_%zu", m->next++);
    json_t *v = json_string(name);
    if (id)
        json_object_set(m->ids, id, v);
    return v;
}

static json_t *file_changes(json_t *changes)
{
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(changes, i, c)
    {
        json_t *kind = json_object_get(c, "kind");
        /* {"type":"add"} in the app-server, "add" in exec */
        json_t *k = json_is_object(kind) ? json_object_get(kind, "type") : kind;
        json_array_append_new(
            out, json_pack("{s:O?, s:O?}", "path", json_object_get(c, "path"), "kind", k));
    }
    return out;
}

static json_t *reasoning_text(json_t *summary)
{
    buf_t b;
    buf_init(&b, CODEX_LINE_MAX_BYTES); /* no longer than the line it came in */
    size_t i;
    json_t *part;
    json_array_foreach(summary, i, part)
    {
        const char *s = json_string_value(part);
        if (s == NULL)
            continue;
        if (b.len)
            buf_append(&b, "\n", 1);
        buf_append(&b, s, json_string_length(part));
    }
    json_t *t = json_stringn(b.data ? b.data : "", b.len);
    buf_free(&b);
    return t ? t : json_string("");
}

json_t *asmap_item(asmap *m, json_t *item)
{
    const char *type = json_string_value(json_object_get(item, "type"));
    if (type == NULL)
        return NULL;
    json_t *out;
    if (strcmp(type, "agentMessage") == 0) {
        out = json_pack("{s:s, s:o}", "type", "agent_message", "text",
                        field(item, "text", json_string("")));
    } else if (strcmp(type, "reasoning") == 0) {
        out = json_pack("{s:s, s:o}", "type", "reasoning", "text",
                        reasoning_text(json_object_get(item, "summary")));
    } else if (strcmp(type, "commandExecution") == 0) {
        json_t *agg = json_object_get(item, "aggregatedOutput");
        out = json_pack("{s:s, s:o, s:o, s:o, s:o}", "type", "command_execution", "command",
                        field(item, "command", json_string("")), "aggregated_output",
                        json_is_string(agg) ? json_deep_copy(agg) : json_string(""), "exit_code",
                        field(item, "exitCode", json_null()), "status",
                        snake(json_object_get(item, "status")));
    } else if (strcmp(type, "fileChange") == 0) {
        out = json_pack("{s:s, s:o, s:o}", "type", "file_change", "changes",
                        file_changes(json_object_get(item, "changes")), "status",
                        snake(json_object_get(item, "status")));
    } else if (strcmp(type, "mcpToolCall") == 0) {
        json_t *res = json_object_get(item, "result");
        json_t *result =
            json_is_object(res)
                ? json_pack("{s:o, s:o}", "content", field(res, "content", json_array()),
                            "structured_content", field(res, "structuredContent", json_null()))
                : json_null();
        out = json_pack(
            "{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "type", "mcp_tool_call", "server",
            field(item, "server", json_string("")), "tool", field(item, "tool", json_string("")),
            "arguments", field(item, "arguments", json_null()), "result", result, "error",
            field(item, "error", json_null()), "status", snake(json_object_get(item, "status")));
    } else if (strcmp(type, "webSearch") == 0) {
        /* exec flattens the provider's id next to its own (REFERENCE 1.3):
         * the object keeps the last, so only the query and action go. */
        json_t *action = field(item, "action", json_null());
        if (json_is_object(action)) /* "openPage" in the app-server, "open_page" in exec */
            json_object_set_new(action, "type", snake(json_object_get(action, "type")));
        out = json_pack("{s:s, s:o, s:o}", "type", "web_search", "query",
                        field(item, "query", json_string("")), "action", action);
    } else if (strcmp(type, "collabAgentToolCall") == 0) {
        json_t *states = field(item, "agentsStates", json_object());
        const char *k;
        json_t *st;
        json_object_foreach(states, k, st)
        {
            if (json_is_object(st)) /* "pendingInit" -> "pending_init" */
                json_object_set_new(st, "status", snake(json_object_get(st, "status")));
        }
        out = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "type", "collab_tool_call", "tool",
                        snake(json_object_get(item, "tool")), "sender_thread_id",
                        field(item, "senderThreadId", json_null()), "receiver_thread_ids",
                        field(item, "receiverThreadIds", json_array()), "prompt",
                        field(item, "prompt", json_null()), "agents_states", states, "status",
                        snake(json_object_get(item, "status")));
    } else {
        /* userMessage, plan, imageView, contextCompaction, …: exec does not
         * print them. */
        return NULL;
    }
    if (out == NULL)
        return NULL;
    /* exec's items start with their id */
    json_t *full = json_pack("{s:o}", "id", item_id(m, item));
    json_object_update(full, out);
    json_decref(out);
    return full;
}

/* exec's names for the thread's total usage (REFERENCE 1.6: cumulative). */
static json_t *usage_of(json_t *total)
{
    static const char *const names[][2] = {
        {"inputTokens", "input_tokens"},
        {"cachedInputTokens", "cached_input_tokens"},
        {"cacheWriteInputTokens", "cache_write_input_tokens"},
        {"outputTokens", "output_tokens"},
        {"reasoningOutputTokens", "reasoning_output_tokens"},
    };
    json_t *u = json_object();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *v = json_object_get(total, names[i][0]);
        json_object_set_new(u, names[i][1], json_is_integer(v) ? json_copy(v) : json_integer(0));
    }
    return u;
}

static char *item_line(asmap *m, const char *event, json_t *params, int started)
{
    json_t *item = json_object_get(params, "item");
    const char *type = json_string_value(json_object_get(item, "type"));
    /* exec shows these only when they are complete */
    if (started && type && (strcmp(type, "agentMessage") == 0 || strcmp(type, "reasoning") == 0))
        return NULL;
    json_t *mapped = asmap_item(m, item);
    if (mapped == NULL)
        return NULL;
    return dump_new(json_pack("{s:s, s:o}", "type", event, "item", mapped));
}

char *asmap_notification(asmap *m, const char *method, json_t *params)
{
    if (method == NULL || !json_is_object(params))
        return NULL;
    if (strcmp(method, "turn/started") == 0)
        return dump_new(json_pack("{s:s}", "type", "turn.started"));
    if (strcmp(method, "item/started") == 0)
        return item_line(m, "item.started", params, 1);
    if (strcmp(method, "item/completed") == 0)
        return item_line(m, "item.completed", params, 0);
    if (strcmp(method, "thread/tokenUsage/updated") == 0) {
        json_t *total = json_object_get(json_object_get(params, "tokenUsage"), "total");
        if (json_is_object(total)) {
            json_decref(m->usage);
            m->usage = usage_of(total);
        }
        return NULL;
    }
    if (strcmp(method, "error") == 0) {
        json_t *err = json_object_get(params, "error");
        json_t *msg = json_object_get(err, "message");
        json_t *details = json_object_get(err, "additionalDetails");
        if (!json_is_string(msg))
            return NULL;
        /* exec tells a retry as "Reconnecting... 1/2 (details)"; the
         * app-server keeps the details apart */
        if (json_is_true(json_object_get(params, "willRetry")) && json_is_string(details) &&
            json_string_length(details) > 0) {
            char *text = xasprintf("%s (%s)", json_string_value(msg), json_string_value(details));
            json_t *line = json_pack("{s:s, s:s}", "type", "error", "message", text);
            free(text);
            return dump_new(line);
        }
        return dump_new(json_pack("{s:s, s:O}", "type", "error", "message", msg));
    }
    if (strcmp(method, "warning") == 0) {
        json_t *msg = json_object_get(params, "message");
        if (!json_is_string(msg))
            return NULL;
        json_t *item = json_pack("{s:o, s:s, s:O}", "id", item_id(m, json_null()), "type", "error",
                                 "message", msg);
        return dump_new(json_pack("{s:s, s:o}", "type", "item.completed", "item", item));
    }
    if (strcmp(method, "turn/completed") == 0) {
        json_t *turn = json_object_get(params, "turn");
        const char *status = json_string_value(json_object_get(turn, "status"));
        if (status && strcmp(status, "completed") == 0)
            return dump_new(json_pack("{s:s, s:o}", "type", "turn.completed", "usage",
                                      m->usage ? json_deep_copy(m->usage) : usage_of(NULL)));
        if (status && strcmp(status, "failed") == 0) {
            json_t *msg = json_object_get(json_object_get(turn, "error"), "message");
            return dump_new(json_pack("{s:s, s:{s:O?}}", "type", "turn.failed", "error", "message",
                                      json_is_string(msg) ? msg : NULL));
        }
        return NULL; /* interrupted: the caller knows why it stopped */
    }
    return NULL;
}
