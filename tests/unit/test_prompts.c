/* The collaboration prompts: the list, a table of prompts/get calls with
 * the phrases each rendered text must (and must not) hold, and a table of
 * calls with the error each must produce. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prompts.h"

/* The brief's budget for one prompt's own text, arguments aside. */
#define TEXT_BUDGET 1200

#define MAX_PHRASES 10

/* args is JSON, or NULL for no arguments at all. The text must hold every
 * `has` phrase and no `lacks` phrase. */
static const struct {
    const char *name;
    const char *args;
    const char *has[MAX_PHRASES];
    const char *lacks[MAX_PHRASES];
} renders[] = {
    /* arguments go into the text verbatim */
    {.name = "plan-with-codex",
     .args =
         "{\"requirement\":\"Add a --dry-run flag\\nthat prints the argv\",\"cd\":\"/srv/app\"}",
     .has = {"Requirement:\nAdd a --dry-run flag\nthat prints the argv\n", "cd = /srv/app,",
             "sandbox \"read-only\"", "SESSION_ID", "`transcript` path", "You own the final plan"},
     .lacks = {"current project directory"}},
    {.name = "prototype-with-codex",
     .args = "{\"task\":\"Cache the parsed config\",\"cd\":\"/srv/app\"}",
     .has = {"Task:\nCache the parsed config\n", "cd = /srv/app,", "unified diff only",
             "production quality", "SESSION_ID", "`transcript` path"},
     .lacks = {"current project directory"}},
    {.name = "review-with-codex",
     .args = "{\"focus\":\"error handling\",\"base\":\"main\",\"cd\":\"/srv/app\"}",
     .has = {"`codex_review` tool with cd = /srv/app to review this branch's changes against "
             "main (target: base = \"main\"). Since a focus is wanted, pass a custom PROMPT "
             "instead of that target",
             "look hardest at: error handling\n", "verify each finding yourself", "SESSION_ID",
             "`transcript` path"},
     .lacks = {"uncommitted = true", "standard review", "current project directory"}},
    {.name = "parallel-with-codex",
     .args = "{\"questions\":\"Where is the config parsed?\\nWho calls runner_spawn?\"}",
     .has = {"Questions (one per line):\nWhere is the config parsed?\nWho calls runner_spawn?\n",
             "one `codex` call per non-empty line", "wait_s: 0",
             "`codex_wait` once with all the task ids", "sandbox \"read-only\"", "SESSION_ID",
             "`transcript` path"}},

    /* absent, null or blank optional arguments read as their defaults */
    {.name = "plan-with-codex",
     .args = "{\"requirement\":\"R\"}",
     .has = {"cd = the current project directory (its absolute path), sandbox"}},
    {.name = "plan-with-codex",
     .args = "{\"requirement\":\"R\",\"cd\":\"  \"}",
     .has = {"cd = the current project directory (its absolute path), sandbox"}},
    {.name = "plan-with-codex",
     .args = "{\"requirement\":\"R\",\"cd\":null}",
     .has = {"cd = the current project directory (its absolute path), sandbox"}},
    {.name = "review-with-codex",
     .args = NULL,
     .has = {"`codex_review` tool with cd = the current project directory (its absolute path) "
             "to review the uncommitted changes, staged, unstaged and untracked (target: "
             "uncommitted = true). Pass that target and no PROMPT: Codex runs its standard "
             "review.\n"},
     .lacks = {"base =", "focus"}},
    {.name = "review-with-codex",
     .args = "{}",
     .has = {"(target: uncommitted = true). Pass that target and no PROMPT"}},
    {.name = "review-with-codex",
     .args = "{\"focus\":\"\",\"base\":\"\\t\",\"cd\":\"\"}",
     .has = {"(target: uncommitted = true). Pass that target and no PROMPT",
             "current project directory"}},
    {.name = "review-with-codex",
     .args = "{\"base\":\"release/2.x\"}",
     .has = {"against release/2.x (target: base = \"release/2.x\"). Pass that target and no "
             "PROMPT"},
     .lacks = {"uncommitted = true"}},
    {.name = "review-with-codex",
     .args = "{\"focus\":\"thread safety\"}",
     .has = {"review the uncommitted changes, staged, unstaged and untracked (target: "
             "uncommitted = true). Since a focus is wanted, pass a custom PROMPT",
             "look hardest at: thread safety\n"},
     .lacks = {"standard review"}},

    /* a value is never read as a template: braces and percent signs stay */
    {.name = "prototype-with-codex",
     .args = "{\"task\":\"print {cd} and {} and %s%n\",\"cd\":\"/a/{task}\"}",
     .has = {"Task:\nprint {cd} and {} and %s%n\n", "cd = /a/{task},"}},
    {.name = "review-with-codex",
     .args = "{\"base\":\"{}\"}",
     .has = {"against {} (target: base = \"{}\")."}},
};

