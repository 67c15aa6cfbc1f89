/* Reducer of the `codex exec --json` event stream (REFERENCE.md §1). */
#include "events.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "limits.h"
#include "util.h"

static void kept_init(kept_t *k, size_t max)
{
    memset(k, 0, sizeof(*k));
    k->first = json_array();
    k->max = max;
}

static void kept_free(kept_t *k)
{
    json_decref(k->first);
    json_decref(k->last);
}

/* Adds v (stolen), `len` bytes of codex output. Returns 1 the first time a
 * value is dropped: the moment for a warning. */
static int kept_add(kept_t *k, json_t *v, size_t len)
{
    if (k->last == NULL && k->bytes + len <= k->max) {
        json_array_append_new(k->first, v);
        k->bytes += len;
        return 0;
    }
    int first_drop = 0;
    if (k->last != NULL) {
        first_drop = k->dropped++ == 0;
        k->dropped_bytes += k->last_bytes;
        json_decref(k->last);
    }
    k->last = v;
    k->last_bytes = len;
    return first_drop;
}

void events_init(events_state *st, int keep_all, json_t *filter)
{
    memset(st, 0, sizeof(*st));
    kept_init(&st->messages, AGENT_MESSAGES_KEEP_BYTES);
    if (keep_all) /* else all.first stays NULL */
        kept_init(&st->all, ALL_MESSAGES_KEEP_BYTES);
    st->warnings = json_array();
    st->keep_all = keep_all;
    st->filter = json_incref(filter);
}

void events_set_transcript(events_state *st, const char *path)
{
    st->transcript = path;
}

/* Where what was not kept is: "; the full text is in PATH" (new string). */
static char *where(const events_state *st)
{
    if (st->transcript == NULL)
        return xstrdup("; no transcript keeps it");
    char *clean = utf8_clean(st->transcript);
    char *w = xasprintf("; the full text is in %s", clean);
    free(clean);
    return w;
}

void events_free(events_state *st)
{
    free(st->thread_id);
    free(st->failure);
    free(st->last_error);
    kept_free(&st->messages);
    kept_free(&st->all);
    json_decref(st->usage);
    json_decref(st->warnings);
    json_decref(st->filter);
    memset(st, 0, sizeof(*st));
}

static void add_warning(events_state *st, const char *text)
{
    if (json_array_size(st->warnings) >= WARNINGS_MAX) {
        st->warnings_dropped++;
        return;
    }
    char *clean = utf8_sanitize(text, strlen(text), WARNING_TEXT_MAX);
    json_array_append_new(st->warnings, json_string(clean));
    free(clean);
}

void events_warn(events_state *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = xvasprintf(fmt, ap);
    va_end(ap);
    add_warning(st, text);
    free(text);
}

void events_overlong(events_state *st, size_t len, size_t max)
{
    st->retrying = 0;
    events_warn(st, "skipped a codex output line of %zu bytes (over the %zu byte limit)", len, max);
}

int events_is_reconnect(const char *message)
{
    static const char prefix[] = "Reconnecting... ";
    size_t plen = sizeof(prefix) - 1;
    if (strncmp(message, prefix, plen) != 0)
        return 0;
    const char *p = message + plen;
    if (strncmp(p, "waiting for network", 19) == 0)
        return 1;
    /* N/M, then the end or a space ("Reconnecting... 2/5 (cause)"). */
    if (!isdigit((unsigned char)*p))
        return 0;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p++ != '/' || !isdigit((unsigned char)*p))
        return 0;
    while (isdigit((unsigned char)*p))
        p++;
    return *p == '\0' || *p == ' ';
}

static const char *str_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? xstrdup(s) : NULL;
}

