/* The result budget (budget.c) against its promises: budget_chars counts
 * what a JavaScript client counts (data/budget/chars.txt); budget_trim
 * changes nothing under the budget, cuts in the header's order over it,
 * marks every cut with the transcript, keeps heads and tails, never splits
 * a UTF-8 sequence, and the result then fits. The big results are built
 * from data/budget/session.jsonl (a realistic codex run) and agent.md.
 * The budget sweeps take a few seconds; BUDGET_TEST_DENSE=N makes their
 * steps N times smaller. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"

#define PATH "/home/dev/.codexmcp/transcripts/019a3c41-5e2b-7d30.jsonl"
#define SID "019a3c41-5e2b-7d30-a8f1-2c9e4b7d1a06"
/* Bytes a marker may bring around it (a space, a newline, an ellipsis)
 * that are not part of the original text. */
#define DECOR 8
/* A string this long inside all_messages is "long" by any reading of
 * stage 1: it must be cut before any event goes. */
#define SURELY_LONG 10000

/* ---- counting, as a JavaScript client does ---- */

/* UTF-16 code units of UTF-8 text: one per character, two for a 4-byte one. */
static size_t units(const char *s, size_t n)
{
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            u++;
        if (c >= 0xF0)
            u++;
    }
    return u;
}

static size_t code_points(const char *s, size_t n)
{
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            u++;
    return u;
}

/* Code units of raw text once written inside a JSON string. */
static size_t json_units(const char *s, size_t n)
{
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
            u += 2;
        else if (c < 0x20)
            u += 6;
        else
            u += units(s + i, 1);
    }
    return u;
}

/* The reference budget_chars: what jansson writes, counted. */
static size_t ref_chars(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL)
        fail_msg("the value no longer serializes (a string that is not UTF-8?)");
    size_t n = units(s, strlen(s));
    free(s);
    return n;
}

static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], cp;
        size_t k;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3, cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* Every string and key of v is valid UTF-8. */
static void check_utf8(const json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (!utf8_valid((const unsigned char *)json_string_value(v), json_string_length(v)))
            fail_msg("a string is not valid UTF-8 (%zu bytes, starts %.40s)", json_string_length(v),
                     json_string_value(v));
        break;
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, k, x)
        {
            if (!utf8_valid((const unsigned char *)k, strlen(k)))
                fail_msg("a key is not valid UTF-8");
            check_utf8(x);
        }
        break;
    case JSON_ARRAY:
        json_array_foreach(v, i, x) check_utf8(x);
        break;
    default:
        break;
    }
}

/* ---- text for the results ---- */

/* n letters with no period a cut could hide behind, never whitespace:
 * where the kept head and tail end is then exact. */
static char *letters(size_t n, unsigned seed)
{
    char *s = malloc(n + 1);
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        s[i] = (char)('a' + (x >> 16) % 26);
    }
    s[n] = '\0';
    return s;
}

/* `seq 1 n` */
static char *seq_output(unsigned n, size_t *len)
{
    char *s = malloc((size_t)n * 8 + 1);
    size_t k = 0;
    for (unsigned i = 1; i <= n; i++)
        k += (size_t)sprintf(s + k, "%u\n", i);
    *len = k;
    return s;
}

/* `count` copies of the UTF-8 text `piece`. */
static char *repeat(const char *piece, size_t count)
{
    size_t pl = strlen(piece);
    char *s = malloc(pl * count + 1);
    for (size_t i = 0; i < count; i++)
        memcpy(s + i * pl, piece, pl);
    s[pl * count] = '\0';
    return s;
}

static char *load_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot read %s: run the tests from tests/unit", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return s;
}

static json_t *load_jsonl(const char *path)
{
    size_t len;
    char *text = load_file(path, &len);
    json_t *a = json_array();
    char *line = text, *nl;
    while ((nl = strchr(line, '\n')) != NULL) {
        json_error_t e;
        json_t *v = json_loadb(line, (size_t)(nl - line), JSON_ALLOW_NUL, &e);
        if (v == NULL)
            fail_msg("%s: %s", path, e.text);
        json_array_append_new(a, v);
        line = nl + 1;
    }
    free(text);
    return a;
}

static json_t *command(const char *type, int id, const char *cmd, json_t *output)
{
    char ids[32];
    snprintf(ids, sizeof(ids), "item_%d", id);
    int done = strcmp(type, "item.completed") == 0;
    return json_pack("{s:s, s:{s:s, s:s, s:s, s:o, s:o, s:s}}", "type", type, "item", "id", ids,
                     "type", "command_execution", "command", cmd, "aggregated_output", output,
                     "exit_code", done ? json_integer(0) : json_null(), "status",
                     done ? "completed" : "in_progress");
}

static json_t *agent_event(int id, const char *text)
{
    char ids[32];
    snprintf(ids, sizeof(ids), "item_%d", id);
    return json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "item.completed", "item", "id", ids,
                     "type", "agent_message", "text", text);
}

static json_t *usage(void)
{
    return json_pack("{s:i, s:i, s:i, s:i}", "input_tokens", 48213, "cached_input_tokens", 40960,
                     "output_tokens", 2315, "reasoning_output_tokens", 1024);
}

static json_t *base_result(void)
{
    return json_pack("{s:b, s:s, s:o}", "success", 1, "SESSION_ID", SID, "usage", usage());
}

/* ---- reading what budget_trim wrote ---- */

typedef struct {
    size_t start, end; /* the marker's bytes in the cut string */
    size_t n;          /* the N it names */
    size_t head, tail; /* bytes of the original kept before and after it */
} cut_info;

static char why[2048];

/* Parses a marker at s + at: 1 (ci->start, end, n set), 0 when it is no cut
 * marker, -1 when it is one with the wrong ending (why says). */
static int mark_at(const char *s, size_t len, size_t at, const char *transcript, cut_info *ci)
{
    static const char open[] = "[codexmcp: ", mid[] = " characters cut here; ";
    const char *e = s + len, *q = s + at + strlen(open);
    size_t n = 0;
    int digits = 0;
    while (q < e && (isdigit((unsigned char)*q) || (*q == ',' && digits > 0))) {
        if (*q != ',')
            n = n * 10 + (size_t)(*q - '0'), digits++;
        q++;
    }
    if (digits == 0 || (size_t)(e - q) < strlen(mid) || memcmp(q, mid, strlen(mid)) != 0)
        return 0;
    q += strlen(mid);
    char want[1024];
    if (transcript)
        snprintf(want, sizeof(want), "the full text is in %s]", transcript);
    else
        snprintf(want, sizeof(want), "no transcript keeps them]");
    size_t wl = strlen(want);
    if ((size_t)(e - q) < wl || memcmp(q, want, wl) != 0) {
        size_t show = (size_t)(e - (s + at)) < 300 ? (size_t)(e - (s + at)) : 300;
        snprintf(why, sizeof(why), "marker does not end \"%s\": %.*s", want, (int)show, s + at);
        return -1;
    }
    ci->start = at;
    ci->end = (size_t)(q + wl - s);
    ci->n = n;
    return 1;
}

