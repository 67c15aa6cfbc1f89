/* codexmcp ps: the calls running now and the latest to finish, read from
 * the registry every codexmcp process of the state directory writes
 * (cli_ps.h). */
#include "cli_ps.h"

#include <getopt.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "cli.h"
#include "limits.h"
#include "store.h"
#include "util.h"

static const char ps_usage[] =
    "Usage: codexmcp ps [-n N] [--json] [--state-dir DIR] [--color WHEN]\n"
    "\n"
    "The Codex calls running now, in every codexmcp process that shares the\n"
    "state directory, then the N latest to finish, read from its registry.\n"
    "\n"
    "  -n, --limit N      finished calls to show (default: 10)\n"
    "      --json         print a JSON array instead of a table\n" CLI_COMMON_HELP;

typedef struct {
    char *cell[7];
    const char *status_color;
} ps_row;

enum { C_SESSION, C_STATUS, C_ENGINE, C_ELAPSED, C_PID, C_CWD, C_LAST, C_N };

static const char *const headers[C_N] = {"SESSION", "STATUS", "ENGINE", "ELAPSED",
                                         "PID",     "CWD",    "LAST"};

static const char *str(json_t *row, const char *key, const char *none)
{
    const char *v = json_string_value(json_object_get(row, key));
    return v ? v : none;
}

static const char *status_color(const cli_style *st, const char *status)
{
    if (strcmp(status, "running") == 0)
        return st->cyan;
    if (strcmp(status, "completed") == 0)
        return st->green;
    if (strcmp(status, "failed") == 0 || strcmp(status, "timed_out") == 0)
        return st->red;
    return st->yellow;
}

/* The columns a terminal gives a UTF-8 character (wcwidth under C.UTF-8: 2
 * for a wide CJK one, 0 for a combining mark; 1 for one it cannot say or
 * without that locale), its bytes in *len. */
static size_t char_width(const char *s, size_t *len)
{
    locale_t utf8 = utf8_locale();
    unsigned char b = (unsigned char)*s;
    size_t n = 1;
    while (b >= 0xc0 && n < 4 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n++;
    *len = n;
    if (n == 1 || utf8 == (locale_t)0)
        return 1;
    locale_t was = uselocale(utf8);
    mbstate_t st = {0};
    wchar_t wc;
    int w = mbrtowc(&wc, s, n, &st) == n ? wcwidth(wc) : -1;
    uselocale(was);
    return w < 0 ? 1 : (size_t)w;
}

/* Display width of UTF-8 text (cells are valid UTF-8: cli_safe). */
static size_t width(const char *s)
{
    size_t w = 0, len;
    for (; *s; s += len)
        w += char_width(s, &len);
    return w;
}

/* s cut to `max` columns, "…" last when cut. */
static char *fit(const char *s, size_t max)
{
    if (width(s) <= max)
        return xstrdup(s);
    if (max == 0)
        return xstrdup("");
    size_t w = 0, i = 0, len;
    for (; s[i]; i += len) {
        size_t cw = char_width(s + i, &len);
        if (w + cw > max - 1)
            break;
        w += cw;
    }
    return xasprintf("%.*s…", (int)i, s);
}

/* The last event of a running call, what a finished one ended with. */
static char *last_of(json_t *row, int running)
{
    const char *tr = str(row, "transcript", NULL);
    if (running) {
        char *ev = tr ? cli_last_event(tr) : NULL;
        return ev ? ev : xstrdup("started");
    }
    const char *err = str(row, "error", NULL), *msg = str(row, "last_message", NULL);
    if (err)
        return one_line(err, 400);
    if (msg)
        return one_line(msg, 400);
    return xstrdup("-");
}

static int64_t elapsed_ms(json_t *row, int64_t now)
{
    json_t *fin = json_object_get(row, "finished_ms");
    int64_t start = json_integer_value(json_object_get(row, "started_ms"));
    if (json_is_integer(fin))
        return json_integer_value(fin) - start;
    if (strcmp(str(row, "status", ""), "running") == 0)
        return now - start;
    return -1; /* interrupted: when it ended is not known */
}

static void print_json(json_t *calls, int64_t now)
{
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(calls, i, row)
    {
        int running = strcmp(str(row, "status", ""), "running") == 0;
        int64_t el = elapsed_ms(row, now);
        char *last = last_of(row, running);
        json_array_append_new(
            out, json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:s, s:O}", "SESSION_ID",
                           json_object_get(row, "SESSION_ID"), "status",
                           json_object_get(row, "status"), "engine", json_object_get(row, "engine"),
                           "tool", json_object_get(row, "tool"), "cwd", json_object_get(row, "cwd"),
                           "server_pid", json_object_get(row, "server_pid"), "started_ms",
                           json_object_get(row, "started_ms"), "finished_ms",
                           json_object_get(row, "finished_ms"), "elapsed_ms",
                           el >= 0 ? json_integer(el) : json_null(), "last_event", last,
                           "transcript", json_object_get(row, "transcript")));
        free(last);
    }
    char *text = json_dumps(out, JSON_INDENT(2));
    if (text)
        puts(text);
    free(text);
    json_decref(out);
}

