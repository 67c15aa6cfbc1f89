/* codexmcp log: a session's transcripts as readable lines (cli_log.h). */
#include "cli_log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "events.h"
#include "limits.h"
#include "store.h"
#include "util.h"

static const char log_usage[] =
    "Usage: codexmcp log [-f] [--state-dir DIR] [--color WHEN] SESSION_ID\n"
    "\n"
    "A session's turns as readable lines, oldest first: the prompt, Codex's\n"
    "reasoning, each command with its exit code, file changes, messages and\n"
    "how the turn ended, from the transcripts in the state directory.\n"
    "SESSION_ID may be the start of one, if only one session's id starts so.\n"
    "\n"
    "  -f, --follow       follow the running call as it goes; exit when it ends\n" CLI_COMMON_HELP;

typedef struct {
    cli_style st;
    buf_t line;      /* a line being read */
    size_t skipping; /* bytes of a line too long to show, or 0 */
    json_t *started; /* ids of the commands whose start was shown */
    int saw_end;     /* the transcript's codexmcp.exit line */
} log_view;

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Prints text with `first` before its first line and `more` before each
 * other one, in colour `color`. */
static void lines(const log_view *v, const char *color, const char *first, const char *more,
                  const char *text)
{
    char *clean = cli_safe(text);
    const char *prefix = first;
    for (const char *p = clean;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        printf("%s%s%.*s%s\n", color, prefix, (int)n, p, *color ? v->st.reset : "");
        prefix = more;
        if (nl == NULL || nl[1] == '\0')
            break;
        p = nl + 1;
    }
    free(clean);
}

/* The last LOG_OUTPUT_LINES lines of a command's output, indented. */
static void output_tail(const log_view *v, const char *out)
{
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '\n')
        n--;
    if (n == 0)
        return;
    size_t from = n, count = 0;
    while (from > 0) {
        if (out[from - 1] == '\n' && ++count == LOG_OUTPUT_LINES)
            break;
        from--;
    }
    if (from > 0) {
        size_t skipped = 1;
        for (size_t i = 0; i + 1 < from; i++)
            skipped += out[i] == '\n';
        printf("%s  │ … %zu line%s before%s\n", v->st.dim, skipped, skipped == 1 ? "" : "s",
               v->st.reset);
    }
    char *tail = xstrndup(out + from, n - from);
    lines(v, v->st.dim, "  │ ", "  │ ", tail);
    free(tail);
}

static void show_command(log_view *v, json_t *item, int completed)
{
    const char *id = str(item, "id");
    const char *cmd = str(item, "command");
    char *shown = events_command_text(cmd ? cmd : "?");
    int was_shown = id && json_object_get(v->started, id) != NULL;
    if (!completed || !was_shown)
        lines(v, v->st.cyan, "$ ", "  ", shown);
    free(shown);
    if (!completed) {
        if (id)
            json_object_set_new(v->started, id, json_true());
        return;
    }
    if (id)
        json_object_del(v->started, id);
    const char *out = str(item, "aggregated_output");
    if (out)
        output_tail(v, out);
    json_t *code = json_object_get(item, "exit_code");
    const char *status = str(item, "status");
    if (json_is_integer(code)) {
        json_int_t c = json_integer_value(code);
        printf("  %sexit %lld%s\n", c == 0 ? v->st.green : v->st.red, (long long)c, v->st.reset);
    } else {
        printf("  %s%s%s\n", v->st.yellow, status ? status : "ended", v->st.reset);
    }
}

