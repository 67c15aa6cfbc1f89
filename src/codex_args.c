/* Arguments, argv and result of the `codex` tool. */
#include "codex_args.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "budget.h"
#include "jsonrpc.h"
#include "limits.h"
#include "log.h"
#include "tools.h"
#include "util.h"

static const char *const sandboxes[] = {"read-only", "workspace-write", "danger-full-access", NULL};
static const char *const efforts[] = {"minimal", "low", "medium", "high", "xhigh", NULL};

static const char *const known_params[] = {"PROMPT",
                                           "cd",
                                           "sandbox",
                                           "SESSION_ID",
                                           "skip_git_repo_check",
                                           "return_all_messages",
                                           "image",
                                           "model",
                                           "yolo",
                                           "profile",
                                           "reasoning_effort",
                                           "timeout_s",
                                           "max_result_chars",
                                           "all_messages_filter",
                                           "wait_s",
                                           NULL};

static const char *const review_params[] = {
    "cd",    "uncommitted",      "base",      "commit",           "PROMPT", "title",
    "model", "reasoning_effort", "timeout_s", "max_result_chars", "wait_s", NULL};

/* Item types of codex's event stream (REFERENCE 1.3). */
static const char *const item_types[] = {
    "agent_message", "reasoning", "command_execution", "file_change", "mcp_tool_call",
    "web_search",    "todo_list", "collab_tool_call",  "error",       NULL};

#define WAIT_S_SCHEMA                                                                              \
    "\"wait_s\":{\"type\":\"number\",\"minimum\":0,\"maximum\":86400,\"description\":"             \
    "\"Run in the background: answer after at most this many seconds. If Codex is not done by "    \
    "then, the answer is {success: true, status: \\\"running\\\", SESSION_ID, task} and the work " \
    "goes on; get its result with codex_wait. 0: answer as soon as the turn has started. To do "   \
    "several things at once, start each with wait_s 0, then codex_wait on all their tasks. "       \
    "Leave out to wait for the result.\"}"

#define MAX_RESULT_CHARS_SCHEMA                                                                    \
    "\"max_result_chars\":{\"type\":\"integer\",\"minimum\":1000,\"maximum\":10000000,"            \
    "\"description\":\"Cut the result to this many characters (default: what the client can "      \
    "take, 48000 for Claude Code, 10000 for Codex); every cut is marked and the transcript file "  \
    "keeps everything.\"}"

/* The schemas are written as JSON: easier to read and to compare with
 * CodexMCP's than a json_pack format string. */
