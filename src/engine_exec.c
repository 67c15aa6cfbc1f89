/* The exec engine: one `codex exec --json` process per turn, run by
 * child.c under its supervisor; its stdout is already exec's event lines. */
#include <stdlib.h>

#include "child.h"
#include "engine_impl.h"
#include "util.h"

struct exec_turn {
    child *child;
    engine_callbacks cb;
    void *ctx;
};

static void on_line(void *ctx, const char *line, size_t len, int overflow)
{
    exec_turn *t = ctx;
    t->cb.on_line(t->ctx, line, len, overflow);
}

static void on_output(void *ctx, const char *data, size_t len)
{
    exec_turn *t = ctx;
    t->cb.on_output(t->ctx, data, len);
}

static void turn_exit(void *ctx, int64_t status, int sig, const char *tail, size_t tail_len)
{
    exec_turn *t = ctx;
    engine_end end = {status, sig, tail, tail_len, NULL};
    t->child = NULL;
    t->cb.on_end(t->ctx, &end);
    free(t);
}

int exec_turn_start(uv_loop_t *loop, const codex_request *req, const codex_cmd *cmd,
                    unsigned grace_ms, const engine_callbacks *cb, void *ctx, exec_turn **out,
                    json_t **argv_json, char **error)
{
    exec_turn *t = xcalloc(1, sizeof(*t));
    t->cb = *cb;
    t->ctx = ctx;
    char **argv = codex_argv_build(req, cmd->path);
    child_options o = {req->cd,      req->prompt,    req->prompt_len, 0,
                       cmd->env_set, cmd->env_unset, grace_ms};
    static const child_callbacks ccb = {on_line, turn_exit, on_output};
    int rc = child_spawn(loop, argv, &o, &ccb, t, &t->child);
    if (rc < 0) {
        *error = xasprintf("could not start codex (%s): %s", cmd->path, uv_strerror(rc));
        codex_argv_free(argv);
        free(t);
        return rc;
    }
    *argv_json = json_array();
    for (char **a = argv; *a; a++) {
        char *clean = utf8_clean(*a);
        json_array_append_new(*argv_json, json_string(clean));
        free(clean);
    }
    codex_argv_free(argv);
    *out = t;
    return 0;
}

void exec_turn_stop(exec_turn *t, unsigned grace_ms)
{
    /* read on, so that it can end */
    child_pause_output(t->child, 0);
    child_terminate(t->child, grace_ms);
}

void exec_turn_pause(exec_turn *t, int paused)
{
    child_pause_output(t->child, paused);
}

void exec_turn_kill(exec_turn *t)
{
    child_kill(t->child);
}

int exec_turn_pid(const exec_turn *t)
{
    return child_pid(t->child);
}
