/* The `codex_sessions` tool. */
#include "tool_sessions.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "codex_args.h"
#include "jsonrpc.h"
#include "limits.h"
#include "mcp.h"
#include "util.h"

static struct {
    store *store;
    char *why;
    jobs *jobs;
} ctx;

static const char input_schema_json[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"cd\":{\"type\":\"string\",\"description\":\"Only sessions that worked in this directory "
    "or below it.\"},"
    "\"query\":{\"type\":\"string\",\"description\":\"Only sessions whose title (the start of "
    "the first prompt) or last message contains this text (case-insensitive).\"},"
    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200,\"default\":20,"
    "\"description\":\"At most this many sessions (or turns).\"},"
    "\"SESSION_ID\":{\"type\":\"string\",\"description\":\"Show this session and its turns "
    "instead of a list.\"}"
    "},\"additionalProperties\":false}";

static json_t *input_schema(void)
{
    return json_loads(input_schema_json, 0, NULL);
}

static json_t *annotations(void *tool_ctx)
{
    (void)tool_ctx;
    return json_pack("{s:s, s:b, s:b, s:b, s:b}", "title", "Codex sessions", "readOnlyHint", 1,
                     "destructiveHint", 0, "idempotentHint", 1, "openWorldHint", 0);
}

static int fail(mcp_call *call, char *msg)
{
    mcp_call_finish(call, codex_result_error(msg, NULL, mcp_call_structured(call)));
    free(msg);
    return -1;
}

/* An optional string argument without NUL bytes: 0 and *out (borrowed, or
 * NULL when absent or empty), or -1 after finishing the call. */
static int opt_string(mcp_call *call, json_t *args, const char *name, const char **out)
{
    json_t *v = json_object_get(args, name);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) || jrpc_string(v) == NULL)
        return fail(call, xasprintf("%s must be a string (without NUL characters)", name));
    if (*json_string_value(v))
        *out = json_string_value(v);
    return 0;
}

/* Drops the oldest rows of `key` (the last of sessions, newest first; the
 * first of turns, oldest first) until the result fits its budget. Each row
 * is measured once: a row costs its characters and a comma. */
static void fit(json_t *obj, const char *key, size_t max, int oldest_first)
{
    size_t total = budget_chars(obj);
    if (total <= max)
        return;
    json_t *rows = json_object_get(obj, key);
    size_t n = json_array_size(rows), dropped = 0;
    /* Room for the note, whose numbers are not known yet. */
    size_t note = 200 + strlen(key);
    while (dropped < n && total + note > max) {
        json_t *row = json_array_get(rows, oldest_first ? dropped : n - 1 - dropped);
        total -= budget_chars(row) + (n - dropped > 1);
        dropped++;
    }
    for (size_t i = 0; i < dropped; i++)
        json_array_remove(rows, oldest_first ? 0 : json_array_size(rows) - 1);
    json_object_set_new(obj, "trimmed",
                        json_sprintf("%zu of %zu %s left out to fit the result budget of %zu "
                                     "characters; ask with a smaller limit or a filter",
                                     dropped, n, key, max));
}

/* A read in progress: the registry answers on the loop. */
typedef struct {
    mcp_call *call;
    char *session_id;
} reading;

static void got_turns(void *ctx_, json_t *found, const char *error)
{
    reading *r = ctx_;
    mcp_call *call = r->call;
    if (found == NULL) {
        fail(call, xstrdup(error));
    } else if (json_is_null(found)) {
        char *shown = one_line(r->session_id, NAME_SHOWN_MAX);
        fail(call, xasprintf("no session %s in the registry of this state directory (codex may "
                             "still know it: the codex tool can resume it)",
                             shown));
        free(shown);
    } else {
        json_t *obj =
            json_pack("{s:b, s:O, s:O}", "success", 1, "session", json_object_get(found, "session"),
                      "turns", json_object_get(found, "turns"));
        fit(obj, "turns", jobs_result_budget(ctx.jobs, mcp_call_client(call), 0), 1);
        mcp_call_finish(call, codex_result_wrap(obj, 0, mcp_call_structured(call)));
    }
    json_decref(found);
    free(r->session_id);
    free(r);
}

