/* The session registry's rows as the answers its readers get, pure:
 * store.c reads each column of a row into a store_col, and these build the
 * JSON. A row may have been written by another codexmcp version or by
 * anything else that opened the file, so a column may hold any type and
 * any bytes; whatever it holds, every documented field is there, text is
 * valid UTF-8, a JSON column is an object, an array or null, and a time is
 * ISO 8601 (util.h: iso_time_ms).
 * Ownership: the columns are borrowed; every answer is a new reference. */
#ifndef CODEXMCP_STORE_ROW_H
#define CODEXMCP_STORE_ROW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One column as SQLite reads it: sqlite3_column_text (NULL for SQL NULL;
 * NUL-terminated, and may hold NUL bytes and invalid UTF-8) with its
 * length in bytes, and sqlite3_column_int64. */
typedef struct {
    const char *text;
    size_t len;
    int64_t num;
} store_col;

/* Whether the codexmcp process `pid` still runs (store.c: kill(pid, 0)).
 * Asked only about a pid a process can have (> 0, within pid_t): a stored
 * pid outside that range names no process. */
typedef int (*store_alive_fn)(pid_t pid);

/* A session: id, cwd, title, tool, created_ms, updated_ms, turns ended,
 * last_status, last_message, usage (JSON), turns running, the running
 * turns' server pids (comma-separated), the latest turn's transcript. */
#define STORE_ROW_SESSION_COLS 13
json_t *store_row_session(const store_col *c, store_alive_fn alive);

/* A turn: tool, prompt, status, started_ms, finished_ms, last_message,
 * error, server_pid, usage (JSON), transcript, its number in the session. */
#define STORE_ROW_TURN_COLS 11
json_t *store_row_turn(const store_col *c, store_alive_fn alive);

/* A call (one turn) as `codexmcp ps` and `log` read it: turn id,
 * session_id, tool, cwd, engine, prompt, status, started_ms, finished_ms,
 * last_message, error, server_pid, transcript, its number in the session
 * (0: not counted). Times are Unix milliseconds; absent text is null. */
#define STORE_ROW_CALL_COLS 14
json_t *store_row_call(const store_col *c, store_alive_fn alive);

/* A task (store.h, store_task_get): id, tool, session_id, status,
 * status_message, result (JSON), is_error, server_pid, created_ms,
 * updated_ms, ttl_ms. */
#define STORE_ROW_TASK_COLS 11
json_t *store_row_task(const store_col *c, store_alive_fn alive);

/* The registry's fold(text) (n bytes): letters in lower case, every
 * letter Unicode knows a lower case of (SQLite's lower() knows only
 * ASCII), so a query finds "Überprüfe" as "überprüfe"; without a UTF-8
 * locale, ASCII letters only. Bytes that are not UTF-8 are kept. A new
 * string of *len bytes, at most 2n. */
char *store_row_fold(const char *text, size_t n, size_t *len);

#endif
