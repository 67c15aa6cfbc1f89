/* A codex child process in its own process group. */
#include "child.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "limits.h"
#include "linebuf.h"
#include "log.h"
#include "proctree.h"
#include "supervisor.h"
#include "util.h"

/* Time to wait for the pipes to reach EOF once the process is gone: a
 * grandchild that left the group may hold them open. */
#define DRAIN_AFTER_EXIT_MS 2000u

typedef struct proc_ref {
    int pid;
    unsigned long long start; /* tells a process from a later one with its pid */
} proc_ref;

struct child {
    uv_process_t proc;
    char marker[64];          /* "CODEXMCP_CALL_<our pid>=<n>": in the child's environment */
    unsigned long long start; /* the child's start time, 0 if unknown */
    int paused;               /* stdout not read: the client is behind */
    int drain_started;
    uv_pipe_t in, out, err;
    uv_timer_t timer; /* SIGKILL after the grace period; drain after exit */
    uv_write_t write_req;
    uv_shutdown_t shutdown_req;
    char *input;
    linebuf_t lines;
    buf_t err_tail;
    child_callbacks cb;
    void *ctx;
    int pid;
    int exited, out_eof, err_eof, closing;
    int input_closed; /* keep_input: child_close_input was called */
    int terminating;  /* SIGTERM sent, SIGKILL timer running */
    int killed;       /* SIGKILL sent to the group while it lived */
    unsigned grace_ms;
    proc_ref *strays; /* descendants outside the group, seen when signalled */
    size_t nstrays;
    int handles_open;
    int64_t exit_status;
    int term_signal;
};

#ifdef __linux__
/* Signals every process of this call outside its process group and
 * remembers each one (pid and start time), for the case where the
 * supervisor itself is gone (SIGKILLed): the supervisor's subtree while it
 * lives, and, among the processes started after it, those whose
 * environment holds the call's marker (they hang off init once their
 * parent is gone). Returns how many were not remembered before. */
static size_t sweep(child *c, int sig)
{
    proc_info *list;
    size_t n = proctree_list(&list), *tree;
    size_t nt = c->exited ? 0 : proctree_descendants(list, n, c->pid, &tree);
    if (c->exited)
        tree = xmalloc((n + 1) * sizeof(size_t));
    char *in = xcalloc(n + 1, 1);
    for (size_t i = 0; i < nt; i++)
        in[tree[i]] = 1;
    for (size_t k = 0; k < n; k++)
        if (!in[k] && list[k].pid != c->pid && c->start && list[k].start >= c->start &&
            proctree_environ_has(list[k].pid, c->marker))
            in[k] = 1, tree[nt++] = k;
    size_t fresh = 0;
    for (size_t i = 0; i < nt; i++) {
        const proc_info *p = &list[tree[i]];
        if (p->pgrp != c->pid) /* the group has the signal from kill_group */
            kill(p->pid, sig);
        size_t k = 0;
        while (k < c->nstrays && c->strays[k].pid != p->pid)
            k++;
        if (k == c->nstrays) {
            c->strays = xrealloc(c->strays, (c->nstrays + 1) * sizeof(*c->strays));
            c->strays[c->nstrays++] = (proc_ref){p->pid, p->start};
            fresh++;
        }
    }
    free(tree);
    free(in);
    free(list);
    return fresh;
}

/* SIGKILL to the remembered strays that are still the same processes (a
 * recycled pid has another start time). */
static void kill_strays(child *c)
{
    for (size_t i = 0; i < c->nstrays; i++) {
        proc_info p;
        if (proctree_read(c->strays[i].pid, &p) == 0 && p.start == c->strays[i].start)
            kill(c->strays[i].pid, SIGKILL);
    }
}
#endif

