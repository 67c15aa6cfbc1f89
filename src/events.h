/* The codex event reducer, pure: folds the JSONL lines of one
 * `codex exec --json` run into the facts a result needs (session id,
 * agent messages, usage, warnings, terminal state) and describes each
 * meaningful event in one short line for progress notifications. What it
 * keeps is bounded whatever codex prints (limits.h: *_KEEP_BYTES): past
 * the bound only the newest message and event are kept, and the cut is
 * marked where it is.
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

/* The first values of a stream up to `max` bytes, then only the newest
 * one: what a turn keeps of something codex may make as long as it likes.
 * `dropped` values (`dropped_bytes` long) fell between the two. */
typedef struct {
    json_t *first; /* array */
    size_t bytes, max;
    json_t *last; /* the newest, once `first` is full */
    size_t last_bytes;
    size_t dropped, dropped_bytes;
} kept_t;

typedef struct {
    char *thread_id;  /* from thread.started; NULL until then */
    kept_t messages;  /* agent messages (strings), in order */
    kept_t all;       /* every event, when keep_all (else all.first is NULL) */
    json_t *usage;    /* usage of turn.completed, or NULL */
    json_t *warnings; /* array of strings, at most WARNINGS_MAX */
    size_t warnings_dropped;
    ev_terminal terminal;
    char *failure;    /* message of turn.failed */
    char *last_error; /* last fatal-looking error event, a likely cause */
    size_t events;    /* JSON events seen */
    int retrying;     /* the last line was a retry notice, not progress */
    int keep_all;
    json_t *filter;         /* item types `all` keeps (array of strings), or NULL */
    const char *transcript; /* where every event is in full (borrowed), or NULL */
} events_state;

/* keep_all: keep the events for all_messages; filter (borrowed, NULL for
 * all): only item events whose item type it lists. */
void events_init(events_state *st, int keep_all, json_t *filter);
/* The path of the transcript that keeps every event in full, named by the
 * marks of what is not kept (borrowed: it must outlive the state). */
void events_set_transcript(events_state *st, const char *path);
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
/* The newest agent message (borrowed; *len its length), or NULL. */
const char *events_last_message(const events_state *st, size_t *len);
/* Every event kept, with a marker object where events were not kept (new
 * reference), or NULL without keep_all. */
json_t *events_all_messages(const events_state *st);

/* A command as the user would type it: "/bin/bash -lc 'pytest -q'" →
 * "pytest -q". A new string. */
char *events_command_text(const char *cmd);

#endif
