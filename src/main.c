/* codexmcp: options, wiring of transport, session and tools, and the
 * shutdown path (stdin EOF, SIGTERM, SIGINT, SIGHUP, client gone). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "child.h"
#include "cli.h"
#include "cli_log.h"
#include "cli_ps.h"
#include "doctor.h"
#include "jobs.h"
#include "limits.h"
#include "log.h"
#include "mcp.h"
#include "policy.h"
#include "store.h"
#include "tasks.h"
#include "tool_codex.h"
#include "tool_review.h"
#include "tool_sessions.h"
#include "tool_tasks.h"
#include "tools.h"
#include "transport.h"
#include "util.h"
#include "version.h"

typedef struct {
    uv_loop_t *loop;
    transport *tr;
    mcp_session *session;
    tool_registry tools;
    jobs *jobs;
    tasks *tasks;
    store *store;
    uv_signal_t sigs[3];
    int shutting_down;
    int signalled;
    int exit_code;
} app;

static const char usage_text[] =
    "Usage: codexmcp [OPTIONS]\n"
    "       codexmcp doctor [OPTIONS]\n"
    "       codexmcp ps [-n N] [--json]\n"
    "       codexmcp log [-f] SESSION_ID\n"
    "\n"
    "An MCP server on stdio that hands coding work to the Codex CLI (a warm\n"
    "`codex app-server`, or `codex exec --json`). Add it to Claude Code with:\n"
    "  claude mcp add codex -s user --transport stdio -- /path/to/codexmcp\n"
    "\n"
    "Options:\n"
    "  --codex PATH           codex binary to run (default: $CODEXMCP_CODEX, else\n"
    "                         `codex` on PATH)\n"
    "  --max-parallel N       codex turns running at once; more calls wait in\n"
    "                         a queue (default: $CODEXMCP_MAX_PARALLEL, else 4)\n"
    "  --timeout SECONDS      default time limit of one call, 0 = none (default:\n"
    "                         $CODEXMCP_TIMEOUT, else 0); a call may set timeout_s\n"
    "  --idle-timeout SECONDS end a call when codex makes no progress for this long\n"
    "                         (retry notices do not count), 0 = off (default:\n"
    "                         $CODEXMCP_IDLE_TIMEOUT, else 0)\n"
    "  --engine ENGINE        how codex runs: appserver (one warm `codex\n"
    "                         app-server` for every call), exec (a `codex exec`\n"
    "                         per call) or auto: the app-server, falling back to\n"
    "                         exec when it cannot start or keeps failing, and\n"
    "                         for calls with a profile (default: $CODEXMCP_ENGINE,\n"
    "                         else auto)\n"
    "  --no-native-codex      run `codex` as found, even when it is the npm\n"
    "                         launcher (by default its native binary runs\n"
    "                         directly, saving a Node start per call)\n"
    "  --kill-grace MS        time between SIGTERM and SIGKILL of every process of\n"
    "                         a call that is stopped (default: 2000)\n"
    "  --read-only            Codex may not change anything: the same as\n"
    "                         --max-sandbox read-only --no-yolo; the tools then say\n"
    "                         readOnlyHint, so Claude Code runs several calls at\n"
    "                         once (default: $CODEXMCP_READ_ONLY=1)\n"
    "  --max-sandbox MODE     the most a call may ask for: read-only,\n"
    "                         workspace-write or danger-full-access; more is\n"
    "                         refused (default: $CODEXMCP_MAX_SANDBOX, else no cap)\n"
    "  --no-yolo              refuse calls with yolo (default: $CODEXMCP_NO_YOLO=1)\n"
    "  --allow-root DIR       cd must be DIR or below it, symlinks resolved;\n"
    "                         repeatable (default: $CODEXMCP_ALLOW_ROOTS, DIRs\n"
    "                         separated by ':', else anywhere)\n"
    "  --task-ttl SECONDS     how long a finished background call or task keeps\n"
    "                         its result for codex_wait and tasks/result\n"
    "                         (default: $CODEXMCP_TASK_TTL, else 3600)\n"
    "  --max-line-bytes N     longest request line accepted (default: 67108864)\n"
    "  --max-result-chars N   cut each result to N characters, marking every cut\n"
    "                         (default: $CODEXMCP_MAX_RESULT_CHARS, else by client:\n"
    "                         10000 for Codex, 48000 for others); a call may set\n"
    "                         max_result_chars\n"
    "  --state-dir DIR        where transcripts and the session registry go\n"
    "                         (default: $CODEXMCP_STATE_DIR, else\n"
    "                         $XDG_STATE_HOME/codexmcp, else\n"
    "                         ~/.local/state/codexmcp)\n"
    "  --log-level LEVEL      stderr log level: debug, info, notice, warning,\n"
    "                         error, critical, alert, emergency (default: warning)\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show the version and exit\n"
    "\n"
    "Commands (each has --help; `man codexmcp` has more):\n"
    "  doctor                 check that calls can work here: codex, its flags, the\n"
    "                         app-server, credentials, the state directory, the caps\n"
    "  ps                     the calls running now and the latest to finish, in\n"
    "                         every codexmcp process sharing the state directory\n"
    "  log SESSION_ID         a session's turns as readable lines; -f follows\n";

static const char doctor_usage[] =
    "Usage: codexmcp doctor [OPTIONS]\n"
    "\n"
    "Checks that a Codex call can work here, one line per check: ✓ fine, ! works\n"
    "but worth knowing, ✗ a call cannot work until it is fixed (each ! and ✗ is\n"
    "followed by its fix): codex (launcher or native binary), its version, the\n"
    "flags of `codex exec` codexmcp passes, the app-server's methods, CODEX_HOME\n"
    "and credentials (never printed), the state directory and registry, and the\n"
    "caps. It takes the server's options and environment variables, so it\n"
    "checks what the server would run: give it those of your `claude mcp add`.\n"
    "\n"
    "  --color WHEN           auto (on a terminal, unless NO_COLOR is set), always\n"
    "                         or never (default: auto)\n"
    "  -h, --help             show this help and exit\n"
    "\n"
    "Exit status: 0 when no check failed, 1 when one did, 2 for a usage error.\n";

static int parse_seconds(const char *s, double *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(v >= 0) || v > 1e7)
        return -1;
    *out = v;
    return 0;
}

static int bad_option(const char *opt, const char *value, const char *expect)
{
    fprintf(stderr, "codexmcp: invalid value '%s' for %s: expected %s\n", value ? value : "", opt,
            expect);
    fprintf(stderr, "Try 'codexmcp --help' for more information.\n");
    return 2;
}

/* ---- shutdown ---- */