/* 1 when `cut` is `orig` with its middle replaced by one marker; 0 (why
 * says) otherwise. */
static int cut_parse(const char *orig, size_t olen, const char *cut, size_t clen,
                     const char *transcript, cut_info *ci)
{
    int found = 0;
    const char *p = cut;
    while ((p = memmem(p, clen - (size_t)(p - cut), "[codexmcp: ", 11)) != NULL) {
        cut_info c;
        int r = mark_at(cut, clen, (size_t)(p - cut), transcript, &c);
        if (r < 0)
            return 0;
        if (r > 0) {
            if (found++) {
                snprintf(why, sizeof(why), "two markers in one string");
                return 0;
            }
            *ci = c;
        }
        p++;
    }
    if (!found) {
        snprintf(why, sizeof(why), "changed, but no marker: %.200s", cut);
        return 0;
    }
    size_t head = ci->start, tail = clen - ci->end, lcp = 0, lcs = 0;
    while (lcp < head && lcp < olen && cut[lcp] == orig[lcp])
        lcp++;
    while (lcs < tail && lcs < olen - lcp && cut[clen - 1 - lcs] == orig[olen - 1 - lcs])
        lcs++;
    if (head - lcp > DECOR || tail - lcs > DECOR) {
        snprintf(why, sizeof(why),
                 "the text around the marker is not the original's head and tail "
                 "(head %zu bytes, %zu of them the original's; tail %zu, %zu)",
                 head, lcp, tail, lcs);
        return 0;
    }
    ci->head = lcp;
    ci->tail = lcs;
    return 1;
}

/* Fails unless `cut` (a string value) is `orig` cut once, keeping its head
 * and tail; returns what was found. */
static cut_info check_cut(const json_t *orig, const json_t *cut, const char *transcript,
                          const char *what)
{
    cut_info ci;
    if (!json_is_string(cut))
        fail_msg("%s: no longer a string", what);
    if (!cut_parse(json_string_value(orig), json_string_length(orig), json_string_value(cut),
                   json_string_length(cut), transcript, &ci))
        fail_msg("%s: %s", what, why);
    if (ci.head == 0 || ci.tail == 0)
        fail_msg("%s: keeps %zu bytes of head and %zu of tail", what, ci.head, ci.tail);
    return ci;
}

/* The N of a marker is the characters removed: exactly, for plain text. */
static void check_n_exact(const json_t *orig, const cut_info *ci, const char *what)
{
    size_t removed = json_string_length(orig) - ci->head - ci->tail;
    if (ci->n != removed)
        fail_msg("%s: the marker says %zu characters were cut, %zu were", what, ci->n, removed);
}

/* For any text: N counts the removed text as characters, UTF-16 units or
 * JSON characters (DECOR: a marker's decoration that happens to be
 * the original's next character is taken as kept). */
static void check_n(const json_t *orig, const cut_info *ci, const char *what)
{
    const char *s = json_string_value(orig) + ci->head;
    size_t len = json_string_length(orig) - ci->head - ci->tail;
    size_t cp = code_points(s, len), u = units(s, len), j = json_units(s, len);
    if (!((ci->n >= cp && ci->n <= cp + 6 * DECOR) || (ci->n >= u && ci->n <= u + 6 * DECOR) ||
          (ci->n >= j && ci->n <= j + 6 * DECOR)))
        fail_msg("%s: the marker says %zu characters were cut; the cut text is %zu characters, "
                 "%zu UTF-16 units, %zu as JSON",
                 what, ci->n, cp, u, j);
}

static const char *ev_type(const json_t *v)
{
    return json_string_value(json_object_get(v, "type"));
}

static int is_marker(const json_t *v)
{
    const char *t = ev_type(v);
    return t && strcmp(t, "codexmcp.cut") == 0;
}

static int is_progress(const json_t *v)
{
    const char *t = ev_type(v);
    return t && (strcmp(t, "item.started") == 0 || strcmp(t, "item.updated") == 0);
}

/* The events a marker's "cut" names: the sum of its numbers ("12
 * item.started/item.updated events and the 40 oldest events"), a clause
 * without one naming a single event ("the oldest event"). */
static size_t cut_count(const char *s)
{
    size_t total = 0;
    while (*s) {
        const char *end = strstr(s, " and ");
        size_t len = end ? (size_t)(end - s) : strlen(s), n = 0;
        int digits = 0;
        for (size_t i = 0; i < len; i++) {
            if (isdigit((unsigned char)s[i]))
                n = n * 10 + (size_t)(s[i] - '0'), digits = 1;
            else if (!(s[i] == ',' && i + 1 < len && isdigit((unsigned char)s[i + 1]) && digits))
                total += n, n = 0;
        }
        total += n;
        if (!digits && memmem(s, len, "event", 5) != NULL)
            total++;
        s += len + (end ? 5 : 0);
    }
    return total;
}

/* 1 when `c` is `o` with some strings cut (counted in *strings). */
static int value_matches(const json_t *o, const json_t *c, const char *tr, size_t *strings)
{
    if (json_typeof(o) != json_typeof(c))
        return 0;
    size_t i;
    const char *k;
    json_t *x;
    switch (json_typeof(o)) {
    case JSON_STRING: {
        size_t ol = json_string_length(o), cl = json_string_length(c);
        if (ol == cl && memcmp(json_string_value(o), json_string_value(c), ol) == 0)
            return 1;
        cut_info ci;
        if (!cut_parse(json_string_value(o), ol, json_string_value(c), cl, tr, &ci))
            return 0;
        (*strings)++;
        return 1;
    }
    case JSON_OBJECT:
        if (json_object_size(o) != json_object_size(c))
            return 0;
        json_object_foreach((json_t *)o, k, x)
        {
            json_t *y = json_object_get(c, k);
            if (y == NULL || !value_matches(x, y, tr, strings))
                return 0;
        }
        return 1;
    case JSON_ARRAY:
        if (json_array_size(o) != json_array_size(c))
            return 0;
        json_array_foreach(o, i,
                           x) if (!value_matches(x, json_array_get(c, i), tr, strings)) return 0;
        return 1;
    default:
        return json_equal(o, c);
    }
}

/* 1 when v holds a string over SURELY_LONG bytes that carries no marker. */
static int uncut_long(const json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_length(v) > SURELY_LONG &&
               memmem(json_string_value(v), json_string_length(v), "[codexmcp: ", 11) == NULL;
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, k, x) if (uncut_long(x)) return 1;
        return 0;
    case JSON_ARRAY:
        json_array_foreach(v, i, x) if (uncut_long(x)) return 1;
        return 0;
    default:
        return 0;
    }
}

/* The number n in s as a number of its own ("60000" or "60,000"). */
static int names_number(const char *s, size_t n)
{
    char plain[32], grouped[48];
    snprintf(plain, sizeof(plain), "%zu", n);
    size_t pl = strlen(plain), g = 0;
    for (size_t i = 0; i < pl; i++) {
        if (i > 0 && (pl - i) % 3 == 0)
            grouped[g++] = ',';
        grouped[g++] = plain[i];
    }
    grouped[g] = '\0';
    const char *forms[] = {plain, grouped};
    for (int f = 0; f < 2; f++)
        for (const char *p = s; (p = strstr(p, forms[f])) != NULL; p++) {
            const char *end = p + strlen(forms[f]);
            if ((p == s || !isdigit((unsigned char)p[-1])) && !isdigit((unsigned char)*end) &&
                !(*end == ',' && isdigit((unsigned char)end[1])))
                return 1;
        }
    return 0;
}

