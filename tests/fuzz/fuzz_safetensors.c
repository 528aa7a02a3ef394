/* fuzz_safetensors.c — libFuzzer harness for the safetensors loader
 * (weights.c). The loader reads a path and wants a regular file, so each
 * input is written to one temporary file first. A file it accepts is walked
 * as the networks walk it: every tensor looked up by name, every float read. */
#include "weights.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256];

static void make_path(void)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, sizeof path, "%s/fuzz-safetensors-%ld.safetensors", dir, (long)getpid());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) make_path();
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(data, 1, size, fp) != size || fclose(fp) != 0) abort();
    hs_weights w = {0};
    if (hs_weights_load(path, &w) == HS_OK) {
        volatile float sum = 0;
        for (int t = 0; t < w.count; t++) {
            const hs_weight *tensor = &w.tensors[t];
            if (hs_weights_find(&w, tensor->name) == NULL) abort();
            for (size_t i = 0; i < tensor->count; i++) sum += tensor->data[i];
        }
        for (int m = 0; m < w.meta_count; m++)
            if (hs_weights_meta(&w, w.meta_keys[m]) == NULL) abort();
        int number;
        float values[3];
        hs_weights_meta_int(&w, "scale", &number);
        hs_weights_meta_floats(&w, "mean", values, 3);
    }
    hs_weights_free(&w);
    unlink(path);
    return 0;
}
