/* JSON-RPC 2.0 message validation and construction. */
#include "jsonrpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- raw numbers ----
 * A pre-scan of the line finds the numbers at the three places where a
 * client's number must survive as written: "id", "params"."requestId" and
 * "params"."_meta"."progressToken" (of the message, or of each element of a
 * batch). Those jansson cannot keep (a fraction, an exponent, -0, past
 * int64) are replaced in a copy of the line by "0" and spaces, so columns in
 * error messages stay the same and jansson never fails on their size; the
 * parsed value then gets the raw number put back. The scanner only reads:
 * on anything it does not understand it gives up and jansson decides. */

/* The one key of a raw number object. It starts with a NUL byte, which
 * jansson's parser refuses in a key: a client cannot send one. */
static const char raw_key[] = "\0codexmcp:number";
#define RAW_KEY_LEN (sizeof(raw_key) - 1)

enum { P_ID, P_REQUEST_ID, P_TOKEN, P_COUNT };
static const char *const path_keys[P_COUNT][4] = {
    /* NULL-terminated */
    {"id", NULL, NULL},
    {"params", "requestId", NULL},
    {"params", "_meta", "progressToken"},
};

typedef struct {
    size_t start, end;
} span;

typedef struct {
    const char *p;
    size_t len;
    int ok;
    /* Every raw number at a path, of each element: the last one seen of an
     * element and path is its value (an earlier duplicate key is forgotten
     * when a later one comes). At most one per four bytes of the line. */
    struct found {
        long elem;
        int path; /* -1: forgotten, still patched */
        span s;
    } * found;
    size_t nfound, cap;
    span id; /* the last "id" of a single message, whatever its type */
    int has_id;
    int has_method; /* it has a "method": a request, not a response */
} scanner;

static size_t skip_ws(const scanner *sc, size_t i)
{
    while (i < sc->len &&
           (sc->p[i] == ' ' || sc->p[i] == '\t' || sc->p[i] == '\n' || sc->p[i] == '\r'))
        i++;
    return i;
}

/* End of the string token at i (just past its closing quote), or 0. */
static size_t scan_string(const scanner *sc, size_t i)
{
    if (i >= sc->len || sc->p[i] != '"')
        return 0;
    for (i++; i < sc->len; i++) {
        if (sc->p[i] == '\\')
            i++;
        else if (sc->p[i] == '"')
            return i + 1;
    }
    return 0;
}

/* End of the number token at i that follows JSON's grammar, or 0. */
static size_t scan_number(const scanner *sc, size_t i)
{
    const char *p = sc->p;
    size_t n = sc->len;
    if (i < n && p[i] == '-')
        i++;
    if (i >= n || p[i] < '0' || p[i] > '9')
        return 0;
    if (p[i] == '0')
        i++;
    else
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    if (i < n && p[i] == '.') {
        if (++i >= n || p[i] < '0' || p[i] > '9')
            return 0;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= n || p[i] < '0' || p[i] > '9')
            return 0;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    return i;
}

/* End of any value at i, or 0. Containers are skipped by counting brackets
 * outside strings: no recursion, whatever the depth. */
static size_t skip_value(const scanner *sc, size_t i)
{
    if (i >= sc->len)
        return 0;
    char c = sc->p[i];
    if (c == '"')
        return scan_string(sc, i);
    if (c == '-' || (c >= '0' && c <= '9'))
        return scan_number(sc, i);
    if (c != '{' && c != '[') {
        size_t start = i;
        while (i < sc->len && sc->p[i] >= 'a' && sc->p[i] <= 'z')
            i++;
        return i > start ? i : 0; /* true, false, null; anything else is not a value */
    }
    size_t depth = 0;
    while (i < sc->len) {
        c = sc->p[i];
        if (c == '"') {
            i = scan_string(sc, i);
            if (i == 0)
                return 0;
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && --depth == 0)
            return i + 1;
        i++;
    }
    return 0;
}

/* Does the string token [i, end) decode to `key`? Escapes ("\u0069d") are
 * decoded by jansson itself. */
