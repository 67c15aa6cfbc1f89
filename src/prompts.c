/* The collaboration prompts: a table of templates and the one function
 * that fills them in. */
#include "prompts.h"

#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "util.h"

/* One argument. In the prompt's text `{name}` stands for it: `set` with
 * every `{}` replaced by the value (NULL: the value alone), or `unset` when
 * an optional argument is absent, null or blank. Values are copied
 * verbatim and never scanned for placeholders. */
typedef struct {
    const char *name;
    const char *description;
    int required;
    const char *set;
    const char *unset;
} prompt_arg;

#define PROMPT_MAX_ARGS 3

typedef struct {
    const char *name;
    const char *title;
    const char *description;
    const char *text;
    prompt_arg args[PROMPT_MAX_ARGS + 1]; /* ends at a NULL name */
} prompt_def;

/* Every prompt takes the directory Codex works in; the codex tools require
 * an absolute path, so the default says where to take it from. */
#define ARG_CD                                                                                     \
    {                                                                                              \
        .name = "cd",                                                                              \
        .description =                                                                             \
            "Project directory Codex works in (default: the current project directory)",           \
        .unset = "the current project directory (its absolute path)",                              \
    }

/* What a big result looks like, said the same way in every prompt. */
#define TRANSCRIPT_NOTE                                                                            \
    "A result cut short carries a `transcript` path: read that file for the full record."

static const prompt_def prompts[] = {
    {
        .name = "plan-with-codex",
        .title = "Plan with Codex",
        .description = "Plan a change with Codex as a reviewer: Claude drafts the plan, Codex "
                       "critiques it in a read-only session, and they iterate until they agree.",
        .text = "Plan the following requirement together with Codex, through the codexmcp tools. "
                "Change no files while planning.\n\n"
                "Requirement:\n{requirement}\n\n"
                "1. Read enough of the code to write your own first plan: steps, files to touch, "
                "risks, open questions.\n"
                "2. Call the `codex` tool with cd = {cd}, sandbox \"read-only\" and a PROMPT that "
                "holds the requirement and your plan. Ask Codex to critique it: what is missing or "
                "wrong, what is riskier than it looks, what it would do differently.\n"
                "3. Keep the SESSION_ID of the result and pass it on every follow-up, so Codex "
                "keeps the whole discussion. Answer its points, push back where you disagree, and "
                "iterate until you both agree or the remaining differences are clear. (Lost the "
                "id? `codex_sessions` lists past sessions.)\n"
                "4. " TRANSCRIPT_NOTE "\n"
                "5. You own the final plan. Weigh each of Codex's points on its merits, then "
                "present the plan, what changed because of Codex, and any disagreement left open.",
        .args = {{.name = "requirement",
                  .description = "What to plan: the feature, fix or change, in your own words",
                  .required = 1},
                 ARG_CD},
    },
    {
        .name = "prototype-with-codex",
        .title = "Prototype with Codex",
        .description = "Get a first draft from Codex as a unified diff (read-only, no edits), "
                       "then rewrite it to production quality and apply it yourself.",
        .text =
            "Prototype the following task with Codex, then write the real change yourself.\n\n"
            "Task:\n{task}\n\n"
            "1. Call the `codex` tool with cd = {cd}, sandbox \"read-only\" and a PROMPT that "
            "states the task with the context Codex needs and asks for a unified diff only: "
            "Codex must not edit files (the read-only sandbox enforces it), just reply with "
            "the diff.\n"
            "2. If the diff misses the point or is incomplete, follow up with the same "
            "SESSION_ID (Codex keeps its context) instead of starting over. " TRANSCRIPT_NOTE "\n"
            "3. Treat the diff as a draft, never as the change. Check it against the code, "
            "then rewrite it to production quality (naming, error handling, edge cases, "
            "tests, the project's style) and apply it with your own edits.\n"
            "4. Build and run the tests, then say briefly what you kept from Codex's draft "
            "and what you changed.",
        .args = {{.name = "task",
                  .description = "What to build: the change to prototype",
                  .required = 1},
                 ARG_CD},
    },
    {
        .name = "review-with-codex",
        .title = "Review with Codex",
        .description = "Have Codex review the current change (uncommitted, or against a base "
                       "branch), then verify each finding before acting on it.",
        .text = "Review the current change with Codex, then verify each finding yourself.\n\n"
                "1. Call the `codex_review` tool with cd = {cd} to review {base}. {focus}\n"
                "2. Codex reviews in a read-only sandbox and edits nothing. " TRANSCRIPT_NOTE "\n"
                "3. Treat each finding as a claim, not a fact: open the code it points to and "
                "confirm or refute it yourself. To question Codex about a finding, call the "
                "`codex` tool with the review result's SESSION_ID and sandbox \"read-only\".\n"
                "4. Fix the confirmed findings with your own edits; keep Codex read-only unless "
                "you want it to edit. Then report what you fixed, what you confirmed but left "
                "(and why), and what you rejected (and why).",
        .args = {{.name = "focus",
                  .description = "What the review should look at hardest, e.g. error handling "
                                 "(default: a general review)",
                  .set = "Since a focus is wanted, pass a custom PROMPT instead of that target "
                         "(codex_review takes one or the other): review instructions that name "
                         "this change and ask Codex to look hardest at: {}",
                  .unset = "Pass that target and no PROMPT: Codex runs its standard review."},
                 {.name = "base",
                  .description = "Branch to review against, e.g. main (default: the uncommitted "
                                 "changes)",
                  .set = "this branch's changes against {} (target: base = \"{}\")",
                  .unset = "the uncommitted changes, staged, unstaged and untracked (target: "
                           "uncommitted = true)"},
                 ARG_CD},
    },
    {
        .name = "parallel-with-codex",
        .title = "Parallel questions to Codex",
        .description = "Ask Codex several independent questions at once, one new read-only "
                       "session each, run in parallel, and merge the answers.",
        .text = "Put the following questions to Codex in parallel, one new Codex session per "
                "question, and merge the answers.\n\n"
                "Questions (one per line):\n{questions}\n\n"
                "1. Start one `codex` call per non-empty line, each with wait_s: 0 so it answers "
                "at once with a task id and runs in the background. Each call: cd = {cd}, sandbox "
                "\"read-only\" (nothing is edited, so the calls cannot conflict), no SESSION_ID (a "
                "new session each), and a PROMPT with that one question and the context Codex "
                "needs.\n"
                "2. Call `codex_wait` once with all the task ids (task: [\"id1\", \"id2\", …]); "
                "while some are still running it answers with their progress after wait_s: call "
                "it again with the ids still pending. Note which SESSION_ID answered which "
                "question; for a follow-up on one question, call `codex` again with that "
                "SESSION_ID.\n"
                "3. " TRANSCRIPT_NOTE "\n"
                "4. Check the answers against the code and each other, then merge them into one "
                "reply: each question with its answer, contradictions and doubts called out.",
        .args = {{.name = "questions",
                  .description = "Independent questions for Codex, one per line",
                  .required = 1},
                 ARG_CD},
    },
};

