/* libFuzzer target for codex's stdout: the input is the lines `codex exec
 * --json` prints, fed to the event reducer (events.c) as the job runner
 * feeds them, then built into the call's result and cut to its budget
 * (codex_args.c, budget.c).
 *   byte 0  the call: bit 0 no all_messages; bit 1 all_messages keeps
 *           only reasoning and command items; bit 2 no transcript; bit 3
 *           no structuredContent; bits 4-5 the budget (1,000, 4,000,
 *           48,000 characters, or none); bit 6 the call failed (an error
 *           from the runner, as when codex exits non-zero)
 *   the rest  codex's lines (at most LINE_MAX_BYTES each; longer ones are
 *           skipped, as the runner skips them)
 * Aborts when a progress line is not valid UTF-8, or not one line of at
 * most PROGRESS_MESSAGE_MAX bytes as a notification shows it; when the
 * result does not serialize to one line of valid JSON, its text block is
 * not the JSON of its structuredContent, or it is over its budget. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "codex_args.h"
#include "events.h"
#include "jsonrpc.h"
#include "limits.h"
#include "linebuf.h"
#include "log.h"
#include "util.h"

#define LINE_MAX_BYTES 4096 /* the runner's CODEX_LINE_MAX_BYTES, small: over it is cheap */

static int utf8_valid(const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    json_decref(v);
    return v != NULL;
}

static void on_line(void *ctx, const char *line, size_t len, int overflow)
{
    events_state *ev = ctx;
    if (overflow) {
        events_overlong(ev, len, LINE_MAX_BYTES);
        return;
    }
    char *progress = events_feed(ev, line, len);
    if (progress) {
        /* As a progress notification sends it (mcp_call_progress). */
        char *shown = one_line(progress, PROGRESS_MESSAGE_MAX);
        size_t n = strlen(shown);
        if (!utf8_valid(progress, strlen(progress)) || n > PROGRESS_MESSAGE_MAX ||
            strpbrk(shown, "\n\r\t") != NULL || !utf8_valid(shown, n))
            abort();
        free(shown);
    }
    free(progress);
}

static void check_result(json_t *r, const codex_result_opts *o)
{
    size_t n;
    char *s = jrpc_serialize(r, &n);
    json_t *back = json_loadb(s, n, JSON_ALLOW_NUL, NULL); /* the newline is white space */
    if (back == NULL || memchr(s, '\n', n - 1) != NULL)
        abort();
    json_decref(back);
    free(s);
    const char *text = json_string_value(
        json_object_get(json_array_get(json_object_get(r, "content"), 0), "text"));
    json_t *obj = text ? json_loads(text, JSON_ALLOW_NUL, NULL) : NULL;
    if (!json_is_object(obj))
        abort();
    json_t *sc = json_object_get(r, "structuredContent");
    if (o->structured ? !json_equal(sc, obj) : sc != NULL)
        abort();
    if (o->max_chars > 0 && budget_chars(obj) > o->max_chars)
        abort();
    json_decref(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    log_set_stderr_level(LOG_OFF);
    unsigned flags = data[0];
    static const size_t budgets[] = {BUDGET_MIN_CHARS, 4000, BUDGET_DEFAULT_CHARS, 0};
    codex_result_opts o = {.include_all = !(flags & 1),
                           .structured = !(flags & 8),
                           .transcript = flags & 4 ? NULL : "/tmp/codexmcp/t \"1\".jsonl",
                           .max_chars = budgets[(flags >> 4) & 3]};
    json_t *filter = flags & 2 ? json_pack("[s, s]", "reasoning", "command_execution") : NULL;
    events_state ev;
    events_init(&ev, o.include_all, filter);
    json_decref(filter);
    events_set_transcript(&ev, o.transcript);
    linebuf_t lb;
    linebuf_init(&lb, LINE_MAX_BYTES);
    linebuf_feed(&lb, (const char *)data + 1, size - 1, on_line, &ev);
    linebuf_finish(&lb, on_line, &ev);
    linebuf_free(&lb);
    json_t *r = codex_result_build(&ev, flags & 64 ? "codex exited with status 1" : NULL, &o);
    check_result(r, &o);
    json_decref(r);
    events_free(&ev);
    return 0;
}
