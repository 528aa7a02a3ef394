/* progress.h — progress events: what long work reports (the style
 * optimiser's iterations, upscaling's tiles, a folder's images, training's
 * steps and validations) and who listens (the terminal line, `--json`,
 * `--web`).
 *
 * Work fills an hs_progress_event and hands it to an hs_progress, which
 * passes it to each of its sinks. A sink may also want the current image
 * (the web page): the work asks hs_progress_wants_image, cheaply, and only
 * then makes an RGB8 copy for hs_progress_image. Sinks are called on the
 * working thread and must return quickly.
 *
 * The terminal sink (hs_terminal) writes one line of at most 79 columns,
 * redrawn with \r on a terminal; hs_progress_line is its pure formatting,
 * hs_progress_json the one-line JSON object of `--json`. */
#ifndef HS_PROGRESS_H
#define HS_PROGRESS_H

#include "image_io.h"

#include <stdio.h>

typedef enum hs_phase {
    HS_PHASE_STYLE,    /* an iteration of the style optimiser */
    HS_PHASE_UPSCALE,  /* a tile of super-resolution */
    HS_PHASE_BATCH,    /* an image of a folder done */
    HS_PHASE_TRAIN,    /* a training step */
    HS_PHASE_VALIDATE, /* a validation during training */
    HS_PHASE_ADAPT,    /* a step of fitting the upscaler to the picture (--adapt) */
    HS_PHASE_COUNT
} hs_phase;

/* Its name in --json and on the web page: "style", "upscale", ... */
const char *hs_phase_name(hs_phase phase);

/* What a phase does not fill is 0 (counts) or NAN (measures). */
typedef struct hs_progress_event {
    hs_phase phase;
    int step, steps;          /* iteration of the scale, tile, image of the folder,
                                 training or adapting step */
    int scale, scales;        /* style: the scale (from 1) of how many */
    int width, height;        /* style: the scale's size; upscale: the input's */
    double loss;              /* style: the total; train, adapt: mean L1 of the last 100 steps */
    double content, style, tv;  /* style: the weighted terms */
    double perceptual, generator, discriminator; /* train with --gan: its losses */
    double learning_rate;     /* train, adapt */
    double psnr, ssim, bicubic_psnr, bicubic_ssim; /* validate */
    double megapixels;        /* upscale: output megapixels done */
    double seconds_per_step;  /* per iteration, tile, image or step */
    double elapsed, eta;      /* seconds since the work began, and left (NAN: unknown) */
    double fraction;          /* of the whole work, 0 to 1 */
    const char *name;         /* batch: the file written; else NULL */
} hs_progress_event;

/* An event of the phase with every measure NAN and every count 0. */
hs_progress_event hs_progress_event_of(hs_phase phase);

typedef struct hs_progress_sink {
    void (*event)(void *user, const hs_progress_event *e);
    int (*wants_image)(void *user);                /* NULL: never */
    void (*image)(void *user, const hs_image *rgb); /* RGB8; copy what is kept */
    void *user;
} hs_progress_sink;

#define HS_PROGRESS_MAX_SINKS 4
typedef struct hs_progress {
    hs_progress_sink sinks[HS_PROGRESS_MAX_SINKS];
    int count;
} hs_progress;

/* Add a sink; HS_ERR_INTERNAL past HS_PROGRESS_MAX_SINKS. */
hs_status hs_progress_add(hs_progress *p, hs_progress_sink sink);
/* The event to every sink; p may be NULL (no one listens). */
void hs_progress_emit(const hs_progress *p, const hs_progress_event *e);
/* Whether a sink wants the current image now; p may be NULL. */
int hs_progress_wants_image(const hs_progress *p);
void hs_progress_image(const hs_progress *p, const hs_image *rgb);

/* "12:34", "1:05:00", or "--:--" when unknown (NAN, negative, > 999 hours). */
void hs_progress_duration(double seconds, char *out, size_t size);
/* The terminal line of an event, at most 79 columns (79 bytes: ASCII only):
 *   style    [######              ] 2/4  it 31/100  loss 1.23e+04  0.52 s/it  12:34 left
 *   upscale  upscaling [#####       ] tile 12/40  3.20 MP  0.85 MP/s  0:42 left
 *   batch    [3/10] wrote NAME, 12.3 s; 5:00 left   (the file's name, without its
 *                                                    folder, shortened in the middle)
 *   train    step 120/3000  L1 0.0345  lr 2.0e-04  0.52 s/step  ETA 0:12:34
 *   validate step 500  val PSNR-Y 26.41 dB (bicubic 25.02)  SSIM-Y 0.7812 (0.7420)
 *   adapt    adapting the upscaler [#####    ] step 12/30  L1 0.0345  0:12 left
 * Returns its length. */
int hs_progress_line(const hs_progress_event *e, char *out, size_t size);
/* The first line of a folder run, "VERB N of the M images in IN into OUT"
 * (" (this shard's)" after IN when sharded), in at most `columns` bytes
 * (0: no limit; on a terminal HS_PROGRESS_COLUMNS): when longer, the
 * folders' names lose their middle ("/home/...pics/2024/summer"), the
 * longer one first, each keeping at least 9 bytes. Returns its length. */
#define HS_PROGRESS_COLUMNS 79
int hs_progress_folder_line(const char *verb, int count, int total, int sharded, const char *in,
                            const char *out, int columns, char *line, size_t size);
/* The event as one line of JSON, no newline: {"event":"progress","phase":
 * "style","step":31,...}, the fields the phase fills (NAN ones left out).
 * malloc'd, free() it; NULL when out of memory. */
char *hs_progress_json(const hs_progress_event *e);

/* ---- The terminal ---------------------------------------------------------------
 * On a terminal each event redraws the line (\r), and a phase's last event
 * (step == steps; for style, of the last scale) ends it; batch and
 * validation lines are printed whole. Off a terminal only what hirestyle
 * always printed there: style every print_every iterations (the losses in
 * full) and batch lines. */
typedef struct hs_terminal {
    FILE *out;
    int tty;
    int print_every;  /* style lines off a terminal; 0: none */
    int open;         /* a \r line is on the screen, unfinished */
} hs_terminal;

/* On stderr, tty from isatty. */
void hs_terminal_init(hs_terminal *t, int print_every);
void hs_terminal_event(hs_terminal *t, const hs_progress_event *e);
/* End an unfinished line (before other output, or when stopping). */
void hs_terminal_break(hs_terminal *t);

#endif
