/* cli.h — the subcommands of the hirestyle binary and the option parsing
 * they share. Each command is `int cli_NAME(int argc, char **argv)` and
 * returns the process exit code (an hs_status). */
#ifndef HS_CLI_H
#define HS_CLI_H

#include "hirestyle.h"
#include "image_io.h"
#include "net.h"
#include "style_job.h"

#include <stddef.h>

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

/* The command line as one string, quoted where needed, for the PNG. */
void cli_command_line(int argc, char **argv, char *out, size_t size);
/* Save atomically in the format of `options` (NULL: all defaults, the
 * format from the name's extension); a PNG gets the command and the model
 * in tEXt chunks. */
hs_status cli_save_image(const char *path, const hs_image *img, const char *model, int argc,
                         char **argv, const hs_save_options *options);
/* OUTPUT with "_suffix" before its extension: painting.jpg, "300" ->
 * painting_300.jpg (snapshots, each scale, the painting before upscaling). */
void cli_output_with(const char *output, const char *suffix, char *path, size_t size);
/* Ctrl-C sets a flag that long work polls, so it stops cleanly. */
void cli_catch_interrupt(void);
int cli_interrupted(void);
/* The upscaling progress line (when show) and whether to stop (Ctrl-C). */
int cli_tile_progress(int show, int done, int total, int tile);

int cli_devices(int argc, char **argv);
int cli_style(int argc, char **argv);
/* The style options, shared by `style` and `run`: 1 used, 0 not a style
 * option, -1 bad value (printed). cli_style_check: the options together. */
void cli_style_job_defaults(hs_style_job *job);
int cli_style_option(hs_style_job *job, int argc, char **argv, int *i);
int cli_style_check(const hs_style_job *job);
int cli_bench(int argc, char **argv);
int cli_tune(int argc, char **argv);
int cli_upscale(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_graph(int argc, char **argv);
int cli_train_sr(int argc, char **argv);
/* `run --adapt-upscaler` (cli_train.c): the model fine-tuned for `steps` on
 * the painting (hs_sr_adapt), its held-out PSNR before and after printed. */
hs_status cli_adapt_upscaler(hs_context *ctx, const char *model, const hs_image *painting,
                             int steps, int quiet, hs_net *net);
/* HS_ERR_USAGE unless the model can be adapted (a safetensors file). */
hs_status cli_check_adaptable(const char *model);
/* Checks before the slow part, shared by `upscale`, `style` and `run`
 * (cli_upscale.c): the output is in a writable directory and named .png,
 * .jpg, .webp or .tif (or of the format given, whose extension it must not
 * contradict; 0: the name decides); the super-resolution weights
 * (a path, a name in the weights directory, or NULL: esrgan-thick-x{scale});
 * a loaded net is super-resolution, of `scale` unless it is 0. */
hs_status cli_check_output_format(const char *output, hs_image_format format);
hs_status cli_find_sr_model(const char *model, const char *models_dir, int scale, char *path,
                            size_t size);
/* A model by path or by name (cli_models.c): in models_dir when not NULL,
 * else the weights folders and their ncnn/ subfolders; NAME, NAME.safetensors,
 * NAME.param, then NAME-x{scale}.param when scale is not 0. */
hs_status cli_find_model(const char *name, const char *models_dir, int scale, char *path,
                         size_t size);
int cli_models(int argc, char **argv);
hs_status cli_check_sr_model(const hs_net *net, const char *path, int scale);

#endif
