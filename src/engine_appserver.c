/* The app-server engine: one warm `codex app-server` (JSON-RPC lines on
 * its stdin and stdout, REFERENCE 9) for the whole server, run by child.c
 * under a supervisor like any codex; a thread in it per session. A turn
 * goes: wait for the process, thread/start or thread/resume, turn/start,
 * its notifications (mapped to exec's lines by asmap.c), turn/completed,
 * then the cleanup that exec gets for free by exiting: the commands the
 * turn left running are ended, and the thread is unloaded so that any
 * other codex can resume the session at once. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asmap.h"
#include "child.h"
#include "codex_args.h"
#include "engine_impl.h"
#include "limits.h"
#include "log.h"
#include "util.h"
#include "version.h"

typedef enum { AS_OFF, AS_PROBING, AS_STARTING, AS_READY, AS_CLOSING } as_state;

typedef enum {
    T_WAIT,    /* for the process to be ready */
    T_THREAD,  /* thread/start or thread/resume sent */
    T_TURN,    /* turn/start sent */
    T_RUNNING, /* its notifications flow */
    T_STOP,    /* turn/interrupt sent: waiting for turn/completed */
    T_CLEAN,   /* thread/backgroundTerminals/clean sent */
    T_RELEASE, /* the thread is being unloaded */
} turn_phase;

/* What an answer is for. */
typedef enum {
    R_INITIALIZE,
    R_THREAD,
    R_TURN,
    R_INTERRUPT,
    R_CLEAN,
    R_UNSUBSCRIBE,
} req_kind;

typedef struct pending {
    int64_t id;
    req_kind kind;
    struct as_turn *turn; /* NULL for the process's own requests */
    struct pending *next;
} pending;

struct as_turn {
    appserver *as;
    const codex_request *req;
    engine_callbacks cb;
    void (*unavailable)(void *ctx, const char *why);
    void *ctx;
    turn_phase phase;
    char *thread_id;
    char *turn_id;
    int stop_asked;      /* stop once the current step is answered */
    int clean_after;     /* a commandExecution started, or the turn was cut short
                            (interrupted or failed: one may have started unheard of) */
    int thread_loaded;   /* ours to release */
    int unavailable_now; /* the app-server could not be started for it */
    unsigned closing;    /* resumes refused because the thread was still closing */
    char *error;         /* why it failed without turn/completed */
    asmap map;
    uv_timer_t step; /* a step that gets no answer: the app-server hangs */
    struct as_turn *next;
};

/* One app-server process. A process that is stopped is detached from the
 * engine at once (a new one may start beside it) and freed when it is
 * gone. */
typedef struct as_proc {
    struct appserver *as;
    child *child;
    int pid;
} as_proc;

struct appserver {
    uv_loop_t *loop;
    unsigned grace_ms;
    int forced;
    as_state state;
    as_proc *cur; /* the process turns go to, or NULL */
    child *proc;  /* cur's child */
    int pid;
    char *codex_path;
    int64_t next_id;
    pending *pending;
    as_turn *turns;
    unsigned crashes; /* in a row, without a completed turn between */
    char *unusable;   /* why auto does not use it any more */
    uv_timer_t timer; /* initialize deadline; SIGTERM after close */
    uv_timer_t kick;  /* a restart decided where it cannot be done */
    int timer_open;
    char *version;   /* codex's, from `codex --version` */
    codex_cmd cmd;   /* how the next app-server is started */
    child *probe;    /* `codex --version` while it runs */
    char *probe_out; /* the version line */
};

static void turn_end(as_turn *t, const char *error);
static void early_end(uv_timer_t *tm);
static void start_waiting(appserver *as);
static void finish(as_turn *t);
static void probe_done(appserver *as);
static void released(as_turn *t);
static void warn(as_turn *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void turn_step(as_turn *t);
static void restart(appserver *as, const char *why);

/* ---- the wire ---- */

static void kick_restart(uv_timer_t *tm)
{
    appserver *as = tm->data;
    if (as->proc && child_write_queued(as->proc) > APPSERVER_WRITE_QUEUE_MAX)
        restart(as, "it stopped reading its stdin");
}

static int send_msg(appserver *as, json_t *msg)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (s == NULL || as->proc == NULL) {
        free(s);
        return -1;
    }
    size_t n = strlen(s);
    s[n] = '\n'; /* replaces the NUL: the length is kept apart */
    int rc = child_write(as->proc, s, n + 1);
    free(s);
    if (rc == 0 && child_write_queued(as->proc) > APPSERVER_WRITE_QUEUE_MAX &&
        !uv_is_active((uv_handle_t *)&as->kick)) {
        /* Not from here: the caller may be in the middle of starting a turn. */
        uv_timer_start(&as->kick, kick_restart, 0, 0);
    }
    return rc;
}

