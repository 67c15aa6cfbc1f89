/* JSON-RPC 2.0 framing, pure: bytes of one line to a validated message or
 * to the error reply the line deserves, and constructors for replies.
 * Ownership: every function returning json_t* returns a new reference the
 * caller owns; `id` arguments are borrowed and increfed when stored, so an
 * id goes back to the client as the very value it sent.
 *
 * Numbers: MCP types ids and progress tokens as `string | number`. An
 * integer id is exact through jansson (int64). Any other number in an id,
 * a cancel's requestId or a progress token (1.5, 1.50, 1e3, -0, or an
 * integer past int64) is kept as the text the client wrote, in a value only
 * this module makes and reads (a "raw number", which a client cannot forge),
 * and written back byte for byte. Ids are compared as written: 1.5 and 1.50
 * are two ids. */
#ifndef CODEXMCP_JSONRPC_H
#define CODEXMCP_JSONRPC_H

#include <jansson.h>
#include <stddef.h>

enum {
    JRPC_PARSE_ERROR = -32700,
    JRPC_INVALID_REQUEST = -32600,
    JRPC_METHOD_NOT_FOUND = -32601,
    JRPC_INVALID_PARAMS = -32602,
    JRPC_INTERNAL_ERROR = -32603,
};

typedef enum {
    JRPC_REQUEST,      /* has method and a valid id: must be answered */
    JRPC_NOTIFICATION, /* has method, no id: never answered */
    JRPC_RESPONSE,     /* a reply from the client: we send no requests, ignored */
    JRPC_INVALID,      /* *err holds the error reply to send */
} jrpc_kind;

typedef struct {
    jrpc_kind kind;
    const char *method; /* borrowed from the message; may hold NUL bytes */
    size_t method_len;
    json_t *id;     /* borrowed; NULL for notifications */
    json_t *params; /* borrowed; NULL when absent */
} jrpc_msg;

/* Decodes one line. Returns the value (object or array) or NULL with
 * *err set to a -32700 reply (invalid JSON, invalid UTF-8, too deep, a
 * number past double range, a NUL in a key): under the line's id when the
 * line is a well-formed object whose id can be read, else id null.
 * Strings may hold \u0000. *why (may be NULL) gets the reason without any
 * text of the line, for logs: a line may carry a prompt. */
json_t *jrpc_decode(const char *line, size_t len, json_t **err, char **why);

/* Non-zero when m's method is exactly `name` (a NUL byte never matches). */
int jrpc_method_is(const jrpc_msg *m, const char *name);
/* The value of a string without NUL bytes, else NULL: what may be compared
 * with strcmp or passed on as a C string. */
const char *jrpc_string(json_t *v);
/* A printable copy of n bytes of a client's text for messages: NUL as
 * \u0000, valid UTF-8. The caller frees it. */
char *jrpc_text_shown(const char *s, size_t n);
/* Non-zero for a JSON number, raw numbers included. */
int jrpc_is_number(json_t *v);
/* A raw number's text, or NULL when v is not one. */
const char *jrpc_raw_number(json_t *v);
/* Ids are equal: the same string, the same integer, or raw numbers written
 * the same way (json_equal cannot see into a raw number). */
int jrpc_id_equal(json_t *a, json_t *b);

/* Classifies one decoded element (not an array). On JRPC_INVALID, *err is
 * the reply to send (id kept when it was valid, else null). */
jrpc_kind jrpc_classify(json_t *value, jrpc_msg *msg, json_t **err);

/* Builders. jrpc_result steals `result`; `id` is borrowed (NULL → null). */
json_t *jrpc_result(json_t *id, json_t *result);
json_t *jrpc_error(json_t *id, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
json_t *jrpc_notification(const char *method, json_t *params);

/* Serializes compactly (no newline inside) plus a trailing "\n". The caller
 * frees the string. Never NULL: an unencodable value becomes an error. */
char *jrpc_serialize(json_t *msg, size_t *len);

#endif
