/* The codex event reducer, pure: folds the JSONL lines of one
 * `codex exec --json` run into the facts a result needs (session id,
 * agent messages, usage, warnings, terminal state) and describes each
 * meaningful event in one short line for progress notifications.
 * Ownership: the state owns everything in it; events_free releases it. */
#ifndef CODEXMCP_EVENTS_H
#define CODEXMCP_EVENTS_H

#include <jansson.h>
#include <stddef.h>

typedef enum {
    EV_RUNNING,   /* no terminal event yet */
    EV_COMPLETED, /* turn.completed */
    EV_FAILED,    /* turn.failed */
} ev_terminal;

typedef struct {
    char *thread_id;        /* from thread.started; NULL until then */
    json_t *agent_messages; /* array of strings, in order */
    json_t *all_messages;   /* array of every event, when keep_all */
    json_t *usage;          /* usage of turn.completed, or NULL */
    json_t *warnings;       /* array of strings, at most WARNINGS_MAX */
    size_t warnings_dropped;
    ev_terminal terminal;
    char *failure;    /* message of turn.failed */
    char *last_error; /* last fatal-looking error event, a likely cause */
    size_t events;    /* JSON events seen */
    int retrying;     /* the last line was a retry notice, not progress */
    int keep_all;
} events_state;

void events_init(events_state *st, int keep_all);
void events_free(events_state *st);

/* Feeds one stdout line (without newline). Returns a one-line description
 * for progress (the caller frees it), or NULL for events not worth one. */
char *events_feed(events_state *st, const char *line, size_t len);
/* A stdout line of `len` bytes was too long and was dropped. */
void events_overlong(events_state *st, size_t len, size_t max);
void events_warn(events_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Non-zero for codex's transient retry notices: "Reconnecting... N/M"
 * followed by the end or a space (and usually "(cause)"), and
 * "Reconnecting... waiting for network ...". */
int events_is_reconnect(const char *message);

/* The agent messages joined by a blank line (new string; *len is its
 * length, which counts NUL bytes a message may contain). */
char *events_joined_messages(const events_state *st, size_t *len);

#endif
