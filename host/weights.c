/* weights.c — the safetensors loader: read the file, parse and check its JSON
 * header with cJSON, point each tensor into the data area, and the lookups
 * and metadata accessors the networks use.
 *
 * The data area is read into a buffer of its own, so it starts 4-byte
 * aligned whatever the header's length (safetensors does not promise that);
 * each tensor must then start at an offset that is a multiple of 4.
 */
#include "weights.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "safetensors data is little-endian and is used in place");

/* Room for "[a,b,c,d]" with 64-bit numbers. */
#define SHAPE_TEXT_SIZE 96

static void format_shape(char *text, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(text, SHAPE_TEXT_SIZE, "[");
    for (int i = 0; i < ndim && used < SHAPE_TEXT_SIZE; i++)
        used += (size_t)snprintf(text + used, SHAPE_TEXT_SIZE - used, "%s%lld", i ? "," : "",
                                 (long long)shape[i]);
    if (used < SHAPE_TEXT_SIZE)
        snprintf(text + used, SHAPE_TEXT_SIZE - used, "]");
}

/* ---- Reading the file ------------------------------------------------------ */

static hs_status read_exactly(FILE *fp, const char *path, void *buffer, size_t length)
{
    if (fread(buffer, 1, length, fp) == length)
        return HS_OK;
    if (ferror(fp))
        return hs_fail(HS_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    return hs_fail(HS_ERR_IO, "%s: the file ended while being read (did it change?)", path);
}

static uint64_t decode_le64(const unsigned char *bytes)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = value << 8 | bytes[i];
    return value;
}

/* Read the JSON header into *header (NUL-terminated, the caller frees it)
 * and the data area into w->bytes and w->size. */
static hs_status read_weights_file(FILE *fp, hs_weights *w, char **header)
{
    struct stat info;
    if (fstat(fileno(fp), &info) != 0)
        return hs_fail(HS_ERR_IO, "%s: cannot read: %s", w->path, strerror(errno));
    if (!S_ISREG(info.st_mode))
        return hs_fail(HS_ERR_IO, "%s: not a regular file", w->path);
    uint64_t file_size = (uint64_t)info.st_size;
    if (file_size < 8)
        return hs_fail(HS_ERR_WEIGHTS, "%s: file is %llu bytes, too short for a safetensors header",
                       w->path, (unsigned long long)file_size);

    unsigned char size_bytes[8];
    hs_status status = read_exactly(fp, w->path, size_bytes, sizeof size_bytes);
    if (status != HS_OK)
        return status;
    uint64_t header_size = decode_le64(size_bytes);
    if (header_size > HS_WEIGHTS_MAX_HEADER)
        return hs_fail(HS_ERR_WEIGHTS,
                       "%s: header size %llu is absurd (over 100 MB); is this a safetensors file?",
                       w->path, (unsigned long long)header_size);
    if (header_size > file_size - 8)
        return hs_fail(HS_ERR_WEIGHTS, "%s: header size %llu is larger than the file (%llu bytes)",
                       w->path, (unsigned long long)header_size, (unsigned long long)file_size);

    w->size = (size_t)(file_size - 8 - header_size);
    *header = malloc((size_t)header_size + 1);
    w->bytes = malloc(w->size > 0 ? w->size : 1);
    if (!*header || !w->bytes)
        return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory for %llu bytes", w->path,
                       (unsigned long long)file_size);
    status = read_exactly(fp, w->path, *header, (size_t)header_size);
    (*header)[header_size] = '\0';
    if (status == HS_OK)
        status = read_exactly(fp, w->path, w->bytes, w->size);
    return status;
}

/* ---- Parsing the header ------------------------------------------------------ */

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* cJSON keeps repeated keys; the format forbids them. */
static hs_status check_unique_keys(const hs_weights *w, const cJSON *object)
{
    int count = cJSON_GetArraySize(object);
    const char **keys = malloc((size_t)(count + 1) * sizeof *keys);
    if (!keys)
        return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", w->path);
    int n = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, object)
        keys[n++] = item->string;
    qsort(keys, (size_t)n, sizeof *keys, compare_strings);
    hs_status status = HS_OK;
    for (int i = 1; i < n && status == HS_OK; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            status = hs_fail(HS_ERR_WEIGHTS, "%s: '%s' appears twice in the header", w->path,
                             keys[i]);
    free(keys);
    return status;
}

