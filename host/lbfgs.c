/* lbfgs.c — L-BFGS (see lbfgs.h). The vectors live on the device; only dot
 * products come back to the host. The history is a ring of (s, y) pairs. */
#include "lbfgs.h"
#include "engine.h"

#include <math.h>
#include <stdlib.h>

typedef struct lbfgs_state {
    hs_tensor *s, *y;    /* history: s = x_{k+1} - x_k, y = g_{k+1} - g_k */
    double *rho, *alpha; /* rho = 1 / (yᵀs) */
    int capacity, count, newest;
    hs_tensor scalar;
} lbfgs_state;

static hs_status dot(lbfgs_state *st, const hs_tensor *a, const hs_tensor *b, double *out)
{
    float v;
    HS_TRY(hs_dot(&st->scalar, a, b));
    HS_TRY(hs_read_scalar(&st->scalar, &v));
    *out = v;
    return HS_OK;
}

/* d = -H·g by the two-loop recursion, H0 = (sᵀy / yᵀy) I. */
static hs_status direction(lbfgs_state *st, const hs_tensor *g, hs_tensor *d)
{
    HS_TRY(hs_scale(d, g, -1.0f));
    for (int k = 0; k < st->count; k++) {
        int i = (st->newest - k + st->capacity) % st->capacity;
        double sd;
        HS_TRY(dot(st, &st->s[i], d, &sd));
        st->alpha[i] = st->rho[i] * sd;
        HS_TRY(hs_axpy(d, (float)-st->alpha[i], &st->y[i]));
    }
    if (st->count > 0) {
        double yy;
        HS_TRY(dot(st, &st->y[st->newest], &st->y[st->newest], &yy));
        HS_TRY(hs_scale(d, d, (float)(1.0 / (st->rho[st->newest] * yy))));
    }
    for (int k = st->count - 1; k >= 0; k--) {
        int i = (st->newest - k + st->capacity) % st->capacity;
        double yd;
        HS_TRY(dot(st, &st->y[i], d, &yd));
        HS_TRY(hs_axpy(d, (float)(st->alpha[i] - st->rho[i] * yd), &st->s[i]));
    }
    return HS_OK;
}

/* Remember s = x_new - x_old, y = g_new - g_old when the curvature is positive. */
static hs_status remember(lbfgs_state *st, const hs_tensor *x_new, const hs_tensor *x_old,
                          const hs_tensor *g_new, const hs_tensor *g_old)
{
    int slot = (st->newest + 1) % st->capacity;
    if (!st->s[slot].buf) {
        HS_TRY(hs_tensor_alloc_like(&st->s[slot], x_new));
        HS_TRY(hs_tensor_alloc_like(&st->y[slot], x_new));
    }
    HS_TRY(hs_axpby(&st->s[slot], 1.0f, x_new, -1.0f, x_old));
    HS_TRY(hs_axpby(&st->y[slot], 1.0f, g_new, -1.0f, g_old));
    double ys;
    HS_TRY(dot(st, &st->y[slot], &st->s[slot], &ys));
    if (!(ys > 1e-10)) return HS_OK; /* would break positive definiteness: skip */
    st->rho[slot] = 1.0 / ys;
    st->newest = slot;
    if (st->count < st->capacity) st->count++;
    return HS_OK;
}

static void state_free(lbfgs_state *st)
{
    for (int i = 0; i < st->capacity && st->s; i++) {
        hs_tensor_free(&st->s[i]);
        hs_tensor_free(&st->y[i]);
    }
    free(st->s);
    free(st->y);
    free(st->rho);
    free(st->alpha);
    hs_tensor_free(&st->scalar);
}

/* Backtracking from step t until f(x + t d) <= f + c1 t gᵀd; x_new, f_new, g_new
 * hold the accepted point. *accepted = 0 if no step of at least 2^-20 lowers f. */
static hs_status line_search(const hs_tensor *x, const hs_tensor *d, double f, double slope,
                             double t, hs_objective objective, void *user, hs_tensor *x_new,
                             float *f_new, hs_tensor *g_new, int *accepted)
{
    const double c1 = 1e-4;
    *accepted = 0;
    for (int tries = 0; tries < 20; tries++, t *= 0.5) {
        HS_TRY(hs_axpby(x_new, 1.0f, x, (float)t, d));
        HS_TRY(objective(user, x_new, f_new, g_new));
        if (*f_new <= f + c1 * t * slope && *f_new < f) {
            *accepted = 1;
            return HS_OK;
        }
    }
    return HS_OK;
}

hs_status hs_lbfgs(hs_tensor *x, int iterations, int history, hs_objective objective,
                   hs_lbfgs_progress progress, void *user)
{
    lbfgs_state st = {0};
    hs_tensor g = {0}, d = {0}, x_new = {0}, g_new = {0};
    st.capacity = history > 0 ? history : 1;
    st.s = calloc(st.capacity, sizeof *st.s);
    st.y = calloc(st.capacity, sizeof *st.y);
    st.rho = calloc(st.capacity, sizeof *st.rho);
    st.alpha = calloc(st.capacity, sizeof *st.alpha);
    st.newest = -1 + st.capacity; /* so the first slot is 0 */
    hs_status rc = st.s && st.y && st.rho && st.alpha ? HS_OK
                                                      : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    if (rc == HS_OK) rc = hs_tensor_alloc(x->ctx, &st.scalar, 1, 1, 1, 1);
    hs_tensor *all[] = {&g, &d, &x_new, &g_new};
    for (int i = 0; i < 4 && rc == HS_OK; i++) rc = hs_tensor_alloc_like(all[i], x);
    float f = 0, f_new = 0;
    if (rc == HS_OK) rc = objective(user, x, &f, &g);
    /* later points are accepted only where f drops, so only this one can be non-finite */
    if (rc == HS_OK && !isfinite(f)) rc = hs_fail(HS_ERR_NOT_FINITE, "the objective is %g", f);
    for (int it = 1; rc == HS_OK && it <= iterations; it++) {
        double slope;
        rc = direction(&st, &g, &d);
        if (rc == HS_OK) rc = dot(&st, &g, &d, &slope);
        if (rc == HS_OK && !(slope < 0)) { /* not a descent direction: restart */
            st.count = 0;
            rc = hs_scale(&d, &g, -1.0f);
            if (rc == HS_OK) rc = dot(&st, &g, &d, &slope);
        }
        if (rc != HS_OK) break;
        /* Without history d = -g has no scale: try a step of length at most 1. */
        double t = st.count == 0 ? fmin(1.0, 1.0 / sqrt(-slope)) : 1.0;
        int accepted;
        rc = line_search(x, &d, f, slope, t, objective, user, &x_new, &f_new, &g_new, &accepted);
        if (rc != HS_OK || !accepted) break; /* converged as far as float allows */
        rc = remember(&st, &x_new, x, &g_new, &g);
        if (rc == HS_OK) rc = hs_tensor_copy(x, &x_new);
        if (rc == HS_OK) rc = hs_tensor_copy(&g, &g_new);
        f = f_new;
        if (rc == HS_OK && progress && progress(user, it, f, x)) rc = hs_fail(HS_ERR_INTERRUPTED, "stopped");
    }
    for (int i = 0; i < 4; i++) hs_tensor_free(all[i]);
    state_free(&st);
    return rc;
}