/* all_messages after a trim: every element is an original event (strings
 * perhaps cut) in order, or a marker; the counts add up; the order of the
 * stages held. Returns the original events kept. */
static size_t check_all_messages(const json_t *o, const json_t *r, const char *tr,
                                 const budget_report *rep)
{
    if (!json_is_array(o)) {
        if (!json_equal(o, r))
            fail_msg("all_messages (not an array) changed");
        return 0;
    }
    if (!json_is_array(r))
        fail_msg("all_messages went away or is no longer an array: events left out are "
                 "replaced by markers");
    size_t no = json_array_size(o), oi = 0, kept = 0, marks = 0, mark_sum = 0, seen = 0;
    char *kept_at = calloc(no + 1, 1);
    size_t ri;
    json_t *v;
    json_array_foreach(r, ri, v)
    {
        if (is_marker(v)) {
            const char *cut = json_string_value(json_object_get(v, "cut"));
            if (cut == NULL || *cut == '\0')
                fail_msg("all_messages[%zu]: a marker without \"cut\"", ri);
            json_t *t = json_object_get(v, "transcript");
            if (tr ? !json_is_string(t) || strcmp(json_string_value(t), tr) != 0 : !json_is_null(t))
                fail_msg("all_messages[%zu]: marker \"%s\" has transcript %s, want %s", ri, cut,
                         json_is_string(t) ? json_string_value(t)
                         : t               ? "(not a string)"
                                           : "(none)",
                         tr ? tr : "null");
            marks++;
            mark_sum += cut_count(cut);
            continue;
        }
        size_t s = 0;
        while (oi < no) {
            s = 0;
            if (value_matches(json_array_get(o, oi), v, tr, &s))
                break;
            oi++;
        }
        if (oi == no) {
            char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            fail_msg("all_messages[%zu] is not one of the original events in order: %.300s", ri, d);
        }
        kept_at[oi++] = 1;
        kept++;
        seen += s;
    }
    if (kept + rep->events != no)
        fail_msg("all_messages: %zu events kept + %zu reported left out != %zu events", kept,
                 rep->events, no);
    if (mark_sum != rep->events)
        fail_msg("all_messages: markers name %zu events (%zu markers), the report %zu", mark_sum,
                 marks, rep->events);
    if (seen > rep->strings)
        fail_msg("all_messages: %zu strings cut, the report says %zu", seen, rep->strings);
    if (rep->events == 0 && seen != rep->strings)
        fail_msg("all_messages: %zu strings cut, the report says %zu", seen, rep->strings);
    /* stage 2 before 3: no item.started/item.updated stays once another
     * event went; stage 3: the ones that go are the oldest */
    size_t other_gone = 0, progress_kept = 0;
    for (size_t i = 0; i < no; i++) {
        int p = is_progress(json_array_get(o, i));
        if (!kept_at[i] && !p)
            other_gone++;
        if (kept_at[i] && p)
            progress_kept++;
    }
    if (other_gone && progress_kept)
        fail_msg("all_messages: %zu other events went while %zu item.started/item.updated stayed",
                 other_gone, progress_kept);
    for (size_t i = 0, kept_seen = 0; i < no; i++) {
        if (is_progress(json_array_get(o, i)))
            continue;
        if (kept_at[i])
            kept_seen = 1;
        else if (kept_seen)
            fail_msg("all_messages: event %zu went while an older one stayed", i);
    }
    /* stage 1 before 2: once events go, no event kept holds a long string uncut */
    json_array_foreach(r, ri, v)
    {
        if (rep->events > 0 && !is_marker(v) && uncut_long(v))
            fail_msg("all_messages: %zu events went while all_messages[%zu] kept a string of over "
                     "%d bytes uncut",
                     rep->events, ri, SURELY_LONG);
    }
    free(kept_at);
    return kept;
}

/* agent_messages or error: unchanged, or cut once keeping head and tail.
 * Returns 1 when cut. */
static int check_message(const json_t *o, const json_t *r, const char *tr, const char *name)
{
    if (!json_is_string(o)) {
        if (!(o == NULL ? r == NULL : json_equal(o, r)))
            fail_msg("%s (not a string) changed", name);
        return 0;
    }
    if (json_equal(o, r))
        return 0;
    cut_info ci = check_cut(o, r, tr, name);
    check_n(o, &ci, name);
    return 1;
}

/* What every trim must satisfy, whatever the input. */
static void check_trim(const json_t *orig, size_t before, const json_t *res, size_t max,
                       const char *tr, int rc, const budget_report *rep)
{
    size_t after = ref_chars(res);
    check_utf8(res);
    assert_int_equal(budget_chars(res), after);
    assert_int_equal(rep->before, before);
    assert_int_equal(rep->after, after);
    if (before <= max) {
        assert_int_equal(rc, 0);
        if (!json_equal(orig, res))
            fail_msg("under the budget (%zu <= %zu) the result changed", before, max);
        assert_int_equal(rep->strings + rep->events + rep->warnings + (size_t)rep->messages, 0);
        return;
    }
    if (rc != 0) {
        assert_int_equal(rc, -1);
        return;
    }
    if (after > max)
        fail_msg("budget_trim returned 0 but the result has %zu characters, over %zu", after, max);
    const char *trimmed = json_string_value(json_object_get(res, "trimmed"));
    if (trimmed == NULL)
        fail_msg("a cut result has no \"trimmed\" string");
    if (!names_number(trimmed, max))
        fail_msg("\"trimmed\" does not name the budget %zu: %s", max, trimmed);
    if (rep->strings + rep->events + rep->warnings + (size_t)rep->messages == 0)
        fail_msg("the result was cut but the report counts nothing");
    /* the fixed fields stay as they were; nothing new but "trimmed" */
    const char *k;
    json_t *x;
    static const char *cuttable[] = {"all_messages", "agent_messages", "error", "warnings"};
    json_object_foreach((json_t *)orig, k, x)
    {
        int c = 0;
        for (size_t i = 0; i < 4; i++)
            c |= strcmp(k, cuttable[i]) == 0;
        if (!c && !json_equal(x, json_object_get(res, k)))
            fail_msg("the fixed field \"%s\" changed", k);
    }
    json_object_foreach((json_t *)res, k, x)
    {
        if (strcmp(k, "trimmed") != 0 && json_object_get(orig, k) == NULL)
            fail_msg("a field \"%s\" appeared", k);
    }
    int msgs = check_message(json_object_get(orig, "agent_messages"),
                             json_object_get(res, "agent_messages"), tr, "agent_messages");
    msgs |=
        check_message(json_object_get(orig, "error"), json_object_get(res, "error"), tr, "error");
    if (msgs != (rep->messages != 0))
        fail_msg("agent_messages/error %s cut, the report says %d", msgs ? "were" : "were not",
                 rep->messages);
    /* warnings */
    const json_t *ow = json_object_get(orig, "warnings"), *rw = json_object_get(res, "warnings");
    int w_same = ow == NULL ? rw == NULL : json_equal(ow, rw);
    if (w_same != (rep->warnings == 0))
        fail_msg("warnings %s changed, the report counts %zu", w_same ? "were not" : "were",
                 rep->warnings);
    if (json_is_array(ow) && rep->warnings > json_array_size(ow))
        fail_msg("%zu warnings reported cut out of %zu", rep->warnings, json_array_size(ow));
    if (!w_same && rw != NULL) {
        size_t i;
        json_t *w;
        if (!json_is_array(rw))
            fail_msg("warnings is no longer an array");
        json_array_foreach(rw, i, w)
        {
            size_t j;
            json_t *o;
            int was = 0;
            json_array_foreach(ow, j, o) was |= json_equal(o, w);
            if (!json_is_string(w) && !was)
                fail_msg("warnings[%zu] is not a string, nor an original warning", i);
        }
    }
    /* all_messages, and the order of the stages */
    const json_t *oa = json_object_get(orig, "all_messages");
    size_t kept = 0;
    if (oa != NULL)
        kept = check_all_messages(oa, json_object_get(res, "all_messages"), tr, rep);
    else if (rep->strings + rep->events != 0)
        fail_msg("no all_messages, yet the report counts %zu strings and %zu events", rep->strings,
                 rep->events);
    if ((rep->warnings > 0 || msgs) && kept > 0)
        fail_msg("%s cut while %zu events of all_messages stayed",
                 msgs ? "agent_messages/error" : "warnings", kept);
    if (msgs && rw != NULL && json_is_array(ow)) {
        size_t i, j;
        json_t *a, *b;
        json_array_foreach(rw, i, a) json_array_foreach(ow, j, b) if (json_equal(a, b))
            fail_msg("agent_messages cut while the warning \"%.80s\" stayed", json_string_value(b));
    }
}

