/* The SQLite session registry (store.h). */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "limits.h"
#include "log.h"
#include "store_row.h"
#include "util.h"

/* One operation of the registry, run on a worker thread. Operations run
 * one at a time in the order they were asked for (in batches: up to
 * STORE_BATCH_MAX a trip to the worker), so the worker owns the connection
 * while they run, and a turn's id, written by its begin, is there for its
 * end. */
typedef enum {
    OP_BEGIN,
    OP_SESSION,
    OP_END,
    OP_SESSIONS,
    OP_TURNS,
    OP_TASK_PUT,
    OP_TASK_GET
} op_kind;

struct store_turn_ref {
    int64_t id;    /* written on the worker by its OP_BEGIN; 0: not recorded */
    unsigned refs; /* the job's and the queued operations' (loop thread) */
};

typedef struct op {
    store *s;
    op_kind kind;
    store_turn_ref *turn;
    store_turn t;                        /* strings owned (copies) */
    char *session_id;                    /* OP_SESSION, OP_END, OP_TURNS */
    char *status, *error, *last, *usage; /* OP_END */
    char *cwd, *text;                    /* OP_SESSIONS */
    store_task task;                     /* OP_TASK_PUT (strings owned), OP_TASK_GET (id) */
    unsigned limit;
    json_t *answer; /* reads: the rows; NULL with read_error */
    char *read_error;
    store_read_cb cb;
    void *ctx;
    buf_t warnings;   /* what went wrong on the worker, logged on the loop */
    int named;        /* OP_END: codex named session_id (else the call asked for it) */
    int final;        /* OP_TASK_PUT of a finished task: never refused */
    int busy;         /* a write failed because another process held the lock */
    int ran;          /* the worker ran it (a batch stops at a busy one) */
    int64_t first_ms; /* when a write was first tried */
    struct op *next;
} op;

struct store {
    uv_loop_t *loop;
    sqlite3 *db; /* used only by the operation running */
    char *path;
    int64_t retry_ms;         /* when to try to open it again after a failure */
    char *error;              /* why it cannot be used, or NULL */
    op *reads, *reads_tail;   /* waiting reads: they go first */
    op *writes, *writes_tail; /* waiting writes, in order */
    size_t queued;            /* both */
    int running;              /* a batch is on the worker */
    uv_work_t work;           /* its trip */
    op *batch;                /* its operations, in order (linked by next) */
    op *cur;                  /* the operation running (worker side) */
    size_t dropped;           /* operations refused since the last report */
    uv_timer_t backoff;       /* a write found the registry locked: wait */
    int backing_off;
    int stopping; /* the server is exiting: no waiting */
    int version;  /* the schema's (open_now) */
};

/* Each migration takes the schema from version i to i + 1. Never edit one
 * that has shipped: add the next. */
static const char *const migrations[] = {
    /* 1: sessions and their turns. A turn is one call's work; it outlives
     * the request that started it (background calls, `codexmcp ps` and
     * `log` read it), so it carries its owner's pid and its transcript. */
    "CREATE TABLE sessions ("
    "  id TEXT PRIMARY KEY," /* codex's thread id */
    "  cwd TEXT NOT NULL,"
    "  title TEXT NOT NULL," /* the start of the first prompt */
    "  tool TEXT NOT NULL,"  /* of the first turn */
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  last_status TEXT NOT NULL,"
    "  last_message TEXT,"
    "  usage TEXT" /* JSON: codex's cumulative usage */
    ");"
    "CREATE INDEX sessions_by_time ON sessions (updated_ms DESC);"
    "CREATE TABLE turns ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  session_id TEXT," /* NULL until codex names it */
    "  tool TEXT NOT NULL,"
    "  cwd TEXT NOT NULL,"
    "  prompt TEXT NOT NULL,"
    "  status TEXT NOT NULL," /* running, completed, failed, cancelled, timed_out */
    "  error TEXT,"
    "  last_message TEXT,"
    "  usage TEXT,"
    "  transcript TEXT,"
    "  server_pid INTEGER NOT NULL,"
    "  started_ms INTEGER NOT NULL,"
    "  finished_ms INTEGER"
    ");"
    "CREATE INDEX turns_by_session ON turns (session_id, id);"
    "CREATE INDEX turns_running ON turns (status) WHERE status = 'running';",
    /* 2: background calls and MCP tasks, so that codex_wait in another
     * codexmcp process finds a finished one, and knows one whose server
     * exited while it ran. */
    "CREATE TABLE tasks ("
    "  id TEXT PRIMARY KEY," /* 128 random bits, hex */
    "  tool TEXT NOT NULL,"
    "  session_id TEXT,"
    "  status TEXT NOT NULL," /* queued, running, completed, failed, cancelled, interrupted */
    "  status_message TEXT,"
    "  result TEXT," /* JSON: the result object, once finished */
    "  is_error INTEGER NOT NULL DEFAULT 0,"
    "  server_pid INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  ttl_ms INTEGER NOT NULL,"
    "  expires_ms INTEGER NOT NULL"
    ");"
    "CREATE INDEX tasks_by_expiry ON tasks (expires_ms);",
    /* 3: which engine ran each turn, for `codexmcp ps` (NULL before). */
    "ALTER TABLE turns ADD COLUMN engine TEXT;",
};

/* Something went wrong on the worker: said on the loop when the
 * operation is done (log.c is not for other threads). */
