/* The tool registry: what tools/list shows and how tools/call reaches a
 * tool. A tool is a static description plus two callbacks. Calls are
 * asynchronous: `start` returns at once and the tool later finishes the
 * call with mcp_call_finish() (mcp.h) exactly once, cancelled or not. */
#ifndef CODEXMCP_TOOLS_H
#define CODEXMCP_TOOLS_H

#include <jansson.h>
#include <stddef.h>

typedef struct mcp_call mcp_call;

typedef struct tool_def {
    const char *name;
    const char *title;
    const char *description;
    /* Each returns a new reference. */
    json_t *(*input_schema)(void);
    json_t *(*output_schema)(void);         /* NULL: no outputSchema */
    json_t *(*annotations)(void *tool_ctx); /* NULL: none */
    int task_support;                       /* may run as an MCP task ("optional") */
    /* Starts the call. `args` is borrowed (never NULL: {} when absent). */
    void (*start)(void *tool_ctx, mcp_call *call, json_t *args);
    /* The client cancelled the call: stop the work soon; the call must
     * still be finished (its reply is dropped). NULL: cannot cancel. */
    void (*cancel)(void *tool_ctx, mcp_call *call);
    void *tool_ctx;
} tool_def;

typedef struct {
    const tool_def **tools; /* borrowed definitions */
    size_t count;
    size_t page_size;
} tool_registry;

void tools_init(tool_registry *reg, size_t page_size);
void tools_free(tool_registry *reg);
void tools_add(tool_registry *reg, const tool_def *tool);
const tool_def *tools_find(const tool_registry *reg, const char *name);
/* The JSON Tool object of tools/list for one tool (new reference); with
 * `tasks` (negotiated) it says whether the tool may run as a task. */
json_t *tools_describe(const tool_def *tool, int tasks);
/* A tools/list result for the page at `cursor` (NULL: first page).
 * Returns NULL when the cursor is not one this registry issued. */
json_t *tools_list_page(const tool_registry *reg, const char *cursor, int tasks);

/* For a tool's start: NULL when every key of args is one of `known`
 * (NULL-terminated), else the error that names the first that is not and
 * lists the parameters (the caller frees it). */
char *tools_unknown_param(json_t *args, const char *const *known);

#endif
