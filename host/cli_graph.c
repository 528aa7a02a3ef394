/* cli_graph.c — `hirestyle graph`: a network as text (net_graph.c), one
 * line per layer in the manner of ncnn's .param, printed from a weights
 * file; with --graph, the net is built from a (hand-edited) graph text and
 * that file's weights instead, and printed back once it has loaded. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("usage: hirestyle graph WEIGHTS [--graph FILE] [options]\n\n"
           "Print the network of a weights file (a path, or a name in the weights directory)\n"
           "as a graph: a header line, the net's line (architecture, layer count, input\n"
           "normalisation, scale), then one line per layer:\n"
           "  KIND NAME INPUT_COUNT OUTPUT_COUNT INPUTS... OUTPUT key=value...\n\n"
           "  -i, --graph FILE       build the net from this graph text with the file's\n"
           "                         weights instead, then print it (checks a graph)\n");
    cli_common_help();
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        hs_fail(HS_ERR_IO, "%s: cannot open the graph", path);
        return NULL;
    }
    size_t size = 0, cap = 4096;
    char *text = malloc(cap);
    for (size_t got; text && (got = fread(text + size, 1, cap - size - 1, f)) > 0;) {
        size += got;
        if (size + 1 == cap) {
            char *grown = realloc(text, cap *= 2);
            if (!grown) free(text);
            text = grown;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!text || bad) {
        free(text);
        hs_fail(bad ? HS_ERR_IO : HS_ERR_TOO_LARGE, "%s: cannot read the graph", path);
        return NULL;
    }
    text[size] = '\0';
    return text;
}

/* The net of `weights_path`: built by its architecture, or from graph_path. */
static hs_status load(hs_context *ctx, const char *weights_path, const char *graph_path,
                      hs_net *net)
{
    if (!graph_path) return hs_net_load(ctx, weights_path, net);
    char *text = read_text(graph_path);
    if (!text) return hs_fail_context(HS_ERR_IO, "graph");
    hs_weights w;
    hs_status st = hs_weights_load(weights_path, &w);
    if (st == HS_OK) st = hs_graph_parse(ctx, graph_path, text, &w, net);
    hs_weights_free(&w);
    free(text);
    return st;
}

typedef struct graph_args {
    const char *weights, *graph;
} graph_args;

enum { G_WEIGHTS = 1, G_GRAPH };

static const cli_option graph_options[] = {
    {"WEIGHTS", 0, NULL, CLI_OPERAND, G_WEIGHTS},
    {"graph", 'i', NULL, CLI_VALUE, G_GRAPH},
};

static int set_graph_option(void *state, const cli_option *o, const char *spelling,
                            const char *value)
{
    (void)spelling;
    graph_args *a = state;
    *(o->id == G_WEIGHTS ? &a->weights : &a->graph) = value;
    return 0;
}

int cli_graph(int argc, char **argv)
{
    cli_common common = {0};
    graph_args a = {0};
    cli_table tables[] = {CLI_TABLE(graph_options, set_graph_option, &a),
                          cli_common_table(&common)};
    int rc = cli_parse("graph", argc, argv, tables, 2);
    if (rc == CLI_HELP) help();
    if (rc) return rc == CLI_HELP ? 0 : rc;
    const char *weights = a.weights, *graph = a.graph;
    if (!weights) {
        fprintf(stderr, "hirestyle graph: give a weights file (see --help)\n");
        return HS_ERR_USAGE;
    }
    char path[4096];
    hs_status st = hs_resolve_weights(weights, path, sizeof path);
    if (st != HS_OK) return cli_report(st);
    hs_context *ctx;
    rc = cli_open_context(&common, &ctx);
    if (rc) return rc;
    hs_net net;
    st = load(ctx, path, graph, &net);
    if (st == HS_OK) {
        st = hs_graph_print(&net, stdout);
        hs_net_free(&net);
    }
    hs_context_destroy(ctx);
    return cli_report(st);
}