static void note(store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(store *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = xvasprintf(fmt, ap);
    va_end(ap);
    buf_t *w = &s->cur->warnings;
    if (w->len)
        buf_append(w, "; ", 2);
    buf_append(w, text, strlen(text));
    free(text);
}

/* A failure because another process holds the registry: worth another
 * try later, not a warning yet. */
static int busy_code(int rc)
{
    rc &= 0xff;
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

static void warn_db(store *s, const char *what)
{
    if (busy_code(sqlite3_errcode(s->db)))
        s->cur->busy = 1;
    note(s, "session registry %s: %s failed: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int exec_sql(store *s, const char *sql, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    if (busy_code(rc) && s->cur)
        s->cur->busy = 1;
    note(s, "session registry %s: %s failed: %s", s->path, what, msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return -1;
}

static int user_version(store *s, int *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Brings the schema up to date in one transaction: two processes opening
 * a new registry at once migrate it once. */
static int migrate(store *s, char **error)
{
    int n = (int)(sizeof(migrations) / sizeof(migrations[0]));
    int v = 0;
    /* Up to date (the usual case): no write lock is taken. */
    if (user_version(s, &v) == 0 && v >= n)
        return 0;
    if (exec_sql(s, "BEGIN IMMEDIATE", "starting the migration") != 0)
        goto fail;
    if (user_version(s, &v) != 0)
        goto rollback;
    for (; v < n; v++) {
        if (exec_sql(s, migrations[v], "a migration") != 0)
            goto rollback;
        char *set = xasprintf("PRAGMA user_version = %d", v + 1);
        int rc = exec_sql(s, set, "setting the schema version");
        free(set);
        if (rc != 0)
            goto rollback;
    }
    if (exec_sql(s, "COMMIT", "committing the migration") == 0)
        return 0;
rollback:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
fail:
    *error = xasprintf("cannot use the session registry %s: %s", s->path, sqlite3_errmsg(s->db));
    return -1;
}

/* fold(text): store_row_fold, for queries that ignore case. */
static void fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *in = (const char *)sqlite3_value_text(argv[0]);
    if (in == NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    size_t n;
    char *out = store_row_fold(in, (size_t)sqlite3_value_bytes(argv[0]), &n);
    sqlite3_result_text(ctx, out, (int)n, free);
}

/* Opens, creates and migrates the database: 0, or -1 with *error set. */
static int store_open(store *s, char **error)
{
    const char *path = s->path;
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir_private(dir) != 0) {
            *error = xasprintf("cannot create the state directory %s: %s", dir, strerror(errno));
            free(dir);
            return -1;
        }
    }
    free(dir);
    /* Made 0600 before SQLite opens it; its -wal and -shm files take the
     * mode of the database. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    int rc = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        *error = xasprintf("cannot open the session registry %s: %s", path,
                           s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        return -1;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    sqlite3_create_function(s->db, "fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, fold, NULL,
                            NULL);
    /* WAL: readers never wait for the writer, and a process killed
     * mid-write leaves the last committed state. */
    char *cache = xasprintf("PRAGMA cache_size = -%d", STORE_CACHE_KIB);
    int rc_cache = exec_sql(s, cache, "sizing the cache");
    free(cache);
    if (rc_cache != 0 || exec_sql(s, "PRAGMA journal_mode = WAL", "switching to WAL") != 0 ||
        exec_sql(s, "PRAGMA synchronous = NORMAL", "setting synchronous") != 0 ||
        migrate(s, error) != 0) {
        if (*error == NULL)
            *error =
                xasprintf("cannot use the session registry %s: %s", path, sqlite3_errmsg(s->db));
        return -1;
    }
    return 0;
}

/* Opens the registry when it is not open, at most every STORE_RETRY_MS
 * after a failure; non-zero when it can be used (worker side). */
static int ready(store *s)
{
    if (s->db)
        return 1;
    int64_t now = now_unix_ms();
    if (s->error && now < s->retry_ms)
        return 0;
    char *error = NULL;
    if (store_open(s, &error) != 0) {
        sqlite3_close(s->db);
        s->db = NULL;
        if (s->error == NULL || strcmp(s->error, error) != 0)
            note(s, "%s; calls go on without history", error);
        free(s->error);
        s->error = error;
        /* Another process holding the lock while it opens (or migrates) a
         * new registry is no reason to wait 5 s: the operation, marked
         * busy, is tried again after the usual backoff, and so is this. */
        s->retry_ms = now + (s->cur && s->cur->busy ? (int64_t)STORE_BACKOFF_MS : STORE_RETRY_MS);
        return 0;
    }
    free(s->error);
    s->error = NULL;
    return 1;
}

/* ---- statements ---- */

static sqlite3_stmt *prepare(store *s, const char *sql, const char *what)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        warn_db(s, what);
        return NULL;
    }
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *text)
{
    if (text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Runs a statement that returns no rows and finalizes it. */
static int run(store *s, sqlite3_stmt *st, const char *what)
{
    if (st == NULL)
        return -1;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        warn_db(s, what);
        return -1;
    }
    return 0;
}

/* At most `max` bytes of s (n bytes), valid UTF-8, on one line if `line`. */
static char *shortened(const char *s, size_t n, size_t max, int line)
{
    size_t take = n < max ? n : max;
    while (take > 0 && take < n && ((unsigned char)s[take] & 0xc0) == 0x80)
        take--; /* not inside a character */
    char *clean = utf8_sanitize(s, take, take * 3 + 4);
    if (line)
        for (char *p = clean; *p; p++)
            if (*p == '\n' || *p == '\t')
                *p = ' ';
    if (take < n) {
        char *more = xasprintf("%s…", clean);
        free(clean);
        clean = more;
    }
    return clean;
}

static int64_t do_begin(store *s, const store_turn *t)
{
    if (!ready(s))
        return 0;
    sqlite3_stmt *st = prepare(s,
                               "INSERT INTO turns (tool, cwd, prompt, status, transcript, "
                               "server_pid, started_ms, engine) VALUES (?, ?, ?, 'running', ?, "
                               "?, ?, ?)",
                               "recording a turn");
    if (st == NULL)
        return 0;
    char *prompt = shortened(t->prompt ? t->prompt : "", t->prompt_len, STORE_PROMPT_MAX, 0);
    bind_text(st, 1, t->tool);
    bind_text(st, 2, t->cwd);
    bind_text(st, 3, prompt);
    bind_text(st, 4, t->transcript);
    sqlite3_bind_int64(st, 5, getpid());
    sqlite3_bind_int64(st, 6, now_unix_ms());
    bind_text(st, 7, t->engine);
    free(prompt);
    if (run(s, st, "recording a turn") != 0)
        return 0;
    return sqlite3_last_insert_rowid(s->db);
}

/* Creates the session's row, or touches it; `running` says a turn runs. */
static int upsert_session(store *s, const char *session_id, const store_turn *t, const char *status,
                          int64_t now)
{
    char *title = shortened(t->prompt ? t->prompt : "", t->prompt_len, STORE_TITLE_MAX, 1);
    sqlite3_stmt *st =
        prepare(s,
                "INSERT INTO sessions (id, cwd, title, tool, created_ms, updated_ms, "
                "last_status) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) "
                "ON CONFLICT (id) DO UPDATE SET updated_ms = ?5, last_status = ?6",
                "recording a session");
    if (st) {
        bind_text(st, 1, session_id);
        bind_text(st, 2, t->cwd);
        bind_text(st, 3, title);
        bind_text(st, 4, t->tool);
        sqlite3_bind_int64(st, 5, now);
        bind_text(st, 6, status);
    }
    free(title);
    return run(s, st, "recording a session");
}

static void do_session(store *s, int64_t turn, const char *session_id, const store_turn *t)
{
    if (session_id == NULL || !ready(s))
        return;
    if (exec_sql(s, "BEGIN IMMEDIATE", "recording a session") != 0)
        return;
    int rc = upsert_session(s, session_id, t, "running", now_unix_ms());
    if (rc == 0 && turn > 0) {
        sqlite3_stmt *st =
            prepare(s, "UPDATE turns SET session_id = ? WHERE id = ?", "naming a turn's session");
        if (st) {
            bind_text(st, 1, session_id);
            sqlite3_bind_int64(st, 2, turn);
        }
        rc = run(s, st, "naming a turn's session");
    }
    exec_sql(s, rc == 0 ? "COMMIT" : "ROLLBACK", "committing a session");
}

/* The turn ended. Its session's row is created if it is not there (a
 * session started elsewhere, or whose start could not be recorded), so the
 * session's turns always count the turns listed under it. */
static void do_end(store *s, int64_t turn, const store_turn *t, const char *session_id, int named,
                   const char *status, const char *err, const char *last, const char *use)
{
    if (!ready(s))
        return;
    if (exec_sql(s, "BEGIN IMMEDIATE", "ending a turn") != 0)
        return;
    int64_t now = now_unix_ms();
    int rc = 0;
    sqlite3_stmt *st;
    if (turn <= 0) /* its start was not recorded: record the whole turn now */
        turn = do_begin(s, t);
    st = prepare(s,
                 "UPDATE turns SET status = ?, error = ?, last_message = ?, "
                 "usage = ?, finished_ms = ?, session_id = coalesce(session_id, ?) "
                 "WHERE id = ?",
                 "ending a turn");
    if (st) {
        bind_text(st, 1, status);
        bind_text(st, 2, err);
        bind_text(st, 3, last);
        bind_text(st, 4, use);
        sqlite3_bind_int64(st, 5, now);
        bind_text(st, 6, session_id);
        sqlite3_bind_int64(st, 7, turn);
    }
    rc = turn > 0 ? run(s, st, "ending a turn") : (sqlite3_finalize(st), -1);
    /* A session codex named is recorded; one a call only asked to resume
     * and codex never confirmed may not exist: only updated if known. */
    if (rc == 0 && session_id && named)
        rc = upsert_session(s, session_id, t, status, now);
    if (rc == 0 && session_id) {
        st = prepare(s,
                     "UPDATE sessions SET updated_ms = ?, last_status = ?, "
                     "last_message = coalesce(?, last_message), usage = coalesce(?, usage) "
                     "WHERE id = ?",
                     "ending a session's turn");
        if (st) {
            sqlite3_bind_int64(st, 1, now);
            bind_text(st, 2, status);
            bind_text(st, 3, last);
            bind_text(st, 4, use);
            bind_text(st, 5, session_id);
        }
        rc = run(s, st, "ending a session's turn");
    }
    exec_sql(s, rc == 0 ? "COMMIT" : "ROLLBACK", "committing a turn");
}

static void do_task_put(store *s, const store_task *t)
{
    if (!ready(s))
        return;
    int64_t now = now_unix_ms();
    sqlite3_stmt *st = prepare(s, "DELETE FROM tasks WHERE expires_ms < ?", "forgetting old tasks");
    if (st) {
        sqlite3_bind_int64(st, 1, now);
        (void)run(s, st, "forgetting old tasks");
    }
    st = prepare(s,
                 "INSERT OR REPLACE INTO tasks (id, tool, session_id, status, status_message, "
                 "result, is_error, server_pid, created_ms, updated_ms, ttl_ms, expires_ms) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 "recording a task");
    if (st == NULL)
        return;
    bind_text(st, 1, t->id);
    bind_text(st, 2, t->tool);
    bind_text(st, 3, t->session_id);
    bind_text(st, 4, t->status);
    bind_text(st, 5, t->status_message);
    bind_text(st, 6, t->result);
    sqlite3_bind_int(st, 7, t->is_error);
    sqlite3_bind_int64(st, 8, getpid());
    sqlite3_bind_int64(st, 9, t->created_ms);
    sqlite3_bind_int64(st, 10, t->updated_ms);
    sqlite3_bind_int64(st, 11, t->ttl_ms);
    sqlite3_bind_int64(st, 12, t->expires_ms);
    (void)run(s, st, "recording a task");
}

/* ---- reading ---- */

/* The first n columns of the row st is on, for store_row.h. */
static void read_cols(sqlite3_stmt *st, store_col *c, int n)
{
    for (int i = 0; i < n; i++) {
        c[i].text = (const char *)sqlite3_column_text(st, i);
        c[i].len = (size_t)sqlite3_column_bytes(st, i);
        c[i].num = sqlite3_column_int64(st, i);
    }
}

static json_t *do_task_get(store *s, const char *id, char **error)
{
    if (!ready(s)) {
        *error = xasprintf("the session registry is not available: %s", s->error);
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT id, tool, session_id, status, status_message, result, "
                                "is_error, server_pid, created_ms, updated_ms, ttl_ms FROM tasks "
                                "WHERE id = ? AND expires_ms >= ?",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        bind_text(st, 1, id);
        sqlite3_bind_int64(st, 2, now_unix_ms());
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return json_null();
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        *error =
            xasprintf("the session registry %s cannot be read: %s", s->path, sqlite3_errmsg(s->db));
        return NULL;
    }
    store_col c[STORE_ROW_TASK_COLS];
    read_cols(st, c, STORE_ROW_TASK_COLS);
    json_t *row = store_row_task(c, pid_alive);
    sqlite3_finalize(st);
    return row;
}

static const char *session_columns =
    "SELECT id, cwd, title, tool, created_ms, updated_ms, (SELECT count(*) FROM turns t WHERE "
    "t.session_id = s.id AND t.status != 'running'), last_status, last_message, "
    "usage, (SELECT count(*) FROM turns t WHERE t.session_id = s.id AND t.status = 'running'), "
    "(SELECT group_concat(server_pid) FROM turns t WHERE t.session_id = s.id AND "
    "t.status = 'running'), (SELECT transcript FROM turns t WHERE t.session_id = s.id "
    "ORDER BY id DESC LIMIT 1) FROM sessions s ";

static json_t *session_row(sqlite3_stmt *st)
{
    store_col c[STORE_ROW_SESSION_COLS];
    read_cols(st, c, STORE_ROW_SESSION_COLS);
    return store_row_session(c, pid_alive);
}

static json_t *do_sessions(store *s, const char *cwd, const char *text, unsigned limit,
                           char **error)
{
    if (!ready(s)) {
        *error = xasprintf("the session registry is not available: %s", s->error);
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    char *sql = xasprintf("%s WHERE (?1 IS NULL OR cwd = ?1 OR substr(cwd, 1, length(?4)) = ?4) "
                          "AND (?2 IS NULL OR instr(fold(title), fold(?2)) > 0 OR "
                          "instr(fold(coalesce(last_message, '')), fold(?2)) > 0) "
                          "ORDER BY updated_ms DESC, rowid DESC LIMIT ?3",
                          session_columns);
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    free(sql);
    if (rc != SQLITE_OK) {
        *error =
            xasprintf("the session registry %s cannot be read: %s", s->path, sqlite3_errmsg(s->db));
        return NULL;
    }
    /* "/a/b/" matches what "/a/b" does. */
    char *dir = cwd ? xstrdup(cwd) : NULL;
    for (size_t n = dir ? strlen(dir) : 0; n > 1 && dir[n - 1] == '/'; n--)
        dir[n - 1] = '\0';
    /* Below it: under "DIR/" ("/" for the root). */
    char *below = dir ? xasprintf("%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/") : NULL;
    bind_text(st, 1, dir);
    bind_text(st, 2, text);
    sqlite3_bind_int(st, 3, (int)limit);
    bind_text(st, 4, below);
    free(dir);
    free(below);
    json_t *rows = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(rows, session_row(st));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        *error =
            xasprintf("the session registry %s cannot be read: %s", s->path, sqlite3_errmsg(s->db));
        json_decref(rows);
        return NULL;
    }
    return rows;
}

static json_t *do_turns(store *s, const char *session_id, unsigned limit, char **error)
{
    if (!ready(s)) {
        *error = xasprintf("the session registry is not available: %s", s->error);
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    char *sql = xasprintf("%s WHERE id = ?1", session_columns);
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    free(sql);
    if (rc != SQLITE_OK)
        goto fail;
    bind_text(st, 1, session_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return json_null();
    }
    if (rc != SQLITE_ROW)
        goto fail;
    json_t *session = session_row(st);
    sqlite3_finalize(st);
    st = NULL;
    /* The newest `limit` turns, numbered from the session's first. */
    rc = sqlite3_prepare_v2(
        s->db,
        "SELECT tool, prompt, status, started_ms, finished_ms, last_message, error, server_pid, "
        "usage, transcript, n FROM (SELECT *, row_number() OVER (ORDER BY id) AS n FROM turns "
        "WHERE session_id = ?1) ORDER BY id DESC LIMIT ?2",
        -1, &st, NULL);
    if (rc != SQLITE_OK) {
        json_decref(session);
        goto fail;
    }
    bind_text(st, 1, json_string_value(json_object_get(session, "SESSION_ID")));
    sqlite3_bind_int(st, 2, (int)limit);
    json_t *turns = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_col c[STORE_ROW_TURN_COLS];
        read_cols(st, c, STORE_ROW_TURN_COLS);
        json_array_insert_new(turns, 0, store_row_turn(c, pid_alive));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(session);
        json_decref(turns);
        st = NULL;
        goto fail;
    }
    return json_pack("{s:o, s:o}", "session", session, "turns", turns);
fail:
    sqlite3_finalize(st);
    *error =
        xasprintf("the session registry %s cannot be read: %s", s->path, sqlite3_errmsg(s->db));
    return NULL;
}

/* ---- the queue: operations run one at a time on libuv's thread pool ---- */

static void op_free(op *o)
{
    free((char *)o->t.tool);
    free((char *)o->t.cwd);
    free((char *)o->t.prompt);
    free((char *)o->t.transcript);
    free((char *)o->t.engine);
    free(o->session_id);
    free(o->status);
    free(o->error);
    free(o->last);
    free(o->usage);
    free(o->cwd);
    free(o->text);
    free(o->read_error);
    free((char *)o->task.id);
    free((char *)o->task.tool);
    free((char *)o->task.session_id);
    free((char *)o->task.status);
    free((char *)o->task.status_message);
    free((char *)o->task.result);
    json_decref(o->answer);
    buf_free(&o->warnings);
    free(o);
}

static void run_op(store *s, op *o)
{
    s->cur = o;
    o->busy = 0;
    o->ran = 1;
    if (o->first_ms == 0)
        o->first_ms = now_unix_ms();
    if (s->db) /* exiting: a locked registry is not waited for */
        sqlite3_busy_timeout(s->db, s->stopping ? 0 : STORE_BUSY_TIMEOUT_MS);
    int64_t turn = o->turn ? o->turn->id : 0;
    switch (o->kind) {
    case OP_BEGIN:
        /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): store_turn_begin gives it one */
        o->turn->id = do_begin(s, &o->t);
        break;
    case OP_SESSION:
        do_session(s, turn, o->session_id, &o->t);
        break;
    case OP_END:
        do_end(s, turn, &o->t, o->session_id, o->named, o->status, o->error, o->last, o->usage);
        break;
    case OP_SESSIONS:
        o->answer = do_sessions(s, o->cwd, o->text, o->limit, &o->read_error);
        break;
    case OP_TURNS:
        o->answer = do_turns(s, o->session_id, o->limit, &o->read_error);
        break;
    case OP_TASK_PUT:
        do_task_put(s, &o->task);
        break;
    case OP_TASK_GET:
        o->answer = do_task_get(s, o->task.id, &o->read_error);
        break;
    }
    s->cur = NULL;
}

/* Runs the batch in order. It stops at an operation that found the
 * registry locked, so that what was asked for after it stays after it. */
static void work(uv_work_t *w)
{
    store *s = w->data;
    for (op *o = s->batch; o; o = o->next) {
        run_op(s, o);
        if (o->busy)
            break;
    }
}

static void pump(store *s);

static void backoff_done(uv_timer_t *t)
{
    store *s = t->data;
    s->backing_off = 0;
    pump(s);
}

static void push_front(op **head, op **tail, op *o)
{
    o->next = *head;
    *head = o;
    if (*tail == NULL)
        *tail = o;
}

static void push_back(op **head, op **tail, op *o)
{
    o->next = NULL;
    if (*tail)
        (*tail)->next = o;
    else
        *head = o;
    *tail = o;
}

static op *pop(op **head, op **tail)
{
    op *o = *head;
    if (o) {
        *head = o->next;
        if (*head == NULL)
            *tail = NULL;
        o->next = NULL;
    }
    return o;
}

static int is_read(const op *o)
{
    return o->kind == OP_SESSIONS || o->kind == OP_TURNS || o->kind == OP_TASK_GET;
}

/* An operation the worker ran, or could not run (status non-zero). */
static void op_done(store *s, op *o, int status)
{
    /* A write that found the registry locked by another process goes back
     * to the head of the writes, for a later try; reads go on meanwhile. */
    if (o->busy && status == 0 && !s->stopping &&
        now_unix_ms() - o->first_ms < (is_read(o) ? STORE_READ_GIVE_UP_MS : STORE_GIVE_UP_MS)) {
        buf_reset(&o->warnings);
        if (is_read(o)) {
            /* a read that found the registry locked past the busy timeout
             * (another process checkpointing, a loaded machine) is asked
             * again rather than failed */
            free(o->read_error);
            o->read_error = NULL;
            json_decref(o->answer);
            o->answer = NULL;
            push_front(&s->reads, &s->reads_tail, o);
        } else {
            push_front(&s->writes, &s->writes_tail, o);
        }
        s->queued++;
        s->backing_off = 1;
        uv_timer_start(&s->backoff, backoff_done, STORE_BACKOFF_MS, 0);
        return;
    }
    if (o->warnings.len)
        log_msg(LOG_WARNING, "%s%s", o->warnings.data,
                o->busy ? " (the registry stayed locked; this record is lost)" : "");
    if (o->cb) {
        if (status != 0 && o->answer == NULL && o->read_error == NULL)
            o->read_error = xstrdup("the session registry was not read: the server is stopping");
        o->cb(o->ctx, o->answer, o->read_error);
        o->answer = NULL;
    }
    store_turn_release(o->turn);
    op_free(o);
}

/* NOLINTNEXTLINE(misc-no-recursion): pump calls it at once only if uv_queue_work fails */
static void work_done(uv_work_t *w, int status)
{
    store *s = w->data;
    op *ops[STORE_BATCH_MAX];
    size_t n = 0;
    for (op *o = s->batch, *next; o; o = next) {
        next = o->next;
        o->next = NULL;
        ops[n++] = o;
    }
    s->batch = NULL;
    s->running = 0;
    /* What the worker did not reach (it stopped at a locked registry) goes
     * back to the head of its queue, in order, behind the locked one. */
    for (size_t i = n; i-- > 0;) {
        if (status != 0 || ops[i]->ran)
            continue;
        if (is_read(ops[i]))
            push_front(&s->reads, &s->reads_tail, ops[i]);
        else
            push_front(&s->writes, &s->writes_tail, ops[i]);
        s->queued++;
    }
    for (size_t i = 0; i < n; i++)
        if (status != 0 || ops[i]->ran)
            op_done(s, ops[i], status);
    if (s->dropped > 0 && s->queued == 0) {
        log_msg(LOG_WARNING,
                "session registry %s: %zu operations were not recorded while too "
                "many waited",
                s->path, s->dropped);
        s->dropped = 0;
    }
    pump(s);
}

/* Sends the next batch to the worker: the writes waiting, in order, then
 * the reads, so that a read finds what was written before it was asked (a
 * codex_sessions right after a call lists that call). While the writes back
 * off (the registry is locked), the reads go alone. */
/* NOLINTNEXTLINE(misc-no-recursion): see work_done */
static void pump(store *s)
{
    if (s->running)
        return;
    op *tail = NULL, *o;
    size_t n = 0;
    while (n < STORE_BATCH_MAX && !s->backing_off &&
           (o = pop(&s->writes, &s->writes_tail)) != NULL) {
        push_back(&s->batch, &tail, o);
        n++;
    }
    while (n < STORE_BATCH_MAX && (o = pop(&s->reads, &s->reads_tail)) != NULL) {
        push_back(&s->batch, &tail, o);
        n++;
    }
    if (n == 0)
        return;
    for (o = s->batch; o; o = o->next)
        o->ran = 0;
    s->queued -= n;
    s->running = 1;
    s->work.data = s;
    if (uv_queue_work(s->loop, &s->work, work, work_done) != 0) {
        for (o = s->batch; o; o = o->next)
            if (o->read_error == NULL)
                o->read_error = xstrdup("the session registry could not be reached");
        work_done(&s->work, UV_ECANCELED);
    }
}

/* Queues o. Past STORE_QUEUE_MAX it is refused (freed), except a turn's
 * end, which can record the whole turn alone. There is one per call, and it
 * outlives its call: they are bounded by the calls that end while the
 * worker is on one batch, or, while another process holds the registry
 * locked, by those that end within STORE_GIVE_UP_MS. */
static void submit(store *s, op *o)
{
    o->s = s;
    if (s->queued >= STORE_QUEUE_MAX && o->kind != OP_END &&
        !(o->kind == OP_TASK_PUT && o->final)) {
        if (s->dropped++ == 0)
            log_msg(LOG_WARNING,
                    "session registry %s: more than %u operations waiting; "
                    "recording less until it catches up",
                    s->path, STORE_QUEUE_MAX);
        if (o->cb)
            o->cb(o->ctx, NULL, "the session registry is busy: too many operations waiting");
        store_turn_release(o->turn);
        op_free(o);
        return;
    }
    if (o->kind == OP_SESSIONS || o->kind == OP_TURNS || o->kind == OP_TASK_GET)
        push_back(&s->reads, &s->reads_tail, o);
    else
        push_back(&s->writes, &s->writes_tail, o);
    s->queued++;
    pump(s);
}

static op *op_new(op_kind kind, store_turn_ref *turn, const store_turn *t)
{
    op *o = xcalloc(1, sizeof(*o));
    o->kind = kind;
    buf_init(&o->warnings, (size_t)16 * 1024);
    if (turn) {
        turn->refs++;
        o->turn = turn;
    }
    if (t) {
        o->t.tool = t->tool ? xstrdup(t->tool) : NULL;
        o->t.cwd = t->cwd ? xstrdup(t->cwd) : NULL;
        /* Only what shortened() reads, with the length it had: the cut is
         * then made, and marked, there. */
        size_t copy = t->prompt_len < STORE_PROMPT_MAX ? t->prompt_len : STORE_PROMPT_MAX;
        o->t.prompt = xstrndup(t->prompt ? t->prompt : "", t->prompt ? copy : 0);
        o->t.prompt_len = t->prompt ? t->prompt_len : 0;
        o->t.transcript = t->transcript ? xstrdup(t->transcript) : NULL;
        o->t.engine = t->engine ? xstrdup(t->engine) : NULL;
    }
    return o;
}

store *store_new(uv_loop_t *loop, const char *path)
{
    store *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->path = xstrdup(path);
    uv_timer_init(loop, &s->backoff);
    s->backoff.data = s;
    return s;
}

void store_stop(store *s)
{
    if (s == NULL || s->stopping)
        return;
    s->stopping = 1;
    s->backing_off = 0;
    uv_close((uv_handle_t *)&s->backoff, NULL);
    pump(s);
}

void store_close(store *s)
{
    if (s == NULL)
        return;
    /* The loop has run dry: no operation is waiting or running. */
    sqlite3_close(s->db);
    free(s->path);
    free(s->error);
    free(s);
}

store_turn_ref *store_turn_begin(store *s, const store_turn *t)
{
    if (s == NULL)
        return NULL;
    store_turn_ref *turn = xcalloc(1, sizeof(*turn));
    turn->refs = 1; /* the caller's */
    submit(s, op_new(OP_BEGIN, turn, t));
    return turn;
}

void store_turn_session(store *s, store_turn_ref *turn, const char *session_id, const store_turn *t)
{
    if (s == NULL || session_id == NULL)
        return;
    op *o = op_new(OP_SESSION, turn, t);
    o->session_id = session_id_key(session_id);
    submit(s, o);
}

void store_turn_end(store *s, store_turn_ref *turn, const store_turn *t, const char *session_id,
                    int named, const char *status, const char *error, const char *last_message,
                    size_t last_len, json_t *usage)
{
    if (s == NULL)
        return;
    op *o = op_new(OP_END, turn, t);
    o->session_id = session_id_key(session_id);
    o->named = named;
    o->status = xstrdup(status);
    o->error = error ? shortened(error, strlen(error), STORE_MESSAGE_MAX, 0) : NULL;
    o->last = last_message ? shortened(last_message, last_len, STORE_MESSAGE_MAX, 0) : NULL;
    o->usage = usage ? json_dumps(usage, JSON_COMPACT) : NULL;
    submit(s, o);
}

void store_turn_release(store_turn_ref *turn)
{
    if (turn && --turn->refs == 0)
        free(turn);
}

void store_sessions(store *s, const char *cwd, const char *text, unsigned limit, store_read_cb cb,
                    void *ctx)
{
    op *o = op_new(OP_SESSIONS, NULL, NULL);
    o->cwd = cwd ? xstrdup(cwd) : NULL;
    o->text = text ? xstrdup(text) : NULL;
    o->limit = limit;
    o->cb = cb;
    o->ctx = ctx;
    submit(s, o);
}

void store_session_turns(store *s, const char *session_id, unsigned limit, store_read_cb cb,
                         void *ctx)
{
    op *o = op_new(OP_TURNS, NULL, NULL);
    o->session_id = session_id_key(session_id);
    o->limit = limit;
    o->cb = cb;
    o->ctx = ctx;
    submit(s, o);
}

static char *dup_or_null(const char *v)
{
    return v ? xstrdup(v) : NULL;
}

void store_task_put(store *s, const store_task *t)
{
    if (s == NULL)
        return;
    op *o = op_new(OP_TASK_PUT, NULL, NULL);
    o->task = *t;
    o->task.id = dup_or_null(t->id);
    o->task.tool = dup_or_null(t->tool);
    o->task.session_id = dup_or_null(t->session_id);
    o->task.status = dup_or_null(t->status);
    o->task.status_message = dup_or_null(t->status_message);
    o->task.result = dup_or_null(t->result);
    o->final = t->result != NULL;
    submit(s, o);
}

void store_task_get(store *s, const char *id, store_read_cb cb, void *ctx)
{
    op *o = op_new(OP_TASK_GET, NULL, NULL);
    o->task.id = xstrdup(id);
    o->cb = cb;
    o->ctx = ctx;
    submit(s, o);
}

/* ---- the command line's reads ---- */

static char *read_error(store *s)
{
    return xasprintf("the session registry %s cannot be read: %s", s->path, sqlite3_errmsg(s->db));
}

/* The registry at `path` opened read-only on this thread, or NULL: with
 * *error set when it cannot be read, without when there is none yet (no
 * file, or one no migration has run on). Nothing is written: not the
 * journal mode, not a migration (an older schema is read as it is, see
 * `engine_col`). */
static store *open_now(const char *path, char **error)
{
    *error = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT)
            *error = xasprintf("cannot read the session registry %s: %s", path, strerror(errno));
        return NULL;
    }
    store *s = xcalloc(1, sizeof(*s));
    s->path = xstrdup(path);
    s->cur = op_new(OP_SESSIONS, NULL, NULL); /* where note() writes */
    int v = 0, rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
        if (user_version(s, &v) != 0) {
            *error = read_error(s);
        } else if (v == 0) {
            /* Made, not yet migrated (the server does it at once): empty. */
            sqlite3_stmt *q = NULL;
            int tables = -1;
            if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master", -1, &q, NULL) ==
                    SQLITE_OK &&
                sqlite3_step(q) == SQLITE_ROW)
                tables = sqlite3_column_int(q, 0);
            sqlite3_finalize(q);
            if (tables != 0)
                *error = tables < 0 ? read_error(s)
                                    : xasprintf("%s is not a codexmcp session registry", path);
            goto none;
        }
    } else {
        *error = xasprintf("cannot open the session registry %s: %s", path,
                           s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    }
    if (*error == NULL) {
        s->version = v;
        return s;
    }
none:
    sqlite3_close(s->db);
    op_free(s->cur);
    free(s->path);
    free(s);
    return NULL;
}

