/* Tool registry and tools/list pagination. */
#include "tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "util.h"

/* Cursors are opaque to clients; ours name the offset of the next page. */
#define CURSOR_PREFIX "tools-page:"

void tools_init(tool_registry *reg, size_t page_size)
{
    reg->tools = NULL;
    reg->count = 0;
    reg->page_size = page_size ? page_size : 1;
}

void tools_free(tool_registry *reg)
{
    free(reg->tools);
    reg->tools = NULL;
    reg->count = 0;
}

void tools_add(tool_registry *reg, const tool_def *tool)
{
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, as meant */
    reg->tools = xrealloc(reg->tools, (reg->count + 1) * sizeof(*reg->tools));
    reg->tools[reg->count++] = tool;
}

const tool_def *tools_find(const tool_registry *reg, const char *name)
{
    for (size_t i = 0; i < reg->count; i++)
        if (strcmp(reg->tools[i]->name, name) == 0)
            return reg->tools[i];
    return NULL;
}

json_t *tools_describe(const tool_def *tool, int tasks)
{
    json_t *t = json_pack("{s:s, s:o}", "name", tool->name, "inputSchema", tool->input_schema());
    if (tool->title)
        json_object_set_new(t, "title", json_string(tool->title));
    if (tool->description)
        json_object_set_new(t, "description", json_string(tool->description));
    if (tool->output_schema)
        json_object_set_new(t, "outputSchema", tool->output_schema());
    if (tool->annotations)
        json_object_set_new(t, "annotations", tool->annotations(tool->tool_ctx));
    if (tasks && tool->task_support)
        json_object_set_new(t, "execution", json_pack("{s:s}", "taskSupport", "optional"));
    return t;
}

static int parse_cursor(const tool_registry *reg, const char *cursor, size_t *offset)
{
    size_t plen = strlen(CURSOR_PREFIX);
    if (strncmp(cursor, CURSOR_PREFIX, plen) != 0)
        return -1;
    const char *digits = cursor + plen;
    if (*digits == '\0' || strlen(digits) > 9)
        return -1;
    size_t v = 0;
    for (const char *p = digits; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (size_t)(*p - '0');
    }
    /* Only offsets we could have issued: page boundaries inside the list. */
    if (v == 0 || v % reg->page_size != 0 || v >= reg->count)
        return -1;
    *offset = v;
    return 0;
}

json_t *tools_list_page(const tool_registry *reg, const char *cursor, int tasks)
{
    size_t offset = 0;
    if (cursor != NULL && parse_cursor(reg, cursor, &offset) != 0)
        return NULL;
    json_t *list = json_array();
    size_t end = offset + reg->page_size;
    if (end > reg->count)
        end = reg->count;
    for (size_t i = offset; i < end; i++)
        json_array_append_new(list, tools_describe(reg->tools[i], tasks));
    json_t *result = json_pack("{s:o}", "tools", list);
    if (end < reg->count) {
        char next[64];
        (void)snprintf(next, sizeof(next), CURSOR_PREFIX "%zu", end);
        json_object_set_new(result, "nextCursor", json_string(next));
    }
    return result;
}

char *tools_unknown_param(json_t *args, const char *const *known)
{
    const char *key;
    json_t *value;
    json_object_foreach(args, key, value)
    {
        int ok = 0;
        for (size_t i = 0; known[i]; i++)
            ok |= strcmp(key, known[i]) == 0;
        if (ok)
            continue;
        buf_t b;
        buf_init(&b, 4096);
        for (size_t i = 0; known[i]; i++) {
            if (i)
                buf_append(&b, ", ", 2);
            buf_append(&b, known[i], strlen(known[i]));
        }
        char *clean = one_line(key, NAME_SHOWN_MAX);
        char *msg = xasprintf("unknown parameter \"%s\" (parameters are %s)", clean, b.data);
        free(clean);
        buf_free(&b);
        return msg;
    }
    return NULL;
}
