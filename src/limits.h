/* Every limit and default of codexmcp, each with the reason for its value.
 * Options may override some of them at run time; nothing else in the code
 * should carry a bare number that bounds memory or time. */
#ifndef CODEXMCP_LIMITS_H
#define CODEXMCP_LIMITS_H

/* Byte counts are size_t, the type they are compared with and added to:
 * their products are computed in it, never in an unsigned int that could
 * wrap. */
#include <stddef.h>

/* Largest JSON-RPC line accepted from the client (--max-line-bytes).
 * A 300 kB prompt with a few base64 images fits many times over; anything
 * larger is almost certainly a broken client, and memory must stay bounded. */
#define MAX_LINE_BYTES_DEFAULT ((size_t)64 * 1024 * 1024)

/* Nesting depth of a request is bounded by jansson's parser (2048 levels,
 * JSON_PARSER_MAX_DEPTH): deeper input is a parse error (-32700), never a
 * stack overflow. */

/* Largest line read from a codex child's stdout. Events carry command
 * output (aggregated_output) that can be large, but a line over this is
 * dropped with a warning instead of growing the buffer without end. */
#define CODEX_LINE_MAX_BYTES ((size_t)8 * 1024 * 1024)

/* Bytes of a child's stderr kept for error messages: enough for a Rust
 * panic with backtrace, small enough to put in a tool result. */
#define STDERR_TAIL_BYTES ((size_t)64 * 1024)

/* Bytes of messages queued for a client that does not read its stdout.
 * Above OUT_QUEUE_HIGH_BYTES the client is "behind": codexmcp stops reading
 * the stdout of running codex processes (each then waits on its own pipe),
 * starts no new one, keeps only the newest progress of each call and
 * counts log records instead of sending them. It still reads requests, so
 * a cancel gets through at once. What can still grow the queue then is
 * replies to requests the client keeps sending while it reads nothing, and
 * the results of calls already running; past OUT_QUEUE_STOP_BYTES reading
 * requests stops too. Below OUT_QUEUE_LOW_BYTES everything resumes. */
#define OUT_QUEUE_HIGH_BYTES ((size_t)4 * 1024 * 1024)
#define OUT_QUEUE_STOP_BYTES ((size_t)16 * 1024 * 1024)
#define OUT_QUEUE_LOW_BYTES ((size_t)1 * 1024 * 1024)

/* Calls waiting for a free slot (--max-parallel), and the prompt bytes they
 * hold. A client that queues more gets an error result at once: memory
 * stays bounded however many calls it sends. */
#define JOBS_QUEUE_MAX 4096u
#define JOBS_QUEUE_MAX_BYTES ((size_t)256 * 1024 * 1024)

/* Queue positions ("queued: N ahead") a waiting call is sent: one on
 * entry, then one each time its position falls past another quarter of
 * the position it entered at, at most QUEUE_PROGRESS_STEPS times and no
 * closer than QUEUE_PROGRESS_MIN_MS apart; "started codex" follows. So a
 * call gets at most 2 + QUEUE_PROGRESS_STEPS queue lines, and the total
 * grows linearly with the number of calls, not with its square. */
#define QUEUE_PROGRESS_STEPS 3
#define QUEUE_PROGRESS_MIN_MS 2000u

/* What one turn's result keeps in memory. Agent messages: the first ones up
 * to AGENT_MESSAGES_KEEP_BYTES, then only the newest (the answer), with a
 * marked cut between. all_messages: the events up to ALL_MESSAGES_KEEP_BYTES
 * of memory (JSON_VALUE_COST_BYTES), then only the last one (the terminal
 * event), with a marker object between. Both are some 40 times what
 * a client passes to its model (Claude Code: 25,000 tokens, about 100 kB),
 * and keep a whole result, serialized, within the memory bound. */
#define AGENT_MESSAGES_KEEP_BYTES ((size_t)1 * 1024 * 1024)
#define ALL_MESSAGES_KEEP_BYTES ((size_t)1 * 1024 * 1024)

/* An event bigger than EVENT_WHOLE_MAX_BYTES (a command's whole output) is
 * kept with each of its strings cut to EVENT_STRING_KEEP_BYTES, head and
 * tail, marked: the result shows both ends of the output instead of
 * nothing, and more events fit the bound. The transcript has it whole. */
#define EVENT_WHOLE_MAX_BYTES (ALL_MESSAGES_KEEP_BYTES / 4u)
#define EVENT_STRING_KEEP_BYTES ((size_t)64 * 1024)

