/* net_graph.c — networks as text (net.h, "Graph text"): printing a built
 * net and building one from its text and a weights file. The format is
 * modelled on ncnn's .param: a header line, a line for the net, then one
 * line per layer, "KIND NAME INPUT_COUNT OUTPUT_COUNT INPUTS... OUTPUTS...
 * key=value...". What a kind's parameters are is its row of the layer
 * table (parse and print columns); this file reads and writes the lines.
 */
#include "net.h"
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRAPH_MAGIC "hirestyle-graph"
#define GRAPH_VERSION 1
#define MAX_TOKENS (4 + 2 * HS_NET_MAX_INPUTS + 2 + HS_GRAPH_MAX_ARGS)

/* ---- Printing ----------------------------------------------------------------- */

hs_status hs_graph_print(const hs_net *net, FILE *out)
{
    const hs_normalize *n = &net->norm;
    fprintf(out, "%s %d\n", GRAPH_MAGIC, GRAPH_VERSION);
    fprintf(out, "%s %d input_scale=%.9g mean=%.9g,%.9g,%.9g std=%.9g,%.9g,%.9g order=%s",
            net->arch, net->count, n->scale, n->mean[0], n->mean[1], n->mean[2], n->std[0],
            n->std[1], n->std[2], n->bgr ? "bgr" : "rgb");
    if (net->scale) fprintf(out, " scale=%d output_range=%.9g", net->scale, net->output_range);
    fputc('\n', out);
    for (int i = 0; i < net->count; i++) {
        const hs_layer *l = &net->layers[i];
        const hs_layer_type *type = hs_layer_type_of(l);
        if (!type) return hs_fail_context(HS_ERR_INTERNAL, "%s", net->arch);
        if (!l->name[0] || strpbrk(l->name, " \t\r\n#") || hs_net_find(net, l->name) != i)
            return hs_fail(HS_ERR_INTERNAL, "%s: layer %d is called '%s': a graph needs names "
                           "of their own, without blanks or #", net->arch, i, l->name);
        fprintf(out, "%-12s %s %d 1", type->name, l->name, l->input_count);
        for (int k = 0; k < l->input_count; k++) fprintf(out, " %s", net->layers[l->inputs[k]].name);
        fprintf(out, " %s", l->name);
        type->print(l, out);
        fputc('\n', out);
    }
    return ferror(out) ? hs_fail(HS_ERR_IO, "%s: writing the graph failed", net->arch) : HS_OK;
}

/* ---- Parsing ------------------------------------------------------------------ */

typedef struct graph_reader {
    const char *path;
    char *text;        /* a copy, cut into lines and tokens in place */
    char *next_line;
    int line;
    char where[300];   /* "path:line" */
} graph_reader;

/* The next line that is not empty or a comment (#), split into tokens;
 * 0 at the end of the text. */
static int next_tokens(graph_reader *r, char **tokens, int *count)
{
    while (r->next_line && *r->next_line) {
        char *line = r->next_line, *end = strchr(line, '\n');
        if (end) *end = '\0';
        r->next_line = end ? end + 1 : NULL;
        r->line++;
        snprintf(r->where, sizeof r->where, "%s:%d", r->path, r->line);
        *count = 0;
        for (char *save = NULL, *t = strtok_r(line, " \t\r", &save); t;
             t = strtok_r(NULL, " \t\r", &save)) {
            if (*t == '#') break;
            if (*count == MAX_TOKENS) return -1;
            tokens[(*count)++] = t;
        }
        if (*count) return 1;
    }
    return 0;
}

/* key=value tokens into args. */
static hs_status read_args(graph_reader *r, char **tokens, int count, hs_graph_args *args)
{
    *args = (hs_graph_args){.where = r->where};
    for (int i = 0; i < count; i++) {
        char *eq = strchr(tokens[i], '=');
        if (!eq || eq == tokens[i])
            return hs_fail(HS_ERR_WEIGHTS, "%s: '%s' is not key=value", r->where, tokens[i]);
        if (args->count == HS_GRAPH_MAX_ARGS)
            return hs_fail(HS_ERR_WEIGHTS, "%s: more than %d parameters", r->where,
                           HS_GRAPH_MAX_ARGS);
        *eq = '\0';
        if (hs_graph_text(args, tokens[i]))
            return hs_fail(HS_ERR_WEIGHTS, "%s: %s is given twice", r->where, tokens[i]);
        args->keys[args->count] = tokens[i];
        args->values[args->count++] = eq + 1;
    }
    return HS_OK;
}

static int parse_int(const char *text, int min, int max, int *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < min || v > max) return 0;
    *out = (int)v;
    return 1;
}

/* "a,b,c": exactly three finite floats. */
static int parse_three(const char *text, float *out)
{
    char extra;
    return text && sscanf(text, "%f,%f,%f%c", &out[0], &out[1], &out[2], &extra) == 3;
}

/* Line 2: ARCH LAYER_COUNT key=value... (the input's normalisation, the SR scale). */
static hs_status read_net_line(graph_reader *r, char **tokens, int count, hs_net *net,
                               int *layer_count)
{
    if (count < 2 || !parse_int(tokens[1], 1, 1000000, layer_count))
        return hs_fail(HS_ERR_WEIGHTS, "%s: expected 'ARCH LAYER_COUNT key=value...'", r->where);
    snprintf(net->arch, sizeof net->arch, "%s", tokens[0]);
    hs_graph_args args;
    HS_TRY(read_args(r, tokens + 2, count - 2, &args));
    const char *order = hs_graph_text(&args, "order");
    if (!parse_three(hs_graph_text(&args, "mean"), net->norm.mean) ||
        !parse_three(hs_graph_text(&args, "std"), net->norm.std) || !order ||
        (strcmp(order, "rgb") != 0 && strcmp(order, "bgr") != 0))
        return hs_fail(HS_ERR_WEIGHTS, "%s: the net needs mean=A,B,C std=A,B,C order=rgb|bgr",
                       r->where);
    net->norm.bgr = strcmp(order, "bgr") == 0;
    HS_TRY(hs_graph_float(&args, "input_scale", 1.0f / 255.0f, &net->norm.scale));
    HS_TRY(hs_graph_int(&args, "scale", 0, 0, 64, &net->scale));
    return hs_graph_float(&args, "output_range", 0.0f, &net->output_range);
}