static int request(appserver *as, req_kind kind, as_turn *t, const char *method, json_t *params)
{
    pending *p = xcalloc(1, sizeof(*p));
    p->id = ++as->next_id;
    p->kind = kind;
    p->turn = t;
    p->next = as->pending;
    as->pending = p;
    json_t *msg = json_pack("{s:I, s:s, s:o}", "id", (json_int_t)p->id, "method", method, "params",
                            params ? params : json_object());
    return send_msg(as, msg);
}

/* Forgets the requests of a turn that ended: their answers are ignored. */
static void forget_turn(appserver *as, const as_turn *t)
{
    for (pending *p = as->pending; p; p = p->next)
        if (p->turn == t)
            p->turn = NULL;
}

static pending *take_pending(appserver *as, int64_t id)
{
    for (pending **pp = &as->pending; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            pending *p = *pp;
            *pp = p->next;
            return p;
        }
    }
    return NULL;
}

/* ---- a turn's steps ---- */

static void step_timeout(uv_timer_t *tm)
{
    as_turn *t = tm->data;
    if (t->phase == T_RELEASE) {
        /* Not worth the other calls in the app-server: the session stays
         * locked until it unloads or the app-server ends. */
        log_msg(LOG_WARNING, "app-server: thread %s did not unload", t->thread_id);
        warn(t,
             "the app-server did not unload session %s in time, so another codex may not be "
             "able to resume it until it does",
             t->thread_id);
        released(t);
        return;
    }
    const char *what = t->phase == T_THREAD    ? "loading the session"
                       : t->phase == T_TURN    ? "starting the turn"
                       : t->phase == T_STOP    ? "interrupting the turn"
                       : t->phase == T_CLEAN   ? "ending the turn's commands"
                       : t->phase == T_RELEASE ? "unloading the session"
                                               : "a step";
    char *why = xasprintf("it did not answer %s in time", what);
    restart(t->as, why);
    free(why);
}

static void arm(as_turn *t, unsigned ms)
{
    uv_timer_start(&t->step, step_timeout, ms, 0);
}

static void emit(as_turn *t, char *line)
{
    if (line == NULL)
        return;
    size_t n = strlen(line);
    line[n] = '\n';
    t->cb.on_output(t->ctx, line, n + 1);
    t->cb.on_line(t->ctx, line, n, 0);
    free(line);
}

static void warn(as_turn *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    t->cb.on_warning(t->ctx, msg);
    free(msg);
}

static json_t *thread_params(const codex_request *r)
{
    /* exec's --dangerously-bypass-approvals-and-sandbox is this pair */
    json_t *p = json_pack("{s:s, s:s, s:s}", "cwd", r->cd, "sandbox",
                          r->yolo ? "danger-full-access" : r->sandbox, "approvalPolicy", "never");
    if (r->model)
        json_object_set_new(p, "model", json_string(r->model));
    /* what exec tells the model endpoint about where the turn comes from */
    json_object_set_new(p, "threadSource", json_string("user"));
    /* Unloaded as soon as it has no subscriber (else after 30 idle
     * minutes): the lock on the session goes with it. Read when the thread
     * loads, which is every call: each ends by unloading its thread. */
    json_t *config = json_object();
    json_object_set_new(config, "thread_unload_delay_secs", json_integer(0));
    if (r->reasoning_effort)
        json_object_set_new(config, "model_reasoning_effort", json_string(r->reasoning_effort));
    /* a dotted key, as exec's --config (codex_args.c) */
    if (codex_cd_only_writes(r))
        json_object_set_new(config, "sandbox_workspace_write.writable_roots", json_array());
    json_object_set_new(p, "config", config);
    return p;
}

static void start_thread(as_turn *t)
{
    json_t *p = thread_params(t->req);
    const char *method = "thread/start";
    if (t->req->session_id) {
        method = "thread/resume";
        json_object_set_new(p, "threadId", json_string(t->req->session_id));
        /* the history is not wanted: it can be megabytes */
        json_object_set_new(p, "excludeTurns", json_true());
    }
    t->phase = T_THREAD;
    arm(t, APPSERVER_STEP_MS);
    request(t->as, R_THREAD, t, method, p);
}

/* The resume is asked again once the thread has closed (below). */
static void resume_again(uv_timer_t *tm)
{
    as_turn *t = tm->data;
    if (t->stop_asked)
        finish(t);
    else
        start_thread(t);
}

static void start_turn(as_turn *t)
{
    const codex_request *r = t->req;
    /* images first, then the text, as exec sends them */
    json_t *input = json_array();
    for (size_t i = 0; i < r->nimages; i++)
        json_array_append_new(input,
                              json_pack("{s:s, s:s}", "type", "localImage", "path", r->images[i]));
    json_array_append_new(input, json_pack("{s:s, s:s%}", "type", "text", "text",
                                           r->prompt ? r->prompt : "", r->prompt_len));
    t->phase = T_TURN;
    arm(t, APPSERVER_STEP_MS);
    request(t->as, R_TURN, t, "turn/start",
            json_pack("{s:s, s:o, s:s}", "threadId", t->thread_id, "input", input, "turnTrigger",
                      "exec"));
}

