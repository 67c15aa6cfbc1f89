/* libFuzzer target for the registry's stored rows (store_row.c): arbitrary
 * column values and types decoded into the answers codex_sessions and
 * codex_wait read, and stored text through the registry's fold().
 *   byte 0      what: 0 a session row, 1 a turn row, 2 a task row, 3 fold
 *               (the rest is the text), 4 a call row (codexmcp ps, log)
 *   byte 1      which pids are alive: 0 none, 1 all, 2 the odd ones
 *   the rest    the columns, split at 0xFF bytes; a column's first byte is
 *               its type: 0 NULL, 1 an integer (up to 8 bytes, little
 *               endian, sign-extended; its text is its decimal digits, as
 *               SQLite gives it), 2 text (any bytes, NUL included; its
 *               integer read from the text as SQLite does), 3 text and an
 *               unrelated integer (its first 8 bytes). Missing columns are
 *               NULL.
 * Aborts when an answer is missing a documented field or has one of the
 * wrong type, holds invalid UTF-8 or does not serialize; when a text that
 * was valid UTF-8 changed; when a time is not ISO 8601 or (years 1 to
 * 9999) does not read back as the stored value; when a status is not the
 * stored one, or "interrupted" for a running one whose server is gone;
 * when a pid no process can have is asked about; or when fold() writes
 * more than twice its input, changes what is not a letter, or turns valid
 * UTF-8 into invalid. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_row.h"
#include "utf8.h"

#define COLS_MAX 14 /* the widest row: a call */

static int alive_mode;

static int alive(pid_t pid)
{
    if (pid <= 0)
        abort();
    return alive_mode == 1 || (alive_mode == 2 && (pid & 1));
}

/* What alive() says of a stored pid, as the decoder must ask it. */
static int stored_alive(int64_t pid)
{
    return pid > 0 && pid <= INT_MAX && alive((pid_t)pid);
}

/* One column, its bytes owned by the caller's arena. */
typedef struct {
    store_col c[COLS_MAX];
    char *mem[COLS_MAX];
} row;

/* SQLite's integer of a text: its leading integer, else 0 (near enough:
 * the decoder must not care how it was read). */
static int64_t text_int(const char *s)
{
    long long v = strtoll(s, NULL, 10);
    return (int64_t)v;
}

static void parse_cols(row *r, const uint8_t *data, size_t size)
{
    memset(r, 0, sizeof(*r));
    for (int i = 0; i < COLS_MAX && size > 0; i++) {
        const uint8_t *sep = memchr(data, 0xFF, size);
        size_t len = sep ? (size_t)(sep - data) : size;
        const uint8_t *p = data + 1;
        size_t n = len > 0 ? len - 1 : 0;
        int type = len > 0 ? data[0] % 4 : 0;
        store_col *c = &r->c[i];
        if (type == 1) {
            uint64_t u = 0;
            size_t k = n < 8 ? n : 8;
            for (size_t j = 0; j < k; j++)
                u |= (uint64_t)p[j] << (8 * j);
            if (k > 0 && k < 8 && (p[k - 1] & 0x80))
                u |= ~(uint64_t)0 << (8 * k);
            c->num = (int64_t)u;
            r->mem[i] = malloc(24);
            c->len = (size_t)snprintf(r->mem[i], 24, "%lld", (long long)c->num);
            c->text = r->mem[i];
        } else if (type >= 2) {
            r->mem[i] = malloc(n + 1);
            memcpy(r->mem[i], p, n);
            r->mem[i][n] = '\0';
            c->text = r->mem[i];
            c->len = n;
            if (type == 2) {
                c->num = text_int(c->text);
            } else {
                uint64_t u = 0;
                for (size_t j = 0; j < n && j < 8; j++)
                    u |= (uint64_t)p[j] << (8 * j);
                c->num = (int64_t)u;
            }
        }
        data += len + (sep != NULL);
        size -= len + (sep != NULL);
    }
}

static void free_cols(row *r)
{
    for (int i = 0; i < COLS_MAX; i++)
        free(r->mem[i]);
}

static void check_strings(const json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_string(v) && !utf8_valid(json_string_value(v), json_string_length(v)))
        abort();
    if (json_is_object(v))
        json_object_foreach((json_t *)v, k, x)
        {
            if (!utf8_valid(k, strlen(k)))
                abort();
            check_strings(x);
        }
    if (json_is_array(v))
        json_array_foreach(v, i, x) check_strings(x);
}

/* A text field: null for NULL, else a string; the stored text itself
 * (up to a NUL byte) when that is valid UTF-8. */
