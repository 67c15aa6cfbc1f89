/* What the command-line views share (cli.h). */
#include "cli.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events.h"
#include "limits.h"
#include "util.h"

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

static int usage_error(const cli_opts *o)
{
    fprintf(stderr, "Try 'codexmcp %s --help'.\n", o->cmd);
    return 2;
}

int cli_common_option(cli_opts *o, int c, char **argv, int *status)
{
    switch (c) {
    case 's':
        o->state_dir = optarg;
        return 1;
    case 'c':
        if (cli_color_parse(optarg, &o->color) == 0)
            return 1;
        fprintf(stderr, "codexmcp %s: invalid --color '%s': expected auto, always or never\n",
                o->cmd, optarg);
        *status = usage_error(o);
        return -1;
    case 'h':
        fputs(o->usage, stdout);
        *status = 0;
        return -1;
    case ':':
        fprintf(stderr, "codexmcp %s: option '%s' needs a value\n", o->cmd, argv[optind - 1]);
        *status = usage_error(o);
        return -1;
    case '?':
        if (optopt)
            fprintf(stderr, "codexmcp %s: unknown option '-%c'\n", o->cmd, optopt);
        else
            fprintf(stderr, "codexmcp %s: unknown option '%s'\n", o->cmd, argv[optind - 1]);
        *status = usage_error(o);
        return -1;
    default:
        return 0;
    }
}

int cli_extra_arguments(const cli_opts *o, int argc, char **argv, int want)
{
    if (argc - optind <= want)
        return 0;
    fprintf(stderr, "codexmcp %s: unexpected argument '%s'\n", o->cmd, argv[optind + want]);
    return usage_error(o);
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

char *cli_state_dir(const cli_opts *o, char **registry)
{
    *registry = NULL;
    char *dir = o->state_dir ? xstrdup(o->state_dir) : state_dir_default();
    if (dir == NULL) {
        fprintf(stderr,
                "codexmcp %s: there is no state directory: give --state-dir, or set "
                "CODEXMCP_STATE_DIR or HOME\n",
                o->cmd);
        return NULL;
    }
    char *abs = absolute_path(dir);
    free(dir);
    *registry = xasprintf("%s/codexmcp.sqlite", abs);
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

char *cli_safe(const char *text)
{
    size_t n = strlen(text);
    char *s = utf8_sanitize(text, n, n * 3 + 4); /* C0 but \n and \t: spaces */
    unsigned char *p = (unsigned char *)s;
    for (size_t i = 0; p[i]; i++) {
        if (p[i] == 0x7f || p[i] == '\t')
            p[i] = ' ';
        else if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
            p[i] = ' ', p[i + 1] = ' ';
    }
    return s;
}

char *cli_line(const char *text, size_t max)
{
    char *safe = cli_safe(text);
    char *line = one_line(safe, max);
    free(safe);
    return line;
}

/* One value of a container: for a string, its safe form, to put in its
 * place; else NULL, a container being queued in todo to go through. */
static json_t *safe_value(json_t *val, json_t *todo)
{
    if (json_is_string(val)) {
        char *safe = cli_safe(json_string_value(val));
        json_t *v = json_string(safe);
        free(safe);
        return v;
    }
    if (json_is_object(val) || json_is_array(val))
        json_array_append(todo, val);
    return NULL;
}

void cli_safe_json(json_t *v)
{
    /* Containers still to go through: a list, not recursion (a transcript
     * line may nest as deep as jansson reads). */
    json_t *todo = json_array();
    if (json_is_object(v) || json_is_array(v))
        json_array_append(todo, v);
    while (json_array_size(todo) > 0) {
        size_t last = json_array_size(todo) - 1;
        json_t *c = json_incref(json_array_get(todo, last));
        json_array_remove(todo, last);
        json_t *val, *safe;
        if (json_is_object(c)) {
            const char *key;
            json_object_foreach(c, key, val)
            {
                if ((safe = safe_value(val, todo)) != NULL)
                    json_object_set_new(c, key, safe);
            }
        } else {
            size_t i;
            json_array_foreach(c, i, val)
            {
                if ((safe = safe_value(val, todo)) != NULL)
                    json_array_set_new(c, i, safe);
            }
        }
        json_decref(c);
    }
    json_decref(todo);
}

/* The description of the last complete line of data[0..n) with an
 * event worth one, fed from `from` on (new string), or NULL. */
static char *last_described(const char *data, size_t n, size_t from)
{
    events_state ev;
    events_init(&ev, 0, NULL);
    char *last = NULL;
    const char *p = data + from, *end = data + n;
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
    return last;
}

char *cli_last_event(const char *transcript)
{
    int fd = open(transcript, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    char *last = NULL;
    /* The end: when no line in it is complete (one line longer than it, a
     * command's whole output), more of it, up to the larger bound. */
    for (size_t want = LAST_EVENT_TAIL_BYTES; last == NULL; want *= 8) {
        if (want > LAST_EVENT_TAIL_MAX_BYTES)
            want = LAST_EVENT_TAIL_MAX_BYTES;
        int cut = size > want; /* the file goes on before what is read */
        size_t take = cut ? want : size;
        char *data = xmalloc(take + 1);
        ssize_t got = pread(fd, data, take, (off_t)(size - take));
        if (got <= 0) {
            free(data);
            break;
        }
        size_t from = 0;
        if (cut) { /* the first line is cut: skip it */
            const char *nl = memchr(data, '\n', (size_t)got);
            from = nl ? (size_t)(nl - data) + 1 : (size_t)got;
        }
        last = last_described(data, (size_t)got, from);
        free(data);
        if (!cut || want == LAST_EVENT_TAIL_MAX_BYTES)
            break;
    }
    close(fd);
    if (last == NULL)
        return NULL;
    char *line = cli_line(last, LAST_EVENT_MAX_BYTES);
    free(last);
    return line;
}
