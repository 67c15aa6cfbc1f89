/* What runs codex. When `codex` is the npm launcher (@openai/codex's
 * bin/codex.js), every call would start Node first only to exec the native
 * binary of the platform package; this finds that binary the way the
 * launcher does (its platform package resolved like Node's require, else
 * the package's own vendor/) and the environment the launcher gives it
 * (CODEX_MANAGED_PACKAGE_ROOT, CODEX_MANAGED_BY_<manager>=1). Whenever
 * anything does not match, the launcher itself runs.
 * Ownership: launcher_resolve fills a codex_cmd; codex_cmd_free frees it. */
#ifndef CODEXMCP_LAUNCHER_H
#define CODEXMCP_LAUNCHER_H

typedef struct {
    char *path;                   /* what to run */
    char **env_set;               /* NULL-terminated "NAME=VALUE" list, or NULL */
    const char *const *env_unset; /* names to remove (static), or NULL */
    int native;                   /* path is the binary behind the launcher */
} codex_cmd;

/* found: the codex executable as found on PATH or given (absolute). With
 * `native` 0, or when found is not the launcher, or anything is not as
 * expected, cmd runs `found` as it is. Never fails. */
void launcher_resolve(const char *found, int native, codex_cmd *cmd);
void codex_cmd_free(codex_cmd *cmd);

#endif
