/* codexmcp doctor (doctor.h). */
#include "doctor.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "launcher.h"
#include "limits.h"
#include "proctree.h"
#include "store.h"
#include "util.h"
#include "version.h"

/* While a codex runs, how often doctor looks whether it has exited. */
#define EXIT_POLL_MS 50
/* After it exited, how long what it left in its pipes is read (a process
 * it started may hold them open). */
#define DRAIN_MS 200

typedef struct {
    cli_style st;
    int failed, warned;
} report;

/* One check's line: mark is '+' (✓), '!' or 'x' (✗); fix may be NULL. */
static void line(report *r, char mark, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void line(report *r, char mark, const char *fix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = xvasprintf(fmt, ap);
    va_end(ap);
    const char *sym = mark == '+' ? "✓" : mark == '!' ? "!" : "✗";
    const char *color = mark == '+' ? r->st.green : mark == '!' ? r->st.yellow : r->st.red;
    printf("%s%s%s %s\n", color, sym, r->st.reset, text);
    if (fix)
        printf("  %sfix:%s %s\n", r->st.bold, r->st.reset, fix);
    free(text);
    if (mark == 'x')
        r->failed++;
    else if (mark == '!')
        r->warned++;
}

/* ---- running codex ---- */

typedef struct {
    char *out, *err; /* NUL-terminated, at most DOCTOR_OUTPUT_MAX each */
    size_t out_len, err_len;
    int status; /* waitpid's */
    int timed_out;
    int spawn_error; /* errno of posix_spawn (or pipe2), or 0 */
    unsigned limit_ms;
    int64_t ms; /* how long it took */
} run_result;

/* Whether what came on stdout is all that was awaited (then stdin closes). */
typedef int (*run_done_fn)(const char *out, size_t len, void *ctx);

static void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
    if (*len + n > DOCTOR_OUTPUT_MAX)
        n = DOCTOR_OUTPUT_MAX - *len;
    *buf = xrealloc(*buf, *len + n + 1);
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SIGINT, SIGTERM or SIGHUP while a codex runs: it and everything it
 * started go, then doctor exits as the signal asks. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

/* Every process doctor started, and every one they started: doctor is a
 * subreaper, so a codex's daemon (setsid and all) is its descendant too.
 * Killed and reaped. */
static void end_descendants(void)
{
    for (int round = 0; round < 5; round++) {
        size_t n = proctree_signal_descendants((int)getpid(), SIGKILL, 0);
        while (waitpid(-1, NULL, n ? 0 : WNOHANG) > 0)
            ;
        if (n == 0)
            break;
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Runs argv in its own process group with envp, writes `input` (or
 * nothing) to its stdin, and reads its stdout and stderr until it has
 * exited and its pipes are drained, or `done` says stdout has what was
 * awaited (stdin is then closed, and it has DOCTOR_EXIT_WAIT_MS to exit), or
 * `limit_ms` passes (timed_out). Whatever of it is left then is killed:
 * its group and every descendant. */
static void run(char *const argv[], char *const envp[], const char *input, unsigned limit_ms,
                run_done_fn done, void *ctx, run_result *r)
{
    memset(r, 0, sizeof(*r));
    r->limit_ms = limit_ms;
    r->out = xstrdup("");
    r->err = xstrdup("");
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        r->spawn_error = errno;
        for (int i = 0; i < 2; i++) {
            close_fd(&in[i]);
            close_fd(&out[i]);
            close_fd(&err[i]);
        }
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setpgroup(&at, 0);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    /* SIGPIPE is ignored here: the child gets the default back. */
    sigset_t dflt;
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    sigaddset(&dflt, SIGINT);
    sigaddset(&dflt, SIGTERM);
    sigaddset(&dflt, SIGHUP);
    posix_spawnattr_setsigdefault(&at, &dflt);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int64_t start = mono_ms();
    r->spawn_error = posix_spawn(&pid, argv[0], &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&err[1]);
    if (r->spawn_error) {
        close_fd(&in[1]);
        close_fd(&out[0]);
        close_fd(&err[0]);
        return;
    }
    if (input)
        (void)!write(in[1], input, strlen(input)); /* small: fits the pipe */
    else
        close_fd(&in[1]);
    int64_t deadline = start + limit_ms, closed_at = -1, exited_at = -1;
    int exited = 0;
    struct pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    while ((p[0].fd >= 0 || p[1].fd >= 0) && !stop_signal) {
        int64_t now = mono_ms();
        if (!exited && waitpid(pid, &r->status, WNOHANG) == pid) {
            exited = 1;
            exited_at = now;
        }
        if (exited && now >= exited_at + DRAIN_MS)
            break; /* what holds the pipes now is not the codex asked */
        if (closed_at >= 0 && now >= closed_at + DOCTOR_EXIT_WAIT_MS)
            break; /* it answered; it does not exit: killed below */
        if (now >= deadline) {
            r->timed_out = 1;
            break;
        }
        int n = poll(p, 2, EXIT_POLL_MS);
        for (int i = 0; i < 2 && n > 0; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char chunk[65536];
            ssize_t got = read(p[i].fd, chunk, sizeof(chunk));
            if (got > 0 && i == 0)
                append(&r->out, &r->out_len, chunk, (size_t)got);
            else if (got > 0)
                append(&r->err, &r->err_len, chunk, (size_t)got);
            else if (got == 0 || errno != EINTR)
                close_fd(&p[i].fd);
        }
        if (in[1] >= 0 && done && done(r->out, r->out_len, ctx)) {
            close_fd(&in[1]);
            closed_at = mono_ms();
        }
    }
    close_fd(&in[1]);
    close_fd(&p[0].fd);
    close_fd(&p[1].fd);
    if (!exited) {
        /* Its pipes closed, its time is up, or a signal came: a last look,
         * then the group goes. */
        for (int64_t until = mono_ms() + (r->timed_out || stop_signal ? 0 : DOCTOR_EXIT_WAIT_MS);
             ;) {
            if (waitpid(pid, &r->status, WNOHANG) == pid) {
                exited = 1;
                break;
            }
            if (mono_ms() >= until)
                break;
            struct timespec ts = {0, EXIT_POLL_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (!exited) {
            kill(-pid, SIGKILL);
            while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
                ;
        }
    }
    kill(-pid, SIGKILL);
    end_descendants();
    r->ms = mono_ms() - start;
}

/* The environment a call gives codex: ours, with the launcher's changes. */
static char **call_env(const codex_cmd *cmd)
{
    size_t n = 0, extra = 0;
    while (environ[n])
        n++;
    for (char **e = cmd->env_set; e && *e; e++)
        extra++;
    char **env = xcalloc(n + extra + 1, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        int drop = 0;
        for (const char *const *u = cmd->env_unset; u && *u && !drop; u++)
            drop = strlen(*u) == len && strncmp(*u, environ[i], len) == 0;
        for (char **s = cmd->env_set; s && *s && !drop; s++)
            drop = strncmp(*s, environ[i], len) == 0 && (*s)[len] == '=';
        if (!drop)
            env[k++] = environ[i];
    }
    for (char **s = cmd->env_set; s && *s; s++)
        env[k++] = *s;
    env[k] = NULL;
    return env;
}

static const char *status_text(const run_result *r, char *buf, size_t n)
{
    if (r->timed_out)
        (void)snprintf(buf, n, "did not finish within %.0f s", (double)r->limit_ms / 1000);
    else if (WIFSIGNALED(r->status))
        (void)snprintf(buf, n, "was killed by signal %d (%s)", WTERMSIG(r->status),
                       signal_name(WTERMSIG(r->status)));
    else
        (void)snprintf(buf, n, "exited with status %d", WEXITSTATUS(r->status));
    return buf;
}

static int ran_ok(const run_result *r)
{
    return !r->spawn_error && !r->timed_out && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

/* ---- the checks ---- */

typedef struct {
    const doctor_config *c;
    report r;
    char *found;      /* codex as found, or NULL */
    codex_cmd cmd;    /* what a call runs */
    char **env;       /* the environment a call gives it */
    int usable;       /* codex runs and says its version */
    char *version;    /* "0.169.0" */
    char *secrets[3]; /* credentials in the environment: never printed */
} doctor;

/* text with every credential doctor knows of, and anything shaped like an
 * OpenAI key ("sk-" and 16 more), replaced (in place). */
static void redact(const doctor *d, char *text)
{
    static const char mark[] = "[redacted]";
    for (size_t i = 0; i < sizeof(d->secrets) / sizeof(d->secrets[0]); i++) {
        const char *sec = d->secrets[i];
        size_t n = sec ? strlen(sec) : 0;
        if (n < 4)
            continue;
        for (char *p = strstr(text, sec); p; p = strstr(p, sec)) {
            size_t m = n < sizeof(mark) - 1 ? n : sizeof(mark) - 1;
            memcpy(p, mark, m);
            memmove(p + m, p + n, strlen(p + n) + 1);
            p += m;
        }
    }
    static const char key[] = "sk-…";
    for (char *p = strstr(text, "sk-"); p; p = strstr(p + 1, "sk-")) {
        size_t n = 3;
        while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
               (p[n] >= '0' && p[n] <= '9') || p[n] == '-' || p[n] == '_')
            n++;
        if (n >= 19) {
            memcpy(p, key, sizeof(key) - 1);
            memmove(p + sizeof(key) - 1, p + n, strlen(p + n) + 1);
        }
    }
}

/* Text codex printed, as a report line may show it: one line, safe for a
 * terminal, no credential. */
static char *shown(const doctor *d, const char *text, size_t max)
{
    char *out = cli_line(text, max);
    redact(d, out);
    return out;
}

/* The first line of a command's stderr (or stdout), for a ✗ line. */
static char *said(const doctor *d, const run_result *r)
{
    const char *s = r->err_len ? r->err : r->out;
    /* codex's harmless warnings come first: skip them */
    while (strncmp(s, "WARNING:", 8) == 0 && strchr(s, '\n'))
        s = strchr(s, '\n') + 1;
    return shown(d, *s ? s : "(nothing)", 300);
}

static int is_launcher(const char *path)
{
    char *real = realpath(path, NULL);
    const char *base = real ? strrchr(real, '/') : NULL;
    int yes = base && strcmp(base + 1, "codex.js") == 0;
    free(real);
    return yes;
}

static int is_elf(const char *path)
{
    char magic[4] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, magic, 4) : -1;
    if (fd >= 0)
        close(fd);
    return n == 4 && memcmp(magic, "\177ELF", 4) == 0;
}

static void check_found(doctor *d)
{
    const char *name = d->c->codex ? d->c->codex : "codex";
    d->found = child_find_executable(name);
    if (d->found == NULL) {
        const char *fix = "install it with `npm i -g @openai/codex`, or point codexmcp at it with "
                          "--codex PATH or CODEXMCP_CODEX";
        if (strchr(name, '/'))
            line(&d->r, 'x', fix, "codex: no executable file at %s", name);
        else
            line(&d->r, 'x', fix, "codex: no `codex` on PATH");
        return;
    }
    launcher_resolve(d->found, d->c->native, &d->cmd);
    d->env = call_env(&d->cmd);
    if (d->cmd.native)
        line(&d->r, '+', NULL, "codex: %s, the npm launcher; calls run its native binary %s",
             d->found, d->cmd.path);
    else if (is_launcher(d->found) && d->c->native)
        line(&d->r, '!',
             "reinstall it (`npm i -g @openai/codex`) so its platform package is there; codexmcp "
             "then runs the native binary directly",
             "codex: %s, the npm launcher; its native binary was not found, so each call starts "
             "Node first",
             d->found);
    else if (is_launcher(d->found))
        line(&d->r, '+', NULL,
             "codex: %s, the npm launcher (--no-native-codex: calls run it as it is)", d->found);
    else
        line(&d->r, '+', NULL, "codex: %s, %s", d->found,
             is_elf(d->found) ? "a native binary" : "an executable that is not the npm launcher");
}

/* "codex-cli 0.169.0" → "0.169.0": the last word that starts with a digit
 * and has a dot. */
static char *version_of(const char *out)
{
    char *copy = xstrdup(out), *save = NULL, *v = NULL;
    for (char *w = strtok_r(copy, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save))
        if (w[0] >= '0' && w[0] <= '9' && strchr(w, '.') &&
            strspn(w, "0123456789.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+-") ==
                strlen(w)) {
            free(v);
            v = xstrdup(w);
        }
    free(copy);
    return v;
}

static void check_version(doctor *d)
{
    char *argv[] = {d->cmd.path, "--version", NULL};
    run_result r;
    run(argv, d->env, NULL, DOCTOR_QUICK_MS, NULL, NULL, &r);
    char why[128];
    if (r.spawn_error) {
        line(&d->r, 'x', "check that the file is a codex binary it can run, or reinstall codex",
             "codex --version: cannot run %s: %s", d->cmd.path, strerror(r.spawn_error));
    } else if (!ran_ok(&r)) {
        char *s = said(d, &r);
        line(&d->r, 'x', "reinstall codex (`npm i -g @openai/codex@" CODEX_TESTED_VERSION "`)",
             "codex --version %s: %s", status_text(&r, why, sizeof(why)), s);
        free(s);
    } else if ((d->version = version_of(r.out)) == NULL) {
        char *s = shown(d, r.out, 200);
        line(&d->r, 'x', "point --codex at the Codex CLI (`npm i -g @openai/codex`)",
             "codex --version printed no version: \"%s\"", s);
        free(s);
    } else {
        d->usable = 1;
        if (strcmp(d->version, CODEX_TESTED_VERSION) == 0)
            line(&d->r, '+', NULL, "codex version %s: codexmcp is tested with it", d->version);
        else
            line(&d->r, '!',
                 "the checks below say whether it still fits; `npm i -g "
                 "@openai/codex@" CODEX_TESTED_VERSION "` installs the tested one",
                 "codex version %s: codexmcp is tested with " CODEX_TESTED_VERSION, d->version);
    }
    run_free(&r);
}

/* Whether help text lists --flag (not as the start of a longer one). */
static int lists_flag(const char *help, const char *flag)
{
    size_t n = strlen(flag);
    for (const char *p = strstr(help, flag); p; p = strstr(p + 1, flag)) {
        char after = p[n];
        int starts = p == help || strchr(" \t,\n[", p[-1]) != NULL;
        if (starts && (after == '\0' || !(after == '-' || (after >= 'a' && after <= 'z'))))
            return 1;
    }
    return 0;
}

static void check_exec(doctor *d)
{
    static const struct {
        const char *sub; /* NULL: exec itself */
        const char *flags[10];
    } needs[] = {
        {NULL,
         {"--json", "--sandbox", "--cd", "--skip-git-repo-check", "--model", "--profile",
          "--config", "--image", "--dangerously-bypass-approvals-and-sandbox", NULL}},
        {"resume", {"--image", NULL}},
        {"review", {"--uncommitted", "--base", "--commit", "--title", NULL}},
    };
    buf_t missing;
    buf_init(&missing, 4096);
    char *broken = NULL;
    for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]) && broken == NULL; i++) {
        char *argv[5] = {d->cmd.path, "exec", NULL, NULL, NULL};
        argv[2] = needs[i].sub ? (char *)needs[i].sub : "--help";
        argv[3] = needs[i].sub ? "--help" : NULL;
        run_result r;
        run(argv, d->env, NULL, DOCTOR_QUICK_MS, NULL, NULL, &r);
        if (!ran_ok(&r)) {
            char why[128];
            char *s = said(d, &r);
            broken = xasprintf("codex exec %s--help %s: %s", needs[i].sub ? needs[i].sub : "",
                               status_text(&r, why, sizeof(why)), s);
            free(s);
        } else {
            for (const char *const *f = needs[i].flags; *f; f++) {
                if (lists_flag(r.out, *f))
                    continue;
                char *part =
                    xasprintf("%s%s%s%s", missing.len ? ", " : "", needs[i].sub ? needs[i].sub : "",
                              needs[i].sub ? " " : "", *f);
                buf_append(&missing, part, strlen(part));
                free(part);
            }
        }
        run_free(&r);
    }
    const char *fix = "install the tested codex: `npm i -g @openai/codex@" CODEX_TESTED_VERSION "`";
    int exec_needed = d->c->engine != ENGINE_APPSERVER;
    char mark = (char)(exec_needed ? 'x' : '!');
    if (broken)
        line(&d->r, mark, fix, "%s", broken);
    else if (missing.len)
        line(&d->r, mark, fix, "codex exec does not accept %s, which codexmcp passes",
             missing.data);
    else
        line(&d->r, '+', NULL, "codex exec accepts every flag codexmcp passes");
    free(broken);
    buf_free(&missing);
}

/* The app-server's methods the engine sends (engine_appserver.c). */
static const char *const as_methods[] = {
    "thread/start",   "thread/resume",      "turn/start",
    "turn/interrupt", "thread/unsubscribe", "thread/backgroundTerminals/clean",
};
#define AS_PROBES (sizeof(as_methods) / sizeof(as_methods[0]))

/* The app-server's answers to the requests (ids 1 to 1 + AS_PROBES), by
 * id - 1, read as its lines come (each line once). */
typedef struct {
    json_t *answers;
    size_t parsed; /* bytes of stdout already read as lines */
    size_t got;
} as_probe;

static int as_done(const char *out, size_t len, void *ctx)
{
    as_probe *pr = ctx;
    while (pr->parsed < len) {
        const char *p = out + pr->parsed;
        const char *nl = memchr(p, '\n', len - pr->parsed);
        if (nl == NULL)
            break;
        json_t *msg = json_loadb(p, (size_t)(nl - p), 0, NULL);
        json_t *id = json_object_get(msg, "id");
        if (json_is_integer(id) && json_integer_value(id) >= 1 &&
            json_integer_value(id) <= (json_int_t)AS_PROBES + 1) {
            size_t k = (size_t)json_integer_value(id) - 1;
            if (json_is_null(json_array_get(pr->answers, k))) {
                pr->got++;
                json_array_set(pr->answers, k, msg);
            }
        }
        json_decref(msg);
        pr->parsed = (size_t)(nl - out) + 1;
    }
    return pr->got == AS_PROBES + 1;
}

static void check_appserver(doctor *d)
{
    if (d->c->engine == ENGINE_EXEC) {
        line(&d->r, '+', NULL, "codex app-server: not used (--engine exec)");
        return;
    }
    /* A known method refuses params of the wrong type ("invalid type");
     * one the app-server does not know is an "unknown variant". Nothing
     * runs either way. */
    buf_t in;
    buf_init(&in, 65536);
    json_t *init =
        json_pack("{s:i, s:s, s:{s:{s:s, s:s, s:s}, s:{s:b}}}", "id", 1, "method", "initialize",
                  "params", "clientInfo", "name", "codexmcp", "title", "codexmcp doctor", "version",
                  CODEXMCP_VERSION, "capabilities", "experimentalApi", 1);
    char *text = json_dumps(init, JSON_COMPACT);
    buf_append(&in, text, strlen(text));
    buf_append(&in, "\n{\"method\":\"initialized\"}\n", 26);
    free(text);
    json_decref(init);
    for (size_t i = 0; i < AS_PROBES; i++) {
        char *probe =
            xasprintf("{\"id\":%zu,\"method\":\"%s\",\"params\":7}\n", i + 2, as_methods[i]);
        buf_append(&in, probe, strlen(probe));
        free(probe);
    }
    char *argv[] = {d->cmd.path, "app-server", NULL};
    as_probe pr = {json_array(), 0, 0};
    for (size_t i = 0; i <= AS_PROBES; i++)
        json_array_append_new(pr.answers, json_null());
    json_t *answers = pr.answers;
    run_result r;
    run(argv, d->env, in.data, DOCTOR_APPSERVER_MS, as_done, &pr, &r);
    buf_free(&in);
    (void)as_done(r.out, r.out_len, &pr);
    char mark = (char)(d->c->engine == ENGINE_APPSERVER ? 'x' : '!');
    const char *fix_auto =
        d->c->engine == ENGINE_APPSERVER
            ? "use --engine auto (it falls back to exec) or install the tested "
              "codex: `npm i -g @openai/codex@" CODEX_TESTED_VERSION "`"
            : "calls fall back to `codex exec` (slower); install the tested "
              "codex for the app-server: `npm i -g @openai/codex@" CODEX_TESTED_VERSION "`";
    json_t *init_answer = json_array_get(answers, 0);
    json_t *result = json_object_get(init_answer, "result");
    if (!json_is_object(result)) {
        const char *err =
            json_string_value(json_object_get(json_object_get(init_answer, "error"), "message"));
        if (err) {
            char *e = shown(d, err, 300);
            line(&d->r, mark, fix_auto, "codex app-server refused initialize: %s", e);
            free(e);
        } else if (r.spawn_error) {
            line(&d->r, mark, fix_auto, "codex app-server could not start: %s",
                 strerror(r.spawn_error));
        } else {
            char why[128];
            char *s = said(d, &r);
            line(&d->r, mark, fix_auto, "codex app-server did not answer initialize: it %s: %s",
                 status_text(&r, why, sizeof(why)), s);
            free(s);
        }
    } else {
        buf_t missing, silent;
        buf_init(&missing, 4096);
        buf_init(&silent, 4096);
        for (size_t i = 0; i < AS_PROBES; i++) {
            json_t *a = json_array_get(answers, i + 1);
            const char *m =
                json_string_value(json_object_get(json_object_get(a, "error"), "message"));
            buf_t *b = json_is_null(a)                             ? &silent
                       : m && strstr(m, "unknown variant") != NULL ? &missing
                                                                   : NULL;
            if (b == NULL)
                continue;
            if (b->len)
                buf_append(b, ", ", 2);
            buf_append(b, as_methods[i], strlen(as_methods[i]));
        }
        if (missing.len)
            line(&d->r, mark, fix_auto,
                 "codex app-server answers initialize but does not know %s, which the engine "
                 "sends",
                 missing.data);
        else if (silent.len)
            line(&d->r, mark, fix_auto,
                 "codex app-server answers initialize but did not answer %s within %u s",
                 silent.data, DOCTOR_APPSERVER_MS / 1000);
        else
            line(&d->r, '+', NULL,
                 "codex app-server answers initialize (in %lld ms) and knows the %zu methods the "
                 "engine sends",
                 (long long)r.ms, AS_PROBES);
        buf_free(&missing);
        buf_free(&silent);
    }
    json_decref(answers);
    run_free(&r);
}

/* CODEX_HOME: the variable, else ~/.codex. */
static char *codex_home(void)
{
    const char *v = getenv("CODEX_HOME");
    if (v && *v)
        return xstrdup(v);
    v = getenv("HOME");
    return v && *v ? xasprintf("%s/.codex", v) : NULL;
}

/* The value of `key = "..."` in a TOML line (new string), or NULL. */
static char *toml_string(const char *line, const char *key)
{
    size_t n = strlen(key);
    while (*line == ' ' || *line == '\t')
        line++;
    if (strncmp(line, key, n) != 0)
        return NULL;
    const char *p = line + n;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p++ != '=')
        return NULL;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '"' && *p != '\'')
        return strncmp(p, "true", 4) == 0 ? xstrdup("true") : NULL;
    const char *end = strchr(p + 1, *p);
    return end ? xstrndup(p + 1, (size_t)(end - p - 1)) : NULL;
}

