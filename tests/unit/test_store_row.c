/* The registry's rows as answers (store_row.c): an ordinary row reads as
 * written; a row written by something else (a pid no process can have, a
 * time before 1970, a status that is not UTF-8, JSON that is not) still
 * gives every field, well formed; fold() lowers letters of any script. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_row.h"

/* Whoever is asked about is alive, as kill(pid, 0) says of 0 and -1 (the
 * caller's own group, every process it may signal); the pids asked about. */
static pid_t asked[8];
static size_t n_asked;

static int all_alive(pid_t pid)
{
    if (n_asked < 8)
        asked[n_asked++] = pid;
    return 1;
}

static int none_alive(pid_t pid)
{
    (void)pid;
    return 0;
}

static store_col text(const char *s)
{
    return (store_col){s, s ? strlen(s) : 0, s ? strtoll(s, NULL, 10) : 0};
}

static store_col num(int64_t v)
{
    static char bufs[16][24];
    static size_t next;
    char *b = bufs[next++ % 16];
    snprintf(b, 24, "%lld", (long long)v);
    return (store_col){b, strlen(b), v};
}

static void turn_cols(store_col *c, const char *status, int64_t pid, int64_t started_ms)
{
    c[0] = text("codex");
    c[1] = text("fix the tests");
    c[2] = text(status);
    c[3] = num(started_ms);
    c[4] = num(started_ms + 61500);
    c[5] = text("done");
    c[6] = text(NULL);
    c[7] = num(pid);
    c[8] = text("{\"input_tokens\":1200,\"output_tokens\":34}");
    c[9] = text("/tmp/t.jsonl");
    c[10] = num(3);
}

static void test_turn_as_written(void **state)
{
    (void)state;
    store_col c[STORE_ROW_TURN_COLS];
    turn_cols(c, "completed", 4242, 1763900000000);
    json_t *row = store_row_turn(c, none_alive);
    char *s = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s,
                        "{\"finished_at\":\"2025-11-23T12:14:21.500Z\",\"last_message\":\"done\","
                        "\"prompt\":\"fix the tests\",\"started_at\":\"2025-11-23T12:13:20.000Z\","
                        "\"status\":\"completed\",\"tool\":\"codex\",\"transcript\":\"/tmp/"
                        "t.jsonl\",\"turn\":3,\"usage\":{\"input_tokens\":1200,\"output_"
                        "tokens\":34}}");
    free(s);
    json_decref(row);
}

/* A running turn whose server is gone was interrupted; one whose server
 * runs still runs. */
static void test_running_turn(void **state)
{
    (void)state;
    store_col c[STORE_ROW_TURN_COLS];
    turn_cols(c, "running", 4242, 1763900000000);
    json_t *row = store_row_turn(c, none_alive);
    assert_string_equal(json_string_value(json_object_get(row, "status")), "interrupted");
    json_decref(row);
    row = store_row_turn(c, all_alive);
    assert_string_equal(json_string_value(json_object_get(row, "status")), "running");
    json_decref(row);
}

/* A stored pid past pid_t (2^32 reads as pid 0 if cut to 32 bits: kill()
 * then asks about the caller's own group, always there) or not positive
 * names no process: the task is interrupted, and no one is asked. */
static void test_pid_out_of_range(void **state)
{
    (void)state;
    static const int64_t pids[] = {4294967296LL, 4294967295LL, 0, -1, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++) {
        store_col c[STORE_ROW_TASK_COLS] = {
            text("t1"), text("codex"), text(NULL), text("running"), text("working"), text(NULL),
            num(0),     num(pids[i]),  num(1),     num(2),          num(3)};
        n_asked = 0;
        json_t *row = store_row_task(c, all_alive);
        assert_string_equal(json_string_value(json_object_get(row, "status")), "interrupted");
        assert_int_equal(json_integer_value(json_object_get(row, "server_pid")), pids[i]);
        assert_int_equal(n_asked, 0);
        json_decref(row);

        store_col t[STORE_ROW_TURN_COLS];
        turn_cols(t, "running", pids[i], 0);
        row = store_row_turn(t, all_alive);
        assert_string_equal(json_string_value(json_object_get(row, "status")), "interrupted");
        assert_int_equal(n_asked, 0);
        json_decref(row);
    }
    /* In range: asked, as it is. */
    store_col t[STORE_ROW_TURN_COLS];
    turn_cols(t, "running", 2147483647, 0);
    n_asked = 0;
    json_t *row = store_row_turn(t, all_alive);
    assert_string_equal(json_string_value(json_object_get(row, "status")), "running");
    assert_int_equal(n_asked, 1);
    assert_int_equal(asked[0], 2147483647);
    json_decref(row);
}

/* Times before 1970 (and far from now) are ISO 8601 like any other. */
static void test_times_before_1970(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *iso;
    } cases[] = {
        {-1, "1969-12-31T23:59:59.999Z"},
        {-1500, "1969-12-31T23:59:58.500Z"},
        {-62135596800000LL, "0001-01-01T00:00:00.000Z"},
        {253402300799999LL, "9999-12-31T23:59:59.999Z"},
        {0, "1970-01-01T00:00:00.000Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        store_col c[STORE_ROW_TURN_COLS];
        turn_cols(c, "completed", 1, cases[i].ms);
        json_t *row = store_row_turn(c, none_alive);
        assert_string_equal(json_string_value(json_object_get(row, "started_at")), cases[i].iso);
        json_decref(row);
    }
}