static void close_now(store *s)
{
    if (s == NULL)
        return;
    sqlite3_close(s->db);
    op_free(s->cur);
    free(s->path);
    free(s);
}

/* The turns' columns ps and log read (store_row_call): engine came with
 * schema 3, and reads as NULL before. A new string. */
static char *call_sql(const store *s, const char *rest)
{
    return xasprintf("SELECT id, session_id, tool, cwd, %s, prompt, status, started_ms, "
                     "finished_ms, last_message, error, server_pid, transcript, %s",
                     s->version >= 3 ? "engine" : "NULL", rest);
}

/* The statement of call_sql(s, rest) prepared, or NULL. */
static sqlite3_stmt *prepare_calls(const store *s, const char *rest)
{
    sqlite3_stmt *st = NULL;
    char *sql = call_sql(s, rest);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        st = NULL;
    }
    free(sql);
    return st;
}

/* Appends the rows of st (call_sql) to rows: 0, or -1. */
static int call_rows(sqlite3_stmt *st, json_t *rows)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_col c[STORE_ROW_CALL_COLS];
        read_cols(st, c, STORE_ROW_CALL_COLS);
        json_array_append_new(rows, store_row_call(c, pid_alive));
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

static int64_t row_int(json_t *row, const char *key)
{
    return json_integer_value(json_object_get(row, key));
}

