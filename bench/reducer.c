/* Throughput of the codex event reducer (events.c): a recorded-shaped
 * `codex exec --json` stream of about 100 MiB, fed line by line to
 * events_feed, without and with keep_all, on one core.
 * The stream is generated once, deterministically, into
 * build/bench/stream-100mb.jsonl (or read from the file named on the
 * command line): a sequence of codex runs, each thread.started,
 * turn.started, reasoning, commands (item.started, item.completed with
 * outputs from a few bytes to a few hundred KiB), file changes, agent
 * messages and turn.completed with cumulative usage (REFERENCE.md §1). Each
 * run gets a fresh reducer state, as each call does in codexmcp.
 * Usage: build/bench/reducer [stream.jsonl]   (MB = 10^6 bytes) */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "util.h"

#define DEFAULT_STREAM "build/bench/stream-100mb.jsonl"
#define STREAM_TARGET_BYTES (100u * 1024u * 1024u)
#define RUNS 5
#define SEED 0x636f6465786d6370ull /* "codexmcp" */

/* ---- a deterministic generator (splitmix64) ---- */

static uint64_t rng_state = SEED;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static size_t rng_range(size_t lo, size_t hi)
{
    return lo + (size_t)(rng_next() % (uint64_t)(hi - lo + 1));
}

static int rng_pct(unsigned pct)
{
    return rng_next() % 100u < pct;
}

#define PICK(arr) (arr[rng_next() % (sizeof(arr) / sizeof(arr[0]))])

static const char *const words[] = {
    "parser",  "buffer",  "request", "session", "handler", "config", "result", "token",
    "stream",  "offset",  "length",  "timeout", "client",  "server", "value",  "error",
    "index",   "message", "schema",  "payload", "retry",   "cursor", "limit",  "budget",
    "the",     "a",       "of",      "to",      "in",      "and",    "is",     "for",
    "returns", "when",    "checks",  "should",  "fails",   "reads",  "writes", "keeps",
    "état",    "größe",   "naïve",   "→",       "✓",       "—",      "…",      "λ",
};
static const char *const dirs[] = {"src", "lib", "tests", "pkg/core", "internal/api", "app/models"};
static const char *const exts[] = {".c", ".h", ".py", ".ts", ".go", ".rs", ".md"};

static void add_words(buf_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *w = PICK(words);
        if (i)
            buf_append(b, " ", 1);
        buf_append(b, w, strlen(w));
    }
}

