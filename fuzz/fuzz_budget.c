/* libFuzzer target for the result budget (budget.c): builds a codex tool
 * result from the input and checks what budget_trim promises.
 *   bytes 0-3  the budget: 1,000 to 3,000, or with bits 6 and 7 of byte 4
 *              to 50,000 (the default budget is 48,000)
 *   byte 4     bit 0: no transcript; bits 1-3: each text is repeated up to
 *              2^n times (so short inputs go over the budget) while the
 *              copies stay under twice the budget (at most 8,000
 *              characters) in all; bit 4: an error field; bit 5: warnings
 *              are JSON values, not text
 *   the rest, split at 0xFF bytes (never part of UTF-8): agent_messages;
 *   all_messages (one JSON array, or a line each: a JSON value, or an
 *   item.started/updated/completed event whose output is the line);
 *   warnings (a line each); error. Invalid UTF-8 becomes '?'.
 * Aborts when budget_trim returns other than 0 (the fixed fields are far
 * under 1,000 characters), when the result is over the budget, no longer
 * serializes, holds invalid UTF-8, changed under the budget, or changes
 * when trimmed again; or when budget_chars is not the length of the text
 * json_dumps writes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "utf8.h"

/* What repeated texts may still take, in characters of JSON text: twice
 * the budget is past it by far enough for every stage of the cut
 * (budget.h), and the time of a cut grows with the size of the result.
 * Past a budget of ROOM_BUDGET_MAX the input's own bytes must do the rest
 * (an escaped control character is six characters). */
#define ROOM_BUDGET_MAX 4000u
static size_t room;

static size_t units(const char *s, size_t n)
{
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        u += ((c & 0xC0) != 0x80) + (c >= 0xF0);
    }
    return u;
}

static void check_utf8(const json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_string(v) && !utf8_valid(json_string_value(v), json_string_length(v)))
        abort();
    if (json_is_object(v))
        json_object_foreach((json_t *)v, k, x)
        {
            if (!utf8_valid(k, strlen(k)))
                abort();
            check_utf8(x);
        }
    if (json_is_array(v))
        json_array_foreach(v, i, x) check_utf8(x);
}

/* Characters of JSON text that s (n bytes of UTF-8) takes, escapes
 * included. */
static size_t json_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        c += b == '"' || b == '\\' ? 2 : b < 0x20 ? 6 : (b & 0xC0) != 0x80;
    }
    return c;
}

/* The text (n bytes) made valid UTF-8 and repeated up to `times` times,
 * as long as there is room, as a JSON string. */
static json_t *text(const uint8_t *s, size_t n, size_t times)
{
    char *one = malloc(n + 1);
    size_t len = 0;
    for (size_t i = 0, k; i < n; i += k) {
        k = utf8_seq(s + i, n - i);
        if (k == 0) {
            one[len++] = '?';
            k = 1;
        } else {
            memcpy(one + len, s + i, k);
            len += k;
        }
    }
    size_t cost = json_chars(one, len), copies = 1;
    while (copies < times && (copies + 1) * cost <= room)
        copies++;
    room -= copies * cost < room ? copies * cost : room;
    char *out = malloc(len * copies + 1);
    for (size_t i = 0; i < copies; i++)
        memcpy(out + i * len, one, len);
    json_t *v = json_stringn(out, len * copies);
    free(out);
    free(one);
    if (v == NULL)
        abort();
    return v;
}

