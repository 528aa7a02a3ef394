/* cli_web.c — see cli_web.h: the state the page shows, kept under one
 * mutex, and libmicrohttpd serving it. */
#include "cli_web.h"

#include "engine.h"
#include "image_codec.h"
#include "timer.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The page, from cli_web_page.html (tools/embed_text.py). */
extern const char cli_web_page[];

/* A status request within this many seconds: someone is watching. */
#define WATCH_SECONDS 5.0
/* The picture is shrunk to at most this many pixels a side before PNG
 * encoding: the page shows no more, and a 4096 px print would take the
 * server's thread seconds of CPU (which the optimiser needs on a CPU device). */
#define PAGE_SIDE 1024
/* A picture costs its download on the working thread and its encoding on
 * the server's: pictures are at least this many times their cost apart,
 * so that they take at most 1/20 = 5 % of the time. */
#define COST_SPACING 20.0

/* ---- Curves ---------------------------------------------------------------------
 * Rows of `columns` numbers (x first). When full, every other row is
 * dropped and from then on only every stride-th row is added: a long run
 * keeps its whole shape in a bounded number of points. */
#define CURVE_ROWS 2048
#define CURVE_MAX_COLUMNS 6

typedef struct curve {
    int columns;
    double rows[CURVE_ROWS][CURVE_MAX_COLUMNS];
    int count, stride, skipped;
} curve;

static void curve_add(curve *c, const double *row)
{
    if (++c->skipped < c->stride) return;
    c->skipped = 0;
    if (c->count == CURVE_ROWS) {
        for (int i = 0; i < CURVE_ROWS / 2; i++) memcpy(c->rows[i], c->rows[2 * i], sizeof c->rows[i]);
        c->count = CURVE_ROWS / 2;
        c->stride *= 2;
    }
    memcpy(c->rows[c->count++], row, (size_t)c->columns * sizeof *row);
}

/* {"name0": [...], "name1": [...]} into o, one array per column. */
static void curve_json(const curve *c, const char *const *names, cJSON *o)
{
    for (int k = 0; k < c->columns; k++) {
        cJSON *array = cJSON_AddArrayToObject(o, names[k]);
        for (int i = 0; array && i < c->count; i++)
            cJSON_AddItemToArray(array, cJSON_CreateNumber(c->rows[i][k]));
    }
}

/* ---- The state ------------------------------------------------------------------- */

struct cli_web {
    struct MHD_Daemon *daemon;
    char url[128];
    pthread_mutex_t lock;
    /* under lock: */
    hs_progress_event last;  /* the latest event; last.name points to name */
    char name[256];
    int events;              /* received */
    int iterations;          /* style iterations over all scales: the curves' x */
    curve losses;            /* x, loss, content, style, tv, scale; or training's x, L1,
                                and its GAN losses */
    int training;            /* the losses are training's */
    curve scores;            /* x, psnr (validations) */
    double watched;          /* when /status was last asked for */
    hs_image picture;        /* the latest picture, RGB8 */
    double picture_time;
    int picture_serial;      /* 0: none yet */
    char caption[64];        /* what the picture is and when it was taken */
    double wanted_at;        /* when a picture was last asked of the work */
    double download_seconds, encode_seconds; /* what the last picture cost */
    unsigned char *png;      /* picture number png_serial, encoded */
    size_t png_size;
    int png_serial;
};

static void on_event(void *user, const hs_progress_event *e)
{
    cli_web *w = user;
    pthread_mutex_lock(&w->lock);
    w->last = *e;
    w->last.name = NULL;
    if (e->name) {
        snprintf(w->name, sizeof w->name, "%s", e->name);
        w->last.name = w->name;
    }
    w->events++;
    if (e->phase == HS_PHASE_STYLE) {
        double row[] = {++w->iterations, e->loss, e->content, e->style, e->tv, e->scale};
        curve_add(&w->losses, row);
    } else if (e->phase == HS_PHASE_TRAIN) {
        double row[] = {e->step, e->loss, e->perceptual, e->generator, e->discriminator};
        w->losses.columns = 5;
        curve_add(&w->losses, row);
        w->training = 1;
    } else if (e->phase == HS_PHASE_VALIDATE) {
        curve_add(&w->scores, (double[]){e->step, e->psnr});
    }
    pthread_mutex_unlock(&w->lock);
}

static int wants_image(void *user)
{
    cli_web *w = user;
    double now = hs_seconds();
    pthread_mutex_lock(&w->lock);
    double spacing = COST_SPACING * (w->download_seconds + w->encode_seconds);
    if (spacing < CLI_WEB_PICTURE_SECONDS) spacing = CLI_WEB_PICTURE_SECONDS;
    int wants = now - w->watched < WATCH_SECONDS &&
                (!w->picture_serial || now - w->picture_time >= spacing);
    if (wants) w->wanted_at = now;
    pthread_mutex_unlock(&w->lock);
    return wants;
}

