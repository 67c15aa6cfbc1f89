/* stdio transport over libuv. */
#include "transport.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonrpc.h"
#include "limits.h"
#include "linebuf.h"
#include "log.h"
#include "util.h"

typedef enum { IO_NONE, IO_STREAM, IO_FILE } io_kind;

/* One queued write to a regular file: written in order, one at a time. */
typedef struct file_write {
    uv_fs_t req;
    transport *t;
    char *data;
    size_t len, off;
    struct file_write *next;
} file_write;

typedef struct {
    uv_write_t req;
    transport *t;
    char *data;
    size_t len;
} stream_write;

struct transport {
    uv_loop_t *loop;
    transport_callbacks cb;
    void *ctx;
    size_t max_line;
    linebuf_t lines;

    io_kind in_kind;
    union {
        uv_pipe_t pipe;
        uv_tty_t tty;
    } in;
    uv_fs_t in_req;
    char *in_chunk;
    int reading, in_read_pending, eof_sent;
    int paused; /* reading held back while too many replies are queued */
    int behind; /* reported behind (on_behind(1)) and not caught up yet */

    io_kind out_kind;
    union {
        uv_pipe_t pipe;
        uv_tty_t tty;
    } out;
    file_write *fq_head, *fq_tail; /* file writes not yet done */
    size_t writes_pending;
    size_t queued_bytes; /* written to fd 1 but not yet confirmed */
    int write_failed;
    uv_poll_t out_watch; /* the client's end of stdout, watched for its close */
    int out_watch_fd;    /* a second descriptor of fd 1 for it, or -1 */

    /* Closed last, always: its close callback frees the transport on a
     * later loop turn, never inside a callback that still uses it. */
    uv_idle_t closer;
    int closing, handles_open;
    void (*done)(void *ctx);
    void *done_ctx;
};

static void deliver_line(void *ctx, const char *line, size_t len, int overflow)
{
    transport *t = ctx;
    if (overflow)
        t->cb.on_oversized(t->ctx, len, t->max_line);
    else
        t->cb.on_line(t->ctx, line, len);
}

static void signal_eof(transport *t)
{
    if (t->eof_sent)
        return;
    t->eof_sent = 1;
    linebuf_finish(&t->lines, deliver_line, t);
    t->cb.on_eof(t->ctx);
}

/* ---- reading: streams ---- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = xmalloc(suggested);
    buf->len = suggested;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    transport *t = s->data;
    if (nread > 0 && t->reading)
        linebuf_feed(&t->lines, buf->base, (size_t)nread, deliver_line, t);
    free(buf->base);
    if (nread < 0) {
        if (nread != UV_EOF)
            log_msg(LOG_ERROR, "reading stdin: %s", uv_strerror((int)nread));
        uv_read_stop(s);
        if (t->reading) {
            t->reading = 0;
            signal_eof(t);
        }
    }
}

/* ---- reading: regular files ---- */

static void file_read_cb(uv_fs_t *req);

static void file_read_next(transport *t)
{
    uv_buf_t b = uv_buf_init(t->in_chunk, FILE_READ_CHUNK);
    t->in_read_pending = 1;
    int rc = uv_fs_read(t->loop, &t->in_req, 0, &b, 1, -1, file_read_cb);
    if (rc < 0) {
        t->in_read_pending = 0;
        log_msg(LOG_ERROR, "reading stdin: %s", uv_strerror(rc));
        t->reading = 0;
        signal_eof(t);
    }
}

static void file_read_cb(uv_fs_t *req)
{
    transport *t = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    t->in_read_pending = 0;
    if (!t->reading) {
        if (t->closing)
            transport_close(t, t->done, t->done_ctx);
        return;
    }
    if (n > 0) {
        linebuf_feed(&t->lines, t->in_chunk, (size_t)n, deliver_line, t);
        if (t->reading) {
            if (!t->paused)
                file_read_next(t);
            return;
        }
    } else if (n < 0) {
        log_msg(LOG_ERROR, "reading stdin: %s", uv_strerror((int)n));
    }
    if (t->reading) {
        t->reading = 0;
        signal_eof(t);
    }
    if (t->closing)
        transport_close(t, t->done, t->done_ctx);
}

/* ---- writing ---- */

static void write_failed(transport *t, int err)
{
    if (t->write_failed)
        return;
    t->write_failed = 1;
    log_msg(LOG_WARNING, "writing stdout: %s", uv_strerror(err));
    t->cb.on_write_error(t->ctx, err);
}

/* A client that closes its end of stdout while its calls run would be
 * noticed only at the next write, which may be a turn's result minutes
 * later: its turns would run on for nobody. So the hang-up is watched:
 * POLLERR on a pipe, POLLHUP on a socket (Node clients get socketpairs).
 * libuv watches each descriptor once, hence a second one of fd 1. */