/* "/bin/bash -lc 'pytest -q'" → "pytest -q": what the user would type. */
char *events_command_text(const char *cmd)
{
    static const char *const shells[] = {"/bin/bash -lc ", "/bin/sh -c ", "bash -lc ",
                                         "/bin/zsh -lc "};
    for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++) {
        size_t n = strlen(shells[i]);
        if (strncmp(cmd, shells[i], n) != 0)
            continue;
        const char *inner = cmd + n;
        size_t len = strlen(inner);
        if (len >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len - 1] == inner[0])
            return xstrndup(inner + 1, len - 2);
        return xstrdup(inner);
    }
    return xstrdup(cmd);
}

static char *describe_file_change(json_t *item)
{
    buf_t b;
    buf_init(&b, (size_t)PROGRESS_MESSAGE_MAX * 4);
    buf_append(&b, "file change:", 12);
    json_t *changes = json_object_get(item, "changes");
    size_t i;
    json_t *ch;
    json_array_foreach(changes, i, ch)
    {
        const char *kind = str_field(ch, "kind");
        const char *path = str_field(ch, "path");
        if (path == NULL)
            continue;
        const char *base = strrchr(path, '/');
        char *part =
            xasprintf("%s %s %s", i ? "," : "", kind ? kind : "edit", base ? base + 1 : path);
        buf_append(&b, part, strlen(part));
        free(part);
    }
    return b.data ? b.data : xstrdup("file change");
}

/* A message longer than the whole bound keeps its end (where an answer
 * concludes), with its cut marked. */
static json_t *bounded_message(const events_state *st, json_t *text)
{
    size_t n = json_string_length(text);
    if (n <= AGENT_MESSAGES_KEEP_BYTES)
        return json_incref(text);
    const char *s = json_string_value(text);
    size_t from = n - AGENT_MESSAGES_KEEP_BYTES;
    while (from < n && ((unsigned char)s[from] & 0xc0) == 0x80)
        from++; /* not inside a UTF-8 sequence */
    char *w = where(st);
    char *head =
        xasprintf("[codexmcp: the first %zu bytes of this message are not kept%s]\n", from, w);
    free(w);
    buf_t b;
    buf_init(&b, (size_t)-1 / 2);
    buf_append(&b, head, strlen(head));
    buf_append(&b, s + from, n - from);
    json_t *kept = json_stringn(b.data, b.len);
    buf_free(&b);
    free(head);
    return kept;
}

static void keep_message(events_state *st, json_t *text)
{
    if (kept_add(&st->messages, bounded_message(st, text), json_string_length(text)))
        events_warn(st,
                    "agent messages past the first %zu bytes are not kept, only the last one; "
                    "the cut is marked in agent_messages",
                    AGENT_MESSAGES_KEEP_BYTES);
}

/* What a parsed event costs in memory: its text, and for each value in it
 * (counted by the characters that start or separate values, strings
 * included, which errs on the side of keeping less) a jansson value. */
static size_t event_cost(const char *line, size_t len)
{
    size_t values = 1;
    for (size_t i = 0; i < len; i++)
        values += line[i] == '{' || line[i] == '[' || line[i] == ',';
    return len + values * JSON_VALUE_COST_BYTES;
}

/* An event all_messages_filter lets through: an item of a listed type. */
static int wanted(const events_state *st, json_t *ev)
{
    if (st->filter == NULL)
        return 1;
    json_t *item = json_object_get(ev, "item");
    const char *type = str_field(item, "type");
    if (type == NULL)
        type = str_field(item, "item_type");
    size_t i;
    json_t *t;
    json_array_foreach(st->filter, i,
                       t) if (type && strcmp(type, json_string_value(t)) == 0) return 1;
    return 0;
}

