/* The codex event reducer against recorded streams: each
 * data/streams/NAME.jsonl (real `codex exec --json` output, or written
 * from REFERENCE.md where the real CLI cannot be made to show it) has a
 * NAME.expect with the facts the reducer must find:
 *   terminal: completed|failed|running   thread: ID   failure: TEXT
 *   messages: JSON-STRING   warnings: N   usage: yes|no
 *   progress: TEXT (every one, in order, when any is listed) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codex_args.h"
#include "events.h"
#include "limits.h"

#include "datafiles.h"

static void run_stream(const char *base)
{
    char path[512];
    snprintf(path, sizeof(path), "%s.jsonl", base);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    events_state st;
    events_init(&st, 1, NULL);
    char *progress[64];
    size_t nprogress = 0, nlines = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, in)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        nlines++;
        char *p = events_feed(&st, line, (size_t)len);
        if (p && nprogress < 64)
            progress[nprogress++] = p;
        else
            free(p);
    }
    fclose(in);

    snprintf(path, sizeof(path), "%s.expect", base);
    FILE *ex = fopen(path, "r");
    assert_non_null(ex);
    size_t want_progress = 0;
    int lineno = 0;
    while ((len = getline(&line, &cap, ex)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        char *colon = strstr(line, ": ");
        if (colon == NULL)
            continue;
        *colon = '\0';
        const char *key = line, *val = colon + 2;
        if (strcmp(key, "terminal") == 0) {
            const char *got = st.terminal == EV_COMPLETED ? "completed"
                              : st.terminal == EV_FAILED  ? "failed"
                                                          : "running";
            assert_string_equal(got, val);
        } else if (strcmp(key, "thread") == 0) {
            assert_non_null(st.thread_id);
            assert_string_equal(st.thread_id, val);
        } else if (strcmp(key, "failure") == 0) {
            assert_non_null(st.failure);
            assert_string_equal(st.failure, val);
        } else if (strcmp(key, "messages") == 0) {
            json_t *want = json_loads(val, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
            assert_non_null(want);
            size_t jlen;
            char *joined = events_joined_messages(&st, &jlen);
            assert_int_equal(jlen, json_string_length(want));
            assert_memory_equal(joined, json_string_value(want), jlen);
            free(joined);
            json_decref(want);
        } else if (strcmp(key, "warnings") == 0) {
            if (json_array_size(st.warnings) != (size_t)atoi(val)) {
                char *w = json_dumps(st.warnings, 0);
                fail_msg("%s:%d: want %s warnings, got %s", path, lineno, val, w);
            }
        } else if (strcmp(key, "usage") == 0) {
            assert_int_equal(st.usage != NULL, strcmp(val, "yes") == 0);
        } else if (strcmp(key, "progress") == 0) {
            if (want_progress >= nprogress)
                fail_msg("%s:%d: missing progress \"%s\"", path, lineno, val);
            assert_string_equal(progress[want_progress], val);
            want_progress++;
        } else {
            fail_msg("%s:%d: unknown key %s", path, lineno, key);
        }
    }
    fclose(ex);
    if (want_progress > 0 && want_progress != nprogress)
        fail_msg("%s: %zu progress lines expected, %zu produced (extra: %s)", base, want_progress,
                 nprogress, progress[want_progress]);
    /* keep_all keeps every JSON object line, in order */
    assert_true(json_array_size(st.all.first) <= nlines);
    assert_int_equal(json_array_size(st.all.first), st.events);
    for (size_t i = 0; i < nprogress; i++)
        free(progress[i]);
    free(line);
    events_free(&st);
}

static void test_stream(void **state)
{
    run_stream(*state);
}

static void test_reconnect_patterns(void **state)
{
    (void)state;
    assert_true(events_is_reconnect("Reconnecting... 1/5"));
    assert_true(
        events_is_reconnect("Reconnecting... 2/5 (stream disconnected before completion: x)"));
    assert_true(events_is_reconnect("Reconnecting... 10/10 (a) (b)"));
    assert_true(events_is_reconnect("Reconnecting... waiting for network (Connection failed: x)"));
    assert_false(events_is_reconnect("Reconnecting... 1/5(x)"));
    assert_false(events_is_reconnect("Reconnecting...1/5"));
    assert_false(events_is_reconnect("Reconnecting... /5"));
    assert_false(events_is_reconnect("Reconnecting... 1/"));
    assert_false(events_is_reconnect("stream disconnected before completion"));
    assert_false(events_is_reconnect(""));
}

static void test_retrying_flag(void **state)
{
    (void)state;
    events_state st;
    events_init(&st, 0, NULL);
    static const char retry[] =
        "{\"type\":\"error\",\"message\":\"Reconnecting... waiting for network (x)\"}";
    static const char started[] = "{\"type\":\"turn.started\"}";
    free(events_feed(&st, retry, sizeof(retry) - 1));
    assert_true(st.retrying);
    free(events_feed(&st, started, sizeof(started) - 1));
    assert_false(st.retrying);
    free(events_feed(&st, retry, sizeof(retry) - 1));
    events_overlong(&st, 1 << 24, CODEX_LINE_MAX_BYTES);
    assert_false(st.retrying);
    events_free(&st);
}

