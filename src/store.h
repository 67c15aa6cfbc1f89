/* The session registry: an SQLite database in the state directory
 * (codexmcp.sqlite) that records every session this server ran and each
 * of its turns. WAL mode and a busy timeout let several codexmcp processes
 * (one per client window) share it. The schema has a version
 * (PRAGMA user_version) and is brought up to date by the migrations in
 * store.c when it is opened; later versions add to it.
 * A registry that cannot be opened or written never fails a call: each
 * failure is logged and the call goes on without history (every function
 * below does nothing, or returns 0, when the registry cannot be used; s
 * may be NULL). Only this
 * module speaks SQL. Calls are synchronous; each is one short transaction.
 * Ownership: store_open creates, store_close frees; results are new
 * references the caller owns. */
#ifndef CODEXMCP_STORE_H
#define CODEXMCP_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store;

/* The registry at path. Nothing is opened until it is first used, so a
 * server that runs no call (a client's health check) touches no file:
 * then its directory is made (0700) and the database opened, created and
 * migrated, once. */
store *store_new(const char *path);
/* NULL when the registry can be used, else why not (opens it if it was
 * not yet tried; the string lives as long as s). */
const char *store_error(store *s);
void store_close(store *s);

typedef struct {
    const char *tool; /* "codex", "codex_review" */
    const char *cwd;
    const char *prompt; /* what the turn was asked (shortened here) */
    size_t prompt_len;
    const char *transcript; /* or NULL */
} store_turn;

/* A turn started: returns its id, or 0 when it could not be recorded. */
int64_t store_turn_begin(store *s, const store_turn *t);
/* Codex named the turn's session (thread.started): records the session,
 * new or known. */
void store_turn_session(store *s, int64_t turn, const char *session_id, const store_turn *t);
/* The turn ended with `status` (completed, failed, cancelled, timed_out);
 * error, last_message (length last_len) and usage (codex's cumulative
 * usage of the session) may be NULL. */
void store_turn_end(store *s, int64_t turn, const char *session_id, const char *status,
                    const char *error, const char *last_message, size_t last_len, json_t *usage);

/* Sessions newest first: those whose cwd is `cwd` or below it (NULL: any),
 * whose title or last message holds `text` (NULL: any, case-insensitive in
 * ASCII), at most `limit`. An array, or NULL with *error set. */
json_t *store_sessions(store *s, const char *cwd, const char *text, unsigned limit, char **error);
/* One session and its newest `limit` turns, oldest first:
 * {"session":{…},"turns":[…]}; JSON null when there is no such session;
 * NULL with *error set when the registry cannot be read. */
json_t *store_session_turns(store *s, const char *session_id, unsigned limit, char **error);

#endif
