/* codexmcp doctor: whether a call can work here, one line per check
 * (✓ fine, ! works but worth knowing, ✗ a call cannot work as things are),
 * each ! and ✗ with its fix. It runs codex as a call would (--codex, the
 * native binary behind the npm launcher, the environment), asks
 * `codex exec --help` for the flags codexmcp passes and the app-server for
 * the methods its engine sends (probed without side effects), and never
 * prints a credential. Every codex it starts is killed (its process
 * group) when it outlives its time limit.
 * Ownership: the config is borrowed. */
#ifndef CODEXMCP_DOCTOR_H
#define CODEXMCP_DOCTOR_H

#include "cli.h"
#include "engine.h"
#include "policy.h"

typedef struct {
    const char *codex;     /* --codex / CODEXMCP_CODEX, or NULL: `codex` on PATH */
    int native;            /* run the binary behind the npm launcher */
    engine_kind engine;    /* --engine */
    const policy *policy;  /* the caps */
    const char *state_dir; /* absolute, or NULL: none */
    cli_color_when color;
} doctor_config;

/* Prints the report on stdout. Returns 0 when no check failed, else 1. */
int doctor_run(const doctor_config *c);

#endif
