/* cli.h — the subcommands of the hirestyle binary and the option parsing
 * they share. Each command is `int cli_NAME(int argc, char **argv)` and
 * returns the process exit code (an hs_status). */
#ifndef HS_CLI_H
#define HS_CLI_H

#include "hirestyle.h"
#include "image_io.h"
#include "job.h"
#include "net.h"
#include "progress.h"
#include "style_job.h"

#include <stddef.h>

/* ---- Options (cli_options.c) ------------------------------------------------
 * Each command lists its options in a table and reads argv with cli_parse:
 * getopt_long, so --name=value works as well as --name value. */
typedef enum cli_kind {
    CLI_FLAG,           /* no value */
    CLI_VALUE,          /* one value; given twice is an error */
    CLI_LIST,           /* one value, and the option may repeat: the values add up */
    CLI_OPTIONAL_COUNT, /* --name, --name N or --name=N */
    CLI_OPERAND,        /* a word that is no option (its name is for help only) */
} cli_kind;

typedef struct cli_option {
    const char *name;  /* long name without "--"; NULL for a single-dash alias only */
    int letter;        /* short name, 'o' for -o; 0 for none */
    const char *alias; /* the single-dash name neural-style gives it ("content_image"
                        * for -content_image), or NULL */
    cli_kind kind;
    int id;            /* what it sets: options with the same id are one option */
} cli_option;

/* The id of -h, --help: cli_parse returns it. */
#define CLI_HELP (-1)

typedef struct cli_table {
    const cli_option *options;
    int count;
    /* Store one option's value (NULL for a flag); 0, or -1 after printing
     * what is wrong. `spelling` is how the option was written. */
    int (*set)(void *state, const cli_option *option, const char *spelling, const char *value);
    void *state;
} cli_table;

#define CLI_TABLE(options, set, state) \
    ((cli_table){options, (int)(sizeof options / sizeof options[0]), set, state})

/* Read argv[1..] with the tables: 0, CLI_HELP when -h or --help came, or
 * HS_ERR_USAGE after printing what is wrong (an unknown option, a missing
 * or bad value, an option given twice). */
int cli_parse(const char *command, int argc, char **argv, const cli_table *tables,
              int table_count);

/* Options every command takes: --device, --device-type, --verbose, --quiet,
 * --help, and neural-style's -gpu N (the N-th GPU; -1: the CPU). */
typedef struct cli_common {
    hs_context_options context;
    int quiet;
    int gpu_given, gpu; /* -gpu N */
} cli_common;

cli_table cli_common_table(cli_common *common);
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
/* hs_job_save and hs_job_output_with (job.h), under the CLI's names. */
hs_status cli_save_image(const char *path, const hs_image *img, const char *model, int argc,
                         char **argv, const hs_save_options *options);
void cli_output_with(const char *output, const char *suffix, char *path, size_t size);
/* Ctrl-C requests the library's stop (hs_request_stop), which long work
 * polls, so it stops cleanly. */
void cli_catch_interrupt(void);
int cli_interrupted(void);

/* ---- Progress beside the terminal line (cli_progress.c) ---- */
typedef struct cli_web cli_web;
typedef struct cli_progress {
    int json;                 /* --json: events as JSON lines on stdout */
    int web, web_port;        /* --web [PORT] */
    const char *web_host;     /* --web-host; default 127.0.0.1 */
    hs_progress sinks;        /* --json's and --web's, for the jobs to report to */
    cli_web *server;
} cli_progress;
/* --json, and with web --web [PORT] and --web-host HOST; the help lines. */
cli_table cli_progress_table(cli_progress *p, int web);
void cli_progress_help(int web);
/* After parsing: --json makes the command quiet (stdout is JSON's) and adds
 * its sink; --web starts the server (HS_ERR_USAGE when the address cannot
 * be had) and prints its address. */
hs_status cli_progress_start(cli_progress *p, cli_common *common);
void cli_progress_stop(cli_progress *p);
/* With --json: an {"event":"error"} line (cli_report), and the last line,
 * {"event":"end","status":CODE} (main). */
void cli_progress_error(hs_status status, const char *message);
void cli_progress_end(int code);
/* Upscaling's bar (tiles, MP/s, time left) and events: cli_tiles_progress
 * is the hs_upscale_progress callback, and returns whether to stop (Ctrl-C).
 * The first time a listener wants a picture (--web's page is open), it is
 * given the input, as RGB8: one conversion, not the output so far. */
typedef struct cli_tiles {
    const hs_progress *events;
    int show;                 /* the bar, on a terminal */
    hs_terminal terminal;
    double start, megapixels; /* of the whole output */
    const hs_image *input;
    int pictured;             /* the input was given */
    int width, height;
    int tiles, tile;          /* the last count and side, for the summary */
} cli_tiles;
void cli_tiles_begin(cli_tiles *t, const cli_progress *p, int quiet, const hs_image *in,
                     int scale);
int cli_tiles_progress(void *arg, int done, int total, int tile);

/* ---- Folders of images (cli_batch.c) ---- */
/* This process's share of a folder: every count-th image from index. */
typedef struct cli_shard {
    int index, count; /* -1, 0: not given */
} cli_shard;
/* --shard I/N: 0, or -1 after saying what is wrong. */
int cli_parse_shard(const char *spelling, const char *value, cli_shard *shard);
/* The shard when --shard did not give it: from SLURM_ARRAY_TASK_ID (less
 * SLURM_ARRAY_TASK_MIN) of SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX
 * of --shards N (shard->count) or $HIRESTYLE_SHARDS; else 0 of 1. */
