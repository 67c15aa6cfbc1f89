/* The registry's rows as answers (store_row.h). */
#include "store_row.h"

#include <ctype.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "util.h"

static json_t *iso_time(int64_t ms)
{
    char out[ISO_TIME_LEN];
    iso_time_ms(ms, out);
    return json_string(out);
}

/* Text as a JSON string: cut at a NUL byte, as C reads it, and made valid
 * UTF-8 if it is not (written by something else). */
static json_t *col_text(const store_col *c)
{
    if (c->text == NULL)
        return json_null();
    json_t *v = json_string(c->text);
    if (v == NULL) {
        char *clean = utf8_clean(c->text);
        v = json_string(clean);
        free(clean);
    }
    return v;
}

/* A JSON column: an object or an array, else null. */
static json_t *json_col(const store_col *c)
{
    json_t *v = c->text ? json_loads(c->text, 0, NULL) : NULL;
    return v ? v : json_null();
}

/* A pid past pid_t is not cut to fit: 2^32 would be 0, which kill()
 * reads as the caller's own process group, always there. */
static int owner_alive(int64_t pid, store_alive_fn alive)
{
    return pid > 0 && pid == (pid_t)pid && alive((pid_t)pid);
}

/* Whether a pid of the comma-separated list runs. */
static int any_alive(const char *pids, store_alive_fn alive)
{
    for (const char *p = pids; p && *p;) {
        char *end;
        long long pid = strtoll(p, &end, 10);
        if (end == p)
            break;
        if (owner_alive(pid, alive))
            return 1;
        p = *end == ',' ? end + 1 : end;
    }
    return 0;
}

static int is_running(const store_col *c)
{
    return c->text != NULL && strcmp(c->text, "running") == 0;
}

/* A session's or turn's status, "interrupted" when `gone` (it was left
 * running by a server that is gone), "unknown" for none. */
static json_t *status_of(const store_col *c, int gone)
{
    if (gone)
        return json_string("interrupted");
    return c->text ? col_text(c) : json_string("unknown");
}

json_t *store_row_session(const store_col *c, store_alive_fn alive)
{
    json_t *row = json_object();
    json_object_set_new(row, "SESSION_ID", col_text(&c[0]));
    json_object_set_new(row, "cwd", col_text(&c[1]));
    json_object_set_new(row, "title", col_text(&c[2]));
    json_object_set_new(row, "tool", col_text(&c[3]));
    json_object_set_new(row, "created_at", iso_time(c[4].num));
    json_object_set_new(row, "updated_at", iso_time(c[5].num));
    json_object_set_new(row, "turns", json_integer(c[6].num));
    /* Running, but no server that runs one of its turns is alive (or its
     * end was never recorded): interrupted. */
    int gone = is_running(&c[7]) && (c[10].num == 0 || !any_alive(c[11].text, alive));
    json_object_set_new(row, "last_status", status_of(&c[7], gone));
    json_object_set_new(row, "last_message", col_text(&c[8]));
    json_object_set_new(row, "usage", json_col(&c[9]));
    json_object_set_new(row, "transcript", col_text(&c[12])); /* of its latest turn */
    return row;
}

json_t *store_row_turn(const store_col *c, store_alive_fn alive)
{
    json_t *row = json_object();
    json_object_set_new(row, "turn", json_integer(c[10].num));
    json_object_set_new(row, "tool", col_text(&c[0]));
    json_object_set_new(row, "prompt", col_text(&c[1]));
    int gone = is_running(&c[2]) && !owner_alive(c[7].num, alive);
    json_object_set_new(row, "status", status_of(&c[2], gone));
    json_object_set_new(row, "started_at", iso_time(c[3].num));
    if (c[4].text != NULL)
        json_object_set_new(row, "finished_at", iso_time(c[4].num));
    json_object_set_new(row, "last_message", col_text(&c[5]));
    if (c[6].text != NULL)
        json_object_set_new(row, "error", col_text(&c[6]));
    json_object_set_new(row, "usage", json_col(&c[8]));
    json_object_set_new(row, "transcript", col_text(&c[9]));
    return row;
}

