/* The app-server's turn, told as `codex exec --json` tells it, pure: maps
 * the notifications of one turn of `codex app-server` (items, usage,
 * errors, the turn's end) to the event lines exec prints, once, so the
 * reducer and all_messages are the same under both engines (REFERENCE 9.3
 * and 1.2-1.4). Item ids become exec's "item_N", counted per turn.
 * Ownership: asmap_init/asmap_free; lines returned are new strings. */
#ifndef CODEXMCP_ASMAP_H
#define CODEXMCP_ASMAP_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
    json_t *ids;   /* app-server item id -> "item_N" */
    size_t next;   /* N of the next new item */
    json_t *usage; /* the thread's total usage, exec's names, or NULL */
} asmap;

void asmap_init(asmap *m);
void asmap_free(asmap *m);

/* The exec line for a notification of the turn (method and params), or
 * NULL when exec prints nothing for it (deltas, status changes, items
 * exec does not show). */
char *asmap_notification(asmap *m, const char *method, json_t *params);
/* exec's first line: {"type":"thread.started","thread_id":…}. */
char *asmap_thread_started(const char *thread_id);
/* An exec item converted from an app-server item (new reference), or NULL
 * for item types exec does not show. */
json_t *asmap_item(asmap *m, json_t *item);

#endif