hs_status cli_shard_from_env(cli_shard *shard);
typedef struct cli_batch {
    char **names; /* this shard's image files in the folder, by name */
    int count;
    int total;    /* images in the folder, all shards together */
} cli_batch;
int cli_is_folder(const char *path);
hs_status cli_batch_list(const char *dir, const cli_shard *shard, cli_batch *batch);
void cli_batch_free(cli_batch *batch);
/* OUT_DIR/STEM.EXT for an input file NAME, EXT that of format (AUTO: png). */
void cli_batch_output(const char *out_dir, const char *name, hs_image_format format, char *path,
                      size_t size);
hs_status cli_make_folder(const char *dir);
/* --overwrite, --shard I/N, --shards N and -j L:P:S, the options of every
 * folder run. */
typedef struct cli_batch_options {
    int overwrite;     /* redo the images whose output exists */
    cli_shard shard;   /* this process's share */
    int threads[3];    /* -j load:proc:save; proc per device */
} cli_batch_options;
#define CLI_DEFAULT_THREADS {1, 1, 2}
cli_table cli_batch_table(cli_batch_options *options);
/* Before the slow part: -o is a folder (made when missing) where images of
 * `format` (AUTO: png) can be written, *probe such an image's path; the
 * shard (cli_shard_from_env); this shard's images of in_dir. */
hs_status cli_batch_prepare(const char *in_dir, const char *out_dir, hs_image_format format,
                            cli_batch_options *options, cli_batch *batch, char *probe,
                            size_t probe_size);
/* Print "VERB N of the M images in IN_DIR into OUT_DIR" on stdout, on a
 * terminal within 80 columns (the folders shortened in the middle). */
void cli_batch_header(const char *verb, const cli_batch *batch, const cli_batch_options *options,
                      const char *in_dir, const char *out_dir);
/* The work on each image of a folder, in three stages (cli_pipeline.c),
 * each returning HS_OK or a status whose message is recorded (the run
 * reports it and goes on):
 *   load, on -j's load threads: decode input into *in (NULL: proc reads
 *     the input itself);
 *   proc, on one thread per context (`worker` from 0 to workers - 1):
 *     the work, *out from *in (in is freed after);
 *   save, on -j's save threads: write out to output (NULL: proc wrote it). */
typedef struct cli_batch_stages {
    hs_status (*load)(void *state, const char *input, hs_image *in);
    hs_status (*proc)(void *state, int worker, const char *input, const char *output,
                      const hs_image *in, hs_image *out);
    hs_status (*save)(void *state, const char *output, const hs_image *out);
    int workers;
    hs_context *const *contexts; /* worker k's, for the tally of images per device */
} cli_batch_stages;
typedef struct cli_batch_job {
    const cli_batch *batch;
    const char *in_dir, *out_dir;
    hs_image_format format;        /* of the outputs; AUTO: png */
    const cli_batch_options *options;
    int quiet;
    const char *done_word;         /* "upscaled", "painted": for the summary */
    const hs_progress *events;     /* told of each image done; NULL: none */
} cli_batch_job;
/* Every image of the batch through the stages, on their threads: those
 * whose output exists skipped (unless --overwrite), a failure reported and
 * counted without stopping the others, "[i/n] wrote NAME, T s; M:SS left"
 * after each (80 columns), in name order whatever the threads, a summary at
 * the end (with several workers, the images each did, by device). Ctrl-C
 * stops it (exit 9): no image is taken after it, the work on those taken
 * stops, and only finished ones are written; else the exit code is the
 * first failure's, or 0. */
int cli_batch_run(const cli_batch_job *job, const cli_batch_stages *stages, void *state);
/* One context per device of common's -g (N,M,... lists devices; the same
 * one twice gives it two), `per_device` (-j's proc count) on each, at most
 * `capacity`; on failure, print why and return the exit code. */
int cli_open_contexts(const cli_common *common, int per_device, hs_context **ctxs, int capacity,
                      int *count);
void cli_close_contexts(hs_context **ctxs, int count);

int cli_devices(int argc, char **argv);
int cli_style(int argc, char **argv);
/* The style options, shared by `style` and `run` (the output included:
 * job->output; defaults: hs_style_job_defaults); cli_style_check: the
 * options together, -1 after saying what is wrong (it also resolves
 * neural-style's -init image). */
cli_table cli_style_table(hs_style_job *job);
int cli_style_check(hs_style_job *job);
/* The help lines of --content DIR's options. */
void cli_style_batch_help(void);
int cli_bench(int argc, char **argv);
int cli_tune(int argc, char **argv);
int cli_upscale(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_graph(int argc, char **argv);
int cli_train_sr(int argc, char **argv);
/* `run --adapt-upscaler` and `upscale --adapt` (cli_train.c): the model
 * fine-tuned for `steps` on the picture (hs_sr_adapt), its held-out PSNR
 * before and after printed, each step told to `events` (NULL: none), then
 * rewritten for inference (hs_net_fold_upsampling). */
#define CLI_ADAPT_DEFAULT_STEPS 30
/* The steps of --adapt-upscaler / --adapt [N]: N, or the default without one. */
int cli_parse_adapt_steps(const char *spelling, const char *value, int *steps);
hs_status cli_adapt_upscaler(hs_context *ctx, const char *model, const hs_image *painting,
                             int steps, int quiet, const hs_progress *events, hs_net *net);
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
 * NAME.param, then NAME-x{scale}.safetensors and .param when scale is not 0. */
hs_status cli_find_model(const char *name, const char *models_dir, int scale, char *path,
                         size_t size);
int cli_models(int argc, char **argv);
hs_status cli_check_sr_model(const hs_net *net, const char *path, int scale);

#endif
