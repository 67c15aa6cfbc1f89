/* The job runner: queue, limits, timers, cancel, results. */
#include "jobs.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "events.h"
#include "limits.h"
#include "log.h"
#include "util.h"

typedef enum { J_QUEUED, J_RUNNING, J_DONE } job_state;

typedef struct job {
    jobs *owner;
    mcp_call *call;
    codex_request req;
    char *codex_path;
    events_state ev;
    child *child;
    job_state state;
    int cancelled;
    char *stop_error; /* why we stopped it: time limit, idle limit */
    uv_timer_t deadline, idle, post_turn;
    int timers_open;
    long queue_pos_sent; /* last "queued: N ahead" sent; -1: none */
    struct job *next;
} job;

struct jobs {
    uv_loop_t *loop;
    jobs_config cfg;
    job *queue;   /* FIFO of J_QUEUED jobs */
    job *running; /* J_RUNNING jobs */
    unsigned nrunning;
};

void jobs_config_default(jobs_config *cfg)
{
    cfg->codex = NULL;
    cfg->max_parallel = MAX_PARALLEL_DEFAULT;
    cfg->timeout_s = 0;
    cfg->idle_timeout_s = 0;
    cfg->kill_grace_ms = KILL_GRACE_MS_DEFAULT;
}

jobs *jobs_new(uv_loop_t *loop, const jobs_config *cfg)
{
    jobs *j = xcalloc(1, sizeof(*j));
    j->loop = loop;
    j->cfg = *cfg;
    if (j->cfg.max_parallel == 0)
        j->cfg.max_parallel = 1;
    return j;
}

void jobs_free(jobs *j)
{
    free(j);
}

static void list_remove(job **head, job *jb)
{
    for (job **pp = head; *pp; pp = &(*pp)->next) {
        if (*pp == jb) {
            *pp = jb->next;
            jb->next = NULL;
            return;
        }
    }
}

static void list_append(job **head, job *jb)
{
    job **pp = head;
    while (*pp)
        pp = &(*pp)->next;
    jb->next = NULL;
    *pp = jb;
}

static void timer_closed(uv_handle_t *h)
{
    job *jb = h->data;
    if (--jb->timers_open > 0)
        return;
    events_free(&jb->ev);
    codex_request_free(&jb->req);
    free(jb->codex_path);
    free(jb->stop_error);
    free(jb);
}

/* Finishes the call (the reply is dropped if it was cancelled) and frees
 * the job once its timers are closed. */
static void job_finish(job *jb, json_t *result)
{
    jb->state = J_DONE;
    mcp_call_set_data(jb->call, NULL);
    mcp_call_finish(jb->call, result);
    jb->call = NULL;
    uv_close((uv_handle_t *)&jb->deadline, timer_closed);
    uv_close((uv_handle_t *)&jb->idle, timer_closed);
    uv_close((uv_handle_t *)&jb->post_turn, timer_closed);
}

static const char *session_key(const job *jb)
{
    return jb->req.session_id;
}

/* Another turn on this session is running: two writers corrupt a session. */
static int session_busy(const jobs *j, const char *key)
{
    if (key == NULL)
        return 0;
    for (const job *r = j->running; r; r = r->next) {
        if ((r->req.session_id && strcmp(r->req.session_id, key) == 0) ||
            (r->ev.thread_id && strcmp(r->ev.thread_id, key) == 0))
            return 1;
    }
    return 0;
}

