/* cli_batch.c — folders of images for `upscale -i DIR -o DIR` and
 * `style`/`run --content DIR -o DIR`: the images of a folder in name
 * order, this process's share of them when the work is spread over several
 * (--shard, Slurm job arrays, Kubernetes Indexed Jobs), the output of each,
 * the options of a folder run and its contexts, one per device and proc
 * thread. The loop over the images is cli_pipeline.c's. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_is_folder(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file name the image readers take, by its extension; no hidden files. */
static int is_image_name(const char *name)
{
    return name[0] != '.' && hs_image_format_from_path(name) != HS_FORMAT_AUTO;
}

hs_status cli_batch_list(const char *dir, const cli_shard *shard, cli_batch *batch)
{
    *batch = (cli_batch){0};
    DIR *d = opendir(dir);
    if (!d) return hs_fail(HS_ERR_IO, "%s: cannot open the folder: %s", dir, strerror(errno));
    int capacity = 0, total = 0;
    hs_status st = HS_OK;
    for (struct dirent *e; st == HS_OK && (e = readdir(d));) {
        if (!is_image_name(e->d_name)) continue;
        if (batch->count == capacity) {
            capacity = capacity ? 2 * capacity : 64;
            char **grown = realloc(batch->names, (size_t)capacity * sizeof *grown);
            if (!grown) st = hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", dir);
            else batch->names = grown;
        }
        if (st == HS_OK && !(batch->names[batch->count++] = strdup(e->d_name)))
            st = hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", dir);
    }
    closedir(d);
    if (st == HS_OK && batch->count)
        qsort(batch->names, (size_t)batch->count, sizeof *batch->names, by_name);
    /* this shard's share: every count-th name from its index, in name order */
    for (int i = 0; st == HS_OK && i < batch->count; i++) {
        if (shard->count > 1 && i % shard->count != shard->index) free(batch->names[i]);
        else batch->names[total++] = batch->names[i];
    }
    if (st == HS_OK) batch->total = batch->count, batch->count = total;
    if (st != HS_OK) cli_batch_free(batch);
    return st;
}

void cli_batch_free(cli_batch *batch)
{
    for (int i = 0; i < batch->count; i++) free(batch->names[i]);
    free(batch->names);
    *batch = (cli_batch){0};
}

void cli_batch_output(const char *out_dir, const char *name, hs_image_format format, char *path,
                      size_t size)
{
    static const char *const extensions[] = {
        [HS_FORMAT_PNG] = "png", [HS_FORMAT_JPEG] = "jpg", [HS_FORMAT_WEBP] = "webp",
        [HS_FORMAT_TIFF] = "tif"};
    const char *dot = strrchr(name, '.');
    snprintf(path, size, "%s/%.*s.%s", out_dir, dot ? (int)(dot - name) : (int)strlen(name), name,
             extensions[format ? format : HS_FORMAT_PNG]);
}

hs_status cli_make_folder(const char *dir)
{
    if (cli_is_folder(dir)) return HS_OK;
    if (mkdir(dir, 0777) == 0 || (errno == EEXIST && cli_is_folder(dir))) return HS_OK; /* or a
                                                                  shard beside us made it */
    return hs_fail(HS_ERR_IO, "%s: cannot make the output folder: %s", dir, strerror(errno));
}

/* ---- Shards ------------------------------------------------------------------------ */

/* A whole number from text; 0, or -1 when it is not one. */
static int whole(const char *text, int *out)
{
    char *end;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : -1;
    if (!text || errno || end == text || *end || v < 0 || v > 1000000) return -1;
    *out = (int)v;
    return 0;
}

int cli_parse_shard(const char *spelling, const char *value, cli_shard *shard)
{
    char index[16], count[16];
    const char *slash = strchr(value, '/');
    if (slash && slash - value < (int)sizeof index && strlen(slash + 1) < sizeof count) {
        snprintf(index, sizeof index, "%.*s", (int)(slash - value), value);
        snprintf(count, sizeof count, "%s", slash + 1);
        if (!whole(index, &shard->index) && !whole(count, &shard->count) && shard->count >= 1 &&
            shard->index < shard->count)
            return 0;
    }
    fprintf(stderr, "hirestyle: %s takes I/N, the shard I from 0 of N, not '%s'\n", spelling,
            value);
    return -1;
}

hs_status cli_shard_from_env(cli_shard *shard)
{
    if (shard->count > 0 && shard->index >= 0) return HS_OK; /* --shard I/N */
    const char *slurm = getenv("SLURM_ARRAY_TASK_ID"), *k8s = getenv("JOB_COMPLETION_INDEX");
    int id, min = 0;
    if (slurm) {
        if (whole(slurm, &id) || whole(getenv("SLURM_ARRAY_TASK_COUNT"), &shard->count) ||
            (getenv("SLURM_ARRAY_TASK_MIN") && whole(getenv("SLURM_ARRAY_TASK_MIN"), &min)))
            return hs_fail(HS_ERR_USAGE, "SLURM_ARRAY_TASK_ID, _MIN and _COUNT must be whole "
                           "numbers");
        shard->index = id - min;
    } else if (k8s) {
        if (whole(k8s, &shard->index))
            return hs_fail(HS_ERR_USAGE, "JOB_COMPLETION_INDEX='%s' is not a whole number", k8s);
        if (shard->count == 0 && whole(getenv("HIRESTYLE_SHARDS"), &shard->count))
            return hs_fail(HS_ERR_USAGE, "JOB_COMPLETION_INDEX is set: give the number of "
                           "shards with --shards N or HIRESTYLE_SHARDS (the Job's completions)");
    } else if (shard->count > 0) {
        return hs_fail(HS_ERR_USAGE, "--shards %d: this shard's index comes from "
                       "JOB_COMPLETION_INDEX, which is not set (or write --shard I/N)",
                       shard->count);
    } else {
        *shard = (cli_shard){0, 1};
        return HS_OK;
    }
    if (shard->count < 1 || shard->index < 0 || shard->index >= shard->count)
        return hs_fail(HS_ERR_USAGE, "shard %d of %d from %s: the index must be below the count",
                       shard->index, shard->count, slurm ? "Slurm" : "JOB_COMPLETION_INDEX");
    return HS_OK;
}

