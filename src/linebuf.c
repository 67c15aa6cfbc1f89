/* Bounded line splitting. */
#include "linebuf.h"

#include <string.h>

void linebuf_init(linebuf_t *lb, size_t max_line)
{
    buf_init(&lb->buf, max_line);
    lb->skipped = 0;
    lb->skipping = 0;
}

void linebuf_free(linebuf_t *lb)
{
    buf_free(&lb->buf);
}

static void deliver(linebuf_t *lb, linebuf_cb cb, void *ctx)
{
    if (lb->skipping) {
        size_t total = lb->skipped;
        lb->skipping = 0;
        lb->skipped = 0;
        cb(ctx, NULL, total, 1);
        return;
    }
    size_t n = lb->buf.len;
    if (n > 0 && lb->buf.data[n - 1] == '\r')
        n--;
    /* An empty line has no data pointer yet: hand out "" instead. */
    cb(ctx, lb->buf.data ? lb->buf.data : "", n, 0);
    buf_reset(&lb->buf);
}

void linebuf_feed(linebuf_t *lb, const char *data, size_t len, linebuf_cb cb, void *ctx)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t chunk = nl ? (size_t)(nl - data) : len;
        if (lb->skipping) {
            lb->skipped += chunk;
        } else if (buf_append(&lb->buf, data, chunk) != 0) {
            lb->skipping = 1;
            lb->skipped = lb->buf.len + chunk;
            buf_reset(&lb->buf);
        }
        if (nl == NULL)
            return;
        deliver(lb, cb, ctx);
        data += chunk + 1;
        len -= chunk + 1;
    }
}

void linebuf_finish(linebuf_t *lb, linebuf_cb cb, void *ctx)
{
    if (lb->skipping || lb->buf.len > 0)
        deliver(lb, cb, ctx);
}