static void got_sessions(void *ctx_, json_t *rows, const char *error)
{
    reading *r = ctx_;
    mcp_call *call = r->call;
    if (rows == NULL) {
        fail(call, xstrdup(error));
    } else {
        json_t *obj = json_pack("{s:b, s:o}", "success", 1, "sessions", rows);
        fit(obj, "sessions", jobs_result_budget(ctx.jobs, mcp_call_client(call), 0), 0);
        mcp_call_finish(call, codex_result_wrap(obj, 0, mcp_call_structured(call)));
    }
    free(r);
}

static void start(void *unused, mcp_call *call, json_t *args)
{
    (void)unused;
    static const char *const known[] = {"cd", "query", "limit", "SESSION_ID", NULL};
    char *unknown = tools_unknown_param(args, known);
    if (unknown) {
        fail(call, unknown);
        return;
    }
    const char *cd, *query, *session;
    if (opt_string(call, args, "cd", &cd) != 0 || opt_string(call, args, "query", &query) != 0 ||
        opt_string(call, args, "SESSION_ID", &session) != 0)
        return;
    unsigned limit = SESSIONS_LIMIT_DEFAULT;
    json_t *l = json_object_get(args, "limit");
    if (l != NULL && !json_is_null(l)) {
        if (!json_is_integer(l) || json_integer_value(l) < 1 ||
            json_integer_value(l) > SESSIONS_LIMIT_MAX) {
            fail(call, xasprintf("limit must be a whole number from 1 to %u", SESSIONS_LIMIT_MAX));
            return;
        }
        limit = (unsigned)json_integer_value(l);
    }
    if (ctx.store == NULL) {
        fail(call, xasprintf("the session registry is not available: %s", ctx.why));
        return;
    }
    reading *r = xcalloc(1, sizeof(*r));
    r->call = call;
    if (session) {
        r->session_id = xstrdup(session);
        store_session_turns(ctx.store, session, limit, got_turns, r);
    } else {
        /* A cd is compared as the path it resolves to, as calls record it. */
        char resolved[PATH_MAX];
        if (cd && realpath(cd, resolved) != NULL)
            cd = resolved;
        store_sessions(ctx.store, cd, query, limit, got_sessions, r);
    }
}

static const char output_schema_json[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"success\":{\"type\":\"boolean\"},"
    "\"sessions\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"
    "\"session\":{\"type\":\"object\"},"
    "\"turns\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"
    "\"error\":{\"type\":\"string\"},"
    "\"trimmed\":{\"type\":\"string\"}"
    "},\"required\":[\"success\"]}";

static json_t *output_schema(void)
{
    return json_loads(output_schema_json, 0, NULL);
}

static tool_def sessions_tool = {
    .name = "codex_sessions",
    .title = "Codex sessions",
    .description =
        "List the Codex sessions this server ran, newest first, to find a SESSION_ID again "
        "(after a context compaction or a restart) and continue it with the codex tool. Filter "
        "by cd (the project directory) or query (text in the title or last message). With "
        "SESSION_ID, show that session's turns: prompt, status, last message, usage and "
        "transcript file. Each session has: SESSION_ID, cwd, title, created_at, updated_at, "
        "turns, last_status, last_message, usage, transcript (of its latest turn).",
    .input_schema = input_schema,
    .output_schema = output_schema,
    .annotations = annotations,
    .start = start,
};

const tool_def *tool_sessions_def(store *s, const char *why, jobs *j)
{
    ctx.store = s;
    free(ctx.why);
    ctx.why = why ? xstrdup(why) : NULL;
    ctx.jobs = j;
    return &sessions_tool;
}