/* config.toml's top-level model_provider, and that provider's env_key
 * and requires_openai_auth: enough to know what a call authenticates
 * with. */
typedef struct {
    char *provider, *env_key;
    int openai_auth;
} provider_info;

static void read_provider(const char *home, provider_info *p)
{
    memset(p, 0, sizeof(*p));
    char *path = xasprintf("%s/config.toml", home);
    FILE *f = fopen(path, "r");
    free(path);
    if (f == NULL)
        return;
    char buf[4096], table[512] = "";
    while (fgets(buf, sizeof(buf), f)) {
        const char *s = buf;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '[') {
            size_t n = strcspn(s, "\r\n");
            if (n >= sizeof(table))
                n = sizeof(table) - 1;
            memcpy(table, s, n);
            table[n] = '\0';
            continue;
        }
        char *v;
        if (table[0] == '\0' && p->provider == NULL && (v = toml_string(s, "model_provider")))
            p->provider = v;
        if (strncmp(table, "[model_providers.", 17) == 0) {
            /* kept per table: matched against the provider at the end */
            char *key = toml_string(s, "env_key");
            char *auth = toml_string(s, "requires_openai_auth");
            if (key || auth) {
                char *name = xstrndup(table + 17, strcspn(table + 17, "]"));
                if (p->provider == NULL || strcmp(name, p->provider) == 0) {
                    if (key) {
                        free(p->env_key);
                        p->env_key = key;
                        key = NULL;
                    }
                    if (auth)
                        p->openai_auth = strcmp(auth, "true") == 0;
                }
                free(name);
            }
            free(key);
            free(auth);
        }
    }
    (void)fclose(f);
}