/* When a call ended, for the order of the finished ones: a call left
 * running by a server that is gone ended, as far as anyone knows, when it
 * started. */
static int64_t ended_ms(json_t *row)
{
    json_t *f = json_object_get(row, "finished_ms");
    return json_is_integer(f) ? json_integer_value(f) : row_int(row, "started_ms");
}

json_t *store_read_calls(const char *path, unsigned recent, char **error)
{
    store *s = open_now(path, error);
    if (s == NULL)
        return *error ? NULL : json_array();
    json_t *running = json_array(), *ended = json_array(), *out = NULL;
    sqlite3_stmt *st = prepare_calls(s, "0 FROM turns WHERE status = 'running' ORDER BY id");
    if (st == NULL || call_rows(st, running) != 0)
        goto fail;
    sqlite3_finalize(st);
    st = prepare_calls(s, "0 FROM turns WHERE status != 'running' "
                          "ORDER BY finished_ms DESC, id DESC LIMIT ?1");
    if (st == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, recent);
    if (call_rows(st, ended) != 0)
        goto fail;
    sqlite3_finalize(st);
    st = NULL;
    out = json_array();
    size_t i;
    /* Those whose server is gone go among the finished, by time. */
    for (i = 0; i < json_array_size(running);) {
        json_t *row = json_array_get(running, i);
        if (strcmp(json_string_value(json_object_get(row, "status")), "running") == 0) {
            json_array_append(out, row);
            i++;
            continue;
        }
        size_t at = 0;
        while (at < json_array_size(ended) && ended_ms(json_array_get(ended, at)) >= ended_ms(row))
            at++;
        json_array_insert(ended, at, row);
        json_array_remove(running, i);
    }
    for (i = 0; i < json_array_size(ended) && i < recent; i++)
        json_array_append(out, json_array_get(ended, i));
    json_decref(running);
    json_decref(ended);
    close_now(s);
    return out;
fail:
    *error = read_error(s);
    sqlite3_finalize(st);
    json_decref(running);
    json_decref(ended);
    close_now(s);
    return NULL;
}

