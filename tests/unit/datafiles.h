/* Test helper: the files of a data directory with a given ending, sorted,
 * as paths without that ending. Header-only: each test is one program. */
#ifndef CODEXMCP_TEST_DATAFILES_H
#define CODEXMCP_TEST_DATAFILES_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int datafiles_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fills names (malloc'd strings "dir/base") and returns their count, or -1
 * when dir cannot be read (the tests run from tests/unit). */
static int datafiles_list(const char *dir, const char *ending, char **names, size_t max)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "cannot read %s: run the tests from tests/unit\n", dir);
        return -1;
    }
    size_t n = 0, el = strlen(ending);
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < max) {
        size_t l = strlen(de->d_name);
        if (l <= el || strcmp(de->d_name + l - el, ending) != 0)
            continue;
        char *p = malloc(strlen(dir) + l + 2);
        sprintf(p, "%s/%.*s", dir, (int)(l - el), de->d_name);
        names[n++] = p;
    }
    closedir(d);
    qsort(names, n, sizeof(char *), datafiles_cmp);
    return (int)n;
}

#endif