static int key_is(const scanner *sc, size_t i, size_t end, const char *key)
{
    size_t klen = strlen(key);
    if (memchr(sc->p + i, '\\', end - i) == NULL)
        return end - i == klen + 2 && memcmp(sc->p + i + 1, key, klen) == 0;
    json_t *v = json_loadb(sc->p + i, end - i, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    int same = json_is_string(v) && json_string_length(v) == klen &&
               memcmp(json_string_value(v), key, klen) == 0;
    json_decref(v);
    return same;
}

/* A number jansson gives back exactly as written: an int64 in canonical
 * form. */
static int canonical_int(const char *p, size_t len)
{
    char text[32];
    if (len == 0 || len >= sizeof(text) || memchr(p, '.', len) || memchr(p, 'e', len) ||
        memchr(p, 'E', len))
        return 0;
    memcpy(text, p, len);
    text[len] = '\0';
    if (strcmp(text, "-0") == 0)
        return 0;
    errno = 0;
    long long v = strtoll(text, NULL, 10);
    char back[32];
    (void)snprintf(back, sizeof(back), "%lld", v);
    return errno == 0 && strcmp(back, text) == 0;
}

static void forget(scanner *sc, long elem, int path)
{
    for (size_t k = 0; k < sc->nfound; k++)
        if (sc->found[k].elem == elem && sc->found[k].path == path)
            sc->found[k].path = -1;
}

/* Scans the object at i: members on the paths in `live` at `depth` are
 * followed. Returns the end of the object, or 0. */
/* NOLINTNEXTLINE(misc-no-recursion): no deeper than the longest of path_keys */
static size_t scan_object(scanner *sc, size_t i, long elem, const int *live, int depth)
{
    i = skip_ws(sc, i + 1);
    if (i < sc->len && sc->p[i] == '}')
        return i + 1;
    for (;;) {
        size_t kend = scan_string(sc, i);
        if (kend == 0)
            return 0;
        int next[P_COUNT] = {0}, any = 0;
        for (int k = 0; k < P_COUNT; k++)
            if (live[k] && path_keys[k][depth] && key_is(sc, i, kend, path_keys[k][depth]))
                next[k] = any = 1;
        if (depth == 0 && elem < 0 && key_is(sc, i, kend, "method"))
            sc->has_method = 1;
        i = skip_ws(sc, kend);
        if (i >= sc->len || sc->p[i] != ':')
            return 0;
        i = skip_ws(sc, i + 1);
        if (i >= sc->len)
            return 0;
        size_t vend;
        /* A later duplicate key replaces the whole earlier value. */
        for (int k = 0; k < P_COUNT; k++)
            if (next[k])
                forget(sc, elem, k);
        int leaf = -1;
        for (int k = 0; k < P_COUNT; k++)
            if (next[k] && path_keys[k][depth + 1] == NULL)
                leaf = k;
        if (any && sc->p[i] == '{' && leaf < 0) {
            vend = scan_object(sc, i, elem, next, depth + 1);
        } else {
            vend = skip_value(sc, i);
            if (vend && leaf == P_ID && elem < 0) {
                sc->id = (span){i, vend};
                sc->has_id = 1;
            }
            char c = sc->p[i];
            if (vend && leaf >= 0 && (c == '-' || (c >= '0' && c <= '9')) &&
                !canonical_int(sc->p + i, vend - i)) {
                if (sc->nfound == sc->cap) {
                    sc->cap = sc->cap ? 2 * sc->cap : 8;
                    sc->found = xrealloc(sc->found, sc->cap * sizeof(*sc->found));
                }
                sc->found[sc->nfound++] = (struct found){elem, leaf, {i, vend}};
            }
        }
        if (vend == 0)
            return 0;
        i = skip_ws(sc, vend);
        if (i < sc->len && sc->p[i] == ',') {
            i = skip_ws(sc, i + 1);
            continue;
        }
        return i < sc->len && sc->p[i] == '}' ? i + 1 : 0;
    }
}

static void scan_line(scanner *sc, const char *line, size_t len)
{
    memset(sc, 0, sizeof(*sc));
    sc->p = line;
    sc->len = len;
    static const int all[P_COUNT] = {1, 1, 1};
    size_t i = skip_ws(sc, 0);
    if (i < len && sc->p[i] == '{') {
        size_t end = scan_object(sc, i, -1, all, 0);
        sc->ok = end != 0 && skip_ws(sc, end) == len; /* nothing after it */
        return;
    }
    if (i >= len || sc->p[i] != '[')
        return;
    i = skip_ws(sc, i + 1);
    for (long elem = 0; i < len && sc->p[i] != ']'; elem++) {
        size_t end = sc->p[i] == '{' ? scan_object(sc, i, elem, all, 0) : skip_value(sc, i);
        if (end <= i)
            return; /* not a value: jansson will say why */
        i = skip_ws(sc, end);
        if (i < len && sc->p[i] == ',')
            i = skip_ws(sc, i + 1);
    }
    sc->ok = 1;
}

static json_t *raw_number_new(const char *text, size_t len)
{
    json_t *v = json_object();
    json_object_setn_new(v, raw_key, RAW_KEY_LEN, json_stringn(text, len));
    return v;
}

const char *jrpc_raw_number(json_t *v)
{
    if (!json_is_object(v) || json_object_size(v) != 1)
        return NULL;
    return json_string_value(json_object_getn(v, raw_key, RAW_KEY_LEN));
}

int jrpc_id_equal(json_t *a, json_t *b)
{
    const char *ra = jrpc_raw_number(a), *rb = jrpc_raw_number(b);
    if (ra || rb)
        return ra && rb && strcmp(ra, rb) == 0;
    return json_equal(a, b);
}

int jrpc_is_number(json_t *v)
{
    return json_is_number(v) || jrpc_raw_number(v) != NULL;
}

/* Puts the raw numbers the scan found into the decoded value. */
static void restore_raw(const scanner *sc, json_t *root)
{
    for (size_t k = 0; k < sc->nfound; k++) {
        const struct found *f = &sc->found[k];
        if (f->path < 0)
            continue;
        json_t *obj = f->elem < 0 ? root : json_array_get(root, (size_t)f->elem);
        const char *const *keys = path_keys[f->path];
        size_t d = 0;
        while (json_is_object(obj) && keys[d + 1] != NULL)
            obj = json_object_get(obj, keys[d++]);
        if (json_is_object(obj) && keys[d + 1] == NULL)
            json_object_set_new(obj, keys[d],
                                raw_number_new(sc->p + f->s.start, f->s.end - f->s.start));
    }
}

/* The id of a line jansson could not decode, read from the scan: a
 * well-formed request whose id is plain to see is answered under it (a
 * number past double range in its arguments, a NUL in a key), so that its
 * caller does not wait forever. NULL when there is none to trust. */
static json_t *id_of_failed(const scanner *sc)
{
    if (!sc->ok || !sc->has_id || !sc->has_method) /* a response is never answered */
        return NULL;
    const char *t = sc->p + sc->id.start;
    size_t n = sc->id.end - sc->id.start;
    if (t[0] == '-' || (t[0] >= '0' && t[0] <= '9'))
        return canonical_int(t, n) ? json_loadb(t, n, JSON_DECODE_ANY, NULL) : raw_number_new(t, n);
    json_t *v = t[0] == '"' ? json_loadb(t, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
    if (json_is_string(v))
        return v;
    json_decref(v);
    return NULL;
}

/* jansson's message without its "near '<text of the line>'" part. */
static char *reason_only(const char *text)
{
    const char *near = strstr(text, " near '");
    return near ? xstrndup(text, (size_t)(near - text)) : xstrdup(text);
}

json_t *jrpc_decode(const char *line, size_t len, json_t **err, char **why)
{
    json_error_t e;
    /* Duplicate keys: last one wins, as jansson does by default. \u0000 is
     * valid JSON: the tool decides where a NUL cannot go. */
    const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
    scanner sc;
    scan_line(&sc, line, len);
    json_t *v = NULL;
    if (sc.ok && sc.nfound > 0) {
        char *copy = xstrndup(line, len);
        for (size_t k = 0; k < sc.nfound; k++) {
            span sp = sc.found[k].s;
            copy[sp.start] = '0';
            memset(copy + sp.start + 1, ' ', sp.end - sp.start - 1);
        }
        v = json_loadb(copy, len, flags, &e);
        free(copy);
        if (v)
            restore_raw(&sc, v);
    }
    if (v == NULL)
        v = json_loadb(line, len, flags, &e);
    json_t *id = v == NULL ? id_of_failed(&sc) : NULL;
    free(sc.found);
    if (v == NULL) {
        *err = jrpc_error(id, JRPC_PARSE_ERROR, "Parse error: %s (column %d)", e.text, e.column);
        json_decref(id);
        if (why) {
            char *r = reason_only(e.text);
            *why = xasprintf("%s (column %d)", r, e.column);
            free(r);
        }
        return NULL;
    }
    return v;
}

int jrpc_method_is(const jrpc_msg *m, const char *name)
{
    return m->method_len == strlen(name) && memcmp(m->method, name, m->method_len) == 0;
}

const char *jrpc_string(json_t *v)
{
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

char *jrpc_text_shown(const char *s, size_t n)
{
    buf_t b;
    buf_init(&b, (size_t)-1 / 2);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0')
            buf_append(&b, "\\u0000", 6);
        else
            buf_append(&b, s + i, 1);
    }
    char *clean = utf8_clean(b.data ? b.data : "");
    buf_free(&b);
    return clean;
}

static int id_valid(json_t *id)
{
    return json_is_string(id) || jrpc_is_number(id);
}

jrpc_kind jrpc_classify(json_t *value, jrpc_msg *msg, json_t **err)
{
    memset(msg, 0, sizeof(*msg));
    *err = NULL;
    msg->kind = JRPC_INVALID;
    if (!json_is_object(value)) {
        *err = jrpc_error(NULL, JRPC_INVALID_REQUEST,
                          "Invalid Request: a message must be a JSON object");
        return msg->kind;
    }
    json_t *id = json_object_get(value, "id");
    /* A response (even an error with id null) is never answered. */
    if (json_object_get(value, "method") == NULL &&
        (json_object_get(value, "result") != NULL || json_object_get(value, "error") != NULL)) {
        msg->kind = JRPC_RESPONSE;
        msg->id = id;
        return msg->kind;
    }
    int has_id = id != NULL;
    if (has_id && !id_valid(id)) {
        *err = jrpc_error(NULL, JRPC_INVALID_REQUEST,
                          "Invalid Request: id must be a string or a number");
        return msg->kind;
    }
    json_t *reply_id = has_id ? id : NULL;
    const char *version = jrpc_string(json_object_get(value, "jsonrpc"));
    if (version == NULL || strcmp(version, "2.0") != 0) {
        *err =
            jrpc_error(reply_id, JRPC_INVALID_REQUEST, "Invalid Request: jsonrpc must be \"2.0\"");
        return msg->kind;
    }
    json_t *method = json_object_get(value, "method");
    if (!json_is_string(method)) {
        *err = jrpc_error(reply_id, JRPC_INVALID_REQUEST,
                          method ? "Invalid Request: method must be a string"
                                 : "Invalid Request: method is missing");
        return msg->kind;
    }
    json_t *params = json_object_get(value, "params");
    if (params != NULL && !json_is_object(params) && !json_is_array(params)) {
        *err = jrpc_error(reply_id, JRPC_INVALID_REQUEST,
                          "Invalid Request: params must be an object or an array");
        return msg->kind;
    }
    msg->method = json_string_value(method);
    msg->method_len = json_string_length(method);
    msg->params = params;
    msg->id = reply_id;
    msg->kind = has_id ? JRPC_REQUEST : JRPC_NOTIFICATION;
    return msg->kind;
}

json_t *jrpc_result(json_t *id, json_t *result)
{
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "result",
                     result);
}

static json_t *error_v(json_t *id, int code, json_t *data, const char *fmt, va_list ap)
{
    char *text = xvasprintf(fmt, ap);
    char *clean = utf8_clean(text);
    json_t *error = json_pack("{s:i, s:s}", "code", code, "message", clean);
    if (data)
        json_object_set_new(error, "data", data);
    free(text);
    free(clean);
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error",
                     error);
}

