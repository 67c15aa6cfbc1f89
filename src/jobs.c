/* The job runner: queue, limits, timers, cancel, results. */
#include "jobs.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "engine.h"
#include "events.h"
#include "limits.h"
#include "log.h"
#include "transcript.h"
#include "util.h"

typedef enum { J_QUEUED, J_RUNNING, J_DONE } job_state;

struct job {
    jobs *owner;
    job_sink sink;
    void *sink_ctx;
    int structured;
    codex_request req;
    char *codex_path;
    events_state ev;
    engine_turn *run; /* the turn in its engine, while it runs */
    job_state state;
    int cancelled;
    char *stop_error; /* why we stopped it: time limit, idle limit */
    uv_timer_t deadline, idle, post_turn;
    int timers_open;
    char *session_key;      /* the SESSION_ID as compared: UUIDs in lower case */
    long queue_entry_pos;   /* position when it was queued */
    long queue_pos_sent;    /* last position sent */
    int queue_steps;        /* positions sent after the first */
    uint64_t queue_sent_ms; /* when the last one was sent */
    transcript *tr;         /* the call's transcript, or NULL */
    char *transcript_path;  /* kept after it is closed */
    char *review_target;    /* what a review without instructions is of, or NULL */
    char *engine_name;      /* the engine that runs it ("appserver", "exec"), or NULL */
    store_turn_ref *turn;   /* its row in the registry, or NULL */
    size_t max_chars;       /* the result budget */
    struct job *next;
};

struct jobs {
    uv_loop_t *loop;
    jobs_config cfg;
    job *queue;   /* FIFO of J_QUEUED jobs */
    job *running; /* J_RUNNING jobs */
    unsigned nrunning;
    size_t nqueued, queued_bytes;
    int behind; /* the client is not reading: hold codex back (limits.h) */
    engine *engine;
};

void jobs_config_default(jobs_config *cfg)
{
    cfg->codex = NULL;
    cfg->max_parallel = MAX_PARALLEL_DEFAULT;
    cfg->timeout_s = 0;
    cfg->idle_timeout_s = 0;
    cfg->kill_grace_ms = KILL_GRACE_MS_DEFAULT;
    cfg->engine = ENGINE_AUTO;
    cfg->native = 1;
}

jobs *jobs_new(uv_loop_t *loop, const jobs_config *cfg)
{
    jobs *j = xcalloc(1, sizeof(*j));
    j->loop = loop;
    j->cfg = *cfg;
    if (j->cfg.max_parallel == 0)
        j->cfg.max_parallel = 1;
    engine_config ec = {j->cfg.engine, j->cfg.kill_grace_ms, j->cfg.native};
    j->engine = engine_new(loop, &ec);
    return j;
}

void jobs_close(jobs *j)
{
    engine_close(j->engine);
}

void jobs_free(jobs *j)
{
    if (j == NULL)
        return;
    engine_free(j->engine);
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
    free(jb->session_key);
    free(jb->transcript_path);
    free(jb->review_target);
    free(jb->engine_name);
    store_turn_release(jb->turn);
    free(jb);
}

/* Finishes the call (the reply is dropped if it was cancelled) and frees
 * the job once its timers are closed. */
static void job_finish(job *jb, json_t *result, const char *status)
{
    jb->state = J_DONE;
    jb->sink.done(jb->sink_ctx, result, status,
                  jb->ev.thread_id ? jb->ev.thread_id : jb->req.session_id);
    uv_close((uv_handle_t *)&jb->deadline, timer_closed);
    uv_close((uv_handle_t *)&jb->idle, timer_closed);
    uv_close((uv_handle_t *)&jb->post_turn, timer_closed);
}

static const char *session_key(const job *jb)
{
    return jb->session_key;
}

/* Another turn on this session is running: two writers corrupt a session. */
static int session_busy(const jobs *j, const char *key)
{
    if (key == NULL)
        return 0;
    for (const job *r = j->running; r; r = r->next) {
        if (r->session_key && strcmp(r->session_key, key) == 0)
            return 1;
        /* The key of a UUID is in lower case, and so compares with any. */
        const char *tid = r->ev.thread_id;
        if (tid && (uuid_shaped(tid) ? strcasecmp(tid, key) : strcmp(tid, key)) == 0)
            return 1;
    }
    return 0;
}

