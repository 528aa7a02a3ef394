/* reference.c — see reference.h. */
#include "reference.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *source_root(void)
{
    const char *root = getenv("HIRESTYLE_SOURCE_ROOT");
    ck_assert_msg(root && *root, "HIRESTYLE_SOURCE_ROOT is not set (run the tests with meson test)");
    return root;
}

const char *scratch_dir(void)
{
    static char dir[256];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/hirestyle-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        ck_assert_ptr_nonnull(mkdtemp(dir));
    }
    return dir;
}

const char *scratch_path(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", scratch_dir(), name);
    return p;
}

void run_command(const char *fmt, ...)
{
    char cmd[4096], logged[4700];
    va_list ap;
    va_start(ap, fmt);
    ck_assert_int_lt(vsnprintf(cmd, sizeof cmd, fmt, ap), (int)sizeof cmd);
    va_end(ap);
    const char *log = scratch_path("command.log");
    snprintf(logged, sizeof logged, "( %s ) >'%s' 2>&1", cmd, log);
    if (system(logged) == 0) return;
    FILE *f = fopen(log, "r"); /* show what the command said */
    char line[512];
    while (f && fgets(line, sizeof line, f)) fputs(line, stderr);
    if (f) fclose(f);
    ck_abort_msg("command failed (its output is above): %s", cmd);
}

void write_floats(const char *path, const float *x, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert(fwrite(x, sizeof *x, n, f) == n);
    ck_assert(fclose(f) == 0);
}

float *read_floats(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    float *x = malloc((n ? n : 1) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    size_t got = fread(x, sizeof *x, n, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    ck_assert_msg(got == n && !extra, "%s does not hold %zu floats", path, n);
    return x;
}

void chw_to_hwc(const float *chw, float *hwc, int c, int h, int w)
{
    for (int k = 0; k < c; k++)
        for (int i = 0; i < h * w; i++) hwc[i * c + k] = chw[k * h * w + i];
}

void hwc_to_chw(const float *hwc, float *chw, int c, int h, int w)
{
    for (int k = 0; k < c; k++)
        for (int i = 0; i < h * w; i++) chw[k * h * w + i] = hwc[i * c + k];
}

double json_number(const char *path, const char *key)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    cJSON *root = cJSON_Parse(text);
    ck_assert_msg(root != NULL, "%s is not JSON", path);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, key);
    ck_assert_msg(cJSON_IsNumber(item), "%s has no number '%s'", path, key);
    double v = item->valuedouble;
    cJSON_Delete(root);
    return v;
}

const char *weights_file(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/weights/%s", source_root(), name);
    ck_assert_msg(access(path, R_OK) == 0, "%s is missing: run tools/fetch_weights.sh", path);
    return path;
}
