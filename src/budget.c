/* Cutting a result to its budget (budget.h). Every stage builds candidates
 * from the original values and measures them exactly, so a cut string is
 * never cut again and the marks never nest. The compact JSON of an object
 * is the sum of its parts, which lets a stage measure one field and add
 * the rest as a constant. */
#include "budget.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "util.h"

static int count_units(const char *buffer, size_t size, void *data)
{
    size_t *n = data;
    for (size_t i = 0; i < size; i++) {
        unsigned char b = (unsigned char)buffer[i];
        if ((b & 0xc0) != 0x80)
            *n += 1;
        if (b >= 0xf0) /* four bytes: a surrogate pair in UTF-16 */
            *n += 1;
    }
    return 0;
}

size_t budget_chars(const json_t *v)
{
    size_t n = 0;
    json_dump_callback(v, count_units, &n, JSON_COMPACT | JSON_ENCODE_ANY);
    return n;
}

/* Length in bytes of the UTF-8 sequence that starts with b (jansson's
 * strings are valid UTF-8, so a continuation byte never starts one). */
static size_t seq_len(unsigned char b)
{
    return b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
}

/* Characters a sequence takes in JSON text (escapes included), and as
 * text. */
static size_t seq_json_units(const unsigned char *p, size_t len)
{
    if (len == 4)
        return 2;
    if (len > 1)
        return 1;
    unsigned char c = *p;
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
        return 2;
    return c < 0x20 ? 6 : 1;
}

static size_t text_units(const char *s, size_t n)
{
    size_t units = 0;
    for (size_t i = 0; i < n; i += seq_len((unsigned char)s[i]))
        units += seq_len((unsigned char)s[i]) == 4 ? 2 : 1;
    return units;
}

static size_t json_units(const char *s, size_t n)
{
    size_t units = 0;
    for (size_t i = 0; i < n;) {
        size_t len = seq_len((unsigned char)s[i]);
        units += seq_json_units((const unsigned char *)s + i, len);
        i += len;
    }
    return units;
}

typedef struct {
    const char *transcript; /* UTF-8 clean, or NULL */
    size_t mark_units;      /* what a mark costs, about */
    size_t cuts;            /* strings cut while building a candidate */
} cutter;

static char *mark_text(const cutter *c, size_t removed)
{
    if (c->transcript)
        return xasprintf("\n[codexmcp: %zu characters cut here; the full text is in %s]\n", removed,
                         c->transcript);
    return xasprintf("\n[codexmcp: %zu characters cut here; no transcript keeps them]\n", removed);
}

/* Characters of the original text that s (n bytes) stands for: a mark of
 * an earlier cut inside it (events.c cuts big events as they arrive)
 * counts the characters it replaced, so a string cut twice says how much
 * of the original is gone. */
static size_t removed_units(const char *s, size_t n)
{
    static const char prefix[] = "\n[codexmcp: ";
    size_t units = text_units(s, n);
    const char *end = s + n;
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), prefix, sizeof(prefix) - 1));) {
        const char *num = p + sizeof(prefix) - 1;
        char *after;
        unsigned long long was = strtoull(num, &after, 10);
        const char *close = after > num && strncmp(after, " characters cut here", 20) == 0
                                ? memmem(after, (size_t)(end - after), "]\n", 2)
                                : NULL;
        if (close == NULL) {
            p = num;
            continue;
        }
        close += 2;
        units = units - text_units(p, (size_t)(close - p)) + (size_t)was;
        p = close;
    }
    return units;
}

/* s (n bytes) as at most `keep` characters of JSON text, head_pct per cent
 * of them from its beginning and the rest from its end, with a mark
 * between (new reference). */
static json_t *cut_text(const cutter *c, const char *s, size_t n, size_t keep, unsigned head_pct)
{
    size_t head_units = keep / 100 * head_pct + keep % 100 * head_pct / 100;
    size_t tail_units = keep - head_units;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, acc = 0;
    while (i < n) {
        size_t len = seq_len(u[i]);
        size_t cost = seq_json_units(u + i, len);
        if (acc + cost > head_units)
            break;
        acc += cost;
        i += len;
    }
    size_t j = n;
    acc = 0;
    while (j > i) {
        size_t k = j - 1;
        while (k > i && (u[k] & 0xc0) == 0x80)
            k--;
        size_t cost = seq_json_units(u + k, j - k);
        if (acc + cost > tail_units)
            break;
        acc += cost;
        j = k;
    }
    char *mark = mark_text(c, removed_units(s + i, j - i));
    size_t mlen = strlen(mark);
    char *out = xmalloc(i + mlen + (n - j) + 1);
    memcpy(out, s, i);
    /* NOLINTNEXTLINE(bugprone-not-null-terminated-result): json_stringn takes its length */
    memcpy(out + i, mark, mlen);
    memcpy(out + i + mlen, s + j, n - j);
    json_t *v = json_stringn(out, i + mlen + (n - j));
    free(out);
    free(mark);
    return v;
}

/* v, or a copy of it in which every string over `keep` characters (plus
 * a mark) is cut to `keep` (new reference). */
