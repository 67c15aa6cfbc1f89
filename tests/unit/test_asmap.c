/* The app-server's notifications as exec's event lines: each file in
 * data/asmap holds lines the app-server printed ("< ") and the exec lines
 * they must become (">  "), in order; JSON compared by value. Notifications
 * with no exec line are followed by none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asmap.h"
#include "events.h"

#define DATA_DIR "data/asmap"

static void check_file(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    asmap m;
    asmap_init(&m);
    char *line = NULL, *pending = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        if (n < 2 || line[0] == '#')
            continue;
        if (line[0] == '<') {
            if (pending) {
                print_error("%s:%d: expected the line %s before the next notification\n", path,
                            lineno, pending);
                fail();
            }
            json_error_t err;
            json_t *msg = json_loads(line + 2, 0, &err);
            if (msg == NULL) {
                print_error("%s:%d: bad JSON: %s\n", path, lineno, err.text);
                fail();
            }
            pending = asmap_notification(&m, json_string_value(json_object_get(msg, "method")),
                                         json_object_get(msg, "params"));
            json_decref(msg);
        } else if (line[0] == '>') {
            if (pending == NULL) {
                print_error("%s:%d: no exec line came for this one: %s\n", path, lineno, line + 2);
                fail();
            }
            json_t *want = json_loads(line + 2, 0, NULL), *got = json_loads(pending, 0, NULL);
            assert_non_null(want);
            assert_non_null(got);
            if (!json_equal(want, got)) {
                print_error("%s:%d:\n want %s\n got  %s\n", path, lineno, line + 2, pending);
                fail();
            }
            json_decref(want);
            json_decref(got);
            free(pending);
            pending = NULL;
        }
    }
    if (pending) {
        print_error("%s: an exec line came that the file does not expect: %s\n", path, pending);
        fail();
    }
    free(line);
    fclose(f);
    asmap_free(&m);
}

static void test_files(void **state)
{
    (void)state;
    DIR *d = opendir(DATA_DIR);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0)
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", DATA_DIR, e->d_name);
        check_file(path);
        files++;
    }
    closedir(d);
    assert_true(files >= 3);
}

/* The mapped lines go through the reducer as exec's would: the answer, the
 * session and the usage come out. */
static void test_reducer_reads_mapped_turn(void **state)
{
    (void)state;
    asmap m;
    asmap_init(&m);
    events_state st;
    events_init(&st, 1, NULL);
    const char *id = "01a20ce5-d652-76e0-ab40-4f4a28c12cda";
    char *l = asmap_thread_started(id);
    free(events_feed(&st, l, strlen(l)));
    free(l);
    static const char *const notes[] = {
        "{\"method\":\"turn/started\",\"params\":{\"threadId\":\"t\",\"turn\":{\"id\":\"u\"}}}",
        "{\"method\":\"item/completed\",\"params\":{\"threadId\":\"t\",\"item\":{\"type\":"
        "\"agentMessage\",\"id\":\"msg_1\",\"text\":\"done\"}}}",
        "{\"method\":\"thread/tokenUsage/updated\",\"params\":{\"threadId\":\"t\",\"tokenUsage\":{"
        "\"total\":{\"totalTokens\":30,\"inputTokens\":20,\"cachedInputTokens\":5,"
        "\"cacheWriteInputTokens\":0,\"outputTokens\":10,\"reasoningOutputTokens\":2},\"last\":{}}}"
        "}",
        "{\"method\":\"turn/completed\",\"params\":{\"threadId\":\"t\",\"turn\":{\"id\":\"u\","
        "\"status\":\"completed\",\"error\":null}}}",
    };
    for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++) {
        json_t *msg = json_loads(notes[i], 0, NULL);
        assert_non_null(msg);
        l = asmap_notification(&m, json_string_value(json_object_get(msg, "method")),
                               json_object_get(msg, "params"));
        if (l)
            free(events_feed(&st, l, strlen(l)));
        free(l);
        json_decref(msg);
    }
    assert_int_equal(st.terminal, EV_COMPLETED);
    assert_string_equal(st.thread_id, id);
    size_t len;
    assert_string_equal(events_last_message(&st, &len), "done");
    assert_int_equal(json_integer_value(json_object_get(st.usage, "input_tokens")), 20);
    assert_int_equal(json_integer_value(json_object_get(st.usage, "reasoning_output_tokens")), 2);
    events_free(&st);
    asmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_reducer_reads_mapped_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