/* Each must be refused with a message that holds `error`. */
static const struct {
    const char *name;
    const char *args;
    const char *error;
} refusals[] = {
    {"plan-with-kodex", "{}",
     "unknown prompt \"plan-with-kodex\": the prompts are plan-with-codex, "
     "prototype-with-codex, review-with-codex and parallel-with-codex"},
    {"", NULL, "unknown prompt \"\""},
    {"plan-with-codex", NULL,
     "prompt plan-with-codex needs the argument requirement: What to plan"},
    {"plan-with-codex", "{\"cd\":\"/x\"}", "prompt plan-with-codex needs the argument requirement"},
    {"plan-with-codex", "{\"requirement\":\" \\n \"}",
     "prompt plan-with-codex needs the argument requirement"},
    {"plan-with-codex", "{\"requirement\":null}",
     "prompt plan-with-codex needs the argument requirement"},
    {"prototype-with-codex", "{}", "prompt prototype-with-codex needs the argument task"},
    {"parallel-with-codex", "{\"cd\":\"/x\"}",
     "prompt parallel-with-codex needs the argument questions"},
    {"plan-with-codex", "{\"requirement\":42}",
     "prompt plan-with-codex: argument requirement must be a string, not a number"},
    {"review-with-codex", "{\"base\":[\"main\"]}",
     "prompt review-with-codex: argument base must be a string, not an array"},
    {"review-with-codex", "{\"focus\":true}",
     "prompt review-with-codex: argument focus must be a string, not a boolean"},
    {"parallel-with-codex", "{\"questions\":\"q\",\"cd\":{}}",
     "prompt parallel-with-codex: argument cd must be a string, not an object"},
    {"review-with-codex", "{\"commit\":\"abc123\"}",
     "prompt review-with-codex has no argument \"commit\" (its arguments are focus, base and cd)"},
    {"plan-with-codex", "{\"requirement\":\"R\",\"sandbox\":\"read-only\"}",
     "prompt plan-with-codex has no argument \"sandbox\" (its arguments are requirement and cd)"},
    {"plan-with-codex", "[\"R\"]",
     "prompt plan-with-codex: arguments must be an object of strings, not an array"},
};

static json_t *load_args(const char *text)
{
    if (text == NULL)
        return NULL;
    json_error_t jerr;
    json_t *args = json_loads(text, 0, &jerr);
    if (args == NULL)
        fail_msg("bad JSON in the table: %s: %s", text, jerr.text);
    return args;
}

static void test_list(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *args[3];
        int required[3];
    } want[] = {
        {"plan-with-codex", {"requirement", "cd"}, {1, 0}},
        {"prototype-with-codex", {"task", "cd"}, {1, 0}},
        {"review-with-codex", {"focus", "base", "cd"}, {0, 0, 0}},
        {"parallel-with-codex", {"questions", "cd"}, {1, 0}},
    };
    json_t *list = prompts_list();
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *p = json_array_get(list, i);
        assert_string_equal(json_string_value(json_object_get(p, "name")), want[i].name);
        assert_true(json_string_length(json_object_get(p, "title")) > 0);
        assert_true(json_string_length(json_object_get(p, "description")) > 0);
        json_t *args = json_object_get(p, "arguments");
        size_t n = 0;
        while (n < 3 && want[i].args[n])
            n++;
        assert_int_equal(json_array_size(args), n);
        for (size_t k = 0; k < n; k++) {
            json_t *a = json_array_get(args, k);
            assert_int_equal(json_object_size(a), 3);
            assert_string_equal(json_string_value(json_object_get(a, "name")), want[i].args[k]);
            assert_true(json_string_length(json_object_get(a, "description")) > 0);
            assert_true(json_is_boolean(json_object_get(a, "required")));
            assert_int_equal(json_is_true(json_object_get(a, "required")), want[i].required[k]);
        }
    }
    json_decref(list);
}

static const char *text_of(json_t *result)
{
    json_t *msgs = json_object_get(result, "messages");
    assert_int_equal(json_array_size(msgs), 1);
    json_t *m = json_array_get(msgs, 0);
    assert_string_equal(json_string_value(json_object_get(m, "role")), "user");
    json_t *content = json_object_get(m, "content");
    assert_string_equal(json_string_value(json_object_get(content, "type")), "text");
    const char *text = json_string_value(json_object_get(content, "text"));
    assert_non_null(text);
    return text;
}

