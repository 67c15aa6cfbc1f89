/* libFuzzer target for the client's side of the protocol: the input is
 * the lines a client writes, fed to an MCP session (jsonrpc.c, mcp.c,
 * tools.c, prompts.c) without spawning anything. Two tools: `echo` answers
 * at once (and may run as an MCP task), `hold` stays in flight until the
 * client cancels it or the input ends; the tasks methods answer at once.
 * Lines starting with '#' (never a JSON-RPC message) are the transport's
 * part instead: "#behind" and "#caught-up" (the client stops and starts
 * reading its replies: progress waits, log records are counted),
 * "#progress" (each held call and the last MCP task report progress).
 * Aborts when a message the session sends is not one line of valid JSON;
 * when, after the input, a ping is not answered exactly once (the session
 * must keep serving whatever came before); when a call is still in flight
 * after every call was cancelled and finished, or the session did not say
 * it went idle.
 * LLVMFuzzerCustomMutator keeps most inputs valid JSON-RPC: it parses a
 * line and changes its method, id, version, a parameter or any value,
 * wraps it in a batch, or adds, repeats, drops or swaps lines; otherwise
 * (and when a line is not JSON) libFuzzer's own mutations run. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "linebuf.h"
#include "log.h"
#include "mcp.h"
#include "tools.h"

#define LINE_MAX_BYTES 2048 /* the server's --max-line-bytes: small, so over it is cheap */
#define HELD_MAX 64
#define FINAL_ID "codexmcp-fuzz-final-ping"

/* ---- the session under test ---- */

static size_t final_replies;

static void drop(void *ctx, json_t *msg)
{
    (void)ctx;
    /* Every message must serialize to one line of valid JSON, as the
     * transport writes it (raw numbers past jansson's range included). */
    size_t n;
    char *s = jrpc_serialize(msg, &n);
    json_error_t e;
    json_t *back = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if ((back == NULL && strstr(e.text, "overflow") == NULL && strstr(e.text, "too big") == NULL) ||
        memchr(s, '\n', n - 1) != NULL)
        abort();
    const char *id = json_string_value(json_object_get(msg, "id"));
    if (id && strcmp(id, FINAL_ID) == 0)
        final_replies++;
    json_decref(back);
    free(s);
    json_decref(msg);
}

static json_t *schema(void)
{
    return json_pack("{s:s}", "type", "object");
}

static json_t *task_token; /* of the last task-augmented call, or NULL */
static json_int_t task_progress;
static size_t idle;

static void on_idle(void *ctx)
{
    (void)ctx;
    idle++;
}

static void echo_start(void *ctx, mcp_call *call, json_t *args)
{
    (void)ctx;
    mcp_call_progress(call, "working");
    if (mcp_call_task(call) && mcp_call_progress_token(call)) {
        json_decref(task_token);
        task_token = json_incref(mcp_call_progress_token(call));
    }
    mcp_call_finish(call, json_pack("{s:[{s:s, s:O}]}", "content", "type", "text", "args", args));
}

static mcp_call *held[HELD_MAX];
static size_t n_held;

static void hold_start(void *ctx, mcp_call *call, json_t *args)
{
    (void)ctx;
    (void)args;
    mcp_call_progress(call, "holding");
    if (n_held == HELD_MAX) {
        mcp_call_fail(call, -32000, "too many held");
        return;
    }
    held[n_held++] = call;
}

/* The client cancelled a held call: it is finished at once (its reply is
 * dropped). */
static void hold_cancel(void *ctx, mcp_call *call)
{
    (void)ctx;
    for (size_t i = 0; i < n_held; i++)
        if (held[i] == call) {
            held[i] = held[--n_held];
            mcp_call_finish(call, json_pack("{s:[]}", "content"));
            return;
        }
    abort(); /* a call this tool never started */
}

static const tool_def echo = {
    .name = "echo", .input_schema = schema, .start = echo_start, .task_support = 1};
static const tool_def hold = {
    .name = "hold", .input_schema = schema, .start = hold_start, .cancel = hold_cancel};

static void task_get(void *ctx, mcp_call *c, const char *id)
{
    (void)ctx;
    mcp_call_finish(c, json_pack("{s:s}", "taskId", id));
}

static void task_list(void *ctx, mcp_call *c, const char *cursor)
{
    (void)ctx;
    if (cursor)
        mcp_call_fail(c, -32602, "unknown cursor");
    else
        mcp_call_finish(c, json_pack("{s:[]}", "tasks"));
}

static void task_abandon(void *ctx, mcp_call *c)
{
    (void)ctx;
    mcp_call_finish(c, json_object());
}