/* Trims a copy of orig, checks it, checks that trimming it again changes
 * nothing, and returns it. want: 0, -1, or 1 for either. */
static json_t *trim_check(const json_t *orig, size_t before, size_t max, const char *tr, int want,
                          budget_report *rep_out)
{
    json_t *res = json_deep_copy(orig);
    budget_report rep;
    memset(&rep, 0xA5, sizeof(rep));
    int rc = budget_trim(res, max, tr, &rep);
    if (want != 1 && rc != want)
        fail_msg("budget_trim(max %zu) returned %d, want %d (%zu characters)", max, rc, want,
                 before);
    check_trim(orig, before, res, max, tr, rc, &rep);
    if (rc == 0) {
        json_t *again = json_deep_copy(res);
        budget_report r2;
        assert_int_equal(budget_trim(again, max, tr, &r2), 0);
        if (!json_equal(again, res))
            fail_msg("trimming a trimmed result again (max %zu) changed it", max);
        assert_int_equal(r2.before, rep.after);
        assert_int_equal(r2.after, rep.after);
        json_decref(again);
    }
    if (rep_out)
        *rep_out = rep;
    return res;
}

/* Divides the steps of the sweeps (BUDGET_TEST_DENSE). */
static size_t dense(size_t step)
{
    const char *e = getenv("BUDGET_TEST_DENSE");
    size_t d = e ? strtoul(e, NULL, 10) : 1;
    return d > 1 && step / d > 0 ? step / d : d > 1 ? 1 : step;
}

static void sweep(const json_t *orig, size_t from, size_t to, size_t step, const char *tr)
{
    size_t before = ref_chars(orig);
    step = dense(step);
    for (size_t max = from; max <= to; max += step)
        json_decref(trim_check(orig, before, max, tr, 0, NULL));
}

/* ---- budget_chars ---- */