static void interrupt(as_turn *t, unsigned grace_ms)
{
    t->phase = T_STOP;
    t->clean_after = 1;
    arm(t, grace_ms + APPSERVER_INTERRUPT_MS);
    request(t->as, R_INTERRUPT, t, "turn/interrupt",
            json_pack("{s:s, s:s}", "threadId", t->thread_id, "turnId", t->turn_id));
}

/* ---- releasing a thread ----
 *
 * A thread loaded in the app-server is locked against every other codex
 * (a flock on CODEX_HOME/thread-writer-locks/<id>.lock) until it is
 * unloaded. Started with thread_unload_delay_secs 0, it unloads the moment
 * it has no subscriber: thread/unsubscribe, then thread/closed about 2 ms
 * later, and the lock is gone. Nothing of the user's files moves. */

static void release(as_turn *t)
{
    t->phase = T_RELEASE;
    arm(t, APPSERVER_UNLOAD_MS);
    request(t->as, R_UNSUBSCRIBE, t, "thread/unsubscribe",
            json_pack("{s:s}", "threadId", t->thread_id));
}

static void released(as_turn *t)
{
    uv_timer_stop(&t->step);
    t->thread_loaded = 0;
    finish(t);
}

/* After the turn: end what it left running, then unload the thread. A
 * turn cut short may have started a command whose item/started the
 * app-server had not sent (or we had not read) yet: it is cleaned up as if
 * it had. */
static void finish(as_turn *t)
{
    if (t->clean_after && t->thread_id && t->phase < T_CLEAN) {
        t->phase = T_CLEAN;
        arm(t, APPSERVER_STEP_MS);
        request(t->as, R_CLEAN, t, "thread/backgroundTerminals/clean",
                json_pack("{s:s}", "threadId", t->thread_id));
        return;
    }
    if (t->clean_after && t->thread_id && t->phase < T_RELEASE) {
        /* What escaped the turn's commands (a daemon, a `setsid … &`) still
         * carries the thread in its environment. A turn that ran no command
         * started nothing: no need to read /proc. */
        char *tag = xasprintf("CODEX_THREAD_ID=%s", t->thread_id);
        size_t n = t->as->proc ? child_kill_tagged(t->as->proc, tag) : 0;
        if (n)
            log_msg(LOG_INFO, "ended %zu process(es) session %s left running", n, t->thread_id);
        free(tag);
    }
    if (t->thread_loaded && t->phase < T_RELEASE) {
        release(t);
        return;
    }
    turn_end(t, NULL);
}

static void turn_closed(uv_handle_t *h)
{
    as_turn *t = h->data;
    asmap_free(&t->map);
    free(t->thread_id);
    free(t->turn_id);
    free(t->error);
    free(t);
}