/* An integer-valued JSON number, exactly representable (|value| <= 2^53). */
static int json_integer(const cJSON *item, int64_t *out)
{
    if (!cJSON_IsNumber(item))
        return 0;
    double value = item->valuedouble;
    if (value != floor(value) || fabs(value) > 9007199254740992.0)
        return 0;
    *out = (int64_t)value;
    return 1;
}

static hs_status parse_metadata(hs_weights *w, const cJSON *meta)
{
    if (!cJSON_IsObject(meta))
        return hs_fail(HS_ERR_WEIGHTS, "%s: '__metadata__' is not an object", w->path);
    hs_status status = check_unique_keys(w, meta);
    if (status != HS_OK)
        return status;
    size_t count = (size_t)cJSON_GetArraySize(meta);
    w->meta_keys = calloc(count + 1, sizeof *w->meta_keys);
    w->meta_values = calloc(count + 1, sizeof *w->meta_values);
    if (!w->meta_keys || !w->meta_values)
        return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", w->path);
    const cJSON *item;
    cJSON_ArrayForEach(item, meta) {
        if (!cJSON_IsString(item))
            return hs_fail(HS_ERR_WEIGHTS, "%s: metadata '%s' is not a string", w->path,
                           item->string);
        int i = w->meta_count++;
        w->meta_keys[i] = strdup(item->string);
        w->meta_values[i] = strdup(item->valuestring);
        if (!w->meta_keys[i] || !w->meta_values[i])
            return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", w->path);
    }
    return HS_OK;
}

static hs_status parse_shape(const hs_weights *w, hs_weight *t, const cJSON *shape)
{
    if (!shape)
        return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s' has no 'shape'", w->path, t->name);
    if (!cJSON_IsArray(shape))
        return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s': 'shape' is not a list of integers",
                       w->path, t->name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > 4)
        return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s' has %d dimensions; at most 4 are supported",
                       w->path, t->name, ndim);
    t->count = 1;
    const cJSON *item;
    cJSON_ArrayForEach(item, shape) {
        int64_t dim;
        if (!json_integer(item, &dim))
            return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s': 'shape' is not a list of integers",
                           w->path, t->name);
        if (dim < 0)
            return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s' has a negative dimension (%lld)",
                           w->path, t->name, (long long)dim);
        if (dim > 0 && t->count > SIZE_MAX / sizeof(float) / (uint64_t)dim)
            return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s' has an impossibly large shape",
                           w->path, t->name);
        t->shape[t->ndim++] = dim;
        t->count *= (size_t)dim;
    }
    return HS_OK;
}

static hs_status parse_offsets(const hs_weights *w, hs_weight *t, const cJSON *offsets)
{
    int64_t begin, end;
    if (!offsets)
        return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s' has no 'data_offsets'", w->path, t->name);
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
        !json_integer(offsets->child, &begin) || !json_integer(offsets->child->next, &end) ||
        begin < 0 || end < 0)
        return hs_fail(HS_ERR_WEIGHTS,
                       "%s: tensor '%s': 'data_offsets' is not a pair of non-negative integers",
                       w->path, t->name);
    if (end < begin)
        return hs_fail(HS_ERR_WEIGHTS,
                       "%s: tensor '%s': data_offsets [%lld,%lld] end before they begin", w->path,
                       t->name, (long long)begin, (long long)end);
    if ((uint64_t)end > w->size)
        return hs_fail(HS_ERR_WEIGHTS,
                       "%s: tensor '%s': data_offsets [%lld,%lld] go beyond the end of the file "
                       "(the data area is %zu bytes)",
                       w->path, t->name, (long long)begin, (long long)end, w->size);
    if ((uint64_t)(end - begin) != t->count * sizeof(float)) {
        char shape[SHAPE_TEXT_SIZE];
        format_shape(shape, t->ndim, t->shape);
        return hs_fail(HS_ERR_WEIGHTS,
                       "%s: tensor '%s' has shape %s (%zu bytes of F32) but its data_offsets span "
                       "%lld bytes",
                       w->path, t->name, shape, t->count * sizeof(float), (long long)(end - begin));
    }
    if (begin % 4 != 0)
        return hs_fail(HS_ERR_WEIGHTS,
                       "%s: tensor '%s' starts at data offset %lld, not a multiple of 4 "
                       "(unaligned floats are not supported)",
                       w->path, t->name, (long long)begin);
    t->data = (const float *)(w->bytes + begin);
    return HS_OK;
}