/* What one parsed JSON value costs in memory beyond its text (a jansson
 * value, its allocation, an object slot): events are counted against
 * ALL_MESSAGES_KEEP_BYTES by their text plus this per value, so an event of
 * tiny values ([[],[],…]) cannot keep 40 times the bound. */
#define JSON_VALUE_COST_BYTES 64u

/* The result budget (budget.h), in characters of the result's JSON text.
 * Claude Code (2.1.330, tests/e2e/claude-results.test.mjs) gives its model
 * a result inline only when it is at most 50,000 characters (longer ones
 * are saved to a file the model must page through) and under 25,000
 * tokens (MAX_MCP_OUTPUT_TOKENS), which it estimates as characters / 4 up
 * to 50,000 characters. So 48,000 for Claude Code and every client not
 * known to take less: 16,000 to 22,000 tokens of code or logs with
 * Anthropic's tokenizer (bench/result-budget.mjs). Codex as a client cuts
 * results at about 10 KiB, and is recognised by its clientInfo.name
 * (CODEX_CLIENT_NAME). A call may ask for anything from
 * BUDGET_MIN_CHARS, enough for the fixed fields and the marks, to
 * BUDGET_MAX_CHARS. */
#define BUDGET_DEFAULT_CHARS 48000u
#define CODEX_CLIENT_NAME "codex-mcp-client"
#define BUDGET_CODEX_CLIENT_CHARS 10000u
#define BUDGET_MIN_CHARS 1000u
#define BUDGET_MAX_CHARS 10000000u

/* A string of all_messages is cut to no fewer characters than this, half
 * from its head and half from its tail, before events are left out; an
 * answer (agent_messages) or error keeps a third of what fits from its head
 * and two thirds from its tail, where an answer concludes. */
#define BUDGET_STRING_KEEP_MIN 200u
#define BUDGET_TRACE_HEAD_PCT 50u
#define BUDGET_ANSWER_HEAD_PCT 33u

/* The session registry (store.h). An operation waits at most
 * STORE_BUSY_TIMEOUT_MS for another codexmcp's transaction (each is a few
 * rows, so milliseconds) before that record is skipped with a warning. It
 * waits on a worker thread: the event loop never does. It keeps the start of each
 * prompt (STORE_PROMPT_MAX bytes), a title (STORE_TITLE_MAX, one line) and
 * the last agent message or error shortened to STORE_MESSAGE_MAX: enough
 * to recognise a session, while the transcript has the rest. */
#define STORE_BUSY_TIMEOUT_MS 2000
/* Registry operations waiting for the worker (three a call, and reads):
 * more are refused with a warning. A registry that cannot be opened is
 * tried again at most every STORE_RETRY_MS. */
#define STORE_QUEUE_MAX 1024u
#define STORE_RETRY_MS 5000
/* Operations run per trip to the worker thread, one after the other. A trip
 * costs two hand-offs between threads, milliseconds each on a loaded
 * machine: at one operation a trip the registry recorded about 100 a
 * second there, while 16 parallel calls of a fast codex ended 120 a second
 * and needed three each (bench/soak.mjs); the turn ends waiting grew with
 * every call. A batch this long runs in tens of ms, which is what a read
 * that arrives meanwhile waits. */
#define STORE_BATCH_MAX 64u
/* SQLite's page cache for the registry (its default is 2,000 KiB a
 * connection, most of an idle codexmcp's RSS, filled as the file grows past
 * it). Writes append a few rows and reads are indexed: the kernel's page
 * cache holds the rest of the file. */
#define STORE_CACHE_KIB 256
/* A write that finds the registry locked past STORE_BUSY_TIMEOUT_MS (a
 * long transaction of another process) is tried again STORE_BACKOFF_MS
 * later, reads going first meanwhile, for up to STORE_GIVE_UP_MS; then it
 * is dropped with a warning. When the server exits nothing waits: what is
 * queued is tried once. */
#define STORE_BACKOFF_MS 250u
#define STORE_GIVE_UP_MS 120000
/* A read (codex_sessions) is asked again for this long: its caller waits. */
#define STORE_READ_GIVE_UP_MS 10000
#define STORE_PROMPT_MAX 2000u
#define STORE_TITLE_MAX 80u
#define STORE_MESSAGE_MAX 500u

/* codex_sessions lists this many sessions (or turns) unless asked for
 * more, and never more than SESSIONS_LIMIT_MAX. */
#define SESSIONS_LIMIT_DEFAULT 20u
#define SESSIONS_LIMIT_MAX 200u

