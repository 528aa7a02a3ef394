/* style_job.h — style transfer from files to an image: what `hirestyle
 * style` and `hirestyle run` do between parsing options and writing the
 * result. Loads the images, plans the scales of a coarse-to-fine run and
 * the blocks each needs to fit the device, prints the plan, runs the
 * optimiser scale by scale with progress and snapshots, keeps the content's
 * colours on request. */
#ifndef HS_STYLE_JOB_H
#define HS_STYLE_JOB_H

#include "image_io.h"
#include "progress.h"
#include "style.h"
#include "style_schedule.h"

typedef enum hs_init { HS_INIT_CONTENT, HS_INIT_RANDOM, HS_INIT_IMAGE } hs_init;

/* Options as given; a negative number (or NaN) means "the backbone's default". */
typedef struct hs_style_job {
    const char *weights;        /* path, or file name in the weights directory */
    const char *content;
    const char *styles[HS_STYLE_MAX_IMAGES];
    int style_count;
    float blend[HS_STYLE_MAX_IMAGES];
    int blend_count;            /* 0: equal weights */
    int image_size;             /* the output's longer side */
    int start_size;             /* the first scale's longer side */
    float scale_step;           /* each scale this much larger than the one before */
    float style_scale;
    int iterations[HS_SCHEDULE_MAX_SCALES]; /* per scale, or the first scale's */
    int iterations_count;       /* 0: the default */
    int iterations_fine;        /* every finer scale's; 0: from the first (style_schedule.h) */
    int block;                  /* block side; -1: from device memory, 0: never */
    hs_optimizer optimizer;
    float learning_rate, content_weight, style_weight, tv_weight;
    const char *content_layers, *style_layers; /* comma lists; NULL = default */
    int jitter;                 /* -1 default, 0 off, 1 on */
    hs_init init;
    const char *init_image;
    unsigned seed;
    int original_colors;
    int print_every, save_every;
    const char *output;         /* the result, NAME.png: --save-every writes NAME_<iter>.png
                                   and each finished scale as NAME_<side>px.png */
    int quiet, verbose;          /* quiet: no plan, no progress line */
    const hs_progress *progress; /* also told every iteration, and given the picture
                                    when it wants one; NULL: none */
    int argc;                   /* recorded in saved PNGs */
    char **argv;
} hs_style_job;

/* The defaults `hirestyle style` has (out.png, 512 px, 300 iterations...). */
void hs_style_job_defaults(hs_style_job *job);
/* The weights file the job will use: --weights, else vgg19 if fetched, else
 * resnet50. */
hs_status hs_style_job_weights(const hs_style_job *job, char *path, size_t size);
/* The painting of job->content into *result. Interrupted
 * (HS_ERR_INTERRUPTED), *result still holds the image so far when it could
 * be made (pixels not NULL). */
hs_status hs_style_job_run(hs_context *ctx, const hs_style_job *job, hs_image *result);

/* Several photos painted with the job's styles and options (job->content
 * and job->output unused): the net, the decoded style images and each
 * scale's style targets are made once, for the first photo, and shared by
 * the others. The job must outlive the batch. */
typedef struct hs_style_batch hs_style_batch;
hs_status hs_style_batch_open(hs_context *ctx, const hs_style_job *job, hs_style_batch **out);
/* One photo, as hs_style_job_run; `output` names the --save-every
 * snapshots (the painting itself is the caller's to write). The plan is
 * printed for the first photo only. */
hs_status hs_style_batch_paint(hs_style_batch *b, const char *content, const char *output,
                               hs_image *result);
/* The weights file the batch paints with. */
const char *hs_style_batch_model(const hs_style_batch *b);
void hs_style_batch_close(hs_style_batch *b);

#endif
