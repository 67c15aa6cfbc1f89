/* Logging: records go to stderr (never stdout, which carries only MCP
 * messages) at or above the stderr level, and to the MCP client as
 * notifications/message at or above the level it set with logging/setLevel.
 * Levels are the syslog ones that MCP uses. */
#ifndef CODEXMCP_LOG_H
#define CODEXMCP_LOG_H

typedef enum {
    LOG_DEBUG,
    LOG_INFO,
    LOG_NOTICE,
    LOG_WARNING,
    LOG_ERROR,
    LOG_CRITICAL,
    LOG_ALERT,
    LOG_EMERGENCY,
    LOG_OFF /* a threshold only: nothing is emitted */
} log_level;

/* Returns 0 and sets *out, or -1 if name is not a level. */
int log_level_parse(const char *name, log_level *out);
const char *log_level_name(log_level level);

void log_set_stderr_level(log_level level);

/* The client sink receives every record at or above its level; `text` is
 * valid only during the call. One sink at a time; NULL removes it. */
typedef void (*log_sink_fn)(void *ctx, log_level level, const char *text);
void log_set_client_sink(log_sink_fn fn, void *ctx, log_level level);

void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
