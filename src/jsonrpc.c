/* JSON-RPC 2.0 message validation and construction. */
#include "jsonrpc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

json_t *jrpc_decode(const char *line, size_t len, json_t **err)
{
    json_error_t e;
    /* Duplicate keys: last one wins, as jansson does by default. */
    json_t *v = json_loadb(line, len, JSON_DECODE_ANY, &e);
    if (v == NULL) {
        *err = jrpc_error(NULL, JRPC_PARSE_ERROR, "Parse error: %s (column %d)", e.text, e.column);
        return NULL;
    }
    return v;
}

static int id_valid(json_t *id)
{
    return json_is_string(id) || json_is_integer(id);
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
                          "Invalid Request: id must be a string or an integer");
        return msg->kind;
    }
    json_t *reply_id = has_id ? id : NULL;
    json_t *version = json_object_get(value, "jsonrpc");
    if (!json_is_string(version) || strcmp(json_string_value(version), "2.0") != 0) {
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

json_t *jrpc_error_data(json_t *id, int code, json_t *data, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *e = error_v(id, code, data, fmt, ap);
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

char *jrpc_serialize(json_t *msg, size_t *len)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    if (s == NULL) {
        /* Only reachable with a string that is not UTF-8: a bug, but the
         * client still gets a well-formed line. */
        s = xstrdup("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,"
                    "\"message\":\"Internal error: reply could not be encoded\"}}");
    }
    size_t n = strlen(s);
    char *out = xmalloc(n + 2);
    memcpy(out, s, n);
    out[n] = '\n';
    out[n + 1] = '\0';
    free(s);
    *len = n + 1;
    return out;
}
