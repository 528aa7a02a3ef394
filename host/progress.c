/* progress.c — see progress.h: the sinks, the terminal line and --json's
 * objects. */
#include "progress.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const phase_names[HS_PHASE_COUNT] = {"style", "upscale", "batch", "train",
                                                        "validate", "adapt"};

const char *hs_phase_name(hs_phase phase)
{
    return phase >= 0 && phase < HS_PHASE_COUNT ? phase_names[phase] : "unknown";
}

hs_progress_event hs_progress_event_of(hs_phase phase)
{
    return (hs_progress_event){
        .phase = phase, .loss = NAN, .content = NAN, .style = NAN, .tv = NAN,
        .perceptual = NAN, .generator = NAN, .discriminator = NAN, .learning_rate = NAN,
        .psnr = NAN, .ssim = NAN, .bicubic_psnr = NAN, .bicubic_ssim = NAN, .megapixels = NAN,
        .seconds_per_step = NAN, .elapsed = NAN, .eta = NAN, .fraction = NAN};
}

/* ---- Sinks ---------------------------------------------------------------------- */

hs_status hs_progress_add(hs_progress *p, hs_progress_sink sink)
{
    if (p->count == HS_PROGRESS_MAX_SINKS)
        return hs_fail(HS_ERR_INTERNAL, "more than %d progress sinks", HS_PROGRESS_MAX_SINKS);
    p->sinks[p->count++] = sink;
    return HS_OK;
}

void hs_progress_emit(const hs_progress *p, const hs_progress_event *e)
{
    for (int i = 0; p && i < p->count; i++)
        if (p->sinks[i].event) p->sinks[i].event(p->sinks[i].user, e);
}

int hs_progress_wants_image(const hs_progress *p)
{
    for (int i = 0; p && i < p->count; i++)
        if (p->sinks[i].wants_image && p->sinks[i].wants_image(p->sinks[i].user)) return 1;
    return 0;
}

void hs_progress_image(const hs_progress *p, const hs_image *rgb)
{
    for (int i = 0; p && i < p->count; i++)
        if (p->sinks[i].image) p->sinks[i].image(p->sinks[i].user, rgb);
}

/* ---- The line --------------------------------------------------------------------- */

#define LINE_COLUMNS HS_PROGRESS_COLUMNS