static void unlink_turn(as_turn *t)
{
    appserver *as = t->as;
    for (as_turn **pp = &as->turns; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    forget_turn(as, t);
    uv_timer_stop(&t->step);
}

/* The turn is over for the caller: on_end, then it is freed. */
static void turn_end(as_turn *t, const char *error)
{
    unlink_turn(t);
    engine_end end = {0, 0, "", 0, error ? error : t->error};
    t->cb.on_end(t->ctx, &end);
    uv_close((uv_handle_t *)&t->step, turn_closed);
}

/* The app-server could not take the turn: nothing of it ran. */
static void turn_unavailable(as_turn *t, const char *why)
{
    unlink_turn(t);
    t->unavailable(t->ctx, why);
    uv_close((uv_handle_t *)&t->step, turn_closed);
}

/* A step failed: the turn ends with this error, after the cleanup of what
 * it holds. */
static void turn_fail(as_turn *t, char *error)
{
    if (t->error == NULL)
        t->error = error;
    else
        free(error);
    if (t->phase < T_CLEAN)
        t->phase = T_STOP;
    if (t->turn_id != NULL) /* a turn had started */
        t->clean_after = 1;
    finish(t);
}

/* What the app-server answered a resume it refused, said as a user needs
 * it (the same words as the exec engine for a session another process
 * holds). */
static char *thread_error(const as_turn *t, const char *msg)
{
    if (strstr(msg, "already has an active writer") != NULL)
        return codex_busy_session_error(msg, NULL);
    if (t->req->session_id)
        return xasprintf("codex could not resume session %s: %s", t->req->session_id, msg);
    return xasprintf("codex could not start a session: %s", msg);
}

static void on_answer(appserver *as, pending *p, json_t *result, json_t *error)
{
    as_turn *t = p->turn;
    const char *emsg = json_string_value(json_object_get(error, "message"));
    if (error && emsg == NULL)
        emsg = "an error without a message";
    if (t == NULL)
        return;
    /* An answer to a step the turn has left (turn/completed came before
     * the answer to turn/start or turn/interrupt) changes nothing. */
    static const turn_phase step_of[] = {[R_THREAD] = T_THREAD,
                                         [R_TURN] = T_TURN,
                                         [R_INTERRUPT] = T_STOP,
                                         [R_CLEAN] = T_CLEAN,
                                         [R_UNSUBSCRIBE] = T_RELEASE};
    if (p->kind != R_INITIALIZE && t->phase != step_of[p->kind])
        return;
    uv_timer_stop(&t->step);
    switch (p->kind) {
    case R_THREAD: {
        const char *id =
            json_string_value(json_object_get(json_object_get(result, "thread"), "id"));
        /* The thread the previous call unloaded can still be closing a
         * moment after its thread/closed; the app-server says to retry. */
        if (error && emsg && strstr(emsg, "is closing; retry thread/resume") != NULL &&
            ++t->closing <= APPSERVER_UNLOAD_MS / APPSERVER_CLOSING_RETRY_MS) {
            uv_timer_start(&t->step, resume_again, APPSERVER_CLOSING_RETRY_MS, 0);
            return;
        }
        if (error || id == NULL) {
            turn_fail(t, thread_error(t, emsg ? emsg : "no thread id in the answer"));
            return;
        }
        t->thread_id = xstrdup(id);
        t->thread_loaded = 1;
        emit(t, asmap_thread_started(id));
        if (t->stop_asked) {
            finish(t);
            return;
        }
        start_turn(t);
        return;
    }
    case R_TURN: {
        const char *id = json_string_value(json_object_get(json_object_get(result, "turn"), "id"));
        if (error || id == NULL) {
            turn_fail(t, xasprintf("codex could not start the turn: %s",
                                   emsg ? emsg : "no turn id in the answer"));
            return;
        }
        t->turn_id = xstrdup(id);
        t->phase = T_RUNNING;
        if (t->stop_asked)
            interrupt(t, as->grace_ms);
        return;
    }
    case R_INTERRUPT:
        /* turn/completed follows; its timer runs on */
        if (error) {
            log_msg(LOG_WARNING, "app-server: turn/interrupt: %s", emsg);
            finish(t);
        } else {
            arm(t, as->grace_ms + APPSERVER_INTERRUPT_MS);
        }
        return;
    case R_CLEAN:
        if (error)
            log_msg(LOG_WARNING, "app-server: thread/backgroundTerminals/clean: %s", emsg);
        finish(t);
        return;
    case R_UNSUBSCRIBE: {
        const char *status = json_string_value(json_object_get(result, "status"));
        if (error || status == NULL || strcmp(status, "unsubscribed") != 0) {
            /* notLoaded: gone already; notSubscribed or an error: waiting
             * for thread/closed would be in vain */
            if (error)
                log_msg(LOG_WARNING, "app-server: thread/unsubscribe %s: %s", t->thread_id, emsg);
            released(t);
            return;
        }
        arm(t, APPSERVER_UNLOAD_MS); /* thread/closed comes next */
        return;
    }
    case R_INITIALIZE:
        return;
    }
}

/* ---- the process ---- */

/* Ends the turns and forgets the requests of a process that is gone. On
 * a snapshot: each end may start a queued call at once, whose turn (and a
 * new process with its initialize) must survive this. */
static void fail_all(appserver *as, const char *why_running, const char *why_waiting)
{
    as_turn *turns = as->turns, *next;
    pending *reqs = as->pending;
    as->turns = NULL;
    as->pending = NULL;
    for (as_turn *t = turns; t; t = next) {
        next = t->next;
        t->next = NULL;
        for (pending *p = reqs; p; p = p->next)
            if (p->turn == t)
                p->turn = NULL;
        if (t->phase == T_WAIT && !t->stop_asked) {
            turn_unavailable(t, why_waiting);
        } else {
            t->thread_loaded = 0; /* the process is gone, and its locks */
            turn_end(t, t->phase == T_WAIT ? "stopped before it started" : why_running);
        }
    }
    while (reqs) {
        pending *p = reqs;
        reqs = p->next;
        free(p);
    }
}

/* Compares dotted versions: <0, 0, >0. */
static int version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
        if (x != y)
            return x < y ? -1 : 1;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
        if ((*a < '0' || *a > '9') && (*b < '0' || *b > '9'))
            break;
    }
    return 0;
}

static void ready(appserver *as, json_t *result)
{
    if (as->state != AS_STARTING)
        return; /* shut down (or stopped) while it started */
    uv_timer_stop(&as->timer);
    /* userAgent: "<originator>/<version> (…)" */
    const char *ua = json_string_value(json_object_get(result, "userAgent"));
    const char *slash = ua ? strchr(ua, '/') : NULL;
    if (slash && version_cmp(slash + 1, APPSERVER_MIN_VERSION) < 0) {
        char *why = xasprintf("this codex (%.*s) is older than %s, the first whose app-server "
                              "codexmcp knows",
                              (int)strcspn(slash + 1, " "), slash + 1, APPSERVER_MIN_VERSION);
        if (!as->forced) {
            free(as->unusable);
            as->unusable = xstrdup(why);
        }
        restart(as, why);
        free(why);
        return;
    }
    send_msg(as, json_pack("{s:s}", "method", "initialized"));
    as->state = AS_READY;
    log_msg(LOG_INFO, "codex app-server ready (pid %d, %s)", as->pid, ua ? ua : "?");
    start_waiting(as);
}

