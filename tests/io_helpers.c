/* io_helpers.c — the temporary directory, file helpers, test images and
 * failure checks of io_helpers.h. */
#include "io_helpers.h"

#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Temporary directory (a checked fixture: one per test) ------------------- */

static char temp_dir[PATH_SIZE];

void make_temp_dir(void)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(temp_dir, sizeof temp_dir, "%s/hirestyle-test-io-XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(temp_dir));
}

static int remove_entry(const char *path, const struct stat *info, int type, struct FTW *ftw)
{
    (void)info;
    (void)type;
    (void)ftw;
    return remove(path);
}

void remove_temp_dir(void)
{
    nftw(temp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *temp_dir_path(void) { return temp_dir; }

void temp_file(char path[PATH_SIZE], const char *name)
{
    ck_assert_int_lt(snprintf(path, PATH_SIZE, "%s/%s", temp_dir, name), PATH_SIZE);
}

/* How many entries of the temporary directory have ".tmp-" in their name. */
int count_leftover_temporaries(void)
{
    DIR *dir = opendir(temp_dir);
    ck_assert_ptr_nonnull(dir);
    int count = 0;
    for (struct dirent *entry; (entry = readdir(dir));)
        count += strstr(entry->d_name, ".tmp-") != NULL;
    closedir(dir);
    return count;
}

/* ---- Small file helpers ---------------------------------------------------------- */

void write_bytes(const char *path, const void *bytes, size_t length)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(bytes, 1, length, fp), length);
    ck_assert_int_eq(fclose(fp), 0);
}

/* The whole file, malloc'ed; *length gets its size. */
unsigned char *read_bytes(const char *path, size_t *length)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    *length = (size_t)ftell(fp);
    rewind(fp);
    unsigned char *bytes = malloc(*length);
    ck_assert_uint_eq(fread(bytes, 1, *length, fp), *length);
    fclose(fp);
    return bytes;
}

/* A failure with `status` whose message names `path` and contains `phrase`. */
void assert_failure(hs_status got, hs_status expected, const char *path, const char *phrase)
{
    const char *message = hs_last_error();
    ck_assert_msg(got == expected, "status %d, expected %d (message: %s)", got, expected, message);
    ck_assert_msg(strstr(message, path), "message '%s' does not name '%s'", message, path);
    ck_assert_msg(strstr(message, phrase), "message '%s' lacks '%s'", message, phrase);
}

/* ---- Images: making and comparing ---------------------------------------------- */

hs_image new_image(int width, int height, int channels)
{
    hs_image img = { .width = width, .height = height, .channels = channels,
                     .pixels = malloc((size_t)width * height * channels) };
    ck_assert_ptr_nonnull(img.pixels);
    return img;
}

/* A pattern that differs in every sample and channel. */
hs_image pattern_image(int width, int height, int channels)
{
    hs_image img = new_image(width, height, channels);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            for (int c = 0; c < channels; c++)
                img.pixels[(y * width + x) * channels + c] =
                    (uint8_t)(x * 31 + y * 17 + c * 59 + 3);
    return img;
}


void assert_same_image(const hs_image *got, const hs_image *expected)
{
    ck_assert_int_eq(got->width, expected->width);
    ck_assert_int_eq(got->height, expected->height);
    ck_assert_int_eq(got->channels, expected->channels);
    ck_assert_int_eq(hs_image_bits(got), hs_image_bits(expected));
    size_t bytes = (size_t)got->width * got->height * got->channels * (hs_image_bits(got) / 8);
    ck_assert_mem_eq(got->pixels, expected->pixels, bytes);
}