static const mcp_task_ops task_ops = {task_get, task_get, task_list, task_get, task_abandon};

static int is_line(const char *line, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(line, word, len) == 0;
}

static void on_line(void *ctx, const char *line, size_t len, int overflow)
{
    mcp_session *s = ctx;
    if (overflow) {
        mcp_session_handle_oversized(s, len, LINE_MAX_BYTES);
    } else if (is_line(line, len, "#behind") || is_line(line, len, "#caught-up")) {
        mcp_session_set_behind(s, line[1] == 'b');
    } else if (is_line(line, len, "#progress")) {
        for (size_t i = 0; i < n_held; i++)
            mcp_call_progress(held[i], "still holding\nthe call");
        if (task_token)
            mcp_session_task_progress(s, task_token, ++task_progress, "task\tstep",
                                      "0123456789abcdef0123456789abcdef");
    } else {
        mcp_session_handle_line(s, line, len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_stderr_level(LOG_OFF);
    static const mcp_server_info info = {"codexmcp", "fuzz", "Fuzzing: no codex here."};
    tool_registry reg;
    tools_init(&reg, 1);
    tools_add(&reg, &echo);
    tools_add(&reg, &hold);
    mcp_session *s = mcp_session_new(&info, &reg, drop, NULL);
    mcp_session_set_tasks(s, &task_ops, NULL);
    mcp_session_on_idle(s, on_idle, NULL);
    linebuf_t lb;
    linebuf_init(&lb, LINE_MAX_BYTES);
    linebuf_feed(&lb, (const char *)data, size, on_line, s);
    linebuf_finish(&lb, on_line, s);
    linebuf_free(&lb);

    /* Whatever came before, the session still answers. */
    final_replies = 0;
    static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":\"" FINAL_ID "\",\"method\":\"ping\"}";
    mcp_session_handle_line(s, ping, sizeof(ping) - 1);
    if (final_replies != 1)
        abort();

    size_t idle_before = idle;
    int busy = mcp_session_inflight(s) > 0;
    mcp_session_cancel_all(s);
    if (n_held != 0 || mcp_session_inflight(s) != 0 || (busy && idle == idle_before))
        abort();
    mcp_session_free(s);
    tools_free(&reg);
    json_decref(task_token);
    task_token = NULL;
    task_progress = 0;
    return 0;
}

/* ---- the structure-aware mutator ---- */

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static uint64_t rng;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? (unsigned)(rng % n) : 0;
}

#define PICK(a) (a[rnd(sizeof(a) / sizeof(a[0]))])

static const char *const methods[] = {"initialize",     "notifications/initialized",
                                      "ping",           "tools/list",
                                      "tools/call",     "prompts/list",
                                      "prompts/get",    "logging/setLevel",
                                      "tasks/get",      "tasks/result",
                                      "tasks/list",     "tasks/cancel",
                                      "resources/list", "notifications/cancelled",
                                      "completion/x",   "",
                                      "tools/call/",    "notifications/progress",
                                      "TOOLS/LIST",     "initialized"};

static const char *const versions[] = {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25",
                                       "2099-01-01", "",           "2025-03-26x"};

static const char *const strings[] = {"",
                                      "echo",
                                      "hold",
                                      "plan-with-codex",
                                      "review-with-codex",
                                      "debug",
                                      "info",
                                      "emergency",
                                      "loud",
                                      "tools-page:1",
                                      "tools-page:99",
                                      "x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
                                      "a\nb",
                                      "\x7f\x01",
                                      "-1",
                                      "1e400",
                                      "00000000-0000-0000-0000-000000000000"};

static const char *const keys[] = {"name",         "arguments",  "protocolVersion",
                                   "capabilities", "clientInfo", "cursor",
                                   "level",        "task",       "taskId",
                                   "ttl",          "_meta",      "progressToken",
                                   "requestId",    "reason",     "text",
                                   "requirement",  "focus",      "base"};

static json_t *random_value(int depth);

static json_t *random_id(void)
{
    switch (rnd(9)) {
    case 0:
        return json_integer((json_int_t)rnd(4));
    case 1:
        return json_integer(-1);
    case 2:
        return json_integer(INT64_MAX);
    case 3:
        return json_real(1.5);
    case 4:
        return json_string(PICK(strings));
    case 5:
        return json_null();
    case 6:
        return json_true();
    case 7:
        return json_object();
    default:
        return json_integer((json_int_t)rnd(100));
    }
}

static json_t *random_value(int depth)
{
    unsigned k = rnd(depth > 2 ? 8 : 11);
    switch (k) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(rnd(2));
    case 2:
        return json_integer((json_int_t)rnd(5) - 1);
    case 3:
        return json_integer(rnd(2) ? INT64_MAX : INT64_MIN);
    case 4:
        return json_real(rnd(2) ? 1e308 : 0.25);
    case 5:
        return json_string(PICK(strings));
    case 6: {
        size_t n = 1u << rnd(12);
        char *s = malloc(n + 1);
        memset(s, "x\"\\"[rnd(3)], n);
        s[n] = '\0';
        json_t *v = json_string(s);
        free(s);
        return v;
    }
    case 7:
        return json_stringn("a\0b", 3);
    case 8: {
        json_t *a = json_array();
        for (unsigned i = rnd(4); i > 0; i--)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (unsigned i = rnd(4); i > 0; i--)
            json_object_set_new(o, PICK(keys), random_value(depth + 1));
        return o;
    }
    }
}

