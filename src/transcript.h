/* Transcripts: the full record of one call as a JSONL file in the state
 * directory, <state>/transcripts/YYYY-MM-DD/HHMMSS-<pid>-<n>.jsonl (0600,
 * directories 0700). The first line is {"type":"codexmcp.call",…} (tool,
 * cd, prompt, argv, time), then every byte codex printed on stdout as it
 * came, then {"type":"codexmcp.exit",…} (status, signal, stderr tail).
 * Whatever a result had to leave out is here. Writing is synchronous, in
 * the chunks codex's output arrives in; a write error stops the transcript,
 * never the call.
 * Ownership: transcript_open creates, transcript_close frees. */
#ifndef CODEXMCP_TRANSCRIPT_H
#define CODEXMCP_TRANSCRIPT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct transcript transcript;

/* Creates the file and writes `header` (borrowed; "type" is set to
 * codexmcp.call). NULL with *error set (the caller frees it) when the
 * directory or file cannot be made. */
transcript *transcript_open(const char *state_dir, json_t *header, char **error);
const char *transcript_path(const transcript *t);
/* Appends codex's stdout bytes as they are. */
void transcript_write(transcript *t, const char *data, size_t len);
/* Writes the exit line and closes. Returns NULL, or why the transcript is
 * incomplete (the caller frees it). */
char *transcript_close(transcript *t, int64_t exit_status, int term_signal, const char *stderr_tail,
                       size_t stderr_len);

#endif
