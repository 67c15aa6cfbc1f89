/* The supervisor of one call (Linux): the process codexmcp spawns for a
 * codex turn. It makes itself a child subreaper, forks codex (which dies
 * with it by PR_SET_PDEATHSIG) and waits; when codexmcp dies, however it
 * dies, the kernel tells it (PR_SET_PDEATHSIG with a signal it takes) and
 * it ends the whole call at once. Everything codex starts stays in
 * its subtree, even a process that leaves codex's session and whose parent
 * exits: orphans come to the nearest subreaper. On SIGTERM from codexmcp it
 * passes the signal on to what left the process group, and SIGKILLs the
 * whole subtree after the grace period. When codex exits, however it exits,
 * it SIGKILLs everything left in its subtree, reaps it, and exits as codex
 * did (the same status, or the same signal). So the end of the supervisor
 * is the end of the call's every process, and codex's stdout, which the
 * supervisor holds too, reaches EOF then. */
#ifndef CODEXMCP_SUPERVISOR_H
#define CODEXMCP_SUPERVISOR_H

/* Runs cmd (cmd[0] a path) under supervision; the parent must be
 * `parent`. Returns the exit status to exit with; never returns when codex
 * was killed by a signal (the supervisor then dies by the same signal). */
int supervisor_main(int parent, unsigned grace_ms, char **cmd);

#endif