static void start_waiting(appserver *as)
{
    as_turn *next;
    for (as_turn *t = as->turns; t; t = next) {
        next = t->next;
        if (t->phase == T_WAIT)
            turn_step(t);
    }
}

static as_turn *turn_of_thread(appserver *as, const char *thread_id)
{
    if (thread_id == NULL)
        return NULL;
    for (as_turn *t = as->turns; t; t = t->next)
        if (t->thread_id && strcmp(t->thread_id, thread_id) == 0)
            return t;
    return NULL;
}

/* A request from the app-server: each gets an answer, or its turn hangs.
 * With approvalPolicy "never" none should come. */
static void on_server_request(appserver *as, json_t *id, const char *method, json_t *params)
{
    as_turn *t = turn_of_thread(as, json_string_value(json_object_get(params, "threadId")));
    json_t *answer;
    if (strcmp(method, "item/commandExecution/requestApproval") == 0 ||
        strcmp(method, "item/fileChange/requestApproval") == 0) {
        answer = json_pack("{s:O, s:{s:s}}", "id", id, "result", "decision", "decline");
    } else if (strcmp(method, "execCommandApproval") == 0 ||
               strcmp(method, "applyPatchApproval") == 0) {
        answer = json_pack("{s:O, s:{s:s}}", "id", id, "result", "decision", "denied");
    } else {
        answer = json_pack("{s:O, s:{s:i, s:s}}", "id", id, "error", "code", -32601, "message",
                           "codexmcp does not answer this request");
    }
    send_msg(as, answer);
    log_msg(LOG_WARNING, "app-server asked %s; declined", method);
    if (t)
        warn(t,
             "codex asked the client for %s, which codexmcp declined (it runs codex with "
             "approval policy \"never\")",
             method);
}

static void on_notification(appserver *as, const char *method, json_t *params)
{
    as_turn *t = turn_of_thread(as, json_string_value(json_object_get(params, "threadId")));
    if (t && strcmp(method, "thread/closed") == 0) {
        if (t->phase == T_RELEASE) {
            released(t);
        } else if (t->phase >= T_TURN && t->phase < T_CLEAN) {
            /* unloaded under a running turn: no turn/completed will come */
            t->thread_loaded = 0;
            uv_timer_stop(&t->step);
            turn_fail(t, xasprintf("the app-server closed session %s during the turn; resume it "
                                   "with its SESSION_ID to continue",
                                   t->thread_id));
        }
        return;
    }
    if (t == NULL || t->phase < T_TURN || t->phase >= T_CLEAN)
        return;
    if (strcmp(method, "item/started") == 0) {
        const char *type =
            json_string_value(json_object_get(json_object_get(params, "item"), "type"));
        if (type && strcmp(type, "commandExecution") == 0)
            t->clean_after = 1;
    }
    emit(t, asmap_notification(&t->map, method, params));
    if (strcmp(method, "turn/completed") == 0) {
        const char *status =
            json_string_value(json_object_get(json_object_get(params, "turn"), "status"));
        if (status && strcmp(status, "completed") == 0)
            as->crashes = 0;
        uv_timer_stop(&t->step);
        finish(t);
    }
}

static void proc_line(void *ctx, const char *line, size_t len, int overflow)
{
    as_proc *pr = ctx;
    appserver *as = pr->as;
    if (pr != as->cur)
        return; /* a process being stopped: its turns are over */
    if (overflow) {
        /* Whose it was is not known: every turn that is running hears of it. */
        for (as_turn *t = as->turns; t; t = t->next)
            if (t->phase == T_RUNNING)
                t->cb.on_line(t->ctx, NULL, len, 1);
        return;
    }
    json_error_t jerr;
    /* A NUL in a prompt, a reply or a command's output comes as \u0000:
     * refused, the line would be lost, and with turn/completed the turn. */
    json_t *msg = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
    if (!json_is_object(msg)) {
        log_msg(LOG_DEBUG, "app-server printed a line that is not a JSON object");
        json_decref(msg);
        return;
    }
    json_t *id = json_object_get(msg, "id");
    const char *method = json_string_value(json_object_get(msg, "method"));
    json_t *params = json_object_get(msg, "params");
    if (method && id) {
        on_server_request(as, id, method, params);
    } else if (method) {
        on_notification(as, method, params);
    } else if (json_is_integer(id)) {
        pending *p = take_pending(as, json_integer_value(id));
        json_t *error = json_object_get(msg, "error");
        if (p && p->kind == R_INITIALIZE) {
            if (error) {
                const char *m = json_string_value(json_object_get(error, "message"));
                char *why = xasprintf("its initialize failed: %s", m ? m : "(no message)");
                restart(as, why);
                free(why);
            } else {
                ready(as, json_object_get(msg, "result"));
            }
        } else if (p) {
            on_answer(as, p, json_object_get(msg, "result"), error);
        }
        free(p);
    }
    json_decref(msg);
}

