/* Allocation wrappers, bounded buffers and UTF-8 clean-up. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void oom(size_t n)
{
    fprintf(stderr, "codexmcp: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (p == NULL)
        oom(count * n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return xstrdup("");
    char *p = xmalloc((size_t)n + 1);
    (void)vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}

void buf_init(buf_t *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_free(buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int buf_append(buf_t *b, const void *p, size_t n)
{
    if (n > b->max - b->len)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > b->max + 1)
            cap = b->max + 1;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/* Length of the valid UTF-8 sequence at s (at most `avail` bytes), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

char *utf8_trimmed(const char *s, size_t len, size_t max)
{
    char *clean = utf8_sanitize(s, len, max);
    const char *p = clean;
    while (*p == ' ' || *p == '\n' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\n' || p[n - 1] == '\t'))
        n--;
    char *out = xstrndup(p, n);
    free(clean);
    return out;
}

char *utf8_sanitize(const char *s, size_t len, size_t max)
{
    static const char repl[] = "\xef\xbf\xbd";
    buf_t b;
    buf_init(&b, max);
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq_len(p + i, len - i);
        int rc;
        if (n == 0) {
            rc = buf_append(&b, repl, 3);
            n = 1;
        } else if (n == 1 && p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') {
            rc = buf_append(&b, " ", 1);
        } else {
            rc = buf_append(&b, p + i, n);
        }
        if (rc != 0)
            break;
        i += n;
    }
    if (b.data == NULL)
        return xstrdup("");
    return b.data;
}

char *utf8_clean(const char *s)
{
    size_t len = strlen(s);
    return utf8_sanitize(s, len, len * 3 + 1);
}

int blank_line(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

char *one_line(const char *s, size_t max)
{
    static const char ellipsis[] = "\xe2\x80\xa6";
    char *clean = utf8_clean(s);
    buf_t b;
    buf_init(&b, max);
    int space = 0, cut = 0;
    const unsigned char *p = (const unsigned char *)clean;
    size_t i = 0, n = strlen(clean);
    while (i < n) {
        /* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): i < strlen */
        if (p[i] == ' ' || p[i] == '\n' || p[i] == '\t' || p[i] == '\r') {
            space = b.len > 0;
            i++;
            continue;
        }
        size_t k = utf8_seq_len(p + i, n - i);
        if (k == 0)
            k = 1;
        /* keep room for the ellipsis */
        if (b.len + (size_t)space + k + 3 > max) {
            cut = 1;
            break;
        }
        if (space)
            buf_append(&b, " ", 1);
        space = 0;
        buf_append(&b, p + i, k);
        i += k;
    }
    if (cut) {
        b.max += 3;
        buf_append(&b, ellipsis, 3);
    }
    free(clean);
    if (b.data == NULL)
        return xstrdup("");
    return b.data;
}

int mkdir_private(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
        return -1;
    }
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0700) != 0 && errno != EEXIST ? -1 : 0;
    if (rc == 0 && (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))) {
        errno = ENOTDIR;
        rc = -1;
    }
    free(p);
    return rc;
}

int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    if (s == NULL || *s == '\0' || *s == '-')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

int uuid_shaped(const char *id)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (strlen(id) != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == '-' ? id[i] != '-' : !isxdigit((unsigned char)id[i]))
            return 0;
    return 1;
}

char *session_id_key(const char *id)
{
    if (id == NULL)
        return NULL;
    char *key = xstrdup(id);
    if (uuid_shaped(id))
        for (char *p = key; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    return key;
}

int64_t now_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void iso_time_ms(int64_t ms, char out[ISO_TIME_LEN])
{
    /* Rounded down: before 1970 too, the milliseconds come after their
     * second ("1969-12-31T23:59:59.999Z" for -1). */
    int64_t milli = ms % 1000;
    time_t secs = (time_t)(ms / 1000 - (milli < 0));
    milli += milli < 0 ? 1000 : 0;
    /* Any int64_t of ms is a year within int (±292 million): gmtime_r
     * cannot fail. Four digits at least, and a sign before year 0. */
    struct tm tm;
    gmtime_r(&secs, &tm);
    long long year = (long long)tm.tm_year + 1900;
    int k = snprintf(out, ISO_TIME_LEN, "%s%04lld", year < 0 ? "-" : "", year < 0 ? -year : year);
    size_t n = (size_t)k + strftime(out + k, ISO_TIME_LEN - (size_t)k, "-%m-%dT%H:%M:%S", &tm);
    (void)snprintf(out + n, ISO_TIME_LEN - n, ".%03dZ", (int)milli);
}

const char *signal_name(int sig)
{
    switch (sig) {
    case SIGTERM:
        return "SIGTERM";
    case SIGKILL:
        return "SIGKILL";
    case SIGINT:
        return "SIGINT";
    case SIGHUP:
        return "SIGHUP";
    case SIGSEGV:
        return "SIGSEGV";
    case SIGABRT:
        return "SIGABRT";
    case SIGBUS:
        return "SIGBUS";
    default:
        return "signal";
    }
}

/* path made absolute (against the working directory) and without ".",
 * ".." or repeated slashes, by its text alone (it need not exist yet). */
char *absolute_path(const char *path)
{
    char cwd[4096];
    char *full = path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL ? xstrdup(path)
                                                                    : xasprintf("%s/%s", cwd, path);
    char *out = xmalloc(strlen(full) + 2);
    size_t n = 0;
    char *save = NULL;
    for (char *part = strtok_r(full, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
        if (strcmp(part, ".") == 0)
            continue;
        if (strcmp(part, "..") == 0) {
            while (n > 0 && out[--n] != '/')
                ;
            continue;
        }
        out[n++] = '/';
        size_t len = strlen(part);
        memcpy(out + n, part, len);
        n += len;
    }
    if (n == 0)
        out[n++] = '/';
    out[n] = '\0';
    free(full);
    return out;
}

/* --state-dir, $CODEXMCP_STATE_DIR, $XDG_STATE_HOME/codexmcp (absolute
 * only, as the XDG spec says), ~/.local/state/codexmcp; NULL without any. */
char *state_dir_default(void)
{
    const char *v = getenv("CODEXMCP_STATE_DIR");
    if (v && *v)
        return xstrdup(v);
    v = getenv("XDG_STATE_HOME");
    if (v && v[0] == '/')
        return xasprintf("%s/codexmcp", v);
    v = getenv("HOME");
    if (v && *v)
        return xasprintf("%s/.local/state/codexmcp", v);
    return NULL;
}

int pid_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static locale_t utf8;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_make(void)
{
    utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

locale_t utf8_locale(void)
{
    (void)pthread_once(&utf8_once, utf8_make);
    return utf8;
}
