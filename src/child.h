/* One codex call's process: libuv spawns this same binary with
 * CHILD_EXEC_FLAG in a process group of its own (setsid); it is the call's
 * supervisor (supervisor.h), which runs codex below it and ends every
 * process of the call when codex exits. This module feeds the prompt on
 * stdin, reads stdout as bounded lines, keeps the last STDERR_TAIL_BYTES of
 * stderr, and stops the call on request (SIGTERM to the group; the
 * supervisor SIGKILLs its subtree after the grace period; a SIGKILL from
 * here is the backstop). Only this module, supervisor.c and proctree.c
 * know about pids.
 *
 * Should the supervisor be killed before it could end them, the call's
 * processes are still found: those seen in its subtree when the call was
 * stopped (pid and start time), and those whose environment holds the
 * call's marker (CODEXMCP_CALL_<pid>=<n>).
 *
 * Ownership: child_spawn creates; the child frees itself after on_exit
 * returns (its handles closed, every stdout line delivered). */
#ifndef CODEXMCP_CHILD_H
#define CODEXMCP_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define CHILD_EXEC_FLAG "--internal-child-exec"

typedef struct child child;

typedef struct {
    /* One stdout line; overflow: dropped line of `len` bytes, line NULL. */
    void (*on_line)(void *ctx, const char *line, size_t len, int overflow);
    /* The process is gone and its output read. term_signal 0: exited with
     * exit_status. stderr is the kept tail (valid during the call). */
    void (*on_exit)(void *ctx, int64_t exit_status, int term_signal, const char *stderr_tail,
                    size_t stderr_len);
    /* Every stdout byte as read, before it is cut into lines (NULL: not
     * wanted). */
    void (*on_output)(void *ctx, const char *data, size_t len);
} child_callbacks;

typedef struct {
    const char *cwd;
    /* Written to stdin, which is then closed (a prompt) ... */
    const char *input;
    size_t input_len;
    /* ... unless stdin stays open for child_write (the app-server). */
    int keep_input;
    /* "NAME=VALUE" entries to set and names to remove from the environment
     * it inherits (NULL-terminated lists, or NULL). */
    char *const *env_set;
    const char *const *env_unset;
    unsigned grace_ms; /* the supervisor's SIGTERM -> SIGKILL */
} child_options;

/* Spawns argv (argv[0] an absolute path). Returns 0 or a negative UV_E*
 * code (nothing to clean up then). */
int child_spawn(uv_loop_t *loop, char *const *argv, const child_options *o,
                const child_callbacks *cb, void *ctx, child **out);
/* Queues data (copied) on the stdin of a keep_input child. Returns 0, or
 * a negative UV_E* code when stdin is closed or broken. */
int child_write(child *c, const char *data, size_t len);
/* Bytes queued on its stdin that it has not read yet. */
size_t child_write_queued(const child *c);
/* Closes its stdin (after what is queued): the app-server's way to end. */
void child_close_input(child *c);
/* SIGTERM to the group now, SIGKILL grace_ms later if it is still there. */
void child_terminate(child *c, unsigned grace_ms);
/* SIGKILL to the group now. */
void child_kill(child *c);
/* Stops (1) or resumes (0) reading the child's stdout; the child then waits
 * on its own pipe. Its stderr is still read (only a tail is kept). */
void child_pause_output(child *c, int paused);
int child_pid(const child *c);
/* SIGKILLs every process below the child whose environment holds `entry`
 * ("NAME=VALUE"), in rounds until none is left (what dies hands its
 * children on). The app-server engine ends a turn's processes with it:
 * codex gives each command CODEX_THREAD_ID. Returns how many. */
size_t child_kill_tagged(child *c, const char *entry);

/* The main() of a CHILD_EXEC_FLAG invocation: argv[2] is the parent's pid,
 * argv[3] the grace period (ms) between SIGTERM and SIGKILL, argv[4..] what
 * to run under the supervisor (supervisor.h). */
int child_exec_main(int argc, char **argv);

/* Finds `name` on PATH (or checks it, if it has a '/'). Returns a new
 * absolute path of an executable file, as found: symlinks are not
 * resolved, so argv[0] keeps the name. NULL when there is none. */
char *child_find_executable(const char *name);

#endif
