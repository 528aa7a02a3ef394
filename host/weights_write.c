/* weights_write.c — safetensors files written by hirestyle: an hs_weights
 * assembled in memory (tensors and metadata added one by one) and saved
 * atomically in the layout weights.h describes, which hs_weights_load (and
 * tools/safetensors_io.py) read back. What `train-sr` saves its checkpoints
 * with. */
#include "weights.h"
#include "atomic_file.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hs_status out_of_memory(const hs_weights *w)
{
    return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", w->path ? w->path : "weights");
}

hs_status hs_weights_add(hs_weights *w, const char *name, int ndim, const int64_t *shape,
                         const float *data)
{
    if (ndim < 0 || ndim > 4) return hs_fail(HS_ERR_INTERNAL, "tensor '%s': %d dimensions", name, ndim);
    size_t count = 1;
    for (int i = 0; i < ndim; i++) count *= (size_t)shape[i];
    if (hs_weights_find(w, name)) return hs_fail(HS_ERR_INTERNAL, "tensor '%s' added twice", name);
    /* the data area grows: remember where each tensor starts, then re-point */
    size_t *starts = malloc(((size_t)w->count + 1) * sizeof *starts);
    hs_weight *tensors = realloc(w->tensors, ((size_t)w->count + 1) * sizeof *tensors);
    if (!starts || !tensors) {
        free(starts);
        if (tensors) w->tensors = tensors;
        return out_of_memory(w);
    }
    w->tensors = tensors;
    for (int i = 0; i < w->count; i++)
        starts[i] = (size_t)((const unsigned char *)tensors[i].data - w->bytes);
    unsigned char *bytes = realloc(w->bytes, w->size + count * sizeof(float) + 1);
    char *copy = strdup(name);
    if (!bytes || !copy) {
        free(starts);
        free(copy);
        if (bytes) w->bytes = bytes;
        return out_of_memory(w);
    }
    w->bytes = bytes;
    for (int i = 0; i < w->count; i++) tensors[i].data = (const float *)(bytes + starts[i]);
    free(starts);
    memcpy(bytes + w->size, data, count * sizeof(float));
    hs_weight *t = &tensors[w->count++];
    *t = (hs_weight){.name = copy, .ndim = ndim, .count = count,
                     .data = (const float *)(bytes + w->size)};
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    w->size += count * sizeof(float);
    return HS_OK;
}

hs_status hs_weights_set_meta(hs_weights *w, const char *key, const char *value)
{
    char *v = strdup(value);
    if (!v) return out_of_memory(w);
    for (int i = 0; i < w->meta_count; i++)
        if (strcmp(w->meta_keys[i], key) == 0) {
            free(w->meta_values[i]);
            w->meta_values[i] = v;
            return HS_OK;
        }
    char *k = strdup(key);
    char **keys = realloc(w->meta_keys, ((size_t)w->meta_count + 1) * sizeof *keys);
    if (keys) w->meta_keys = keys;
    char **values = keys ? realloc(w->meta_values, ((size_t)w->meta_count + 1) * sizeof *values)
                         : NULL;
    if (values) w->meta_values = values;
    if (!k || !keys || !values) {
        free(k);
        free(v);
        return out_of_memory(w);
    }
    keys[w->meta_count] = k;
    values[w->meta_count++] = v;
    return HS_OK;
}

/* The JSON header: every tensor with its offsets, then the metadata. */
static char *header_text(const hs_weights *w)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
    int ok = root && meta;
    for (int i = 0; ok && i < w->meta_count; i++)
        ok = cJSON_AddStringToObject(meta, w->meta_keys[i], w->meta_values[i]) != NULL;
    size_t offset = 0;
    for (int i = 0; ok && i < w->count; i++) {
        const hs_weight *t = &w->tensors[i];
        cJSON *entry = cJSON_AddObjectToObject(root, t->name);
        cJSON *shape = entry ? cJSON_AddArrayToObject(entry, "shape") : NULL;
        cJSON *offsets = shape ? cJSON_AddArrayToObject(entry, "data_offsets") : NULL;
        ok = offsets && cJSON_AddStringToObject(entry, "dtype", "F32");
        for (int d = 0; ok && d < t->ndim; d++)
            ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
        size_t end = offset + t->count * sizeof(float);
        ok = ok && cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)offset)) &&
             cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)end));
        offset = end;
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

hs_status hs_weights_save(const char *path, const hs_weights *w)
{
    char *header = header_text(w);
    if (!header) return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", path);
    size_t length = strlen(header), padded = (length + 7) / 8 * 8; /* data 8-byte aligned */
    unsigned char size_le[8];
    for (int i = 0; i < 8; i++) size_le[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    hs_atomic_file file;
    hs_status st = hs_atomic_begin(path, &file);
    if (st != HS_OK) {
        free(header);
        return st;
    }
    int ok = fwrite(size_le, 1, 8, file.fp) == 8 && fwrite(header, 1, length, file.fp) == length;
    for (size_t i = length; ok && i < padded; i++) ok = fputc(' ', file.fp) != EOF;
    for (int i = 0; ok && i < w->count; i++)
        ok = fwrite(w->tensors[i].data, sizeof(float), w->tensors[i].count, file.fp) ==
             w->tensors[i].count;
    free(header);
    if (!ok) {
        hs_atomic_abort(&file);
        return hs_fail(HS_ERR_IO, "%s: writing failed (disk full?)", path);
    }
    return hs_atomic_commit(&file);
}
