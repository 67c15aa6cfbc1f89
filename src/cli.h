/* What the command-line views (codexmcp doctor, ps, log) share: colour,
 * the state directory, and short forms of times, paths and events. They
 * run in a short-lived process that writes to a terminal or a pipe, never
 * beside the server's event loop.
 * Ownership: functions returning char * return a new string. */
#ifndef CODEXMCP_CLI_H
#define CODEXMCP_CLI_H

#include <stdint.h>
#include <stdio.h>

/* --color WHEN: auto, always, never → 0; else -1. */
typedef enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER } cli_color_when;
int cli_color_parse(const char *when, cli_color_when *out);
/* Whether to colour stdout: always; never; auto: stdout is a terminal,
 * NO_COLOR is unset or empty and TERM is not "dumb". */
int cli_use_color(cli_color_when when);

/* SGR sequences, or "" when colour is off. */
typedef struct {
    const char *bold, *dim, *red, *green, *yellow, *blue, *cyan, *reset;
} cli_style;
void cli_style_init(cli_style *st, int color);

/* The state directory the server would use: `opt` (--state-dir), else
 * state_dir_default(); absolute. NULL, with a message on stderr, when
 * there is none. */
char *cli_state_dir(const char *opt, const char *cmd);

/* A duration in ms as "850ms", "4s", "1m12s", "2h03m" or "3d04h". */
char *cli_duration(int64_t ms);
/* path with $HOME shown as ~. */
char *cli_home_path(const char *path);
/* The columns of the terminal stdout is, or 0 when it is not one. */
unsigned cli_columns(void);

/* One short line for the last thing codex did in a transcript (its last
 * 64 KiB): "running `make`", "reasoning: …", a message…; NULL when there
 * is none or the file cannot be read. */
char *cli_last_event(const char *transcript);

#endif