static void check_home_and_credentials(doctor *d)
{
    char *home = codex_home();
    struct stat st;
    const char *env_home = getenv("CODEX_HOME");
    const char *from = env_home && *env_home ? "CODEX_HOME" : "~/.codex";
    if (home == NULL) {
        line(&d->r, 'x', "set CODEX_HOME or HOME", "CODEX_HOME: not set, and there is no HOME");
        return;
    }
    if (stat(home, &st) != 0 || !S_ISDIR(st.st_mode)) {
        char *fix = xasprintf("create it (`mkdir -p %s`) and log in with `codex login`", home);
        line(&d->r, 'x', fix, "CODEX_HOME (%s): %s is not a directory; codex refuses to start",
             from, home);
        free(fix);
        free(home);
        return;
    }
    line(&d->r, '+', NULL, "CODEX_HOME (%s): %s", from, home);

    provider_info p;
    read_provider(home, &p);
    int custom = p.provider && strcmp(p.provider, "openai") != 0;
    char *name = p.provider ? cli_line(p.provider, 80) : NULL;
    char *key = p.env_key ? cli_line(p.env_key, 80) : NULL;
    const char *codex_key = getenv("CODEX_API_KEY"), *openai_key = getenv("OPENAI_API_KEY");
    if (custom && !p.openai_auth) {
        if (key && !(getenv(p.env_key) && *getenv(p.env_key))) {
            char *fix = xasprintf("set %s for codexmcp (claude mcp add -e %s=…)", key, key);
            line(&d->r, 'x', fix,
                 "credentials: model provider \"%s\" (config.toml) reads %s, which is not set",
                 name, key);
            free(fix);
        } else if (key) {
            line(&d->r, '+', NULL, "credentials: model provider \"%s\" (config.toml): %s is set",
                 name, key);
        } else {
            line(&d->r, '+', NULL, "credentials: model provider \"%s\" (config.toml) needs none",
                 name);
        }
    } else if (codex_key && *codex_key) {
        line(&d->r, '+', NULL, "credentials: CODEX_API_KEY is set");
    } else if (d->usable) {
        /* What codex says is never printed: it may show part of a key. */
        char *argv[] = {d->cmd.path, "login", "status", NULL};
        run_result r;
        run(argv, d->env, NULL, DOCTOR_QUICK_MS, NULL, NULL, &r);
        if (ran_ok(&r))
            line(&d->r, '+', NULL, "credentials: logged in (%s)",
                 strstr(r.out, "ChatGPT") || strstr(r.err, "ChatGPT")   ? "ChatGPT"
                 : strstr(r.out, "API key") || strstr(r.err, "API key") ? "an API key"
                                                                        : "codex login status");
        else if (openai_key && *openai_key)
            line(&d->r, 'x',
                 "set CODEX_API_KEY instead (claude mcp add -e CODEX_API_KEY=…), or log codex in "
                 "with it: `printenv OPENAI_API_KEY | codex login --with-api-key`",
                 "credentials: only OPENAI_API_KEY is set, which codex exec and the app-server do "
                 "not read: requests would go without a key");
        else
            line(&d->r, 'x', "run `codex login` (or set CODEX_API_KEY for codexmcp)",
                 "credentials: none: codex is not logged in and CODEX_API_KEY is not set");
        run_free(&r);
    } else {
        char *auth = xasprintf("%s/auth.json", home);
        if (stat(auth, &st) == 0)
            line(&d->r, '+', NULL, "credentials: %s is there (not checked: codex does not run)",
                 auth);
        else
            line(&d->r, 'x', "run `codex login` (or set CODEX_API_KEY for codexmcp)",
                 "credentials: none found (no auth.json, CODEX_API_KEY not set)");
        free(auth);
    }
    free(name);
    free(key);
    free(p.provider);
    free(p.env_key);
    free(home);
}