/* Up to 6 session ids `id` names (`exact`: it is one of them). */
static int match_sessions(store *s, const char *id, json_t *ids, int *exact)
{
    sqlite3_stmt *st = NULL;
    *exact = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id FROM sessions WHERE id = ?1 UNION "
                           "SELECT id FROM (SELECT id FROM sessions WHERE "
                           "substr(id, 1, length(?1)) = ?1 ORDER BY updated_ms DESC LIMIT 6)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    bind_text(st, 1, id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (v && strcmp(v, id) == 0)
            *exact = 1;
        json_array_append_new(ids, v ? json_string(v) : json_null());
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

json_t *store_read_session(const char *path, const char *id, char **error)
{
    store *s = open_now(path, error);
    if (s == NULL)
        return *error ? NULL : json_null();
    json_t *ids = json_array(), *turns = NULL;
    sqlite3_stmt *st = NULL;
    int exact;
    char *key = session_id_key(id); /* a UUID in lower case */
    if (match_sessions(s, key, ids, &exact) != 0) {
        *error = read_error(s);
        goto done;
    }
    if (json_array_size(ids) == 0) {
        turns = json_null();
        goto done;
    }
    if (!exact && json_array_size(ids) > 1) {
        buf_t list;
        buf_init(&list, (size_t)-1 / 2);
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v)
        {
            if (i == 5)
                break; /* a sixth says there are more */
            buf_append(&list, "\n  ", 3);
            if (json_is_string(v))
                buf_append(&list, json_string_value(v), json_string_length(v));
        }
        *error = xasprintf("\"%s\" is the start of more than one session:%s%s", id, list.data,
                           json_array_size(ids) > 5 ? "\n  …" : "");
        buf_free(&list);
        goto done;
    }
    const char *sid = exact ? key : json_string_value(json_array_get(ids, 0));
    st = prepare_calls(s, "row_number() OVER (ORDER BY id) FROM turns "
                          "WHERE session_id = ?1 ORDER BY id");
    if (st == NULL) {
        *error = read_error(s);
        goto done;
    }
    bind_text(st, 1, sid);
    json_t *rows = json_array();
    if (call_rows(st, rows) != 0) {
        *error = read_error(s);
        json_decref(rows);
        goto done;
    }
    turns = json_pack("{s:s, s:o}", "SESSION_ID", sid, "turns", rows);
done:
    sqlite3_finalize(st);
    free(key);
    json_decref(ids);
    close_now(s);
    return turns;
}

