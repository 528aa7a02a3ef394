/* reduce.h — the two-pass deterministic sum (cl/reduce.cl) as the reduction
 * and loss ops use it: begin gives the partials buffer and the pass-1 launch
 * geometry, the caller launches its *_partials kernel, end sums the partials
 * into the result. Not installed. */
#ifndef HS_REDUCE_H
#define HS_REDUCE_H

#include "engine.h"

typedef struct hs_reduction {
    cl_mem partials;       /* one float per pass-1 group */
    size_t groups;
    size_t global, local;  /* pass-1 launch: groups * REDUCE_GROUP, REDUCE_GROUP */
} hs_reduction;

/* Plan a reduction over n elements into result (checked to be (1,1,1,1));
 * the group count depends on n and REDUCE_GROUP only. */
hs_status hs_reduce_begin(hs_context *ctx, size_t n, const hs_tensor *result, hs_reduction *r);
/* result (1,1,1,1) = scale * sum of the partials, unless pass1 (the status
 * of the pass-1 launch) failed; frees the partials either way. */
hs_status hs_reduce_end(hs_context *ctx, hs_reduction *r, hs_status pass1, hs_tensor *result,
                        float scale);

#endif