static void kill_group(child *c, int sig)
{
    if (c->pid <= 0)
        return;
#ifdef __linux__
    if (!c->exited) {
        /* The supervisor passes a SIGTERM on to what left the group; a
         * SIGKILL ends the supervisor too, so then it is done from here. */
        sweep(c, sig);
        c->killed |= sig == SIGKILL;
    } else if (c->killed || c->term_signal == SIGKILL) {
        /* The supervisor was killed before it could end the call's
         * processes: end what was seen of them, and what carries the
         * marker, until a pass finds nothing new. */
        kill_strays(c);
        for (int pass = 0; pass < 8 && sweep(c, SIGKILL) > 0; pass++)
            ;
    }
#endif
    int rc = uv_kill(-c->pid, sig);
    if (rc < 0 && rc != UV_ESRCH)
        log_msg(LOG_WARNING, "kill(-%d, %d): %s", c->pid, sig, uv_strerror(rc));
}

static void handle_closed(uv_handle_t *h)
{
    child *c = h->data;
    if (--c->handles_open > 0)
        return;
    if (c->cb.on_exit)
        c->cb.on_exit(c->ctx, c->exit_status, c->term_signal,
                      c->err_tail.data ? c->err_tail.data : "", c->err_tail.len);
    linebuf_free(&c->lines);
    buf_free(&c->err_tail);
    free(c->strays);
    free(c->input);
    free(c);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, handle_closed);
}

static void maybe_done(child *c)
{
    if (c->closing || !c->exited || !c->out_eof || !c->err_eof)
        return;
    c->closing = 1;
    uv_timer_stop(&c->timer);
    close_handle((uv_handle_t *)&c->proc);
    close_handle((uv_handle_t *)&c->in);
    close_handle((uv_handle_t *)&c->out);
    close_handle((uv_handle_t *)&c->err);
    close_handle((uv_handle_t *)&c->timer);
}

static void deliver_line(void *ctx, const char *line, size_t len, int overflow)
{
    child *c = ctx;
    c->cb.on_line(c->ctx, line, len, overflow);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = xmalloc(suggested);
    buf->len = suggested;
}

static void out_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    child *c = s->data;
    if (n > 0) {
        if (c->cb.on_output)
            c->cb.on_output(c->ctx, buf->base, (size_t)n);
        linebuf_feed(&c->lines, buf->base, (size_t)n, deliver_line, c);
    }
    free(buf->base);
    if (n < 0) {
        uv_read_stop(s);
        linebuf_finish(&c->lines, deliver_line, c);
        c->out_eof = 1;
        maybe_done(c);
    }
}

static void err_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    child *c = s->data;
    if (n > 0) {
        /* Keep only the newest STDERR_TAIL_BYTES. */
        const char *p = buf->base;
        size_t len = (size_t)n;
        if (len >= STDERR_TAIL_BYTES) {
            p += len - STDERR_TAIL_BYTES;
            len = STDERR_TAIL_BYTES;
            buf_reset(&c->err_tail);
        } else if (c->err_tail.len + len > STDERR_TAIL_BYTES) {
            size_t drop = c->err_tail.len + len - STDERR_TAIL_BYTES;
            memmove(c->err_tail.data, c->err_tail.data + drop, c->err_tail.len - drop);
            c->err_tail.len -= drop;
        }
        buf_append(&c->err_tail, p, len);
    }
    free(buf->base);
    if (n < 0) {
        uv_read_stop(s);
        c->err_eof = 1;
        maybe_done(c);
    }
}

static void drain_timeout(uv_timer_t *t)
{
    child *c = t->data;
    if (c->paused) {
        c->drain_started = 0; /* what is in the pipe is wanted: restarted on resume */
        return;
    }
    log_msg(LOG_WARNING, "codex pid %d exited but its output pipes stayed open; closing them",
            c->pid);
    if (!c->out_eof) {
        uv_read_stop((uv_stream_t *)&c->out);
        linebuf_finish(&c->lines, deliver_line, c);
    }
    c->out_eof = c->err_eof = 1;
    maybe_done(c);
}

