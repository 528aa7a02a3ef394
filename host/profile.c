/* profile.c — where the device time goes. With $HIRESTYLE_PROFILE set, the
 * queue is created with profiling on, every kernel launch (ours and
 * CLBlast's) waits for its event and adds the time the device reports to
 * two tallies (with the floating-point operations of GEMMs, for their rate):
 * by step (the layer kind and pass the net runtime is in, e.g.
 * "Convolution 3x3 forward", or what a caller named) and by kernel. When
 * the context closes, both tables go to stderr, beside the wall time since
 * it opened: the gap is host work and copies. HIRESTYLE_PROFILE=layers
 * names the net's steps by layer ("res2a_branch2b forward") rather than
 * by kind, to find the layers that cost most.
 *
 * Waiting after every launch serialises the queue, which changes nothing on
 * an in-order queue of a CPU device but idles a GPU between kernels: the
 * shares are right, the total is an upper bound there.
 */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROFILE_NAME_SIZE 64

typedef struct profile_row {
    char name[PROFILE_NAME_SIZE];
    double seconds;
    double flops; /* of the GEMMs among its launches */
    long launches;
} profile_row;

typedef struct profile_table {
    profile_row *rows;
    int count, capacity;
} profile_table;

struct hs_profile {
    char step[PROFILE_NAME_SIZE];
    profile_table by_step, by_kernel;
    double opened;     /* wall clock, seconds, when opened or last resumed */
    double wall;       /* wall seconds counted before the last pause */
    int paused;        /* launches not tallied (hs_profile_pause) */
    int ever_paused;
    double next_flops; /* of the next launch (hs_profile_flops) */
    int by_layer;      /* HIRESTYLE_PROFILE=layers */
};

static double wall_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int hs_profile_wanted(void)
{
    const char *v = getenv("HIRESTYLE_PROFILE");
    return v && *v && strcmp(v, "0") != 0;
}

hs_status hs_profile_open(hs_context *ctx)
{
    ctx->profile = calloc(1, sizeof *ctx->profile);
    if (!ctx->profile) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    snprintf(ctx->profile->step, PROFILE_NAME_SIZE, "other");
    ctx->profile->opened = wall_seconds();
    const char *mode = getenv("HIRESTYLE_PROFILE");
    ctx->profile->by_layer = mode && strcmp(mode, "layers") == 0;
    return HS_OK;
}

int hs_profile_by_layer(const hs_context *ctx)
{
    return ctx->profile && ctx->profile->by_layer;
}

void hs_profile_step(hs_context *ctx, const char *fmt, ...)
{
    if (!ctx->profile) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->profile->step, PROFILE_NAME_SIZE, fmt, ap);
    va_end(ap);
}

/* Row `name` of t, added when new; NULL when out of memory. */
static profile_row *row_of(profile_table *t, const char *name)
{
    int i = 0;
    while (i < t->count && strcmp(t->rows[i].name, name) != 0) i++;
    if (i == t->count) {
        if (t->count == t->capacity) {
            int capacity = t->capacity ? 2 * t->capacity : 32;
            profile_row *rows = realloc(t->rows, (size_t)capacity * sizeof *rows);
            if (!rows) return NULL;
            t->rows = rows;
            t->capacity = capacity;
        }
        t->rows[i] = (profile_row){.seconds = 0};
        snprintf(t->rows[i].name, PROFILE_NAME_SIZE, "%s", name);
        t->count++;
    }
    return &t->rows[i];
}

static hs_status add(profile_table *t, const char *name, double seconds, double flops)
{
    profile_row *row = row_of(t, name);
    if (!row) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    row->seconds += seconds;
    row->flops += flops;
    row->launches++;
    return HS_OK;
}

void hs_profile_flops(hs_context *ctx, double flops)
{
    if (ctx->profile) ctx->profile->next_flops = flops;
}

void hs_profile_pause(hs_context *ctx, int paused)
{
    hs_profile *p = ctx->profile;
    if (!p || p->paused == paused) return;
    if (paused) {
        p->wall += wall_seconds() - p->opened;
        p->ever_paused = 1;
    } else {
        p->opened = wall_seconds();
    }
    p->paused = paused;
}

hs_status hs_profile_launch(hs_context *ctx, const char *kernel, cl_event done)
{
    double flops = ctx->profile->next_flops;
    ctx->profile->next_flops = 0;
    cl_ulong start = 0, end = 0;
    cl_int err = clWaitForEvents(1, &done);
    if (err == CL_SUCCESS)
        err = clGetEventProfilingInfo(done, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL);
    if (err == CL_SUCCESS)
        err = clGetEventProfilingInfo(done, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL);
    clReleaseEvent(done);
    if (err != CL_SUCCESS) return hs_cl_fail(err, "timing a kernel (HIRESTYLE_PROFILE)");
    if (ctx->profile->paused) return HS_OK;
    double seconds = end > start ? 1e-9 * (double)(end - start) : 0.0;
    HS_TRY(add(&ctx->profile->by_step, ctx->profile->step, seconds, flops));
    return add(&ctx->profile->by_kernel, kernel, seconds, flops);
}

static int slower_first(const void *a, const void *b)
{
    double x = ((const profile_row *)a)->seconds, y = ((const profile_row *)b)->seconds;
    return (x < y) - (x > y);
}

static void print_table(profile_table *t, const char *title, double total)
{
    qsort(t->rows, (size_t)t->count, sizeof *t->rows, slower_first);
    fprintf(stderr, "  %-40s %8s %6s %8s %7s\n", title, "seconds", "share", "launches", "GFLOP/s");
    for (int i = 0; i < t->count; i++) {
        const profile_row *r = &t->rows[i];
        fprintf(stderr, "  %-40.40s %8.3f %5.1f%% %8ld", r->name, r->seconds,
                total > 0 ? 100.0 * r->seconds / total : 0.0, r->launches);
        if (r->flops > 0 && r->seconds > 0) fprintf(stderr, " %7.1f", 1e-9 * r->flops / r->seconds);
        fputc('\n', stderr);
    }
}

void hs_profile_close(hs_context *ctx)
{
    hs_profile *p = ctx->profile;
    if (!p) return;
    double total = 0;
    long launches = 0;
    for (int i = 0; i < p->by_kernel.count; i++) {
        total += p->by_kernel.rows[i].seconds;
        launches += p->by_kernel.rows[i].launches;
    }
    double wall = p->wall + (p->paused ? 0.0 : wall_seconds() - p->opened);
    fprintf(stderr, "profile of %s:\n  %ld kernel launches, %.3f s on the device, %.3f s wall "
            "%s\n  (GFLOP/s: the rate of the matrix products among them)\n",
            ctx->dev.name, launches, total, wall,
            p->ever_paused ? "in the timed runs" : "since the start");
    print_table(&p->by_step, "step", total);
    print_table(&p->by_kernel, "kernel", total);
    free(p->by_step.rows);
    free(p->by_kernel.rows);
    free(p);
    ctx->profile = NULL;
}