static void out_hangup_cb(uv_poll_t *h, int status, int events)
{
    (void)events;
    transport *t = h->data;
    uv_poll_stop(h); /* the state stays: once is enough */
    struct pollfd p = {.fd = t->out_watch_fd, .events = 0, .revents = 0};
    if (status == 0 && (poll(&p, 1, 0) != 1 || !(p.revents & (POLLHUP | POLLERR))))
        return; /* only a half-close: the client stopped sending on it */
    if (t->write_failed)
        return;
    t->write_failed = 1;
    log_msg(LOG_WARNING, "the client closed its end of stdout");
    t->cb.on_write_error(t->ctx, UV_EPIPE);
}

/* Best effort: without the watch, a closed stdout is found at the next
 * write. Not for a tty (the descriptor is shared with the terminal, and
 * a hang-up sends SIGHUP anyway). */
static void watch_stdout(transport *t)
{
    if (uv_guess_handle(1) != UV_NAMED_PIPE)
        return;
    int fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return;
    if (uv_poll_init(t->loop, &t->out_watch, fd) != 0) {
        close(fd);
        return;
    }
    t->out_watch.data = t;
    t->out_watch_fd = fd;
    t->handles_open++;
    uv_poll_start(&t->out_watch, UV_DISCONNECT, out_hangup_cb);
}

static void maybe_finish_close(transport *t);

/* Backpressure, in two steps (limits.h): past the high mark the client is
 * behind and the producers hold back; past the stop mark reading requests
 * stops as well. Both end below the low mark. */
static void queued_add(transport *t, size_t n)
{
    t->queued_bytes += n;
    if (!t->behind && t->queued_bytes > OUT_QUEUE_HIGH_BYTES) {
        t->behind = 1;
        log_msg(LOG_WARNING, "the client is not reading (%zu bytes queued); holding codex output",
                t->queued_bytes);
        t->cb.on_behind(t->ctx, 1);
    }
    if (t->paused || !t->reading || t->queued_bytes <= OUT_QUEUE_STOP_BYTES)
        return;
    t->paused = 1;
    log_msg(LOG_WARNING, "the client is not reading replies (%zu bytes queued); pausing input",
            t->queued_bytes);
    if (t->in_kind == IO_STREAM)
        uv_read_stop((uv_stream_t *)&t->in);
}

static void queued_sub(transport *t, size_t n)
{
    t->queued_bytes -= n;
    if (t->queued_bytes >= OUT_QUEUE_LOW_BYTES)
        return;
    if (t->paused) {
        t->paused = 0;
        if (t->reading) {
            log_msg(LOG_INFO, "the client caught up; reading input again");
            if (t->in_kind == IO_STREAM)
                uv_read_start((uv_stream_t *)&t->in, alloc_cb, read_cb);
            else if (!t->in_read_pending)
                file_read_next(t);
        }
    }
    if (t->behind) {
        t->behind = 0;
        log_msg(LOG_INFO, "the client caught up; codex output flows again");
        t->cb.on_behind(t->ctx, 0);
    }
}

static void stream_write_cb(uv_write_t *req, int status)
{
    stream_write *w = (stream_write *)req;
    transport *t = w->t;
    size_t done = w->len;
    free(w->data);
    free(w);
    t->writes_pending--;
    if (status < 0)
        write_failed(t, status);
    queued_sub(t, done); /* last: catching up may send at once */
    maybe_finish_close(t);
}

static void file_write_cb(uv_fs_t *req);

/* NOLINTNEXTLINE(misc-no-recursion): file_write_cb runs from the loop; from here on EINVAL only */
static void file_write_start(transport *t)
{
    file_write *w = t->fq_head;
    uv_buf_t b = uv_buf_init(w->data + w->off, (unsigned)(w->len - w->off));
    int rc = uv_fs_write(t->loop, &w->req, 1, &b, 1, -1, file_write_cb);
    if (rc < 0) {
        w->req.result = rc;
        file_write_cb(&w->req);
    }
}

/* NOLINTNEXTLINE(misc-no-recursion): see file_write_start */
static void file_write_cb(uv_fs_t *req)
{
    file_write *w = (file_write *)req;
    transport *t = w->t;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    if (n > 0 && !t->write_failed) {
        w->off += (size_t)n;
        if (w->off < w->len) {
            file_write_start(t);
            return;
        }
    } else if (n <= 0) {
        write_failed(t, n < 0 ? (int)n : UV_EIO);
    }
    t->fq_head = w->next;
    if (t->fq_head == NULL)
        t->fq_tail = NULL;
    size_t done = w->len;
    free(w->data);
    free(w);
    t->writes_pending--;
    if (t->fq_head)
        file_write_start(t);
    /* Last: catching up may send at once, and a send starts a write of its
     * own when none is in flight. */
    queued_sub(t, done);
    maybe_finish_close(t);
}