/* A name or key the client sent, shown in an error message: at most this
 * many bytes, on one line. */
#define NAME_SHOWN_MAX 80u
/* A path the client sent, shown in an error message (a real one is at most
 * PATH_MAX, 4096 bytes; this is enough to recognise it). */
#define PATH_SHOWN_MAX 1024u

/* Size of each read from stdin when it is a regular file. */
#define FILE_READ_CHUNK ((size_t)64 * 1024)

/* Tools per tools/list page. The server has few tools; pagination exists
 * so that clients following nextCursor keep working if that changes. */
#define TOOLS_PAGE_SIZE 50u

/* Time a child gets between SIGTERM and SIGKILL (ms). Codex exits on
 * SIGTERM within milliseconds; 2 s covers a loaded machine. */
#define KILL_GRACE_MS_DEFAULT 2000u

/* The supervisor of a call (supervisor.h) SIGKILLs its subtree after the
 * grace period; codexmcp SIGKILLs the supervisor's group this much later
 * only if it is still there (a backstop, never the normal path). */
#define SUPERVISOR_BACKSTOP_MS 1000u

/* Ending what is left of a call after codex exited: the supervisor
 * SIGKILLs its subtree and waits up to SUPERVISOR_ROUND_MS for something to
 * die. SIGKILL is immediate, but a stopped, frozen or uninterruptible
 * process does not die: after SUPERVISOR_STUCK_ROUNDS rounds in which
 * nothing died the supervisor exits anyway, so the reply waits at most
 * about 300 ms for what cannot be ended. */
#define SUPERVISOR_ROUND_MS 100u
#define SUPERVISOR_STUCK_ROUNDS 3u

/* Time codex may keep running after turn.completed before its group is
 * terminated (ms): the turn is done, a lingering process is a hang
 * (GuDaStudio/codexmcp#14). */
#define POST_TURN_GRACE_MS 2000u

/* Codex children running at once (--max-parallel); a 2-core machine runs
 * four turns comfortably because most of a turn is waiting on the model. */
#define MAX_PARALLEL_DEFAULT 4u

/* Longest single-line summary in a progress message (bytes). */
#define PROGRESS_MESSAGE_MAX 160u

/* Number of warnings kept in one result; more are counted, not listed. */
#define WARNINGS_MAX 32u

/* Longest warning text kept (bytes). */
#define WARNING_TEXT_MAX 2048u

/* package.json files read to recognize the npm launcher (launcher.c): the
 * real one is about 1 KiB. */
#define LAUNCHER_PACKAGE_JSON_MAX (1024L * 1024L) /* compared with an off_t */

/* The app-server engine (engine_appserver.c). Spawn to the initialize
 * answer took 82 ms here; a cold start from a slow disk takes seconds. */
#define APPSERVER_INIT_MS 20000u
/* Time for the answer to one request (thread/start, thread/resume,
 * turn/start, the cleanup after a turn) before the app-server is taken as
 * hung and restarted. Loading a long thread from disk is the slowest. */
#define APPSERVER_STEP_MS 30000u
/* After turn/interrupt, turn/completed came in about 8 ms; this is on top
 * of the call's kill grace. */
#define APPSERVER_INTERRUPT_MS 5000u
/* Crashes in a row (no turn completed between them) after which `auto`
 * uses codex exec for the rest of the server's life. */
#define APPSERVER_CRASHES_MAX 3u
/* Bytes written to the app-server's stdin that it has not read: past this
 * it is not reading, and it is restarted. Each turn writes its prompt
 * (at most 1 MiB, codex's own cap) and a few small requests. */
#define APPSERVER_WRITE_QUEUE_MAX ((size_t)64 * 1024 * 1024)
/* After its stdin is closed at shutdown it exited in 20-330 ms; SIGTERM
 * after this. */
#define APPSERVER_EXIT_MS 3000u
/* The oldest codex whose app-server protocol codexmcp was checked against
 * (REFERENCE 9); an older one falls back to exec under --engine auto. */
#define APPSERVER_MIN_VERSION "0.169.0"
/* thread/unsubscribe to thread/closed (the thread unloaded, its lock gone)
 * took 2 ms here. */
#define APPSERVER_UNLOAD_MS 5000u
/* A resume sent just after the thread's last call can find it still
 * closing ("retry thread/resume after the thread is closed", seen now and
 * then with 0.169): it is asked again this often, for at most
 * APPSERVER_UNLOAD_MS. */
