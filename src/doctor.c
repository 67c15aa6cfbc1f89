/* codexmcp doctor (doctor.h). */
#include "doctor.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "launcher.h"
#include "store.h"
#include "util.h"
#include "version.h"

extern char **environ;

/* The codex versions codexmcp's tests run (tests/e2e/package.json). */
#define CODEX_TESTED "0.169.0"
/* Time limits of what doctor runs, and how much of its output it reads. */
#define QUICK_MS 10000     /* --version, --help, login status */
#define APPSERVER_MS 20000 /* spawn to the last probe's answer */
#define EXIT_WAIT_MS 2000  /* after stdin closes, before SIGKILL */
#define OUT_MAX ((size_t)1024 * 1024)

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
    char *out, *err; /* NUL-terminated, at most OUT_MAX each */
    size_t out_len, err_len;
    int status; /* waitpid's */
    int timed_out;
    int spawn_error; /* errno of posix_spawn, or 0 */
    int64_t ms;      /* how long it took */
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
    if (*len + n > OUT_MAX)
        n = OUT_MAX - *len;
    *buf = realloc(*buf, *len + n + 1);
    if (*buf == NULL)
        abort();
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

/* Runs argv in its own process group with envp, writes `input` (or
 * nothing) to its stdin, reads stdout and stderr until it exits, `done`
 * says stdout has what was awaited (stdin is then closed), or `limit_ms`
 * passes; then waits EXIT_WAIT_MS for it to exit, and kills the group. */