static void progress(job *jb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(job *jb, const char *fmt, ...)
{
    if (jb->call == NULL || !mcp_call_has_progress(jb->call))
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    mcp_call_progress(jb->call, msg);
    free(msg);
}

/* ---- a running child ---- */

/* A time limit was hit: stop the child; the result will say `what`, and
 * that the session can be resumed. */
static void stop_child(job *jb, const char *what)
{
    uv_timer_stop(&jb->idle);
    uv_timer_stop(&jb->deadline);
    log_msg(LOG_WARNING, "stopping codex: %s", what);
    if (jb->stop_error == NULL)
        jb->stop_error = xasprintf("%s; codex was stopped. Resume the session with its "
                                   "SESSION_ID to continue.",
                                   what);
    child_terminate(jb->child, jb->owner->cfg.kill_grace_ms);
}

static void deadline_hit(uv_timer_t *t)
{
    job *jb = t->data;
    double s = jb->req.timeout_s > 0 ? jb->req.timeout_s : jb->owner->cfg.timeout_s;
    char *what = xasprintf("timed out after %g s", s);
    stop_child(jb, what);
    free(what);
}

static void idle_hit(uv_timer_t *t)
{
    job *jb = t->data;
    char *what = xasprintf("timed out: codex reported nothing for %g s (--idle-timeout)",
                           jb->owner->cfg.idle_timeout_s);
    stop_child(jb, what);
    free(what);
}

static void post_turn_hit(uv_timer_t *t)
{
    job *jb = t->data;
    log_msg(LOG_INFO, "codex still running %u ms after turn.completed; terminating it",
            POST_TURN_GRACE_MS);
    child_terminate(jb->child, jb->owner->cfg.kill_grace_ms);
}

static void on_child_line(void *ctx, const char *line, size_t len, int overflow)
{
    job *jb = ctx;
    ev_terminal before = jb->ev.terminal;
    if (overflow) {
        events_overlong(&jb->ev, len, CODEX_LINE_MAX_BYTES);
    } else {
        char *desc = events_feed(&jb->ev, line, len);
        if (desc) {
            progress(jb, "%s", desc);
            free(desc);
        }
    }
    if (before == EV_RUNNING && jb->ev.terminal != EV_RUNNING) {
        uv_timer_stop(&jb->idle);
        uv_timer_start(&jb->post_turn, post_turn_hit, POST_TURN_GRACE_MS, 0);
    } else if (jb->owner->cfg.idle_timeout_s > 0 && jb->stop_error == NULL && !jb->cancelled &&
               jb->ev.terminal == EV_RUNNING && !jb->ev.retrying) {
        /* Output is a sign of life, but a retry notice is not progress:
         * codex repeats them forever when its endpoint is unreachable. */
        uv_timer_again(&jb->idle);
    }
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGTERM:
        return "SIGTERM";
    case SIGKILL:
        return "SIGKILL";
    case SIGINT:
        return "SIGINT";
    case SIGHUP:
        return "SIGHUP";
    case SIGSEGV:
        return "SIGSEGV";
    case SIGABRT:
        return "SIGABRT";
    case SIGBUS:
        return "SIGBUS";
    default:
        return "signal";
    }
}

