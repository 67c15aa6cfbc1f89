/* Splits a byte stream into lines with a hard maximum line length. Used for
 * the client's stdin and for each codex child's stdout. A line longer than
 * the maximum is never stored: its bytes are skipped up to the next newline
 * and reported once, by length, so memory stays bounded whatever arrives. */
#ifndef CODEXMCP_LINEBUF_H
#define CODEXMCP_LINEBUF_H

#include <stddef.h>

#include "util.h"

/* Called for each line, without its "\n" (a trailing "\r" is removed too).
 * When `overflow` is non-zero the line was dropped: `line` is NULL and `len`
 * is its full length. `line` is valid only during the call. */
typedef void (*linebuf_cb)(void *ctx, const char *line, size_t len, int overflow);

typedef struct {
    buf_t buf;
    size_t skipped; /* bytes dropped of the current over-long line */
    int skipping;
} linebuf_t;

void linebuf_init(linebuf_t *lb, size_t max_line);
void linebuf_free(linebuf_t *lb);
void linebuf_feed(linebuf_t *lb, const char *data, size_t len, linebuf_cb cb, void *ctx);
/* End of stream: a last line without a newline is delivered as a line. */
void linebuf_finish(linebuf_t *lb, linebuf_cb cb, void *ctx);

#endif