/* A plausible value for a parameter. */
static json_t *param_value(const char *key)
{
    if (rnd(4) == 0)
        return random_value(1);
    if (strcmp(key, "protocolVersion") == 0)
        return json_string(PICK(versions));
    if (strcmp(key, "name") == 0 || strcmp(key, "level") == 0 || strcmp(key, "cursor") == 0 ||
        strcmp(key, "taskId") == 0)
        return json_string(PICK(strings));
    if (strcmp(key, "task") == 0)
        return json_pack("{s:I}", "ttl", (json_int_t)rnd(100000));
    if (strcmp(key, "_meta") == 0)
        return json_pack("{s:o}", "progressToken", random_id());
    if (strcmp(key, "requestId") == 0 || strcmp(key, "progressToken") == 0)
        return random_id();
    if (strcmp(key, "arguments") == 0 || strcmp(key, "capabilities") == 0)
        return json_pack("{s:o}", PICK(keys), random_value(1));
    if (strcmp(key, "clientInfo") == 0)
        return json_pack("{s:s, s:s}", "name", PICK(strings), "version", "1");
    return random_value(1);
}

static json_t *fresh_request(void)
{
    json_t *m =
        json_pack("{s:s, s:o, s:s}", "jsonrpc", "2.0", "id", random_id(), "method", PICK(methods));
    if (rnd(2)) {
        const char *k = PICK(keys);
        json_object_set_new(m, "params", json_pack("{s:o}", k, param_value(k)));
    }
    return m;
}

/* Counts the values of the tree under v (v included). */
static size_t count_values(json_t *v)
{
    size_t n = 1, i;
    const char *k;
    json_t *x;
    if (json_is_object(v))
        json_object_foreach(v, k, x) n += count_values(x);
    else if (json_is_array(v))
        json_array_foreach(v, i, x) n += count_values(x);
    return n;
}

/* Replaces the target-th value under parent (pre-order, from 1) with a
 * random one, or drops it from its object or array. */
static int replace_nth(json_t *parent, size_t *target)
{
    size_t i;
    const char *k;
    json_t *x;
    void *tmp;
    if (json_is_object(parent)) {
        json_object_foreach_safe(parent, tmp, k, x)
        {
            if (--*target == 0) {
                if (rnd(4) == 0)
                    json_object_del(parent, k);
                else
                    json_object_set_new(parent, k, param_value(k));
                return 1;
            }
            if (replace_nth(x, target))
                return 1;
        }
    } else if (json_is_array(parent)) {
        json_array_foreach(parent, i, x)
        {
            if (--*target == 0) {
                if (rnd(4) == 0)
                    json_array_remove(parent, i);
                else
                    json_array_set_new(parent, i, random_value(1));
                return 1;
            }
            if (replace_nth(x, target))
                return 1;
        }
    }
    return 0;
}

/* One change to a message (an object), in place. */
static void mutate_message(json_t *m)
{
    switch (rnd(7)) {
    case 0:
        if (rnd(8) == 0)
            json_object_del(m, "method");
        else
            json_object_set_new(m, "method", json_string(PICK(methods)));
        break;
    case 1:
        if (rnd(6) == 0)
            json_object_del(m, "id");
        else
            json_object_set_new(m, "id", random_id());
        break;
    case 2:
        json_object_set_new(m, "jsonrpc",
                            rnd(3)   ? json_string("2.0")
                            : rnd(2) ? json_string("1.0")
                                     : json_integer(2));
        break;
    case 3: {
        json_t *p = json_object_get(m, "params");
        if (!json_is_object(p)) {
            p = json_object();
            json_object_set_new(m, "params", p);
        }
        const char *k = PICK(keys);
        json_object_set_new(p, k, param_value(k));
        break;
    }
    case 4:
        if (rnd(5) == 0)
            json_object_set_new(m, "params", random_value(2));
        else
            json_object_del(m, "params");
        break;
    default: {
        size_t n = count_values(m);
        size_t target = 1 + rnd((unsigned)(n > 1 ? n - 1 : 1));
        replace_nth(m, &target);
        break;
    }
    }
}