static const char input_schema_json[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"PROMPT\":{\"type\":\"string\",\"description\":\"The task for Codex, in natural "
    "language.\"},"
    "\"cd\":{\"type\":\"string\",\"description\":\"Working directory for Codex: an existing "
    "directory, usually the project root.\"},"
    "\"sandbox\":{\"type\":\"string\",\"enum\":[\"read-only\",\"workspace-write\","
    "\"danger-full-access\"],\"default\":\"read-only\",\"description\":\"Sandbox policy for the "
    "commands Codex runs. Use workspace-write to let it edit files.\"},"
    "\"SESSION_ID\":{\"type\":\"string\",\"default\":\"\",\"description\":\"Resume this Codex "
    "session: the SESSION_ID of an earlier result. Empty: start a new session.\"},"
    "\"skip_git_repo_check\":{\"type\":\"boolean\",\"default\":true,\"description\":\"Allow "
    "running outside a git repository.\"},"
    "\"return_all_messages\":{\"type\":\"boolean\",\"default\":false,\"description\":\"Also "
    "return every Codex event (reasoning, commands, file changes) in all_messages.\"},"
    "\"image\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"default\":[],"
    "\"description\":\"Paths of image files to attach to the prompt.\"},"
    "\"model\":{\"type\":\"string\",\"default\":\"\",\"description\":\"Model to use. Empty: "
    "the user's configured default.\"},"
    "\"yolo\":{\"type\":\"boolean\",\"default\":false,\"description\":\"Run every command "
    "without approval or sandbox. Dangerous.\"},"
    "\"profile\":{\"type\":\"string\",\"default\":\"\",\"description\":\"Codex configuration "
    "profile to use.\"},"
    "\"reasoning_effort\":{\"type\":\"string\",\"enum\":[\"\",\"minimal\",\"low\",\"medium\","
    "\"high\",\"xhigh\"],\"default\":\"\",\"description\":\"Reasoning effort "
    "(model_reasoning_effort). Empty: the user's configured default.\"},"
    "\"timeout_s\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"description\":\"Give up "
    "after this many seconds; the session can be resumed afterwards.\"}," MAX_RESULT_CHARS_SCHEMA
    "," WAIT_S_SCHEMA ","
    "\"all_messages_filter\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"enum\":["
    "\"agent_message\",\"reasoning\",\"command_execution\",\"file_change\",\"mcp_tool_call\","
    "\"web_search\",\"todo_list\",\"collab_tool_call\",\"error\"]},\"description\":\"Only these "
    "item types in all_messages, e.g. [\\\"reasoning\\\",\\\"command_execution\\\"]; implies "
    "return_all_messages.\"}"
    "},\"required\":[\"PROMPT\",\"cd\"],\"additionalProperties\":false}";

static const char review_schema_json[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"cd\":{\"type\":\"string\",\"description\":\"The git repository to review (its working "
    "directory).\"},"
    "\"uncommitted\":{\"type\":\"boolean\",\"description\":\"Review the uncommitted changes: "
    "staged, unstaged and untracked.\"},"
    "\"base\":{\"type\":\"string\",\"description\":\"Review the changes against this base "
    "branch.\"},"
    "\"commit\":{\"type\":\"string\",\"description\":\"Review the changes of this commit "
    "(sha).\"},"
    "\"PROMPT\":{\"type\":\"string\",\"description\":\"Custom review instructions, instead "
    "of uncommitted, base or commit (Codex takes one or the other).\"},"
    "\"title\":{\"type\":\"string\",\"description\":\"A title for the review of a commit "
    "(only with commit).\"},"
    "\"model\":{\"type\":\"string\",\"description\":\"Model to use. Empty: the user's "
    "configured default.\"},"
    "\"reasoning_effort\":{\"type\":\"string\",\"enum\":[\"\",\"minimal\",\"low\",\"medium\","
    "\"high\",\"xhigh\"],\"description\":\"Reasoning effort. Empty: the configured default.\"},"
    "\"timeout_s\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"description\":\"Give up "
    "after this many seconds.\"}," MAX_RESULT_CHARS_SCHEMA "," WAIT_S_SCHEMA
    "},\"required\":[\"cd\"],\"additionalProperties\":false}";

static const char output_schema_json[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"success\":{\"type\":\"boolean\"},"
    "\"SESSION_ID\":{\"type\":\"string\"},"
    "\"agent_messages\":{\"type\":\"string\"},"
    "\"all_messages\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"
    "\"error\":{\"type\":\"string\"},"
    "\"usage\":{\"type\":\"object\"},"
    "\"warnings\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"transcript\":{\"type\":\"string\"},"
    "\"trimmed\":{\"type\":\"string\"},"
    "\"status\":{\"type\":\"string\"},"
    "\"task\":{\"type\":\"string\"},"
    "\"progress\":{\"type\":\"string\"},"
    "\"message\":{\"type\":\"string\"},"
    "\"done\":{\"type\":\"integer\"},"
    "\"pending\":{\"type\":\"integer\"},"
    /* codex_wait: a result per task; codex_cancel: the ids it stopped */
    "\"tasks\":{\"type\":\"array\",\"items\":{\"anyOf\":[{\"type\":\"object\"},{\"type\":"
    "\"string\"}]}},"
    "\"cancelled\":{\"type\":\"integer\"}"
    "},\"required\":[\"success\"]}";

static json_t *load_schema(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (v == NULL)
        abort(); /* a typo in the literal above: caught by every test */
    return v;
}

json_t *codex_input_schema(void)
{
    return load_schema(input_schema_json);
}

json_t *codex_output_schema(void)
{
    return load_schema(output_schema_json);
}

json_t *codex_review_input_schema(void)
{
    return load_schema(review_schema_json);
}

void codex_request_free(codex_request *req)
{
    free(req->prompt);
    free(req->cd);
    free(req->cd_given);
    free(req->sandbox);
    free(req->session_id);
    for (size_t i = 0; i < req->nimages; i++)
        free(req->images[i]);
    free(req->images);
    free(req->model);
    free(req->profile);
    free(req->reasoning_effort);
    json_decref(req->all_filter);
    free(req->base);
    free(req->commit);
    free(req->title);
    memset(req, 0, sizeof(*req));
}

/* Present and not null. */
static json_t *arg(json_t *args, const char *name)
{
    json_t *v = json_object_get(args, name);
    return json_is_null(v) ? NULL : v;
}

static int fail(char **error, char *msg)
{
    *error = msg;
    return -1;
}

static int get_string(json_t *args, const char *name, char **out, char **error)
{
    json_t *v = arg(args, name);
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return fail(error, xasprintf("%s must be a string", name));
    if (jrpc_string(v) == NULL)
        return fail(error, xasprintf("%s must not contain NUL characters: it is passed to codex "
                                     "on its command line, which cannot hold one",
                                     name));
    *out = xstrdup(json_string_value(v));
    return 0;
}

static int get_bool(json_t *args, const char *name, int *out, char **error)
{
    json_t *v = arg(args, name);
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v))
        return fail(error, xasprintf("%s must be a boolean (true or false)", name));
    *out = json_is_true(v);
    return 0;
}

static int get_enum(json_t *args, const char *name, const char *const *values, char **out,
                    char **error)
{
    if (get_string(args, name, out, error) != 0)
        return -1;
    if (*out == NULL || **out == '\0') {
        free(*out);
        *out = NULL;
        return 0;
    }
    for (size_t i = 0; values[i]; i++)
        if (strcmp(*out, values[i]) == 0)
            return 0;
    buf_t b;
    buf_init(&b, 1024);
    for (size_t i = 0; values[i]; i++) {
        if (i)
            buf_append(&b, ", ", 2);
        buf_append(&b, values[i], strlen(values[i]));
    }
    char *shown = one_line(*out, NAME_SHOWN_MAX);
    char *msg = xasprintf("%s must be one of %s (got \"%s\")", name, b.data, shown);
    free(shown);
    buf_free(&b);
    return fail(error, msg);
}

/* Names that go into codex's argv as values: no control characters or
 * white space, no leading '-' (it would read as a flag). */
static int get_token(json_t *args, const char *name, char **out, char **error)
{
    if (get_string(args, name, out, error) != 0)
        return -1;
    if (*out == NULL)
        return 0;
    if (**out == '\0') {
        free(*out);
        *out = NULL;
        return 0;
    }
    if (**out == '-')
        return fail(error, xasprintf("%s must not start with '-'", name));
    for (const unsigned char *p = (const unsigned char *)*out; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return fail(error,
                        xasprintf("%s must not contain white space or control characters", name));
    return 0;
}

/* cd: required, an existing directory, kept resolved. */
static int get_cd(json_t *args, codex_request *req, char **error)
{
    char *cd = NULL;
    if (get_string(args, "cd", &cd, error) != 0)
        return -1;
    if (cd == NULL || *cd == '\0') {
        free(cd);
        return fail(error,
                    xstrdup(req->review ? "cd is required: the git repository to review"
                                        : "cd is required: the working directory for Codex"));
    }
    struct stat st;
    char resolved[PATH_MAX];
    if (stat(cd, &st) != 0 || !S_ISDIR(st.st_mode) || realpath(cd, resolved) == NULL) {
        char *shown = one_line(cd, PATH_SHOWN_MAX);
        fail(error, xasprintf("cd \"%s\" is not an existing directory", shown));
        free(shown);
        free(cd);
        return -1;
    }
    req->cd_given = cd;
    req->cd = xstrdup(resolved);
    return 0;
}

static int get_limits(json_t *args, codex_request *req, char **error)
{
    json_t *timeout = arg(args, "timeout_s");
    if (timeout != NULL) {
        if (!json_is_number(timeout) || !(json_number_value(timeout) > 0) ||
            json_number_value(timeout) > 1e7)
            return fail(error, xstrdup("timeout_s must be a number of seconds greater than 0"));
        req->timeout_s = json_number_value(timeout);
    }
    json_t *wait = arg(args, "wait_s");
    if (wait != NULL) {
        if (!json_is_number(wait) || !(json_number_value(wait) >= 0) ||
            json_number_value(wait) > WAIT_S_MAX)
            return fail(error,
                        xasprintf("wait_s must be a number of seconds from 0 to %u", WAIT_S_MAX));
        req->wait_s = json_number_value(wait);
    }
    json_t *max = arg(args, "max_result_chars");
    if (max != NULL) {
        if (!json_is_integer(max) || json_integer_value(max) < BUDGET_MIN_CHARS ||
            json_integer_value(max) > BUDGET_MAX_CHARS)
            return fail(error, xasprintf("max_result_chars must be a whole number from %u to %u",
                                         BUDGET_MIN_CHARS, BUDGET_MAX_CHARS));
        req->max_result_chars = (size_t)json_integer_value(max);
    }
    return 0;
}

static int get_filter(json_t *args, codex_request *req, char **error)
{
    json_t *filter = arg(args, "all_messages_filter");
    if (filter == NULL)
        return 0;
    if (!json_is_array(filter))
        return fail(error, xstrdup("all_messages_filter must be an array of item types, such as "
                                   "[\"reasoning\", \"command_execution\"]"));
    size_t i;
    json_t *t;
    json_array_foreach(filter, i, t)
    {
        const char *name = json_is_string(t) ? jrpc_string(t) : NULL;
        int ok = 0;
        for (size_t k = 0; name && item_types[k]; k++)
            ok |= strcmp(name, item_types[k]) == 0;
        if (!ok)
            return fail(error,
                        xasprintf("all_messages_filter[%zu] must be one of agent_message, "
                                  "reasoning, command_execution, file_change, mcp_tool_call, "
                                  "web_search, todo_list, collab_tool_call, error",
                                  i));
    }
    req->all_filter = json_incref(filter);
    req->return_all_messages = 1;
    return 0;
}

int codex_request_parse(json_t *args, codex_request *req, char **error)
{
    memset(req, 0, sizeof(*req));
    req->tool = "codex";
    req->wait_s = -1;
    req->skip_git_repo_check = 1;
    *error = NULL;
    if ((*error = tools_unknown_param(args, known_params)) != NULL)
        goto bad;

    json_t *prompt = arg(args, "PROMPT");
    if (prompt == NULL) {
        fail(error, xstrdup("PROMPT is required: the task for Codex"));
        goto bad;
    }
    if (!json_is_string(prompt)) {
        fail(error, xstrdup("PROMPT must be a string"));
        goto bad;
    }
    if (json_string_length(prompt) == 0) {
        fail(error, xstrdup("PROMPT must not be empty"));
        goto bad;
    }
    req->prompt_len = json_string_length(prompt);
    req->prompt = xstrndup(json_string_value(prompt), req->prompt_len);

    if (get_cd(args, req, error) != 0)
        goto bad;

    if (get_enum(args, "sandbox", sandboxes, &req->sandbox, error) != 0 ||
        get_token(args, "SESSION_ID", &req->session_id, error) != 0 ||
        get_bool(args, "skip_git_repo_check", &req->skip_git_repo_check, error) != 0 ||
        get_bool(args, "return_all_messages", &req->return_all_messages, error) != 0 ||
        get_token(args, "model", &req->model, error) != 0 ||
        get_bool(args, "yolo", &req->yolo, error) != 0 ||
        get_token(args, "profile", &req->profile, error) != 0 ||
        get_enum(args, "reasoning_effort", efforts, &req->reasoning_effort, error) != 0)
        goto bad;
    if (req->sandbox == NULL)
        req->sandbox = xstrdup("read-only");

    json_t *images = arg(args, "image");
    struct stat st;
    char resolved[PATH_MAX];
    if (images != NULL) {
        if (!json_is_array(images)) {
            fail(error, xstrdup("image must be an array of file paths"));
            goto bad;
        }
        req->images = xcalloc(json_array_size(images) + 1, sizeof(char *));
        size_t i;
        json_t *img;
        json_array_foreach(images, i, img)
        {
            if (!json_is_string(img)) {
                fail(error, xasprintf("image[%zu] must be a string (a file path)", i));
                goto bad;
            }
            /* A relative path is relative to cd, where Codex works. */
            const char *given = jrpc_string(img);
            if (given == NULL) {
                fail(error, xasprintf("image[%zu] must not contain NUL characters: a file path "
                                      "cannot hold one",
                                      i));
                goto bad;
            }
            char *path = given[0] == '/' ? xstrdup(given) : xasprintf("%s/%s", req->cd, given);
            int bad = stat(path, &st) != 0 || !S_ISREG(st.st_mode);
            if (!bad && (access(path, R_OK) != 0 || realpath(path, resolved) == NULL))
                bad = 2;
            if (bad) {
                free(path);
                fail(error, xasprintf("image[%zu] \"%s\" is not %s", i, given,
                                      bad == 1 ? "an existing file" : "readable"));
                goto bad;
            }
            /* codex splits every --image value at commas, with no escape
             * (REFERENCE 2.5): "a,b.png" would be read as "a" and "b.png",
             * and the turn would go on without the image. */
            const char *pass = strchr(resolved, ',') == NULL ? resolved
                               : strchr(path, ',') == NULL   ? path
                               /* codex runs in cd: a relative path works as given */
                               : given[0] != '/' && strchr(given, ',') == NULL ? given
                                                                               : NULL;
            if (pass == NULL) {
                free(path);
                fail(error, xasprintf("image[%zu] \"%s\": codex cannot take an image path with a "
                                      "comma (it splits --image values at commas and would read "
                                      "the pieces as separate files). Rename the file, or pass a "
                                      "link to it whose path has no comma.",
                                      i, given));
                goto bad;
            }
            /* `--image -x.png` is an option to codex: "./" keeps it a value */
            req->images[req->nimages++] = pass[0] == '-' ? xasprintf("./%s", pass) : xstrdup(pass);
            free(path);
        }
    }

    if (get_limits(args, req, error) != 0 || get_filter(args, req, error) != 0)
        goto bad;
    return 0;

bad:
    codex_request_free(req);
    return -1;
}

static int blank_text(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)s[i]))
            return 0;
    return 1;
}