static void keep_event(events_state *st, json_t *ev, const char *line, size_t len)
{
    if (!wanted(st, ev))
        return;
    size_t cost = event_cost(line, len);
    json_t *v = json_incref(ev);
    if (cost > EVENT_WHOLE_MAX_BYTES) {
        /* A big event (a command's whole output): its long strings keep
         * their head and tail, marked, as the budget would cut them. */
        json_decref(v);
        v = budget_cap_strings(ev, EVENT_STRING_KEEP_BYTES, st->transcript, NULL);
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        cost = text ? event_cost(text, strlen(text)) : cost;
        free(text);
    }
    if (cost > ALL_MESSAGES_KEEP_BYTES) {
        /* Still more than the whole bound (a mass of tiny values): its type. */
        json_decref(v);
        v = json_pack("{s:O?, s:I}", "type", json_object_get(ev, "type"), "codexmcp.not_kept_bytes",
                      (json_int_t)len);
        cost = event_cost(line, 0);
    }
    if (kept_add(&st->all, v, cost))
        events_warn(st,
                    "all_messages keeps the events of the first %zu bytes of codex output "
                    "and the last event; the cut is marked",
                    ALL_MESSAGES_KEEP_BYTES);
}

/* item.started / item.updated / item.completed */
static char *reduce_item(events_state *st, const char *phase, json_t *item)
{
    if (!json_is_object(item))
        return NULL;
    /* Older streams named the type item_type and the message assistant_message. */
    const char *type = str_field(item, "type");
    if (type == NULL)
        type = str_field(item, "item_type");
    if (type == NULL)
        return NULL;
    int completed = strcmp(phase, "completed") == 0;
    int started = strcmp(phase, "started") == 0;

    if (strcmp(type, "agent_message") == 0 || strcmp(type, "assistant_message") == 0) {
        json_t *text = json_object_get(item, "text");
        if (!completed || !json_is_string(text))
            return NULL;
        keep_message(st, text);
        return xasprintf("message: %s", json_string_value(text));
    }
    if (strcmp(type, "reasoning") == 0) {
        const char *text = str_field(item, "text");
        return completed && text ? xasprintf("reasoning: %s", text) : NULL;
    }
    if (strcmp(type, "command_execution") == 0) {
        const char *cmd = str_field(item, "command");
        char *shown = events_command_text(cmd ? cmd : "?");
        char *out = NULL;
        if (started) {
            out = xasprintf("running: %s", shown);
        } else if (completed) {
            json_t *code = json_object_get(item, "exit_code");
            const char *status = str_field(item, "status");
            if (json_is_integer(code))
                out = xasprintf("finished (exit %lld): %s", (long long)json_integer_value(code),
                                shown);
            else
                out = xasprintf("%s: %s", status ? status : "finished", shown);
        }
        free(shown);
        return out;
    }
    if (strcmp(type, "file_change") == 0)
        return completed ? describe_file_change(item) : NULL;
    if (strcmp(type, "mcp_tool_call") == 0) {
        const char *server = str_field(item, "server"), *tool = str_field(item, "tool");
        if (!started && !completed)
            return NULL;
        return xasprintf("%s tool %s.%s", started ? "calling" : "called", server ? server : "?",
                         tool ? tool : "?");
    }
    if (strcmp(type, "web_search") == 0) {
        const char *q = str_field(item, "query");
        return started ? xasprintf("searching: %s", q ? q : "") : NULL;
    }
    if (strcmp(type, "todo_list") == 0)
        return NULL;
    if (strcmp(type, "error") == 0) {
        const char *msg = str_field(item, "message");
        if (completed && msg)
            add_warning(st, msg);
        return NULL;
    }
    return NULL;
}