static void test_chars_data(void **state)
{
    (void)state;
    size_t len;
    char *text = load_file("data/budget/chars.txt", &len);
    char *line = text, *nl;
    int lineno = 0, cases = 0;
    while ((nl = strchr(line, '\n')) != NULL) {
        *nl = '\0';
        lineno++;
        if (*line != '\0' && *line != '#') {
            char *sp = strchr(line, ' ');
            assert_non_null(sp);
            size_t want = strtoul(line, NULL, 10);
            json_error_t e;
            json_t *v = json_loads(sp + 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
            if (v == NULL)
                fail_msg("chars.txt:%d: %s", lineno, e.text);
            size_t got = budget_chars(v);
            if (got != want || ref_chars(v) != want)
                fail_msg("chars.txt:%d: budget_chars(%s) = %zu, want %zu", lineno, sp + 1, got,
                         want);
            json_decref(v);
            cases++;
        }
        line = nl + 1;
    }
    assert_true(cases > 40);
    free(text);
}

static void test_chars_built(void **state)
{
    (void)state;
    json_t *v = json_stringn("a\0b", 3);
    assert_int_equal(budget_chars(v), 10); /* "a\u0000b" */
    json_decref(v);
    v = json_stringn("\0\0\0\0", 4);
    assert_int_equal(budget_chars(v), 26);
    json_decref(v);
    v = json_string("\xF0\x9F\x98\x80\xC3\xA9\xE2\x82\xAC"); /* U+1F600 é € */
    assert_int_equal(budget_chars(v), 6);
    json_decref(v);
    /* a long string of each kind: a count by bytes or by code points is off by thousands */
    char *s = repeat("\xF0\x9F\x9A\x80", 10000);
    v = json_string(s);
    assert_int_equal(budget_chars(v), 20002);
    json_decref(v);
    free(s);
    s = repeat("\"\n\\\x01\xE2\x82\xAC", 10000);
    v = json_string(s);
    assert_int_equal(budget_chars(v), 10000 * (2 + 2 + 2 + 6 + 1) + 2);
    json_decref(v);
    free(s);
    v = json_pack("{s:[s,i,f,b,n]}", "k\xF0\x9F\x98\x80", "\t", -7, 0.25, 0);
    assert_int_equal(budget_chars(v), ref_chars(v));
    assert_int_equal(budget_chars(v), 33); /* {"k😀":["\t",-7,0.25,false,null]} */
    json_decref(v);
    /* the realistic run, each event and the whole */
    json_t *all = load_jsonl("data/budget/session.jsonl");
    size_t i;
    json_array_foreach(all, i, v)
    {
        if (budget_chars(v) != ref_chars(v))
            fail_msg("session.jsonl line %zu: budget_chars %zu, want %zu", i + 1, budget_chars(v),
                     ref_chars(v));
    }
    assert_int_equal(budget_chars(all), ref_chars(all));
    json_decref(all);
    /* random strings from the characters that count differently */
    static const char *pool[] = {"a",
                                 "\"",
                                 "\\",
                                 "\n",
                                 "\x01",
                                 "\x1f",
                                 "/",
                                 "\x7f",
                                 "\xC3\xA9",
                                 "\xE2\x82\xAC",
                                 "\xE2\x80\xA8",
                                 "\xF0\x9F\x98\x80",
                                 "\xF4\x8F\xBF\xBF"};
    unsigned x = 12345;
    for (int t = 0; t < 2000; t++) {
        char buf[512];
        size_t n = 0, nul = 0;
        x = x * 1103515245u + 12345u;
        int count = (int)((x >> 16) % 100);
        for (int c = 0; c < count; c++) {
            x = x * 1103515245u + 12345u;
            unsigned pick = (x >> 16) % 14;
            if (pick == 13) {
                buf[n++] = '\0';
                nul++;
                continue;
            }
            size_t pl = strlen(pool[pick]);
            memcpy(buf + n, pool[pick], pl);
            n += pl;
        }
        v = json_pack("[o]", json_stringn(buf, n));
        if (budget_chars(v) != ref_chars(v))
            fail_msg("random string %d (%zu bytes, %zu NUL): budget_chars %zu, want %zu", t, n, nul,
                     budget_chars(v), ref_chars(v));
        json_decref(v);
    }
}

/* ---- results ---- */

static json_t *realistic_result(void)
{
    json_t *r = base_result();
    json_object_set_new(
        r, "agent_messages",
        json_string("Fixed the overflow in `reader_feed` (src/reader.c) \xE2\x9C\x85"));
    json_object_set_new(r, "all_messages", load_jsonl("data/budget/session.jsonl"));
    json_object_set_new(r, "warnings",
                        json_pack("[s]", "codex reported no session id (thread.started)"));
    json_object_set_new(r, "transcript", json_string(PATH));
    return r;
}

static void test_under_budget(void **state)
{
    (void)state;
    json_t *orig = realistic_result();
    size_t before = ref_chars(orig);
    assert_true(before > 30000);
    size_t maxes[] = {before, before + 1, 1000000000};
    for (size_t i = 0; i < 3; i++) {
        budget_report rep;
        json_t *res = trim_check(orig, before, maxes[i], PATH, 0, &rep);
        assert_true(json_equal(orig, res));
        assert_null(json_object_get(res, "trimmed"));
        assert_int_equal(rep.before, before);
        assert_int_equal(rep.after, before);
        json_decref(res);
        res = json_deep_copy(orig);
        assert_int_equal(budget_trim(res, maxes[i], NULL, NULL), 0);
        assert_true(json_equal(orig, res));
        json_decref(res);
    }
    /* one character over: something is cut, and it fits */
    json_t *res = trim_check(orig, before, before - 1, PATH, 0, NULL);
    assert_false(json_equal(orig, res));
    json_decref(res);
    /* an empty object, a result of fixed fields only */
    json_t *empty = json_object();
    res = trim_check(empty, 2, 2, NULL, 0, NULL);
    json_decref(res);
    json_decref(empty);
    json_decref(orig);
}

static void test_fixed_fields_over(void **state)
{
    (void)state;
    json_t *orig = realistic_result();
    size_t before = ref_chars(orig);
    json_decref(trim_check(orig, before, 10, PATH, -1, NULL));
    json_decref(trim_check(orig, before, 10, NULL, -1, NULL));
    json_t *res = json_deep_copy(orig);
    assert_int_equal(budget_trim(res, 10, PATH, NULL), -1);
    json_decref(res);
    json_t *small = json_pack("{s:b}", "success", 1); /* {"success":true}: 16 */
    assert_int_equal(budget_chars(small), 16);
    json_decref(trim_check(small, 16, 16, PATH, 0, NULL));
    json_decref(trim_check(small, 16, 15, PATH, -1, NULL));
    json_decref(small);
    json_t *empty = json_object();
    json_decref(trim_check(empty, 2, 1, PATH, -1, NULL));
    json_decref(empty);
    json_decref(orig);
}

/* Stage 1 alone: one long command output is the whole excess. agent_messages
 * is long too (a cut of "the longest string" would pick it). */
static json_t *one_output_result(json_t *output)
{
    char *agent = letters(30000, 2);
    json_t *r = base_result();
    json_object_set_new(r, "agent_messages", json_string(agent));
    free(agent);
    json_t *all = json_array();
    json_array_append_new(all, json_pack("{s:s, s:s}", "type", "thread.started", "thread_id", SID));
    json_array_append_new(all, json_pack("{s:s}", "type", "turn.started"));
    json_array_append_new(all,
                          command("item.started", 1, "/bin/bash -lc 'make test'", json_string("")));
    json_array_append_new(all, command("item.completed", 1, "/bin/bash -lc 'make test'", output));
    json_array_append_new(all, agent_event(2, "done"));
    json_array_append_new(all, json_pack("{s:s, s:o}", "type", "turn.completed", "usage", usage()));
    json_object_set_new(r, "all_messages", all);
    json_object_set_new(r, "warnings", json_pack("[s]", "w1"));
    return r;
}

static const json_t *output_of(const json_t *r, size_t ev)
{
    return json_object_get(
        json_object_get(json_array_get(json_object_get(r, "all_messages"), ev), "item"),
        "aggregated_output");
}

static void test_stage1_one_output(void **state)
{
    (void)state;
    char *text = letters(100000, 1);
    json_t *orig = one_output_result(json_string(text));
    free(text);
    size_t before = ref_chars(orig);
    const char *paths[] = {PATH, NULL};
    for (int p = 0; p < 2; p++) {
        budget_report rep;
        json_t *res = trim_check(orig, before, 60000, paths[p], 0, &rep);
        assert_int_equal(rep.strings, 1);
        assert_int_equal(rep.events, 0);
        assert_int_equal(rep.warnings, 0);
        assert_int_equal(rep.messages, 0);
        assert_true(json_equal(json_object_get(orig, "agent_messages"),
                               json_object_get(res, "agent_messages")));
        assert_true(
            json_equal(json_object_get(orig, "warnings"), json_object_get(res, "warnings")));
        assert_int_equal(json_array_size(json_object_get(res, "all_messages")), 6);
        cut_info ci =
            check_cut(output_of(orig, 3), output_of(res, 3), paths[p], "aggregated_output");
        check_n_exact(output_of(orig, 3), &ci, "aggregated_output");
        json_decref(res);
    }
    json_decref(orig);

    /* the same with real command output: lines, so escapes */
    size_t len;
    text = seq_output(20000, &len);
    orig = one_output_result(json_stringn(text, len));
    before = ref_chars(orig);
    budget_report rep;
    json_t *res = trim_check(orig, before, 60000, PATH, 0, &rep);
    assert_int_equal(rep.strings, 1);
    assert_int_equal(rep.events + rep.warnings + (size_t)rep.messages, 0);
    cut_info ci = check_cut(output_of(orig, 3), output_of(res, 3), PATH, "seq output");
    check_n(output_of(orig, 3), &ci, "seq output");
    const char *cut = json_string_value(output_of(res, 3));
    size_t cl = json_string_length(output_of(res, 3));
    assert_memory_equal(cut, "1\n2\n3\n", 6);
    assert_memory_equal(cut + cl - 12, "19999\n20000\n", 12);
    json_decref(res);
    free(text);
    json_decref(orig);
}

/* Stage 1 reaches strings at any depth: a diff in a file change, the text
 * of an MCP tool result, a command output. */
static void test_stage1_nested_strings(void **state)
{
    (void)state;
    char *a = letters(40000, 3), *b = letters(40000, 4), *c = letters(40000, 5);
    json_t *orig = base_result();
    json_object_set_new(orig, "agent_messages", json_string("short answer"));
    json_t *all = json_array();
    json_array_append_new(all, json_pack("{s:s, s:{s:s, s:s, s:[{s:s, s:s, s:s}], s:s}}", "type",
                                         "item.completed", "item", "id", "item_0", "type",
                                         "file_change", "changes", "path", "src/reader.c", "kind",
                                         "update", "diff", a, "status", "completed"));
    json_array_append_new(all, json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:{s:[{s:s, s:s}]}}}",
                                         "type", "item.completed", "item", "id", "item_1", "type",
                                         "mcp_tool_call", "server", "docs", "tool", "search",
                                         "result", "content", "type", "text", "text", b));
    json_array_append_new(all, command("item.completed", 2, "cat big.log", json_string(c)));
    json_object_set_new(orig, "all_messages", all);
    size_t before = ref_chars(orig);
    budget_report rep;
    json_t *res = trim_check(orig, before, 50000, PATH, 0, &rep);
    assert_true(rep.strings >= 2);
    assert_int_equal(rep.events, 0);
    assert_int_equal(rep.messages, 0);
    json_decref(res);
    res = trim_check(orig, before, 5000, PATH, 0, &rep);
    assert_int_equal(rep.strings, 3);
    json_decref(res);
    free(a);
    free(b);
    free(c);
    json_decref(orig);
}