#define PROMPT_COUNT (sizeof(prompts) / sizeof(prompts[0]))

/* Large enough never to refuse: the values are bounded by the request
 * line limit, and the templates are fixed. */
#define TEXT_MAX ((size_t)-1 / 2)

json_t *prompts_list(void)
{
    json_t *list = json_array();
    for (size_t i = 0; i < PROMPT_COUNT; i++) {
        const prompt_def *p = &prompts[i];
        json_t *args = json_array();
        for (const prompt_arg *a = p->args; a->name; a++)
            json_array_append_new(args, json_pack("{s:s, s:s, s:b}", "name", a->name, "description",
                                                  a->description, "required", a->required));
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:s, s:o}", "name", p->name, "title", p->title,
                                        "description", p->description, "arguments", args));
    }
    return list;
}

static const prompt_def *find_prompt(const char *name)
{
    for (size_t i = 0; i < PROMPT_COUNT; i++)
        if (strcmp(prompts[i].name, name) == 0)
            return &prompts[i];
    return NULL;
}

static const prompt_arg *find_arg(const prompt_def *p, const char *name)
{
    for (const prompt_arg *a = p->args; a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return 0;
    return 1;
}

/* The value to put in the text, or NULL when the argument reads as absent. */
static const char *value_of(json_t *args, const char *name)
{
    json_t *v = args ? json_object_get(args, name) : NULL;
    if (!json_is_string(v) || blank(json_string_value(v)))
        return NULL;
    return json_string_value(v);
}

static const char *type_name(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_STRING:
        return "a string";
    default:
        return "null";
    }
}

