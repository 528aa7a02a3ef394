/* cache_dir.c — where hirestyle keeps what it can rebuild: compiled kernel
 * binaries and tuned GEMM parameters, in $XDG_CACHE_HOME/hirestyle or
 * ~/.cache/hirestyle; and the hash that names and checks the entries. */
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

uint64_t hs_hash(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}
