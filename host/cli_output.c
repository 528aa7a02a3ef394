/* cli_output.c — what the commands share for their results: the command
 * line recorded in the PNG, atomic saving in the format asked for, and the
 * Ctrl-C flag. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    if (interrupted) signal(SIGINT, SIG_DFL); /* a second Ctrl-C kills at once */
    interrupted = 1;
}

void cli_catch_interrupt(void)
{
    interrupted = 0;
    signal(SIGINT, on_interrupt);
}

int cli_interrupted(void) { return interrupted != 0; }

void cli_command_line(int argc, char **argv, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "hirestyle");
    for (int i = 0; i < argc && used < size; i++) {
        const char *quote = strpbrk(argv[i], " \t'\"") ? "'" : "";
        used += (size_t)snprintf(out + used, size - used, " %s%s%s", quote, argv[i], quote);
    }
}

hs_status cli_save_image(const char *path, const hs_image *img, const char *model, int argc,
                         char **argv, const hs_save_options *options)
{
    hs_save_options chosen = options ? *options : (hs_save_options){0};
    if (!chosen.format) chosen.format = hs_image_format_from_path(path);
    char command[4096];
    cli_command_line(argc, argv, command, sizeof command);
    const char *slash = strrchr(model, '/');
    const char *text[] = {"Software", "hirestyle 0.1.0", "hirestyle command", command,
                          "hirestyle model", slash ? slash + 1 : model, NULL};
    if (chosen.format == HS_FORMAT_PNG) chosen.text = text;
    return hs_image_save(path, img, &chosen);
}

void cli_output_with(const char *output, const char *suffix, char *path, size_t size)
{
    const char *dot = strrchr(output, '.'), *slash = strrchr(output, '/');
    if (!dot || (slash && dot < slash)) dot = output + strlen(output);
    snprintf(path, size, "%.*s_%s%s", (int)(dot - output), output, suffix, dot);
}

int cli_tile_progress(int show, int done, int total, int tile)
{
    if (show) {
        fprintf(stderr, "\rhirestyle: upscaling, tile %d of %d (%d px)   ", done, total, tile);
        if (done == total || cli_interrupted()) fputc('\n', stderr);
    }
    return cli_interrupted(); /* Ctrl-C: stop between tiles, write nothing */
}