static void finish_exit(void *ctx)
{
    app *a = ctx;
    a->tr = NULL;
    /* Every call is done: what the registry still has queued is tried
     * once, without waiting on another process's lock. */
    store_stop(a->store);
    tasks_close(a->tasks);
    jobs_close(a->jobs);
    /* The app-server may take seconds to exit: a signal meanwhile must not
     * end the server by its default action, in the middle of its last
     * registry writes. Still watched, no longer keeping the loop alive;
     * main closes them. */
    for (int i = 0; i < 3; i++)
        uv_unref((uv_handle_t *)&a->sigs[i]);
}

static void all_calls_done(void *ctx)
{
    app *a = ctx;
    /* Background calls are waited for as the calls in flight are. */
    if (!a->shutting_down || a->tr == NULL || mcp_session_inflight(a->session) > 0 ||
        tasks_running(a->tasks) > 0)
        return;
    transport_close(a->tr, finish_exit, a);
}

/* Stops reading and exits once the calls in flight are done; `cancel`
 * ends them first (the client is gone or asked us to stop). */
static void begin_shutdown(app *a, const char *why, int cancel)
{
    if (a->shutting_down && !cancel)
        return;
    if (!a->shutting_down) {
        log_msg(LOG_INFO, "shutting down: %s", why);
        transport_stop_reading(a->tr);
        mcp_session_on_idle(a->session, all_calls_done, a);
        tasks_on_idle(a->tasks, all_calls_done, a);
    }
    a->shutting_down = 1;
    if (cancel) {
        mcp_session_cancel_all(a->session);
        tasks_stop_all(a->tasks);
    }
    all_calls_done(a);
}

static void on_signal(uv_signal_t *h, int signum)
{
    app *a = h->data;
    if (a->tr == NULL && !a->signalled) {
        /* finish_exit ran: the exit is under way and bounded. */
        a->signalled = 1;
        log_msg(LOG_INFO, "signal %d while exiting: exiting already", signum);
        return;
    }
    if (a->signalled) {
        /* The user insists (or the client stopped reading and the queued
         * replies cannot be flushed): kill every group and leave now. */
        log_msg(LOG_WARNING, "second signal %d: killing every codex process and exiting", signum);
        jobs_kill_now(a->jobs);
        _exit(1);
    }
    a->signalled = 1;
    begin_shutdown(a, signum == SIGTERM ? "SIGTERM" : signum == SIGINT ? "SIGINT" : "SIGHUP", 1);
}