static void check_state(doctor *d)
{
    const char *dir = d->c->state_dir;
    if (dir == NULL) {
        line(&d->r, 'x', "set --state-dir, CODEXMCP_STATE_DIR or HOME",
             "state directory: none (no --state-dir, CODEXMCP_STATE_DIR or HOME): calls have no "
             "transcripts and no history");
        return;
    }
    char *fix = xasprintf("make %s a directory you can write, or choose another with --state-dir "
                          "or CODEXMCP_STATE_DIR",
                          dir);
    if (mkdir_private(dir) != 0) {
        line(&d->r, 'x', fix, "state directory %s cannot be created: %s", dir, strerror(errno));
        free(fix);
        return;
    }
    char *probe = xasprintf("%s/.doctor-XXXXXX", dir);
    int fd = mkstemp(probe);
    if (fd < 0) {
        line(&d->r, 'x', fix, "state directory %s is not writable: %s", dir, strerror(errno));
        free(probe);
        free(fix);
        return;
    }
    close(fd);
    unlink(probe);
    free(probe);
    free(fix);
    line(&d->r, '+', NULL, "state directory %s is writable", dir);

    char *db = xasprintf("%s/codexmcp.sqlite", dir);
    char *error = NULL;
    json_t *sum = store_read_summary(db, &error);
    if (sum == NULL) {
        /* Locked is a moment, not damage: the advice to move it aside is
         * only for a file SQLite cannot read as a database. */
        char *how;
        if (strstr(error, "locked") || strstr(error, "busy"))
            how = xstrdup("another process holds it locked (a long write, or `sqlite3` open on "
                          "it): run doctor again when it is done");
        else if (strstr(error, "not a database") || strstr(error, "malformed") ||
                 strstr(error, "not a codexmcp"))
            how = xasprintf("move it aside (`mv %s %s.broken`); the next call makes a new one", db,
                            db);
        else
            how = xasprintf("check that you can read %s and its -wal and -shm files (`ls -l %s*`)",
                            db, db);
        line(&d->r, 'x', how, "registry: %s", error);
        free(how);
    } else if (!json_is_true(json_object_get(sum, "exists"))) {
        line(&d->r, '+', NULL, "registry: none yet (the first call makes %s)", db);
    } else {
        json_int_t s = json_integer_value(json_object_get(sum, "sessions"));
        json_int_t t = json_integer_value(json_object_get(sum, "turns"));
        json_int_t run_now = json_integer_value(json_object_get(sum, "running"));
        line(&d->r, '+', NULL, "registry %s: %lld session%s, %lld call%s, %lld running now", db,
             (long long)s, s == 1 ? "" : "s", (long long)t, t == 1 ? "" : "s", (long long)run_now);
    }
    json_decref(sum);
    free(error);
    free(db);
}