void hs_progress_duration(double seconds, char *out, size_t size)
{
    if (!(seconds >= 0) || seconds > 999 * 3600.0) {
        snprintf(out, size, "--:--");
        return;
    }
    long s = lround(seconds);
    if (s >= 3600) snprintf(out, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(out, size, "%ld:%02ld", s / 60, s % 60);
}

/* "[####      ]": `width` cells inside the brackets, filled by fraction. */
static void bar(double fraction, int width, char *out)
{
    int filled = fraction > 0 ? (int)(width * fmin(fraction, 1.0)) : 0;
    out[0] = '[';
    for (int i = 0; i < width; i++) out[1 + i] = i < filled ? '#' : ' ';
    out[width + 1] = ']';
    out[width + 2] = '\0';
}

/* name in at most `room` bytes, its middle replaced by "..." when longer:
 * 1/parts of what is kept from its start, the rest from its end. */
static void shorten(const char *name, int room, int parts, char *out)
{
    int n = (int)strlen(name);
    if (n <= room) {
        memcpy(out, name, (size_t)n + 1);
        return;
    }
    int head = (room - 3) / parts, tail = room - 3 - head;
    snprintf(out, (size_t)room + 1, "%.*s...%s", head, name, name + n - tail);
}

/* The fewest bytes hs_progress_folder_line leaves a folder's name. */
#define FOLDER_MIN 9

int hs_progress_folder_line(const char *verb, int count, int total, int sharded, const char *in,
                            const char *out, int columns, char *line, size_t size)
{
    const char *format = "%s %d of the %d images in %s%s into %s";
    const char *shard = sharded ? " (this shard's)" : "";
    int fixed = snprintf(NULL, 0, format, verb, count, total, "", shard, "");
    int in_n = (int)strlen(in), out_n = (int)strlen(out), room = columns - fixed;
    if (columns <= 0 || in_n + out_n <= room)
        return snprintf(line, size, format, verb, count, total, in, shard, out);
    /* the shorter keeps its length when it fits in half the room */
    int half = room / 2;
    int in_room = in_n <= half ? in_n : out_n <= half ? room - out_n : half;
    int out_room = room - in_room;
    in_room = in_room > FOLDER_MIN ? in_room : FOLDER_MIN;
    out_room = out_room > FOLDER_MIN ? out_room : FOLDER_MIN;
    char *in_short = malloc((size_t)in_room + 1), *out_short = malloc((size_t)out_room + 1);
    int n = -1;
    if (in_short && out_short) {
        shorten(in, in_room, 3, in_short); /* a path's end says more */
        shorten(out, out_room, 3, out_short);
        n = snprintf(line, size, format, verb, count, total, in_short, shard, out_short);
    }
    free(in_short);
    free(out_short);
    return n < 0 ? snprintf(line, size, format, verb, count, total, in, shard, out) : n;
}

int hs_progress_line(const hs_progress_event *e, char *out, size_t size)
{
    char line[512], left[24], cells[40];
    hs_progress_duration(e->eta, left, sizeof left);
    switch (e->phase) {
    case HS_PHASE_STYLE:
        bar(e->fraction, 20, cells);
        snprintf(line, sizeof line, "%s %d/%d  it %d/%d  loss %-9.3g %6.2f s/it %s left", cells,
                 e->scale, e->scales, e->step, e->steps, e->loss, e->seconds_per_step, left);
        break;
    case HS_PHASE_UPSCALE:
        bar(e->fraction, 20, cells);
        snprintf(line, sizeof line, "upscaling %s tile %d/%d  %.2f MP  %.2f MP/s  %s left", cells,
                 e->step, e->steps, e->megapixels, e->megapixels / e->elapsed, left);
        break;
    case HS_PHASE_BATCH: {
        char head[40], tail[48], name[LINE_COLUMNS + 1];
        int n = snprintf(head, sizeof head, "[%d/%d] wrote ", e->step, e->steps);
        int t = snprintf(tail, sizeof tail, ", %.1f s; %s left", e->seconds_per_step, left);
        int room = LINE_COLUMNS - n - t;
        const char *file = e->name ? e->name : "", *slash = strrchr(file, '/');
        shorten(slash ? slash + 1 : file, room > 3 ? room : 3, 2, name);
        snprintf(line, sizeof line, "%s%s%s", head, name, tail);
        break;
    }
    case HS_PHASE_TRAIN: {
        char gan[64] = "";
        if (!isnan(e->generator))
            snprintf(gan, sizeof gan, "  P %.3f G %.3f D %.3f", e->perceptual, e->generator,
                     e->discriminator);
        snprintf(line, sizeof line, "step %d/%d  L1 %.4f%s  lr %.1e  %.2f s/step  ETA %s", e->step,
                 e->steps, e->loss, gan, e->learning_rate, e->seconds_per_step, left);
        break;
    }
    case HS_PHASE_VALIDATE:
        snprintf(line, sizeof line, "step %d  val PSNR-Y %.2f dB (bicubic %.2f)  SSIM-Y %.4f "
                 "(%.4f)", e->step, e->psnr, e->bicubic_psnr, e->ssim, e->bicubic_ssim);
        break;
    case HS_PHASE_ADAPT:
        bar(e->fraction, 12, cells);
        snprintf(line, sizeof line, "adapting the upscaler %s step %d/%d  L1 %.4f  %s left", cells,
                 e->step, e->steps, e->loss, left);
        break;
    default:
        snprintf(line, sizeof line, "%s", hs_phase_name(e->phase));
    }
    return snprintf(out, size, "%.*s", LINE_COLUMNS, line);
}

/* ---- JSON -------------------------------------------------------------------------- */

static void add_count(cJSON *o, const char *key, int value, int keep)
{
    if (keep) cJSON_AddNumberToObject(o, key, value);
}

/* Rounded to 7 significant digits, about a float's: 2e-4 rather than
 * 0.000199999994947575. */
static void add_measure(cJSON *o, const char *key, double value)
{
    char text[32];
    snprintf(text, sizeof text, "%.7g", value);
    if (isfinite(value)) cJSON_AddNumberToObject(o, key, strtod(text, NULL));
}

char *hs_progress_json(const hs_progress_event *e)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "event", "progress");
    cJSON_AddStringToObject(o, "phase", hs_phase_name(e->phase));
    add_count(o, "step", e->step, 1);
    add_count(o, "steps", e->steps, e->steps > 0);
    add_count(o, "scale", e->scale, e->scales > 0);
    add_count(o, "scales", e->scales, e->scales > 0);
    add_count(o, "width", e->width, e->width > 0);
    add_count(o, "height", e->height, e->height > 0);
    static const char *const keys[] = {
        "loss", "content", "style", "tv", "perceptual", "generator", "discriminator",
        "learning_rate", "psnr", "ssim", "bicubic_psnr", "bicubic_ssim", "megapixels",
        "seconds_per_step", "elapsed", "eta", "fraction"};
    const double values[] = {
        e->loss, e->content, e->style, e->tv, e->perceptual, e->generator, e->discriminator,
        e->learning_rate, e->psnr, e->ssim, e->bicubic_psnr, e->bicubic_ssim, e->megapixels,
        e->seconds_per_step, e->elapsed, e->eta, e->fraction};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) add_measure(o, keys[i], values[i]);
    if (e->name) cJSON_AddStringToObject(o, "name", e->name);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* ---- The terminal --------------------------------------------------------------- */

void hs_terminal_init(hs_terminal *t, int print_every)
{
    *t = (hs_terminal){stderr, isatty(STDERR_FILENO), print_every, 0};
}

void hs_terminal_break(hs_terminal *t)
{
    if (t->open) fputc('\n', t->out);
    t->open = 0;
}

/* The style line off a terminal, as hirestyle has always printed it. */
static void style_log_line(const hs_terminal *t, const hs_progress_event *e)
{
    if (t->print_every <= 0 || (e->step % t->print_every && e->step != e->steps)) return;
    fprintf(t->out, "scale %d/%d (%dx%d) iteration %d/%d: loss %.6g (content %.4g, style %.4g, "
            "tv %.4g), %.2f s/it, %.0f s left\n", e->scale, e->scales, e->width, e->height,
            e->step, e->steps, e->loss, e->content, e->style, e->tv, e->seconds_per_step,
            isfinite(e->eta) ? e->eta : 0);
}

void hs_terminal_event(hs_terminal *t, const hs_progress_event *e)
{
    if (e->phase == HS_PHASE_BATCH) return; /* the folder loop prints those on stdout */
    if (!t->tty) {
        if (e->phase == HS_PHASE_STYLE) style_log_line(t, e);
        return;
    }
    if (e->phase == HS_PHASE_VALIDATE) {
        hs_terminal_break(t);
        return; /* the training log prints the validation in full */
    }
    char line[LINE_COLUMNS + 1];
    hs_progress_line(e, line, sizeof line);
    fprintf(t->out, "\r%-*s", LINE_COLUMNS, line);
    t->open = 1;
    int last = e->step == e->steps && (e->phase != HS_PHASE_STYLE || e->scale == e->scales);
    if (last) hs_terminal_break(t);
    fflush(t->out);
}