/* Stage 2: progress events (todo-list updates, started commands) are most
 * of the text; they go, every other event stays. */
static json_t *progress_result(int started, int updated, int completed)
{
    json_t *r = base_result();
    json_object_set_new(r, "agent_messages", json_string("All 120 tests pass \xE2\x9C\x85"));
    json_t *all = json_array();
    json_array_append_new(all, json_pack("{s:s, s:s}", "type", "thread.started", "thread_id", SID));
    int n = started > updated ? started : updated;
    n = n > completed ? n : completed;
    for (int i = 0; i < n; i++) {
        char cmd[96], out[96], id[32];
        snprintf(cmd, sizeof(cmd), "/bin/bash -lc 'rg -n TODO src/file%d.c'", i);
        snprintf(out, sizeof(out), "src/file%d.c:12: TODO bound the buffer\n", i);
        snprintf(id, sizeof(id), "item_%d", i);
        if (i < started)
            json_array_append_new(
                all, json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:n, s:s}}", "type", "item.started",
                               "item", "id", id, "type", "command_execution", "command", cmd,
                               "aggregated_output", "", "exit_code", "status", "in_progress"));
        if (i < updated)
            json_array_append_new(
                all, json_pack("{s:s, s:{s:s, s:s, s:[{s:s, s:b}, {s:s, s:b}, {s:s, s:b}]}}",
                               "type", "item.updated", "item", "id", "item_todo", "type",
                               "todo_list", "items", "text", "Reproduce the crash", "completed",
                               i > 0, "text", "Bound the buffer", "completed", i > 1, "text",
                               "Run the test suite", "completed", 0));
        if (i < completed)
            json_array_append_new(
                all, json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:i, s:s}}", "type", "item.completed",
                               "item", "id", id, "type", "command_execution", "command", cmd,
                               "aggregated_output", out, "exit_code", 0, "status", "completed"));
    }
    json_array_append_new(all, json_pack("{s:s, s:o}", "type", "turn.completed", "usage", usage()));
    json_object_set_new(r, "all_messages", all);
    json_object_set_new(r, "warnings", json_pack("[s,s]", "w1", "w2"));
    return r;
}

static size_t count_type(const json_t *r, const char *type)
{
    size_t i, n = 0;
    json_t *v;
    json_array_foreach(json_object_get(r, "all_messages"), i, v) n +=
        ev_type(v) && strcmp(ev_type(v), type) == 0;
    return n;
}

static void test_stage2_progress(void **state)
{
    (void)state;
    json_t *orig = progress_result(300, 300, 300);
    size_t before = ref_chars(orig);
    assert_true(before > 150000);
    const char *paths[] = {PATH, NULL};
    for (int p = 0; p < 2; p++) {
        /* enough room for everything but the progress events */
        budget_report rep;
        json_t *res = trim_check(orig, before, 90000, paths[p], 0, &rep);
        assert_int_equal(rep.strings, 0);
        assert_true(rep.events > 0);
        assert_int_equal(rep.warnings, 0);
        assert_int_equal(rep.messages, 0);
        assert_int_equal(count_type(res, "item.completed"), 300);
        assert_int_equal(count_type(res, "thread.started"), 1);
        assert_int_equal(count_type(res, "turn.completed"), 1);
        assert_int_equal(
            count_type(res, "item.started") + count_type(res, "item.updated") + rep.events, 600);
        assert_true(count_type(res, "codexmcp.cut") >= 1);
        assert_true(json_equal(json_object_get(orig, "agent_messages"),
                               json_object_get(res, "agent_messages")));
        json_decref(res);
        /* just over: a few go, every completed event stays */
        res = trim_check(orig, before, before - 500, paths[p], 0, &rep);
        assert_true(rep.events > 0);
        assert_int_equal(count_type(res, "item.completed"), 300);
        json_decref(res);
    }
    json_decref(orig);
}

static void test_stage3_oldest(void **state)
{
    (void)state;
    /* completed events only */
    json_t *orig = progress_result(0, 0, 600);
    size_t before = ref_chars(orig);
    size_t n = json_array_size(json_object_get(orig, "all_messages"));
    budget_report rep;
    json_t *res = trim_check(orig, before, 40000, PATH, 0, &rep);
    assert_true(rep.events > 0);
    assert_int_equal(rep.strings + rep.warnings + (size_t)rep.messages, 0);
    json_t *all = json_object_get(res, "all_messages");
    size_t nr = json_array_size(all);
    assert_true(is_marker(json_array_get(all, 0)));
    /* the newest events stay, in order, as they were */
    const json_t *oall = json_object_get(orig, "all_messages");
    size_t kept = 0;
    for (size_t i = 0; i < nr; i++)
        if (!is_marker(json_array_get(all, i))) {
            kept++;
            assert_true(json_equal(json_array_get(all, i), json_array_get(oall, n - (nr - i))));
        }
    assert_int_equal(kept + rep.events, n);
    assert_string_equal(ev_type(json_array_get(all, nr - 1)), "turn.completed");
    assert_true(json_equal(json_object_get(orig, "agent_messages"),
                           json_object_get(res, "agent_messages")));
    json_decref(res);
    json_decref(orig);

    /* mixed: progress events all go before the first completed one */
    orig = progress_result(300, 300, 300);
    before = ref_chars(orig);
    res = trim_check(orig, before, 30000, NULL, 0, &rep);
    assert_int_equal(count_type(res, "item.started") + count_type(res, "item.updated"), 0);
    assert_true(count_type(res, "item.completed") < 300);
    assert_int_equal(count_type(res, "turn.completed"), 1);
    assert_int_equal(rep.messages, 0);
    json_decref(res);
    json_decref(orig);
}