static void check_caps(doctor *d)
{
    const policy *p = d->c->policy;
    static const char *const levels[] = {"read-only", "workspace-write", "danger-full-access"};
    if (p->sandbox_by == NULL && p->yolo_by == NULL && p->nroots == 0) {
        line(&d->r, '+', NULL,
             "caps: none (a call may ask for any sandbox, for yolo, and for any cd)");
        return;
    }
    if (p->sandbox_by)
        line(&d->r, '+', NULL, "cap: sandbox at most %s (%s)", levels[p->max_sandbox],
             p->sandbox_by);
    if (p->yolo_by)
        line(&d->r, '+', NULL, "cap: yolo refused (%s)", p->yolo_by);
    if (p->nroots) {
        buf_t b;
        buf_init(&b, (size_t)-1 / 2);
        for (size_t i = 0; i < p->nroots; i++) {
            if (i)
                buf_append(&b, ", ", 2);
            buf_append(&b, p->roots[i], strlen(p->roots[i]));
        }
        line(&d->r, '+', NULL, "cap: cd must be in %s (%s)", b.data, p->roots_by);
        buf_free(&b);
    }
    if (policy_read_only(p))
        line(&d->r, '+', NULL,
             "read-only: the tools say readOnlyHint, so Claude Code runs several calls at once");
}

