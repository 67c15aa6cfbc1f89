/* The `codex` tool's arguments, pure: validation of the JSON arguments a
 * client sent (the CodexMCP interface, parameter for parameter), the argv
 * of `codex exec --json` built from them, and the result object built from
 * the reducer's state. Ownership: codex_request owns all its strings;
 * codex_request_free releases them. */
#ifndef CODEXMCP_CODEX_ARGS_H
#define CODEXMCP_CODEX_ARGS_H

#include <jansson.h>
#include <stddef.h>

#include "events.h"

typedef struct {
    char *prompt;
    size_t prompt_len;
    char *cd; /* absolute, existing directory */
    char *sandbox;
    char *session_id; /* NULL: new session */
    int skip_git_repo_check;
    int return_all_messages;
    char **images; /* absolute paths */
    size_t nimages;
    char *model;
    int yolo;
    char *profile;
    char *reasoning_effort;
    double timeout_s; /* 0: the server default */
} codex_request;

json_t *codex_input_schema(void);
json_t *codex_output_schema(void);

/* Validates args. Returns 0 and fills *req, or -1 with *error set to a
 * message that names the parameter (the caller frees it). Touches the file
 * system only to check that cd and images exist. */
int codex_request_parse(json_t *args, codex_request *req, char **error);
void codex_request_free(codex_request *req);

/* argv for `codex exec --json …` (NULL-terminated, argv[0] = codex_path);
 * the prompt goes on stdin ("-"). Free with codex_argv_free. */
char **codex_argv_build(const codex_request *req, const char *codex_path);
void codex_argv_free(char **argv);

/* The CallToolResult for a finished run. `error` NULL means: decide from
 * the state (turn.completed is success); otherwise the call failed with
 * that message. `structured` adds structuredContent. */
json_t *codex_result_build(const events_state *st, const char *error, int include_all,
                           int structured);
/* A failure result with only an error message (validation, spawn). */
json_t *codex_result_error(const char *error, const char *session_id, int structured);

#endif