/* "a, b and c" for count names. */
static char *names_joined(const char *const *names, size_t count)
{
    buf_t b;
    buf_init(&b, TEXT_MAX);
    for (size_t i = 0; i < count; i++) {
        const char *sep = i == 0 ? "" : i + 1 == count ? " and " : ", ";
        buf_append(&b, sep, strlen(sep));
        buf_append(&b, names[i], strlen(names[i]));
    }
    return b.data ? b.data : xstrdup("");
}

static char *unknown_prompt(const char *name)
{
    const char *names[PROMPT_COUNT];
    for (size_t i = 0; i < PROMPT_COUNT; i++)
        names[i] = prompts[i].name;
    char *known = names_joined(names, PROMPT_COUNT);
    char *shown = one_line(name, NAME_SHOWN_MAX);
    char *msg = xasprintf("unknown prompt \"%s\": the prompts are %s", shown, known);
    free(shown);
    free(known);
    return msg;
}

static char *unknown_arg(const prompt_def *p, const char *key)
{
    const char *names[PROMPT_MAX_ARGS];
    size_t n = 0;
    for (const prompt_arg *a = p->args; a->name; a++)
        names[n++] = a->name;
    char *known = names_joined(names, n);
    char *shown = one_line(key, NAME_SHOWN_MAX);
    char *msg =
        xasprintf("prompt %s has no argument \"%s\" (its arguments are %s)", p->name, shown, known);
    free(shown);
    free(known);
    return msg;
}

/* Checks args against the prompt's arguments: the first problem found, as
 * a message to free, or NULL. */
static char *check_args(const prompt_def *p, json_t *args)
{
    if (args != NULL && !json_is_null(args) && !json_is_object(args))
        return xasprintf("prompt %s: arguments must be an object of strings, not %s", p->name,
                         type_name(args));
    const char *key;
    json_t *v;
    json_object_foreach(args, key, v)
    {
        if (find_arg(p, key) == NULL)
            return unknown_arg(p, key);
        if (!json_is_string(v) && !json_is_null(v))
            return xasprintf("prompt %s: argument %s must be a string, not %s", p->name, key,
                             type_name(v));
        if (json_is_string(v) && memchr(json_string_value(v), '\0', json_string_length(v)))
            return xasprintf("prompt %s: argument %s must not contain NUL characters", p->name,
                             key);
    }
    for (const prompt_arg *a = p->args; a->name; a++)
        if (a->required && value_of(args, a->name) == NULL)
            return xasprintf("prompt %s needs the argument %s: %s", p->name, a->name,
                             a->description);
    return NULL;
}

/* Appends `phrase` with every "{}" replaced by `value`. */
static void append_phrase(buf_t *b, const char *phrase, const char *value)
{
    const char *hole;
    while ((hole = strstr(phrase, "{}")) != NULL) {
        buf_append(b, phrase, (size_t)(hole - phrase));
        buf_append(b, value, strlen(value));
        phrase = hole + 2;
    }
    buf_append(b, phrase, strlen(phrase));
}

static char *render(const prompt_def *p, json_t *args)
{
    buf_t b;
    buf_init(&b, TEXT_MAX);
    const char *t = p->text;
    while (*t) {
        const char *open = strchr(t, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (close == NULL) {
            buf_append(&b, t, strlen(t));
            break;
        }
        buf_append(&b, t, (size_t)(open - t));
        char *name = xstrndup(open + 1, (size_t)(close - open - 1));
        const prompt_arg *a = find_arg(p, name);
        free(name);
        if (a == NULL) {
            /* Not a placeholder: the text's own brace. */
            buf_append(&b, open, 1);
            t = open + 1;
            continue;
        }
        /* check_args has made sure every required argument has a value. */
        const char *value = value_of(args, a->name);
        if (value != NULL)
            append_phrase(&b, a->set ? a->set : "{}", value);
        else if (a->unset != NULL)
            buf_append(&b, a->unset, strlen(a->unset));
        t = close + 1;
    }
    return b.data ? b.data : xstrdup("");
}

json_t *prompts_get(const char *name, json_t *args, char **error)
{
    *error = NULL;
    const prompt_def *p = find_prompt(name ? name : "");
    if (p == NULL) {
        *error = unknown_prompt(name ? name : "");
        return NULL;
    }
    if ((*error = check_args(p, args)) != NULL)
        return NULL;
    char *text = render(p, args);
    json_t *result = json_pack("{s:s, s:[{s:s, s:{s:s, s:s}}]}", "description", p->description,
                               "messages", "role", "user", "content", "type", "text", "text", text);
    free(text);
    return result;
}