/* NOLINTNEXTLINE(misc-no-recursion): as deep as v, which jansson's parser caps at 2048 levels */
static json_t *capped(cutter *c, json_t *v, size_t keep)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n <= keep || json_units(s, n) <= keep + c->mark_units)
            return json_incref(v);
        c->cuts++;
        return cut_text(c, s, n, keep, BUDGET_TRACE_HEAD_PCT);
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) json_array_append_new(out, capped(c, e, keep));
        return out;
    }
    if (json_is_object(v)) {
        json_t *out = json_object();
        const char *key;
        size_t klen;
        json_t *e;
        json_object_keylen_foreach(v, key, klen, e)
            json_object_setn_new_nocheck(out, key, klen, capped(c, e, keep));
        return out;
    }
    return json_incref(v);
}

static int is_started_or_updated(json_t *ev)
{
    const char *type = json_string_value(json_object_get(ev, "type"));
    return type && (strcmp(type, "item.started") == 0 || strcmp(type, "item.updated") == 0);
}

static json_t *cut_event(const cutter *c, const char *what)
{
    json_t *t = c->transcript ? json_string(c->transcript) : json_null();
    return json_pack("{s:s, s:s, s:o}", "type", "codexmcp.cut", "cut", what, "transcript", t);
}

/* One candidate of all_messages: strings capped at `keep`, without the
 * started/updated events if `quiet`, without the `oldest` first events of
 * those left (new reference). Counts in *cut_events. */
static json_t *trace_candidate(cutter *c, json_t *orig, size_t keep, int quiet, size_t oldest,
                               size_t *cut_events)
{
    json_t *out = json_array();
    size_t i, quieted = 0, kept = 0;
    json_t *ev;
    c->cuts = 0;
    json_array_foreach(orig, i, ev)
    {
        if (quiet && is_started_or_updated(ev)) {
            quieted++;
            continue;
        }
        if (kept++ < oldest)
            continue;
        json_array_append_new(out, capped(c, ev, keep));
    }
    size_t old = oldest < kept ? oldest : kept;
    /* One mark for both cuts: where events were, at the start. */
    char *a = quieted == 0 ? NULL : xasprintf("%zu item.started/item.updated events", quieted);
    char *b = old == 0   ? NULL
              : old == 1 ? xstrdup("the oldest event")
                         : xasprintf("the %zu oldest events", old);
    if (a || b) {
        char *what = xasprintf("%s%s%s", a ? a : "", a && b ? " and " : "", b ? b : "");
        json_array_insert_new(out, 0, cut_event(c, what));
        free(what);
    }
    free(a);
    free(b);
    *cut_events = quieted + old;
    return out;
}

/* What the object costs with `key` set to an empty string or array: the
 * constant part for a stage that measures only that field. */
static size_t chars_without(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return budget_chars(obj);
    json_incref(v);
    json_object_set_new(obj, key, json_is_array(v) ? json_array() : json_string(""));
    size_t n = budget_chars(obj) - 2; /* less "" or [] */
    json_object_set_new(obj, key, v);
    return n;
}

/* Stages 1 to 3 on all_messages (budget.h). Returns the characters of the
 * result after them. */
static size_t trim_trace(json_t *result, size_t max, cutter *c, budget_report *r)
{
    json_t *orig = json_object_get(result, "all_messages");
    size_t total = budget_chars(result);
    if (!json_is_array(orig) || total <= max)
        return total;
    json_incref(orig);
    size_t base = chars_without(result, "all_messages");
    size_t longest = budget_chars(orig);
    size_t events = 0;

    /* 1: the largest cap on strings that fits. */
    size_t lo = BUDGET_STRING_KEEP_MIN, hi = longest;
    json_t *best = trace_candidate(c, orig, lo, 0, 0, &events);
    size_t cuts = c->cuts;
    if (base + budget_chars(best) <= max) {
        while (lo < hi) { /* lo fits; find the largest that does */
            size_t mid = lo + (hi - lo + 1) / 2;
            json_t *m = trace_candidate(c, orig, mid, 0, 0, &events);
            if (base + budget_chars(m) <= max) {
                lo = mid;
                json_decref(best);
                best = m;
                cuts = c->cuts;
            } else {
                hi = mid - 1;
                json_decref(m);
            }
        }
        events = 0;
    } else {
        json_decref(best);
        /* 2: without started/updated events. */
        best = trace_candidate(c, orig, BUDGET_STRING_KEEP_MIN, 1, 0, &events);
        cuts = c->cuts;
        if (base + budget_chars(best) > max) {
            json_decref(best);
            /* 3: the fewest oldest events left out that fits (all, if none). */
            size_t n = 0, i;
            json_t *ev;
            json_array_foreach(orig, i, ev) n += !is_started_or_updated(ev);
            size_t a = 1, b = n;
            while (a < b) {
                size_t mid = a + (b - a) / 2;
                json_t *m = trace_candidate(c, orig, BUDGET_STRING_KEEP_MIN, 1, mid, &events);
                if (base + budget_chars(m) <= max)
                    b = mid;
                else
                    a = mid + 1;
                json_decref(m);
            }
            best = trace_candidate(c, orig, BUDGET_STRING_KEEP_MIN, 1, a, &events);
            cuts = c->cuts;
        }
    }
    r->strings = cuts;
    r->events = events;
    json_object_set_new(result, "all_messages", best);
    json_decref(orig);
    return budget_chars(result);
}