static void proc_output(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    (void)data;
    (void)len;
}

static void proc_exit(void *ctx, int64_t status, int sig, const char *tail, size_t tail_len)
{
    as_proc *pr = ctx;
    appserver *as = pr->as;
    int current = pr == as->cur;
    free(pr);
    if (!current)
        return; /* stopped on purpose, its turns already failed */
    as->cur = NULL;
    as->proc = NULL;
    int was_closing = as->state == AS_CLOSING;
    as_state before = as->state;
    as->state = AS_OFF;
    uv_timer_stop(&as->timer);
    if (was_closing) {
        if (as->timer_open) {
            as->timer_open = 0;
            uv_close((uv_handle_t *)&as->timer, NULL);
        }
        fail_all(as, "the codex app-server was shut down", "the server is shutting down");
        return;
    }
    char *s = utf8_trimmed(tail, tail_len, STDERR_TAIL_BYTES * 3);
    char *how = sig ? xasprintf("was killed by signal %d (%s)", sig, signal_name(sig))
                    : xasprintf("exited with status %lld", (long long)status);
    as->crashes++;
    log_msg(LOG_WARNING, "codex app-server (pid %d) %s%s%s", as->pid, how, *s ? "; stderr: " : "",
            s);
    if (!as->forced && as->unusable == NULL && before == AS_STARTING)
        as->unusable = xasprintf("the codex app-server %s before it was ready%s%.200s", how,
                                 *s ? "; codex stderr: " : "", s);
    else if (!as->forced && as->unusable == NULL && as->crashes >= APPSERVER_CRASHES_MAX)
        as->unusable =
            xasprintf("the codex app-server ended %u times in a row (last: %s)", as->crashes, how);
    char *running = xasprintf("the codex app-server %s during the turn; the session was saved as "
                              "interrupted: resume it with its SESSION_ID to continue.%s%s",
                              how, *s ? " codex stderr: " : "", s);
    char *waiting = before == AS_STARTING
                        ? xasprintf("the codex app-server %s before it was ready%s%s", how,
                                    *s ? "; codex stderr: " : "", s)
                        : xasprintf("the codex app-server %s", how);
    fail_all(as, running, waiting);
    free(running);
    free(waiting);
    free(how);
    free(s);
}

static void init_timeout(uv_timer_t *tm)
{
    appserver *as = tm->data;
    if (as->state == AS_PROBING) {
        probe_done(as); /* `codex --version` said nothing: try the app-server anyway */
        return;
    }
    if (as->state == AS_STARTING) {
        char *why = xasprintf("did not answer initialize within %u ms", APPSERVER_INIT_MS);
        if (!as->forced && as->unusable == NULL)
            as->unusable = xasprintf("the codex app-server %s", why);
        restart(as, why);
        free(why);
    } else if (as->state == AS_CLOSING && as->proc) {
        child_terminate(as->proc, as->grace_ms);
    }
}

/* Stops the process because it misbehaved; every turn in it fails. */
static void restart(appserver *as, const char *why)
{
    if (as->cur == NULL)
        return;
    log_msg(LOG_WARNING, "stopping the codex app-server (pid %d): %s", as->pid, why);
    child *old = as->proc;
    as->cur = NULL;
    as->proc = NULL;
    as->state = AS_OFF;
    uv_timer_stop(&as->timer);
    as->crashes++;
    if (!as->forced && as->crashes >= APPSERVER_CRASHES_MAX && as->unusable == NULL)
        as->unusable =
            xasprintf("the codex app-server failed %u times in a row (last: %s)", as->crashes, why);
    char *running = xasprintf("the codex app-server was restarted during the turn: %s. The "
                              "session was saved as interrupted: resume it with its SESSION_ID "
                              "to continue.",
                              why);
    char *waiting = xstrdup(why);
    /* Before the turns hear of it: their ends may start new turns, and
     * those go to a new process. */
    child_terminate(old, as->grace_ms);
    fail_all(as, running, waiting);
    free(running);
    free(waiting);
}

/* Notifications the engine does not use (asmap.c maps the others). */
static const char *const unwanted[] = {
    "item/agentMessage/delta",
    "item/reasoning/summaryTextDelta",
    "item/reasoning/summaryPartAdded",
    "item/reasoning/textDelta",
    "item/commandExecution/outputDelta",
    "item/commandExecution/terminalInteraction",
    "item/fileChange/outputDelta",
    "item/fileChange/patchUpdated",
    "item/plan/delta",
    "item/mcpToolCall/progress",
    "turn/diff/updated",
    "turn/plan/updated",
    "thread/status/changed",
    "thread/readState/changed",
    "thread/started",
    "account/rateLimits/updated",
    "rawResponseItem/completed",
    "rawResponse/completed",
    "process/outputDelta",
    "command/exec/outputDelta",
    NULL,
};