static void check_text(const json_t *row_, const char *key, const store_col *c)
{
    json_t *v = json_object_get(row_, key);
    if (v == NULL)
        abort();
    if (c->text == NULL) {
        if (!json_is_null(v))
            abort();
        return;
    }
    if (!json_is_string(v))
        abort();
    size_t n = strlen(c->text);
    if (utf8_valid(c->text, n) &&
        (json_string_length(v) != n || memcmp(json_string_value(v), c->text, n) != 0))
        abort();
}

static void check_json(const json_t *row_, const char *key)
{
    json_t *v = json_object_get(row_, key);
    if (!json_is_object(v) && !json_is_array(v) && !json_is_null(v))
        abort();
}

static void check_integer(const json_t *row_, const char *key, int64_t want)
{
    json_t *v = json_object_get(row_, key);
    if (!json_is_integer(v) || json_integer_value(v) != want)
        abort();
}

/* An ISO 8601 time, YYYY-MM-DDTHH:MM:SS.mmmZ (a year past 9999 has more
 * digits, one before year 0 a minus sign), that reads back as ms for
 * years 1 to 9999. */
static void check_time(const json_t *row_, const char *key, int64_t ms)
{
    const char *s = json_string_value(json_object_get(row_, key));
    if (s == NULL)
        abort();
    size_t n = strlen(s), digits = n - 20 - (s[0] == '-');
    if (n < 24 || digits < 4)
        abort();
    for (size_t i = s[0] == '-'; i < n - 20; i++)
        if (s[i] < '0' || s[i] > '9')
            abort();
    static const char shape[] = "-00-00T00:00:00.000Z";
    const char *tail = s + n - 20;
    for (size_t i = 0; i < 20; i++)
        if (shape[i] == '0' ? (tail[i] < '0' || tail[i] > '9') : tail[i] != shape[i])
            abort();
    if (ms < -62135596800000LL || ms > 253402300799999LL)
        return;
    struct tm tm = {0};
    int milli;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &milli) != 7)
        abort();
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    if ((int64_t)timegm(&tm) * 1000 + milli != ms)
        abort();
}

static const char *stored_status(const store_col *c)
{
    return c->text;
}

/* A status (v's `key`) as stored, "unknown" for none, "interrupted" for a
 * running one whose server is gone (`alive_now` 0). */
static void check_status(const json_t *v, const char *key, const store_col *stored, int alive_now)
{
    const char *st = json_string_value(json_object_get(v, key));
    const char *was = stored_status(stored);
    if (st == NULL)
        abort();
    if (was == NULL) {
        if (strcmp(st, "unknown") != 0)
            abort();
    } else if (strcmp(was, "running") == 0) {
        if (strcmp(st, alive_now ? "running" : "interrupted") != 0)
            abort();
    } else if (utf8_valid(was, strlen(was)) && strcmp(st, was) != 0) {
        abort();
    }
}

static void check_session(const row *r)
{
    const store_col *c = r->c;
    json_t *v = store_row_session(c, alive);
    if (!json_is_object(v))
        abort();
    check_text(v, "SESSION_ID", &c[0]);
    check_text(v, "cwd", &c[1]);
    check_text(v, "title", &c[2]);
    check_text(v, "tool", &c[3]);
    check_time(v, "created_at", c[4].num);
    check_time(v, "updated_at", c[5].num);
    check_integer(v, "turns", c[6].num);
    check_text(v, "last_message", &c[8]);
    check_json(v, "usage");
    check_text(v, "transcript", &c[12]);
    /* running while one of its running turns' servers is alive */
    int any = 0;
    for (const char *p = c[11].text; c[10].num != 0 && p && *p && !any;) {
        char *end;
        long long pid = strtoll(p, &end, 10);
        if (end == p)
            break;
        any = stored_alive(pid);
        p = *end == ',' ? end + 1 : end;
    }
    check_status(v, "last_status", &c[7], any);
    if (json_object_size(v) != 11)
        abort();
    check_strings(v);
    json_decref(v);
}

