/* JSONL transcript files (transcript.h). */
#include "transcript.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct transcript {
    int fd; /* -1 after a write error */
    char *path;
    char *error;     /* the first write error */
    int at_line_end; /* the last byte written was a newline */
};

static unsigned next_serial;

static void write_all(transcript *t, const char *p, size_t n)
{
    while (n > 0 && t->fd >= 0) {
        ssize_t w = write(t->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            t->error = xasprintf("writing the transcript %s failed (%s); it is incomplete", t->path,
                                 strerror(w < 0 ? errno : EIO));
            close(t->fd);
            t->fd = -1;
            return;
        }
        p += w;
        n -= (size_t)w;
        t->at_line_end = p[-1] == '\n';
    }
}

static void write_json_line(transcript *t, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL)
        return;
    if (!t->at_line_end)
        write_all(t, "\n", 1);
    write_all(t, s, strlen(s));
    write_all(t, "\n", 1);
    free(s);
}

static void iso_time(char *out, size_t n, time_t when)
{
    struct tm tm;
    gmtime_r(&when, &tm);
    (void)strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

transcript *transcript_open(const char *state_dir, json_t *header, char **error)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char day[16], hms[16], when[32];
    (void)strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    (void)strftime(hms, sizeof(hms), "%H%M%S", &tm);
    iso_time(when, sizeof(when), now);
    char *dir = xasprintf("%s/transcripts/%s", state_dir, day);
    if (mkdir_private(dir) != 0) {
        *error = xasprintf("cannot create the transcript directory %s: %s", dir, strerror(errno));
        free(dir);
        return NULL;
    }
    char *path = NULL;
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        free(path);
        path = xasprintf("%s/%s-%ld-%u.jsonl", dir, hms, (long)getpid(), ++next_serial);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    free(dir);
    if (fd < 0) {
        *error = xasprintf("cannot create the transcript %s: %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    transcript *t = xcalloc(1, sizeof(*t));
    t->fd = fd;
    t->path = path;
    t->at_line_end = 1;
    json_t *h = json_deep_copy(header);
    json_object_set_new(h, "type", json_string("codexmcp.call"));
    json_object_set_new(h, "time", json_string(when));
    json_object_set_new(h, "server_pid", json_integer(getpid()));
    write_json_line(t, h);
    json_decref(h);
    return t;
}

const char *transcript_path(const transcript *t)
{
    return t->path;
}

void transcript_write(transcript *t, const char *data, size_t len)
{
    if (len > 0)
        write_all(t, data, len);
}

char *transcript_close(transcript *t, int64_t exit_status, int term_signal, const char *stderr_tail,
                       size_t stderr_len)
{
    char when[32];
    iso_time(when, sizeof(when), time(NULL));
    char *tail = utf8_sanitize(stderr_tail ? stderr_tail : "", stderr_len, stderr_len * 3 + 1);
    json_t *end =
        json_pack("{s:s, s:s, s:I, s:i, s:s}", "type", "codexmcp.exit", "time", when, "exit_status",
                  (json_int_t)exit_status, "signal", term_signal, "stderr", tail);
    free(tail);
    write_json_line(t, end);
    json_decref(end);
    if (t->fd >= 0 && close(t->fd) != 0 && t->error == NULL)
        t->error = xasprintf("closing the transcript %s failed (%s); it may be incomplete", t->path,
                             strerror(errno));
    char *err = t->error;
    free(t->path);
    free(t);
    return err;
}