static void test_stage4_warnings(void **state)
{
    (void)state;
    char *w = letters(3000, 9);
    json_t *orig = base_result();
    json_object_set_new(orig, "agent_messages", json_string("the answer"));
    json_t *ws = json_array();
    for (int i = 0; i < 40; i++) {
        w[0] = (char)('A' + i % 26);
        json_array_append_new(ws, json_string(w));
    }
    json_object_set_new(orig, "warnings", ws);
    size_t before = ref_chars(orig);
    size_t maxes[] = {100000, 30000, 3000, 1000};
    for (size_t i = 0; i < 4; i++) {
        budget_report rep;
        json_t *res = trim_check(orig, before, maxes[i], PATH, 0, &rep);
        assert_true(rep.warnings > 0);
        assert_int_equal(rep.messages, 0);
        assert_int_equal(rep.strings + rep.events, 0);
        assert_string_equal(json_string_value(json_object_get(res, "agent_messages")),
                            "the answer");
        if (i == 0) {
            /* shortening is enough: every warning stays, cut in the middle */
            json_t *rw = json_object_get(res, "warnings");
            assert_int_equal(json_array_size(rw), 40);
            for (size_t j = 0; j < 40; j++)
                check_cut(json_array_get(ws, j), json_array_get(rw, j), PATH, "a warning");
            assert_int_equal(rep.warnings, 40);
        }
        json_decref(res);
    }
    /* with all_messages: its events all go before any warning is cut */
    json_object_set_new(orig, "all_messages",
                        json_pack("[{s:s},{s:s},o]", "type", "thread.started", "type",
                                  "turn.started", agent_event(0, "the answer")));
    before = ref_chars(orig);
    budget_report rep;
    json_t *res = trim_check(orig, before, 30000, PATH, 0, &rep);
    assert_true(rep.warnings > 0);
    assert_int_equal(rep.events, 3);
    json_decref(res);
    free(w);
    json_decref(orig);
}

/* The agent message of mixed text: a head and a tail of 60 ASCII
 * characters each, agent.md repeated between. */
static const char AGENT_HEAD[] = "ANSWER BEGINS: the overflow in reader_feed is fixed, as asked. ";
static const char AGENT_TAIL[] = " All 120 tests pass; see the table above. ANSWER ENDS HERE";

static char *agent_text(size_t bytes)
{
    size_t len;
    char *md = load_file("data/budget/agent.md", &len);
    char *s = malloc(bytes + len + 256);
    size_t k = (size_t)sprintf(s, "%s", AGENT_HEAD);
    while (k < bytes) {
        memcpy(s + k, md, len);
        k += len;
    }
    k += (size_t)sprintf(s + k, "%s", AGENT_TAIL);
    free(md);
    return s;
}

/* The first and last 50 characters of the answer survive every cut. */
#define ENDS 50
static void check_agent_ends(const json_t *res)
{
    const char *a = json_string_value(json_object_get(res, "agent_messages"));
    assert_non_null(a);
    size_t al = json_string_length(json_object_get(res, "agent_messages"));
    size_t tl = strlen(AGENT_TAIL);
    if (al < 2 * ENDS || memcmp(a, AGENT_HEAD, ENDS) != 0 ||
        memcmp(a + al - ENDS, AGENT_TAIL + tl - ENDS, ENDS) != 0)
        fail_msg("agent_messages lost its first or last %d characters: \"%.70s\" ... \"%s\"", ENDS,
                 a, a + (al > 70 ? al - 70 : 0));
}

static void test_stage5_agent_messages(void **state)
{
    (void)state;
    char *text = agent_text(500000);
    json_t *orig = base_result();
    json_object_set_new(orig, "agent_messages", json_string(text));
    size_t before = ref_chars(orig);
    const char *paths[] = {PATH, NULL};
    size_t maxes[] = {400000, 50000, 2000, 1000};
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < 4; i++) {
            budget_report rep;
            json_t *res = trim_check(orig, before, maxes[i], paths[p], 0, &rep);
            assert_true(rep.messages);
            check_agent_ends(res);
            json_decref(res);
        }
    /* agent_messages and error both long */
    char *err = letters(200000, 11);
    json_object_set_new(orig, "error", json_string(err));
    json_object_set_new(orig, "success", json_false());
    before = ref_chars(orig);
    for (size_t i = 1; i < 4; i++) {
        budget_report rep;
        json_t *res = trim_check(orig, before, maxes[i], PATH, 0, &rep);
        check_agent_ends(res);
        json_t *e = json_object_get(res, "error");
        if (!json_equal(e, json_object_get(orig, "error"))) {
            cut_info ci = check_cut(json_object_get(orig, "error"), e, PATH, "error");
            check_n_exact(json_object_get(orig, "error"), &ci, "error");
        }
        json_decref(res);
    }
    free(err);
    free(text);
    json_decref(orig);
}

/* agent_messages is cut only when all_messages cuts are not enough. */
static void test_order_agent_last(void **state)
{
    (void)state;
    char *text = agent_text(50000);
    json_t *orig = progress_result(50, 50, 100);
    json_object_set_new(orig, "agent_messages", json_string(text));
    size_t before = ref_chars(orig);
    size_t agent = budget_chars(json_object_get(orig, "agent_messages"));
    budget_report rep;
    /* room for agent_messages and a little more */
    json_t *res = trim_check(orig, before, agent + 3000, PATH, 0, &rep);
    assert_true(rep.events > 0);
    assert_int_equal(rep.messages, 0);
    assert_int_equal(rep.warnings, 0);
    json_decref(res);
    /* less than agent_messages: every event goes (check_trim), then it is cut */
    res = trim_check(orig, before, agent - 1000, PATH, 0, &rep);
    assert_true(rep.messages);
    check_agent_ends(res);
    json_decref(res);
    free(text);
    json_decref(orig);
}

/* Cuts never split a UTF-8 sequence; every budget from 1,000 fits. */
static void test_utf8_sweep(void **state)
{
    (void)state;
    char *emoji = repeat("\xF0\x9F\x98\x80", 3000); /* 4-byte: 2 units each */
    char *euro = repeat("\xE2\x82\xAC", 3000);      /* 3-byte */
    char *eacute = repeat("\xC3\xA9x", 2000);       /* 2-byte and ASCII */
    char *mixed = repeat("\xF0\x9F\x9A\x80"
                         "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8E\x89",
                         600);
    json_t *orig = base_result();
    json_object_set_new(orig, "agent_messages", json_string(mixed));
    json_object_set_new(orig, "all_messages",
                        json_pack("[o,o,o]",
                                  command("item.completed", 1, "emoji", json_string(emoji)),
                                  command("item.completed", 2, "euro", json_string(euro)),
                                  command("item.started", 3, "e", json_string(eacute))));
    json_object_set_new(orig, "warnings", json_pack("[s]", eacute));
    size_t before = ref_chars(orig);
    assert_true(before > 20000);
    sweep(orig, 1000, before + 10, 29, PATH);
    sweep(orig, 1001, before, 97, NULL);
    free(emoji);
    free(euro);
    free(eacute);
    free(mixed);
    json_decref(orig);
}

