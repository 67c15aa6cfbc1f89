/* The result budget, pure: cuts a tool's result object down to what the
 * client can use, measured in characters of its compact JSON text (UTF-16
 * code units, as a JavaScript client counts them: a character outside the
 * Basic Multilingual Plane is two). Nothing changes under the budget.
 * Over it, the cuts come in this order, each marked where it is with what
 * was cut and where the full text is (the transcript):
 *   1. long strings inside `all_messages` (command output, diffs, file
 *      contents) keep their head and tail;
 *   2. `item.started` / `item.updated` events of `all_messages` go;
 *   3. the oldest events of `all_messages` go;
 *   4. `warnings` shorten, then go;
 *   5. `agent_messages` and `error` keep their head and tail.
 * A result that was cut says so in `trimmed`. */
#ifndef CODEXMCP_BUDGET_H
#define CODEXMCP_BUDGET_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
    size_t strings;  /* strings shortened inside all_messages */
    size_t events;   /* events left out of all_messages */
    size_t warnings; /* warnings shortened or left out */
    int messages;    /* agent_messages and/or error shortened */
    size_t before;   /* characters before */
    size_t after;    /* characters after */
} budget_report;

/* Characters (UTF-16 code units) of v's compact JSON text, as
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes it. */
size_t budget_chars(const json_t *v);

/* Cuts `result` (an object, changed in place) to at most max_chars
 * characters. `transcript` is the path of the file holding everything, or
 * NULL when there is none (the marks then say the text is not kept).
 * Returns 0 when it fits (cut or not), -1 when even the fully cut result
 * is longer: its fixed fields, the `trimmed` note and the marks are over
 * max_chars (a few hundred characters with an ordinary transcript path;
 * never at BUDGET_MIN_CHARS). *report, if not NULL, says what was cut. */
int budget_trim(json_t *result, size_t max_chars, const char *transcript, budget_report *report);

/* v, or a copy of it in which every string longer than `keep` characters
 * keeps its head and tail with a mark between, as budget_trim cuts them
 * (new reference). *cuts, if not NULL, counts the strings cut. */
json_t *budget_cap_strings(json_t *v, size_t keep, const char *transcript, size_t *cuts);

#endif
