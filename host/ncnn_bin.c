/* ncnn_bin.c — the weights of an ncnn model (.bin), read as ncnn's
 * ModelBinFromDataReader::load does (src/modelbin.cpp), float32 out:
 *   tagged arrays (weights): a little-endian 4-byte tag, then
 *     0x00000000  float32 data;
 *     0x0002C056  float32 data (ncnn's "raw data with extra scaling");
 *     0x01306B47  float16 data, padded to a multiple of 4 bytes;
 *     0x000D4B38  int8 data, and any other nonzero tag (a 256-entry
 *                 quantisation table): refused;
 *   untagged arrays (biases, slopes): float32 data.
 * Every read is bounds-checked, and non-finite values are refused, so a short
 * or corrupt file stops with its name, the array and the offset.
 */
#include "ncnn.h"
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG_FLOAT32 0x00000000u
#define TAG_FLOAT32_SCALED 0x0002C056u
#define TAG_FLOAT16 0x01306B47u
#define TAG_INT8 0x000D4B38u

/* The largest .bin read (the ncnn models people use are under 100 MB). */
#define MAX_BIN_BYTES ((size_t)4 << 30)

float hs_half_to_float(unsigned short h)
{
    int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    float magnitude;
    if (exponent == 0) magnitude = ldexpf((float)mantissa, -24); /* zero and subnormals */
    else if (exponent == 31) magnitude = mantissa ? NAN : INFINITY;
    else magnitude = ldexpf((float)(mantissa | 0x400), exponent - 25);
    return sign ? -magnitude : magnitude;
}

static uint32_t read_u32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

hs_status hs_ncnn_bin_open(const char *path, hs_ncnn_bin *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return hs_fail(HS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    hs_status st = HS_OK;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) st = hs_fail(HS_ERR_IO, "%s: cannot read", path);
    else if ((unsigned long)size > MAX_BIN_BYTES)
        st = hs_fail(HS_ERR_WEIGHTS, "%s: larger than %zu GB; not an ncnn .bin file", path,
                     MAX_BIN_BYTES >> 30);
    if (st == HS_OK) {
        out->size = (size_t)size;
        out->bytes = malloc(out->size + 1);
        out->path = strdup(path);
        if (!out->bytes || !out->path) st = hs_fail(HS_ERR_INTERNAL, "out of host memory");
        else if (fread(out->bytes, 1, out->size, f) != out->size)
            st = hs_fail(HS_ERR_IO, "%s: cannot read %zu bytes", path, out->size);
    }
    fclose(f);
    if (st != HS_OK) hs_ncnn_bin_close(out);
    return st;
}

void hs_ncnn_bin_close(hs_ncnn_bin *bin)
{
    free(bin->bytes);
    free(bin->path);
    memset(bin, 0, sizeof *bin);
}

/* Take `count` elements of `element` bytes, padded to a multiple of 4 bytes,
 * from the file, or fail naming what is missing. */
static hs_status take(hs_ncnn_bin *bin, size_t count, size_t element, const char *what,
                      const unsigned char **at)
{
    size_t left = bin->size - bin->offset;
    if (count > left / element || (count * element + 3) / 4 * 4 > left)
        return hs_fail(HS_ERR_WEIGHTS, "%s: truncated: %s need %zu values of %zu bytes at "
                       "offset %zu, the file has %zu bytes left", bin->path, what, count, element,
                       bin->offset, left);
    *at = bin->bytes + bin->offset;
    bin->offset += (count * element + 3) / 4 * 4;
    return HS_OK;
}

static hs_status read_float32(hs_ncnn_bin *bin, size_t count, const char *what, float *out)
{
    const unsigned char *at = NULL;
    HS_TRY(take(bin, count, 4, what, &at));
    for (size_t i = 0; i < count; i++) {
        uint32_t bits = read_u32(at + 4 * i);
        memcpy(&out[i], &bits, sizeof bits);
    }
    return HS_OK;
}

static hs_status read_float16(hs_ncnn_bin *bin, size_t count, const char *what, float *out)
{
    const unsigned char *at = NULL;
    HS_TRY(take(bin, count, 2, what, &at));
    for (size_t i = 0; i < count; i++)
        out[i] = hs_half_to_float((unsigned short)(at[2 * i] | at[2 * i + 1] << 8));
    return HS_OK;
}

hs_status hs_ncnn_bin_read(hs_ncnn_bin *bin, size_t count, int tagged, const char *what,
                           float *out)
{
    size_t start = bin->offset;
    hs_status st;
    if (!tagged) {
        st = read_float32(bin, count, what, out);
    } else {
        const unsigned char *at = NULL;
        HS_TRY(take(bin, 1, 4, what, &at));
        uint32_t tag = read_u32(at);
        if (tag == TAG_FLOAT16) st = read_float16(bin, count, what, out);
        else if (tag == TAG_FLOAT32 || tag == TAG_FLOAT32_SCALED)
            st = read_float32(bin, count, what, out);
        else if (tag == TAG_INT8)
            return hs_fail(HS_ERR_WEIGHTS, "%s: %s are int8 (tag 0x000D4B38 at offset %zu); "
                           "only float32 and float16 ncnn models are supported", bin->path, what,
                           start);
        else
            return hs_fail(HS_ERR_WEIGHTS, "%s: %s have storage tag 0x%08X at offset %zu: "
                           "quantised or not ncnn weights; only float32 and float16 are "
                           "supported", bin->path, what, (unsigned)tag, start);
    }
    for (size_t i = 0; st == HS_OK && i < count; i++)
        if (!isfinite(out[i]))
            return hs_fail(HS_ERR_WEIGHTS, "%s: %s hold a non-finite value (element %zu of "
                           "the array at offset %zu)", bin->path, what, i, start);
    return st;
}