/* The layer whose output blob is called name, or -1. */
static int find_blob(const hs_net *net, char **blobs, const char *name)
{
    for (int i = net->count - 1; i >= 0; i--)
        if (strcmp(blobs[i], name) == 0) return i;
    return -1;
}

/* One layer line: KIND NAME INPUT_COUNT 1 INPUTS... OUTPUT key=value... */
static hs_status read_layer(graph_reader *r, char **tokens, int count, hs_net_builder *b,
                            char **blobs)
{
    hs_net *net = b->net;
    int inputs, outputs;
    if (count < 4 || !parse_int(tokens[2], 0, HS_NET_MAX_INPUTS, &inputs) ||
        !parse_int(tokens[3], 1, 1, &outputs) || count < 4 + inputs + outputs)
        return hs_fail(HS_ERR_WEIGHTS, "%s: expected 'KIND NAME INPUT_COUNT 1 INPUTS... OUTPUT "
                       "key=value...' with at most %d inputs", r->where, HS_NET_MAX_INPUTS);
    const hs_layer_type *type = hs_layer_type_named(tokens[0]);
    if (!type)
        return hs_fail(HS_ERR_WEIGHTS, "%s: unknown layer kind '%s'", r->where, tokens[0]);
    if ((type->kind == HS_LAYER_INPUT) != (net->count == 0))
        return hs_fail(HS_ERR_WEIGHTS, "%s: the first layer, and only it, must be the Input",
                       r->where);
    if (strlen(tokens[1]) >= HS_LAYER_NAME_SIZE)
        return hs_fail(HS_ERR_WEIGHTS, "%s: layer name '%s' is too long", r->where, tokens[1]);
    hs_layer l = {.kind = type->kind, .input_count = inputs, .alpha = 1.0f, .beta = 1.0f};
    snprintf(l.name, sizeof l.name, "%s", tokens[1]);
    int in_channels[HS_NET_MAX_INPUTS];
    for (int k = 0; k < inputs; k++) {
        l.inputs[k] = find_blob(net, blobs, tokens[4 + k]);
        if (l.inputs[k] < 0)
            return hs_fail(HS_ERR_WEIGHTS, "%s: layer '%s' reads '%s', which no earlier layer "
                           "writes", r->where, l.name, tokens[4 + k]);
        in_channels[k] = net->layers[l.inputs[k]].channels;
    }
    hs_graph_args args;
    HS_TRY(read_args(r, tokens + 4 + inputs + 1, count - 4 - inputs - 1, &args));
    HS_TRY(type->parse(&l, &args, in_channels));
    if (hs_build_layer(b, &l) < 0) return hs_fail_context(b->status, "%s", r->where);
    blobs[net->count - 1] = tokens[4 + inputs];
    return HS_OK;
}

hs_status hs_graph_parse(hs_context *ctx, const char *path, const char *text,
                         const hs_weights *weights, hs_net *net)
{
    memset(net, 0, sizeof *net);
    net->ctx = ctx;
    graph_reader r = {.path = path, .text = strdup(text)};
    char *tokens[MAX_TOKENS];
    char **blobs = NULL;
    int count = 0, layer_count = 0, version = 0, more;
    hs_status st = r.text ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    r.next_line = r.text;
    if (st == HS_OK && (next_tokens(&r, tokens, &count) != 1 || count != 2 ||
                        strcmp(tokens[0], GRAPH_MAGIC) != 0 ||
                        !parse_int(tokens[1], 1, 1000, &version) || version != GRAPH_VERSION))
        st = hs_fail(HS_ERR_WEIGHTS, "%s: not a hirestyle graph (the first line must be '%s %d')",
                     path, GRAPH_MAGIC, GRAPH_VERSION);
    if (st == HS_OK && next_tokens(&r, tokens, &count) != 1)
        st = hs_fail(HS_ERR_WEIGHTS, "%s: the graph ends before its net line", path);
    if (st == HS_OK) st = read_net_line(&r, tokens, count, net, &layer_count);
    if (st == HS_OK && !(blobs = calloc((size_t)layer_count, sizeof *blobs)))
        st = hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    hs_net_builder b = {net, weights, HS_OK};
    while (st == HS_OK && (more = next_tokens(&r, tokens, &count)) != 0) {
        if (more < 0) st = hs_fail(HS_ERR_WEIGHTS, "%s: too many words on a line", r.where);
        else if (net->count == layer_count)
            st = hs_fail(HS_ERR_WEIGHTS, "%s: more layers than the %d the net line gives",
                         r.where, layer_count);
        else st = read_layer(&r, tokens, count, &b, blobs);
    }
    if (st == HS_OK && net->count != layer_count)
        st = hs_fail(HS_ERR_WEIGHTS, "%s: %d layers, the net line gives %d", path, net->count,
                     layer_count);
    free(blobs);
    free(r.text);
    if (st != HS_OK) hs_net_free(net);
    return st;
}