static void print_table(json_t *calls, int64_t now, const cli_style *st)
{
    size_t n = json_array_size(calls);
    ps_row *rows = xcalloc(n, sizeof(*rows));
    size_t w[C_N];
    for (int c = 0; c < C_N; c++)
        w[c] = strlen(headers[c]);
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_array_get(calls, i);
        const char *status = str(row, "status", "unknown");
        int running = strcmp(status, "running") == 0;
        int64_t el = elapsed_ms(row, now);
        ps_row *r = &rows[i];
        r->cell[C_SESSION] = one_line(str(row, "SESSION_ID", "-"), 64);
        r->cell[C_STATUS] = one_line(status, 32);
        r->cell[C_ENGINE] = one_line(str(row, "engine", "-"), 32);
        r->cell[C_ELAPSED] = el >= 0 ? cli_duration(el) : xstrdup("-");
        r->cell[C_PID] =
            xasprintf("%lld", (long long)json_integer_value(json_object_get(row, "server_pid")));
        char *cwd = one_line(str(row, "cwd", "-"), 4096);
        r->cell[C_CWD] = cli_home_path(cwd);
        free(cwd);
        r->cell[C_LAST] = last_of(row, running);
        r->status_color = status_color(st, status);
        for (int c = 0; c < C_N; c++)
            if (width(r->cell[c]) > w[c])
                w[c] = width(r->cell[c]);
    }
    /* On a terminal, LAST gets what is left of the line (at least 20). */
    unsigned cols = cli_columns();
    size_t before = 0;
    for (int c = 0; c < C_LAST; c++)
        before += w[c] + 2;
    size_t last_max = cols ? (cols > before + 20 ? cols - before : 20) : (size_t)-1;

    printf("%s", st->bold);
    for (int c = 0; c < C_LAST; c++)
        printf("%-*s  ", (int)w[c], headers[c]);
    printf("%s%s\n", headers[C_LAST], st->reset);
    for (size_t i = 0; i < n; i++) {
        ps_row *r = &rows[i];
        for (int c = 0; c < C_LAST; c++) {
            const char *color = c == C_STATUS ? r->status_color : c == C_SESSION ? st->bold : "";
            /* padded by columns, not bytes */
            size_t pad = w[c] - width(r->cell[c]);
            printf("%s%s%s%*s  ", color, r->cell[c], *color ? st->reset : "", (int)pad, "");
        }
        char *last = fit(r->cell[C_LAST], last_max);
        printf("%s%s%s\n", st->dim, last, st->reset);
        free(last);
        for (int c = 0; c < C_N; c++)
            free(r->cell[c]);
    }
    free(rows);
}

int cli_ps_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"limit", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    unsigned long long recent = PS_RECENT_DEFAULT;
    int json = 0, status;
    cli_opts o = {"ps", ps_usage, NULL, COLOR_AUTO};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":n:h", opts, NULL)) != -1) {
        if (c == 'n') {
            if (parse_uint(optarg, PS_RECENT_MAX, &recent) != 0) {
                fprintf(stderr, "codexmcp ps: invalid -n '%s': expected 0 to %u\n", optarg,
                        PS_RECENT_MAX);
                return 2;
            }
        } else if (c == 'j') {
            json = 1;
        } else if (cli_common_option(&o, c, argv, &status) < 0) {
            return status;
        }
    }
    if (cli_extra_arguments(&o, argc, argv, 0) != 0)
        return 2;
    char *path;
    char *dir = cli_state_dir(&o, &path);
    if (dir == NULL)
        return 1;
    char *error = NULL;
    json_t *calls = store_read_calls(path, (unsigned)recent, &error);
    free(path);
    cli_safe_json(calls); /* what the registry holds: no escape sequence reaches the terminal */
    if (calls == NULL) {
        fprintf(stderr, "codexmcp ps: %s\n", error);
        free(error);
        free(dir);
        return 1;
    }
    int64_t now = now_unix_ms();
    cli_style st;
    cli_style_init(&st, !json && cli_use_color(o.color));
    if (json)
        print_json(calls, now);
    else if (json_array_size(calls) == 0)
        printf("no calls recorded in %s\n", dir);
    else
        print_table(calls, now, &st);
    json_decref(calls);
    free(dir);
    return 0;
}