static json_t *all_messages(const uint8_t *s, size_t n, size_t times)
{
    json_t *a = json_loadb((const char *)s, n, JSON_ALLOW_NUL, NULL);
    if (json_is_array(a))
        return a;
    json_decref(a);
    a = json_array();
    static const char *types[] = {"item.started", "item.updated", "item.completed",
                                  "turn.completed"};
    size_t line = 0;
    while (n > 0) {
        const uint8_t *nl = memchr(s, '\n', n);
        size_t len = nl ? (size_t)(nl - s) : n;
        json_t *v = json_loadb((const char *)s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (v == NULL)
            v = json_pack("{s:s, s:{s:s, s:s, s:s, s:o, s:s}}", "type", types[line % 4], "item",
                          "id", "item_0", "type", "command_execution", "command", "make test",
                          "aggregated_output", text(s, len, times), "status", "completed");
        json_array_append_new(a, v);
        line++;
        s += len + (nl != NULL);
        n -= len + (nl != NULL);
    }
    return a;
}

static json_t *warnings(const uint8_t *s, size_t n, size_t times, int as_json)
{
    json_t *a = json_array();
    while (n > 0) {
        const uint8_t *nl = memchr(s, '\n', n);
        size_t len = nl ? (size_t)(nl - s) : n;
        json_t *v = as_json ? json_loadb((const char *)s, len, JSON_DECODE_ANY, NULL) : NULL;
        json_array_append_new(a, v ? v : text(s, len, times));
        s += len + (nl != NULL);
        n -= len + (nl != NULL);
    }
    return a;
}

/* Characters of v as json_dumps writes it; aborts if it cannot. */
static size_t dumped_chars(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL)
        abort();
    size_t n = units(s, strlen(s));
    free(s);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    uint32_t b = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
                 (uint32_t)data[3] << 24;
    unsigned flags = data[4];
    size_t max = 1000 + b % ((flags & 192) == 192 ? 49001 : 2001);
    room = 2 * (max < ROOM_BUDGET_MAX ? max : ROOM_BUDGET_MAX);
    const char *transcript = flags & 1 ? NULL : "/tmp/codexmcp/transcripts/t \"1\".jsonl";
    size_t times = (size_t)1 << ((flags >> 1) & 7);
    data += 5;
    size -= 5;

    const uint8_t *part[4] = {NULL, NULL, NULL, NULL};
    size_t plen[4] = {0, 0, 0, 0};
    for (int p = 0; p < 4 && size > 0; p++) {
        const uint8_t *sep = memchr(data, 0xFF, size);
        size_t len = sep ? (size_t)(sep - data) : size;
        part[p] = data, plen[p] = len;
        data += len + (sep != NULL);
        size -= len + (sep != NULL);
    }

    json_t *r = json_pack("{s:b, s:s, s:{s:i, s:i}, s:s}", "success", !(flags & 16), "SESSION_ID",
                          "019a3c41-5e2b-7d30-a8f1-2c9e4b7d1a06", "usage", "input_tokens", 1200,
                          "output_tokens", 34, "transcript", "/tmp/t.jsonl");
    if (part[0])
        json_object_set_new(r, "agent_messages", text(part[0], plen[0], times));
    if (part[1])
        json_object_set_new(r, "all_messages", all_messages(part[1], plen[1], times));
    if (part[2])
        json_object_set_new(r, "warnings", warnings(part[2], plen[2], times, flags & 32));
    if (part[3] && (flags & 16))
        json_object_set_new(r, "error", text(part[3], plen[3], times));

    size_t before = budget_chars(r);
    if (before != dumped_chars(r))
        abort();
    json_t *orig = json_deep_copy(r);
    budget_report rep;
    int rc = budget_trim(r, max, transcript, &rep);
    size_t after = dumped_chars(r);
    check_utf8(r);
    if (rc != 0 || after > max || budget_chars(r) != after || rep.before != before ||
        rep.after != after)
        abort();
    if (before <= max && (!json_equal(orig, r) || after != before))
        abort();
    if (before > max && !json_is_string(json_object_get(r, "trimmed")))
        abort();
    json_t *again = json_deep_copy(r);
    if (budget_trim(again, max, transcript, &rep) != 0 || !json_equal(again, r))
        abort();
    json_decref(again);
    json_decref(orig);
    json_decref(r);
    return 0;
}
