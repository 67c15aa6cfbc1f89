/* The caps a server is started with, checked before a call spawns anything. */
#include "policy.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "limits.h"
#include "util.h"

static const char *const sandbox_names[] = {"read-only", "workspace-write", "danger-full-access"};

void policy_init(policy *p)
{
    memset(p, 0, sizeof(*p));
    p->max_sandbox = SANDBOX_FULL_ACCESS;
}

void policy_free(policy *p)
{
    for (size_t i = 0; i < p->nroots; i++)
        free(p->roots[i]);
    free(p->roots);
    memset(p, 0, sizeof(*p));
}

int policy_sandbox_parse(const char *name, sandbox_level *out)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, sandbox_names[i]) == 0) {
            *out = (sandbox_level)i;
            return 0;
        }
    }
    return -1;
}

void policy_cap_sandbox(policy *p, sandbox_level level, const char *by)
{
    /* The tightest cap wins, whether it came from an option or the
     * environment. */
    if (p->sandbox_by == NULL || level < p->max_sandbox) {
        p->max_sandbox = level;
        p->sandbox_by = by;
    }
    /* yolo is full access without a sandbox: any cap below forbids it. */
    if (level < SANDBOX_FULL_ACCESS)
        policy_forbid_yolo(p, by);
}

void policy_forbid_yolo(policy *p, const char *by)
{
    if (p->yolo_by == NULL)
        p->yolo_by = by;
}

int policy_add_root(policy *p, const char *dir, const char *by, char **error)
{
    char resolved[PATH_MAX];
    struct stat st;
    if (*dir == '\0' || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
        realpath(dir, resolved) == NULL) {
        *error = xasprintf("%s \"%s\" is not an existing directory", by, dir);
        return -1;
    }
    p->roots = xrealloc(p->roots, (p->nroots + 1) * sizeof(*p->roots));
    p->roots[p->nroots++] = xstrdup(resolved);
    p->roots_by = by;
    return 0;
}

int policy_read_only(const policy *p)
{
    return p->max_sandbox == SANDBOX_READ_ONLY;
}

int policy_bounds_writes(const policy *p)
{
    return p->max_sandbox < SANDBOX_FULL_ACCESS || p->nroots > 0;
}

/* The cap is --max-sandbox or its variable: name it with its value. */
static int takes_level(const char *by)
{
    return strcmp(by, "--max-sandbox") == 0 || strcmp(by, "CODEXMCP_MAX_SANDBOX") == 0;
}

/* dir (resolved) is root or below it. */
static int inside(const char *dir, const char *root)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/')
        return 1;
    return strncmp(dir, root, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

static char *roots_listed(const policy *p)
{
    buf_t b;
    buf_init(&b, (size_t)PATH_SHOWN_MAX * 8);
    for (size_t i = 0; i < p->nroots; i++) {
        if (i)
            buf_append(&b, ", ", 2);
        char *shown = one_line(p->roots[i], PATH_SHOWN_MAX);
        buf_append(&b, shown, strlen(shown));
        free(shown);
    }
    char *s = xstrdup(b.data ? b.data : "");
    buf_free(&b);
    return s;
}

char *policy_check(const policy *p, const codex_request *req)
{
    sandbox_level asked = SANDBOX_READ_ONLY;
    if (req->sandbox)
        (void)policy_sandbox_parse(req->sandbox, &asked);
    if (req->yolo && p->yolo_by) {
        /* Name the cap with its value when it is a sandbox cap. */
        int capped = takes_level(p->yolo_by);
        return xasprintf("yolo is not allowed on this server (%s%s%s): it runs Codex's commands "
                         "without a sandbox. Leave out yolo%s",
                         p->yolo_by, capped ? " " : "", capped ? sandbox_names[p->max_sandbox] : "",
                         p->max_sandbox > SANDBOX_READ_ONLY ? " and choose a sandbox" : "");
    }
    if (asked > p->max_sandbox)
        return xasprintf("sandbox \"%s\" is not allowed on this server: it runs Codex at most in "
                         "\"%s\" (%s%s%s)",
                         sandbox_names[asked], sandbox_names[p->max_sandbox], p->sandbox_by,
                         takes_level(p->sandbox_by) ? " " : "",
                         takes_level(p->sandbox_by) ? sandbox_names[p->max_sandbox] : "");
    if (p->nroots == 0)
        return NULL;
    for (size_t i = 0; i < p->nroots; i++)
        if (inside(req->cd, p->roots[i]))
            return NULL;
    char *roots = roots_listed(p);
    char *cd = one_line(req->cd, PATH_SHOWN_MAX);
    char *msg;
    if (req->cd_given && strcmp(req->cd_given, req->cd) != 0) {
        char *given = one_line(req->cd_given, PATH_SHOWN_MAX);
        msg = xasprintf("cd \"%s\" resolves to \"%s\", which is outside the directories this "
                        "server may work in (%s %s)",
                        given, cd, p->roots_by, roots);
        free(given);
    } else {
        msg = xasprintf("cd \"%s\" is outside the directories this server may work in (%s %s)", cd,
                        p->roots_by, roots);
    }
    free(cd);
    free(roots);
    return msg;
}