/* What a picture handed after the event e shows: "scale 2 of 3, iteration
 * 31", "the validation sample at step 500", "the input" (of upscaling). */
static void caption_of(const hs_progress_event *e, char *out, size_t size)
{
    switch (e->phase) {
    case HS_PHASE_STYLE:
        snprintf(out, size, "scale %d of %d, iteration %d", e->scale, e->scales, e->step);
        break;
    case HS_PHASE_TRAIN:
    case HS_PHASE_VALIDATE:
        snprintf(out, size, "the validation sample at step %d", e->step);
        break;
    default:
        snprintf(out, size, "the input");
    }
}

static void on_image(void *user, const hs_image *rgb)
{
    cli_web *w = user;
    size_t bytes = (size_t)rgb->width * rgb->height * 3;
    pthread_mutex_lock(&w->lock);
    if (w->picture.width != rgb->width || w->picture.height != rgb->height) {
        hs_image_free(&w->picture);
        if (hs_image_alloc(&w->picture, rgb->width, rgb->height, 3, 8) != HS_OK)
            w->picture = (hs_image){0}; /* out of memory: no picture this time */
    }
    if (w->picture.pixels && rgb->channels == 3 && hs_image_bits(rgb) == 8) {
        memcpy(w->picture.pixels, rgb->pixels, bytes);
        w->picture_serial++;
        caption_of(&w->last, w->caption, sizeof w->caption);
        w->picture_time = hs_seconds();
        /* from wants_image to here: the download (a training sample comes unasked) */
        if (w->wanted_at > 0) w->download_seconds = w->picture_time - w->wanted_at;
        w->wanted_at = 0;
    }
    pthread_mutex_unlock(&w->lock);
}

hs_progress_sink cli_web_sink(cli_web *w)
{
    return (hs_progress_sink){on_event, wants_image, on_image, w};
}

/* ---- The answers ------------------------------------------------------------------ */

/* /status, malloc'd. */
static char *status_json(cli_web *w)
{
    static const char *const loss_names[] = {"x", "loss", "content", "style", "tv", "scale"};
    static const char *const train_names[] = {"x", "loss", "perceptual", "generator",
                                              "discriminator"};
    static const char *const score_names[] = {"val_x", "psnr"};
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    pthread_mutex_lock(&w->lock);
    w->watched = hs_seconds();
    char *event = w->events ? hs_progress_json(&w->last) : NULL;
    cJSON_AddItemToObject(o, "event", event ? cJSON_Parse(event) : cJSON_CreateNull());
    cJSON_AddNumberToObject(o, "image", w->picture_serial);
    if (w->picture_serial) cJSON_AddStringToObject(o, "caption", w->caption);
    cJSON *series = cJSON_AddObjectToObject(o, "series");
    if (series) {
        curve_json(&w->losses, w->training ? train_names : loss_names, series);
        curve_json(&w->scores, score_names, series);
    }
    pthread_mutex_unlock(&w->lock);
    free(event);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* in averaged over factor×factor blocks into out (allocated); the last
 * row and column of blocks may be partial. */
static hs_status shrink(const hs_image *in, int factor, hs_image *out)
{
    int w = (in->width + factor - 1) / factor, h = (in->height + factor - 1) / factor;
    HS_TRY(hs_image_alloc(out, w, h, 3, 8));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned sum[3] = {0, 0, 0}, n = 0;
            for (int yy = y * factor; yy < (y + 1) * factor && yy < in->height; yy++)
                for (int xx = x * factor; xx < (x + 1) * factor && xx < in->width; xx++, n++)
                    for (int c = 0; c < 3; c++)
                        sum[c] += in->pixels[((size_t)yy * in->width + xx) * 3 + c];
            for (int c = 0; c < 3; c++)
                out->pixels[((size_t)y * w + x) * 3 + c] = (uint8_t)((sum[c] + n / 2) / n);
        }
    return HS_OK;
}

/* PNG of rgb, at most PAGE_SIDE a side, into *data (malloc'd). */
static hs_status encode(const hs_image *rgb, char **data, size_t *size)
{
    int side = rgb->width > rgb->height ? rgb->width : rgb->height;
    int factor = (side + PAGE_SIDE - 1) / PAGE_SIDE;
    hs_image small = {0};
    if (factor > 1) HS_TRY(shrink(rgb, factor, &small));
    FILE *fp = open_memstream(data, size);
    if (!fp) {
        hs_image_free(&small);
        return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    }
    hs_status st = hs_encode_png(fp, "picture", factor > 1 ? &small : rgb, NULL);
    fclose(fp);
    hs_image_free(&small);
    return st;
}

/* The latest picture as PNG into *png (malloc'd): encoded here, in the
 * server's thread, from a copy, when the one kept is older. 0: none yet. */