json_t *jrpc_error(json_t *id, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *e = error_v(id, code, NULL, fmt, ap);
    va_end(ap);
    return e;
}

json_t *jrpc_notification(const char *method, json_t *params)
{
    json_t *n = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
    if (params)
        json_object_set_new(n, "params", params);
    return n;
}

/* Raw numbers sit only where a message carries a client's number: its "id"
 * or "params"."progressToken". */
/* NOLINTNEXTLINE(misc-no-recursion): one level: a batch holds messages, not arrays */
static int carries_raw(json_t *msg)
{
    if (json_is_array(msg)) {
        size_t i;
        json_t *el;
        json_array_foreach(msg, i, el)
        {
            if (carries_raw(el))
                return 1;
        }
        return 0;
    }
    return jrpc_raw_number(json_object_get(msg, "id")) != NULL ||
           jrpc_raw_number(json_object_get(json_object_get(msg, "params"), "progressToken")) !=
               NULL;
}

static int to_buf(const char *data, size_t size, void *ctx)
{
    return buf_append(ctx, data, size);
}

/* Straight into the output buffer: a result of megabytes is not copied. */
static int dump_part(buf_t *b, json_t *v)
{
    return json_dump_callback(v, to_buf, b, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* The message and its params member by member, so that a raw number is
 * written as its text; everything below that by jansson. */
/* NOLINTNEXTLINE(misc-no-recursion): depth stops at 2, and a batch holds no arrays */
static int dump_raw_aware(buf_t *b, json_t *v, int depth)
{
    const char *raw = jrpc_raw_number(v);
    if (raw)
        return buf_append(b, raw, strlen(raw));
    if (depth == 0 && json_is_array(v)) {
        buf_append(b, "[", 1);
        size_t i;
        json_t *el;
        json_array_foreach(v, i, el)
        {
            if ((i > 0 && buf_append(b, ",", 1) != 0) || dump_raw_aware(b, el, 0) != 0)
                return -1;
        }
        return buf_append(b, "]", 1);
    }
    if (depth > 1 || !json_is_object(v))
        return dump_part(b, v);
    buf_append(b, "{", 1);
    const char *key;
    json_t *member;
    int first = 1;
    json_object_foreach(v, key, member)
    {
        json_t *k = json_string(key);
        int rc = first ? 0 : buf_append(b, ",", 1);
        if (rc == 0)
            rc = dump_part(b, k);
        if (rc == 0)
            rc = buf_append(b, ":", 1);
        if (rc == 0)
            rc = dump_raw_aware(b, member, depth + 1);
        json_decref(k);
        if (rc != 0)
            return -1;
        first = 0;
    }
    return buf_append(b, "}", 1);
}

char *jrpc_serialize(json_t *msg, size_t *len)
{
    buf_t b;
    buf_init(&b, (size_t)-1 / 2);
    int rc = carries_raw(msg) ? dump_raw_aware(&b, msg, 0)
                              : json_dump_callback(msg, to_buf, &b, JSON_COMPACT);
    if (rc != 0 || b.len == 0) {
        /* Only reachable with a string that is not UTF-8: a bug, but the
         * client still gets a well-formed line. */
        static const char internal[] =
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,"
            "\"message\":\"Internal error: reply could not be encoded\"}}";
        buf_reset(&b);
        buf_append(&b, internal, sizeof(internal) - 1);
    }
    buf_append(&b, "\n", 1);
    *len = b.len;
    return b.data;
}