/* ---- The options and the loop ---------------------------------------------------- */

enum batch_option { B_OVERWRITE = 1, B_SHARD, B_SHARDS, B_THREADS };

static const cli_option batch_options[] = {
    {"overwrite", 0, NULL, CLI_FLAG, B_OVERWRITE},
    {"shard", 0, NULL, CLI_VALUE, B_SHARD},
    {"shards", 0, NULL, CLI_VALUE, B_SHARDS},
    {"jobs", 'j', NULL, CLI_VALUE, B_THREADS},
    {"threads", 0, NULL, CLI_VALUE, B_THREADS},
};

/* -j load:proc:save as realesrgan-ncnn-vulkan takes it, each 1 to 64. */
static int parse_threads(const char *spelling, const char *value, int threads[3])
{
    int n = 0, used = 0;
    if (sscanf(value, "%d:%d:%d%n", &threads[0], &threads[1], &threads[2], &n) == 3 &&
        value[n] == '\0')
        used = 1;
    for (int k = 0; used && k < 3; k++) used = threads[k] >= 1 && threads[k] <= 64;
    if (used) return 0;
    fprintf(stderr, "hirestyle: %s takes load:proc:save thread counts from 1 to 64, e.g. 1:2:2, "
            "not '%s'\n", spelling, value);
    return -1;
}

static int set_batch_option(void *state, const cli_option *o, const char *spelling,
                            const char *value)
{
    cli_batch_options *b = state;
    switch (o->id) {
    case B_OVERWRITE: b->overwrite = 1; return 0;
    case B_SHARD: return cli_parse_shard(spelling, value, &b->shard);
    case B_SHARDS: return cli_parse_int(spelling, value, 1, 1000000, &b->shard.count);
    case B_THREADS: return parse_threads(spelling, value, b->threads);
    }
    return -1;
}

cli_table cli_batch_table(cli_batch_options *options)
{
    *options = (cli_batch_options){0, {-1, 0}, CLI_DEFAULT_THREADS};
    return CLI_TABLE(batch_options, set_batch_option, options);
}

hs_status cli_batch_prepare(const char *in_dir, const char *out_dir, hs_image_format format,
                            cli_batch_options *options, cli_batch *batch, char *probe,
                            size_t probe_size)
{
    *batch = (cli_batch){0};
    if (!cli_is_folder(out_dir) && hs_image_format_from_path(out_dir))
        return hs_fail(HS_ERR_USAGE, "-o %s: %s is a folder, so -o names the folder to write "
                       "into", out_dir, in_dir);
    cli_batch_output(out_dir, "probe", format, probe, probe_size);
    hs_status st = cli_shard_from_env(&options->shard);
    if (st == HS_OK) st = cli_make_folder(out_dir);
    if (st == HS_OK) st = cli_check_output_format(probe, format);
    return st == HS_OK ? cli_batch_list(in_dir, &options->shard, batch) : st;
}

/* ---- Contexts: one per device and proc thread -------------------------------------- */

void cli_batch_header(const char *verb, const cli_batch *batch, const cli_batch_options *options,
                      const char *in_dir, const char *out_dir)
{
    size_t size = strlen(in_dir) + strlen(out_dir) + 128;
    char *line = malloc(size);
    if (!line) return;
    hs_progress_folder_line(verb, batch->count, batch->total, options->shard.count > 1, in_dir,
                            out_dir, isatty(STDOUT_FILENO) ? HS_PROGRESS_COLUMNS : 0, line,
                            size);
    printf("%s\n", line);
    free(line);
}

void cli_close_contexts(hs_context **ctxs, int count)
{
    for (int k = 0; k < count; k++) hs_context_destroy(ctxs[k]);
}

int cli_open_contexts(const cli_common *common, int per_device, hs_context **ctxs, int capacity,
                      int *count)
{
    *count = 0;
    const char *list = common->context.device;
    char specs[1024];
    snprintf(specs, sizeof specs, "%s", list ? list : "");
    int devices = 1;
    for (const char *c = specs; *c; c++) devices += *c == ',';
    if (devices * per_device > capacity) {
        fprintf(stderr, "hirestyle: %d devices with %d proc threads each: at most %d contexts\n",
                devices, per_device, capacity);
        return HS_ERR_USAGE;
    }
    char *rest = specs;
    for (int d = 0; d < devices; d++) {
        char *spec = strsep(&rest, ",");
        if (list && !*spec) {
            fprintf(stderr, "hirestyle: --device %s: an empty entry in the list\n", list);
            cli_close_contexts(ctxs, *count);
            return HS_ERR_USAGE;
        }
        cli_common one = *common;
        one.context.device = list ? spec : NULL;
        for (int k = 0; k < per_device; k++) {
            int rc = cli_open_context(&one, &ctxs[*count]);
            if (rc) {
                cli_close_contexts(ctxs, *count);
                return rc;
            }
            (*count)++;
        }
    }
    return 0;
}
