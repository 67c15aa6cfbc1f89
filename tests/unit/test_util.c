/* Bounded line splitting and UTF-8 clean-up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "linebuf.h"
#include "util.h"

typedef struct {
    char lines[16][64];
    size_t lens[16];
    int overflow[16];
    size_t n;
} sink;

static void collect(void *ctx, const char *line, size_t len, int overflow)
{
    sink *s = ctx;
    assert_true(s->n < 16);
    s->overflow[s->n] = overflow;
    s->lens[s->n] = len;
    if (!overflow) {
        assert_true(len < 64);
        memcpy(s->lines[s->n], line, len);
        s->lines[s->n][len] = '\0';
    }
    s->n++;
}

static void test_lines_split_across_chunks(void **state)
{
    (void)state;
    linebuf_t lb;
    sink s = {0};
    linebuf_init(&lb, 16);
    linebuf_feed(&lb, "ab", 2, collect, &s);
    linebuf_feed(&lb, "c\nde\r\n\nf", 8, collect, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.lines[0], "abc");
    assert_string_equal(s.lines[1], "de");
    assert_string_equal(s.lines[2], "");
    linebuf_finish(&lb, collect, &s);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.lines[3], "f");
    linebuf_finish(&lb, collect, &s);
    assert_int_equal(s.n, 4);
    linebuf_free(&lb);
}

static void test_overlong_line_skipped(void **state)
{
    (void)state;
    linebuf_t lb;
    sink s = {0};
    linebuf_init(&lb, 8);
    linebuf_feed(&lb, "12345", 5, collect, &s);
    linebuf_feed(&lb, "67890abc", 8, collect, &s);
    linebuf_feed(&lb, "def\nok\n", 7, collect, &s);
    assert_int_equal(s.n, 2);
    assert_true(s.overflow[0]);
    assert_int_equal(s.lens[0], 16);
    assert_false(s.overflow[1]);
    assert_string_equal(s.lines[1], "ok");
    /* exactly at the limit is fine */
    linebuf_feed(&lb, "12345678\n", 9, collect, &s);
    assert_int_equal(s.n, 3);
    assert_false(s.overflow[2]);
    /* overflow at end of stream */
    linebuf_feed(&lb, "123456789", 9, collect, &s);
    linebuf_finish(&lb, collect, &s);
    assert_int_equal(s.n, 4);
    assert_true(s.overflow[3]);
    assert_int_equal(s.lens[3], 9);
    assert_true(lb.buf.cap <= 9);
    linebuf_free(&lb);
}

static void test_utf8_sanitize(void **state)
{
    (void)state;
    char *s = utf8_sanitize("ok \xff \xc3\xa9 \xed\xa0\x80 \xf0\x9f\x98\x80\x01", 17, 100);
    assert_string_equal(
        s, "ok \xef\xbf\xbd \xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xf0\x9f\x98\x80 ");
    free(s);
    /* a cut never splits a character */
    s = utf8_sanitize("\xc3\xa9\xc3\xa9", 4, 3);
    assert_string_equal(s, "\xc3\xa9");
    free(s);
    s = utf8_sanitize("", 0, 10);
    assert_string_equal(s, "");
    free(s);
}

static void test_blank_and_clean(void **state)
{
    (void)state;
    assert_true(blank_line("", 0));
    assert_true(blank_line(" \t\r ", 4));
    assert_false(blank_line("  x ", 4));
    /* every byte invalid: the result still fits, each became U+FFFD */
    char *s = utf8_clean("\xff\xfe\xfd");
    assert_string_equal(s, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    free(s);
}

static void test_one_line(void **state)
{
    (void)state;
    char *s = one_line("  running:\n  pytest   -q \t", 100);
    assert_string_equal(s, "running: pytest -q");
    free(s);
    s = one_line("abcdefghijklmnopqrstuvwxyz", 10);
    assert_string_equal(s, "abcdefg\xe2\x80\xa6");
    free(s);
    s = one_line("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8);
    assert_string_equal(s, "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
    free(s);
}

static void test_buf_max(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b, 4);
    assert_int_equal(buf_append(&b, "abc", 3), 0);
    assert_int_equal(buf_append(&b, "de", 2), -1);
    assert_int_equal(buf_append(&b, "d", 1), 0);
    assert_string_equal(b.data, "abcd");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_split_across_chunks),
        cmocka_unit_test(test_overlong_line_skipped),
        cmocka_unit_test(test_utf8_sanitize),
        cmocka_unit_test(test_blank_and_clean),
        cmocka_unit_test(test_one_line),
        cmocka_unit_test(test_buf_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
