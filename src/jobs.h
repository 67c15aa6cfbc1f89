/* Runs codex turns for tool calls: a FIFO queue with at most max_parallel
 * children at once, one turn at a time per SESSION_ID, time limits, cancel,
 * progress, and the result of each run. Knows codex's argv and events;
 * pids stay inside child.c.
 * Ownership: a job is created by jobs_submit (taking the request) and
 * freed after its call is finished and its timers are closed. */
#ifndef CODEXMCP_JOBS_H
#define CODEXMCP_JOBS_H

#include <uv.h>

#include "codex_args.h"
#include "engine.h"
#include "mcp.h"
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
} jobs_config;

typedef struct jobs jobs;

void jobs_config_default(jobs_config *cfg);
jobs *jobs_new(uv_loop_t *loop, const jobs_config *cfg);
/* Runs (or queues) one codex turn for call; takes ownership of req. */
void jobs_submit(jobs *j, mcp_call *call, codex_request *req);
/* The client cancelled call: a queued job never starts, a running one has
 * its process group terminated. The call is finished either way. */
void jobs_cancel(jobs *j, mcp_call *call);
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
size_t jobs_result_budget(const jobs *j, const mcp_call *call, size_t asked);

#endif
