/* What the person who starts the server allows, whatever a call asks: the
 * strongest sandbox (--max-sandbox), yolo (--no-yolo) and the directories
 * Codex may work in (--allow-root); --read-only is the first two at their
 * tightest. A model cannot change any of it. Each cap remembers the option
 * (or environment variable) that set it, so a refusal names it.
 * Ownership: policy_init, then policy_free; the strings given as `by` are
 * borrowed (string literals). */
#ifndef CODEXMCP_POLICY_H
#define CODEXMCP_POLICY_H

#include <stddef.h>

#include "codex_args.h"

typedef enum { SANDBOX_READ_ONLY, SANDBOX_WORKSPACE_WRITE, SANDBOX_FULL_ACCESS } sandbox_level;

typedef struct {
    sandbox_level max_sandbox;
    const char *sandbox_by; /* the option that set max_sandbox, or NULL: no cap */
    const char *yolo_by;    /* the option that forbids yolo, or NULL */
    char **roots;           /* resolved directories; none: anywhere */
    size_t nroots;
    const char *roots_by;
} policy;

void policy_init(policy *p);
void policy_free(policy *p);
/* "read-only", "workspace-write", "danger-full-access" → 0; else -1. */
int policy_sandbox_parse(const char *name, sandbox_level *out);
/* Lowers the cap to `level` (a cap only ever tightens). */
void policy_cap_sandbox(policy *p, sandbox_level level, const char *by);
void policy_forbid_yolo(policy *p, const char *by);
/* Adds an allowed root; -1 with *error (the caller frees it) when dir is
 * not an existing directory. */
int policy_add_root(policy *p, const char *dir, const char *by, char **error);
/* Codex can change nothing on this server: tools may say readOnlyHint. */
int policy_read_only(const policy *p);
/* A cap bounds where Codex writes (a --max-sandbox below full access, or
 * an --allow-root): a workspace-write turn then writes only in its cd (and
 * the temporary directories), not in writable_roots of Codex's own
 * configuration. */
int policy_bounds_writes(const policy *p);
/* NULL when req is allowed, else why not, naming the option (new string). */
char *policy_check(const policy *p, const codex_request *req);

#endif
