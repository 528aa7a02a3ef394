/* style_optimize.c — the optimisers of style transfer: Adam (with the
 * moving average of its iterates, state in style_state.c; with the
 * jitter, x clamped to [0,1] after each step) and L-BFGS (deterministic
 * objective, so no jitter; x clamped once at the end). A non-finite loss
 * stops either (HS_ERR_NOT_FINITE), x left at the last finite iterate. */
#include "lbfgs.h"
#include "style_internal.h"
#include "timer.h"

#include <math.h>

/* Jitter shift in -2..+1: the stride-2 layers' phase changes every step. */
static int jitter_shift(hs_style *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 17;
    s->rng ^= s->rng << 5;
    return (int)(s->rng % 4u) - 2;
}

/* average = decay * average + (1 - decay) * x, and the weight it holds. */
static hs_status update_average(hs_style_state *state, const hs_tensor *x)
{
    const double decay = HS_STYLE_AVERAGE_DECAY;
    state->gathered = 1 - decay * (1 - state->gathered);
    return hs_axpby(&state->average, (float)decay, &state->average, (float)(1 - decay), x);
}

/* A loss past float range stops the run: the painting would go on as garbage. */
static hs_status not_finite(const hs_style_losses *l, int iteration)
{
    return hs_fail(HS_ERR_NOT_FINITE, "the loss became %g at iteration %d (content %g, style %g, "
                   "tv %g): lower --style-weight, --content-weight, --tv-weight or "
                   "--learning-rate", l->total, iteration, l->content, l->style, l->tv);
}

static hs_status adam(hs_style *s, hs_tensor *x, int iterations, hs_style_state *state,
                      hs_style_progress progress, void *user)
{
    hs_tensor grad = {0};
    hs_status st = hs_tensor_alloc_like(&grad, x);
    for (int it = 1; st == HS_OK && it <= iterations; it++) {
        int dx = s->p.jitter ? jitter_shift(s) : 0, dy = s->p.jitter ? jitter_shift(s) : 0;
        hs_style_losses losses;
        st = hs_style_evaluate(s, x, dx, dy, &losses, &grad);
        if (st == HS_OK && !isfinite(losses.total)) st = not_finite(&losses, it);
        hs_adam_params a = {s->p.learning_rate, 0.9f, 0.999f, 1e-8f, ++state->step};
        double lap = hs_seconds();
        if (st == HS_OK) st = hs_adam_step(x, &grad, &state->m, &state->v, a);
        if (st == HS_OK) st = hs_clamp(x, 0.0f, 1.0f);
        if (st == HS_OK) st = update_average(state, x);
        if (st == HS_OK && s->timing) {
            st = hs_style_lap(s, &s->timing->step, &lap);
            s->timing->steps++;
        }
        if (st == HS_OK && progress && progress(user, it, &losses, x))
            st = hs_fail(HS_ERR_INTERRUPTED, "stopped after iteration %d", it);
    }
    hs_tensor_free(&grad);
    return st;
}

typedef struct lbfgs_user {
    hs_style *s;
    hs_style_losses last;
    hs_style_progress progress;
    void *user;
} lbfgs_user;

static hs_status objective(void *user, const hs_tensor *x, float *f, hs_tensor *grad)
{
    lbfgs_user *u = user;
    HS_TRY(hs_style_evaluate(u->s, x, 0, 0, &u->last, grad));
    *f = u->last.total;
    return HS_OK;
}

static int lbfgs_progress(void *user, int iteration, float f, const hs_tensor *x)
{
    lbfgs_user *u = user;
    (void)f; /* u->last holds its terms: the accepted point was evaluated last */
    return u->progress ? u->progress(u->user, iteration, &u->last, x) : 0;
}

hs_status hs_style_optimize_from(hs_style *s, hs_tensor *x, int iterations, hs_style_state *state,
                                 hs_style_progress progress, void *user)
{
    if (s->p.optimizer == HS_OPT_ADAM) return adam(s, x, iterations, state, progress, user);
    lbfgs_user u = {.s = s, .progress = progress, .user = user};
    hs_status st = hs_lbfgs(x, iterations, s->p.lbfgs_history, objective, lbfgs_progress, &u);
    if (st == HS_ERR_NOT_FINITE) return not_finite(&u.last, 1); /* at the starting point */
    HS_TRY(st);
    return hs_clamp(x, 0.0f, 1.0f);
}

hs_status hs_style_optimize(hs_style *s, hs_tensor *x, int iterations, hs_style_progress progress,
                            void *user)
{
    hs_style_state state = {0};
    hs_status st = s->p.optimizer == HS_OPT_ADAM ? hs_style_state_init(&state, x) : HS_OK;
    if (st == HS_OK) st = hs_style_optimize_from(s, x, iterations, &state, progress, user);
    hs_style_state_free(&state);
    return st;
}