static void test_warnings_bounded(void **state)
{
    (void)state;
    events_state st;
    events_init(&st, 0, NULL);
    for (int i = 0; i < 1000; i++)
        free(events_feed(&st, "not json", 8));
    events_overlong(&st, 20u << 20, CODEX_LINE_MAX_BYTES);
    assert_int_equal(json_array_size(st.warnings), WARNINGS_MAX);
    assert_int_equal(st.warnings_dropped, 1001 - WARNINGS_MAX);
    assert_null(st.all.first);
    events_free(&st);
}

static void test_invalid_utf8_line(void **state)
{
    (void)state;
    events_state st;
    events_init(&st, 0, NULL);
    const char bad[] = "\xff\xfe garbage \xc0";
    free(events_feed(&st, bad, sizeof(bad) - 1));
    assert_int_equal(json_array_size(st.warnings), 1);
    /* the warning is valid UTF-8: it can be encoded in a result */
    char *s = json_dumps(st.warnings, 0);
    assert_non_null(s);
    free(s);
    events_free(&st);
}

/* Codex prints 20,000 messages of 1 KiB (20 MiB): what is kept stays
 * within the bounds, the answer (the last message) and the terminal event
 * are there, and both cuts are marked. */
static void test_kept_bounded(void **state)
{
    (void)state;
    events_state st;
    events_init(&st, 1, NULL);
    char text[1024];
    char line[1200];
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        memset(text, 'a' + i % 26, sizeof(text) - 16);
        snprintf(text + sizeof(text) - 16, 16, "#%d", i);
        int len = snprintf(line, sizeof(line),
                           "{\"type\":\"item.completed\",\"item\":{\"id\":\"item_%d\","
                           "\"type\":\"agent_message\",\"text\":\"%s\"}}",
                           i, text);
        free(events_feed(&st, line, (size_t)len));
    }
    static const char done[] = "{\"type\":\"turn.completed\",\"usage\":{}}";
    free(events_feed(&st, done, sizeof(done) - 1));
    assert_true(st.messages.bytes <= AGENT_MESSAGES_KEEP_BYTES);
    assert_true(st.all.bytes <= ALL_MESSAGES_KEEP_BYTES);
    size_t len;
    char *joined = events_joined_messages(&st, &len);
    assert_true(len < AGENT_MESSAGES_KEEP_BYTES + 2 * json_array_size(st.messages.first) + 4096);
    assert_non_null(strstr(joined, "agent messages ("));
    assert_non_null(strstr(joined, "not kept here"));
    char last[32];
    snprintf(last, sizeof(last), "#%d", n - 1);
    assert_string_equal(joined + len - strlen(last), last);
    free(joined);
    json_t *all = events_all_messages(&st);
    size_t na = json_array_size(all);
    assert_true(na < (size_t)n);
    json_t *marker = json_array_get(all, na - 2);
    assert_string_equal(json_string_value(json_object_get(marker, "type")), "codexmcp.not_kept");
    assert_int_equal(json_integer_value(json_object_get(marker, "events")) + (json_int_t)na - 1,
                     n + 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(all, na - 1), "type")),
                        "turn.completed");
    json_decref(all);
    assert_int_equal(json_array_size(st.warnings), 2);
    events_free(&st);
}

/* Feeds one line the test built, and frees it. */
static void feed_built(events_state *st, char *line)
{
    free(events_feed(st, line, strlen(line)));
    free(line);
}

/* One message bigger than the whole bound keeps its end, marked; one
 * event bigger than it keeps the head and tail of its long strings, marked
 * with the transcript that has them. */
static void test_one_huge_message(void **state)
{
    (void)state;
    events_state st;
    events_init(&st, 1, NULL);
    events_set_transcript(&st, "/state/t.jsonl");
    size_t big = 3u << 20;
    char *line = malloc(big + 200);
    int head = sprintf(line, "{\"type\":\"item.completed\",\"item\":{\"id\":\"i\","
                             "\"type\":\"agent_message\",\"text\":\"");
    memset(line + head, 'x', big);
    strcpy(line + head + big - 4, "tail\"}}");
    feed_built(&st, line);
    size_t len;
    char *joined = events_joined_messages(&st, &len);
    assert_true(len < AGENT_MESSAGES_KEEP_BYTES + 200);
    assert_memory_equal(joined, "[codexmcp: the first ", 21);
    assert_non_null(strstr(joined, "not kept; the full text is in /state/t.jsonl]"));
    assert_string_equal(joined + len - 4, "tail");
    free(joined);
    json_t *all = events_all_messages(&st);
    assert_int_equal(json_array_size(all), 1);
    json_t *ev = json_array_get(all, 0);
    assert_string_equal(json_string_value(json_object_get(ev, "type")), "item.completed");
    json_t *text = json_object_get(json_object_get(ev, "item"), "text");
    size_t n = json_string_length(text);
    assert_true(n < EVENT_STRING_KEEP_BYTES + 200);
    assert_memory_equal(json_string_value(text), "xxxx", 4);
    assert_string_equal(json_string_value(text) + n - 4, "tail");
    assert_non_null(strstr(json_string_value(text), "characters cut here; the full text is in "
                                                    "/state/t.jsonl]"));
    json_decref(all);
    events_free(&st);
}

