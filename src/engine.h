/* The codex side of a turn, behind one interface that jobs.c drives: start
 * a turn, stream its events into the reducer, stop it, release it. Two
 * engines implement it: engine_exec.c (one `codex exec --json` process per
 * turn) and engine_appserver.c (one warm `codex app-server` for the whole
 * server, a thread per session). Both deliver the turn as the JSONL lines
 * of `codex exec --json`, so the reducer, results, budget, transcripts,
 * registry and progress are one code path; engine.c picks the engine of
 * each call (--engine auto|appserver|exec) and falls back to exec.
 * Ownership: engine_new/engine_free; a turn is created by engine_start and
 * frees itself after on_end returns. */
#ifndef CODEXMCP_ENGINE_H
#define CODEXMCP_ENGINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "codex_args.h"

typedef enum { ENGINE_AUTO, ENGINE_APPSERVER, ENGINE_EXEC } engine_kind;

/* How a turn ended. exec: its process exited (status, signal, stderr tail).
 * app-server: 0 and no signal when the turn ended; `error` says why it
 * ended without its last event (the app-server died, hung, refused). */
typedef struct {
    int64_t exit_status;
    int term_signal;
    const char *stderr_tail;
    size_t stderr_len;
    const char *error;
} engine_end;

typedef struct {
    /* One event line in `codex exec --json` form; overflow: a line of
     * `len` bytes was too long and dropped (line NULL). */
    void (*on_line)(void *ctx, const char *line, size_t len, int overflow);
    /* The turn is over; every line was delivered. */
    void (*on_end)(void *ctx, const engine_end *end);
    /* The bytes of the turn's events as they came, for the transcript. */
    void (*on_output)(void *ctx, const char *data, size_t len);
    /* Something the result's warnings should say (a fallback, a declined
     * approval). */
    void (*on_warning)(void *ctx, const char *msg);
} engine_callbacks;

typedef struct engine engine;
typedef struct engine_turn engine_turn;

typedef struct {
    engine_kind kind;
    unsigned kill_grace_ms;
    int native; /* run the native binary behind an npm launcher (launcher.h) */
} engine_config;

engine *engine_new(uv_loop_t *loop, const engine_config *cfg);
/* Starts a turn of req (borrowed: it must outlive the turn) with the codex
 * found at codex_path. Returns 0, or a negative UV_E* code with *error set
 * (the caller frees it; nothing to clean up then). *launch is a new object
 * for the transcript's header: {engine, argv[, thread]}. */
int engine_start(engine *e, const codex_request *req, const char *codex_path,
                 const engine_callbacks *cb, void *ctx, engine_turn **out, json_t **launch,
                 char **error);
/* Stops the turn: exec: SIGTERM to its processes, SIGKILL grace_ms later;
 * app-server: turn/interrupt, then its commands are ended. */
void engine_turn_stop(engine_turn *t, unsigned grace_ms);
/* SIGKILL to the turn's processes now (exec; the app-server's go with
 * engine_kill_now). */
void engine_turn_kill(engine_turn *t);
/* Stops reading (1) or reads on (0): only exec can hold one turn back. */
void engine_turn_pause(engine_turn *t, int paused);
/* "pid N" or "app-server pid N", for the log. */
const char *engine_turn_describe(const engine_turn *t);
/* Shutdown: every turn has ended; let the app-server go (stdin closed,
 * SIGTERM then SIGKILL after the grace period). The loop ends when it is
 * gone. */
void engine_close(engine *e);
/* SIGKILL to every codex process now (a second shutdown signal). */
void engine_kill_now(engine *e);
void engine_free(engine *e);

int engine_kind_parse(const char *s, engine_kind *out);

#endif