/* ---- transport callbacks ---- */

static void on_line(void *ctx, const char *line, size_t len)
{
    app *a = ctx;
    mcp_session_handle_line(a->session, line, len);
}

static void on_oversized(void *ctx, size_t len, size_t max)
{
    app *a = ctx;
    mcp_session_handle_oversized(a->session, len, max);
}

static void on_eof(void *ctx)
{
    app *a = ctx;
    /* The end of a request file: answer what was asked, then exit. The end
     * of a pipe or tty: the client is gone, so stop its calls too. */
    if (transport_input_is_file(a->tr))
        begin_shutdown(a, "end of the request file", 0);
    else
        begin_shutdown(a, "stdin closed", 1);
}

static void on_write_error(void *ctx, int err)
{
    (void)err;
    begin_shutdown(ctx, "stdout closed", 1);
}

static void on_behind(void *ctx, int behind)
{
    app *a = ctx;
    mcp_session_set_behind(a->session, behind);
    /* Catching up sends what the session held, which may have put the
     * client behind again (a nested call): the transport knows which. */
    jobs_set_behind(a->jobs, transport_behind(a->tr));
}

static void send_msg(void *ctx, json_t *msg)
{
    app *a = ctx;
    if (a->tr)
        transport_send(a->tr, msg);
    else
        json_decref(msg);
}

/* ---- options ---- */

enum {
    OPT_CODEX = 256,
    OPT_MAX_PARALLEL,
    OPT_TIMEOUT,
    OPT_IDLE_TIMEOUT,
    OPT_KILL_GRACE,
    OPT_MAX_LINE,
    OPT_LOG_LEVEL,
    OPT_MAX_RESULT,
    OPT_STATE_DIR,
    OPT_ENGINE,
    OPT_NO_NATIVE,
    OPT_READ_ONLY,
    OPT_MAX_SANDBOX,
    OPT_NO_YOLO,
    OPT_ALLOW_ROOT,
    OPT_TASK_TTL,
    OPT_COLOR,
};

/* The registry in the state directory (opened when first used), or NULL
 * with *why set when there is no state directory. */
static store *state_store(uv_loop_t *loop, const char *dir, char **why)
{
    if (dir == NULL) {
        *why = xstrdup("there is no state directory (set --state-dir, CODEXMCP_STATE_DIR or "
                       "HOME)");
        log_msg(LOG_WARNING, "%s: no transcripts and no session registry", *why);
        return NULL;
    }
    char *path = xasprintf("%s/codexmcp.sqlite", dir);
    store *st = store_new(loop, path);
    free(path);
    return st;
}

static int env_flag(const char *name, int *out)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return 0;
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
        return 0;
    fprintf(stderr, "codexmcp: invalid %s='%s': expected 1 or 0\n", name, v);
    return -1;
}

/* The caps from the environment: CODEXMCP_READ_ONLY, CODEXMCP_MAX_SANDBOX,
 * CODEXMCP_NO_YOLO, CODEXMCP_ALLOW_ROOTS (DIR:DIR). */
static int env_policy(policy *p)
{
    int flag = 0;
    if (env_flag("CODEXMCP_READ_ONLY", &flag) != 0)
        return -1;
    if (flag)
        policy_cap_sandbox(p, SANDBOX_READ_ONLY, "CODEXMCP_READ_ONLY");
    const char *v = getenv("CODEXMCP_MAX_SANDBOX");
    if (v && *v) {
        sandbox_level lv;
        if (policy_sandbox_parse(v, &lv) != 0) {
            fprintf(stderr,
                    "codexmcp: invalid CODEXMCP_MAX_SANDBOX='%s': expected read-only, "
                    "workspace-write or danger-full-access\n",
                    v);
            return -1;
        }
        policy_cap_sandbox(p, lv, "CODEXMCP_MAX_SANDBOX");
    }
    flag = 0;
    if (env_flag("CODEXMCP_NO_YOLO", &flag) != 0)
        return -1;
    if (flag)
        policy_forbid_yolo(p, "CODEXMCP_NO_YOLO");
    v = getenv("CODEXMCP_ALLOW_ROOTS");
    if (v && *v) {
        char *copy = xstrdup(v);
        char *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
            char *err = NULL;
            if (policy_add_root(p, dir, "CODEXMCP_ALLOW_ROOTS", &err) != 0) {
                fprintf(stderr, "codexmcp: %s\n", err);
                free(err);
                free(copy);
                return -1;
            }
        }
        free(copy);
    }
    return 0;
}