/* A status that is not UTF-8 still gives the field, cleaned up; text
 * columns likewise; JSON that is not an object or array is null. */
static void test_not_utf8(void **state)
{
    (void)state;
    store_col c[STORE_ROW_SESSION_COLS] = {text("s1"),    text("/w"),
                                           text("t\xff"), text("codex"),
                                           num(1),        num(2),
                                           num(5),        text("comp\xc3leted"),
                                           text(NULL),    text("[1,2]garbage"),
                                           num(0),        text(NULL),
                                           text(NULL)};
    json_t *row = store_row_session(c, none_alive);
    assert_string_equal(json_string_value(json_object_get(row, "last_status")),
                        "comp\xef\xbf\xbdleted");
    assert_string_equal(json_string_value(json_object_get(row, "title")), "t\xef\xbf\xbd");
    assert_true(json_is_null(json_object_get(row, "usage")));
    assert_int_equal(json_object_size(row), 11);
    json_decref(row);

    store_col t[STORE_ROW_TURN_COLS];
    turn_cols(t, "fail\xe2\x82", 1, 0);
    row = store_row_turn(t, none_alive);
    assert_string_equal(json_string_value(json_object_get(row, "status")),
                        "fail\xef\xbf\xbd\xef\xbf\xbd");
    json_decref(row);
}

static void test_fold(void **state)
{
    (void)state;
    static const char in[] = "\xc3\x9c"
                             "BERPR\xc3\x9c"
                             "FE \xc8\xba x\xff";
    size_t n;
    char *out = store_row_fold(in, sizeof(in) - 1, &n);
    /* U+023A (2 bytes) lowers to U+2C65 (3 bytes); a bad byte is kept. */
    assert_string_equal(out, "\xc3\xbc"
                             "berpr\xc3\xbc"
                             "fe \xe2\xb1\xa5 x\xff");
    assert_int_equal(n, strlen(out));
    free(out);
    /* A letter that lowers to ASCII is written as that one byte, never
     * as an overlong (invalid) sequence: U+0130 and U+212A (the Kelvin
     * sign) become i and k. */
    static const char to_ascii[] = "[\xc4\xb0 \xe2\x84\xaa]";
    out = store_row_fold(to_ascii, sizeof(to_ascii) - 1, &n);
    assert_string_equal(out, "[i k]");
    assert_int_equal(n, 5);
    free(out);
}

/* A call as ps and log read it: times as numbers (finished_ms null while
 * it runs), text as written, "interrupted" when its server is gone, and
 * every field there when the row holds nothing but NULLs (written before
 * the engine column, or by something else). */
static void test_call_row(void **state)
{
    (void)state;
    store_col c[STORE_ROW_CALL_COLS];
    c[0] = num(7);
    c[1] = text("01a2d0e0-0000-7000-8000-000000000001");
    c[2] = text("codex");
    c[3] = text("/home/u/app");
    c[4] = text("appserver");
    c[5] = text("fix the tests");
    c[6] = text("running");
    c[7] = num(1763900000000);
    c[8] = text(NULL);
    c[9] = text(NULL);
    c[10] = text(NULL);
    c[11] = num(4242);
    c[12] = text("/tmp/t.jsonl");
    c[13] = num(2);
    json_t *row = store_row_call(c, all_alive);
    assert_string_equal(json_string_value(json_object_get(row, "status")), "running");
    assert_string_equal(json_string_value(json_object_get(row, "engine")), "appserver");
    assert_true(json_is_null(json_object_get(row, "finished_ms")));
    assert_int_equal(json_integer_value(json_object_get(row, "started_ms")), 1763900000000);
    assert_int_equal(json_integer_value(json_object_get(row, "server_pid")), 4242);
    assert_int_equal(json_integer_value(json_object_get(row, "turn")), 2);
    assert_int_equal(json_integer_value(json_object_get(row, "id")), 7);
    json_decref(row);
    row = store_row_call(c, none_alive);
    assert_string_equal(json_string_value(json_object_get(row, "status")), "interrupted");
    json_decref(row);

    c[6] = text("completed");
    c[8] = num(1763900004000);
    c[9] = text("all green");
    row = store_row_call(c, none_alive);
    assert_string_equal(json_string_value(json_object_get(row, "status")), "completed");
    assert_int_equal(json_integer_value(json_object_get(row, "finished_ms")), 1763900004000);
    assert_string_equal(json_string_value(json_object_get(row, "last_message")), "all green");
    json_decref(row);

    for (int i = 0; i < STORE_ROW_CALL_COLS; i++)
        c[i] = text(NULL);
    row = store_row_call(c, all_alive);
    static const char *const keys[] = {
        "id",         "SESSION_ID",  "tool",         "cwd",   "engine",     "prompt",     "status",
        "started_ms", "finished_ms", "last_message", "error", "server_pid", "transcript", "turn"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        assert_non_null(json_object_get(row, keys[i]));
    assert_string_equal(json_string_value(json_object_get(row, "status")), "unknown");
    json_decref(row);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_turn_as_written),  cmocka_unit_test(test_running_turn),
        cmocka_unit_test(test_pid_out_of_range), cmocka_unit_test(test_times_before_1970),
        cmocka_unit_test(test_not_utf8),         cmocka_unit_test(test_fold),
        cmocka_unit_test(test_call_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
