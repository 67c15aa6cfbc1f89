/* libFuzzer target for the tools' arguments (codex_args.c, policy.c): the
 * input is the JSON `arguments` of a tool call (first byte: 0 `codex`, 1
 * `codex_review`), validated, checked against a read-only policy rooted at
 * /tmp, and built into codex's argv as the exec engine builds it. Aborts
 * when a valid request yields an argv in which a value could be read as
 * an option or the prompt appears (the prompt goes on stdin), or when a
 * refusal has no message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codex_args.h"
#include "log.h"
#include "policy.h"

/* The flags whose next argv element is a value. */
static int takes_value(const char *a)
{
    static const char *const flags[] = {"--sandbox", "--cd",    "--model",  "--profile", "--config",
                                        "-c",        "--image", "-C",       "-m",        "-s",
                                        "-p",        "--base",  "--commit", "--title",   NULL};
    for (size_t i = 0; flags[i]; i++)
        if (strcmp(a, flags[i]) == 0)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    log_set_stderr_level(LOG_OFF);
    json_t *args = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    if (!json_is_object(args)) {
        json_decref(args);
        return 0;
    }
    static policy p;
    static int ready;
    if (!ready) {
        policy_init(&p);
        policy_cap_sandbox(&p, SANDBOX_READ_ONLY, "--read-only");
        char *err = NULL;
        if (policy_add_root(&p, "/tmp", "--allow-root", &err) != 0)
            abort();
        ready = 1;
    }
    codex_request req;
    char *error = NULL;
    int rc = (data[0] & 1) ? codex_review_parse(args, &req, &error)
                           : codex_request_parse(args, &req, &error);
    if (rc != 0) {
        if (error == NULL || *error == '\0')
            abort();
        free(error);
        json_decref(args);
        return 0;
    }
    char *refused = policy_check(&p, &req);
    free(refused);
    /* as jobs_submit does; built refused or not, so every argv is built */
    req.cd_only_writes = policy_bounds_writes(&p);
    char **argv = codex_argv_build(&req, "/usr/bin/codex");
    int after_dashes = 0;
    for (size_t i = 1; argv[i]; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            after_dashes = 1;
            continue;
        }
        /* A value never stands where codex reads an option. */
        if (takes_value(a) && argv[i + 1] == NULL)
            abort();
        if (takes_value(a)) {
            i++;
            continue;
        }
        if (!after_dashes && a[0] != '-' && strcmp(a, "exec") != 0 && strcmp(a, "resume") != 0 &&
            strcmp(a, "review") != 0 && (req.session_id == NULL || strcmp(a, req.session_id) != 0))
            abort();
        /* The prompt goes on stdin, never in argv. */
        if (req.prompt && req.prompt_len > 8 && strcmp(a, req.prompt) == 0)
            abort();
    }
    codex_argv_free(argv);
    codex_request_free(&req);
    json_decref(args);
    return 0;
}
