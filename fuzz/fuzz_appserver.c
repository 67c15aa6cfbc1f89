/* libFuzzer target for the app-server's messages (asmap.c): each input line
 * is a JSON-RPC notification from `codex app-server`, mapped to exec's
 * event line as the engine maps it, and the line fed to the event reducer
 * and a result, as the job runner does. Aborts when a mapped line is not a
 * single line of JSON with a string "type", when an item has no exec id
 * ("item_N"), or when a result does not serialize. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asmap.h"
#include "codex_args.h"
#include "events.h"
#include "linebuf.h"
#include "log.h"

typedef struct {
    asmap m;
    events_state ev;
} state;

static void check_line(const char *out)
{
    size_t n = strlen(out);
    if (n == 0 || memchr(out, '\n', n) != NULL)
        abort();
    json_error_t e;
    json_t *v = json_loads(out, 0, &e);
    if (!json_is_object(v) || !json_is_string(json_object_get(v, "type")))
        abort();
    json_t *item = json_object_get(v, "item");
    if (item != NULL) {
        const char *id = json_string_value(json_object_get(item, "id"));
        if (id == NULL || strncmp(id, "item_", 5) != 0)
            abort();
    }
    json_decref(v);
}

static void on_line(void *ctx, const char *line, size_t len, int overflow)
{
    state *s = ctx;
    if (overflow)
        return;
    json_t *msg = json_loadb(line, len, 0, NULL);
    const char *method = json_string_value(json_object_get(msg, "method"));
    json_t *params = json_object_get(msg, "params");
    if (method) {
        char *out = asmap_notification(&s->m, method, params);
        if (out) {
            check_line(out);
            free(events_feed(&s->ev, out, strlen(out)));
            free(out);
        }
    }
    /* An item on its own, as thread/resume and turn/completed carry them. */
    json_t *item = json_object_get(params, "item");
    if (json_is_object(item)) {
        json_t *x = asmap_item(&s->m, item);
        if (x && !json_is_string(json_object_get(x, "id")))
            abort();
        json_decref(x);
    }
    json_decref(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_stderr_level(LOG_OFF);
    state s;
    asmap_init(&s.m);
    events_init(&s.ev, 1, NULL);
    char *first = asmap_thread_started("01a20ce6-7be7-7b52-897a-b5343d1afca6");
    check_line(first);
    free(events_feed(&s.ev, first, strlen(first)));
    free(first);
    linebuf_t lb;
    linebuf_init(&lb, 1 << 20);
    linebuf_feed(&lb, (const char *)data, size, on_line, &s);
    linebuf_finish(&lb, on_line, &s);
    codex_result_opts o = {1, 1, "/tmp/t.jsonl", 2000};
    json_t *r = codex_result_build(&s.ev, NULL, &o);
    char *text = json_dumps(r, JSON_COMPACT);
    if (text == NULL)
        abort();
    free(text);
    json_decref(r);
    linebuf_free(&lb);
    events_free(&s.ev);
    asmap_free(&s.m);
    return 0;
}
