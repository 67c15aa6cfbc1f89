/* Which engine runs a call, and the fallback from the app-server to exec. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "launcher.h"
#include "log.h"
#include "util.h"

struct engine {
    uv_loop_t *loop;
    engine_config cfg;
    appserver *as;
};

struct engine_turn {
    engine *e;
    const codex_request *req;
    const char *codex_path; /* as found (borrowed) */
    codex_cmd cmd;          /* what exec runs, resolved when it starts */
    engine_callbacks cb;
    void *ctx;
    exec_turn *x; /* one of these two runs it */
    as_turn *a;
    char desc[48];
};

int engine_kind_parse(const char *s, engine_kind *out)
{
    if (strcmp(s, "auto") == 0)
        *out = ENGINE_AUTO;
    else if (strcmp(s, "appserver") == 0 || strcmp(s, "app-server") == 0)
        *out = ENGINE_APPSERVER;
    else if (strcmp(s, "exec") == 0)
        *out = ENGINE_EXEC;
    else
        return -1;
    return 0;
}

engine *engine_new(uv_loop_t *loop, const engine_config *cfg)
{
    engine *e = xcalloc(1, sizeof(*e));
    e->loop = loop;
    e->cfg = *cfg;
    if (cfg->kind != ENGINE_EXEC)
        e->as = appserver_new(loop, cfg->kill_grace_ms, cfg->kind == ENGINE_APPSERVER);
    return e;
}

/* ---- the callbacks of both engines, passed on ---- */

static void t_line(void *ctx, const char *line, size_t len, int overflow)
{
    engine_turn *t = ctx;
    t->cb.on_line(t->ctx, line, len, overflow);
}

static void t_output(void *ctx, const char *data, size_t len)
{
    engine_turn *t = ctx;
    t->cb.on_output(t->ctx, data, len);
}

static void t_warning(void *ctx, const char *msg)
{
    engine_turn *t = ctx;
    t->cb.on_warning(t->ctx, msg);
}

static void t_end(void *ctx, const engine_end *end)
{
    engine_turn *t = ctx;
    t->x = NULL;
    t->a = NULL;
    t->cb.on_end(t->ctx, end);
    codex_cmd_free(&t->cmd);
    free(t);
}

static const engine_callbacks turn_cb = {t_line, t_end, t_output, t_warning};

static int start_exec(engine_turn *t, json_t **argv, char **error)
{
    launcher_resolve(t->codex_path, t->e->cfg.native, &t->cmd);
    int rc = exec_turn_start(t->e->loop, t->req, &t->cmd, t->e->cfg.kill_grace_ms, &turn_cb, t,
                             &t->x, argv, error);
    if (rc == 0)
        (void)snprintf(t->desc, sizeof(t->desc), "pid %d", exec_turn_pid(t->x));
    return rc;
}

/* The warning of a call the app-server engine could not take. */
static char *fell_back(const char *why)
{
    return xasprintf("this call ran with codex exec: the app-server engine is not usable (%s)",
                     why);
}

/* The app-server could not take the turn: exec runs it, unless the
 * app-server was asked for by name. */
static void t_unavailable(void *ctx, const char *why)
{
    engine_turn *t = ctx;
    t->a = NULL;
    if (t->e->cfg.kind == ENGINE_APPSERVER) {
        engine_end end = {0, 0, "", 0, why};
        t_end(t, &end);
        return;
    }
    log_msg(LOG_WARNING, "app-server engine unavailable (%s); running the call with codex exec",
            why);
    char *msg = fell_back(why);
    t->cb.on_warning(t->ctx, msg);
    free(msg);
    json_t *argv = NULL;
    char *error = NULL;
    if (start_exec(t, &argv, &error) < 0) {
        engine_end end = {0, 0, "", 0, error};
        t_end(t, &end);
        free(error);
        return;
    }
    json_decref(argv);
}

/* Why this call runs with exec, as a warning, or NULL (it is the choice,
 * or the app-server takes it). */
static char *exec_reason(const engine *e, const codex_request *req, int *use_exec)
{
    *use_exec = 1;
    if (e->as == NULL || req->review)
        return NULL; /* codex_review is `codex exec review` in every engine */
    if (req->profile)
        return xstrdup("this call ran with codex exec: the app-server cannot take a profile "
                       "(`codex app-server` refuses --profile)");
    const char *why = appserver_unusable(e->as);
    if (why)
        return fell_back(why);
    *use_exec = 0;
    return NULL;
}

int engine_start(engine *e, const codex_request *req, const char *codex_path,
                 const engine_callbacks *cb, void *ctx, engine_turn **out, json_t **launch,
                 char **error)
{
    engine_turn *t = xcalloc(1, sizeof(*t));
    t->e = e;
    t->req = req;
    t->cb = *cb;
    t->ctx = ctx;
    t->codex_path = codex_path;
    int use_exec;
    char *why = exec_reason(e, req, &use_exec);
    json_t *argv = NULL;
    int native;
    if (use_exec) {
        int rc = start_exec(t, &argv, error);
        if (rc < 0) {
            free(why);
            codex_cmd_free(&t->cmd);
            free(t);
            return rc;
        }
        native = t->cmd.native;
    } else {
        appserver_turn_start(e->as, req, codex_path, e->cfg.native, &turn_cb, t_unavailable, t,
                             &t->a, &argv, &native);
        (void)snprintf(t->desc, sizeof(t->desc), "app-server");
    }
    *launch = json_pack("{s:s, s:o}", "engine", use_exec ? "exec" : "appserver", "argv", argv);
    if (native)
        json_object_set_new(*launch, "native", json_true());
    *out = t;
    if (why) {
        /* after *out: the turn may already be over (t freed) only on the
         * app-server side, which this is not */
        cb->on_warning(ctx, why);
        free(why);
    }
    return 0;
}

void engine_turn_stop(engine_turn *t, unsigned grace_ms)
{
    if (t->x)
        exec_turn_stop(t->x, grace_ms);
    else if (t->a)
        appserver_turn_stop(t->a, grace_ms);
}

void engine_turn_pause(engine_turn *t, int paused)
{
    /* One app-server serves every call: holding its output back would hold
     * them all. Its turns keep what the reducer keeps, which is bounded. */
    if (t->x)
        exec_turn_pause(t->x, paused);
}

void engine_turn_kill(engine_turn *t)
{
    if (t->x)
        exec_turn_kill(t->x);
}

const char *engine_turn_describe(const engine_turn *t)
{
    return t->desc;
}

void engine_close(engine *e)
{
    if (e->as)
        appserver_close(e->as);
}

void engine_kill_now(engine *e)
{
    if (e->as)
        appserver_kill(e->as);
}

void engine_free(engine *e)
{
    if (e == NULL)
        return;
    appserver_free(e->as);
    free(e);
}