static void exit_cb(uv_process_t *p, int64_t status, int term_signal)
{
    child *c = p->data;
    c->exited = 1;
    c->exit_status = status;
    c->term_signal = term_signal;
    /* The supervisor ended every process of the call before it exited;
     * the rest is for when it could not (see kill_group). */
    kill_group(c, SIGKILL);
    uv_timer_stop(&c->timer);
    if (!c->paused) {
        c->drain_started = 1;
        uv_timer_start(&c->timer, drain_timeout, DRAIN_AFTER_EXIT_MS, 0);
    }
    maybe_done(c);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status;
}

static void write_cb(uv_write_t *req, int status)
{
    child *c = req->data;
    free(c->input);
    c->input = NULL;
    if (status < 0) {
        /* codex exited without reading its prompt: its exit says why. */
        log_msg(LOG_DEBUG, "writing the prompt to codex: %s", uv_strerror(status));
        return;
    }
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->in, shutdown_cb) < 0)
        log_msg(LOG_DEBUG, "closing codex stdin failed");
}

static const char *self_exe(void)
{
#ifdef __linux__
    /* /proc/self/exe works even after the binary was replaced on disk (an
     * upgrade). Under valgrind, though, it is valgrind's tool, which refuses
     * to run alone; valgrind answers readlink with this program's path, so
     * the link then names another file than the kernel finds: run that. */
    static char path[PATH_MAX];
    static int checked;
    if (!checked) {
        checked = 1;
        struct stat self, named;
        ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
        path[n > 0 ? n : 0] = '\0';
        if (n <= 0 || stat("/proc/self/exe", &self) != 0 || stat(path, &named) != 0 ||
            (self.st_dev == named.st_dev && self.st_ino == named.st_ino))
            path[0] = '\0';
    }
    return path[0] ? path : "/proc/self/exe";
#else
    static char path[PATH_MAX];
    if (path[0] == '\0') {
        size_t size = sizeof(path);
        if (uv_exepath(path, &size) != 0)
            path[0] = '\0';
    }
    return path[0] ? path : NULL;
#endif
}

/* Whether env entry e ("NAME=…") sets one of the names in list (entries
 * "NAME=VALUE", or bare names when bare). */
static int env_named(const char *e, const char *const *list, int bare)
{
    size_t n = strcspn(e, "=");
    for (; list && *list; list++) {
        size_t m = bare ? strlen(*list) : strcspn(*list, "=");
        if (m == n && strncmp(e, *list, n) == 0)
            return 1;
    }
    return 0;
}

