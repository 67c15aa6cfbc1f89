/* Calls as tasks: background calls, codex_wait, codex_cancel, MCP tasks. */
#include "tasks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "budget.h"
#include "jsonrpc.h"
#include "limits.h"
#include "log.h"
#include "util.h"

typedef enum { T_QUEUED, T_RUNNING, T_DONE } task_state;

typedef struct task task;
typedef struct watch watch;

/* A request waiting on a task: codex_wait, codex_cancel, tasks/result,
 * tasks/cancel. It hears of progress and of the end (then it is detached
 * from the task, whose result it has copied if it needs it). */
struct watch {
    task *t;
    void (*progress)(watch *w, const char *line);
    void (*done)(watch *w);
    void *ctx;
    watch *next;
};

struct task {
    tasks *owner;
    char id[33];
    const char *tool;
    job *job; /* while queued or running */
    task_state state;
    const char *end;   /* completed, failed, cancelled, timed_out, interrupted */
    char *session_id;  /* as codex named it, or as the call asked */
    char *session_key; /* the same, as compared */
    char *progress;    /* the latest progress line */
    json_t *obj;       /* the result object, once done */
    int is_error;
    size_t obj_bytes;
    int64_t created_ms, updated_ms, ttl_ms, done_ms;
    uint64_t seq; /* creation order, for tasks/list cursors */
    int visible;  /* has an id the client knows: background or MCP task */
    int mcp;      /* an MCP task */
    int stopping; /* cancelled (or the server stops): the end is cancelled */
    int interrupted;
    int structured;
    mcp_session *session;  /* an MCP task: where its progress and status go */
    json_t *token;         /* its progress token, or NULL */
    json_int_t progress_n; /* the last progress number sent for it */
    mcp_call *origin;      /* the call that started it, while it waits */
    int answer_on_session; /* wait_s passed: answer once the session is named */
    uv_timer_t timer;      /* wait_s, then expiry */
    int timer_open;
    watch *watches;
    task *next;
};

struct tasks {
    uv_loop_t *loop;
    jobs *jobs;
    store *store;
    int64_t ttl_ms;
    task *list; /* every task, oldest first */
    task *tail;
    size_t count, running;
    size_t result_bytes;
    uint64_t seq;
    void (*on_idle)(void *ctx);
    void *idle_ctx;
    int closing;
};

tasks *tasks_new(uv_loop_t *loop, jobs *j, store *st, double ttl_s)
{
    tasks *t = xcalloc(1, sizeof(*t));
    t->loop = loop;
    t->jobs = j;
    t->store = st;
    t->ttl_ms = (int64_t)(ttl_s * 1000.0 + 0.5);
    return t;
}

const policy *tasks_policy(const tasks *t)
{
    return jobs_policy(t->jobs);
}

size_t tasks_running(const tasks *t)
{
    return t->running;
}

void tasks_on_idle(tasks *t, void (*fn)(void *ctx), void *ctx)
{
    t->on_idle = fn;
    t->idle_ctx = ctx;
}

/* ---- a task's record ---- */

static json_t *iso_time(int64_t ms)
{
    char out[ISO_TIME_LEN];
    iso_time_ms(ms, out);
    return json_string(out);
}

/* The status the registry and codex_wait use. */
static const char *status_name(const task *tk)
{
    if (tk->state == T_QUEUED)
        return "queued";
    if (tk->state == T_RUNNING)
        return "running";
    if (tk->interrupted)
        return "interrupted";
    if (strcmp(tk->end, "cancelled") == 0)
        return "cancelled";
    return tk->is_error ? "failed" : "completed";
}

/* The status an MCP client sees (2025-11-25: isError is failed). */
static const char *mcp_status(const task *tk)
{
    const char *s = status_name(tk);
    if (strcmp(s, "queued") == 0 || strcmp(s, "running") == 0)
        return "working";
    if (strcmp(s, "interrupted") == 0)
        return "failed";
    return s;
}

static char *status_message(const task *tk)
{
    if (tk->state == T_DONE) {
        const char *err = json_string_value(json_object_get(tk->obj, "error"));
        return err ? one_line(err, PROGRESS_MESSAGE_MAX) : xstrdup(status_name(tk));
    }
    if (tk->progress)
        return xstrdup(tk->progress);
    return xstrdup(tk->state == T_QUEUED ? "queued" : "running");
}

static json_t *task_json(const task *tk)
{
    char *msg = status_message(tk);
    json_t *v =
        json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:I}", "taskId", tk->id, "status", mcp_status(tk),
                  "statusMessage", msg, "createdAt", iso_time(tk->created_ms), "lastUpdatedAt",
                  iso_time(tk->updated_ms), "ttl", (json_int_t)tk->ttl_ms, "pollInterval",
                  (json_int_t)TASK_POLL_INTERVAL_MS);
    free(msg);
    return v;
}

/* The registry's copy, for codex_wait in other processes; result is the
 * finished result's JSON text (NULL while it runs). */
static void record(task *tk, const char *result)
{
    tasks *t = tk->owner;
    if (!tk->visible || t->store == NULL)
        return;
    char *msg = status_message(tk);
    /* A running task is kept however long it runs (it is its server's to
     * end); a finished one for its TTL after the end. */
    int64_t expires = tk->state == T_DONE ? tk->done_ms + tk->ttl_ms
                                          : tk->created_ms + 2 * (int64_t)TASK_TTL_MAX_S * 1000;
    store_task row = {tk->id,       tk->tool,       tk->session_id, status_name(tk), msg,    result,
                      tk->is_error, tk->created_ms, tk->updated_ms, tk->ttl_ms,      expires};
    store_task_put(t->store, &row);
    free(msg);
}

static void notify_status(task *tk)
{
    if (!tk->mcp || tk->session == NULL)
        return;
    mcp_session_notify(tk->session, "notifications/tasks/status", task_json(tk));
}

