/* The process table from /proc (Linux). */
#include "proctree.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <dirent.h>
#endif

#include "util.h"

#ifdef __linux__
int proctree_read(int pid, proc_info *out)
{
    char path[64], stat[1024];
    (void)snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t len = fread(stat, 1, sizeof(stat) - 1, f);
    (void)fclose(f); /* read only: nothing is lost */
    stat[len] = '\0';
    char *rp = strrchr(stat, ')'); /* the command name may hold anything */
    char state;
    /* fields 3 to 5, then 6 to 21 skipped, then 22: starttime */
    /* NOLINTNEXTLINE(cert-err34-c): the kernel writes these numbers, in range */
    if (rp == NULL || sscanf(rp + 1,
                             " %c %d %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                             "%*s %*s %llu",
                             &state, &out->ppid, &out->pgrp, &out->start) != 4)
        return -1;
    out->pid = pid;
    return 0;
}

size_t proctree_list(proc_info **out)
{
    size_t n = 0, cap = 256;
    proc_info *list = xmalloc(cap * sizeof(*list));
    DIR *d = opendir("/proc");
    int self = (int)getpid();
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        unsigned long long pid;
        if (parse_uint(de->d_name, INT_MAX, &pid) != 0 || pid == 0 || (int)pid == self)
            continue; /* not a process, or this one */
        if (n == cap) {
            cap *= 2;
            list = xrealloc(list, cap * sizeof(*list));
        }
        if (proctree_read((int)pid, &list[n]) == 0)
            n++;
    }
    if (d)
        closedir(d);
    *out = list;
    return n;
}

size_t proctree_descendants(const proc_info *list, size_t n, int root, size_t **out)
{
    /* Breadth first; each process has one parent, so each is added once. */
    size_t *tree = xmalloc((n + 1) * sizeof(size_t));
    size_t nt = 0;
    for (size_t k = 0; k < n; k++)
        if (list[k].ppid == root && list[k].pid != root)
            tree[nt++] = k;
    for (size_t i = 0; i < nt; i++)
        for (size_t k = 0; k < n; k++)
            if (list[k].ppid == list[tree[i]].pid && nt < n)
                tree[nt++] = k;
    *out = tree;
    return nt;
}

int proctree_environ_has(int pid, const char *entry)
{
    char path[64];
    (void)snprintf(path, sizeof(path), "/proc/%d/environ", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;                    /* gone, or another user's */
    size_t elen = strlen(entry) + 1; /* with its NUL */
    char buf[8192];
    size_t have = 0;
    int found = 0;
    /* Entries are NUL-terminated; a window of the last bytes keeps an entry
     * split across two reads whole. */
    for (;;) {
        size_t n = fread(buf + have, 1, sizeof(buf) - have, f);
        have += n;
        const char *p = buf, *end = buf + have;
        const char *nul;
        while ((nul = memchr(p, '\0', (size_t)(end - p))) != NULL) {
            if ((size_t)(nul - p) + 1 == elen && memcmp(p, entry, elen) == 0) {
                found = 1;
                break;
            }
            p = nul + 1;
        }
        if (found || n == 0)
            break;
        have = (size_t)(end - p);
        if (have == sizeof(buf))
            have = 0; /* one entry longer than the window: not ours */
        memmove(buf, p, have);
    }
    (void)fclose(f);
    return found;
}

size_t proctree_signal_descendants(int root, int sig, int other_groups)
{
    proc_info *list;
    size_t n = proctree_list(&list), *tree;
    size_t nt = proctree_descendants(list, n, root, &tree), sent = 0;
    for (size_t i = 0; i < nt; i++) {
        const proc_info *p = &list[tree[i]];
        if (other_groups && p->pgrp == root)
            continue; /* the group had the signal already */
        if (kill(p->pid, sig) == 0)
            sent++;
    }
    free(tree);
    free(list);
    return sent;
}
#else
int proctree_read(int pid, proc_info *out)
{
    (void)pid;
    (void)out;
    return -1;
}

size_t proctree_list(proc_info **out)
{
    *out = NULL;
    return 0;
}

size_t proctree_descendants(const proc_info *list, size_t n, int root, size_t **out)
{
    (void)list;
    (void)n;
    (void)root;
    *out = NULL;
    return 0;
}

int proctree_environ_has(int pid, const char *entry)
{
    (void)pid;
    (void)entry;
    return 0;
}

size_t proctree_signal_descendants(int root, int sig, int other_groups)
{
    (void)root;
    (void)sig;
    (void)other_groups;
    return 0;
}
#endif