/* Stage 4: warnings shortened, then left out. */
static size_t trim_warnings(json_t *result, size_t max, cutter *c, budget_report *r, size_t total)
{
    json_t *orig = json_object_get(result, "warnings");
    if (total <= max || !json_is_array(orig) || json_array_size(orig) == 0)
        return total;
    json_incref(orig);
    c->cuts = 0;
    json_t *shorter = capped(c, orig, BUDGET_STRING_KEEP_MIN);
    r->warnings = c->cuts;
    json_object_set_new(result, "warnings", shorter);
    total = budget_chars(result);
    if (total > max) {
        char *what = c->transcript
                         ? xasprintf("[codexmcp: %zu warnings cut here; the transcript has them]",
                                     json_array_size(orig))
                         : xasprintf("[codexmcp: %zu warnings cut here; no transcript keeps them]",
                                     json_array_size(orig));
        json_object_set_new(result, "warnings", json_pack("[s]", what));
        free(what);
        r->warnings = json_array_size(orig);
        total = budget_chars(result);
    }
    json_decref(orig);
    return total;
}

static json_t *text_candidate(cutter *c, json_t *orig, size_t keep)
{
    if (orig == NULL)
        return NULL;
    const char *s = json_string_value(orig);
    size_t n = json_string_length(orig);
    if (json_units(s, n) <= keep)
        return json_incref(orig);
    return cut_text(c, s, n, keep, BUDGET_ANSWER_HEAD_PCT);
}

/* Stage 5: agent_messages and error keep their head and tail, each at most
 * the same number of characters, the largest that fits. */
static size_t trim_texts(json_t *result, size_t max, cutter *c, budget_report *r, size_t total)
{
    json_t *am = json_object_get(result, "agent_messages");
    json_t *err = json_object_get(result, "error");
    am = json_is_string(am) ? json_incref(am) : NULL;
    err = json_is_string(err) ? json_incref(err) : NULL;
    if (total <= max || (am == NULL && err == NULL)) {
        json_decref(am);
        json_decref(err);
        return total;
    }
    size_t base = total;
    if (am)
        base -= budget_chars(am) - 2;
    if (err)
        base -= budget_chars(err) - 2;
    size_t lo = 0, hi = 0;
    if (am)
        hi = budget_chars(am);
    if (err && budget_chars(err) > hi)
        hi = budget_chars(err);
    /* The largest keep that fits; 0 if none does. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        json_t *a = text_candidate(c, am, mid), *e = text_candidate(c, err, mid);
        size_t n = base + (a ? budget_chars(a) - 2 : 0) + (e ? budget_chars(e) - 2 : 0);
        json_decref(a);
        json_decref(e);
        if (n <= max)
            lo = mid;
        else
            hi = mid - 1;
    }
    if (am)
        json_object_set_new(result, "agent_messages", text_candidate(c, am, lo));
    if (err)
        json_object_set_new(result, "error", text_candidate(c, err, lo));
    r->messages = 1;
    json_decref(am);
    json_decref(err);
    return budget_chars(result);
}

json_t *budget_cap_strings(json_t *v, size_t keep, const char *transcript, size_t *cuts)
{
    cutter c;
    memset(&c, 0, sizeof(c));
    char *path = transcript ? utf8_clean(transcript) : NULL;
    c.transcript = path;
    json_t *out = capped(&c, v, keep);
    free(path);
    if (cuts)
        *cuts = c.cuts;
    return out;
}

int budget_trim(json_t *result, size_t max_chars, const char *transcript, budget_report *report)
{
    budget_report r;
    memset(&r, 0, sizeof(r));
    r.before = r.after = budget_chars(result);
    if (r.before <= max_chars || !json_is_object(result)) {
        if (report)
            *report = r;
        return r.before <= max_chars ? 0 : -1;
    }
    cutter c;
    memset(&c, 0, sizeof(c));
    char *path = transcript ? utf8_clean(transcript) : NULL;
    c.transcript = path;
    char *probe = mark_text(&c, 1000000);
    c.mark_units = json_units(probe, strlen(probe));
    free(probe);

    char *note =
        xasprintf("cut from %zu characters to the result budget of %zu "
                  "(max_result_chars); cuts are marked [codexmcp: ...] or codexmcp.cut; %s",
                  r.before, max_chars,
                  path ? "the transcript has everything" : "no transcript keeps what was cut");
    json_object_set_new(result, "trimmed", json_string(note));
    free(note);

    size_t total = trim_trace(result, max_chars, &c, &r);
    total = trim_warnings(result, max_chars, &c, &r, total);
    total = trim_texts(result, max_chars, &c, &r, total);
    r.after = total;
    free(path);
    if (report)
        *report = r;
    return total <= max_chars ? 0 : -1;
}