static void show_item(log_view *v, const char *phase, json_t *item)
{
    const char *type = str(item, "type");
    if (type == NULL)
        type = str(item, "item_type");
    if (type == NULL)
        return;
    int completed = strcmp(phase, "completed") == 0;
    if (strcmp(type, "command_execution") == 0) {
        if (completed || strcmp(phase, "started") == 0)
            show_command(v, item, completed);
        return;
    }
    if (!completed)
        return;
    const char *text = str(item, "text");
    if (strcmp(type, "agent_message") == 0 || strcmp(type, "assistant_message") == 0) {
        if (text) {
            printf("%scodex:%s\n", v->st.bold, v->st.reset);
            lines(v, "", "  ", "  ", text);
        }
    } else if (strcmp(type, "reasoning") == 0) {
        if (text)
            lines(v, v->st.dim, "· ", "  ", text);
    } else if (strcmp(type, "file_change") == 0) {
        size_t i;
        json_t *ch;
        json_array_foreach(json_object_get(item, "changes"), i, ch)
        {
            const char *kind = str(ch, "kind"), *path = str(ch, "path");
            printf("%s✎ %s %s%s\n", v->st.yellow, kind ? kind : "edit", path ? path : "?",
                   v->st.reset);
        }
    } else if (strcmp(type, "mcp_tool_call") == 0) {
        const char *server = str(item, "server"), *tool = str(item, "tool");
        const char *status = str(item, "status");
        printf("%s⚙ %s.%s%s%s%s\n", v->st.blue, server ? server : "?", tool ? tool : "?",
               status ? " · " : "", status ? status : "", v->st.reset);
    } else if (strcmp(type, "web_search") == 0) {
        const char *q = str(item, "query");
        printf("%s⌕ %s%s\n", v->st.blue, q ? q : "web search", v->st.reset);
    } else if (strcmp(type, "todo_list") == 0) {
        size_t i;
        json_t *todo;
        json_array_foreach(json_object_get(item, "items"), i, todo)
        {
            const char *t = str(todo, "text");
            printf("%s[%s] %s%s\n", v->st.dim,
                   json_is_true(json_object_get(todo, "completed")) ? "x" : " ", t ? t : "",
                   v->st.reset);
        }
    } else if (strcmp(type, "error") == 0) {
        const char *m = str(item, "message");
        printf("%s! %s%s\n", v->st.yellow, m ? m : "error", v->st.reset);
    }
}

static void show_usage(const log_view *v, json_t *usage)
{
    json_int_t in = json_integer_value(json_object_get(usage, "input_tokens"));
    json_int_t cached = json_integer_value(json_object_get(usage, "cached_input_tokens"));
    json_int_t out = json_integer_value(json_object_get(usage, "output_tokens"));
    printf("%s✓ turn completed · the session so far: %lld tokens in (%lld cached), %lld out%s\n",
           v->st.green, (long long)in, (long long)cached, (long long)out, v->st.reset);
}

/* One transcript line. */
static void show_line(log_view *v, const char *line, size_t len)
{
    if (blank_line(line, len))
        return;
    json_t *ev = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
    cli_safe_json(ev); /* codex's text: no escape sequence reaches the terminal */
    const char *type = str(ev, "type");
    if (type == NULL) {
        char *one = cli_line(line, 200);
        printf("%s? %s%s\n", v->st.dim, one, v->st.reset);
        free(one);
    } else if (strncmp(type, "item.", 5) == 0) {
        show_item(v, type + 5, json_object_get(ev, "item"));
    } else if (strcmp(type, "turn.completed") == 0) {
        show_usage(v, json_object_get(ev, "usage"));
    } else if (strcmp(type, "turn.failed") == 0) {
        const char *m = str(json_object_get(ev, "error"), "message");
        lines(v, v->st.red, "✗ turn failed: ", "  ", m ? m : "(no message)");
    } else if (strcmp(type, "error") == 0) {
        const char *m = str(ev, "message");
        int retry = m && events_is_reconnect(m);
        lines(v, retry ? v->st.dim : v->st.yellow, "! ", "  ", m ? m : "error");
    } else if (strcmp(type, "codexmcp.exit") == 0) {
        v->saw_end = 1;
        json_int_t status = json_integer_value(json_object_get(ev, "exit_status"));
        json_int_t sig = json_integer_value(json_object_get(ev, "signal"));
        const char *err = str(ev, "stderr");
        if (sig)
            printf("%scodex ended by signal %lld (%s)%s\n", v->st.red, (long long)sig,
                   signal_name((int)sig), v->st.reset);
        else if (status)
            printf("%scodex exited with status %lld%s\n", v->st.red, (long long)status,
                   v->st.reset);
        if ((sig || status) && err && *err) {
            char *tail = utf8_trimmed(err, strlen(err), 2000);
            lines(v, v->st.dim, "  stderr: ", "          ", tail);
            free(tail);
        }
    } else if (strcmp(type, "codexmcp.call") == 0 || strcmp(type, "thread.started") == 0 ||
               strcmp(type, "turn.started") == 0) {
        /* the turn's header says it */
    }
    json_decref(ev);
}

/* Feeds bytes of a transcript; complete lines are shown. */
static void feed(log_view *v, const char *data, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;
        if (v->skipping) {
            v->skipping += take;
        } else if (buf_append(&v->line, data, take) != 0) {
            v->skipping = v->line.len + take;
            buf_reset(&v->line);
        }
        if (nl == NULL)
            return;
        if (v->skipping) {
            printf("%s? a line of %zu bytes, not shown%s\n", v->st.dim, v->skipping, v->st.reset);
            v->skipping = 0;
        } else {
            show_line(v, v->line.data ? v->line.data : "", v->line.len);
        }
        buf_reset(&v->line);
        data += take + 1;
        n -= take + 1;
    }
}