json_t *store_row_call(const store_col *c, store_alive_fn alive)
{
    json_t *row = json_object();
    json_object_set_new(row, "id", json_integer(c[0].num));
    json_object_set_new(row, "SESSION_ID", col_text(&c[1]));
    json_object_set_new(row, "tool", col_text(&c[2]));
    json_object_set_new(row, "cwd", col_text(&c[3]));
    json_object_set_new(row, "engine", col_text(&c[4]));
    json_object_set_new(row, "prompt", col_text(&c[5]));
    int gone = is_running(&c[6]) && !owner_alive(c[11].num, alive);
    json_object_set_new(row, "status", status_of(&c[6], gone));
    json_object_set_new(row, "started_ms", json_integer(c[7].num));
    json_object_set_new(row, "finished_ms", c[8].text ? json_integer(c[8].num) : json_null());
    json_object_set_new(row, "last_message", col_text(&c[9]));
    json_object_set_new(row, "error", col_text(&c[10]));
    json_object_set_new(row, "server_pid", json_integer(c[11].num));
    json_object_set_new(row, "transcript", col_text(&c[12]));
    json_object_set_new(row, "turn", json_integer(c[13].num));
    return row;
}

json_t *store_row_task(const store_col *c, store_alive_fn alive)
{
    json_t *status = col_text(&c[3]);
    const char *sv = json_string_value(status);
    int64_t pid = c[7].num;
    /* Its server is gone and never recorded the end: interrupted. */
    if (sv && (strcmp(sv, "running") == 0 || strcmp(sv, "queued") == 0) &&
        !owner_alive(pid, alive)) {
        json_decref(status);
        status = json_string("interrupted");
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:I, s:I, s:I, s:I}", "task",
                     col_text(&c[0]), "tool", col_text(&c[1]), "SESSION_ID", col_text(&c[2]),
                     "status", status, "status_message", col_text(&c[4]), "result", json_col(&c[5]),
                     "is_error", (int)c[6].num, "server_pid", (json_int_t)pid, "created_ms",
                     (json_int_t)c[8].num, "updated_ms", (json_int_t)c[9].num, "ttl_ms",
                     (json_int_t)c[10].num);
}

char *store_row_fold(const char *text, size_t n, size_t *len)
{
    const unsigned char *in = (const unsigned char *)text;
    locale_t utf8 = utf8_locale();
    char *out = xmalloc(n * 2 + 1);
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned char b = in[i];
        size_t seq = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
        if (seq > n - i || (seq > 1 && (b & 0xc0) != 0xc0))
            seq = 1; /* not UTF-8: kept as it is */
        uint32_t cp = seq == 1 ? b : b & (0xff >> (seq + 1));
        for (size_t j = 1; j < seq; j++)
            cp = cp << 6 | (in[i + j] & 0x3f);
        uint32_t lo = cp < 0x80                        ? (uint32_t)tolower((int)cp)
                      : utf8 != (locale_t)0 && seq > 1 ? (uint32_t)towlower_l((wint_t)cp, utf8)
                                                       : cp;
        if (seq == 1 || lo < 0x80) { /* U+0130 lowers to i: one byte */
            out[k++] = (char)lo;
        } else if (lo == cp) {
            memcpy(out + k, in + i, seq);
            k += seq;
        } else if (lo < 0x800) {
            out[k++] = (char)(0xc0 | lo >> 6);
            out[k++] = (char)(0x80 | (lo & 0x3f));
        } else if (lo < 0x10000) {
            out[k++] = (char)(0xe0 | lo >> 12);
            out[k++] = (char)(0x80 | (lo >> 6 & 0x3f));
            out[k++] = (char)(0x80 | (lo & 0x3f));
        } else {
            out[k++] = (char)(0xf0 | lo >> 18);
            out[k++] = (char)(0x80 | (lo >> 12 & 0x3f));
            out[k++] = (char)(0x80 | (lo >> 6 & 0x3f));
            out[k++] = (char)(0x80 | (lo & 0x3f));
        }
        i += seq;
    }
    out[k] = '\0';
    *len = k;
    return out;
}
