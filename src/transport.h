/* The stdio transport: reads newline-delimited messages from fd 0 (a pipe,
 * a tty or a regular file: epoll cannot watch regular files, so those are
 * read with uv_fs_read) and writes messages to fd 1 in order without ever
 * blocking the loop. Only this module writes to stdout. It counts the bytes
 * the client has not taken yet: past OUT_QUEUE_HIGH_BYTES it reports the
 * client behind (the rest of codexmcp then stops producing), past
 * OUT_QUEUE_STOP_BYTES it also stops reading requests (limits.h). */
#ifndef CODEXMCP_TRANSPORT_H
#define CODEXMCP_TRANSPORT_H

#include <jansson.h>
#include <stddef.h>
#include <uv.h>

typedef struct {
    void (*on_line)(void *ctx, const char *line, size_t len);
    void (*on_oversized)(void *ctx, size_t len, size_t max);
    /* stdin reached its end or failed: the client is done sending. */
    void (*on_eof)(void *ctx);
    /* stdout failed (EPIPE: the client is gone), or the client closed its
     * end of it (watched: known without a write); later sends are dropped. */
    void (*on_write_error)(void *ctx, int err);
    /* The client fell behind on its replies (behind = 1: more than
     * OUT_QUEUE_HIGH_BYTES queued) or caught up again (behind = 0: below
     * OUT_QUEUE_LOW_BYTES). May be called from inside transport_send. */
    void (*on_behind)(void *ctx, int behind);
} transport_callbacks;

typedef struct transport transport;

transport *transport_new(uv_loop_t *loop, size_t max_line, const transport_callbacks *cb,
                         void *ctx);
/* Opens fds 0 and 1 and starts reading. Returns 0 or a negative UV_E* code. */
int transport_start(transport *t);
/* Queues msg (stolen) as one line on stdout. */
void transport_send(transport *t, json_t *msg);
void transport_stop_reading(transport *t);
/* Non-zero while the client is behind (see on_behind). */
int transport_behind(const transport *t);
/* Non-zero when stdin is a regular file (`codexmcp < requests.jsonl`):
 * its end means "no more requests", not "the client is gone". */
int transport_input_is_file(const transport *t);
/* Stops reading, lets queued writes finish, closes the handles, then calls
 * done. The transport is freed after done returns. */
void transport_close(transport *t, void (*done)(void *ctx), void *ctx);

#endif
