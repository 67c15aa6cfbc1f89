/* The collaboration workflow as MCP prompts (prompts/list, prompts/get),
 * which clients such as Claude Code show as slash commands: each renders
 * one user message that tells the model how to work with Codex through
 * the codex, codex_review and codex_sessions tools. Pure: no I/O. */
#ifndef CODEXMCP_PROMPTS_H
#define CODEXMCP_PROMPTS_H

#include <jansson.h>

/* The `prompts` array of a prompts/list result (new reference): each
 * {name, title, description, arguments: [{name, description, required}]}.
 * The list is short and fixed, so it needs no pagination. */
json_t *prompts_list(void);

/* The prompts/get result for `name` with `args` (borrowed; an object of
 * strings, or NULL): {description, messages: [{role: "user", content:
 * {type: "text", text}}]} (new reference). Values are put into the text
 * verbatim; an optional argument that is absent, null or blank reads as
 * its default. On error returns NULL and sets *error to a message that
 * names the prompt and the argument (the caller frees it): unknown prompt,
 * args not an object, unknown argument, a value that is not a string, a
 * required argument absent or blank. *error is NULL on success. */
json_t *prompts_get(const char *name, json_t *args, char **error);

#endif