static int env_uint(const char *name, unsigned long long max, unsigned long long *out)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return 0;
    if (parse_uint(v, max, out) != 0) {
        fprintf(stderr, "codexmcp: invalid %s='%s': expected a whole number\n", name, v);
        return -1;
    }
    return 0;
}

static int env_seconds(const char *name, double *out)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return 0;
    if (parse_seconds(v, out) != 0) {
        fprintf(stderr, "codexmcp: invalid %s='%s': expected seconds (>= 0)\n", name, v);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* The codex child goes through this binary first so it can ask the
     * kernel to kill it when codexmcp dies (see child.c). */
    if (argc > 1 && strcmp(argv[1], CHILD_EXEC_FLAG) == 0)
        return child_exec_main(argc, argv);
    if (argc > 1 && strcmp(argv[1], "ps") == 0)
        return cli_ps_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "log") == 0)
        return cli_log_main(argc - 1, argv + 1);
    /* doctor takes the server's options: it checks what they would run. */
    int doctor = argc > 1 && strcmp(argv[1], "doctor") == 0;
    if (doctor) {
        argc--;
        argv++;
    }
    cli_color_when color = COLOR_AUTO;

    jobs_config cfg;
    jobs_config_default(&cfg);
    unsigned long long max_line = MAX_LINE_BYTES_DEFAULT, u;
    const char *codex = getenv("CODEXMCP_CODEX");
    if (codex != NULL && *codex == '\0')
        codex = NULL;
    u = 0;
    if (env_uint("CODEXMCP_MAX_PARALLEL", 1024, &u) != 0)
        return 2;
    const char *max_parallel = getenv("CODEXMCP_MAX_PARALLEL");
    if (max_parallel && *max_parallel) {
        if (u == 0) {
            fprintf(stderr, "codexmcp: invalid CODEXMCP_MAX_PARALLEL='0': expected 1 to 1024\n");
            return 2;
        }
        cfg.max_parallel = (unsigned)u;
    }
    if (env_seconds("CODEXMCP_TIMEOUT", &cfg.timeout_s) != 0 ||
        env_seconds("CODEXMCP_IDLE_TIMEOUT", &cfg.idle_timeout_s) != 0)
        return 2;
    u = 0;
    if (env_uint("CODEXMCP_MAX_RESULT_CHARS", BUDGET_MAX_CHARS, &u) != 0)
        return 2;
    if (u != 0 && u < BUDGET_MIN_CHARS) {
        fprintf(stderr, "codexmcp: invalid CODEXMCP_MAX_RESULT_CHARS='%llu': expected %u to %u\n",
                u, BUDGET_MIN_CHARS, BUDGET_MAX_CHARS);
        return 2;
    }
    cfg.max_result_chars = (size_t)u;
    const char *state_opt = NULL;
    const char *engine_env = getenv("CODEXMCP_ENGINE");
    if (engine_env && *engine_env && engine_kind_parse(engine_env, &cfg.engine) != 0) {
        fprintf(stderr,
                "codexmcp: invalid CODEXMCP_ENGINE='%s': expected auto, appserver or exec\n",
                engine_env);
        return 2;
    }

    static policy pol; /* static: reachable however main returns */
    policy_init(&pol);
    if (env_policy(&pol) != 0) {
        policy_free(&pol);
        return 2;
    }
    double task_ttl = TASK_TTL_DEFAULT_S;
    if (env_seconds("CODEXMCP_TASK_TTL", &task_ttl) != 0)
        return 2;

    static const struct option opts[] = {
        {"codex", required_argument, NULL, OPT_CODEX},
        {"max-parallel", required_argument, NULL, OPT_MAX_PARALLEL},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
        {"kill-grace", required_argument, NULL, OPT_KILL_GRACE},
        {"max-line-bytes", required_argument, NULL, OPT_MAX_LINE},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"max-result-chars", required_argument, NULL, OPT_MAX_RESULT},
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
        {"engine", required_argument, NULL, OPT_ENGINE},
        {"no-native-codex", no_argument, NULL, OPT_NO_NATIVE},
        {"read-only", no_argument, NULL, OPT_READ_ONLY},
        {"max-sandbox", required_argument, NULL, OPT_MAX_SANDBOX},
        {"no-yolo", no_argument, NULL, OPT_NO_YOLO},
        {"allow-root", required_argument, NULL, OPT_ALLOW_ROOT},
        {"task-ttl", required_argument, NULL, OPT_TASK_TTL},
        {"color", required_argument, NULL, OPT_COLOR},
        {"colour", required_argument, NULL, OPT_COLOR},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(doctor ? doctor_usage : usage_text, stdout);
            return 0;
        case OPT_COLOR:
            if (!doctor) {
                fprintf(stderr, "codexmcp: --color is an option of doctor, ps and log\n");
                return 2;
            }
            if (cli_color_parse(optarg, &color) != 0)
                return bad_option("--color", optarg, "auto, always or never");
            break;
        case 'V':
            printf("codexmcp %s\n", CODEXMCP_VERSION);
            return 0;
        case OPT_CODEX:
            codex = optarg;
            break;
        case OPT_MAX_PARALLEL:
            if (parse_uint(optarg, 1024, &u) != 0 || u == 0)
                return bad_option("--max-parallel", optarg, "a whole number from 1 to 1024");
            cfg.max_parallel = (unsigned)u;
            break;
        case OPT_TIMEOUT:
            if (parse_seconds(optarg, &cfg.timeout_s) != 0)
                return bad_option("--timeout", optarg, "seconds (>= 0)");
            break;
        case OPT_IDLE_TIMEOUT:
            if (parse_seconds(optarg, &cfg.idle_timeout_s) != 0)
                return bad_option("--idle-timeout", optarg, "seconds (>= 0)");
            break;
        case OPT_KILL_GRACE:
            if (parse_uint(optarg, 600000, &u) != 0)
                return bad_option("--kill-grace", optarg, "milliseconds (0 to 600000)");
            cfg.kill_grace_ms = (unsigned)u;
            break;
        case OPT_MAX_LINE:
            if (parse_uint(optarg, (unsigned long long)1 << 40, &max_line) != 0 || max_line < 1024)
                return bad_option("--max-line-bytes", optarg, "a byte count of at least 1024");
            break;
        case OPT_MAX_RESULT:
            if (parse_uint(optarg, BUDGET_MAX_CHARS, &u) != 0 || u < BUDGET_MIN_CHARS)
                return bad_option("--max-result-chars", optarg, "a number from 1000 to 10000000");
            cfg.max_result_chars = (size_t)u;
            break;
        case OPT_ENGINE:
            if (engine_kind_parse(optarg, &cfg.engine) != 0)
                return bad_option("--engine", optarg, "auto, appserver or exec");
            break;
        case OPT_NO_NATIVE:
            cfg.native = 0;
            break;
        case OPT_READ_ONLY:
            policy_cap_sandbox(&pol, SANDBOX_READ_ONLY, "--read-only");
            break;
        case OPT_MAX_SANDBOX: {
            sandbox_level lv;
            if (policy_sandbox_parse(optarg, &lv) != 0)
                return bad_option("--max-sandbox", optarg,
                                  "read-only, workspace-write or danger-full-access");
            policy_cap_sandbox(&pol, lv, "--max-sandbox");
            break;
        }
        case OPT_NO_YOLO:
            policy_forbid_yolo(&pol, "--no-yolo");
            break;
        case OPT_ALLOW_ROOT: {
            char *err = NULL;
            if (policy_add_root(&pol, optarg, "--allow-root", &err) != 0) {
                fprintf(stderr, "codexmcp: %s\n", err);
                free(err);
                return 2;
            }
            break;
        }
        case OPT_TASK_TTL:
            if (parse_seconds(optarg, &task_ttl) != 0 || task_ttl < 1 || task_ttl > TASK_TTL_MAX_S)
                return bad_option("--task-ttl", optarg, "seconds from 1 to 604800");
            break;
        case OPT_STATE_DIR:
            if (*optarg == '\0')
                return bad_option("--state-dir", optarg, "a directory");
            state_opt = optarg;
            break;
        case OPT_LOG_LEVEL: {
            log_level lv;
            if (log_level_parse(optarg, &lv) != 0)
                return bad_option("--log-level", optarg,
                                  "debug, info, notice, warning, error, critical, alert or "
                                  "emergency");
            log_set_stderr_level(lv);
            break;
        }
        case ':':
            fprintf(stderr, "codexmcp: option '%s' needs a value\n", argv[optind - 1]);
            fprintf(stderr, "Try 'codexmcp --help' for more information.\n");
            return 2;
        default:
            fprintf(stderr, "codexmcp: unknown option '%s'\n", argv[optind - 1]);
            fprintf(stderr, "Try 'codexmcp --help' for more information.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr,
                "codexmcp: unexpected argument '%s' (the commands are doctor, ps and log)\n",
                argv[optind]);
        fprintf(stderr, "Try 'codexmcp --help' for more information.\n");
        return 2;
    }
    cfg.codex = codex;
    cfg.policy = &pol;
    if (task_ttl < 1 || task_ttl > TASK_TTL_MAX_S) {
        fprintf(stderr, "codexmcp: invalid CODEXMCP_TASK_TTL: expected seconds from 1 to %u\n",
                TASK_TTL_MAX_S);
        return 2;
    }
    char *state_dir = state_opt ? xstrdup(state_opt) : state_dir_default();
    if (state_dir) {
        /* Paths in results and the registry must mean the same thing to a
         * client and to a server started elsewhere. */
        char *abs = absolute_path(state_dir);
        free(state_dir);
        state_dir = abs;
    }
    if (doctor) {
        doctor_config dc = {cfg.codex, cfg.native, cfg.engine, &pol, state_dir, color};
        int rc = doctor_run(&dc);
        policy_free(&pol);
        free(state_dir);
        return rc;
    }

    /* A client that goes away must give EPIPE, not kill us mid-cleanup;
     * a transcript over the file size limit (ulimit -f) EFBIG, a warning.
     * Children start with the default actions (uv_spawn resets them). */
    (void)signal(SIGPIPE, SIG_IGN);
    (void)signal(SIGXFSZ, SIG_IGN);

    app a;
    memset(&a, 0, sizeof(a));
    a.loop = uv_default_loop();
    char *why_no_store = NULL;
    a.store = state_store(a.loop, state_dir, &why_no_store);
    cfg.state_dir = state_dir;
    cfg.store = a.store;
    a.jobs = jobs_new(a.loop, &cfg);
    a.tasks = tasks_new(a.loop, a.jobs, a.store, task_ttl);
    tools_init(&a.tools, TOOLS_PAGE_SIZE);
    tools_add(&a.tools, tool_codex_def(a.tasks));
    tools_add(&a.tools, tool_review_def(a.tasks));
    tools_add(&a.tools, tool_wait_def(a.tasks));
    tools_add(&a.tools, tool_cancel_def(a.tasks));
    tools_add(&a.tools, tool_sessions_def(a.store, why_no_store, a.jobs));
    free(why_no_store);

    mcp_server_info info = {
        .name = "codexmcp",
        .version = CODEXMCP_VERSION,
        .instructions = "Use the `codex` tool to hand a coding task to OpenAI's Codex CLI. "
                        "Pass the SESSION_ID from a result to continue that conversation; "
                        "`codex_sessions` finds earlier sessions again. `codex_review` has "
                        "Codex review a change. A result cut to fit names its `transcript`, "
                        "a file with everything. To run several Codex tasks at once, start "
                        "each with wait_s: 0, then `codex_wait` on all their task ids.",
    };
    a.session = mcp_session_new(&info, &a.tools, send_msg, &a);
    mcp_session_set_tasks(a.session, tasks_mcp_ops(), a.tasks);

    transport_callbacks cb = {on_line, on_oversized, on_eof, on_write_error, on_behind};
    a.tr = transport_new(a.loop, (size_t)max_line, &cb, &a);

    static const int signums[3] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(a.loop, &a.sigs[i]);
        a.sigs[i].data = &a;
        uv_signal_start(&a.sigs[i], on_signal, signums[i]);
    }

    if (transport_start(a.tr) != 0) {
        a.exit_code = 1;
        begin_shutdown(&a, "stdio unusable", 1);
    }
    uv_run(a.loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 3; i++)
        uv_close((uv_handle_t *)&a.sigs[i], NULL);
    uv_run(a.loop, UV_RUN_DEFAULT);

    mcp_session_free(a.session);
    tools_free(&a.tools);
    tasks_free(a.tasks);
    jobs_free(a.jobs);
    policy_free(&pol);
    tool_sessions_def(NULL, NULL, NULL);
    store_close(a.store);
    free(state_dir);
    uv_loop_close(a.loop);
    return a.exit_code;
}
