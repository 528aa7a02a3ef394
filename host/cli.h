/* cli.h — the subcommands of the hirestyle binary and the option parsing
 * they share. Each command is `int cli_NAME(int argc, char **argv)` and
 * returns the process exit code (an hs_status). */
#ifndef HS_CLI_H
#define HS_CLI_H

#include "hirestyle.h"

/* Options every command takes: --device, --device-type, --verbose, --quiet. */
typedef struct cli_common {
    hs_context_options context;
    int quiet;
} cli_common;

/* Consume a common option at argv[*i] (advancing *i past its value).
 * Returns 1 if it was one, 0 if not, -1 on a bad value (message printed). */
int cli_common_option(cli_common *common, int argc, char **argv, int *i);
/* The help lines for the common options. */
void cli_common_help(void);
/* Create the context; on failure print why (and the device list when the
 * device was not found) and return the exit code. */
int cli_open_context(const cli_common *common, hs_context **ctx);
/* Print "hirestyle: <message>" for the last error and return status. */
int cli_report(hs_status status);
/* Print the device table to stdout (or stderr). */
int cli_print_devices(int to_stderr);

int cli_devices(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_tune(int argc, char **argv);

#endif