static int picture_png(cli_web *w, unsigned char **png, size_t *size)
{
    hs_image copy = {0};
    int serial;
    pthread_mutex_lock(&w->lock);
    serial = w->picture_serial;
    if (serial && serial != w->png_serial &&
        hs_image_alloc(&copy, w->picture.width, w->picture.height, 3, 8) == HS_OK)
        memcpy(copy.pixels, w->picture.pixels, (size_t)copy.width * copy.height * 3);
    pthread_mutex_unlock(&w->lock);
    if (copy.pixels) {
        char *data = NULL;
        size_t bytes = 0;
        double start = hs_seconds();
        hs_status st = encode(&copy, &data, &bytes);
        hs_image_free(&copy);
        pthread_mutex_lock(&w->lock);
        w->encode_seconds = hs_seconds() - start;
        if (st == HS_OK && serial > w->png_serial) {
            free(w->png);
            w->png = (unsigned char *)data;
            w->png_size = bytes;
            w->png_serial = serial;
            data = NULL;
        }
        pthread_mutex_unlock(&w->lock);
        free(data);
    }
    pthread_mutex_lock(&w->lock);
    *size = w->png_size;
    *png = w->png ? malloc(w->png_size) : NULL;
    if (*png) memcpy(*png, w->png, w->png_size);
    pthread_mutex_unlock(&w->lock);
    return *png != NULL;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type,
                              void *data, size_t size, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(size, data, mode);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result result = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return result;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **request)
{
    (void)version, (void)upload_data, (void)upload_data_size, (void)request;
    cli_web *w = cls;
    static char not_found[] = "not found\n", no_method[] = "only GET\n";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", no_method,
                      strlen(no_method), MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/") == 0)
        return answer(c, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)cli_web_page,
                      strlen(cli_web_page), MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/status") == 0) {
        char *text = status_json(w);
        if (!text) return MHD_NO;
        return answer(c, MHD_HTTP_OK, "application/json", text, strlen(text),
                      MHD_RESPMEM_MUST_FREE);
    }
    if (strcmp(url, "/image.png") == 0) {
        unsigned char *png;
        size_t size;
        if (picture_png(w, &png, &size))
            return answer(c, MHD_HTTP_OK, "image/png", png, size, MHD_RESPMEM_MUST_FREE);
    }
    return answer(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, strlen(not_found),
                  MHD_RESPMEM_PERSISTENT);
}

/* ---- Listening -------------------------------------------------------------------- */

/* A listening socket on host:port, and the port it got. */
static hs_status listen_on(const char *host, int port, int *fd, int *bound)
{
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *found;
    int rc = getaddrinfo(host, service, &hints, &found);
    if (rc)
        return hs_fail(HS_ERR_USAGE, "--web-host %s: %s", host, gai_strerror(rc));
    int error = 0;
    *fd = -1;
    for (struct addrinfo *a = found; a && *fd < 0; a = a->ai_next) {
        int s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        int on = 1;
        if (s >= 0 && setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
            bind(s, a->ai_addr, a->ai_addrlen) == 0 && listen(s, 16) == 0) {
            *fd = s;
            break;
        }
        error = errno;
        if (s >= 0) close(s);
    }
    freeaddrinfo(found);
    if (*fd < 0)
        return hs_fail(HS_ERR_USAGE, "--web: cannot listen on %s port %d: %s%s", host, port,
                       strerror(error), error == EADDRINUSE ? " (another program has it: "
                       "--web=PORT picks another, --web=0 any free one)" : "");
    struct sockaddr_storage addr;
    socklen_t length = sizeof addr;
    getsockname(*fd, (struct sockaddr *)&addr, &length);
    char port_text[16];
    getnameinfo((struct sockaddr *)&addr, length, NULL, 0, port_text, sizeof port_text,
                NI_NUMERICSERV);
    *bound = atoi(port_text);
    return HS_OK;
}

hs_status cli_web_start(const char *host, int port, cli_web **out)
{
    *out = NULL;
    cli_web *w = calloc(1, sizeof *w);
    if (!w) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    w->losses = (curve){.columns = 6, .stride = 1};
    w->scores = (curve){.columns = 2, .stride = 1};
    w->watched = -1e9;
    int fd, bound = 0;
    hs_status st = listen_on(host, port, &fd, &bound);
    if (st != HS_OK) {
        free(w);
        return st;
    }
    pthread_mutex_init(&w->lock, NULL);
    const char *open = strchr(host, ':') ? "[" : "", *close_ = strchr(host, ':') ? "]" : "";
    snprintf(w->url, sizeof w->url, "http://%s%s%s:%d/", open, host, close_, bound);
    w->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, w,
                                 MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_END);
    if (!w->daemon) {
        close(fd);
        cli_web_stop(w);
        return hs_fail(HS_ERR_INTERNAL, "--web: libmicrohttpd would not start");
    }
    *out = w;
    return HS_OK;
}

const char *cli_web_url(const cli_web *w)
{
    return w->url;
}

void cli_web_stop(cli_web *w)
{
    if (!w) return;
    if (w->daemon) MHD_stop_daemon(w->daemon);
    pthread_mutex_destroy(&w->lock);
    hs_image_free(&w->picture);
    free(w->png);
    free(w);
}