static int spawn_appserver(appserver *as, char **error)
{
    const codex_cmd *cmd = &as->cmd;
    char *argv[] = {cmd->path, (char *)"app-server", NULL};
    child_options o = {NULL, NULL, 0, 1, cmd->env_set, cmd->env_unset, as->grace_ms};
    static const child_callbacks cb = {proc_line, proc_exit, proc_output};
    as_proc *pr = xcalloc(1, sizeof(*pr));
    pr->as = as;
    int rc = child_spawn(as->loop, argv, &o, &cb, pr, &pr->child);
    if (rc < 0) {
        free(pr);
        *error = xasprintf("could not start `%s app-server`: %s", cmd->path, uv_strerror(rc));
        return rc;
    }
    as->cur = pr;
    as->proc = pr->child;
    as->pid = pr->pid = child_pid(pr->child);
    as->state = AS_STARTING;
    free(as->codex_path);
    as->codex_path = xstrdup(cmd->path);
    log_msg(LOG_INFO, "codex app-server started (pid %d)", as->pid);
    /* exec's name and codex's own version: the User-Agent upstream is
     * then exec's, to the byte */
    json_t *params = json_pack("{s:{s:s, s:s, s:s}, s:{s:b}}", "clientInfo", "name",
                               APPSERVER_CLIENT_NAME, "title", "codexmcp", "version",
                               as->version ? as->version : APPSERVER_CLIENT_VERSION, "capabilities",
                               "experimentalApi", 1);
    /* What exec's event stream has no line for need not be sent: the
     * streaming deltas above all, a notification per token. */
    json_t *opt_out = json_array();
    for (const char *const *m = unwanted; *m; m++)
        json_array_append_new(opt_out, json_string(*m));
    json_object_set_new(json_object_get(params, "capabilities"), "optOutNotificationMethods",
                        opt_out);
    request(as, R_INITIALIZE, NULL, "initialize", params);
    uv_timer_start(&as->timer, init_timeout, APPSERVER_INIT_MS, 0);
    return 0;
}

/* ---- `codex --version` first (11 ms): the version exec puts in its
 * User-Agent, and a codex too old for the app-server is known without
 * starting one ---- */

/* The version line decides; what else the probe does is not waited for
 * (a codex stand-in may print more, or never exit). */
static void probe_done(appserver *as)
{
    /* "codex-cli 0.169.0" */
    const char *v = as->probe_out ? strrchr(as->probe_out, ' ') : NULL;
    if (v && v[1] >= '0' && v[1] <= '9' && strncmp(as->probe_out, "codex", 5) == 0) {
        free(as->version);
        as->version = xstrdup(v + 1);
    }
    free(as->probe_out);
    as->probe_out = NULL;
    if (as->probe) {
        child_kill(as->probe);
        as->probe = NULL;
    }
    uv_timer_stop(&as->timer);
    if (as->state != AS_PROBING)
        return; /* shut down meanwhile */
    as->state = AS_OFF;
    char *error = NULL;
    if (as->version && version_cmp(as->version, APPSERVER_MIN_VERSION) < 0) {
        error = xasprintf("this codex (%s) is older than %s, the first whose app-server codexmcp "
                          "knows",
                          as->version, APPSERVER_MIN_VERSION);
        if (!as->forced && as->unusable == NULL)
            as->unusable = xstrdup(error);
    } else if (spawn_appserver(as, &error) == 0) {
        return;
    }
    fail_all(as, error, error);
    free(error);
}

static void probe_line(void *ctx, const char *line, size_t len, int overflow)
{
    appserver *as = ctx;
    if (as->probe == NULL)
        return;
    if (!overflow)
        as->probe_out = xstrndup(line, len);
    probe_done(as);
}

static void probe_exit(void *ctx, int64_t status, int sig, const char *tail, size_t tail_len)
{
    appserver *as = ctx;
    (void)status;
    (void)sig;
    (void)tail;
    (void)tail_len;
    if (as->probe) /* it printed nothing */
        probe_done(as);
}

static int spawn(appserver *as, const char *codex_path, int native, char **error)
{
    codex_cmd_free(&as->cmd);
    launcher_resolve(codex_path, native, &as->cmd);
    const codex_cmd *cmd = &as->cmd;
    if (as->version)
        return spawn_appserver(as, error);
    char *argv[] = {cmd->path, (char *)"--version", NULL};
    child_options o = {NULL, "", 0, 0, cmd->env_set, cmd->env_unset, as->grace_ms};
    static const child_callbacks cb = {probe_line, probe_exit, NULL};
    int rc = child_spawn(as->loop, argv, &o, &cb, as, &as->probe);
    if (rc < 0) {
        *error = xasprintf("could not start `%s --version`: %s", cmd->path, uv_strerror(rc));
        return rc;
    }
    as->state = AS_PROBING;
    uv_timer_start(&as->timer, init_timeout, APPSERVER_INIT_MS, 0);
    return 0;
}