static char *exit_error(const job *jb, int64_t status, int sig, const char *tail, size_t tail_len)
{
    char *how = sig ? xasprintf("codex was killed by signal %d (%s)", sig, signal_name(sig))
                    : xasprintf("codex exited with status %lld", (long long)status);
    char *clean = utf8_sanitize(tail, tail_len, STDERR_TAIL_BYTES * 3);
    /* trim white space at both ends */
    char *s = clean;
    while (*s == ' ' || *s == '\n' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t'))
        s[--n] = '\0';
    char *msg =
        xasprintf("%s before the turn finished (%zu events received)%s%s", how, jb->ev.events,
                  *s ? ". codex stderr: " : "; codex printed nothing on stderr", s);
    free(how);
    free(clean);
    return msg;
}

static void pump(jobs *j);

static void on_child_exit(void *ctx, int64_t status, int sig, const char *tail, size_t tail_len)
{
    job *jb = ctx;
    jobs *j = jb->owner;
    list_remove(&j->running, jb);
    j->nrunning--;
    jb->child = NULL;
    uv_timer_stop(&jb->deadline);
    uv_timer_stop(&jb->idle);
    uv_timer_stop(&jb->post_turn);
    int structured = mcp_call_structured(jb->call);
    /* A resume that failed before thread.started still belongs to the
     * session it tried to resume. */
    if (jb->ev.thread_id == NULL && jb->req.session_id)
        jb->ev.thread_id = xstrdup(jb->req.session_id);
    json_t *result;
    if (jb->cancelled) {
        result = codex_result_error("cancelled", jb->ev.thread_id, structured);
    } else if (jb->stop_error && jb->ev.terminal != EV_COMPLETED) {
        result =
            codex_result_build(&jb->ev, jb->stop_error, jb->req.return_all_messages, structured);
    } else if (jb->ev.terminal != EV_RUNNING) {
        if (jb->ev.terminal == EV_COMPLETED && jb->ev.thread_id == NULL)
            events_warn(&jb->ev, "codex reported no session id (thread.started)");
        result = codex_result_build(&jb->ev, NULL, jb->req.return_all_messages, structured);
    } else {
        char *err = exit_error(jb, status, sig, tail, tail_len);
        result = codex_result_build(&jb->ev, err, jb->req.return_all_messages, structured);
        free(err);
    }
    log_msg(LOG_INFO, "codex finished (status %lld, signal %d, %zu events)", (long long)status, sig,
            jb->ev.events);
    job_finish(jb, result);
    pump(j);
}

static void job_start(jobs *j, job *jb)
{
    char **argv = codex_argv_build(&jb->req, jb->codex_path);
    static const child_callbacks cb = {on_child_line, on_child_exit};
    int rc = child_spawn(j->loop, argv, jb->req.cd, jb->req.prompt, jb->req.prompt_len, &cb, jb,
                         &jb->child);
    codex_argv_free(argv);
    if (rc < 0) {
        char *err = xasprintf("could not start codex (%s): %s", jb->codex_path, uv_strerror(rc));
        job_finish(jb, codex_result_error(err, NULL, mcp_call_structured(jb->call)));
        free(err);
        return;
    }
    jb->state = J_RUNNING;
    list_append(&j->running, jb);
    j->nrunning++;
    log_msg(LOG_INFO, "codex started (pid %d)%s%s", child_pid(jb->child),
            jb->req.session_id ? " resuming " : "", jb->req.session_id ? jb->req.session_id : "");
    progress(jb, "started codex%s%s", jb->req.session_id ? " on session " : "",
             jb->req.session_id ? jb->req.session_id : "");
    double limit = jb->req.timeout_s > 0 ? jb->req.timeout_s : j->cfg.timeout_s;
    if (limit > 0)
        uv_timer_start(&jb->deadline, deadline_hit, (uint64_t)(limit * 1000.0 + 0.5), 0);
    if (j->cfg.idle_timeout_s > 0) {
        uint64_t ms = (uint64_t)(j->cfg.idle_timeout_s * 1000.0 + 0.5);
        uv_timer_start(&jb->idle, idle_hit, ms, ms);
    }
}

/* Starts what may start, in queue order, and tells the others where they
 * stand. */
static void pump(jobs *j)
{
    job *next;
    for (job *jb = j->queue; jb && j->nrunning < j->cfg.max_parallel; jb = next) {
        next = jb->next;
        if (session_busy(j, session_key(jb)))
            continue;
        list_remove(&j->queue, jb);
        job_start(j, jb);
    }
    long pos = 0;
    for (job *jb = j->queue; jb; jb = jb->next, pos++) {
        if (jb->queue_pos_sent == pos)
            continue;
        jb->queue_pos_sent = pos;
        if (session_busy(j, session_key(jb)))
            progress(jb, "queued: %ld ahead, waiting for the running turn on session %s", pos,
                     session_key(jb));
        else
            progress(jb, "queued: %ld ahead (%u running, --max-parallel %u)", pos, j->nrunning,
                     j->cfg.max_parallel);
    }
}

void jobs_submit(jobs *j, mcp_call *call, codex_request *req)
{
    const char *name = j->cfg.codex ? j->cfg.codex : "codex";
    char *path = child_find_executable(name);
    if (path == NULL) {
        char *err = xasprintf(
            "the Codex CLI was not found (%s%s). Install it with `npm i -g @openai/codex` and log "
            "in with `codex login`, or point codexmcp at it with --codex PATH or CODEXMCP_CODEX.",
            strchr(name, '/') ? "no executable file at " : "no `codex` on PATH",
            strchr(name, '/') ? name : "");
        mcp_call_finish(call, codex_result_error(err, req->session_id, mcp_call_structured(call)));
        free(err);
        codex_request_free(req);
        return;
    }
    job *jb = xcalloc(1, sizeof(*jb));
    jb->owner = j;
    jb->call = call;
    jb->req = *req;
    memset(req, 0, sizeof(*req));
    jb->codex_path = path;
    jb->state = J_QUEUED;
    jb->queue_pos_sent = -1;
    events_init(&jb->ev, jb->req.return_all_messages);
    uv_timer_init(j->loop, &jb->deadline);
    uv_timer_init(j->loop, &jb->idle);
    uv_timer_init(j->loop, &jb->post_turn);
    jb->deadline.data = jb->idle.data = jb->post_turn.data = jb;
    jb->timers_open = 3;
    mcp_call_set_data(call, jb);
    list_append(&j->queue, jb);
    pump(j);
}

void jobs_cancel(jobs *j, mcp_call *call)
{
    job *jb = mcp_call_data(call);
    if (jb == NULL || jb->cancelled)
        return;
    jb->cancelled = 1;
    if (jb->state == J_QUEUED) {
        list_remove(&j->queue, jb);
        job_finish(jb, codex_result_error("cancelled", NULL, 0));
        pump(j);
        return;
    }
    if (jb->state == J_RUNNING && jb->child)
        child_terminate(jb->child, j->cfg.kill_grace_ms);
}

void jobs_kill_now(jobs *j)
{
    for (job *jb = j->running; jb; jb = jb->next)
        if (jb->child)
            child_kill(jb->child);
}