int codex_in_git_repo(const char *dir)
{
    char *d = xstrdup(dir);
    int found = 0;
    for (;;) {
        char *git = xasprintf("%s/.git", *d ? d : "");
        struct stat st;
        found = stat(git, &st) == 0;
        free(git);
        char *slash = strrchr(d, '/');
        if (found || slash == NULL || *d == '\0')
            break;
        *slash = '\0';
    }
    free(d);
    return found;
}

int codex_review_parse(json_t *args, codex_request *req, char **error)
{
    memset(req, 0, sizeof(*req));
    req->tool = "codex_review";
    req->wait_s = -1;
    req->review = 1;
    req->skip_git_repo_check = 1;
    *error = NULL;
    if ((*error = tools_unknown_param(args, review_params)) != NULL)
        goto bad;
    if (get_cd(args, req, error) != 0 ||
        get_bool(args, "uncommitted", &req->uncommitted, error) != 0 ||
        get_token(args, "base", &req->base, error) != 0 ||
        get_token(args, "commit", &req->commit, error) != 0 ||
        get_string(args, "title", &req->title, error) != 0 ||
        get_token(args, "model", &req->model, error) != 0 ||
        get_enum(args, "reasoning_effort", efforts, &req->reasoning_effort, error) != 0 ||
        get_limits(args, req, error) != 0)
        goto bad;
    json_t *prompt = arg(args, "PROMPT");
    if (prompt != NULL && !json_is_string(prompt)) {
        fail(error, xstrdup("PROMPT must be a string: custom review instructions"));
        goto bad;
    }
    /* Codex trims instructions and refuses empty ones: blank is none. */
    if (prompt != NULL && !blank_text(json_string_value(prompt), json_string_length(prompt))) {
        req->prompt_len = json_string_length(prompt);
        req->prompt = xstrndup(json_string_value(prompt), req->prompt_len);
    }
    if (req->title != NULL && *req->title == '\0') {
        free(req->title);
        req->title = NULL;
    }
    /* What codex exec review rejects (REFERENCE 2.4), refused here with
     * the reason instead of its usage error. */
    int targets = req->uncommitted + (req->base != NULL) + (req->commit != NULL);
    if (targets > 1) {
        fail(error, xstrdup("give only one of uncommitted, base and commit: codex reviews one "
                            "target at a time"));
        goto bad;
    }
    if (targets == 1 && req->prompt) {
        fail(error, xasprintf("PROMPT (custom review instructions) cannot be combined with %s: "
                              "codex exec review takes either a target or custom instructions. "
                              "Leave out PROMPT, or leave out %s and say what to review in PROMPT",
                              req->uncommitted ? "uncommitted"
                              : req->base      ? "base"
                                               : "commit",
                              req->uncommitted ? "uncommitted"
                              : req->base      ? "base"
                                               : "commit"));
        goto bad;
    }
    if (targets == 0 && req->prompt == NULL) {
        fail(error, xstrdup("say what to review: uncommitted: true (the uncommitted changes), "
                            "base (a branch to compare with), commit (a sha), or custom "
                            "instructions in PROMPT"));
        goto bad;
    }
    if (req->title && req->commit == NULL) {
        fail(error, xstrdup("title is only for the review of a commit: give commit too, or leave "
                            "out title"));
        goto bad;
    }
    /* Outside a git repository there is nothing to review, and a review
     * against a base branch there never ends (codex 0.169 reports the
     * error and waits). */
    if (!codex_in_git_repo(req->cd)) {
        fail(error, xasprintf("cd \"%s\" is not inside a git repository: codex_review reviews "
                              "git changes. Use the codex tool to review files outside git",
                              req->cd));
        goto bad;
    }
    req->sandbox = xstrdup("read-only");
    return 0;

bad:
    codex_request_free(req);
    return -1;
}

