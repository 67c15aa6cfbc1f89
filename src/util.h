/* Small helpers shared by every module: allocation that never returns NULL
 * (out of memory aborts in one place, as redis' zmalloc does), and a
 * growable byte buffer with a hard maximum (curl's dynbuf shape). */
#ifndef CODEXMCP_UTIL_H
#define CODEXMCP_UTIL_H

#include <locale.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

/* A byte buffer that refuses to grow past `max`. The buffer owns `data`;
 * buf_free releases it. data is always NUL-terminated after len bytes. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
} buf_t;

void buf_init(buf_t *b, size_t max);
void buf_free(buf_t *b);
void buf_reset(buf_t *b);
/* Appends n bytes; returns 0, or -1 (buffer unchanged) if it would pass max. */
int buf_append(buf_t *b, const void *p, size_t n);

/* Copies at most `max` bytes of s into a new string that is valid UTF-8:
 * invalid bytes become U+FFFD, control characters other than \n and \t
 * become spaces, a cut never splits a character. */
char *utf8_sanitize(const char *s, size_t len, size_t max);
/* utf8_sanitize, then white space trimmed at both ends: a stderr tail as
 * an error message quotes it (new string). */
char *utf8_trimmed(const char *s, size_t len, size_t max);

/* utf8_sanitize of a whole NUL-terminated string, with room for every
 * replacement (each bad byte becomes three). */
char *utf8_clean(const char *s);

/* Non-zero when the line holds nothing but spaces, tabs and CRs. */
int blank_line(const char *s, size_t len);

/* One line of at most `max` bytes: whitespace runs folded to one space,
 * trimmed, "…" appended when cut. Result is valid UTF-8. */
char *one_line(const char *s, size_t max);

/* mkdir -p: creates path and its missing parents with mode 0700. Returns 0
 * when path is a directory at the end, else -1 with errno set. */
int mkdir_private(const char *path);

/* A whole decimal number (all of s, no sign) of at most max into *out: 0,
 * or -1 and *out untouched. */
int parse_uint(const char *s, unsigned long long max, unsigned long long *out);

/* Non-zero when id has the shape of a UUID (8-4-4-4-12 hex digits). */
int uuid_shaped(const char *id);
/* A session id as compared and kept: codex accepts a thread id in any
 * case ("01A2…" and "01a2…" are one session), so a UUID in lower case, as
 * codex prints them; other names as written. A new string; NULL for NULL. */
char *session_id_key(const char *id);

/* Milliseconds since the Unix epoch (wall clock). */
int64_t now_unix_ms(void);
/* ms since the epoch as ISO 8601 UTC with milliseconds
 * ("2026-11-24T11:42:57.822Z") into out. */
#define ISO_TIME_LEN 40
void iso_time_ms(int64_t ms, char out[ISO_TIME_LEN]);

/* Non-zero when a process with this pid exists (ours to signal or not):
 * a "running" row whose server is gone was interrupted. */
int pid_alive(pid_t pid);

/* The C.UTF-8 locale's LC_CTYPE, made once on first use (any thread), for
 * towlower_l and for uselocale around wcwidth; (locale_t)0 when the C
 * library has none. */
locale_t utf8_locale(void);

/* "SIGKILL" for SIGKILL, and so on for the signals codex may die of; else "signal". */
const char *signal_name(int sig);

/* path made absolute (against the working directory) and without ".",
 * ".." or repeated slashes, by its text alone (it need not exist yet). */
char *absolute_path(const char *path);
/* The state directory when none is given: $CODEXMCP_STATE_DIR,
 * $XDG_STATE_HOME/codexmcp (absolute only), ~/.local/state/codexmcp; NULL
 * without any. A new string. */
char *state_dir_default(void);

#endif