static void run(char *const argv[], char *const envp[], const char *input, unsigned limit_ms,
                run_done_fn done, void *ctx, run_result *r)
{
    memset(r, 0, sizeof(*r));
    r->out = xstrdup("");
    r->err = xstrdup("");
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        abort();
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        abort();
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
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int64_t start = mono_ms();
    r->spawn_error = posix_spawn(&pid, argv[0], &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (r->spawn_error) {
        close(in[1]);
        close(out[0]);
        close(err[0]);
        return;
    }
    if (input)
        (void)!write(in[1], input, strlen(input)); /* small: fits the pipe */
    int in_fd = in[1];
    if (input == NULL || (done && done(r->out, r->out_len, ctx))) {
        close(in_fd);
        in_fd = -1;
    }
    int64_t deadline = start + limit_ms, closed_at = in_fd < 0 ? start : -1;
    struct pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        int64_t now = mono_ms();
        int64_t until = closed_at >= 0 && closed_at + EXIT_WAIT_MS < deadline
                            ? closed_at + EXIT_WAIT_MS
                            : deadline;
        if (now >= until) {
            r->timed_out = closed_at < 0 || now >= deadline;
            break;
        }
        int n = poll(p, 2, (int)(until - now));
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2 && n > 0; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char chunk[8192];
            ssize_t got = read(p[i].fd, chunk, sizeof(chunk));
            if (got > 0) {
                if (i == 0)
                    append(&r->out, &r->out_len, chunk, (size_t)got);
                else
                    append(&r->err, &r->err_len, chunk, (size_t)got);
            } else if (got == 0 || errno != EINTR) {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
            }
        }
        if (in_fd >= 0 && done && done(r->out, r->out_len, ctx)) {
            close(in_fd);
            in_fd = -1;
            closed_at = mono_ms();
        }
    }
    if (in_fd >= 0)
        close(in_fd);
    for (int i = 0; i < 2; i++)
        if (p[i].fd >= 0)
            close(p[i].fd);
    /* Its output is closed or its time is up: whatever of its group is
     * left goes (the launcher's Node and the native binary under it). */
    int64_t wait_until = mono_ms() + (r->timed_out ? 0 : EXIT_WAIT_MS);
    for (;;) {
        pid_t w = waitpid(pid, &r->status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            break;
        if (mono_ms() >= wait_until) {
            if (!r->timed_out && closed_at < 0)
                r->timed_out = 1;
            kill(-pid, SIGKILL);
            while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    kill(-pid, SIGKILL); /* anything it left behind in its group */
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
        snprintf(buf, n, "did not finish within its time limit");
    else if (WIFSIGNALED(r->status))
        snprintf(buf, n, "was killed by signal %d (%s)", WTERMSIG(r->status),
                 signal_name(WTERMSIG(r->status)));
    else
        snprintf(buf, n, "exited with status %d", WEXITSTATUS(r->status));
    return buf;
}

static int ran_ok(const run_result *r)
{
    return !r->spawn_error && !r->timed_out && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

/* The first line of a command's stderr (or stdout), for a ✗ line. */
static char *said(const run_result *r)
{
    const char *s = r->err_len ? r->err : r->out;
    /* codex's harmless warnings come first: skip them */
    while (strncmp(s, "WARNING:", 8) == 0 && strchr(s, '\n'))
        s = strchr(s, '\n') + 1;
    return one_line(*s ? s : "(nothing)", 300);
}

/* ---- the checks ---- */

typedef struct {
    const doctor_config *c;
    report r;
    char *found;   /* codex as found, or NULL */
    codex_cmd cmd; /* what a call runs */
    char **env;    /* the environment a call gives it */
    int usable;    /* codex runs and says its version */
    char *version; /* "0.169.0" */
} doctor;

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
        if (w[0] >= '0' && w[0] <= '9' && strchr(w, '.')) {
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
    run(argv, d->env, NULL, QUICK_MS, NULL, NULL, &r);
    char why[128];
    if (r.spawn_error) {
        line(&d->r, 'x', "check that the file is a codex binary it can run, or reinstall codex",
             "codex --version: cannot run %s: %s", d->cmd.path, strerror(r.spawn_error));
    } else if (!ran_ok(&r)) {
        char *s = said(&r);
        line(&d->r, 'x', "reinstall codex (`npm i -g @openai/codex@" CODEX_TESTED "`)",
             "codex --version %s: %s", status_text(&r, why, sizeof(why)), s);
        free(s);
    } else if ((d->version = version_of(r.out)) == NULL) {
        char *s = one_line(r.out, 200);
        line(&d->r, 'x', "point --codex at the Codex CLI (`npm i -g @openai/codex`)",
             "codex --version printed no version: \"%s\"", s);
        free(s);
    } else {
        d->usable = 1;
        if (strcmp(d->version, CODEX_TESTED) == 0)
            line(&d->r, '+', NULL, "codex version %s: codexmcp is tested with it", d->version);
        else
            line(&d->r, '!',
                 "the checks below say whether it still fits; `npm i -g @openai/codex@" CODEX_TESTED
                 "` installs the tested one",
                 "codex version %s: codexmcp is tested with " CODEX_TESTED, d->version);
    }
    run_free(&r);
}

/* Whether help text lists --flag (not as the start of a longer one). */
static int lists_flag(const char *help, const char *flag)
{
    size_t n = strlen(flag);
    for (const char *p = strstr(help, flag); p; p = strstr(p + 1, flag)) {
        char after = p[n];
        char before = p == help ? ' ' : p[-1];
        if ((after == '\0' || !(after == '-' || (after >= 'a' && after <= 'z'))) &&
            (before == ' ' || before == '\t' || before == ',' || before == '\n' || before == '['))
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
        run(argv, d->env, NULL, QUICK_MS, NULL, NULL, &r);
        if (!ran_ok(&r)) {
            char why[128];
            char *s = said(&r);
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
    const char *fix = "install the tested codex: `npm i -g @openai/codex@" CODEX_TESTED "`";
    int exec_needed = d->c->engine != ENGINE_APPSERVER;
    char mark = exec_needed ? 'x' : '!';
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

/* Every request (ids 1 to 1 + AS_PROBES) answered. */
static int as_done(const char *out, size_t len, void *ctx)
{
    (void)len;
    json_t *answers = ctx;
    json_array_clear(answers);
    for (size_t i = 0; i <= AS_PROBES; i++)
        json_array_append_new(answers, json_null());
    size_t got = 0;
    for (const char *p = out; *p;) {
        const char *nl = strchr(p, '\n');
        if (nl == NULL)
            break;
        json_t *msg = json_loadb(p, (size_t)(nl - p), 0, NULL);
        json_t *id = json_object_get(msg, "id");
        if (json_is_integer(id) && json_integer_value(id) >= 1 &&
            json_integer_value(id) <= (json_int_t)AS_PROBES + 1) {
            size_t k = (size_t)json_integer_value(id) - 1;
            if (json_is_null(json_array_get(answers, k)))
                got++;
            json_array_set(answers, k, msg);
        }
        json_decref(msg);
        p = nl + 1;
    }
    return got == AS_PROBES + 1;
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
    json_t *answers = json_array();
    run_result r;
    run(argv, d->env, in.data, APPSERVER_MS, as_done, answers, &r);
    buf_free(&in);
    (void)as_done(r.out, r.out_len, answers);
    char mark = d->c->engine == ENGINE_APPSERVER ? 'x' : '!';
    const char *fix_auto = d->c->engine == ENGINE_APPSERVER
                               ? "use --engine auto (it falls back to exec) or install the tested "
                                 "codex: `npm i -g @openai/codex@" CODEX_TESTED "`"
                               : "calls fall back to `codex exec` (slower); install the tested "
                                 "codex for the app-server: `npm i -g @openai/codex@" CODEX_TESTED
                                 "`";
    json_t *init_answer = json_array_get(answers, 0);
    json_t *result = json_object_get(init_answer, "result");
    if (!json_is_object(result)) {
        char why[128];
        char *s = said(&r);
        const char *err =
            json_string_value(json_object_get(json_object_get(init_answer, "error"), "message"));
        if (err)
            line(&d->r, mark, fix_auto, "codex app-server refused initialize: %s", err);
        else
            line(&d->r, mark, fix_auto, "codex app-server did not answer initialize: it %s%s%s",
                 r.spawn_error ? "could not start" : status_text(&r, why, sizeof(why)),
                 r.spawn_error ? "" : ": ", r.spawn_error ? "" : s);
        free(s);
    } else {
        buf_t missing;
        buf_init(&missing, 4096);
        for (size_t i = 0; i < AS_PROBES; i++) {
            json_t *a = json_array_get(answers, i + 1);
            const char *m =
                json_string_value(json_object_get(json_object_get(a, "error"), "message"));
            int unknown = json_is_null(a) || (m && strstr(m, "unknown variant") != NULL);
            if (!unknown)
                continue;
            if (missing.len)
                buf_append(&missing, ", ", 2);
            buf_append(&missing, as_methods[i], strlen(as_methods[i]));
        }
        if (missing.len)
            line(&d->r, mark, fix_auto,
                 "codex app-server answers initialize but does not know %s, which the engine "
                 "sends",
                 missing.data);
        else
            line(&d->r, '+', NULL,
                 "codex app-server answers initialize (in %lld ms) and knows the %zu methods the "
                 "engine sends",
                 (long long)r.ms, AS_PROBES);
        buf_free(&missing);
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
    fclose(f);
}

static void check_home_and_credentials(doctor *d)
{
    char *home = codex_home();
    struct stat st;
    const char *from = getenv("CODEX_HOME") && *getenv("CODEX_HOME") ? "CODEX_HOME" : "~/.codex";
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
    const char *env_key = p.env_key;
    if (custom && !p.openai_auth) {
        if (env_key && !(getenv(env_key) && *getenv(env_key))) {
            char *fix = xasprintf("set %s for codexmcp (claude mcp add -e %s=…)", env_key, env_key);
            line(&d->r, 'x', fix,
                 "credentials: model provider \"%s\" (config.toml) reads %s, which is not set",
                 p.provider, env_key);
            free(fix);
        } else if (env_key) {
            line(&d->r, '+', NULL, "credentials: model provider \"%s\" (config.toml): %s is set",
                 p.provider, env_key);
        } else {
            line(&d->r, '+', NULL, "credentials: model provider \"%s\" (config.toml) needs none",
                 p.provider);
        }
    } else if (getenv("CODEX_API_KEY") && *getenv("CODEX_API_KEY")) {
        line(&d->r, '+', NULL, "credentials: CODEX_API_KEY is set");
    } else if (getenv("OPENAI_API_KEY") && *getenv("OPENAI_API_KEY")) {
        line(&d->r, '+', NULL, "credentials: OPENAI_API_KEY is set");
    } else if (d->usable) {
        /* What codex says is never printed: it may show part of a key. */
        char *argv[] = {d->cmd.path, "login", "status", NULL};
        run_result r;
        run(argv, d->env, NULL, QUICK_MS, NULL, NULL, &r);
        if (ran_ok(&r))
            line(&d->r, '+', NULL, "credentials: logged in (%s)",
                 strstr(r.out, "ChatGPT") || strstr(r.err, "ChatGPT")   ? "ChatGPT"
                 : strstr(r.out, "API key") || strstr(r.err, "API key") ? "an API key"
                                                                        : "codex login status");
        else
            line(&d->r, 'x', "run `codex login` (or set OPENAI_API_KEY for codexmcp)",
                 "credentials: none: codex is not logged in and OPENAI_API_KEY is not set");
        run_free(&r);
    } else {
        char *auth = xasprintf("%s/auth.json", home);
        if (stat(auth, &st) == 0)
            line(&d->r, '+', NULL, "credentials: %s is there (not checked: codex does not run)",
                 auth);
        else
            line(&d->r, 'x', "run `codex login` (or set OPENAI_API_KEY for codexmcp)",
                 "credentials: none found (no auth.json, OPENAI_API_KEY not set)");
        free(auth);
    }
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
        char *mv =
            xasprintf("move it aside (`mv %s %s.broken`); the next call makes a new one", db, db);
        line(&d->r, 'x', mv, "registry: %s", error);
        free(mv);
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

int doctor_run(const doctor_config *c)
{
    doctor d;
    memset(&d, 0, sizeof(d));
    d.c = c;
    /* A codex that exits before reading its input is an EPIPE, not our end. */
    (void)signal(SIGPIPE, SIG_IGN);
    cli_style_init(&d.r.st, cli_use_color(c->color));
    printf("%scodexmcp %s doctor%s\n", d.r.st.bold, CODEXMCP_VERSION, d.r.st.reset);
    fflush(stdout);
    check_found(&d);
    if (d.found) {
        check_version(&d);
        fflush(stdout);
        if (d.usable) {
            check_exec(&d);
            fflush(stdout);
            check_appserver(&d);
        } else {
            line(&d.r, 'x', "fix the line above first",
                 "codex exec and app-server: not checked (codex does not run)");
        }
    }
    fflush(stdout);
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
    return d.r.failed ? 1 : 0;
}
