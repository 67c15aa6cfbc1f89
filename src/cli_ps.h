/* codexmcp ps [-n N] [--json] [--state-dir DIR] [--color WHEN]: the calls
 * running now in every codexmcp process sharing the state directory, and
 * the latest to finish, from the registry (store.h). */
#ifndef CODEXMCP_CLI_PS_H
#define CODEXMCP_CLI_PS_H

/* argv[0] is "ps". Returns the exit status: 0, 1 (the registry cannot be
 * read), 2 (usage). */
int cli_ps_main(int argc, char **argv);

#endif