static hs_status parse_tensor(const hs_weights *w, hs_weight *t, const cJSON *entry)
{
    t->name = strdup(entry->string);
    if (!t->name)
        return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", w->path);
    if (!cJSON_IsObject(entry))
        return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s' is not an object", w->path, t->name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    if (!dtype)
        return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s' has no 'dtype'", w->path, t->name);
    if (!cJSON_IsString(dtype))
        return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s': 'dtype' is not a string", w->path,
                       t->name);
    if (strcmp(dtype->valuestring, "F32") != 0)
        return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s': dtype %s is not supported, convert to F32",
                       w->path, t->name, dtype->valuestring);
    hs_status status = parse_shape(w, t, cJSON_GetObjectItemCaseSensitive(entry, "shape"));
    if (status == HS_OK)
        status = parse_offsets(w, t, cJSON_GetObjectItemCaseSensitive(entry, "data_offsets"));
    return status;
}

static hs_status parse_entries(hs_weights *w, const cJSON *root)
{
    hs_status status = check_unique_keys(w, root);
    if (status != HS_OK)
        return status;
    w->tensors = calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof *w->tensors);
    if (!w->tensors)
        return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", w->path);
    const cJSON *entry;
    cJSON_ArrayForEach(entry, root) {
        if (strcmp(entry->string, "__metadata__") == 0)
            status = parse_metadata(w, entry);
        else
            status = parse_tensor(w, &w->tensors[w->count++], entry);
        if (status != HS_OK)
            return status;
    }
    return HS_OK;
}

static hs_status parse_header(hs_weights *w, const char *header)
{
    const char *error_at = NULL;
    cJSON *root = cJSON_ParseWithOpts(header, &error_at, 1);
    if (!root)
        return hs_fail(HS_ERR_WEIGHTS, "%s: header is not valid JSON (error at byte %td of it)",
                       w->path, error_at ? error_at - header : 0);
    hs_status status = cJSON_IsObject(root)
                           ? parse_entries(w, root)
                           : hs_fail(HS_ERR_WEIGHTS, "%s: header is not a JSON object", w->path);
    cJSON_Delete(root);
    return status;
}

/* ---- Checking the data --------------------------------------------------------- */

static int compare_by_data(const void *a, const void *b)
{
    const float *x = (*(const hs_weight *const *)a)->data;
    const float *y = (*(const hs_weight *const *)b)->data;
    return x < y ? -1 : x > y;
}

/* Sorted by where they start, each tensor must end before the next begins.
 * Empty tensors hold no bytes and cannot overlap. */
static hs_status check_overlaps(const hs_weights *w)
{
    const hs_weight **sorted = malloc((size_t)(w->count + 1) * sizeof *sorted);
    if (!sorted)
        return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", w->path);
    int n = 0;
    for (int i = 0; i < w->count; i++)
        if (w->tensors[i].count > 0)
            sorted[n++] = &w->tensors[i];
    qsort(sorted, (size_t)n, sizeof *sorted, compare_by_data);
    hs_status status = HS_OK;
    for (int i = 1; i < n && status == HS_OK; i++)
        if (sorted[i]->data < sorted[i - 1]->data + sorted[i - 1]->count)
            status = hs_fail(HS_ERR_WEIGHTS, "%s: tensors '%s' and '%s' overlap in the data area",
                             w->path, sorted[i - 1]->name, sorted[i]->name);
    free(sorted);
    return status;
}

static hs_status check_finite(const hs_weights *w)
{
    for (int i = 0; i < w->count; i++) {
        const hs_weight *t = &w->tensors[i];
        for (size_t j = 0; j < t->count; j++)
            if (!isfinite(t->data[j]))
                return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s' contains %s at element %zu",
                               w->path, t->name, isnan(t->data[j]) ? "NaN" : "infinity", j);
    }
    return HS_OK;
}

/* ---- Loading and freeing ------------------------------------------------------ */