int child_spawn(uv_loop_t *loop, char *const *argv, const child_options *o,
                const child_callbacks *cb, void *ctx, child **out)
{
    unsigned grace_ms = o->grace_ms;
    child *c = xcalloc(1, sizeof(*c));
    c->cb = *cb;
    c->ctx = ctx;
    c->grace_ms = grace_ms;
    linebuf_init(&c->lines, CODEX_LINE_MAX_BYTES);
    buf_init(&c->err_tail, STDERR_TAIL_BYTES);

    size_t argc = 0;
    while (argv[argc])
        argc++;
    const char *self = self_exe();
    char **full = xcalloc(argc + 5, sizeof(char *));
    char ppid[32], grace[32];
    size_t k = 0;
    if (self) {
        (void)snprintf(ppid, sizeof(ppid), "%ld", (long)getpid());
        (void)snprintf(grace, sizeof(grace), "%u", grace_ms);
        full[k++] = (char *)self;
        full[k++] = (char *)CHILD_EXEC_FLAG;
        full[k++] = ppid;
        full[k++] = grace;
    }
    for (size_t i = 0; i < argc; i++)
        full[k++] = argv[i];
    full[k] = NULL;

    uv_pipe_init(loop, &c->in, 0);
    uv_pipe_init(loop, &c->out, 0);
    uv_pipe_init(loop, &c->err, 0);
    uv_timer_init(loop, &c->timer);
    c->in.data = c->out.data = c->err.data = c->timer.data = c->proc.data = c;
    c->handles_open = 5;

    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    stdio[0].data.stream = (uv_stream_t *)&c->in;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&c->out;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)&c->err;

    /* The marker names this call in the environment of everything codex
     * starts (see sweep). The name carries our pid, so a codexmcp run by a
     * codex keeps the marker of its own parent's call. */
    static unsigned long seq;
    (void)snprintf(c->marker, sizeof(c->marker), "CODEXMCP_CALL_%ld=%lu", (long)getpid(), ++seq);
    size_t nenv = 0, nset = 0;
    while (environ[nenv])
        nenv++;
    while (o->env_set && o->env_set[nset])
        nset++;
    char **env = xcalloc(nenv + nset + 2, sizeof(char *));
    size_t name_len = (size_t)(strchr(c->marker, '=') - c->marker) + 1;
    size_t ne = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], c->marker, name_len) != 0 &&
            !env_named(environ[i], (const char *const *)o->env_set, 0) &&
            !env_named(environ[i], o->env_unset, 1))
            env[ne++] = environ[i];
    for (size_t i = 0; i < nset; i++)
        env[ne++] = o->env_set[i];
    env[ne++] = c->marker;

    uv_process_options_t opts;
    memset(&opts, 0, sizeof(opts));
    opts.exit_cb = exit_cb;
    opts.file = full[0];
    opts.args = full;
    opts.env = env;
    opts.cwd = o->cwd;
    opts.flags = UV_PROCESS_DETACHED; /* setsid: its own process group */
    opts.stdio_count = 3;
    opts.stdio = stdio;
    int rc = uv_spawn(loop, &c->proc, &opts);
    free(full);
    free(env);
    if (rc < 0) {
        /* The handles must be closed even after a failed spawn; the child
         * frees itself once they are, without an on_exit. */
        c->cb.on_exit = NULL;
        c->closing = 1;
        uv_close((uv_handle_t *)&c->proc, handle_closed);
        uv_close((uv_handle_t *)&c->in, handle_closed);
        uv_close((uv_handle_t *)&c->out, handle_closed);
        uv_close((uv_handle_t *)&c->err, handle_closed);
        uv_close((uv_handle_t *)&c->timer, handle_closed);
        return rc;
    }
    c->pid = c->proc.pid;
    proc_info me;
    c->start = proctree_read(c->pid, &me) == 0 ? me.start : 0;
    uv_read_start((uv_stream_t *)&c->out, alloc_cb, out_read);
    uv_read_start((uv_stream_t *)&c->err, alloc_cb, err_read);
    *out = c;
    if (o->keep_input)
        return 0;
    c->input = xmalloc(o->input_len ? o->input_len : 1);
    if (o->input_len > 0) /* a review without instructions has none */
        memcpy(c->input, o->input, o->input_len);
    uv_buf_t b = uv_buf_init(c->input, (unsigned)o->input_len);
    c->write_req.data = c;
    if (uv_write(&c->write_req, (uv_stream_t *)&c->in, &b, 1, write_cb) < 0) {
        free(c->input);
        c->input = NULL;
    }
    return 0;
}

typedef struct {
    uv_write_t req;
    child *c;
    size_t len;
    char data[];
} child_write_req;

static void queued_write_cb(uv_write_t *req, int status)
{
    child_write_req *w = (child_write_req *)req;
    if (status < 0 && status != UV_ECANCELED)
        log_msg(LOG_DEBUG, "writing to codex pid %d: %s", w->c->pid, uv_strerror(status));
    free(w);
}

int child_write(child *c, const char *data, size_t len)
{
    if (c->input_closed || c->closing || c->exited)
        return UV_EPIPE;
    child_write_req *w = xmalloc(sizeof(*w) + len);
    w->c = c;
    w->len = len;
    memcpy(w->data, data, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->in, &b, 1, queued_write_cb);
    if (rc < 0)
        free(w);
    return rc;
}

size_t child_write_queued(const child *c)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&c->in);
}

void child_close_input(child *c)
{
    if (c->input_closed || c->closing)
        return;
    c->input_closed = 1;
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->in, shutdown_cb) < 0)
        close_handle((uv_handle_t *)&c->in);
}

