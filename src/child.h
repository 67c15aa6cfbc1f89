/* One codex child process: spawned by libuv in a process group of its own
 * (setsid), fed its prompt on stdin, stdout read as bounded lines, the last
 * STDERR_TAIL_BYTES of stderr kept, and the whole group terminated on
 * request (SIGTERM, then SIGKILL after a grace period). Only this module
 * knows about pids.
 *
 * On Linux the child first runs this same binary with CHILD_EXEC_FLAG,
 * which sets PR_SET_PDEATHSIG (SIGKILL) and then execs codex: libuv's
 * spawn has no hook between fork and exec, and the flag survives exec, so
 * codex dies with codexmcp even when codexmcp is killed with SIGKILL.
 *
 * Every process of the call, in its group or not, is ended with it when
 * codex exits, however it exits: the child's environment carries a marker
 * (CODEXMCP_CALL_<pid>=<n>) that tells its processes in /proc even after
 * they were re-parented to init.
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
} child_callbacks;

/* Spawns argv (argv[0] an absolute path) in cwd with the prompt on stdin.
 * Returns 0 or a negative UV_E* code (nothing to clean up then). */
int child_spawn(uv_loop_t *loop, char *const *argv, const char *cwd, const char *input,
                size_t input_len, const child_callbacks *cb, void *ctx, child **out);
/* SIGTERM to the group now, SIGKILL grace_ms later if it is still there. */
void child_terminate(child *c, unsigned grace_ms);
/* SIGKILL to the group now. */
void child_kill(child *c);
/* Stops (1) or resumes (0) reading the child's stdout; the child then waits
 * on its own pipe. Its stderr is still read (only a tail is kept). */
void child_pause_output(child *c, int paused);
int child_pid(const child *c);

/* The main() of a CHILD_EXEC_FLAG invocation: argv[2] is the parent's pid,
 * argv[3..] what to exec. Never returns on success. */
int child_exec_main(int argc, char **argv);

/* Finds `name` on PATH (or checks it, if it has a '/'). Returns a new
 * absolute path of an executable file, as found: symlinks are not
 * resolved, so argv[0] keeps the name. NULL when there is none. */
char *child_find_executable(const char *name);

#endif