static void add_fmt(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_fmt(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    buf_append(b, s, strlen(s));
    free(s);
}

static void add_path(buf_t *b)
{
    add_fmt(b, "%s/%s_%zu%s", PICK(dirs), PICK(words), rng_range(0, 40), PICK(exts));
}

/* One line of command output in one of the shapes commands print: compiler
 * diagnostics, test runs, listings, source code, grep hits, JSON, colours. */
static void add_output_line(buf_t *b, unsigned style)
{
    switch (style) {
    case 0: /* compiler */
        add_path(b);
        add_fmt(b, ":%zu:%zu: %s: ", rng_range(1, 2000), rng_range(1, 80),
                rng_pct(70) ? "warning" : "error");
        add_words(b, rng_range(3, 10));
        add_fmt(b, " '%s' [-W%s]", PICK(words), PICK(words));
        break;
    case 1: /* test run, sometimes coloured */
        if (rng_pct(30))
            add_fmt(b, "\x1b[32mPASSED\x1b[0m ");
        else
            add_fmt(b, "%s ", rng_pct(90) ? "ok" : "FAIL");
        add_path(b);
        add_fmt(b, "::test_%s_%s[%zu] (%zu.%03zu s)", PICK(words), PICK(words), rng_range(0, 9),
                rng_range(0, 3), rng_range(0, 999));
        break;
    case 2: /* ls -la */
        add_fmt(b, "-rw-r--r--  1 u u %8zu Jan %2zu %02zu:%02zu ", rng_range(0, 999999),
                rng_range(1, 31), rng_range(0, 23), rng_range(0, 59));
        add_path(b);
        break;
    case 3: /* source code: indentation, quotes, backslashes */
        for (size_t i = rng_range(0, 3); i > 0; i--)
            buf_append(b, "\t", 1);
        add_fmt(b, "if (%s->%s != NULL && strcmp(%s, \"%s\\n\") == 0) { /* ", PICK(words),
                PICK(words), PICK(words), PICK(words));
        add_words(b, rng_range(2, 8));
        add_fmt(b, " */");
        break;
    case 4: /* grep -n */
        add_path(b);
        add_fmt(b, ":%zu:    ", rng_range(1, 3000));
        add_words(b, rng_range(4, 14));
        break;
    default: /* JSON or log records */
        add_fmt(b, "{\"level\":\"%s\",\"ts\":\"2025-01-%02zuT%02zu:%02zu:%02zu.%03zuZ\",\"msg\":\"",
                rng_pct(80) ? "info" : "warn", rng_range(1, 31), rng_range(0, 23), rng_range(0, 59),
                rng_range(0, 59), rng_range(0, 999));
        add_words(b, rng_range(3, 12));
        add_fmt(b, "\",\"n\":%zu}", rng_range(0, 100000));
        break;
    }
    buf_append(b, "\n", 1);
}

/* Output sizes as commands have them: mostly short, some pages, a few
 * whole files or logs of a few hundred KiB. */
static size_t output_size(void)
{
    unsigned r = (unsigned)(rng_next() % 100u);
    if (r < 8)
        return 0;
    if (r < 60)
        return rng_range(10, 2048);
    if (r < 85)
        return rng_range(2048, 32 * 1024);
    if (r < 97)
        return rng_range(32 * 1024, 128 * 1024);
    return rng_range(128 * 1024, 400 * 1024);
}

static char *make_output(size_t size)
{
    buf_t b;
    buf_init(&b, (size_t)-1 / 2);
    unsigned style = (unsigned)rng_range(0, 5);
    while (b.len < size) {
        if (rng_pct(10))
            style = (unsigned)rng_range(0, 5);
        add_output_line(&b, style);
    }
    return b.data ? b.data : xstrdup("");
}

static char *make_text(size_t min, size_t max, const char *heading)
{
    buf_t b;
    buf_init(&b, (size_t)-1 / 2);
    size_t size = rng_range(min, max);
    if (heading)
        add_fmt(&b, "**%s %s**\n\n", heading, PICK(words));
    while (b.len < size) {
        add_words(&b, rng_range(6, 20));
        buf_append(&b, rng_pct(20) ? ".\n\n" : ". ", rng_pct(20) ? 3 : 2);
        if (rng_pct(10)) {
            add_fmt(&b, "`");
            add_path(&b);
            add_fmt(&b, "` ");
        }
    }
    return b.data;
}

static char *make_command(void)
{
    buf_t b;
    buf_init(&b, (size_t)-1 / 2);
    add_fmt(&b, "/bin/bash -lc '");
    switch (rng_range(0, 5)) {
    case 0:
        add_fmt(&b, "rg -n \"%s\" %s", PICK(words), PICK(dirs));
        break;
    case 1:
        add_fmt(&b, "sed -n 1,%zup ", rng_range(40, 400));
        add_path(&b);
        break;
    case 2:
        add_fmt(&b, "make test 2>&1 | tail -n %zu", rng_range(20, 400));
        break;
    case 3:
        add_fmt(&b, "ls -la %s", PICK(dirs));
        break;
    case 4:
        add_fmt(&b, "git diff --stat && git diff -- %s", PICK(dirs));
        break;
    default:
        add_fmt(&b, "cat ");
        add_path(&b);
        break;
    }
    add_fmt(&b, "'");
    return b.data;
}

/* Writes one event as a line; returns its length with the newline. */
static size_t put_event(FILE *f, json_t *ev)
{
    char *line = json_dumps(ev, JSON_COMPACT);
    if (line == NULL) {
        fprintf(stderr, "reducer: could not encode an event\n");
        exit(1);
    }
    size_t n = strlen(line);
    if (fwrite(line, 1, n, f) != n || fputc('\n', f) == EOF) {
        fprintf(stderr, "reducer: write: %s\n", strerror(errno));
        exit(1);
    }
    free(line);
    json_decref(ev);
    return n + 1;
}

static json_t *item_event(const char *phase, json_t *item)
{
    return json_pack("{s:s, s:o}", "type", phase, "item", item);
}

/* One codex run of about `target` bytes; returns the bytes written. */
static size_t gen_run(FILE *f, size_t run, size_t target, json_int_t *tokens)
{
    size_t bytes = 0, item = 0;
    char thread[64];
    snprintf(thread, sizeof(thread), "01a20a14-%04zx-7%03zx-8%03zx-%012llx", run & 0xffff,
             run & 0xfff, (size_t)(rng_next() & 0xfff),
             (unsigned long long)(rng_next() & 0xffffffffffffull));
    bytes += put_event(f, json_pack("{s:s, s:s}", "type", "thread.started", "thread_id", thread));
    bytes += put_event(f, json_pack("{s:s}", "type", "turn.started"));
    while (bytes < target) {
        char id[32];
        if (rng_pct(70)) {
            snprintf(id, sizeof(id), "item_%zu", item++);
            char *text = make_text(80, 1500, "Checking");
            bytes += put_event(
                f, item_event("item.completed", json_pack("{s:s, s:s, s:s}", "id", id, "type",
                                                          "reasoning", "text", text)));
            free(text);
        }
        for (size_t k = rng_range(1, 3); k > 0; k--) {
            snprintf(id, sizeof(id), "item_%zu", item++);
            char *cmd = make_command();
            bytes += put_event(
                f, item_event("item.started",
                              json_pack("{s:s, s:s, s:s, s:s, s:n, s:s}", "id", id, "type",
                                        "command_execution", "command", cmd, "aggregated_output",
                                        "", "exit_code", "status", "in_progress")));
            char *out = make_output(output_size());
            int code = rng_pct(85) ? 0 : (int)rng_range(1, 2);
            bytes += put_event(f, item_event("item.completed",
                                             json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "id", id,
                                                       "type", "command_execution", "command", cmd,
                                                       "aggregated_output", out, "exit_code", code,
                                                       "status", code ? "failed" : "completed")));
            free(out);
            free(cmd);
        }
        if (rng_pct(15)) {
            snprintf(id, sizeof(id), "item_%zu", item++);
            json_t *changes = json_array();
            for (size_t k = rng_range(1, 4); k > 0; k--) {
                buf_t p;
                buf_init(&p, 4096);
                add_fmt(&p, "/home/u/proj/");
                add_path(&p);
                json_array_append_new(changes, json_pack("{s:s, s:s}", "path", p.data, "kind",
                                                         rng_pct(80) ? "update" : "add"));
                buf_free(&p);
            }
            bytes += put_event(
                f, item_event("item.started",
                              json_pack("{s:s, s:s, s:O, s:s}", "id", id, "type", "file_change",
                                        "changes", changes, "status", "in_progress")));
            bytes += put_event(
                f, item_event("item.completed",
                              json_pack("{s:s, s:s, s:o, s:s}", "id", id, "type", "file_change",
                                        "changes", changes, "status", "completed")));
        }
        if (rng_pct(10)) {
            snprintf(id, sizeof(id), "item_%zu", item++);
            char *text = make_text(60, 600, NULL);
            bytes += put_event(
                f, item_event("item.completed", json_pack("{s:s, s:s, s:s}", "id", id, "type",
                                                          "agent_message", "text", text)));
            free(text);
        }
    }
    char id[32];
    snprintf(id, sizeof(id), "item_%zu", item++);
    char *answer = make_text(300, 4000, "Summary:");
    bytes +=
        put_event(f, item_event("item.completed", json_pack("{s:s, s:s, s:s}", "id", id, "type",
                                                            "agent_message", "text", answer)));
    free(answer);
    *tokens += (json_int_t)(bytes / 4);
    bytes += put_event(f, json_pack("{s:s, s:{s:I, s:I, s:i, s:I, s:I}}", "type", "turn.completed",
                                    "usage", "input_tokens", *tokens, "cached_input_tokens",
                                    *tokens / 2, "cache_write_input_tokens", 0, "output_tokens",
                                    (json_int_t)item * 40, "reasoning_output_tokens",
                                    (json_int_t)item * 25));
    return bytes;
}