/* ---- argv ---- */

int codex_cd_only_writes(const codex_request *req)
{
    return req->cd_only_writes && !req->yolo && req->sandbox &&
           strcmp(req->sandbox, "workspace-write") == 0;
}

char **codex_argv_build(const codex_request *req, const char *codex_path)
{
    size_t cap = 26 + 2 * req->nimages, n = 0;
    char **argv = xcalloc(cap, sizeof(char *));
    argv[n++] = xstrdup(codex_path);
    argv[n++] = xstrdup("exec");
    argv[n++] = xstrdup("--json");
    /* Exec-level flags go before `resume`, which rejects -s, -C and -p. */
    if (req->yolo) {
        argv[n++] = xstrdup("--dangerously-bypass-approvals-and-sandbox");
    } else {
        argv[n++] = xstrdup("--sandbox");
        argv[n++] = xstrdup(req->sandbox);
    }
    argv[n++] = xstrdup("--cd");
    argv[n++] = xstrdup(req->cd);
    if (req->skip_git_repo_check)
        argv[n++] = xstrdup("--skip-git-repo-check");
    if (req->model) {
        argv[n++] = xstrdup("--model");
        argv[n++] = xstrdup(req->model);
    }
    if (req->profile) {
        argv[n++] = xstrdup("--profile");
        argv[n++] = xstrdup(req->profile);
    }
    if (req->reasoning_effort) {
        argv[n++] = xstrdup("--config");
        argv[n++] = xasprintf("model_reasoning_effort=\"%s\"", req->reasoning_effort);
    }
    /* As the app-server is told: else a config or profile asking for
     * approvals lets a reviewer model run commands outside the sandbox. */
    if (!req->yolo) {
        argv[n++] = xstrdup("--config");
        argv[n++] = xstrdup("approval_policy=\"never\"");
    }
    /* After --profile, and -c outranks a profile: a profile's roots go too. */
    if (codex_cd_only_writes(req)) {
        argv[n++] = xstrdup("--config");
        argv[n++] = xstrdup("sandbox_workspace_write.writable_roots=[]");
    }
    if (req->review) {
        /* `=` keeps a value that starts with '-' a value. */
        argv[n++] = xstrdup("review");
        if (req->uncommitted)
            argv[n++] = xstrdup("--uncommitted");
        if (req->base)
            argv[n++] = xasprintf("--base=%s", req->base);
        if (req->commit)
            argv[n++] = xasprintf("--commit=%s", req->commit);
        if (req->title)
            argv[n++] = xasprintf("--title=%s", req->title);
        if (req->prompt) { /* the instructions, on stdin */
            argv[n++] = xstrdup("--");
            argv[n++] = xstrdup("-");
        }
        argv[n] = NULL;
        return argv;
    }
    if (req->session_id) {
        argv[n++] = xstrdup("resume");
        argv[n++] = xstrdup(req->session_id);
    }
    /* --image takes several values, so each comes with its own flag, last,
     * and `--` ends them: the prompt then is "-", read from stdin. */
    for (size_t i = 0; i < req->nimages; i++) {
        argv[n++] = xstrdup("--image");
        argv[n++] = xstrdup(req->images[i]);
    }
    argv[n++] = xstrdup("--");
    argv[n++] = xstrdup("-");
    argv[n] = NULL;
    return argv;
}

