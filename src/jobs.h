/* Runs codex turns: a FIFO queue with at most max_parallel children at
 * once, one turn at a time per SESSION_ID, time limits, cancel, progress,
 * and the result of each run. A job does not know who waits for it (a
 * call, a background task: tasks.h); it reports through its sink. Knows
 * codex's argv and events; pids stay inside child.c.
 * Ownership: a job is created by jobs_submit (taking the request) and
 * frees itself after its sink heard `done` and its timers are closed. */
#ifndef CODEXMCP_JOBS_H
#define CODEXMCP_JOBS_H

#include <uv.h>

#include "codex_args.h"
#include "engine.h"
#include "policy.h"
#include "store.h"

typedef struct {
    const char *codex;       /* binary name or path; NULL: "codex" on PATH */
    unsigned max_parallel;   /* children at once (>= 1) */
    double timeout_s;        /* default per-call limit; 0: none */
    double idle_timeout_s;   /* limit between two events; 0: none */
    unsigned kill_grace_ms;  /* SIGTERM → SIGKILL */
    const char *state_dir;   /* transcripts go here; NULL: none */
    store *store;            /* the session registry; NULL: none */
    size_t max_result_chars; /* 0: by client (limits.h BUDGET_*) */
    engine_kind engine;      /* --engine */
    int native;              /* run the native codex behind the npm launcher */
    const policy *policy;    /* what calls may ask for; NULL: anything */
} jobs_config;

typedef struct jobs jobs;
typedef struct job job;

/* Where a job reports. Each is called on the loop; `done` exactly once,
 * possibly before jobs_submit returns. */
typedef struct {
    /* A line for progress notifications. */
    void (*progress)(void *ctx, const char *message);
    /* The turn is running (session_id NULL) or codex named its session. */
    void (*started)(void *ctx, const char *session_id);
    /* The result (a CallToolResult, stolen) and how the turn ended:
     * completed, failed, cancelled or timed_out. */
    void (*done)(void *ctx, json_t *result, const char *status, const char *session_id);
} job_sink;

typedef struct {
    int structured;   /* results carry structuredContent */
    size_t max_chars; /* the result budget */
} job_opts;

void jobs_config_default(jobs_config *cfg);
jobs *jobs_new(uv_loop_t *loop, const jobs_config *cfg);
/* Runs (or queues) one codex turn; takes ownership of req. *out is set
 * before anything runs (and the job may be done before this returns).
 * Returns -1 with *error (the caller frees it) when the call cannot even
 * be queued: the policy refuses it, codex is missing, the queue is full. */
int jobs_submit(jobs *j, codex_request *req, const job_opts *o, const job_sink *sink, void *ctx,
                job **out, char **error);
/* Stops a job: a queued one never starts, a running one has every process
 * of its call ended. It still reports `done` (status cancelled). */
void jobs_cancel(jobs *j, job *jb);
/* The client is behind on its replies (1) or caught up (0): while it is,
 * running codex processes wait on their stdout and none is started. */
void jobs_set_behind(jobs *j, int behind);
/* Shutdown, once every call has finished: the app-server is let go. */
void jobs_close(jobs *j);
/* SIGKILL every running child now (a second shutdown signal). */
void jobs_kill_now(jobs *j);
void jobs_free(jobs *j);
/* The result budget of a call (budget.h): `asked` if the call set one
 * (else 0), or the server's --max-result-chars, or what its client can
 * take (limits.h). */
size_t jobs_result_budget(const jobs *j, const char *client, size_t asked);
/* The server's caps (never NULL). */
const policy *jobs_policy(const jobs *j);

#endif