json_t *store_read_summary(const char *path, char **error)
{
    store *s = open_now(path, error);
    if (s == NULL)
        return *error ? NULL
                      : json_pack("{s:b, s:i, s:i, s:i}", "exists", 0, "sessions", 0, "turns", 0,
                                  "running", 0);
    json_int_t n[2] = {0, 0}, alive = 0;
    static const char *const counts[2] = {"SELECT count(*) FROM sessions",
                                          "SELECT count(*) FROM turns"};
    sqlite3_stmt *st = NULL;
    for (int i = 0; i < 2; i++) {
        if (sqlite3_prepare_v2(s->db, counts[i], -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW)
            goto fail;
        n[i] = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        st = NULL;
    }
    if (sqlite3_prepare_v2(s->db, "SELECT server_pid FROM turns WHERE status = 'running'", -1, &st,
                           NULL) != SQLITE_OK)
        goto fail;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t pid = sqlite3_column_int64(st, 0);
        if (pid > 0 && pid == (pid_t)pid && pid_alive((pid_t)pid))
            alive++;
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    close_now(s);
    return json_pack("{s:b, s:I, s:I, s:I}", "exists", 1, "sessions", n[0], "turns", n[1],
                     "running", alive);
fail:
    *error = read_error(s);
    sqlite3_finalize(st);
    close_now(s);
    return NULL;
}
