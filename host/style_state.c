/* style_state.c — what a coarse-to-fine run carries between scales: Adam's
 * moments and step count, the moving average of the iterates, and the
 * resizing of all of them to the next scale (through the host, with the
 * filters of resample.h; it happens once per scale). */
#include "engine.h"
#include "resample.h"
#include "style.h"

#include <float.h>
#include <stdlib.h>

hs_status hs_tensor_resize(hs_tensor *out, const hs_tensor *in, int h, int w)
{
    size_t n_in = hs_tensor_count(in), n_out = (size_t)in->n * in->c * h * w;
    float *from = malloc(n_in * sizeof *from), *to = malloc(n_out * sizeof *to);
    hs_status st = from && to ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "resize: out of host memory");
    if (st == HS_OK) st = hs_tensor_read(in, from);
    if (st == HS_OK) st = hs_resize_planes(from, in->n * in->c, in->h, in->w, to, h, w);
    if (st == HS_OK) st = hs_tensor_alloc(in->ctx, out, in->n, in->c, h, w);
    if (st == HS_OK) st = hs_tensor_write(out, to);
    free(from);
    free(to);
    return st;
}

static hs_status zeros_like(hs_tensor *t, const hs_tensor *like)
{
    HS_TRY(hs_tensor_alloc_like(t, like));
    return hs_tensor_fill(t, 0.0f);
}

hs_status hs_style_state_init(hs_style_state *state, const hs_tensor *x)
{
    *state = (hs_style_state){0};
    hs_status st = zeros_like(&state->m, x);
    if (st == HS_OK) st = zeros_like(&state->v, x);
    if (st == HS_OK) st = zeros_like(&state->average, x);
    if (st != HS_OK) hs_style_state_free(state);
    return st;
}

/* *t resized to h×w in place (the old tensor freed). */
static hs_status resize_in_place(hs_tensor *t, int h, int w)
{
    hs_tensor resized = {0};
    HS_TRY(hs_tensor_resize(&resized, t, h, w));
    hs_tensor_free(t);
    *t = resized;
    return HS_OK;
}

hs_status hs_style_state_resize(hs_style_state *state, int h, int w)
{
    HS_TRY(resize_in_place(&state->m, h, w));
    HS_TRY(resize_in_place(&state->v, h, w));
    /* bicubic overshoots near edges; a second moment below 0 has no meaning */
    HS_TRY(hs_clamp(&state->v, 0.0f, FLT_MAX));
    hs_tensor fresh = {0};
    HS_TRY(zeros_like(&fresh, &state->m));
    hs_tensor_free(&state->average);
    state->average = fresh;
    state->gathered = 0;
    return HS_OK;
}

hs_status hs_style_state_result(const hs_style_state *state, hs_tensor *x)
{
    if (!(state->gathered > 0)) return HS_OK; /* no step yet: x is the result */
    HS_TRY(hs_scale(x, &state->average, (float)(1.0 / state->gathered)));
    return hs_clamp(x, 0.0f, 1.0f);
}

void hs_style_state_free(hs_style_state *state)
{
    hs_tensor_free(&state->m);
    hs_tensor_free(&state->v);
    hs_tensor_free(&state->average);
    *state = (hs_style_state){0};
}