void codex_argv_free(char **argv)
{
    if (argv == NULL)
        return;
    for (char **p = argv; *p; p++)
        free(*p);
    free(argv);
}

/* ---- results ---- */

json_t *codex_result_wrap(json_t *obj, int is_error, int structured)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    if (text == NULL)
        text = xstrdup("{\"success\":false,\"error\":\"result could not be encoded\"}");
    json_t *result = json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text", text);
    free(text);
    if (structured)
        /* NOLINTNEXTLINE(readability-suspicious-call-argument): obj is the value */
        json_object_set(result, "structuredContent", obj);
    if (is_error)
        json_object_set_new(result, "isError", json_true());
    json_decref(obj);
    return result;
}

char *codex_busy_session_error(const char *detail, const char *stderr_text)
{
    /* Codex locks a session while a process writes it (REFERENCE 2.3, 9.5) */
    return xasprintf("another process is writing this session right now (%s), so codex could not "
                     "resume it. Wait until that turn has finished, then call again with this "
                     "SESSION_ID.%s%s",
                     detail, stderr_text ? " codex stderr: " : "", stderr_text ? stderr_text : "");
}

json_t *codex_result_error(const char *error, const char *session_id, int structured)
{
    /* Paths in messages need not be UTF-8; JSON strings must be. */
    char *clean = utf8_clean(error);
    json_t *obj = json_pack("{s:b, s:s}", "success", 0, "error", clean);
    free(clean);
    if (session_id)
        json_object_set_new(obj, "SESSION_ID", json_string(session_id));
    return codex_result_wrap(obj, 1, structured);
}

