/* codexmcp log [-f] [--state-dir DIR] [--color WHEN] SESSION_ID: a
 * session's turns as readable lines, from the registry (store.h) and each
 * turn's transcript (transcript.h); -f follows the running call until it
 * ends. */
#ifndef CODEXMCP_CLI_LOG_H
#define CODEXMCP_CLI_LOG_H

/* argv[0] is "log". Returns the exit status: 0, 1 (no such session, or
 * the registry cannot be read), 2 (usage). */
int cli_log_main(int argc, char **argv);

#endif
