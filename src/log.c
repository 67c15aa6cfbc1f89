/* Logging to stderr and to the client. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const level_names[] = {"debug", "info",     "notice", "warning",
                                          "error", "critical", "alert",  "emergency"};

static log_level stderr_level = LOG_WARNING;
static log_sink_fn client_fn;
static void *client_ctx;
static log_level client_level = LOG_OFF;

int log_level_parse(const char *name, log_level *out)
{
    for (int i = LOG_DEBUG; i <= LOG_EMERGENCY; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *log_level_name(log_level level)
{
    return level <= LOG_EMERGENCY ? level_names[level] : "off";
}

void log_set_stderr_level(log_level level)
{
    stderr_level = level;
}

void log_set_client_sink(log_sink_fn fn, void *ctx, log_level level)
{
    client_fn = fn;
    client_ctx = ctx;
    client_level = fn ? level : LOG_OFF;
}

void log_msg(log_level level, const char *fmt, ...)
{
    int to_stderr = level >= stderr_level;
    int to_client = client_fn != NULL && level >= client_level;
    if (!to_stderr && !to_client)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *text = xvasprintf(fmt, ap);
    va_end(ap);
    if (to_stderr)
        fprintf(stderr, "codexmcp: %s: %s\n", log_level_name(level), text);
    if (to_client)
        client_fn(client_ctx, level, text);
    free(text);
}