/* The credentials in doctor's environment, to keep them out of what it
 * prints: the two API key variables and the provider's env_key. */
static void collect_secrets(doctor *d)
{
    const char *names[2] = {"OPENAI_API_KEY", "CODEX_API_KEY"};
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(names[i]);
        d->secrets[i] = v && *v ? xstrdup(v) : NULL;
    }
    char *home = codex_home();
    if (home) {
        provider_info p;
        read_provider(home, &p);
        const char *v = p.env_key ? getenv(p.env_key) : NULL;
        d->secrets[2] = v && *v ? xstrdup(v) : NULL;
        free(p.provider);
        free(p.env_key);
        free(home);
    }
}

int doctor_run(const doctor_config *c)
{
    doctor d;
    memset(&d, 0, sizeof(d));
    d.c = c;
    /* A codex that exits before reading its input is an EPIPE, not our end. */
    (void)signal(SIGPIPE, SIG_IGN);
    /* Ctrl-C or a kill while a codex runs: it goes first (run()). */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop; /* no SA_RESTART: poll and waitpid return */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* A daemon a codex starts comes to doctor, which ends it (run()). */
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    collect_secrets(&d);
    cli_style_init(&d.r.st, cli_use_color(c->color));
    printf("%scodexmcp %s doctor%s\n", d.r.st.bold, CODEXMCP_VERSION, d.r.st.reset);
    (void)fflush(stdout);
    check_found(&d);
    if (d.found) {
        check_version(&d);
        (void)fflush(stdout);
        if (d.usable) {
            check_exec(&d);
            (void)fflush(stdout);
            check_appserver(&d);
        } else {
            line(&d.r, 'x', "fix the line above first",
                 "codex exec and app-server: not checked (codex does not run)");
        }
    }
    (void)fflush(stdout);
    check_home_and_credentials(&d);
    check_state(&d);
    check_caps(&d);
    if (d.r.failed)
        printf("%s%d problem%s: a call cannot work until %s fixed%s\n", d.r.st.red, d.r.failed,
               d.r.failed == 1 ? "" : "s", d.r.failed == 1 ? "it is" : "they are", d.r.st.reset);
    else
        printf("%severy check passed%s%s\n", d.r.st.green, d.r.warned ? " (see the ! lines)" : "",
               d.r.st.reset);
    if (d.found)
        codex_cmd_free(&d.cmd);
    free(d.found);
    free(d.env);
    free(d.version);
    for (size_t i = 0; i < sizeof(d.secrets) / sizeof(d.secrets[0]); i++)
        free(d.secrets[i]);
    if (stop_signal) {
        (void)signal(stop_signal, SIG_DFL);
        (void)raise(stop_signal);
    }
    return d.r.failed ? 1 : 0;
}
