/* The supervisor of one call: a subreaper between codexmcp and codex. */
#include "supervisor.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#endif

#include "limits.h"
#include "proctree.h"

#ifdef __linux__
static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reaps every child that has ended, codex's status kept. Returns non-zero
 * while children are left. */
static int reap(pid_t codex, int *status, int *codex_done)
{
    pid_t p;
    int st;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0)
        if (p == codex) {
            *status = st;
            *codex_done = 1;
        }
    return !(p < 0 && errno == ECHILD);
}

/* Leaves as codex left: with its exit status, or killed by its signal. */
static int exit_like(int status)
{
    if (!WIFSIGNALED(status))
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    int sig = WTERMSIG(status);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    (void)signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    (void)raise(sig);
    return 128 + sig;
}

/* The signal the kernel sends when codexmcp dies (PR_SET_PDEATHSIG): one
 * the supervisor takes, not one that kills it, so that it still ends the
 * call's processes, even when codexmcp was SIGKILLed. */
#define PARENT_DIED SIGRTMIN

int supervisor_main(int parent, unsigned grace_ms, char **cmd)
{
    pid_t self = getpid();
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, PARENT_DIED);
    sigprocmask(SIG_BLOCK, &set, &old);
    /* If codexmcp is already gone, start nothing. */
    if (prctl(PR_SET_PDEATHSIG, PARENT_DIED) != 0 || getppid() != parent)
        return 1;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        fprintf(stderr, "codexmcp: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
    pid_t codex = fork();
    if (codex < 0) {
        fprintf(stderr, "codexmcp: cannot start codex: %s\n", strerror(errno));
        return 127;
    }
    if (codex == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != self)
            _exit(1);
        execv(cmd[0], cmd);
        fprintf(stderr, "codexmcp: cannot run %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    /* The prompt is codex's to read. */
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) {
        dup2(null, 0);
        close(null);
    }

    int status = 0, done = 0;
    uint64_t deadline = 0; /* SIGKILL the subtree then; 0: not stopping */
    while (!done) {
        int sig;
        siginfo_t si;
        if (deadline) {
            uint64_t now = now_ms();
            if (now >= deadline) {
                proctree_signal_descendants(self, SIGKILL, 0);
                deadline = 0;
                continue;
            }
            uint64_t left = deadline - now;
            struct timespec ts = {(time_t)(left / 1000u), (long)(left % 1000u) * 1000000L};
            sig = sigtimedwait(&set, &si, &ts);
        } else {
            sig = sigwaitinfo(&set, &si);
        }
        if (sig == SIGCHLD) {
            reap(codex, &status, &done);
        } else if (sig == PARENT_DIED) {
            /* codexmcp is gone: nobody waits for this call any more. */
            proctree_signal_descendants(self, SIGKILL, 0);
        } else if (sig > 0) {
            /* codexmcp stops the call: its signal reached the process
             * group; what left the group gets it from here. */
            proctree_signal_descendants(self, sig, 1);
            if (deadline == 0)
                deadline = now_ms() + grace_ms + (grace_ms == 0);
        }
    }

    /* codex is gone: nothing of its call may stay. While the supervisor has
     * children, SIGKILL the subtree: what dies hands its children to it
     * (SIGCHLD), which are killed in the next round. No child left means
     * the subtree is empty (every descendant hangs below a living child),
     * so the common case reads /proc not at all. A round in which nothing
     * died (a stopped or frozen process) counts as stuck; after
     * SUPERVISOR_STUCK_ROUNDS of them the supervisor gives up and exits. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    for (unsigned stuck = 0; stuck < SUPERVISOR_STUCK_ROUNDS;) {
        if (!reap(codex, &status, &done))
            break;
        proctree_signal_descendants(self, SIGKILL, 0);
        struct timespec ts = {0, (long)SUPERVISOR_ROUND_MS * 1000000L};
        if (sigtimedwait(&chld, NULL, &ts) < 0)
            stuck++;
        else
            stuck = 0;
    }
    return exit_like(status);
}
#else
int supervisor_main(int parent, unsigned grace_ms, char **cmd)
{
    (void)parent;
    (void)grace_ms;
    execv(cmd[0], cmd);
    fprintf(stderr, "codexmcp: cannot run %s: %s\n", cmd[0], strerror(errno));
    return 127;
}
#endif