void transport_send(transport *t, json_t *msg)
{
    size_t len;
    char *data = jrpc_serialize(msg, &len);
    json_decref(msg);
    if (t->write_failed || t->out_kind == IO_NONE) {
        free(data);
        return;
    }
    t->writes_pending++;
    queued_add(t, len);
    if (t->out_kind == IO_FILE) {
        file_write *w = xcalloc(1, sizeof(*w));
        w->t = t;
        w->data = data;
        w->len = len;
        w->req.data = w;
        if (t->fq_tail)
            t->fq_tail->next = w;
        else
            t->fq_head = w;
        t->fq_tail = w;
        if (t->fq_head == w)
            file_write_start(t);
        return;
    }
    stream_write *w = xcalloc(1, sizeof(*w));
    w->t = t;
    w->data = data;
    w->len = len;
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&t->out, &b, 1, stream_write_cb);
    if (rc < 0) {
        free(data);
        free(w);
        t->writes_pending--;
        queued_sub(t, len);
        write_failed(t, rc);
    }
}

/* ---- set-up and shutdown ---- */

static int open_stream(transport *t, int fd, int readable, io_kind *kind, void *handle)
{
    uv_handle_type type = uv_guess_handle(fd);
    int rc;
    switch (type) {
    case UV_NAMED_PIPE:
        rc = uv_pipe_init(t->loop, handle, 0);
        if (rc == 0)
            rc = uv_pipe_open(handle, fd);
        break;
    case UV_TTY:
        rc = uv_tty_init(t->loop, handle, fd, readable);
        break;
    case UV_FILE:
        *kind = IO_FILE;
        return 0;
    default:
        return UV_EINVAL;
    }
    if (rc < 0)
        return rc;
    ((uv_handle_t *)handle)->data = t;
    t->handles_open++;
    *kind = IO_STREAM;
    return 0;
}

transport *transport_new(uv_loop_t *loop, size_t max_line, const transport_callbacks *cb, void *ctx)
{
    transport *t = xcalloc(1, sizeof(*t));
    t->loop = loop;
    t->cb = *cb;
    t->ctx = ctx;
    t->max_line = max_line;
    linebuf_init(&t->lines, max_line);
    uv_idle_init(loop, &t->closer);
    t->closer.data = t;
    t->handles_open = 1;
    t->out_watch_fd = -1;
    return t;
}

int transport_start(transport *t)
{
    int rc = open_stream(t, 1, 0, &t->out_kind, &t->out);
    if (rc < 0) {
        log_msg(LOG_ERROR, "stdout cannot be used: %s", uv_strerror(rc));
        return rc;
    }
    if (t->out_kind == IO_STREAM)
        watch_stdout(t);
    rc = open_stream(t, 0, 1, &t->in_kind, &t->in);
    if (rc < 0) {
        log_msg(LOG_ERROR, "stdin cannot be used: %s", uv_strerror(rc));
        return rc;
    }
    t->reading = 1;
    if (t->in_kind == IO_FILE) {
        t->in_chunk = xmalloc(FILE_READ_CHUNK);
        t->in_req.data = t;
        file_read_next(t);
        return 0;
    }
    rc = uv_read_start((uv_stream_t *)&t->in, alloc_cb, read_cb);
    if (rc < 0) {
        log_msg(LOG_ERROR, "reading stdin: %s", uv_strerror(rc));
        t->reading = 0;
    }
    return rc;
}

int transport_behind(const transport *t)
{
    return t->behind;
}

int transport_input_is_file(const transport *t)
{
    return t->in_kind == IO_FILE;
}

void transport_stop_reading(transport *t)
{
    if (!t->reading)
        return;
    t->reading = 0;
    if (t->in_kind == IO_STREAM)
        uv_read_stop((uv_stream_t *)&t->in);
}

static void handle_closed(uv_handle_t *h)
{
    transport *t = h->data;
    if (--t->handles_open > 0)
        return;
    void (*done)(void *) = t->done;
    void *ctx = t->done_ctx;
    linebuf_free(&t->lines);
    free(t->in_chunk);
    if (t->out_watch_fd >= 0)
        close(t->out_watch_fd);
    free(t);
    done(ctx);
}

static void maybe_finish_close(transport *t)
{
    if (!t->closing || t->writes_pending > 0 || t->in_read_pending || t->closing > 1)
        return;
    t->closing = 2;
    uv_close((uv_handle_t *)&t->closer, handle_closed);
    if (t->in_kind == IO_STREAM)
        uv_close((uv_handle_t *)&t->in, handle_closed);
    if (t->out_kind == IO_STREAM)
        uv_close((uv_handle_t *)&t->out, handle_closed);
    if (t->out_watch_fd >= 0)
        uv_close((uv_handle_t *)&t->out_watch, handle_closed);
}

void transport_close(transport *t, void (*done)(void *ctx), void *ctx)
{
    transport_stop_reading(t);
    if (!t->closing)
        t->closing = 1;
    t->done = done;
    t->done_ctx = ctx;
    maybe_finish_close(t);
}
