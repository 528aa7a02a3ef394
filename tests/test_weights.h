/* test_weights.h — a weights file in memory for the net tests: tensors named
 * and shaped by a table, filled with random values, with a double copy of
 * them for the references (layer_reference.c); a net started on it and run
 * through the references.
 */
#ifndef HS_TEST_WEIGHTS_H
#define HS_TEST_WEIGHTS_H

#include "layer_reference.h"
#include "net.h"
#include "weights.h"

typedef struct test_tensor { const char *name; int ndim; int64_t shape[4]; } test_tensor;

#define TEST_WEIGHTS_MAX 16

/* file.tensors points at entries: built in place, never copied. */
typedef struct test_weights {
    hs_weights file;
    hs_weight entries[TEST_WEIGHTS_MAX];
    float *values[TEST_WEIGHTS_MAX]; /* what the device net is built from */
    double *exact[TEST_WEIGHTS_MAX]; /* the same values, for the references */
} test_weights;

/* w: the `count` tensors of the table, tensor i uniform in [-0.6, 0.6)
 * from seed first_seed + i; net: empty, on test_ctx, called `name` (as is
 * the file). Returns a builder adding layers to net from w. */
hs_net_builder test_net_start(test_weights *w, hs_net *net, const char *name,
                              const test_tensor *tensors, int count, unsigned first_seed);
/* Frees net and w. */
void test_net_free(test_weights *w, hs_net *net);
/* Index in w of a layer's weight (bias 0) or bias (bias 1): "<tensor>.weight"
 * and ".bias" for convs and deconvs, "<tensor>" for PReLU's slopes; -1 when it has none. */
int test_weights_of(const test_weights *w, const hs_layer *l, int bias);
/* outs[1 .. net->count - 1] = net's layers through the references, with
 * w's exact values; outs[0] holds the input. */
void test_net_reference(const test_weights *w, const hs_net *net, ref_tensor *outs);

#endif