static void timer_closed(uv_handle_t *h)
{
    task *tk = h->data;
    free(tk->session_id);
    free(tk->session_key);
    free(tk->progress);
    json_decref(tk->obj);
    json_decref(tk->token);
    free(tk);
}

static void unlink_task(task *tk)
{
    tasks *t = tk->owner;
    task *prev = NULL;
    for (task *p = t->list; p; prev = p, p = p->next) {
        if (p != tk)
            continue;
        if (prev)
            prev->next = p->next;
        else
            t->list = p->next;
        if (t->tail == p)
            t->tail = prev;
        break;
    }
    t->count--;
    t->result_bytes -= tk->obj_bytes;
}

/* Forgets a finished task (expired, or room was needed). */
static void task_free(task *tk)
{
    unlink_task(tk);
    uv_close((uv_handle_t *)&tk->timer, timer_closed);
}

static void expired(uv_timer_t *h)
{
    task_free(h->data);
}

/* Keeps the tasks and their results within bounds: the oldest finished
 * ones go first (the registry keeps them for their TTL). */
static void make_room(tasks *t)
{
    task *next;
    for (task *tk = t->list;
         tk && (t->count >= TASKS_MAX || t->result_bytes > TASK_RESULTS_MAX_BYTES); tk = next) {
        next = tk->next;
        if (tk->state == T_DONE && tk->origin == NULL && tk->watches == NULL)
            task_free(tk);
    }
}

static task *find_visible(tasks *t, const char *id)
{
    for (task *tk = t->list; tk; tk = tk->next)
        if (tk->visible && strcmp(tk->id, id) == 0)
            return tk;
    return NULL;
}

