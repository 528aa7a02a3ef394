/* io_helpers.h — what the file tests (test_io.c, test_formats.c) share: a
 * fresh temporary directory per test (a Check fixture), small file helpers,
 * test images and the check of a failure's status and message. */
#ifndef HS_IO_HELPERS_H
#define HS_IO_HELPERS_H

#include "image_io.h"

#include <stddef.h>
#include <stdint.h>

#define PATH_SIZE 512

/* The fixture: make_temp_dir before each test, remove_temp_dir after. */
void make_temp_dir(void);
void remove_temp_dir(void);
/* path = the temporary directory / name. */
void temp_file(char path[PATH_SIZE], const char *name);
const char *temp_dir_path(void);
/* How many entries of the temporary directory have ".tmp-" in their name. */
int count_leftover_temporaries(void);

void write_bytes(const char *path, const void *bytes, size_t length);
/* The whole file, malloc'ed; *length gets its size. */
unsigned char *read_bytes(const char *path, size_t *length);

/* A failure with `status` whose message names `path` and contains `phrase`. */
void assert_failure(hs_status got, hs_status expected, const char *path, const char *phrase);

/* A width × height 8-bit image, uninitialised. */
hs_image new_image(int width, int height, int channels);
/* A pattern that differs in every sample and channel. */
hs_image pattern_image(int width, int height, int channels);
/* Samples, channels and sizes equal (and the depth). */
void assert_same_image(const hs_image *got, const hs_image *expected);

#endif