char *events_feed(events_state *st, const char *line, size_t len)
{
    st->retrying = 0;
    if (blank_line(line, len))
        return NULL; /* a blank line says nothing */
    json_error_t e;
    /* codex escapes NUL bytes of command output as \u0000: keep them. */
    json_t *ev = json_loadb(line, len, JSON_ALLOW_NUL, &e);
    if (!json_is_object(ev)) {
        char *shown = utf8_sanitize(line, len < 200 ? len : 200, 400);
        events_warn(st, "codex printed a line that is not a JSON event: %s", shown);
        free(shown);
        json_decref(ev);
        return NULL;
    }
    st->events++;
    if (st->keep_all)
        keep_event(st, ev, line, len);
    const char *type = str_field(ev, "type");
    char *progress = NULL;
    if (type == NULL) {
        /* legacy {"id":…,"msg":{…}} or something new: kept, not interpreted */
    } else if (strcmp(type, "thread.started") == 0) {
        const char *id = str_field(ev, "thread_id");
        if (id)
            set_str(&st->thread_id, id);
    } else if (strcmp(type, "turn.started") == 0) {
        progress = xstrdup("turn started");
    } else if (strncmp(type, "item.", 5) == 0) {
        progress = reduce_item(st, type + 5, json_object_get(ev, "item"));
    } else if (strcmp(type, "turn.completed") == 0) {
        st->terminal = EV_COMPLETED;
        json_t *usage = json_object_get(ev, "usage");
        if (json_is_object(usage)) {
            json_decref(st->usage);
            st->usage = json_incref(usage);
        }
        progress = xstrdup("turn completed");
    } else if (strcmp(type, "turn.failed") == 0) {
        st->terminal = EV_FAILED;
        const char *msg = str_field(json_object_get(ev, "error"), "message");
        set_str(&st->failure, msg ? msg : st->last_error ? st->last_error : "unknown error");
        progress = xasprintf("turn failed: %s", st->failure);
    } else if (strcmp(type, "error") == 0) {
        const char *msg = str_field(ev, "message");
        if (msg && events_is_reconnect(msg)) {
            st->retrying = 1;
            progress = xstrdup(msg);
        } else if (msg) {
            /* Either the cause of a turn.failed that follows, or a warning. */
            set_str(&st->last_error, msg);
            add_warning(st, msg);
        }
    }
    json_decref(ev);
    return progress;
}

char *events_joined_messages(const events_state *st, size_t *len)
{
    buf_t b;
    buf_init(&b, (size_t)-1 / 2);
    size_t i;
    json_t *m;
    json_array_foreach(st->messages.first, i, m)
    {
        if (i > 0)
            buf_append(&b, "\n\n", 2);
        buf_append(&b, json_string_value(m), json_string_length(m));
    }
    if (st->messages.dropped > 0) {
        char *w = where(st);
        char *cut = xasprintf("%s[codexmcp: %zu agent messages (%zu bytes) not kept here: over "
                              "the limit of %zu bytes%s]",
                              b.len ? "\n\n" : "", st->messages.dropped, st->messages.dropped_bytes,
                              AGENT_MESSAGES_KEEP_BYTES, w);
        free(w);
        buf_append(&b, cut, strlen(cut));
        free(cut);
    }
    json_t *last = st->messages.last;
    if (last) {
        if (b.len)
            buf_append(&b, "\n\n", 2);
        buf_append(&b, json_string_value(last), json_string_length(last));
    }
    *len = b.len;
    return b.data ? b.data : xstrdup("");
}

const char *events_last_message(const events_state *st, size_t *len)
{
    json_t *m = st->messages.last;
    if (m == NULL && json_array_size(st->messages.first) > 0)
        m = json_array_get(st->messages.first, json_array_size(st->messages.first) - 1);
    *len = m ? json_string_length(m) : 0;
    return m ? json_string_value(m) : NULL;
}

json_t *events_all_messages(const events_state *st)
{
    const kept_t *k = &st->all;
    if (k->first == NULL)
        return NULL;
    if (k->last == NULL)
        return json_incref(k->first);
    json_t *all = json_array();
    json_array_extend(all, k->first);
    if (k->dropped > 0)
        json_array_append_new(all, json_pack("{s:s, s:I, s:I, s:s, s:s?}", "type",
                                             "codexmcp.not_kept", "events", (json_int_t)k->dropped,
                                             "bytes", (json_int_t)k->dropped_bytes, "reason",
                                             "over the limit of what one result keeps in memory",
                                             "transcript", st->transcript));
    json_array_append(all, k->last);
    return all;
}