static void task_id(char out[33])
{
    unsigned char raw[16];
    if (uv_random(NULL, NULL, raw, sizeof(raw), 0, NULL) != 0) {
        /* No entropy source at all: the id is still unique, if guessable. */
        uint64_t a = (uint64_t)now_unix_ms(), b = (uint64_t)(uintptr_t)raw ^ (uint64_t)clock();
        memcpy(raw, &a, 8);
        memcpy(raw + 8, &b, 8);
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        (void)snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* ---- answers ---- */

/* The answer of a call whose turn is not done. */
/* What a task not done yet answers, for a call or for codex_wait. */
static json_t *pending_obj(const char *id, const char *status, const char *session_id,
                           const char *progress)
{
    json_t *obj = json_pack("{s:b, s:s}", "success", 1, "status", status);
    if (session_id)
        json_object_set_new(obj, "SESSION_ID", json_string(session_id));
    json_object_set_new(obj, "task", json_string(id));
    if (progress)
        json_object_set_new(obj, "progress", json_string(progress));
    return obj;
}

static json_t *running_obj(const task *tk)
{
    json_t *obj = pending_obj(tk->id, status_name(tk), tk->session_id, tk->progress);
    char *msg = xasprintf("Codex is still working on this in the background. Call codex_wait with "
                          "task \"%s\" to get the result (codex_cancel stops it).",
                          tk->id);
    json_object_set_new(obj, "message", json_string(msg));
    free(msg);
    return obj;
}

static void answer_origin_running(task *tk)
{
    mcp_call *c = tk->origin;
    tk->origin = NULL;
    tk->answer_on_session = 0;
    mcp_call_set_data(c, NULL);
    mcp_call_finish(c, codex_result_wrap(running_obj(tk), 0, tk->structured));
}

/* ---- the job's reports ---- */

static void on_progress(void *ctx, const char *message)
{
    task *tk = ctx;
    free(tk->progress);
    tk->progress = one_line(message, PROGRESS_MESSAGE_MAX);
    if (tk->origin && mcp_call_has_progress(tk->origin))
        mcp_call_progress(tk->origin, message);
    else if (tk->mcp && tk->token && tk->session)
        mcp_session_task_progress(tk->session, tk->token, ++tk->progress_n, message, tk->id);
    watch *next;
    for (watch *w = tk->watches; w; w = next) {
        next = w->next;
        if (w->progress)
            w->progress(w, tk->progress);
    }
}

static void on_started(void *ctx, const char *session_id)
{
    task *tk = ctx;
    tk->updated_ms = now_unix_ms();
    if (session_id == NULL) {
        tk->state = T_RUNNING;
        notify_status(tk);
    } else {
        free(tk->session_id);
        free(tk->session_key);
        tk->session_id = xstrdup(session_id);
        tk->session_key = session_id_key(session_id);
        if (tk->answer_on_session && tk->origin)
            answer_origin_running(tk);
    }
    record(tk, NULL);
}

static void idle_check(tasks *t)
{
    if (t->running == 0 && t->on_idle)
        t->on_idle(t->idle_ctx);
}

static void on_done(void *ctx, json_t *result, const char *status, const char *session_id)
{
    task *tk = ctx;
    tasks *t = tk->owner;
    tk->job = NULL;
    tk->state = T_DONE;
    tk->end = tk->interrupted ? "interrupted" : tk->stopping ? "cancelled" : status;
    tk->done_ms = tk->updated_ms = now_unix_ms();
    if (session_id && tk->session_id == NULL) {
        tk->session_id = xstrdup(session_id);
        tk->session_key = session_id_key(session_id);
    }
    tk->is_error = json_is_true(json_object_get(result, "isError"));
    json_t *sc = json_object_get(result, "structuredContent");
    if (json_is_object(sc)) {
        tk->obj = json_incref(sc);
    } else {
        json_t *text =
            json_object_get(json_array_get(json_object_get(result, "content"), 0), "text");
        tk->obj = json_is_string(text) ? json_loads(json_string_value(text), 0, NULL) : NULL;
        if (!json_is_object(tk->obj)) {
            json_decref(tk->obj);
            tk->obj = json_pack("{s:b, s:s}", "success", 0, "error", "the result was lost");
        }
    }
    if (tk->interrupted) {
        /* Its result says what happened and how to go on. */
        char *err =
            xasprintf("interrupted: the codexmcp server stopped while this task ran%s%s%s",
                      tk->session_id ? "; resume it by calling codex with SESSION_ID \"" : "",
                      tk->session_id ? tk->session_id : "", tk->session_id ? "\"" : "");
        json_object_set_new(tk->obj, "success", json_false());
        json_object_set_new(tk->obj, "error", json_string(err));
        free(err);
        tk->is_error = 1;
    }
    char *text = json_dumps(tk->obj, JSON_COMPACT);
    tk->obj_bytes = text ? strlen(text) : 0;
    t->result_bytes += tk->obj_bytes;
    t->running--;

    if (tk->origin) {
        mcp_call *c = tk->origin;
        tk->origin = NULL;
        mcp_call_set_data(c, NULL);
        mcp_call_finish(c, result);
    } else {
        json_decref(result);
    }
    record(tk, text);
    free(text);
    notify_status(tk);
    /* Every watch is told once and detached (it may finish its request). */
    while (tk->watches) {
        watch *w = tk->watches;
        tk->watches = w->next;
        w->next = NULL;
        w->done(w);
    }
    if (!tk->visible || t->closing) {
        task_free(tk);
    } else {
        json_decref(tk->token); /* progress ends with the task */
        tk->token = NULL;
        uv_timer_start(&tk->timer, expired, (uint64_t)tk->ttl_ms, 0);
        make_room(t);
    }
    idle_check(t);
}

static const job_sink sink = {on_progress, on_started, on_done};

/* ---- running a call ---- */

static void wait_passed(uv_timer_t *h)
{
    task *tk = h->data;
    if (tk->origin == NULL || tk->state == T_DONE)
        return;
    /* The answer names the session, so it can be resumed or asked about;
     * a turn still in the queue has none yet, and says so. */
    if (tk->session_id || tk->state == T_QUEUED || tk->answer_on_session) {
        answer_origin_running(tk);
        return;
    }
    /* Codex names it within a second of starting; if it does not, the
     * answer goes without it rather than hold the call. */
    tk->answer_on_session = 1;
    uv_timer_start(&tk->timer, wait_passed, TASK_SESSION_WAIT_MS, 0);
}

static int64_t ttl_of(tasks *t, json_t *task_params)
{
    json_t *ttl = json_object_get(task_params, "ttl");
    if (!json_is_number(ttl))
        return t->ttl_ms;
    double ms = json_number_value(ttl);
    double max = (double)TASK_TTL_MAX_S * 1000.0;
    return (int64_t)(ms > max ? max : ms < 1000 ? 1000 : ms);
}

/* A new task for call, in the list and counted as running; its call is
 * answered at once if it asked for an MCP task, else it waits. */
static task *task_new(tasks *t, mcp_call *call, const char *tool, const char *session_id,
                      double wait_s)
{
    task *tk = xcalloc(1, sizeof(*tk));
    tk->owner = t;
    task_id(tk->id);
    tk->tool = tool;
    tk->created_ms = tk->updated_ms = now_unix_ms();
    tk->ttl_ms = t->ttl_ms;
    tk->seq = ++t->seq;
    tk->structured = mcp_call_structured(call);
    if (session_id) {
        tk->session_id = xstrdup(session_id);
        tk->session_key = session_id_key(session_id);
    }
    uv_timer_init(t->loop, &tk->timer);
    tk->timer.data = tk;
    json_t *task_params = mcp_call_task(call);
    make_room(t);
    if (t->tail)
        t->tail->next = tk;
    else
        t->list = tk;
    t->tail = tk;
    t->count++;
    t->running++;
    if (task_params) {
        tk->visible = tk->mcp = 1;
        tk->ttl_ms = ttl_of(t, task_params);
        tk->session = mcp_call_session(call);
        json_t *token = mcp_call_progress_token(call);
        tk->token = token ? json_incref(token) : NULL;
        /* The answer comes first; every later status is a notification. */
        mcp_call_finish(call, json_pack("{s:o}", "task", task_json(tk)));
    } else {
        tk->origin = call;
        mcp_call_set_data(call, tk);
        if (wait_s >= 0) {
            tk->visible = 1;
            uv_timer_start(&tk->timer, wait_passed, (uint64_t)(wait_s * 1000.0 + 0.5), 0);
        }
    }
    record(tk, NULL);
    return tk;
}

void tasks_run(tasks *t, mcp_call *call, codex_request *req)
{
    /* Read before the call may be answered (an MCP task's is at once). */
    job_opts o = {mcp_call_structured(call),
                  jobs_result_budget(t->jobs, mcp_call_client(call), req->max_result_chars)};
    task *tk = task_new(t, call, req->tool, req->session_id, req->wait_s);
    char *err = NULL;
    if (jobs_submit(t->jobs, req, &o, &sink, tk, &tk->job, &err) != 0) {
        on_done(tk, codex_result_error(err, tk->session_id, tk->structured), "failed",
                tk->session_id);
        free(err);
    }
}

void tasks_refuse(tasks *t, mcp_call *call, const char *tool, const char *error)
{
    if (mcp_call_task(call) == NULL) {
        mcp_call_finish(call, codex_result_error(error, NULL, mcp_call_structured(call)));
        return;
    }
    /* Asked for a task, the client gets one: it fails at once. */
    task *tk = task_new(t, call, tool, NULL, -1);
    on_done(tk, codex_result_error(error, NULL, tk->structured), "failed", NULL);
}

void tasks_cancel_call(tasks *t, mcp_call *call)
{
    task *tk = mcp_call_data(call);
    if (tk == NULL || tk->origin != call || tk->job == NULL)
        return;
    /* The client gave up on the call: the work was only for it. */
    tk->stopping = 1;
    jobs_cancel(t->jobs, tk->job);
}

static void stop_task(tasks *t, task *tk)
{
    if (tk->job == NULL || tk->stopping)
        return;
    tk->stopping = 1;
    jobs_cancel(t->jobs, tk->job);
}

void tasks_stop_all(tasks *t)
{
    task *next;
    for (task *tk = t->list; tk; tk = next) {
        next = tk->next;
        if (tk->state == T_DONE || tk->job == NULL)
            continue;
        /* One already being cancelled stays cancelled. */
        if (tk->visible && tk->origin == NULL && !tk->stopping)
            tk->interrupted = 1;
        stop_task(t, tk);
    }
}

void tasks_close(tasks *t)
{
    t->closing = 1;
    task *next;
    for (task *tk = t->list; tk; tk = next) {
        next = tk->next;
        task_free(tk);
    }
}

void tasks_free(tasks *t)
{
    free(t);
}

/* ---- watching ---- */

static void watch_add(task *tk, watch *w)
{
    w->t = tk;
    w->next = tk->watches;
    tk->watches = w;
}

static void watch_remove(watch *w)
{
    if (w->t == NULL)
        return;
    for (watch **pp = &w->t->watches; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    w->t = NULL;
    w->next = NULL;
}

/* ---- codex_wait ---- */

typedef struct {
    char *id;
    watch w;     /* on a task of this server */
    json_t *row; /* a task of another server (store.h), or JSON null: unknown */
    json_t *obj; /* the result object, once done */
    int is_error;
    const char *status;
    char *session_id;
    char *progress;
    int done;
    int looking; /* its registry read is out */
    struct waiter *owner;
} entry;

/* What a waiting request's data is (mcp_call_data), so that a cancel by
 * the client finds it. */
typedef enum { PENDING_WAIT = 1, PENDING_CANCEL, PENDING_LOOKUP } pending_kind;

typedef struct waiter {
    pending_kind kind;
    tasks *t;
    mcp_call *call;
    entry *e;
    size_t n;
    int single; /* task was a string: answer as the call would have */
    int any;
    int finished;
    int lookups; /* registry reads out */
    int expired; /* wait_s has passed */
    uv_timer_t deadline, poll;
    int handles;
} waiter;

static void entry_take(entry *e, task *tk)
{
    e->done = tk->state == T_DONE;
    e->status = status_name(tk);
    free(e->session_id);
    e->session_id = tk->session_id ? xstrdup(tk->session_id) : NULL;
    free(e->progress);
    e->progress = tk->progress ? xstrdup(tk->progress) : NULL;
    if (e->done) {
        /* Shared: a finished result does not change; an answer that cuts
         * it cuts a copy. */
        e->obj = json_incref(tk->obj);
        e->is_error = tk->is_error;
    }
}

static void entry_take_row(entry *e, json_t *row)
{
    json_decref(e->row);
    e->row = json_incref(row);
    if (json_is_null(row)) {
        e->done = 1;
        e->status = "unknown";
        return;
    }
    const char *st = json_string_value(json_object_get(row, "status"));
    static const char *const names[] = {"queued",    "running",     "completed", "failed",
                                        "cancelled", "interrupted", NULL};
    e->status = "failed";
    for (size_t i = 0; names[i]; i++)
        if (st && strcmp(st, names[i]) == 0)
            e->status = names[i];
    free(e->session_id);
    const char *sid = json_string_value(json_object_get(row, "SESSION_ID"));
    e->session_id = sid ? xstrdup(sid) : NULL;
    free(e->progress);
    const char *msg = json_string_value(json_object_get(row, "status_message"));
    e->progress = msg ? xstrdup(msg) : NULL;
    e->done = strcmp(e->status, "queued") != 0 && strcmp(e->status, "running") != 0;
    if (!e->done)
        return;
    json_t *obj = json_object_get(row, "result");
    e->is_error = json_is_true(json_object_get(row, "is_error"));
    if (json_is_object(obj)) {
        e->obj = json_deep_copy(obj);
    } else {
        /* Its server stopped before it ended. */
        char *err = xasprintf(
            "interrupted: the codexmcp server running this task (pid %" JSON_INTEGER_FORMAT
            ") stopped before it finished%s%s%s",
            json_integer_value(json_object_get(row, "server_pid")),
            sid ? "; resume it by calling codex with SESSION_ID \"" : "", sid ? sid : "",
            sid ? "\"" : "");
        e->obj = json_pack("{s:b, s:s}", "success", 0, "error", err);
        if (sid)
            json_object_set_new(e->obj, "SESSION_ID", json_string(sid));
        free(err);
        e->is_error = 1;
        e->status = "interrupted";
    }
}

static json_t *entry_running(const entry *e)
{
    return pending_obj(e->id, e->status, e->session_id, e->progress);
}

static char *unknown_error(const entry *e, const tasks *t)
{
    char *shown = one_line(e->id, NAME_SHOWN_MAX);
    char *msg = xasprintf("no task \"%s\" in this server%s (finished tasks are kept for their TTL, "
                          "%" PRId64 " s by default: --task-ttl)",
                          shown, t->store ? " or in the registry" : "", t->ttl_ms / 1000);
    free(shown);
    return msg;
}

static void waiter_closed(uv_handle_t *h)
{
    waiter *wt = h->data;
    if (--wt->handles > 0)
        return;
    for (size_t i = 0; i < wt->n; i++) {
        free(wt->e[i].id);
        json_decref(wt->e[i].row);
        json_decref(wt->e[i].obj);
        free(wt->e[i].session_id);
        free(wt->e[i].progress);
    }
    free(wt->e);
    free(wt);
}

/* Ends the wait: the call is answered (unless call is NULL: cancelled),
 * every watch removed; the waiter is freed once its timers are closed and
 * no registry read is out. */
static void waiter_end(waiter *wt, json_t *result)
{
    wt->finished = 1;
    for (size_t i = 0; i < wt->n; i++)
        watch_remove(&wt->e[i].w);
    uv_timer_stop(&wt->deadline);
    uv_timer_stop(&wt->poll);
    if (wt->call) {
        mcp_call_set_data(wt->call, NULL);
        mcp_call_finish(wt->call, result);
        wt->call = NULL;
    } else {
        json_decref(result);
    }
    if (wt->lookups == 0) {
        uv_close((uv_handle_t *)&wt->deadline, waiter_closed);
        uv_close((uv_handle_t *)&wt->poll, waiter_closed);
    }
}

static json_t *waiter_answer(waiter *wt)
{
    int structured = mcp_call_structured(wt->call);
    if (wt->single) {
        entry *e = &wt->e[0];
        if (strcmp(e->status, "unknown") == 0) {
            char *msg = unknown_error(e, wt->t);
            json_t *r = codex_result_error(msg, NULL, structured);
            free(msg);
            return r;
        }
        if (e->done)
            return codex_result_wrap(json_incref(e->obj), e->is_error, structured);
        return codex_result_wrap(entry_running(e), 0, structured);
    }
    size_t done = 0;
    json_t *list = json_array();
    for (size_t i = 0; i < wt->n; i++) {
        entry *e = &wt->e[i];
        json_t *el;
        if (strcmp(e->status, "unknown") == 0) {
            char *msg = unknown_error(e, wt->t);
            el = json_pack("{s:b, s:s, s:s, s:s}", "success", 0, "task", e->id, "status", "unknown",
                           "error", msg);
            free(msg);
        } else if (e->done) {
            el = json_pack("{s:s, s:s}", "task", e->id, "status", e->status);
            json_t *copy = json_deep_copy(e->obj);
            json_object_update(el, copy);
            json_decref(copy);
        } else {
            el = entry_running(e);
        }
        done += e->done;
        json_array_append_new(list, el);
    }
    json_t *obj = json_pack("{s:b, s:I, s:I, s:o}", "success", 1, "done", (json_int_t)done,
                            "pending", (json_int_t)(wt->n - done), "tasks", list);
    /* Several results must fit one answer: each gets its share of the
     * budget, cut as its own call's would be (the marks name its
     * transcript). */
    size_t budget = jobs_result_budget(wt->t->jobs, mcp_call_client(wt->call), 0);
    if (budget_chars(obj) > budget) {
        /* NOLINTNEXTLINE(clang-analyzer-core.DivideZero): n >= 1, tasks_wait refuses fewer */
        size_t share = budget > 200 * wt->n ? (budget - 200) / wt->n : BUDGET_MIN_CHARS;
        if (share < BUDGET_MIN_CHARS)
            share = BUDGET_MIN_CHARS;
        size_t i;
        json_t *el;
        json_array_foreach(list, i, el)
        {
            const char *tr = json_string_value(json_object_get(el, "transcript"));
            (void)budget_trim(el, share, tr, NULL);
        }
    }
    /* Too many for even their shortest form: the last finished ones say
     * only where they stand, and how to get them one by one. */
    for (size_t i = wt->n; i-- > 0 && budget_chars(obj) > budget;) {
        json_t *el = json_array_get(list, i);
        if (!wt->e[i].done || json_object_get(el, "omitted"))
            continue;
        json_t *stub = json_pack(
            "{s:s, s:s, s:O}", "task", wt->e[i].id, "status", wt->e[i].status, "success",
            json_object_get(el, "success") ? json_object_get(el, "success") : json_false());
        if (wt->e[i].session_id)
            json_object_set_new(stub, "SESSION_ID", json_string(wt->e[i].session_id));
        json_object_set_new(stub, "omitted",
                            json_string("this result did not fit with the others: call "
                                        "codex_wait with this task alone"));
        json_array_set_new(list, i, stub);
    }
    return codex_result_wrap(obj, 0, structured);
}

static void waiter_check(waiter *wt)
{
    if (wt->finished || wt->lookups > 0)
        return;
    size_t done = 0;
    for (size_t i = 0; i < wt->n; i++)
        done += wt->e[i].done;
    if (done == wt->n || (wt->any && done > 0))
        waiter_end(wt, waiter_answer(wt));
}

static void waiter_deadline(uv_timer_t *h)
{
    waiter *wt = h->data;
    wt->expired = 1;
    if (!wt->finished && wt->lookups == 0)
        waiter_end(wt, waiter_answer(wt));
}

static void entry_done(watch *w)
{
    entry *e = w->ctx;
    entry_take(e, w->t);
    w->t = NULL;
    waiter_check(e->owner);
}

static void entry_progress(watch *w, const char *line)
{
    entry *e = w->ctx;
    waiter *wt = e->owner;
    free(e->progress);
    e->progress = xstrdup(line);
    if (wt->call == NULL || !mcp_call_has_progress(wt->call))
        return;
    if (wt->n == 1) {
        mcp_call_progress(wt->call, line);
    } else {
        char *msg = xasprintf("task %.8s: %s", e->id, line);
        mcp_call_progress(wt->call, msg);
        free(msg);
    }
}

static void lookup_poll(uv_timer_t *h);

static void looked_up(void *ctx, json_t *answer, const char *error)
{
    entry *e = ctx;
    waiter *wt = e->owner;
    e->looking = 0;
    wt->lookups--;
    if (answer)
        entry_take_row(e, answer);
    else if (e->row == NULL) /* the registry cannot be read: say why */
        log_msg(LOG_WARNING, "codex_wait: %s", error);
    if (answer == NULL && e->row == NULL) {
        e->done = 1;
        e->status = "unknown";
    }
    json_decref(answer);
    if (wt->finished) {
        if (wt->lookups == 0) {
            uv_close((uv_handle_t *)&wt->deadline, waiter_closed);
            uv_close((uv_handle_t *)&wt->poll, waiter_closed);
        }
        return;
    }
    if (wt->lookups > 0)
        return;
    if (wt->expired) {
        waiter_end(wt, waiter_answer(wt));
        return;
    }
    waiter_check(wt);
    if (!wt->finished) {
        /* A task of another server: ask the registry again in a while. */
        for (size_t i = 0; i < wt->n; i++)
            if (!wt->e[i].done && wt->e[i].w.t == NULL && !uv_is_active((uv_handle_t *)&wt->poll))
                uv_timer_start(&wt->poll, lookup_poll, TASK_REGISTRY_POLL_MS, 0);
    }
}

static void lookup_poll(uv_timer_t *h)
{
    waiter *wt = h->data;
    for (size_t i = 0; i < wt->n; i++) {
        entry *e = &wt->e[i];
        if (e->done || e->w.t != NULL)
            continue;
        e->looking = 1;
        wt->lookups++;
        store_task_get(wt->t->store, e->id, looked_up, e);
    }
}

static json_t *wait_error(mcp_call *call, char *msg)
{
    json_t *r = codex_result_error(msg, NULL, mcp_call_structured(call));
    free(msg);
    return r;
}

static int task_id_arg(json_t *v)
{
    const char *s = json_is_string(v) ? jrpc_string(v) : NULL;
    return s != NULL && *s != '\0' && strlen(s) <= 64;
}

static const char *const wait_params[] = {"task", "wait_s", "mode", NULL};

void tasks_wait(tasks *t, mcp_call *call, json_t *args)
{
    char *bad = tools_unknown_param(args, wait_params);
    if (bad) {
        mcp_call_finish(call, wait_error(call, bad));
        return;
    }
    json_t *ids = json_object_get(args, "task");
    size_t n = json_is_array(ids) ? json_array_size(ids) : 1;
    int ok = json_is_string(ids) ? task_id_arg(ids) : json_is_array(ids) && n > 0;
    for (size_t i = 0; ok && json_is_array(ids) && i < n; i++)
        ok = task_id_arg(json_array_get(ids, i));
    if (!ok || n > CODEX_WAIT_TASKS_MAX) {
        mcp_call_finish(call,
                        wait_error(call, xasprintf("task must be a task id (a string from the "
                                                   "\"task\" of a result), or an array of 1 "
                                                   "to %u of them",
                                                   CODEX_WAIT_TASKS_MAX)));
        return;
    }
    json_t *ws = json_object_get(args, "wait_s");
    double wait_s = CODEX_WAIT_DEFAULT_S;
    if (ws && !json_is_null(ws)) {
        if (!json_is_number(ws) || !(json_number_value(ws) >= 0) ||
            json_number_value(ws) > CODEX_WAIT_MAX_S) {
            mcp_call_finish(call, wait_error(call, xasprintf("wait_s must be a number of seconds "
                                                             "from 0 to %u",
                                                             CODEX_WAIT_MAX_S)));
            return;
        }
        wait_s = json_number_value(ws);
    }
    json_t *mode = json_object_get(args, "mode");
    const char *m = json_is_string(mode) ? json_string_value(mode) : NULL;
    if (mode && !json_is_null(mode) &&
        (m == NULL || (strcmp(m, "all") != 0 && strcmp(m, "any") != 0))) {
        mcp_call_finish(call, wait_error(call, xstrdup("mode must be \"all\" (wait until every "
                                                       "task is done) or \"any\" (until one is)")));
        return;
    }
    waiter *wt = xcalloc(1, sizeof(*wt));
    wt->kind = PENDING_WAIT;
    wt->t = t;
    wt->call = call;
    wt->single = json_is_string(ids);
    wt->any = m && strcmp(m, "any") == 0;
    wt->n = n;
    wt->e = xcalloc(n, sizeof(*wt->e));
    uv_timer_init(t->loop, &wt->deadline);
    uv_timer_init(t->loop, &wt->poll);
    wt->deadline.data = wt->poll.data = wt;
    wt->handles = 2;
    mcp_call_set_data(call, wt);
    for (size_t i = 0; i < n; i++) {
        entry *e = &wt->e[i];
        e->owner = wt;
        e->id = xstrdup(json_string_value(wt->single ? ids : json_array_get(ids, i)));
        e->status = "unknown";
        e->w.ctx = e;
        e->w.done = entry_done;
        e->w.progress = entry_progress;
        task *tk = find_visible(t, e->id);
        if (tk) {
            entry_take(e, tk);
            if (!e->done)
                watch_add(tk, &e->w);
        } else if (t->store) {
            e->looking = 1;
            wt->lookups++;
        } else {
            e->done = 1;
        }
    }
    uv_timer_start(&wt->deadline, waiter_deadline, (uint64_t)(wait_s * 1000.0 + 0.5), 0);
    /* The reads go out after every entry is set up: an answer may come
     * back before the loop turns. */
    for (size_t i = 0; i < n; i++)
        if (wt->e[i].looking)
            store_task_get(t->store, wt->e[i].id, looked_up, &wt->e[i]);
    waiter_check(wt);
}

/* ---- codex_cancel, tasks/cancel, tasks/result ---- */

typedef struct canceller {
    pending_kind kind;
    tasks *t;
    mcp_call *call;
    int mcp;       /* tasks/cancel: answer the Task */
    int result;    /* tasks/result: answer the result */
    char *session; /* codex_cancel by SESSION_ID */
    size_t pending;
    size_t count;
    json_t *ids;
    watch *w;
    size_t nw;
} canceller;

static void canceller_free(canceller *c)
{
    free(c->w);
    free(c->session);
    json_decref(c->ids);
    free(c);
}

static json_t *related(json_t *result, const char *id)
{
    json_t *meta = json_object_get(result, "_meta");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(result, "_meta", meta);
    }
    json_object_set_new(meta, MCP_RELATED_TASK, json_pack("{s:s}", "taskId", id));
    return result;
}

static json_t *task_result(const task *tk, int structured)
{
    return related(codex_result_wrap(json_incref(tk->obj), tk->is_error, structured), tk->id);
}

static void cancel_answer(canceller *c, task *tk)
{
    mcp_call *call = c->call;
    c->call = NULL;
    if (call == NULL)
        return;
    mcp_call_set_data(call, NULL);
    if (c->result) {
        mcp_call_finish(call, task_result(tk, mcp_call_structured(call)));
    } else if (c->mcp) {
        mcp_call_finish(call, task_json(tk));
    } else {
        json_t *obj = json_pack("{s:b, s:s}", "success", 1, "status",
                                c->session ? "cancelled" : status_name(tk));
        if (c->session) {
            json_object_set_new(obj, "SESSION_ID", json_string(c->session));
            json_object_set_new(obj, "cancelled", json_integer((json_int_t)c->count));
            json_object_set(obj, "tasks", c->ids);
        } else {
            if (tk->session_id)
                json_object_set_new(obj, "SESSION_ID", json_string(tk->session_id));
            json_object_set_new(obj, "task", json_string(tk->id));
        }
        mcp_call_finish(call, codex_result_wrap(obj, 0, mcp_call_structured(call)));
    }
}

static void cancel_done(watch *w)
{
    canceller *c = w->ctx;
    task *tk = w->t;
    w->t = NULL;
    if (--c->pending > 0)
        return;
    cancel_answer(c, tk);
    canceller_free(c);
}

static canceller *canceller_new(tasks *t, mcp_call *call, size_t n)
{
    canceller *c = xcalloc(1, sizeof(*c));
    c->kind = PENDING_CANCEL;
    c->t = t;
    c->call = call;
    c->w = xcalloc(n ? n : 1, sizeof(*c->w));
    c->ids = json_array();
    mcp_call_set_data(call, c);
    return c;
}

/* A codex_cancel of a task this server does not have: the registry says
 * where it is. */
typedef struct {
    pending_kind kind;
    mcp_call *call; /* NULL: the client cancelled the request */
} lookup;

void tasks_abandon(tasks *t, mcp_call *call)
{
    (void)t;
    /* A request the client cancelled (a codex_wait, tasks/result or a
     * cancel waiting for its end): stop waiting. The work goes on. */
    pending_kind *kind = mcp_call_data(call);
    mcp_call_set_data(call, NULL);
    if (kind == NULL) {
        mcp_call_finish(call, json_object());
        return;
    }
    if (*kind == PENDING_LOOKUP) {
        ((lookup *)kind)->call = NULL;
        mcp_call_finish(call, json_object());
        return;
    }
    if (*kind == PENDING_WAIT) {
        waiter *wt = (waiter *)kind;
        wt->call = NULL;
        mcp_call_finish(call, json_object());
        waiter_end(wt, NULL);
        return;
    }
    canceller *c = (canceller *)kind;
    for (size_t i = 0; i < c->nw; i++)
        watch_remove(&c->w[i]);
    c->call = NULL;
    mcp_call_finish(call, json_object());
    canceller_free(c);
}

static void cancel_error(mcp_call *call, char *msg)
{
    mcp_call_finish(call, codex_result_error(msg, NULL, mcp_call_structured(call)));
    free(msg);
}

static void cancel_one(tasks *t, mcp_call *call, task *tk, int mcp)
{
    canceller *c = canceller_new(t, call, 1);
    c->mcp = mcp;
    c->pending = 1;
    c->nw = 1;
    c->w[0].ctx = c;
    c->w[0].done = cancel_done;
    watch_add(tk, &c->w[0]);
    stop_task(t, tk);
}

static void remote_cancel_answer(void *ctx, json_t *answer, const char *error)
{
    lookup *lk = ctx;
    mcp_call *call = lk->call;
    free(lk);
    if (call == NULL) {
        json_decref(answer);
        return;
    }
    mcp_call_set_data(call, NULL);
    char *msg;
    const char *id = json_string_value(json_object_get(answer, "task"));
    const char *st = json_string_value(json_object_get(answer, "status"));
    if (answer == NULL)
        msg = xasprintf("the task could not be looked up: %s", error);
    else if (json_is_null(answer))
        msg = xstrdup("no such task in this server or in the registry (finished tasks are "
                      "forgotten after their TTL)");
    else if (st && (strcmp(st, "running") == 0 || strcmp(st, "queued") == 0))
        msg = xasprintf("task %s runs in another codexmcp process (pid %" JSON_INTEGER_FORMAT
                        "): only that server can stop it. Call codex_cancel in the client "
                        "connected to it, or let it finish",
                        id, json_integer_value(json_object_get(answer, "server_pid")));
    else
        msg =
            xasprintf("task %s already ended (%s): there is nothing to cancel", id, st ? st : "?");
    json_decref(answer);
    mcp_call_finish(call, codex_result_error(msg, NULL, mcp_call_structured(call)));
    free(msg);
}

static const char *const cancel_params[] = {"task", "SESSION_ID", NULL};

void tasks_cancel(tasks *t, mcp_call *call, json_t *args)
{
    char *bad = tools_unknown_param(args, cancel_params);
    if (bad) {
        cancel_error(call, bad);
        return;
    }
    json_t *id = json_object_get(args, "task");
    json_t *sid = json_object_get(args, "SESSION_ID");
    if (json_is_null(id))
        id = NULL;
    if (json_is_null(sid) || (json_is_string(sid) && json_string_length(sid) == 0))
        sid = NULL;
    if ((id == NULL) == (sid == NULL)) {
        cancel_error(call, xstrdup("give task (a task id) or SESSION_ID (a session whose turn "
                                   "runs), one of the two"));
        return;
    }
    if (id) {
        if (!task_id_arg(id)) {
            cancel_error(call, xstrdup("task must be a task id: the \"task\" of a result"));
            return;
        }
        task *tk = find_visible(t, json_string_value(id));
        if (tk == NULL && t->store) {
            lookup *lk = xcalloc(1, sizeof(*lk));
            lk->kind = PENDING_LOOKUP;
            lk->call = call;
            mcp_call_set_data(call, lk);
            store_task_get(t->store, json_string_value(id), remote_cancel_answer, lk);
            return;
        }
        if (tk == NULL) {
            cancel_error(call, xstrdup("no such task in this server"));
            return;
        }
        if (tk->state == T_DONE) {
            cancel_error(call, xasprintf("task %s already ended (%s): there is nothing to cancel",
                                         tk->id, status_name(tk)));
            return;
        }
        cancel_one(t, call, tk, 0);
        return;
    }
    const char *s = json_is_string(sid) ? jrpc_string(sid) : NULL;
    if (s == NULL) {
        cancel_error(call, xstrdup("SESSION_ID must be a string: the SESSION_ID of a result"));
        return;
    }
    char *key = session_id_key(s);
    size_t n = 0;
    for (task *tk = t->list; tk; tk = tk->next)
        n += tk->state != T_DONE && tk->session_key && strcmp(tk->session_key, key) == 0;
    if (n == 0) {
        char *shown = one_line(s, NAME_SHOWN_MAX);
        cancel_error(
            call, xasprintf("no turn of session %s is running or waiting in this server", shown));
        free(shown);
        free(key);
        return;
    }
    canceller *c = canceller_new(t, call, n);
    c->session = xstrdup(s);
    c->pending = c->count = c->nw = n;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, as meant */
    task **stop = xcalloc(n, sizeof(*stop));
    size_t i = 0;
    for (task *tk = t->list; tk; tk = tk->next) {
        if (tk->state == T_DONE || tk->session_key == NULL || strcmp(tk->session_key, key) != 0)
            continue;
        if (tk->visible)
            json_array_append_new(c->ids, json_string(tk->id));
        c->w[i].ctx = c;
        c->w[i].done = cancel_done;
        watch_add(tk, &c->w[i]);
        stop[i++] = tk;
    }
    free(key);
    /* Every watch is in place before the first stop: a queued turn ends at
     * once (and the last end answers and frees c). A stopped task is only
     * freed after its end, which comes after every stop here. */
    for (i = 0; i < n; i++)
        stop_task(t, stop[i]);
    free(stop);
}

/* ---- MCP tasks ---- */

static task *mcp_find(tasks *t, mcp_call *c, const char *id)
{
    task *tk = find_visible(t, id);
    if (tk == NULL)
        mcp_call_fail(c, JRPC_INVALID_PARAMS,
                      "Failed to retrieve task: Task not found (it may have expired)");
    return tk;
}

static void op_get(void *ctx, mcp_call *c, const char *id)
{
    task *tk = mcp_find(ctx, c, id);
    if (tk)
        mcp_call_finish(c, task_json(tk));
}

static void op_result(void *ctx, mcp_call *c, const char *id)
{
    tasks *t = ctx;
    task *tk = mcp_find(t, c, id);
    if (tk == NULL)
        return;
    if (tk->state == T_DONE) {
        mcp_call_finish(c, task_result(tk, mcp_call_structured(c)));
        return;
    }
    canceller *w = canceller_new(t, c, 1);
    w->result = 1;
    w->pending = w->nw = 1;
    w->w[0].ctx = w;
    w->w[0].done = cancel_done;
    watch_add(tk, &w->w[0]);
}

#define CURSOR_PREFIX "tasks-after:"

static void op_list(void *ctx, mcp_call *c, const char *cursor)
{
    tasks *t = ctx;
    uint64_t after = 0;
    if (cursor) {
        size_t plen = strlen(CURSOR_PREFIX);
        char *end = NULL;
        if (strncmp(cursor, CURSOR_PREFIX, plen) == 0 && cursor[plen] >= '0' && cursor[plen] <= '9')
            after = strtoull(cursor + plen, &end, 10);
        if (end == NULL || *end != '\0' || after == 0 || after > t->seq) {
            mcp_call_fail(c, JRPC_INVALID_PARAMS, "Invalid params: unknown cursor");
            return;
        }
    }
    json_t *list = json_array();
    uint64_t last = 0;
    int more = 0;
    for (task *tk = t->list; tk; tk = tk->next) {
        if (!tk->visible || tk->seq <= after)
            continue;
        if (json_array_size(list) == TASKS_PAGE_SIZE) {
            more = 1;
            break;
        }
        json_array_append_new(list, task_json(tk));
        last = tk->seq;
    }
    json_t *result = json_pack("{s:o}", "tasks", list);
    if (more) {
        char next[64];
        (void)snprintf(next, sizeof(next), CURSOR_PREFIX "%" PRIu64, last);
        json_object_set_new(result, "nextCursor", json_string(next));
    }
    mcp_call_finish(c, result);
}

static void op_cancel(void *ctx, mcp_call *c, const char *id)
{
    tasks *t = ctx;
    task *tk = mcp_find(t, c, id);
    if (tk == NULL)
        return;
    if (tk->state == T_DONE) {
        char *msg =
            xasprintf("Cannot cancel task: already in terminal status '%s'", mcp_status(tk));
        mcp_call_fail(c, JRPC_INVALID_PARAMS, msg);
        free(msg);
        return;
    }
    cancel_one(t, c, tk, 1);
}

static void op_abandon(void *ctx, mcp_call *c)
{
    tasks_abandon(ctx, c);
}

static const mcp_task_ops mcp_ops = {op_get, op_result, op_list, op_cancel, op_abandon};

const mcp_task_ops *tasks_mcp_ops(void)
{
    return &mcp_ops;
}