static void test_renders(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(renders) / sizeof(renders[0]); i++) {
        json_t *args = load_args(renders[i].args);
        char *error = (char *)"unset";
        json_t *r = prompts_get(renders[i].name, args, &error);
        if (r == NULL)
            fail_msg("render %zu (%s %s): refused: %s", i, renders[i].name, renders[i].args, error);
        assert_null(error);
        assert_true(json_string_length(json_object_get(r, "description")) > 0);
        const char *text = text_of(r);
        for (size_t k = 0; k < MAX_PHRASES && renders[i].has[k]; k++)
            if (strstr(text, renders[i].has[k]) == NULL)
                fail_msg("render %zu: text lacks \"%s\":\n%s", i, renders[i].has[k], text);
        for (size_t k = 0; k < MAX_PHRASES && renders[i].lacks[k]; k++)
            if (strstr(text, renders[i].lacks[k]) != NULL)
                fail_msg("render %zu: text has \"%s\":\n%s", i, renders[i].lacks[k], text);
        json_decref(r);
        json_decref(args);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        json_t *args = load_args(refusals[i].args);
        char *error = NULL;
        json_t *r = prompts_get(refusals[i].name, args, &error);
        if (r != NULL)
            fail_msg("refusal %zu (%s %s): accepted, wanted \"%s\"", i, refusals[i].name,
                     refusals[i].args, refusals[i].error);
        assert_non_null(error);
        if (strstr(error, refusals[i].error) == NULL)
            fail_msg("refusal %zu: error \"%s\" lacks \"%s\"", i, error, refusals[i].error);
        free(error);
        json_decref(args);
    }
}

/* With only the required arguments (one letter each), every text reads as
 * finished prose: no placeholder left, no empty phrase, within budget. */
static void test_defaults_read_well(void **state)
{
    (void)state;
    json_t *list = prompts_list();
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *p = json_array_get(list, i);
        const char *name = json_string_value(json_object_get(p, "name"));
        json_t *args = json_object();
        size_t k;
        json_t *a;
        json_array_foreach(json_object_get(p, "arguments"), k, a)
        {
            if (json_is_true(json_object_get(a, "required")))
                json_object_set_new(args, json_string_value(json_object_get(a, "name")),
                                    json_string("X"));
        }
        char *error = NULL;
        json_t *r = prompts_get(name, args, &error);
        if (r == NULL)
            fail_msg("%s: %s", name, error);
        const char *text = text_of(r);
        if (strchr(text, '{') || strchr(text, '}'))
            fail_msg("%s: a placeholder is left:\n%s", name, text);
        static const char *const flaws[] = {"  .", " ,", "..", ". .", "= ,", "= .", "\n\n\n"};
        for (size_t f = 0; f < sizeof(flaws) / sizeof(flaws[0]); f++)
            if (strstr(text, flaws[f]))
                fail_msg("%s: \"%s\" in the text:\n%s", name, flaws[f], text);
        assert_non_null(strstr(text, "the current project directory (its absolute path)"));
        if (strlen(text) > TEXT_BUDGET)
            fail_msg("%s: %zu characters, over %d", name, strlen(text), TEXT_BUDGET);
        json_decref(r);
        json_decref(args);
    }
    json_decref(list);
}

/* The result shape of prompts/get, and NULL args, are both plain. */
static void test_result_shape(void **state)
{
    (void)state;
    char *error = NULL;
    json_t *r = prompts_get("review-with-codex", NULL, &error);
    assert_non_null(r);
    assert_null(error);
    assert_int_equal(json_object_size(r), 2);
    json_t *list = prompts_list();
    json_t *review = json_array_get(list, 2);
    assert_string_equal(json_string_value(json_object_get(r, "description")),
                        json_string_value(json_object_get(review, "description")));
    json_t *m = json_array_get(json_object_get(r, "messages"), 0);
    assert_int_equal(json_object_size(m), 2);
    assert_int_equal(json_object_size(json_object_get(m, "content")), 2);
    json_decref(list);
    json_decref(r);
}

/* A huge or multi-line unknown name is quoted short, on one line. */
static void test_unknown_name_shown_short(void **state)
{
    (void)state;
    char name[4096];
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    name[3] = '\n';
    char *error = NULL;
    assert_null(prompts_get(name, NULL, &error));
    assert_non_null(error);
    assert_true(strlen(error) < 300);
    assert_null(strchr(error, '\n'));
    assert_non_null(strstr(error, "unknown prompt \"xxx xxx"));
    free(error);
    error = NULL;
    assert_null(prompts_get(NULL, NULL, &error));
    assert_non_null(strstr(error, "unknown prompt \"\""));
    free(error);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list),         cmocka_unit_test(test_renders),
        cmocka_unit_test(test_refusals),     cmocka_unit_test(test_defaults_read_well),
        cmocka_unit_test(test_result_shape), cmocka_unit_test(test_unknown_name_shown_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
