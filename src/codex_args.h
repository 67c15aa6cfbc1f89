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
    const char *tool; /* "codex" or "codex_review" (static strings) */
    char *prompt;     /* a review's custom instructions, or NULL */
    size_t prompt_len;
    char *cd;       /* absolute, existing directory, symlinks resolved */
    char *cd_given; /* cd as the call wrote it */
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
    /* A cap bounds writes (policy_bounds_writes): a workspace-write turn
     * writes only in cd, not in the writable_roots Codex's configuration or
     * a profile adds. Set by jobs, not by a client. */
    int cd_only_writes;
    double timeout_s;        /* 0: the server default */
    double wait_s;           /* answer "running" after this long; < 0: wait for the end */
    size_t max_result_chars; /* 0: the server's default for the client */
    json_t *all_filter;      /* item types all_messages keeps, or NULL: all */
    /* codex exec review: one target, or custom instructions in prompt */
    int review;
    int uncommitted;
    char *base, *commit, *title;
} codex_request;

json_t *codex_input_schema(void);
json_t *codex_output_schema(void);
json_t *codex_review_input_schema(void);

/* Validates args. Returns 0 and fills *req, or -1 with *error set to a
 * message that names the parameter (the caller frees it). Touches the file
 * system only to check that cd and images exist. */
int codex_request_parse(json_t *args, codex_request *req, char **error);
/* The same for the codex_review tool: cd, then one of uncommitted, base or
 * commit, or custom instructions in PROMPT, never both (codex rejects
 * that); title only with commit. */
int codex_review_parse(json_t *args, codex_request *req, char **error);
void codex_request_free(codex_request *req);

/* dir or one of its parents has a .git (a directory, or the file of a
 * worktree or submodule): where codex runs without --skip-git-repo-check. */
int codex_in_git_repo(const char *dir);

/* The turn must be told that writable_roots is empty (exec: --config
 * sandbox_workspace_write.writable_roots=[]; the app-server: the same key in
 * thread/start's config): cd_only_writes and the workspace-write sandbox. */
int codex_cd_only_writes(const codex_request *req);

/* argv for `codex exec --json …` (NULL-terminated, argv[0] = codex_path);
 * the prompt goes on stdin ("-"). Free with codex_argv_free. */
char **codex_argv_build(const codex_request *req, const char *codex_path);
void codex_argv_free(char **argv);

typedef struct {
    int include_all;        /* all_messages */
    int structured;         /* add structuredContent */
    const char *transcript; /* its path, or NULL: none */
    size_t max_chars;       /* the result budget (budget.h); 0: none */
} codex_result_opts;

/* The CallToolResult for a finished run. `error` NULL means: decide from
 * the state (turn.completed is success); otherwise the call failed with
 * that message. The result object is cut to the budget; the text block
 * and structuredContent each hold it. */
json_t *codex_result_build(const events_state *st, const char *error, const codex_result_opts *o);
/* A CallToolResult holding obj (stolen) as JSON text and, if structured,
 * as structuredContent. */
json_t *codex_result_wrap(json_t *obj, int is_error, int structured);
/* The error of a call whose session another process is writing (codex
 * says "already has an active writer"): what happened and what to do,
 * under either engine. detail: codex's words; stderr_text, when given,
 * is quoted after. New string. */
char *codex_busy_session_error(const char *detail, const char *stderr_text);
/* A failure result with only an error message (validation, spawn). */
json_t *codex_result_error(const char *error, const char *session_id, int structured);

#endif
