/* style_schedule.c — see style_schedule.h. */
#include "style_schedule.h"

#include <math.h>

hs_status hs_schedule_make(int size, int start, double step, const int *iters, int iters_count,
                           int fine, hs_schedule *out)
{
    if (!(step > 1.0) || step > 16.0)
        return hs_fail(HS_ERR_USAGE, "the scale step must be above 1 and at most 16, not %g", step);
    if (iters_count < 1 || iters_count > HS_SCHEDULE_MAX_SCALES)
        return hs_fail(HS_ERR_USAGE, "give 1 to %d iteration counts", HS_SCHEDULE_MAX_SCALES);
    int sides[HS_SCHEDULE_MAX_SCALES], count = 0;
    for (double side = size; count == 0 || lround(side) >= start; side /= step) {
        if (count == HS_SCHEDULE_MAX_SCALES)
            return hs_fail(HS_ERR_USAGE, "from %d px to %d px by %g is more than %d scales", start,
                           size, step, HS_SCHEDULE_MAX_SCALES);
        sides[count++] = (int)lround(side);
    }
    out->count = count;
    for (int k = 0; k < count; k++) {
        out->side[k] = sides[count - 1 - k];
        if (iters_count > 1) {
            out->iterations[k] = iters[k < iters_count ? k : iters_count - 1];
        } else if (k == 0) {
            out->iterations[k] = iters[0];
        } else if (fine > 0) {
            out->iterations[k] = fine;
        } else {
            int before = out->iterations[k - 1], third = (before + 2) / 3;
            int least = before < HS_SCHEDULE_MIN_FINE ? before : HS_SCHEDULE_MIN_FINE;
            out->iterations[k] = third > least ? third : least;
        }
    }
    return HS_OK;
}

void hs_schedule_fit(int w, int h, int side, int *out_w, int *out_h)
{
    double s = (double)side / (w > h ? w : h);
    *out_w = (int)lround(w * s);
    *out_h = (int)lround(h * s);
    if (*out_w < 1) *out_w = 1;
    if (*out_h < 1) *out_h = 1;
}