/* One change to a line's JSON value; returns the value to write (the
 * same, a part of it, or a new one; a new reference). */
static json_t *mutate_value(json_t *v)
{
    if (json_is_array(v)) {
        size_t n = json_array_size(v);
        unsigned op = rnd(4);
        if (n > 0 && op == 0) /* unwrap the batch */
            return json_incref(json_array_get(v, rnd((unsigned)n)));
        size_t i = rnd((unsigned)n);
        if (op == 1 || n == 0)
            json_array_append_new(v, fresh_request());
        else if (json_is_object(json_array_get(v, i)))
            mutate_message(json_array_get(v, i));
        else
            json_array_set_new(v, i, fresh_request());
        return json_incref(v);
    }
    if (!json_is_object(v))
        return fresh_request();
    if (rnd(10) == 0) /* a batch of it */
        return json_pack("[O, o]", v, fresh_request());
    mutate_message(v);
    return json_incref(v);
}

typedef struct {
    size_t start, len;
} span;

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    rng = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 1;
    if (rnd(5) == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    /* The lines (without their newlines). */
    span lines[256];
    size_t n = 0;
    for (size_t i = 0; i < size && n < 256;) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t len = nl ? (size_t)(nl - (data + i)) : size - i;
        lines[n++] = (span){i, len};
        i += len + 1;
    }
    size_t pick = n ? rnd((unsigned)n) : 0;
    char *repl = NULL; /* the new text of line `pick` */
    size_t repl_len = 0;
    int insert = 0, remove_line = 0;
    unsigned op = n ? rnd(10) : 0;
    if (op == 0 || op == 1) { /* a new line, or this one once more */
        static const char *const controls[] = {"#behind", "#caught-up", "#progress"};
        json_t *m = (op == 0 || n == 0) && rnd(4) ? fresh_request() : NULL;
        if (m == NULL && (op == 0 || n == 0)) {
            repl = strdup(PICK(controls));
            repl_len = strlen(repl);
        } else if (m) {
            repl = json_dumps(m, JSON_COMPACT);
            repl_len = strlen(repl);
            json_decref(m);
        } else {
            repl = malloc(lines[pick].len + 1);
            memcpy(repl, data + lines[pick].start, lines[pick].len);
            repl_len = lines[pick].len;
        }
        insert = 1;
    } else if (op == 2) {
        remove_line = 1;
    } else if (op == 3 && n > 1) { /* swap with the next line */
        size_t a = pick == n - 1 ? pick - 1 : pick;
        uint8_t *tmp = malloc(size);
        size_t at = lines[a].start, la = lines[a].len, lb = lines[a + 1].len;
        memcpy(tmp, data + lines[a + 1].start, lb);
        tmp[lb] = '\n';
        memcpy(tmp + lb + 1, data + at, la);
        memcpy(data + at, tmp, la + lb + 1);
        free(tmp);
        return size;
    } else {
        json_t *v = json_loadb((const char *)data + lines[pick].start, lines[pick].len,
                               JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (v == NULL)
            return LLVMFuzzerMutate(data, size, max_size);
        json_t *out = mutate_value(v);
        json_decref(v);
        repl = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY | (rnd(4) ? 0 : JSON_ENSURE_ASCII));
        json_decref(out);
        if (repl == NULL)
            return LLVMFuzzerMutate(data, size, max_size);
        repl_len = strlen(repl);
    }
    /* Splice: [0, start) + repl + '\n' + rest. */
    size_t start = n ? lines[pick].start : 0;
    size_t old = n && !insert ? lines[pick].len + (start + lines[pick].len < size) : 0;
    if (remove_line) {
        memmove(data + start, data + start + old, size - start - old);
        free(repl);
        return size - old;
    }
    size_t add = repl_len + 1;
    if (size - old + add > max_size) {
        free(repl);
        return LLVMFuzzerMutate(data, size, max_size);
    }
    memmove(data + start + add, data + start + old, size - start - old);
    memcpy(data + start, repl, repl_len);
    data[start + repl_len] = '\n';
    free(repl);
    return size - old + add;
}