static void generate(const char *path)
{
    char *tmp = xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        fprintf(stderr, "reducer: %s: %s (run from the repository root)\n", tmp, strerror(errno));
        exit(1);
    }
    size_t total = 0, runs = 0;
    json_int_t tokens = 0;
    while (total < STREAM_TARGET_BYTES) {
        size_t target = rng_range(1u << 20, 8u << 20);
        if (total + target > STREAM_TARGET_BYTES)
            target = STREAM_TARGET_BYTES - total;
        total += gen_run(f, runs++, target, &tokens);
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "reducer: writing %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fprintf(stderr, "reducer: wrote %s: %zu bytes, %zu codex runs\n", path, total, runs);
    free(tmp);
}

/* ---- the measurement ---- */

typedef struct {
    char *data;
    size_t len;
    size_t *starts, *lens; /* each line without its newline */
    size_t lines;
} stream_t;

static void stream_load(stream_t *s, const char *path)
{
    memset(s, 0, sizeof(*s));
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        fprintf(stderr, "reducer: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    s->len = (size_t)sb.st_size;
    s->data = xmalloc(s->len + 1);
    for (size_t got = 0; got < s->len;) {
        ssize_t n = read(fd, s->data + got, s->len - got);
        if (n <= 0) {
            fprintf(stderr, "reducer: read %s: %s\n", path, n ? strerror(errno) : "short");
            exit(1);
        }
        got += (size_t)n;
    }
    close(fd);
    size_t cap = 1024;
    s->starts = xmalloc(cap * sizeof(size_t));
    s->lens = xmalloc(cap * sizeof(size_t));
    for (size_t at = 0; at < s->len;) {
        const char *nl = memchr(s->data + at, '\n', s->len - at);
        size_t end = nl ? (size_t)(nl - s->data) : s->len;
        if (s->lines == cap) {
            cap *= 2;
            s->starts = xrealloc(s->starts, cap * sizeof(size_t));
            s->lens = xrealloc(s->lens, cap * sizeof(size_t));
        }
        s->starts[s->lines] = at;
        s->lens[s->lines++] = end - at;
        at = end + 1;
    }
}

typedef struct {
    size_t events, descriptions, description_bytes, runs, completed;
} tally_t;

static int is_thread_started(const char *line, size_t len)
{
    static const char p[] = "{\"type\":\"thread.started\"";
    return len >= sizeof(p) - 1 && memcmp(line, p, sizeof(p) - 1) == 0;
}

static void state_end(events_state *st, tally_t *t)
{
    t->events += st->events;
    t->completed += st->terminal == EV_COMPLETED;
    events_free(st);
}

/* mode 0: keep_all off, 1: on, 2: jansson's parse alone (the floor). */
static double feed(const stream_t *s, int mode, tally_t *t)
{
    memset(t, 0, sizeof(*t));
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    events_state st;
    events_init(&st, mode == 1, NULL);
    for (size_t i = 0; i < s->lines; i++) {
        const char *line = s->data + s->starts[i];
        size_t len = s->lens[i];
        if (mode == 2) {
            json_error_t e;
            json_decref(json_loadb(line, len, JSON_ALLOW_NUL, &e));
            continue;
        }
        if (is_thread_started(line, len) && st.events > 0) { /* a new call, a new state */
            state_end(&st, t);
            events_init(&st, mode == 1, NULL);
            t->runs++;
        }
        char *d = events_feed(&st, line, len);
        if (d) {
            t->descriptions++;
            t->description_bytes += strlen(d);
            free(d);
        }
    }
    state_end(&st, t);
    t->runs++;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void measure(const stream_t *s, int mode, const char *name)
{
    tally_t t;
    feed(s, mode, &t); /* warm-up: caches, page faults, malloc arenas */
    double secs[RUNS];
    for (int r = 0; r < RUNS; r++)
        secs[r] = feed(s, mode, &t);
    qsort(secs, RUNS, sizeof(secs[0]), cmp_double);
    double mb = (double)s->len / 1e6;
    printf("%-28s median %7.1f MB/s  (min %.1f, max %.1f; %.3f s per pass)\n", name,
           mb / secs[RUNS / 2], mb / secs[RUNS - 1], mb / secs[0], secs[RUNS / 2]);
    if (mode != 2)
        printf("%-28s %zu events in %zu runs (%zu completed), %zu descriptions (%zu bytes)\n", "",
               t.events, t.runs, t.completed, t.descriptions, t.description_bytes);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : DEFAULT_STREAM;
    if (argc > 2) {
        fprintf(stderr, "usage: %s [stream.jsonl]\n", argv[0]);
        return 2;
    }
    if (argc == 1 && access(path, R_OK) != 0) {
        if (mkdir_private("build/bench") != 0) {
            fprintf(stderr, "reducer: build/bench: %s (run from the repository root)\n",
                    strerror(errno));
            return 1;
        }
        generate(path);
    }
    /* One core: the reducer is single-threaded; pinning keeps the figure
     * from a migration's cold caches. */
    int cpu = sched_getcpu();
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu < 0 ? 0 : cpu, &set);
    int pinned = sched_setaffinity(0, sizeof(set), &set) == 0;

    stream_t s;
    stream_load(&s, path);
    printf("stream %s: %zu bytes (%.1f MB), %zu lines; %s; median of %d passes after a warm-up\n",
           path, s.len, (double)s.len / 1e6, s.lines, pinned ? "pinned to one CPU" : "not pinned",
           RUNS);
    measure(&s, 0, "events_feed, keep_all off:");
    measure(&s, 1, "events_feed, keep_all on:");
    measure(&s, 2, "json_loadb alone (floor):");
    free(s.data);
    free(s.starts);
    free(s.lens);
    return 0;
}
