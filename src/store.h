/* The session registry: an SQLite database in the state directory
 * (codexmcp.sqlite) that records every session this server ran and each
 * of its turns. WAL mode and a busy timeout let several codexmcp processes
 * (one per client window) share it. The schema has a version
 * (PRAGMA user_version) and is brought up to date by the migrations in
 * store.c when it is opened; later versions add to it.
 *
 * Nothing here blocks the event loop: every operation is queued (at most
 * STORE_QUEUE_MAX) and run on libuv's thread pool, one at a time: the
 * writes in the order asked, then the reads, which so find what was written
 * before them. A registry another process holds locked delays only the
 * registry: a write that finds it locked beyond the busy timeout is tried
 * again every STORE_BACKOFF_MS for up to STORE_GIVE_UP_MS, the reads going
 * on meanwhile. The database is opened by the first operation (a client's
 * health check that runs no call touches no file), and again at most every
 * STORE_RETRY_MS after a failure. A registry that cannot be opened or
 * written never fails a call: the failure is logged and the call goes on
 * without history. Only this module speaks SQL.
 *
 * Ownership: store_new creates, store_close frees once the loop has run
 * dry; a store_turn_ref is the caller's until store_turn_release. */
#ifndef CODEXMCP_STORE_H
#define CODEXMCP_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct store store;
typedef struct store_turn_ref store_turn_ref;

store *store_new(uv_loop_t *loop, const char *path);
/* The server is exiting: what is still queued is tried once, without
 * waiting for a lock another process holds, then dropped with a warning. */
void store_stop(store *s);
void store_close(store *s);

typedef struct {
    const char *tool; /* "codex", "codex_review" */
    const char *cwd;
    const char *prompt; /* what the turn was asked (shortened here) */
    size_t prompt_len;
    const char *transcript; /* or NULL */
    const char *engine;     /* "appserver" or "exec", or NULL */
} store_turn;

/* Every function below copies what it needs, and does nothing (returning
 * NULL) when s is NULL. */

/* A turn started. */
store_turn_ref *store_turn_begin(store *s, const store_turn *t);
/* Codex named the turn's session (thread.started): records the session,
 * new or known. */
void store_turn_session(store *s, store_turn_ref *turn, const char *session_id,
                        const store_turn *t);
/* The turn ended with `status` (completed, failed, cancelled, timed_out);
 * error, last_message (last_len bytes) and usage (codex's cumulative usage
 * of the session) may be NULL. `named`: codex reported session_id (else
 * the call only asked to resume it, and it may not exist). The turn is
 * recorded whole if its start was not, and a session codex named gets its
 * row if it has none. A turn's end is never refused for a full queue. */
void store_turn_end(store *s, store_turn_ref *turn, const store_turn *t, const char *session_id,
                    int named, const char *status, const char *error, const char *last_message,
                    size_t last_len, json_t *usage);
void store_turn_release(store_turn_ref *turn);

/* Reads answer through cb on the loop: `answer` (the callee's) or NULL with
 * `error`. */
typedef void (*store_read_cb)(void *ctx, json_t *answer, const char *error);
/* Sessions newest first: those whose cwd is `cwd` or below it (NULL: any),
 * whose title or last message holds `text` (NULL: any; letters in any case),
 * at most `limit`: an array. */
void store_sessions(store *s, const char *cwd, const char *text, unsigned limit, store_read_cb cb,
                    void *ctx);
/* One session and its newest `limit` turns, oldest first:
 * {"session":{…},"turns":[…]}, or JSON null when there is no such session. */
void store_session_turns(store *s, const char *session_id, unsigned limit, store_read_cb cb,
                         void *ctx);

/* A background call or MCP task (tasks.h), as other codexmcp processes see
 * it. The row is replaced whole by each put; it is forgotten at
 * expires_ms. `result` is the JSON text of the finished result object. */
typedef struct {
    const char *id, *tool, *session_id;
    const char *status; /* queued, running, completed, failed, cancelled, interrupted */
    const char *status_message;
    const char *result; /* NULL while it runs */
    int is_error;
    int64_t created_ms, updated_ms, ttl_ms, expires_ms;
} store_task;

void store_task_put(store *s, const store_task *t);
/* Answers {"task","tool","SESSION_ID","status","status_message","result"
 * (object or null),"is_error","server_pid","created_ms","updated_ms",
 * "ttl_ms"}, or JSON null when there is no such task (or it expired). A
 * task left queued or running by a server that is gone reads as
 * "interrupted". */
void store_task_get(store *s, const char *id, store_read_cb cb, void *ctx);

/* ---- The command line's reads (codexmcp ps, log, doctor) ----
 * Each opens the registry at `path` on the calling thread, reads and
 * closes it: for a short-lived process with no loop. A registry not made
 * yet is not created. NULL with *error (the caller frees it) when it
 * cannot be read. */

/* The calls (store_row_call objects) running now, oldest first, then the
 * `recent` latest to finish, newest first; a call left running by a
 * server that is gone counts as finished (interrupted) when it started.
 * An array, empty when there is no registry. */
json_t *store_read_calls(const char *path, unsigned recent, char **error);
/* The session `id` names (a whole id, or the start of one that only one
 * session's id starts with) and all its turns, oldest first:
 * {"SESSION_ID", "turns":[store_row_call…]}. JSON null when no session
 * matches; *error for an ambiguous prefix, naming the sessions. */
json_t *store_read_session(const char *path, const char *id, char **error);
/* {"exists":bool, "sessions":N, "turns":N, "running":N (alive)}. */
json_t *store_read_summary(const char *path, char **error);

#endif
