/* weights_path.c — finding a weights file by name: $HIRESTYLE_WEIGHTS, then
 * ./weights, then the weights/ directory of the source tree the binary was
 * built in (so build/hirestyle finds them from anywhere). */
#include "weights.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef HS_SOURCE_WEIGHTS_DIR
#define HS_SOURCE_WEIGHTS_DIR ""
#endif

hs_status hs_find_weights(const char *file_name, char *out, size_t size)
{
    const char *dirs[] = {getenv("HIRESTYLE_WEIGHTS"), "weights", HS_SOURCE_WEIGHTS_DIR};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i] || !*dirs[i]) continue;
        snprintf(out, size, "%s/%s", dirs[i], file_name);
        if (access(out, R_OK) == 0) return HS_OK;
    }
    return hs_fail(HS_ERR_WEIGHTS,
                   "weights file %s not found (looked in $HIRESTYLE_WEIGHTS, ./weights and %s): "
                   "run tools/fetch_weights.sh to fetch and convert it",
                   file_name, HS_SOURCE_WEIGHTS_DIR);
}

hs_status hs_resolve_weights(const char *given, char *out, size_t size)
{
    if (strchr(given, '/') || access(given, F_OK) == 0) {
        if (access(given, R_OK) != 0)
            return hs_fail(HS_ERR_WEIGHTS, "weights file %s: %s", given, strerror(errno));
        snprintf(out, size, "%s", given);
        return HS_OK;
    }
    const char *suffix = ".safetensors";
    size_t n = strlen(given), k = strlen(suffix);
    int has_suffix = n >= k && strcasecmp(given + n - k, suffix) == 0;
    char name[256];
    snprintf(name, sizeof name, "%s%s", given, has_suffix ? "" : suffix);
    return hs_find_weights(name, out, size);
}