hs_status hs_weights_load(const char *path, hs_weights *out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return hs_fail(HS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    hs_weights w = { .path = strdup(path) };
    char *header = NULL;
    hs_status status = w.path ? read_weights_file(fp, &w, &header)
                              : hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", path);
    fclose(fp);
    if (status == HS_OK)
        status = parse_header(&w, header);
    if (status == HS_OK)
        status = check_overlaps(&w);
    if (status == HS_OK)
        status = check_finite(&w);
    free(header);
    if (status == HS_OK)
        *out = w;
    else
        hs_weights_free(&w);
    return status;
}

void hs_weights_free(hs_weights *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->count; i++)
        free(w->tensors[i].name);
    for (int i = 0; i < w->meta_count; i++) {
        free(w->meta_keys[i]);
        free(w->meta_values[i]);
    }
    free(w->tensors);
    free(w->meta_keys);
    free(w->meta_values);
    free(w->bytes);
    free(w->path);
    *w = (hs_weights){ 0 };
}

/* ---- Lookups ------------------------------------------------------------------ */

const char *hs_weights_meta(const hs_weights *w, const char *key)
{
    for (int i = 0; i < w->meta_count; i++)
        if (strcmp(w->meta_keys[i], key) == 0)
            return w->meta_values[i];
    return NULL;
}

const hs_weight *hs_weights_find(const hs_weights *w, const char *name)
{
    for (int i = 0; i < w->count; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return &w->tensors[i];
    return NULL;
}

static int has_shape(const hs_weight *t, int ndim, const int64_t *shape)
{
    if (t->ndim != ndim)
        return 0;
    for (int i = 0; i < ndim; i++)
        if (t->shape[i] != shape[i])
            return 0;
    return 1;
}

hs_status hs_weights_expect(const hs_weights *w, const char *arch, const char *name, int ndim,
                            const int64_t *shape, const hs_weight **out)
{
    const hs_weight *t = hs_weights_find(w, name);
    if (!t)
        return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s' is missing (is this a %s weights file?)",
                       w->path, name, arch);
    if (!has_shape(t, ndim, shape)) {
        char have[SHAPE_TEXT_SIZE], need[SHAPE_TEXT_SIZE];
        format_shape(have, t->ndim, t->shape);
        format_shape(need, ndim, shape);
        return hs_fail(HS_ERR_WEIGHTS, "%s: tensor '%s' has shape %s, the %s architecture needs %s",
                       w->path, name, have, arch, need);
    }
    *out = t;
    return HS_OK;
}

/* ---- Metadata values ------------------------------------------------------------ */

static hs_status meta_required(const hs_weights *w, const char *key, const char **value)
{
    *value = hs_weights_meta(w, key);
    if (!*value)
        return hs_fail(HS_ERR_WEIGHTS, "%s: metadata '%s' is missing", w->path, key);
    return HS_OK;
}

/* One finite float at the start of `text`; *end is set past it. */
static int parse_float(const char *text, char **end, float *out)
{
    float value = strtof(text, end);
    if (*end == text || !isfinite(value))
        return 0;
    *out = value;
    return 1;
}

hs_status hs_weights_meta_int(const hs_weights *w, const char *key, int *out)
{
    const char *value;
    hs_status status = meta_required(w, key, &value);
    if (status != HS_OK)
        return status;
    char *end;
    errno = 0;
    long number = strtol(value, &end, 10);
    if (end == value || *end != '\0' || errno != 0 || number < INT_MIN || number > INT_MAX)
        return hs_fail(HS_ERR_WEIGHTS, "%s: metadata '%s' is '%s', not an integer", w->path, key,
                       value);
    *out = (int)number;
    return HS_OK;
}

hs_status hs_weights_meta_float(const hs_weights *w, const char *key, float *out)
{
    return hs_weights_meta_floats(w, key, out, 1);
}

hs_status hs_weights_meta_floats(const hs_weights *w, const char *key, float *out, int count)
{
    const char *value;
    hs_status status = meta_required(w, key, &value);
    if (status != HS_OK)
        return status;
    const char *next = value;
    int parsed = 0;
    for (; parsed < count; parsed++) {
        char *end;
        char separator = parsed == count - 1 ? '\0' : ',';
        if (!parse_float(next, &end, &out[parsed]) || *end != separator)
            break;
        next = end + 1;
    }
    if (parsed == count)
        return HS_OK;
    if (count == 1)
        return hs_fail(HS_ERR_WEIGHTS, "%s: metadata '%s' is '%s', not a number", w->path, key,
                       value);
    return hs_fail(HS_ERR_WEIGHTS, "%s: metadata '%s' is '%s', not %d comma-separated numbers",
                   w->path, key, value, count);
}