static void progress(job *jb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(job *jb, const char *fmt, ...)
{
    if (jb->state == J_DONE)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    jb->sink.progress(jb->sink_ctx, msg);
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
    engine_turn_stop(jb->run, jb->owner->cfg.kill_grace_ms);
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
    engine_turn_stop(jb->run, jb->owner->cfg.kill_grace_ms);
}

/* What a review without instructions is of, for the registry and the
 * transcript (NULL for any other call: its prompt says it). */
static char *review_target(const codex_request *req)
{
    if (!req->review || req->prompt)
        return NULL;
    if (req->uncommitted)
        return xstrdup("review: the uncommitted changes");
    if (req->base)
        return xasprintf("review: the changes against %s", req->base);
    return xasprintf("review: commit %s%s%s", req->commit, req->title ? " " : "",
                     req->title ? req->title : "");
}

/* The turn as the registry records it (borrowing the job's strings). */
static store_turn turn_record(const job *jb)
{
    store_turn t = {jb->req.tool,       jb->req.cd,          jb->req.prompt,
                    jb->req.prompt_len, jb->transcript_path, jb->engine_name};
    if (jb->review_target) {
        t.prompt = jb->review_target;
        t.prompt_len = strlen(jb->review_target);
    }
    return t;
}

static void record_session(job *jb)
{
    store_turn t = turn_record(jb);
    store_turn_session(jb->owner->cfg.store, jb->turn, jb->ev.thread_id, &t);
}

static void on_turn_warning(void *ctx, const char *msg)
{
    job *jb = ctx;
    events_warn(&jb->ev, "%s", msg);
}

static void on_child_output(void *ctx, const char *data, size_t len)
{
    job *jb = ctx;
    if (jb->tr)
        transcript_write(jb->tr, data, len);
}

static void on_child_line(void *ctx, const char *line, size_t len, int overflow)
{
    job *jb = ctx;
    ev_terminal before = jb->ev.terminal;
    int named = jb->ev.thread_id != NULL;
    if (overflow) {
        events_overlong(&jb->ev, len, CODEX_LINE_MAX_BYTES);
    } else {
        char *desc = events_feed(&jb->ev, line, len);
        if (desc) {
            progress(jb, "%s", desc);
            free(desc);
        }
        if (!named && jb->ev.thread_id) {
            record_session(jb);
            jb->sink.started(jb->sink_ctx, jb->ev.thread_id);
        }
    }
    if (before == EV_RUNNING && jb->ev.terminal != EV_RUNNING) {
        uv_timer_stop(&jb->idle);
        uv_timer_start(&jb->post_turn, post_turn_hit, POST_TURN_GRACE_MS, 0);
    } else if (jb->owner->cfg.idle_timeout_s > 0 && jb->stop_error == NULL && !jb->cancelled &&
               jb->ev.terminal == EV_RUNNING && !jb->ev.retrying && !jb->owner->behind) {
        /* Output is a sign of life, but a retry notice is not progress:
         * codex repeats them forever when its endpoint is unreachable. While
         * the client is behind the timer waits: the rest of a read chunk
         * still arrives after codex was paused. */
        uv_timer_again(&jb->idle);
    }
}

static char *exit_error(const job *jb, int64_t status, int sig, const char *tail, size_t tail_len)
{
    char *how = sig ? xasprintf("codex was killed by signal %d (%s)", sig, signal_name(sig))
                    : xasprintf("codex exited with status %lld", (long long)status);
    char *s = utf8_trimmed(tail, tail_len, STDERR_TAIL_BYTES * 3);
    char *msg;
    if (strstr(s, "already has an active writer") != NULL)
        msg = codex_busy_session_error(how, s);
    else
        msg = xasprintf("%s before the turn finished (%zu events received)%s%s", how, jb->ev.events,
                        *s ? ". codex stderr: " : "; codex printed nothing on stderr", s);
    free(how);
    free(s);
    return msg;
}

static void pump(jobs *j);

static void on_turn_end(void *ctx, const engine_end *end)
{
    job *jb = ctx;
    jobs *j = jb->owner;
    int64_t status = end->exit_status;
    int sig = end->term_signal;
    const char *tail = end->stderr_tail;
    size_t tail_len = end->stderr_len;
    list_remove(&j->running, jb);
    j->nrunning--;
    jb->run = NULL;
    uv_timer_stop(&jb->deadline);
    uv_timer_stop(&jb->idle);
    uv_timer_stop(&jb->post_turn);
    /* An incomplete transcript (a full disk, a file size limit) may lack
     * what the result cuts: the result does not send the client to it. */
    const char *whole_transcript = jb->transcript_path;
    if (jb->tr) {
        char *err = transcript_close(jb->tr, status, sig, tail, tail_len);
        jb->tr = NULL;
        if (err) {
            log_msg(LOG_WARNING, "%s", err);
            events_warn(&jb->ev, "%s", err);
            free(err);
            whole_transcript = NULL;
            events_set_transcript(&jb->ev, NULL);
        }
    }
    /* A resume that failed before thread.started still belongs to the
     * session it tried to resume (which codex did not confirm). */
    int named = jb->ev.thread_id != NULL;
    if (jb->ev.thread_id == NULL && jb->req.session_id)
        jb->ev.thread_id = xstrdup(jb->req.session_id);
    char *exit_err = NULL;
    const char *err = NULL, *status_name;
    if (jb->cancelled) {
        status_name = "cancelled";
        err = "cancelled";
    } else if (jb->stop_error && jb->ev.terminal != EV_COMPLETED) {
        status_name = "timed_out";
        err = jb->stop_error;
    } else if (jb->ev.terminal != EV_RUNNING) {
        if (jb->ev.terminal == EV_COMPLETED && jb->ev.thread_id == NULL)
            events_warn(&jb->ev, "codex reported no session id (thread.started)");
        status_name = jb->ev.terminal == EV_COMPLETED ? "completed" : "failed";
    } else {
        status_name = "failed";
        err = end->error ? end->error : (exit_err = exit_error(jb, status, sig, tail, tail_len));
    }
    size_t last_len;
    const char *last = events_last_message(&jb->ev, &last_len);
    store_turn t = turn_record(jb);
    store_turn_end(j->cfg.store, jb->turn, &t, jb->ev.thread_id, named, status_name,
                   err ? err : jb->ev.failure, last, last_len, jb->ev.usage);
    json_t *result;
    if (jb->cancelled) {
        result = codex_result_error("cancelled", jb->ev.thread_id, jb->structured);
    } else {
        codex_result_opts o = {jb->req.return_all_messages, jb->structured, whole_transcript,
                               jb->max_chars};
        result = codex_result_build(&jb->ev, err, &o);
    }
    free(exit_err);
    log_msg(LOG_INFO, "codex finished (status %lld, signal %d, %zu events)", (long long)status, sig,
            jb->ev.events);
    job_finish(jb, result, status_name);
    pump(j);
}

static void job_fail_early(job *jb, const char *err)
{
    json_t *res = codex_result_error(err, jb->req.session_id, jb->structured);
    job_finish(jb, res, "failed");
}

/* The call's transcript and its turn in the registry. Neither can fail
 * the call: what goes wrong is a warning in its result. */
static void open_record(jobs *j, job *jb, json_t *launch)
{
    jb->review_target = review_target(&jb->req);
    const char *engine_name = json_string_value(json_object_get(launch, "engine"));
    jb->engine_name = engine_name ? xstrdup(engine_name) : NULL;
    store_turn t = turn_record(jb);
    if (j->cfg.state_dir) {
        json_t *h = json_pack("{s:s, s:s, s:s%}", "tool", jb->req.tool, "cd", jb->req.cd, "prompt",
                              t.prompt ? t.prompt : "", t.prompt_len);
        if (h == NULL) /* a prompt that is not UTF-8 cannot be: it came as JSON */
            h = json_object();
        json_object_update(h, launch); /* engine, argv */
        if (jb->req.session_id)
            json_object_set_new(h, "SESSION_ID", json_string(jb->req.session_id));
        char *err = NULL;
        jb->tr = transcript_open(j->cfg.state_dir, h, &err);
        json_decref(h);
        if (jb->tr) {
            jb->transcript_path = xstrdup(transcript_path(jb->tr));
            events_set_transcript(&jb->ev, jb->transcript_path);
        } else {
            log_msg(LOG_WARNING, "no transcript for this call: %s", err);
            events_warn(&jb->ev, "no transcript for this call: %s", err);
            free(err);
        }
    } else {
        events_warn(&jb->ev, "no transcript for this call: there is no state directory (set "
                             "--state-dir, CODEXMCP_STATE_DIR or HOME)");
    }
    t.transcript = jb->transcript_path;
    jb->turn = store_turn_begin(j->cfg.store, &t);
}

static void job_start(jobs *j, job *jb)
{
    /* The call may have waited in the queue: check what can have changed
     * since its arguments were, so the error names the real cause. */
    struct stat st;
    char resolved[PATH_MAX];
    if (stat(jb->req.cd, &st) != 0 || !S_ISDIR(st.st_mode) ||
        realpath(jb->req.cd, resolved) == NULL) {
        char *err = xasprintf("cd \"%s\" is not an existing directory any more: it was removed or "
                              "replaced while the call waited in the queue",
                              jb->req.cd);
        job_fail_early(jb, err);
        free(err);
        return;
    }
    /* A link put in its place while it waited must not take it elsewhere:
     * codex gets the path as resolved now, checked again. */
    if (strcmp(resolved, jb->req.cd) != 0) {
        free(jb->req.cd_given);
        jb->req.cd_given = jb->req.cd;
        jb->req.cd = xstrdup(resolved);
        char *err = j->cfg.policy ? policy_check(j->cfg.policy, &jb->req) : NULL;
        if (err) {
            char *msg = xasprintf("%s (it was replaced while the call waited in the queue)", err);
            free(err);
            job_fail_early(jb, msg);
            free(msg);
            return;
        }
    }
    static const engine_callbacks cb = {on_child_line, on_turn_end, on_child_output,
                                        on_turn_warning};
    json_t *launch = NULL;
    char *start_err = NULL;
    int rc =
        engine_start(j->engine, &jb->req, jb->codex_path, &cb, jb, &jb->run, &launch, &start_err);
    if (rc < 0) {
        char *err;
        if (access(jb->codex_path, X_OK) != 0)
            err = xasprintf("could not start codex: %s is no longer an executable file (%s)",
                            jb->codex_path, uv_strerror(rc));
        else if (access(jb->req.cd, X_OK) != 0)
            err = xasprintf("could not start codex in cd \"%s\": %s", jb->req.cd, uv_strerror(rc));
        else
            err = xstrdup(start_err);
        free(start_err);
        job_fail_early(jb, err);
        free(err);
        return;
    }
    /* The turn is the engine's now: it ends through on_turn_end, never
     * before this returns. */
    jb->state = J_RUNNING;
    list_append(&j->running, jb);
    j->nrunning++;
    open_record(j, jb, launch);
    json_decref(launch);
    log_msg(LOG_INFO, "codex started (%s)%s%s", engine_turn_describe(jb->run),
            jb->req.session_id ? " resuming " : "", jb->req.session_id ? jb->req.session_id : "");
    jb->sink.started(jb->sink_ctx, NULL);
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

static void enqueue(jobs *j, job *jb)
{
    list_append(&j->queue, jb);
    j->nqueued++;
    j->queued_bytes += jb->req.prompt_len;
}

static void dequeue(jobs *j, job *jb)
{
    list_remove(&j->queue, jb);
    j->nqueued--;
    j->queued_bytes -= jb->req.prompt_len;
}

/* Where a waiting call's position has to fall for its queue line number
 * `step` (1..QUEUE_PROGRESS_STEPS): past another quarter of its entry. */
static long queue_mark(const job *jb, int step)
{
    return jb->queue_entry_pos * (QUEUE_PROGRESS_STEPS + 1 - step) / (QUEUE_PROGRESS_STEPS + 1);
}

static void queue_progress(jobs *j, job *jb, long pos)
{
    jb->queue_pos_sent = pos;
    jb->queue_sent_ms = uv_now(j->loop);
    if (session_busy(j, session_key(jb)))
        progress(jb, "queued: %ld ahead, waiting for the running turn on session %s", pos,
                 jb->req.session_id);
    else
        progress(jb, "queued: %ld ahead (%u running, --max-parallel %u)", pos, j->nrunning,
                 j->cfg.max_parallel);
}

/* Starts what may start, in queue order, unless the client is behind; then
 * tells the waiting calls where they stand when that is worth a line
 * (limits.h: QUEUE_PROGRESS_*). */
static void pump(jobs *j)
{
    job *next;
    for (job *jb = j->queue; jb && !j->behind && j->nrunning < j->cfg.max_parallel; jb = next) {
        next = jb->next;
        if (session_busy(j, session_key(jb)))
            continue;
        dequeue(j, jb);
        job_start(j, jb);
    }
    long pos = 0;
    uint64_t now = uv_now(j->loop);
    for (job *jb = j->queue; jb; jb = jb->next, pos++) {
        if (jb->queue_pos_sent < 0) {
            jb->queue_entry_pos = pos;
            queue_progress(j, jb, pos);
            continue;
        }
        if (jb->queue_steps >= QUEUE_PROGRESS_STEPS || pos > queue_mark(jb, jb->queue_steps + 1) ||
            pos >= jb->queue_pos_sent || now - jb->queue_sent_ms < QUEUE_PROGRESS_MIN_MS)
            continue;
        /* Every mark it has fallen past counts as sent. */
        while (jb->queue_steps < QUEUE_PROGRESS_STEPS && pos <= queue_mark(jb, jb->queue_steps + 1))
            jb->queue_steps++;
        queue_progress(j, jb, pos);
    }
}

const policy *jobs_policy(const jobs *j)
{
    return j->cfg.policy;
}

size_t jobs_result_budget(const jobs *j, const char *client, size_t asked)
{
    if (asked > 0)
        return asked;
    if (j->cfg.max_result_chars > 0)
        return j->cfg.max_result_chars;
    if (client && strcmp(client, CODEX_CLIENT_NAME) == 0)
        return BUDGET_CODEX_CLIENT_CHARS;
    return BUDGET_DEFAULT_CHARS;
}

int jobs_submit(jobs *j, codex_request *req, const job_opts *o, const job_sink *sink, void *ctx,
                job **out, char **error)
{
    *out = NULL;
    *error = j->cfg.policy ? policy_check(j->cfg.policy, req) : NULL;
    if (*error) {
        log_msg(LOG_NOTICE, "call refused: %s", *error);
        codex_request_free(req);
        return -1;
    }
    req->cd_only_writes = j->cfg.policy && policy_bounds_writes(j->cfg.policy);
    const char *name = j->cfg.codex ? j->cfg.codex : "codex";
    char *path = child_find_executable(name);
    if (path == NULL)
        *error = xasprintf(
            "the Codex CLI was not found (%s%s). Install it with `npm i -g @openai/codex` and log "
            "in with `codex login`, or point codexmcp at it with --codex PATH or CODEXMCP_CODEX.",
            strchr(name, '/') ? "no executable file at " : "no `codex` on PATH",
            strchr(name, '/') ? name : "");
    else if (j->nqueued >= JOBS_QUEUE_MAX ||
             j->queued_bytes + req->prompt_len > JOBS_QUEUE_MAX_BYTES)
        *error = xasprintf("too many calls are waiting (%zu queued, %zu bytes of prompts, behind "
                           "--max-parallel %u); call again when some have finished",
                           j->nqueued, j->queued_bytes, j->cfg.max_parallel);
    if (*error) {
        free(path);
        codex_request_free(req);
        return -1;
    }
    job *jb = xcalloc(1, sizeof(*jb));
    jb->owner = j;
    jb->sink = *sink;
    jb->sink_ctx = ctx;
    jb->structured = o->structured;
    jb->max_chars = o->max_chars;
    jb->req = *req;
    memset(req, 0, sizeof(*req));
    jb->codex_path = path;
    jb->session_key = session_id_key(jb->req.session_id);
    jb->state = J_QUEUED;
    jb->queue_pos_sent = -1;
    events_init(&jb->ev, jb->req.return_all_messages, jb->req.all_filter);
    uv_timer_init(j->loop, &jb->deadline);
    uv_timer_init(j->loop, &jb->idle);
    uv_timer_init(j->loop, &jb->post_turn);
    jb->deadline.data = jb->idle.data = jb->post_turn.data = jb;
    jb->timers_open = 3;
    *out = jb;
    enqueue(j, jb);
    pump(j);
    return 0;
}

void jobs_cancel(jobs *j, job *jb)
{
    if (jb == NULL || jb->cancelled || jb->state == J_DONE)
        return;
    jb->cancelled = 1;
    if (jb->state == J_QUEUED) {
        dequeue(j, jb);
        job_finish(jb, codex_result_error("cancelled", jb->req.session_id, jb->structured),
                   "cancelled");
        pump(j);
        return;
    }
    if (jb->state == J_RUNNING && jb->run) {
        /* Its output is not wanted any more: let it drain so it ends. */
        engine_turn_stop(jb->run, j->cfg.kill_grace_ms);
    }
}

void jobs_set_behind(jobs *j, int behind)
{
    j->behind = behind;
    for (job *jb = j->running; jb; jb = jb->next) {
        /* A call being stopped is read on: its end is what frees the slot. */
        if (jb->run == NULL || jb->cancelled || jb->stop_error)
            continue;
        engine_turn_pause(jb->run, behind);
        /* Codex is not idle while it waits on its pipe. */
        if (j->cfg.idle_timeout_s > 0 && jb->ev.terminal == EV_RUNNING) {
            if (behind)
                uv_timer_stop(&jb->idle);
            else
                uv_timer_again(&jb->idle);
        }
    }
    if (!behind)
        pump(j);
}

void jobs_kill_now(jobs *j)
{
    for (job *jb = j->running; jb; jb = jb->next)
        if (jb->run)
            engine_turn_kill(jb->run);
    engine_kill_now(j->engine);
}