#define APPSERVER_CLOSING_RETRY_MS 20u
/* The app-server sends its client's name upstream as the `originator`
 * header and User-Agent prefix; exec sends "codex_exec". Under this name
 * the model endpoint sees the same requests from both engines. */
#define APPSERVER_CLIENT_NAME "codex_exec"
/* Its version is codex's own (`codex --version`), as exec's is; this one
 * only when that said nothing. */
#define APPSERVER_CLIENT_VERSION CODEXMCP_VERSION

/* Background calls and tasks (tasks.c).
 * wait_s of codex and codex_review: a day, like the longest time limit a
 * client sets (Claude Code's default is ~28 h, others 60-300 s). */
#define WAIT_S_MAX 86400u
/* codex_wait waits this long unless told: under the 60 s after which some
 * clients give up on a call, and long enough that a model polling a long
 * turn calls a few times a minute at most. */
#define CODEX_WAIT_DEFAULT_S 50u
#define CODEX_WAIT_MAX_S 3600u
/* Tasks one codex_wait may name: more than anyone fans out at once (the
 * queue runs --max-parallel of them). */
#define CODEX_WAIT_TASKS_MAX 32u
/* A finished task is kept this long (--task-ttl; an MCP task's own ttl
 * within TASK_TTL_MAX_S) for codex_wait and tasks/result. */
#define TASK_TTL_DEFAULT_S 3600u
#define TASK_TTL_MAX_S (7u * 86400u)
/* Tasks this server keeps in memory (running or finished): past it the
 * oldest finished ones are forgotten early (the registry still has them).
 * Finished results are cut to their call's budget (at most
 * BUDGET_MAX_CHARS); their bytes are bounded too. */
#define TASKS_MAX 10000u
#define TASK_RESULTS_MAX_BYTES ((size_t)64 * 1024 * 1024)
/* A call whose wait_s has passed waits this much longer for codex to
 * name its session (it does so at once, real codex within a second), so
 * that its "running" answer carries the SESSION_ID. */
#define TASK_SESSION_WAIT_MS 10000u
/* tasks/list page; a client follows nextCursor. */
#define TASKS_PAGE_SIZE 50u
/* The pollInterval an MCP task suggests to its client (ms). */
#define TASK_POLL_INTERVAL_MS 2000u
/* A task of another codexmcp process is looked up in the registry this
 * often while codex_wait or tasks/result waits for it. */
#define TASK_REGISTRY_POLL_MS 1000u

/* ---- The command-line views: doctor, ps, log ---- */

/* The codex version codexmcp's tests run (tests/e2e/package.json pins
 * it); doctor calls another "not tested". */
#define CODEX_TESTED_VERSION "0.169.0"
/* doctor's time limits: `codex --version`, `exec --help`, `login status`
 * (a native codex answers in about 50 ms, the npm launcher in 150); the
 * app-server from spawn to its last probe's answer (about 80 ms, seconds
 * on a loaded machine); and the wait for a codex whose stdin closed to
 * exit before its process group is killed. What doctor reads of each
 * codex's stdout and stderr. */
#define DOCTOR_QUICK_MS 10000u
#define DOCTOR_APPSERVER_MS 20000u
#define DOCTOR_EXIT_WAIT_MS 2000u
#define DOCTOR_OUTPUT_MAX ((size_t)1024 * 1024)
/* ps: finished calls shown by default (-n) and at most. */
#define PS_RECENT_DEFAULT 10u
#define PS_RECENT_MAX 10000u
/* ps: the LAST column of a running call comes from the end of its
 * transcript: first this much, then up to the larger bound when one line
 * (a command's whole output) is longer; shown in at most this many bytes. */
#define LAST_EVENT_TAIL_BYTES ((size_t)64 * 1024)
#define LAST_EVENT_TAIL_MAX_BYTES ((size_t)8 * 1024 * 1024)
#define LAST_EVENT_MAX_BYTES 400u
/* log: a transcript line longer than this is named, not shown; the last
 * lines of a command's output shown under it; the first lines of a prompt. */
#define LOG_LINE_MAX ((size_t)16 * 1024 * 1024)
#define LOG_OUTPUT_LINES 10u
#define LOG_PROMPT_LINES 20u
/* log -f: how often the transcript is read, and the registry asked whether
 * the call still runs; after the transcript's last line, how long the
 * registry may take to record the end. */
#define FOLLOW_READ_MS 200u
#define FOLLOW_CHECK_MS 1000u
#define FOLLOW_END_WAIT_MS 5000u

#endif
