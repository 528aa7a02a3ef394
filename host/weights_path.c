/* weights_path.c — finding a weights file by name in the weights folders:
 * $HIRESTYLE_WEIGHTS, $XDG_DATA_HOME/hirestyle/weights (~/.local/share by
 * default), the installed share/hirestyle/weights, ./weights, then the
 * weights/ of the source tree the binary was built in (so an uninstalled
 * build/hirestyle finds them from anywhere). tools/fetch_weights.sh writes
 * into $HIRESTYLE_WEIGHTS when it is set, so both agree. */
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
#ifndef HS_DATA_WEIGHTS_DIR
#define HS_DATA_WEIGHTS_DIR ""
#endif

int hs_weights_dirs(char dirs[HS_WEIGHTS_DIRS][HS_WEIGHTS_PATH])
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME"), *env = getenv("HIRESTYLE_WEIGHTS");
    int n = 0;
    if (env && *env) snprintf(dirs[n++], HS_WEIGHTS_PATH, "%s", env);
    if (xdg && *xdg) snprintf(dirs[n++], HS_WEIGHTS_PATH, "%s/hirestyle/weights", xdg);
    else if (home && *home) snprintf(dirs[n++], HS_WEIGHTS_PATH, "%s/.local/share/hirestyle/weights", home);
    if (*HS_DATA_WEIGHTS_DIR) snprintf(dirs[n++], HS_WEIGHTS_PATH, "%s", HS_DATA_WEIGHTS_DIR);
    snprintf(dirs[n++], HS_WEIGHTS_PATH, "weights");
    if (*HS_SOURCE_WEIGHTS_DIR) snprintf(dirs[n++], HS_WEIGHTS_PATH, "%s", HS_SOURCE_WEIGHTS_DIR);
    return n;
}

hs_status hs_find_weights(const char *file_name, char *out, size_t size)
{
    char dirs[HS_WEIGHTS_DIRS][HS_WEIGHTS_PATH];
    int count = hs_weights_dirs(dirs);
    for (int i = 0; i < count; i++) {
        snprintf(out, size, "%s/%s", dirs[i], file_name);
        if (access(out, R_OK) == 0) return HS_OK;
    }
    return hs_fail(HS_ERR_WEIGHTS,
                   "weights file %s not found (looked in $HIRESTYLE_WEIGHTS, "
                   "$XDG_DATA_HOME/hirestyle/weights, %s, ./weights and %s): run "
                   "tools/fetch_weights.sh to fetch and convert it",
                   file_name, HS_DATA_WEIGHTS_DIR, HS_SOURCE_WEIGHTS_DIR);
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