static void grace_expired(uv_timer_t *t)
{
    child *c = t->data;
    if (c->exited)
        return;
    log_msg(LOG_WARNING,
            "the call's processes (supervisor pid %d) did not end after SIGTERM; "
            "sending SIGKILL",
            c->pid);
    kill_group(c, SIGKILL);
}

void child_terminate(child *c, unsigned grace_ms)
{
    /* A second request must not push the SIGKILL further away. */
    if (c->exited || c->terminating)
        return;
    c->terminating = 1;
    kill_group(c, SIGTERM);
    uv_timer_stop(&c->timer);
#ifdef __linux__
    /* The supervisor SIGKILLs its subtree after its own grace period (the
     * one it was started with); this one is the backstop. */
    grace_ms = (grace_ms > c->grace_ms ? grace_ms : c->grace_ms) + SUPERVISOR_BACKSTOP_MS;
#else
    if (grace_ms == 0) {
        kill_group(c, SIGKILL);
        return;
    }
#endif
    uv_timer_start(&c->timer, grace_expired, grace_ms, 0);
}

void child_kill(child *c)
{
    if (!c->exited)
        kill_group(c, SIGKILL);
}

size_t child_kill_tagged(child *c, const char *entry)
{
    size_t total = 0;
#ifdef __linux__
    for (int round = 0; round < 8 && !c->exited; round++) {
        proc_info *list;
        size_t n = proctree_list(&list), *tree;
        size_t nt = proctree_descendants(list, n, c->pid, &tree), killed = 0;
        for (size_t i = 0; i < nt; i++)
            if (proctree_environ_has(list[tree[i]].pid, entry) &&
                kill(list[tree[i]].pid, SIGKILL) == 0)
                killed++;
        free(tree);
        free(list);
        total += killed;
        if (killed == 0)
            break;
    }
#else
    (void)c;
    (void)entry;
#endif
    return total;
}

int child_pid(const child *c)
{
    return c->pid;
}

void child_pause_output(child *c, int paused)
{
    if (c->paused == paused || c->out_eof || c->closing)
        return;
    c->paused = paused;
    if (paused) {
        uv_read_stop((uv_stream_t *)&c->out);
        if (c->drain_started) {
            /* The drain limit counts time codex's output could be read. */
            uv_timer_stop(&c->timer);
            c->drain_started = 0;
        }
        return;
    }
    uv_read_start((uv_stream_t *)&c->out, alloc_cb, out_read);
    if (c->exited && !c->drain_started) {
        c->drain_started = 1;
        uv_timer_start(&c->timer, drain_timeout, DRAIN_AFTER_EXIT_MS, 0);
    }
}

int child_exec_main(int argc, char **argv)
{
    unsigned long long parent = 0, grace_ms = 0;
    if (argc < 5 || parse_uint(argv[2], INT_MAX, &parent) != 0 ||
        parse_uint(argv[3], UINT_MAX, &grace_ms) != 0) {
        fprintf(stderr, "codexmcp: %s is for internal use\n", CHILD_EXEC_FLAG);
        return 2;
    }
    return supervisor_main((int)parent, (unsigned)grace_ms, &argv[4]);
}

/* The path as found, made absolute but not resolved through symlinks: a
 * launcher that picks what to run from its name (volta's shim, busybox-style
 * multi-call binaries) must see the name it was found by in argv[0]. */
static char *check_exec(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, X_OK) != 0)
        return NULL;
    if (path[0] == '/')
        return xstrdup(path);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    return xasprintf("%s/%s", cwd, path);
}

char *child_find_executable(const char *name)
{
    if (name == NULL || *name == '\0')
        return NULL;
    if (strchr(name, '/'))
        return check_exec(name);
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        char *candidate =
            len ? xasprintf("%.*s/%s", (int)len, path, name) : xasprintf("./%s", name);
        char *found = check_exec(candidate);
        free(candidate);
        if (found)
            return found;
        if (end == NULL)
            break;
        path = end + 1;
    }
    return NULL;
}