static void check_turn(const row *r)
{
    const store_col *c = r->c;
    json_t *v = store_row_turn(c, alive);
    if (!json_is_object(v))
        abort();
    check_integer(v, "turn", c[10].num);
    check_text(v, "tool", &c[0]);
    check_text(v, "prompt", &c[1]);
    check_time(v, "started_at", c[3].num);
    if ((json_object_get(v, "finished_at") != NULL) != (c[4].text != NULL))
        abort();
    if (c[4].text)
        check_time(v, "finished_at", c[4].num);
    check_text(v, "last_message", &c[5]);
    if ((json_object_get(v, "error") != NULL) != (c[6].text != NULL))
        abort();
    if (c[6].text)
        check_text(v, "error", &c[6]);
    check_json(v, "usage");
    check_text(v, "transcript", &c[9]);
    check_status(v, "status", &c[2], stored_alive(c[7].num));
    if (json_object_size(v) != 8u + (c[4].text != NULL) + (c[6].text != NULL))
        abort();
    check_strings(v);
    json_decref(v);
}

/* What codexmcp ps and log read of a call: these fields, of these types,
 * finished_ms null exactly when the stored one is NULL. */
static void check_call(const row *r)
{
    const store_col *c = r->c;
    json_t *v = store_row_call(c, alive);
    if (!json_is_object(v))
        abort();
    check_integer(v, "id", c[0].num);
    check_text(v, "SESSION_ID", &c[1]);
    check_text(v, "tool", &c[2]);
    check_text(v, "cwd", &c[3]);
    check_text(v, "engine", &c[4]);
    check_text(v, "prompt", &c[5]);
    check_integer(v, "started_ms", c[7].num);
    json_t *fin = json_object_get(v, "finished_ms");
    if (c[8].text ? !json_is_integer(fin) || json_integer_value(fin) != c[8].num
                  : !json_is_null(fin))
        abort();
    check_text(v, "last_message", &c[9]);
    check_text(v, "error", &c[10]);
    check_integer(v, "server_pid", c[11].num);
    check_text(v, "transcript", &c[12]);
    check_integer(v, "turn", c[13].num);
    check_status(v, "status", &c[6], stored_alive(c[11].num));
    if (json_object_size(v) != 14)
        abort();
    check_strings(v);
    json_decref(v);
}

/* What codex_wait and codex_cancel read of a task of another process
 * (tasks.c): these fields, of these types. */
static void check_task(const row *r)
{
    const store_col *c = r->c;
    json_t *v = store_row_task(c, alive);
    if (!json_is_object(v))
        abort();
    check_text(v, "task", &c[0]);
    check_text(v, "tool", &c[1]);
    check_text(v, "SESSION_ID", &c[2]);
    check_text(v, "status_message", &c[4]);
    check_json(v, "result");
    if (!json_is_boolean(json_object_get(v, "is_error")))
        abort();
    check_integer(v, "server_pid", c[7].num);
    check_integer(v, "created_ms", c[8].num);
    check_integer(v, "updated_ms", c[9].num);
    check_integer(v, "ttl_ms", c[10].num);
    json_t *st = json_object_get(v, "status");
    const char *was = c[3].text;
    if (was == NULL) {
        if (!json_is_null(st))
            abort();
    } else if (strcmp(was, "running") == 0 || strcmp(was, "queued") == 0) {
        if (strcmp(json_string_value(st), stored_alive(c[7].num) ? was : "interrupted") != 0)
            abort();
    } else {
        check_text(v, "status", &c[3]);
    }
    if (json_object_size(v) != 11)
        abort();
    check_strings(v);
    json_decref(v);
}

static int kept_by_fold(unsigned char b)
{
    return b < 0x80 && !(b >= 'A' && b <= 'Z');
}

static void check_fold(const uint8_t *data, size_t size)
{
    size_t n;
    char *out = store_row_fold((const char *)data, size, &n);
    if (n > 2 * size || out[n] != '\0')
        abort();
    /* ASCII other than capitals is kept as it is; A-Z become a-z. */
    int ascii = 1;
    for (size_t i = 0; i < size; i++)
        ascii &= data[i] < 0x80;
    if (ascii) {
        if (n != size)
            abort();
        for (size_t i = 0; i < size; i++) {
            unsigned char b = data[i], o = (unsigned char)out[i];
            if (kept_by_fold(b) ? o != b : o != b + ('a' - 'A'))
                abort();
        }
    }
    if (utf8_valid((const char *)data, size) && !utf8_valid(out, n))
        abort();
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int what = data[0] % 5;
    alive_mode = data[1] % 3;
    if (what == 3) {
        check_fold(data + 2, size - 2);
        return 0;
    }
    row r;
    parse_cols(&r, data + 2, size - 2);
    if (what == 0)
        check_session(&r);
    else if (what == 1)
        check_turn(&r);
    else if (what == 2)
        check_task(&r);
    else
        check_call(&r);
    free_cols(&r);
    return 0;
}
