/* The two engines as engine.c sees them (not for other modules). Each
 * calls the engine_callbacks it was given with the ctx it was given; a
 * turn frees itself after on_end returns. */
#ifndef CODEXMCP_ENGINE_IMPL_H
#define CODEXMCP_ENGINE_IMPL_H

#include "engine.h"
#include "launcher.h"

/* ---- engine_exec.c: one `codex exec --json` process per turn ---- */

typedef struct exec_turn exec_turn;

/* *argv (a new array) is the command line, for the transcript. */
int exec_turn_start(uv_loop_t *loop, const codex_request *req, const codex_cmd *cmd,
                    unsigned grace_ms, const engine_callbacks *cb, void *ctx, exec_turn **out,
                    json_t **argv_json, char **error);
void exec_turn_stop(exec_turn *t, unsigned grace_ms);
void exec_turn_pause(exec_turn *t, int paused);
void exec_turn_kill(exec_turn *t);
int exec_turn_pid(const exec_turn *t);

/* ---- engine_appserver.c: one warm `codex app-server`, a thread per
 * session ---- */

typedef struct appserver appserver;
typedef struct as_turn as_turn;

/* forced: --engine appserver (never gives up on the app-server). */
appserver *appserver_new(uv_loop_t *loop, unsigned grace_ms, int forced);
/* Why it takes no turns (it kept crashing, or this codex is too old), or
 * NULL. */
const char *appserver_unusable(const appserver *as);
/* Starts the app-server if it is not running (codex_path resolved by
 * launcher.c then, once per process). `unavailable` is called instead of
 * on_end when the app-server could not take the turn at all (it did not
 * start or initialize): nothing of the turn ran. *argv and *native tell
 * the transcript what runs it. */
void appserver_turn_start(appserver *as, const codex_request *req, const char *codex_path,
                          int native, const engine_callbacks *cb,
                          void (*unavailable)(void *ctx, const char *why), void *ctx, as_turn **out,
                          json_t **argv, int *launched_native);
void appserver_turn_stop(as_turn *t, unsigned grace_ms);
void appserver_close(appserver *as);
void appserver_kill(appserver *as);
void appserver_free(appserver *as);

#endif
