/* weights.h — loading network weights from a safetensors file.
 *
 * The layout: an 8-byte little-endian header size N, N bytes of JSON mapping
 * each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (plus
 * an optional "__metadata__" object of strings), then the raw little-endian
 * data, offsets counting from its first byte. Only F32 tensors of up to 4
 * dimensions are accepted. The loader checks everything and names the file
 * and the exact problem when it refuses one.
 */
#ifndef HS_WEIGHTS_H
#define HS_WEIGHTS_H

#include "hirestyle.h"

#include <stddef.h>
#include <stdint.h>

/* The largest JSON header accepted, in bytes. */
#define HS_WEIGHTS_MAX_HEADER (100u * 1000u * 1000u)

typedef struct hs_weight {
    char *name;
    int ndim;
    int64_t shape[4];   /* shape[0 .. ndim-1]; the rest are 0 */
    size_t count;       /* the product of the shape (1 for ndim 0) */
    const float *data;  /* count floats, pointing into hs_weights.bytes */
} hs_weight;

typedef struct hs_weights {
    char *path;
    unsigned char *bytes; /* the data area (everything after the header), 4-byte aligned */
    size_t size;          /* its length in bytes */
    hs_weight *tensors;   /* in file order */
    int count;
    char **meta_keys, **meta_values; /* the "__metadata__" pairs */
    int meta_count;
} hs_weights;

/* Read and validate the whole file. HS_ERR_IO when it cannot be opened or
 * read, HS_ERR_WEIGHTS when its contents are wrong. */
hs_status hs_weights_load(const char *path, hs_weights *out);
/* Free everything and zero the struct; a zeroed struct is a no-op. */
void hs_weights_free(hs_weights *w);

/* NULL when absent. */
const char *hs_weights_meta(const hs_weights *w, const char *key);
const hs_weight *hs_weights_find(const hs_weights *w, const char *name);

/* The tensor `name` must exist with exactly this shape; otherwise HS_ERR_WEIGHTS
 * with a message naming the tensor, both shapes and `arch` (the network). */
hs_status hs_weights_expect(const hs_weights *w, const char *arch, const char *name, int ndim,
                            const int64_t *shape, const hs_weight **out);

/* Required metadata: an integer, a finite float, or exactly `count`
 * comma-separated finite floats ("0.485,0.456,0.406"). HS_ERR_WEIGHTS naming
 * the key when it is absent or its value does not parse. */
hs_status hs_weights_meta_int(const hs_weights *w, const char *key, int *out);
hs_status hs_weights_meta_float(const hs_weights *w, const char *key, float *out);
hs_status hs_weights_meta_floats(const hs_weights *w, const char *key, float *out, int count);

/* ---- Writing (weights_write.c) ----------------------------------------------
 * An hs_weights assembled in memory: start from a zeroed struct (path may
 * stay NULL), add tensors (the data is copied) and metadata, save, free with
 * hs_weights_free. Saving is atomic: the file appears whole or not at all. */
hs_status hs_weights_add(hs_weights *w, const char *name, int ndim, const int64_t *shape,
                         const float *data);
/* Add key=value, or replace the value of an existing key. */
hs_status hs_weights_set_meta(hs_weights *w, const char *key, const char *value);
hs_status hs_weights_save(const char *path, const hs_weights *w);

/* The weights folders, in the order they are searched: $HIRESTYLE_WEIGHTS
 * (when set), $XDG_DATA_HOME/hirestyle/weights (default
 * ~/.local/share/hirestyle/weights), PREFIX/share/hirestyle/weights (the
 * installed ones), ./weights, the source tree's weights/. Returns the count. */
#define HS_WEIGHTS_DIRS 5
#define HS_WEIGHTS_PATH 4096
int hs_weights_dirs(char dirs[HS_WEIGHTS_DIRS][HS_WEIGHTS_PATH]);
/* The path of weights file `file_name` ("resnet50.safetensors"), searched in
 * the weights folders; HS_ERR_WEIGHTS with the command that fetches it when
 * absent. */
hs_status hs_find_weights(const char *file_name, char *out, size_t size);
/* What a user gave for --weights or -m: a path when it has a '/' or names an
 * existing file (which must be readable), else a name in the weights
 * directory, ".safetensors" optional. */
hs_status hs_resolve_weights(const char *given, char *out, size_t size);

#endif
