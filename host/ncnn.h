/* ncnn.h — reading ncnn models: the .param graph (text) and the .bin weights.
 *
 * An ncnn model is two files. The .param text starts with the magic number
 * 7767517, then "LAYER_COUNT BLOB_COUNT", then one line per layer:
 *     TYPE NAME BOTTOM_COUNT TOP_COUNT BOTTOM... TOP... ID=VALUE...
 * where bottoms and tops are blob names (a blob is one layer output, read by
 * later layers), ids are 0..31, a value is an int, a float (it has a '.' or an
 * 'e') or, when the id is written as -23300-ID, an array "N,V1,...,VN".
 * The .bin holds each layer's weights in layer order, in the order the layer
 * reads them (ncnn src/modelbin.cpp): a "tagged" array starts with a 4-byte
 * storage tag (0: float32; 0x01306B47: float16, its data padded to 4 bytes;
 * int8 and quantised tags are refused), an untagged one is raw float32.
 *
 * The parser only checks the syntax and the blob wiring; what a layer type
 * means is net_ncnn.c's business. Every refusal names the file, the line or
 * the blob, and the problem, so a broken or hostile file never gets further.
 */
#ifndef HS_NCNN_H
#define HS_NCNN_H

#include "hirestyle.h"

#include <stddef.h>

#define HS_NCNN_MAGIC 7767517
#define HS_NCNN_MAX_PARAMS 32           /* ids 0..31, as ncnn's NCNN_MAX_PARAM_COUNT */
#define HS_NCNN_MAX_LAYERS 100000
#define HS_NCNN_MAX_BLOBS 200000
#define HS_NCNN_MAX_LAYER_BLOBS 256     /* bottoms (or tops) of one layer */
#define HS_NCNN_MAX_ARRAY 4096          /* elements of one array value */
#define HS_NCNN_MAX_NAME 255            /* characters of a type, layer or blob name */
#define HS_NCNN_MAX_PARAM_BYTES ((size_t)64 << 20)

typedef enum hs_ncnn_value_kind {
    HS_NCNN_ABSENT,
    HS_NCNN_INT,
    HS_NCNN_FLOAT,
    HS_NCNN_ARRAY,
} hs_ncnn_value_kind;

typedef struct hs_ncnn_value {
    hs_ncnn_value_kind kind;
    int i;          /* INT: the value; FLOAT: truncated */
    float f;        /* FLOAT: the value; INT: converted */
    int count;      /* ARRAY: its elements, each both ways as above */
    int *ints;
    float *floats;
} hs_ncnn_value;

typedef struct hs_ncnn_layer {
    char *type, *name;
    int line;                       /* in the .param file */
    int bottom_count, top_count;
    int *bottoms, *tops;            /* blob indexes */
    hs_ncnn_value params[HS_NCNN_MAX_PARAMS];
} hs_ncnn_layer;

typedef struct hs_ncnn_graph {
    char *path;
    hs_ncnn_layer *layers;
    int layer_count;
    char **blob_names;              /* in the order the layers produce them */
    int blob_count;
} hs_ncnn_graph;

/* Read and check a .param file. HS_ERR_IO when it cannot be read,
 * HS_ERR_WEIGHTS when its contents are wrong. */
hs_status hs_ncnn_parse(const char *path, hs_ncnn_graph *out);
/* The same from text in memory (`path` only names it in messages). */
hs_status hs_ncnn_parse_text(const char *path, const char *text, size_t size,
                             hs_ncnn_graph *out);
/* Free everything and zero the struct; a zeroed struct is a no-op. */
void hs_ncnn_graph_free(hs_ncnn_graph *g);

/* Parameter `id` of a layer as ncnn's ParamDict::get gives it: the value, or
 * `fallback` when absent. An array where a scalar is expected reads as absent. */
int hs_ncnn_int(const hs_ncnn_layer *l, int id, int fallback);
float hs_ncnn_float(const hs_ncnn_layer *l, int id, float fallback);
/* Array parameter `id`, or NULL when absent or a scalar. */
const hs_ncnn_value *hs_ncnn_array(const hs_ncnn_layer *l, int id);

/* A .bin file, read whole, consumed front to back. */
typedef struct hs_ncnn_bin {
    char *path;
    unsigned char *bytes;
    size_t size, offset;
} hs_ncnn_bin;

hs_status hs_ncnn_bin_open(const char *path, hs_ncnn_bin *out);
void hs_ncnn_bin_close(hs_ncnn_bin *bin);
/* The next `count` floats: tagged (ncnn's type 0, weights) or raw float32
 * (type 1, biases and slopes). `what` ("layer Conv_0 weights") names them
 * when the file is short or the tag unsupported (HS_ERR_WEIGHTS). */
hs_status hs_ncnn_bin_read(hs_ncnn_bin *bin, size_t count, int tagged, const char *what,
                           float *out);

/* Build the network of an ncnn model: `param_path` (.param) and the .bin
 * beside it (ncnn_net.c). The net takes RGB in [0,1] and gives RGB in [0,1];
 * net->scale is measured from the graph. */
typedef struct hs_net hs_net;
hs_status hs_ncnn_net_load(hs_context *ctx, const char *param_path, hs_net *net);
/* Whether hs_ncnn_net_load knows the ncnn layer type (its parameters may
 * still ask for something it refuses). */
int hs_ncnn_type_supported(const char *type);

/* IEEE half to float (all values: subnormals, infinities, NaN). */
float hs_half_to_float(unsigned short h);

#endif