/* A line the transcript ends with but no newline: shown as it is (the
 * end of a transcript cut short). */
static void flush_partial(log_view *v)
{
    if (v->line.len && !v->skipping)
        show_line(v, v->line.data, v->line.len);
    buf_reset(&v->line);
    v->skipping = 0;
}

/* Reads what fd has from where it is; -1 on a read error. */
static int read_all(log_view *v, int fd)
{
    char chunk[65536];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r > 0) {
            feed(v, chunk, (size_t)r);
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        return r == 0 ? 0 : -1;
    }
}

static void local_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (localtime_r(&t, &tm) == NULL || strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        (void)snprintf(out, 32, "%lld", (long long)ms);
}

static void show_header(const log_view *v, json_t *turn)
{
    char when[32];
    local_time(json_integer_value(json_object_get(turn, "started_ms")), when);
    const char *engine = str(turn, "engine");
    char *tool = one_line(str(turn, "tool") ? str(turn, "tool") : "?", 64);
    char *eng = engine ? one_line(engine, 64) : NULL;
    char *dir = one_line(str(turn, "cwd") ? str(turn, "cwd") : "?", 4096);
    char *cwd = cli_home_path(dir);
    printf("%s── turn %lld · %s · %s%s%s · %s%s\n", v->st.bold,
           (long long)json_integer_value(json_object_get(turn, "turn")), tool, when,
           eng ? " · " : "", eng ? eng : "", cwd, v->st.reset);
    free(tool);
    free(eng);
    free(dir);
    free(cwd);
    const char *prompt = str(turn, "prompt");
    if (prompt && *prompt) {
        /* The first LOG_PROMPT_LINES lines. */
        const char *p = prompt;
        size_t count = 0;
        while (*p && count < LOG_PROMPT_LINES) {
            const char *nl = strchr(p, '\n');
            p = nl ? nl + 1 : p + strlen(p);
            count++;
        }
        char *head = xstrndup(prompt, (size_t)(p - prompt));
        lines(v, v->st.bold, "> ", "> ", head);
        free(head);
        if (*p)
            printf("%s> …%s\n", v->st.bold, v->st.reset);
    }
}

/* How a turn ended, from the registry. */
static void show_end(const log_view *v, json_t *turn)
{
    const char *status = str(turn, "status");
    if (status == NULL || strcmp(status, "running") == 0)
        return;
    json_t *fin = json_object_get(turn, "finished_ms");
    char *took = json_is_integer(fin)
                     ? cli_duration(json_integer_value(fin) -
                                    json_integer_value(json_object_get(turn, "started_ms")))
                     : NULL;
    const char *err = str(turn, "error");
    const char *color = strcmp(status, "completed") == 0 ? v->st.green
                        : strcmp(status, "failed") == 0 || strcmp(status, "timed_out") == 0
                            ? v->st.red
                            : v->st.yellow;
    printf("%s── %s%s%s%s%s\n", color, status, took ? " in " : "", took ? took : "",
           err ? ": " : "", v->st.reset);
    if (err)
        lines(v, color, "   ", "   ", err);
    free(took);
}

/* Shows one turn's transcript from its start; with fd_out, the open file
 * is handed back to follow (else closed). */
static void show_turn(log_view *v, json_t *turn, int *fd_out)
{
    show_header(v, turn);
    const char *path = str(turn, "transcript");
    v->saw_end = 0;
    json_object_clear(v->started);
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0) {
        printf("%s(%s%s%s)%s\n", v->st.dim, path ? "the transcript " : "no transcript",
               path ? path : "", path ? " cannot be read" : "", v->st.reset);
    } else if (read_all(v, fd) != 0) {
        printf("%s(reading %s failed: %s)%s\n", v->st.dim, path, strerror(errno), v->st.reset);
    }
    if (fd_out && fd >= 0) {
        *fd_out = fd;
        return;
    }
    if (fd >= 0)
        close(fd);
    flush_partial(v);
    show_end(v, turn);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The server whose pid the registry holds is there. */
static int server_alive(json_int_t pid)
{
    return pid == (pid_t)pid && pid_alive((pid_t)pid);
}

/* -f: reads the running turn's transcript as it grows until the registry
 * says the call ended, or its server is gone, or the transcript ended and
 * the registry has not said so within FOLLOW_END_WAIT_MS (it may be
 * locked, or gone). A transcript cut shorter than what was read is read
 * again from its start. Returns the turn as last read. */
