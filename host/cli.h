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

/* Option values: each returns 0 (or a count for lists) on success, -1 after
 * printing what is wrong with the value of `option`. */
int cli_parse_int(const char *option, const char *text, int min, int max, int *out);
int cli_parse_float(const char *option, const char *text, float *out);
int cli_parse_int_list(const char *option, const char *text, int min, int max, int *out,
                       int capacity);
int cli_parse_float_list(const char *option, const char *text, float *out, int capacity);
/* The value after argv[*i] (advancing *i), or NULL after printing an error. */
const char *cli_value(int argc, char **argv, int *i);
/* arg is --long or -s. */
int cli_is(const char *arg, const char *long_name, const char *short_name);

int cli_devices(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_tune(int argc, char **argv);

#endif
