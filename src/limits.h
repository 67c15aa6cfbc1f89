/* Every limit and default of codexmcp, each with the reason for its value.
 * Options may override some of them at run time; nothing else in the code
 * should carry a bare number that bounds memory or time. */
#ifndef CODEXMCP_LIMITS_H
#define CODEXMCP_LIMITS_H

/* Largest JSON-RPC line accepted from the client (--max-line-bytes).
 * A 300 kB prompt with a few base64 images fits many times over; anything
 * larger is almost certainly a broken client, and memory must stay bounded. */
#define MAX_LINE_BYTES_DEFAULT (64u * 1024u * 1024u)

/* Nesting depth of a request is bounded by jansson's parser (2048 levels,
 * JSON_PARSER_MAX_DEPTH): deeper input is a parse error (-32700), never a
 * stack overflow. */

/* Largest line read from a codex child's stdout. Events carry command
 * output (aggregated_output) that can be large, but a line over this is
 * dropped with a warning instead of growing the buffer without end. */
#define CODEX_LINE_MAX_BYTES (8u * 1024u * 1024u)

/* Bytes of a child's stderr kept for error messages: enough for a Rust
 * panic with backtrace, small enough to put in a tool result. */
#define STDERR_TAIL_BYTES (64u * 1024u)

/* Bytes of replies queued for a client that does not read its stdout:
 * above the high mark codexmcp stops reading requests, below the low mark
 * it reads again, so a stalled client cannot grow memory without end. */
#define OUT_QUEUE_HIGH_BYTES (8u * 1024u * 1024u)
#define OUT_QUEUE_LOW_BYTES (1u * 1024u * 1024u)

/* Size of each read from stdin when it is a regular file. */
#define FILE_READ_CHUNK (64u * 1024u)

/* Tools per tools/list page. The server has few tools; pagination exists
 * so that clients following nextCursor keep working if that changes. */
#define TOOLS_PAGE_SIZE 50u

/* Time a child gets between SIGTERM and SIGKILL (ms). Codex exits on
 * SIGTERM within milliseconds; 2 s covers a loaded machine. */
#define KILL_GRACE_MS_DEFAULT 2000u

/* Time codex may keep running after turn.completed before its group is
 * terminated (ms): the turn is done, a lingering process is a hang
 * (GuDaStudio/codexmcp#14). */
#define POST_TURN_GRACE_MS 2000u

/* Codex children running at once (--max-parallel); a 2-core machine runs
 * four turns comfortably because most of a turn is waiting on the model. */
#define MAX_PARALLEL_DEFAULT 4u

/* Longest single-line summary in a progress message (bytes). */
#define PROGRESS_MESSAGE_MAX 160u

/* Number of warnings kept in one result; more are counted, not listed. */
#define WARNINGS_MAX 32u

/* Longest warning text kept (bytes). */
#define WARNING_TEXT_MAX 2048u

#endif