static json_t *follow(log_view *v, const char *db, const char *sid, json_int_t turn_id, int fd,
                      json_t *turn)
{
    json_int_t server = json_integer_value(json_object_get(turn, "server_pid"));
    unsigned since_check = 0, since_end = 0;
    for (;;) {
        struct stat st;
        off_t at = lseek(fd, 0, SEEK_CUR);
        if (fstat(fd, &st) == 0 && at > st.st_size) {
            printf("%s(the transcript was cut short: read again from its start)%s\n", v->st.dim,
                   v->st.reset);
            buf_reset(&v->line);
            v->skipping = 0;
            (void)lseek(fd, 0, SEEK_SET);
        }
        (void)read_all(v, fd);
        (void)fflush(stdout);
        sleep_ms(FOLLOW_READ_MS);
        since_check += FOLLOW_READ_MS;
        if (v->saw_end)
            since_end += FOLLOW_READ_MS;
        if (since_check < FOLLOW_CHECK_MS)
            continue;
        since_check = 0;
        char *error = NULL;
        json_t *s = store_read_session(db, sid, &error);
        free(error);
        cli_safe_json(s);
        size_t i;
        json_t *t, *now = NULL;
        json_array_foreach(json_object_get(s, "turns"), i, t)
        {
            if (json_integer_value(json_object_get(t, "id")) == turn_id)
                now = t;
        }
        const char *status = now ? str(now, "status") : NULL;
        int ended = status && strcmp(status, "running") != 0;
        if (ended || !server_alive(server) || since_end >= FOLLOW_END_WAIT_MS) {
            (void)read_all(v, fd); /* what came last */
            if (now) {
                json_decref(turn);
                turn = json_incref(now);
            }
            if (!ended) {
                /* The registry did not say: the server is gone, or its
                 * transcript ended without the registry's record. */
                json_object_set_new(turn, "status",
                                    json_string(server_alive(server) ? "ended" : "interrupted"));
            }
            json_decref(s);
            return turn;
        }
        json_decref(s);
    }
}

/* Lower case for what could be the start of a UUID (codex prints them so). */
static char *id_key(const char *id)
{
    char *k = xstrdup(id);
    for (char *p = k; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F') ||
              *p == '-')) {
            free(k);
            return xstrdup(id);
        }
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    }
    return k;
}

int cli_log_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"follow", no_argument, NULL, 'f'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int follow_it = 0, ended;
    cli_opts o = {"log", log_usage, NULL, COLOR_AUTO};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":fh", opts, NULL)) != -1) {
        if (c == 'f')
            follow_it = 1;
        else if (cli_common_option(&o, c, argv, &ended) < 0)
            return ended;
    }
    if (optind >= argc || argv[optind][0] == '\0') {
        fprintf(stderr, "codexmcp log: which session? give its SESSION_ID\n"
                        "Try 'codexmcp log --help'.\n");
        return 2;
    }
    if (cli_extra_arguments(&o, argc, argv, 1) != 0)
        return 2;
    char *db;
    char *dir = cli_state_dir(&o, &db);
    if (dir == NULL)
        return 1;
    char *key = id_key(argv[optind]);
    char *error = NULL;
    json_t *s = store_read_session(db, key, &error);
    cli_safe_json(s);
    int rc = 0;
    if (s == NULL || json_is_null(s)) {
        if (error)
            fprintf(stderr, "codexmcp log: %s\n", error);
        else
            fprintf(stderr,
                    "codexmcp log: no session %s in %s (codexmcp ps lists the recent ones)\n",
                    argv[optind], dir);
        rc = 1;
        goto done;
    }
    log_view v;
    memset(&v, 0, sizeof(v));
    cli_style_init(&v.st, cli_use_color(o.color));
    buf_init(&v.line, LOG_LINE_MAX);
    v.started = json_object();
    json_t *turns = json_object_get(s, "turns");
    size_t n = json_array_size(turns);
    if (n == 0)
        printf("session %s has no turns recorded\n", str(s, "SESSION_ID"));
    for (size_t i = 0; i < n; i++) {
        json_t *turn = json_array_get(turns, i);
        int last = i + 1 == n;
        const char *status = str(turn, "status");
        int running = status && strcmp(status, "running") == 0;
        int fd = -1;
        show_turn(&v, turn, follow_it && last && running ? &fd : NULL);
        if (fd >= 0) {
            (void)fflush(stdout);
            json_t *end =
                follow(&v, db, str(s, "SESSION_ID"),
                       json_integer_value(json_object_get(turn, "id")), fd, json_incref(turn));
            close(fd);
            flush_partial(&v);
            show_end(&v, end);
            json_decref(end);
        }
    }
    (void)fflush(stdout);
    buf_free(&v.line);
    json_decref(v.started);
done:
    json_decref(s);
    free(key);
    free(error);
    free(db);
    free(dir);
    return rc;
}
