/* fuzz_ncnn.c — libFuzzer harness for the ncnn readers (ncnn_param.c,
 * ncnn_bin.c). The input is a .param text, a NUL byte, and a .bin. When the
 * text parses, every parameter of every layer is read back, and the .bin is
 * read as a net reads its weights: tagged and raw arrays, one per layer,
 * of sizes taken from the layers' parameters, until the data runs out. */
#include "ncnn.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_as_bin(const uint8_t *data, size_t size, const hs_ncnn_graph *g)
{
    hs_ncnn_bin bin = {.path = "fuzz.bin", .bytes = (unsigned char *)data, .size = size};
    float *floats = malloc(4096 * sizeof *floats);
    if (!floats) abort();
    for (int l = 0; l < g->layer_count; l++) {
        size_t count = (size_t)(hs_ncnn_int(&g->layers[l], 0, 1) & 4095) + 1;
        if (hs_ncnn_bin_read(&bin, count, l % 2 == 0, "fuzz", floats) != HS_OK) break;
        if (bin.offset > bin.size) abort();
    }
    free(floats);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t text_size = nul ? (size_t)(nul - data) : size;
    hs_ncnn_graph g = {0};
    if (hs_ncnn_parse_text("fuzz.param", (const char *)data, text_size, &g) == HS_OK) {
        for (int l = 0; l < g.layer_count; l++) {
            const hs_ncnn_layer *layer = &g.layers[l];
            for (int b = 0; b < layer->bottom_count; b++)
                if (layer->bottoms[b] < 0 || layer->bottoms[b] >= g.blob_count) abort();
            for (int t = 0; t < layer->top_count; t++)
                if (layer->tops[t] < 0 || layer->tops[t] >= g.blob_count) abort();
            for (int id = 0; id < HS_NCNN_MAX_PARAMS; id++) {
                const hs_ncnn_value *array = hs_ncnn_array(layer, id);
                volatile float sum = hs_ncnn_float(layer, id, 0) + (float)hs_ncnn_int(layer, id, 0);
                for (int i = 0; array && i < array->count; i++)
                    sum += array->floats[i] + (float)array->ints[i];
            }
        }
        if (nul) read_as_bin(nul + 1, size - text_size - 1, &g);
    }
    hs_ncnn_graph_free(&g);
    return 0;
}