/* Text that is mostly escapes (\u0001 is 6 characters, a quote 2) and NUL
 * bytes: a count by bytes overshoots, strlen loses the tail. */
static void test_escapes_sweep(void **state)
{
    (void)state;
    char *ctl = repeat("\x01\x1b[0m\"", 2000);
    char *quotes = repeat("\"\\\n\t", 2000);
    size_t nl = 12000;
    char *nuls = malloc(nl);
    for (size_t i = 0; i < nl; i++)
        nuls[i] = i % 10 == 3 ? '\0' : (char)('a' + i % 26);
    json_t *orig = base_result();
    json_object_set_new(orig, "agent_messages", json_string(quotes));
    json_object_set_new(orig, "all_messages",
                        json_pack("[o,o]", command("item.completed", 1, "ctl", json_string(ctl)),
                                  command("item.completed", 2, "nul", json_stringn(nuls, nl))));
    json_object_set_new(orig, "error", json_stringn(nuls, nl));
    size_t before = ref_chars(orig);
    /* the NUL output alone, cut: its tail survives (past every NUL) */
    budget_report rep;
    json_t *res = trim_check(orig, before, before - 12000, PATH, 0, &rep);
    assert_true(rep.strings >= 1);
    json_decref(res);
    sweep(orig, 1000, before + 10, 307, PATH);
    sweep(orig, 1003, before, 503, NULL);
    free(ctl);
    free(quotes);
    free(nuls);
    json_decref(orig);
}

/* A transcript path that costs more as JSON than as bytes. */
static void test_tricky_transcript(void **state)
{
    (void)state;
    static const char tr[] = "/home/d\xC3\xA9v/\"quoted\" dir\\x/\xF0\x9F\x98\x80/t.jsonl";
    json_t *orig = progress_result(100, 100, 100);
    char *text = agent_text(20000);
    json_object_set_new(orig, "agent_messages", json_string(text));
    free(text);
    size_t len;
    char *seq = seq_output(5000, &len);
    json_array_insert_new(json_object_get(orig, "all_messages"), 5,
                          command("item.completed", 7, "seq 1 5000", json_stringn(seq, len)));
    free(seq);
    size_t before = ref_chars(orig);
    sweep(orig, 1000, before + 10, 401, tr);
    json_decref(orig);
}

/* Odd inputs: events that are not objects, items without strings, a
 * warning that is no string, no agent_messages. */
static void test_odd_shapes(void **state)
{
    (void)state;
    char *big = letters(20000, 21);
    json_t *orig = json_pack("{s:b}", "success", 0);
    json_object_set_new(orig, "all_messages",
                        json_pack("[s, i, [s], {s:s}, {s:s, s:s}, {s:s, s:{s:i}}, n, {s:[s]}]", big,
                                  7, big, "type", "item.started", "type", "item.updated", "x", big,
                                  "type", "item.completed", "item", "aggregated_output", 3, "deep",
                                  big));
    json_object_set_new(orig, "warnings", json_pack("[s, i, s]", big, 5, "w"));
    size_t before = ref_chars(orig);
    sweep(orig, 1000, before + 10, 499, PATH);
    free(big);
    json_decref(orig);
}

/* The big realistic result: `seq 1 200000` (1.2 MB), thousands of
 * progress events, a 500 kB agent message (also its own event), the
 * realistic run around them. */
static json_t *big_result(void)
{
    json_t *r = progress_result(2000, 500, 2000);
    json_t *all = json_object_get(r, "all_messages");
    json_t *session = load_jsonl("data/budget/session.jsonl");
    for (size_t i = json_array_size(session); i-- > 0;)
        json_array_insert(all, 0, json_array_get(session, i));
    json_decref(session);
    size_t len;
    char *seq = seq_output(200000, &len);
    size_t at = json_array_size(all) - 1;
    json_array_insert_new(all, at, command("item.started", 9, "seq 1 200000", json_string("")));
    json_array_insert_new(all, at + 1,
                          command("item.completed", 9, "seq 1 200000", json_stringn(seq, len)));
    free(seq);
    char *text = agent_text(500000);
    json_array_insert_new(all, at + 2, agent_event(99999, text));
    json_object_set_new(r, "agent_messages", json_string(text));
    free(text);
    char *w = letters(3000, 31);
    json_object_set_new(r, "warnings",
                        json_pack("[s,s,s]", "codex reported no session id (thread.started)", w,
                                  "Reconnecting... 1/5 (stream disconnected before completion)"));
    free(w);
    json_object_set_new(r, "transcript", json_string(PATH));
    return r;
}

static void check_seq_ends(const json_t *res)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(res, "all_messages"), i, v)
    {
        const json_t *o = json_object_get(json_object_get(v, "item"), "aggregated_output");
        const char *cmd = json_string_value(json_object_get(json_object_get(v, "item"), "command"));
        if (cmd && strcmp(cmd, "seq 1 200000") == 0 && json_string_length(o) > 0) {
            const char *s = json_string_value(o);
            size_t l = json_string_length(o);
            assert_memory_equal(s, "1\n2\n3\n", 6);
            assert_memory_equal(s + l - 14, "199999\n200000\n", 14);
        }
    }
}

static void test_big_result(void **state)
{
    (void)state;
    json_t *orig = big_result();
    size_t before = ref_chars(orig);
    assert_int_equal(budget_chars(orig), before);
    assert_true(before > 3000000);
    /* under: nothing changes */
    json_decref(trim_check(orig, before, before, PATH, 0, NULL));
    /* closely near the floor, where every character counts, then up to 200,000 */
    int k = 0;
    for (size_t max = 1000; max <= 200000; max += max < 3000 ? dense(307) : dense(7919), k++) {
        const char *tr = k % 5 == 4 ? NULL : PATH;
        budget_report rep;
        json_t *res = trim_check(orig, before, max, tr, 0, &rep);
        check_agent_ends(res);
        check_seq_ends(res);
        json_decref(res);
    }
    json_decref(trim_check(orig, before, 200000, PATH, 0, NULL));
    json_decref(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chars_data),        cmocka_unit_test(test_chars_built),
        cmocka_unit_test(test_under_budget),      cmocka_unit_test(test_fixed_fields_over),
        cmocka_unit_test(test_stage1_one_output), cmocka_unit_test(test_stage1_nested_strings),
        cmocka_unit_test(test_stage2_progress),   cmocka_unit_test(test_stage3_oldest),
        cmocka_unit_test(test_stage4_warnings),   cmocka_unit_test(test_stage5_agent_messages),
        cmocka_unit_test(test_order_agent_last),  cmocka_unit_test(test_utf8_sweep),
        cmocka_unit_test(test_escapes_sweep),     cmocka_unit_test(test_tricky_transcript),
        cmocka_unit_test(test_odd_shapes),        cmocka_unit_test(test_big_result),
    };
    return cmocka_run_group_tests_name("budget", tests, NULL, NULL);
}