/* Events made of tiny values cost far more memory than their text: the
 * bound counts what they cost. */
static void test_tiny_values_bounded(void **state)
{
    (void)state;
    events_state st;
    events_init(&st, 1, NULL);
    size_t n = 64u << 10;
    char *line = malloc(n + 64);
    size_t k = (size_t)sprintf(line, "{\"type\":\"x\",\"a\":[");
    while (k < n - 3) {
        memcpy(line + k, "[],", 3);
        k += 3;
    }
    strcpy(line + k, "[]]}");
    for (int i = 0; i < 14; i++)
        free(events_feed(&st, line, strlen(line)));
    free(events_feed(&st, line, strlen(line))); /* the 15th */
    /* 15 lines of 64 KiB: under 1 MiB of text, some 40 MiB as values */
    assert_true(st.all.bytes <= ALL_MESSAGES_KEEP_BYTES);
    /* Each is kept as what it is (its type and size), which costs little. */
    assert_int_equal(json_array_size(st.all.first), 15);
    for (size_t i = 0; i < 15; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(st.all.first, i),
                                                            "codexmcp.not_kept_bytes")),
                         strlen(line));
    free(line);
    events_free(&st);
}

/* A command output cut as it arrived (events.c) and again by the budget:
 * the one mark left counts what is gone of the original, not of the copy
 * kept in memory. */
static void test_cut_twice_counts_the_original(void **state)
{
    (void)state;
    events_state st;
    events_init(&st, 1, NULL);
    events_set_transcript(&st, "/state/t.jsonl");
    size_t big = 1000000;
    char *line = malloc(big + 200);
    int head = sprintf(line, "{\"type\":\"item.completed\",\"item\":{\"id\":\"i\","
                             "\"type\":\"command_execution\",\"aggregated_output\":\"");
    memset(line + head, 'o', big);
    strcpy(line + head + big, "\"}}");
    free(events_feed(&st, line, strlen(line)));
    free(line);
    static const char done[] = "{\"type\":\"turn.completed\",\"usage\":{}}";
    free(events_feed(&st, done, sizeof(done) - 1));
    codex_result_opts o = {
        .include_all = 1, .structured = 1, .transcript = "/state/t.jsonl", .max_chars = 20000};
    json_t *res = codex_result_build(&st, NULL, &o);
    json_t *r = json_object_get(res, "structuredContent");
    json_t *ev = json_array_get(json_object_get(r, "all_messages"), 0);
    const char *out =
        json_string_value(json_object_get(json_object_get(ev, "item"), "aggregated_output"));
    assert_non_null(out);
    const char *mark = strstr(out, "[codexmcp: ");
    assert_non_null(mark);
    assert_null(strstr(mark + 1, "[codexmcp: "));                   /* one mark */
    size_t mark_len = (size_t)(strchr(mark, ']') + 2 - (mark - 1)); /* "\n[…]\n" */
    unsigned long long said = strtoull(mark + 11, NULL, 10);
    assert_int_equal(said + strlen(out) - mark_len, big);
    json_decref(res);
    events_free(&st);
}

int main(void)
{
    char *names[128];
    int count = datafiles_list("data/streams", ".jsonl", names, 128);
    if (count < 0)
        return 1;
    size_t n = (size_t)count;
    struct CMUnitTest *tests = calloc(n + 8, sizeof(*tests));
    for (size_t i = 0; i < n; i++) {
        tests[i].name = names[i];
        tests[i].test_func = test_stream;
        tests[i].initial_state = names[i];
    }
    tests[n].name = "reconnect patterns";
    tests[n].test_func = test_reconnect_patterns;
    tests[n + 1].name = "warnings bounded";
    tests[n + 1].test_func = test_warnings_bounded;
    tests[n + 2].name = "invalid UTF-8 line";
    tests[n + 2].test_func = test_invalid_utf8_line;
    tests[n + 3].name = "retry notices are not progress";
    tests[n + 3].test_func = test_retrying_flag;
    tests[n + 4].name = "what is kept is bounded";
    tests[n + 4].test_func = test_kept_bounded;
    tests[n + 5].name = "one message over the bound";
    tests[n + 5].test_func = test_one_huge_message;
    tests[n + 6].name = "events of tiny values";
    tests[n + 6].test_func = test_tiny_values_bounded;
    tests[n + 7].name = "a string cut twice counts the original";
    tests[n + 7].test_func = test_cut_twice_counts_the_original;
    int rc = _cmocka_run_group_tests("events", tests, n + 8, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(tests);
    return rc;
}
