/* job.h — what the jobs share (style_job.c, job_style.c, the CLI): their
 * outputs' names and saving an image with the command that made it. Not
 * installed. */
#ifndef HS_JOB_H
#define HS_JOB_H

#include "image_io.h"

#include <stddef.h>

/* OUTPUT with "_suffix" before its extension: painting.jpg, "300" ->
 * painting_300.jpg (snapshots, each scale, the painting before upscaling). */
void hs_job_output_with(const char *output, const char *suffix, char *path, size_t size);
/* "hirestyle ARG..." with the arguments quoted where needed. */
void hs_job_command_line(int argc, char **argv, char *out, size_t size);
/* Save atomically in the format of `options` (NULL: all defaults, the
 * format from the name's extension); a PNG gets the command (argv, which
 * may be NULL) and the model's file name in tEXt chunks. */
hs_status hs_job_save(const char *path, const hs_image *img, const char *model, int argc,
                      char **argv, const hs_save_options *options);

#endif