/* The next step of a turn that waited for the process. */
static void turn_step(as_turn *t)
{
    if (t->stop_asked) {
        turn_end(t, "stopped before it started");
        return;
    }
    start_thread(t);
}

static void early_end(uv_timer_t *tm)
{
    as_turn *t = tm->data;
    if (t->unavailable_now && !t->stop_asked) {
        char *why = t->error;
        t->error = NULL;
        turn_unavailable(t, why);
        free(why);
    } else {
        turn_end(t, t->error && !t->unavailable_now ? NULL : "stopped before it started");
    }
}

/* exec refuses a directory outside a git repository unless told to skip
 * the check; the app-server has no such check (REFERENCE 9.5), so it is
 * made here, as codex_review's is (codex_args.c). */

void appserver_turn_start(appserver *as, const codex_request *req, const char *codex_path,
                          int native, const engine_callbacks *cb,
                          void (*unavailable)(void *ctx, const char *why), void *ctx, as_turn **out,
                          json_t **argv, int *launched_native)
{
    as_turn *t = xcalloc(1, sizeof(*t));
    t->as = as;
    t->req = req;
    t->cb = *cb;
    t->unavailable = unavailable;
    t->ctx = ctx;
    asmap_init(&t->map);
    uv_timer_init(as->loop, &t->step);
    t->step.data = t;
    t->next = as->turns;
    as->turns = t;
    *out = t;
    /* A turn never ends before its caller has it: an early end waits for
     * the next loop iteration. */
    if (!req->skip_git_repo_check && !codex_in_git_repo(req->cd)) {
        t->error = xstrdup("Not inside a trusted directory and --skip-git-repo-check was not "
                           "specified. (codex refuses a cd outside a git repository: pass "
                           "skip_git_repo_check: true to run there.)");
        uv_timer_start(&t->step, early_end, 0, 0);
    } else if (as->state == AS_OFF && spawn(as, codex_path, native, &t->error) < 0) {
        t->unavailable_now = 1;
        uv_timer_start(&t->step, early_end, 0, 0);
    } else if (as->state == AS_READY) {
        turn_step(t);
    }
    /* what runs it: the process started (or to start) with this codex */
    *argv = json_pack("[s, s]", as->cmd.path ? as->cmd.path : codex_path, "app-server");
    *launched_native = as->cmd.path ? as->cmd.native : 0;
}

void appserver_turn_stop(as_turn *t, unsigned grace_ms)
{
    if (t->stop_asked)
        return;
    t->stop_asked = 1;
    switch (t->phase) {
    case T_WAIT:
        uv_timer_start(&t->step, early_end, 0, 0);
        break;
    case T_RUNNING:
        interrupt(t, grace_ms);
        break;
    default:
        /* the answer to the step in flight acts on stop_asked */
        break;
    }
}

appserver *appserver_new(uv_loop_t *loop, unsigned grace_ms, int forced)
{
    appserver *as = xcalloc(1, sizeof(*as));
    as->loop = loop;
    as->grace_ms = grace_ms;
    as->forced = forced;
    uv_timer_init(loop, &as->timer);
    as->timer.data = as;
    uv_timer_init(loop, &as->kick);
    as->kick.data = as;
    as->timer_open = 1;
    return as;
}

const char *appserver_unusable(const appserver *as)
{
    return as->unusable;
}

void appserver_close(appserver *as)
{
    if (as->state == AS_CLOSING)
        return;
    if (!uv_is_closing((uv_handle_t *)&as->kick))
        uv_close((uv_handle_t *)&as->kick, NULL);
    if (as->probe) {
        child_kill(as->probe);
        as->probe = NULL;
        as->state = AS_OFF;
    }
    if (as->proc == NULL) {
        if (as->timer_open) {
            as->timer_open = 0;
            uv_close((uv_handle_t *)&as->timer, NULL);
        }
        return;
    }
    /* Closing its stdin ends it (its commands with it); the supervisor
     * ends what is left. SIGTERM if it is still there after a while. */
    as->state = AS_CLOSING;
    child_close_input(as->proc);
    uv_timer_start(&as->timer, init_timeout, APPSERVER_EXIT_MS, 0);
}

void appserver_kill(appserver *as)
{
    if (as->proc)
        child_kill(as->proc);
}

void appserver_free(appserver *as)
{
    if (as == NULL)
        return;
    while (as->pending) {
        pending *p = as->pending;
        as->pending = p->next;
        free(p);
    }
    free(as->codex_path);
    free(as->unusable);
    free(as->version);
    free(as->probe_out);
    codex_cmd_free(&as->cmd);
    free(as);
}
