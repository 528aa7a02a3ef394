/* cache_dir.c — where hirestyle keeps what it can rebuild: compiled kernel
 * binaries and tuned GEMM parameters, in $XDG_CACHE_HOME/hirestyle or
 * ~/.cache/hirestyle. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

void hs_cache_path(const char *file_name, char *out, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(out, size, "%s/hirestyle/%s", xdg, file_name);
    else if (home && *home)
        snprintf(out, size, "%s/.cache/hirestyle/%s", home, file_name);
    else
        out[0] = '\0';
}

void hs_make_parent_dirs(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
}
