/* reference.h — running the Python/Node reference implementations from the
 * C tests and exchanging raw float32 files with them.
 *
 * The tests find the source tree through $HIRESTYLE_SOURCE_ROOT (set by
 * tests/meson.build) and work in a fresh temporary directory.
 */
#ifndef HS_TEST_REFERENCE_H
#define HS_TEST_REFERENCE_H

#include <stddef.h>

#include "hirestyle.h"

/* The source root and a per-process scratch directory. */
const char *source_root(void);
const char *scratch_dir(void);
/* "<scratch>/<name>" in a static rotating buffer. */
const char *scratch_path(const char *name);
/* Run a shell command (formatted); fail the test if it exits non-zero. */
void run_command(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Raw little-endian float32 files. read_floats fails the test unless the
 * file holds exactly n floats. */
void write_floats(const char *path, const float *x, size_t n);
float *read_floats(const char *path, size_t n);
/* CHW <-> HWC for 3-D maps. */
void chw_to_hwc(const float *chw, float *hwc, int c, int h, int w);
void hwc_to_chw(const float *hwc, float *chw, int c, int h, int w);
/* A number from a flat JSON object file. */
double json_number(const char *path, const char *key);
/* Path of a weights file under weights/; the test fails with the fetch
 * command when it is missing. */
const char *weights_file(const char *name);

#endif