json_t *codex_result_build(const events_state *st, const char *error, const codex_result_opts *o)
{
    int ok = error == NULL && st->terminal == EV_COMPLETED;
    json_t *obj = json_pack("{s:b}", "success", ok);
    if (st->thread_id)
        json_object_set_new(obj, "SESSION_ID", json_string(st->thread_id));
    size_t joined_len;
    char *joined = events_joined_messages(st, &joined_len);
    if (ok || joined_len > 0)
        json_object_set_new(obj, "agent_messages", json_stringn(joined, joined_len));
    free(joined);
    if (!ok) {
        const char *why = error ? error : st->failure ? st->failure : "codex failed";
        char *clean = utf8_clean(why);
        json_object_set_new(obj, "error", json_string(clean));
        free(clean);
    }
    if (o->include_all && st->all.first)
        json_object_set_new(obj, "all_messages", events_all_messages(st));
    if (st->usage)
        json_object_set(obj, "usage", st->usage);
    /* Warnings, less the cause already given as the error. */
    json_t *warnings = json_array();
    const char *err_text = json_string_value(json_object_get(obj, "error"));
    size_t i;
    json_t *w;
    json_array_foreach(st->warnings, i, w)
    {
        if (err_text && strstr(err_text, json_string_value(w)) != NULL)
            continue;
        json_array_append(warnings, w);
    }
    if (st->warnings_dropped)
        json_array_append_new(warnings,
                              json_sprintf("%zu more warnings not shown", st->warnings_dropped));
    if (json_array_size(warnings) > 0)
        json_object_set_new(obj, "warnings", warnings);
    else
        json_decref(warnings);
    if (o->transcript) {
        char *clean = utf8_clean(o->transcript);
        json_object_set_new(obj, "transcript", json_string(clean));
        free(clean);
    }
    budget_report r;
    if (o->max_chars > 0 && budget_trim(obj, o->max_chars, o->transcript, &r) != 0)
        log_msg(LOG_WARNING,
                "a result cut as far as it goes is %zu characters, over its budget of %zu", r.after,
                o->max_chars);
    return codex_result_wrap(obj, !ok, o->structured);
}
