/* What the command-line views share (cli.h). */
#include "cli.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events.h"
#include "util.h"

/* How much of a transcript's end cli_last_event reads. */
#define LAST_EVENT_TAIL_BYTES (64 * 1024)
#define LAST_EVENT_MAX_BYTES 400

int cli_color_parse(const char *when, cli_color_when *out)
{
    if (strcmp(when, "auto") == 0)
        *out = COLOR_AUTO;
    else if (strcmp(when, "always") == 0)
        *out = COLOR_ALWAYS;
    else if (strcmp(when, "never") == 0)
        *out = COLOR_NEVER;
    else
        return -1;
    return 0;
}

int cli_use_color(cli_color_when when)
{
    if (when != COLOR_AUTO)
        return when == COLOR_ALWAYS;
    const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
    return isatty(STDOUT_FILENO) && (no == NULL || *no == '\0') &&
           (term == NULL || strcmp(term, "dumb") != 0);
}

void cli_style_init(cli_style *st, int color)
{
    if (!color) {
        *st = (cli_style){"", "", "", "", "", "", "", ""};
        return;
    }
    *st = (cli_style){"\033[1m",  "\033[2m",  "\033[31m", "\033[32m",
                      "\033[33m", "\033[34m", "\033[36m", "\033[0m"};
}

char *cli_state_dir(const char *opt, const char *cmd)
{
    char *dir = opt ? xstrdup(opt) : state_dir_default();
    if (dir == NULL) {
        fprintf(stderr,
                "codexmcp %s: there is no state directory: give --state-dir, or set "
                "CODEXMCP_STATE_DIR or HOME\n",
                cmd);
        return NULL;
    }
    char *abs = absolute_path(dir);
    free(dir);
    return abs;
}

char *cli_duration(int64_t ms)
{
    if (ms < 0)
        ms = 0;
    if (ms < 1000)
        return xasprintf("%lldms", (long long)ms);
    long long s = ms / 1000;
    if (s < 60)
        return xasprintf("%llds", s);
    if (s < 3600)
        return xasprintf("%lldm%02llds", s / 60, s % 60);
    if (s < 86400)
        return xasprintf("%lldh%02lldm", s / 3600, s % 3600 / 60);
    return xasprintf("%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

char *cli_home_path(const char *path)
{
    const char *home = getenv("HOME");
    size_t n = home ? strlen(home) : 0;
    while (n > 1 && home[n - 1] == '/')
        n--;
    if (n > 1 && strncmp(path, home, n) == 0 && (path[n] == '/' || path[n] == '\0'))
        return xasprintf("~%s", path + n);
    return xstrdup(path);
}

unsigned cli_columns(void)
{
    struct winsize ws;
    if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0)
        return 0;
    return ws.ws_col;
}

char *cli_last_event(const char *transcript)
{
    int fd = open(transcript, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    off_t from = 0;
    if (fstat(fd, &st) == 0 && st.st_size > LAST_EVENT_TAIL_BYTES)
        from = st.st_size - LAST_EVENT_TAIL_BYTES;
    char *data = xmalloc(LAST_EVENT_TAIL_BYTES + 1);
    ssize_t n = pread(fd, data, LAST_EVENT_TAIL_BYTES, from);
    close(fd);
    if (n <= 0) {
        free(data);
        return NULL;
    }
    events_state ev;
    events_init(&ev, 0, NULL);
    char *last = NULL;
    const char *p = data, *end = data + n;
    if (from > 0) { /* the first line is cut: skip it */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            break; /* being written */
        char *desc = events_feed(&ev, p, (size_t)(nl - p));
        if (desc) {
            free(last);
            last = desc;
        }
        p = nl + 1;
    }
    events_free(&ev);
    free(data);
    if (last == NULL)
        return NULL;
    char *line = one_line(last, LAST_EVENT_MAX_BYTES);
    free(last);
    return line;
}
