/* The Linux process table, read from /proc: each process's parent, process
 * group and start time, and what its environment holds. child.c and
 * supervisor.c use it to end every process of a call, in its process group
 * or not. On other systems it finds nothing.
 * Ownership: arrays returned through `out` are the caller's to free. */
#ifndef CODEXMCP_PROCTREE_H
#define CODEXMCP_PROCTREE_H

#include <stddef.h>

typedef struct {
    int pid, ppid, pgrp;
    unsigned long long start; /* clock ticks since boot: tells a process from a later one */
} proc_info;

/* Reads one process. Returns 0, or -1 when it is gone. */
int proctree_read(int pid, proc_info *out);
/* Every process but the caller. Returns how many are in *out. */
size_t proctree_list(proc_info **out);
/* The indexes in list of root's descendants (not root), parents before
 * children. Returns how many are in *out. */
size_t proctree_descendants(const proc_info *list, size_t n, int root, size_t **out);
/* Non-zero when pid's environment holds exactly `entry` ("NAME=value").
 * A process that rewrote its title (setproctitle) may have lost it. */
int proctree_environ_has(int pid, const char *entry);
/* Sends sig to every descendant of root, or with other_groups only to those
 * outside root's process group. Returns how many were signalled. */
size_t proctree_signal_descendants(int root, int sig, int other_groups);

#endif
