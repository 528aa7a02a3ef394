/* cli_output.c — what the commands share for their results: saving (the
 * command recorded in a PNG: job_output.c), the names of extra outputs and
 * Ctrl-C, which requests the library's stop. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* The stop request is the library's (stop.c), so the jobs see Ctrl-C too. */
static void on_interrupt(int sig)
{
    (void)sig;
    if (hs_stop_requested()) signal(SIGINT, SIG_DFL); /* a second Ctrl-C kills at once */
    hs_request_stop();
}

void cli_catch_interrupt(void)
{
    hs_clear_stop();
    signal(SIGINT, on_interrupt);
}

int cli_interrupted(void) { return hs_stop_requested(); }

hs_status cli_save_image(const char *path, const hs_image *img, const char *model, int argc,
                         char **argv, const hs_save_options *options)
{
    return hs_job_save(path, img, model, argc, argv, options);
}

void cli_output_with(const char *output, const char *suffix, char *path, size_t size)
{
    hs_job_output_with(output, suffix, path, size);
}
