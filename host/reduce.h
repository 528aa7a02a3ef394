/* reduce.h — the two-pass deterministic sum (cl/reduce.cl) that the
 * reduction and loss ops share. Not installed. */
#ifndef HS_REDUCE_H
#define HS_REDUCE_H

#include "engine.h"

/* The terms a reduction sums, for element i of a (and b). The kernels get
 * the values as build options (hs_program_options). */
typedef enum hs_reduce_kind {
    HS_REDUCE_SUM,          /* a[i] */
    HS_REDUCE_DOT,          /* a[i] * b[i] */
    HS_REDUCE_SQUARED_DIFF, /* (a[i] - b[i])² */
    HS_REDUCE_ABS_DIFF,     /* |a[i] - b[i]| */
    HS_REDUCE_TV,           /* a's total variation terms, per plane of a->h x a->w */
} hs_reduce_kind;

/* result (1,1,1,1) = scale * the sum of the terms of `kind` over a's
 * elements, in a fixed order (the same bits every run). b: NULL where the
 * kind reads none, else as many elements as a (the caller checks). */
hs_status hs_reduce(hs_reduce_kind kind, const hs_tensor *a, const hs_tensor *b, float scale,
                    hs_tensor *result);

/* out (N, C, 1, 1)[p] = scale * the sum of the terms of `kind`
 * (HS_REDUCE_SUM or HS_REDUCE_DOT) over the h x w window at row y0, column
 * x0 of each plane p of a (and b, NULL for a sum), in one pass, one work-
 * group a plane, in a fixed order. */
hs_status hs_reduce_planes(hs_reduce_kind kind, const hs_tensor *a, const hs_tensor *b, int y0,
                           int x0, int h, int w, float scale, hs_tensor *out);

#endif
