/* What the command-line views (codexmcp doctor, ps, log) share: colour,
 * the state directory, and short forms of times, paths and events. They
 * run in a short-lived process that writes to a terminal or a pipe, never
 * beside the server's event loop.
 * Ownership: functions returning char * return a new string. */
#ifndef CODEXMCP_CLI_H
#define CODEXMCP_CLI_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* --color WHEN: auto, always, never → 0; else -1. */
typedef enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER } cli_color_when;
int cli_color_parse(const char *when, cli_color_when *out);
/* Whether to colour stdout: always; never; auto: stdout is a terminal,
 * NO_COLOR is unset or empty and TERM is not "dumb". */
int cli_use_color(cli_color_when when);

/* What every view takes: --state-dir DIR (getopt code 's'), --color WHEN
 * ('c'), --help ('h'); and getopt_long's ':' and '?' (opterr 0, an
 * optstring that starts with ':'). */
typedef struct {
    const char *cmd;   /* "ps", "log" */
    const char *usage; /* its --help text */
    const char *state_dir;
    cli_color_when color;
} cli_opts;
/* Their lines in each view's --help, and their entries in its long
 * options. */
#define CLI_COMMON_HELP                                                                            \
    "      --state-dir DIR\n"                                                                      \
    "                     the state directory (default: as the server's)\n"                        \
    "      --color WHEN   auto (on a terminal, unless NO_COLOR is set), always\n"                  \
    "                     or never (default: auto)\n"                                              \
    "  -h, --help         show this help and exit\n"
#define CLI_COMMON_OPTIONS                                                                         \
    {"state-dir", required_argument, NULL, 's'}, {"color", required_argument, NULL, 'c'},          \
        {"colour", required_argument, NULL, 'c'},                                                  \
    {                                                                                              \
        "help", no_argument, NULL, 'h'                                                             \
    }
/* One getopt_long result c: 0 when it is the caller's own option, 1 when
 * taken, -1 when the view ends now with *status (0 after --help, 2 after a
 * message on stderr). */
int cli_common_option(cli_opts *o, int c, char **argv, int *status);
/* After the options: 2 (with the message) when an argument is left over
 * past `want` more, else 0. */
int cli_extra_arguments(const cli_opts *o, int argc, char **argv, int want);

/* SGR sequences, or "" when colour is off. */
typedef struct {
    const char *bold, *dim, *red, *green, *yellow, *blue, *cyan, *reset;
} cli_style;
void cli_style_init(cli_style *st, int color);

/* The state directory the server would use: o->state_dir (--state-dir),
 * else state_dir_default(); absolute. NULL, with a message on stderr, when
 * there is none. *registry: its codexmcp.sqlite. */
char *cli_state_dir(const cli_opts *o, char **registry);

/* A duration in ms as "850ms", "4s", "1m12s", "2h03m" or "3d04h". */
char *cli_duration(int64_t ms);
/* path with $HOME shown as ~. */
char *cli_home_path(const char *path);
/* The columns of the terminal stdout is, or 0 when it is not one. */
unsigned cli_columns(void);

/* Text from outside (codex, a transcript, the registry) made safe for a
 * terminal: valid UTF-8, every control character (C0 but newline, DEL,
 * C1: U+0080 to U+009F, which xterm reads as CSI and the like) a space, so
 * no escape sequence of it reaches the terminal. cli_line: on one line of
 * at most max bytes. New strings. */
char *cli_safe(const char *text);
char *cli_line(const char *text, size_t max);
/* Every string in v (objects and arrays, deep) replaced by its cli_safe
 * form: what is read from a transcript or the registry goes through it
 * before any of it is printed. */
void cli_safe_json(json_t *v);

/* One short line for the last thing codex did in a transcript (its last
 * line, read from its end): "running: make", "reasoning: …", "message: …",
 * safe for a terminal; NULL when there is none or the file cannot be read. */
char *cli_last_event(const char *transcript);

#endif
