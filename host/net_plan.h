/* net_plan.h — where a forward (hs_net_forward) stores each layer's
 * output, worked out from the layer list per call (net_plan.c), so that
 *  - a conv whose output only an Add reads, the Add's other input computed
 *    before the conv (layers run in order), adds that input as its GEMM
 *    stores, scaled as the Add says (a * (conv + bias) + b * other), and the
 *    Add does nothing (ResNet's blocks, the SR nets' residuals);
 *  - a conv, or such an Add, whose output only an activation (ReLU,
 *    LeakyReLU) reads applies that activation as its GEMM stores
 *    (hs_conv2d_forward_into) too, and the activation layer does nothing;
 *  - a deconv (a transposed conv) does both in its pass for the bias
 *    (hs_deconv2d_forward_into), as it is a conv to the planner;
 *  - without keep (inference), a concat's output is allocated once and its
 *    inputs are written into their channels by their producers: a conv
 *    (with its activation) that only the concat reads writes its slice
 *    directly, and a concat that is the first input of another, for one
 *    image, is the first channels of that one's buffer (the dense blocks'
 *    growing cat(x, y1, y2, ...)); the concat itself only copies in its
 *    other inputs.
 * Without keep nothing is read after its last reader, so neither a
 * pre-activation, a conv's output before its Add, nor a concat's parts are
 * ever wanted again (an Add's other input lives to the Add, past the conv
 * that reads it). With keep (a
 * backward follows) every output keeps a buffer of its own but a fused
 * conv's and Add's, which no backward reads: a conv's backward reads its
 * input and dout, an Add's only dout, and an activation's its own output
 * instead of its input (net.c), so only activations whose output is
 * positive where their input is (slope ≥ 0) are fused.
 * Without keep, for one image, a dense block's convs may also share the
 * Winograd transforms of their inputs (engine.h's hs_conv_reuse): each
 * concat begins with its first input's channels, so the transform of x
 * serves cat(x, y1), whose own serves cat(x, y1, y2), and so on.
 */
#ifndef HS_NET_PLAN_H
#define HS_NET_PLAN_H

#include "net.h"

typedef struct hs_store_plan {
    int *act;      /* [count] for a conv: the activation layer its store computes, else -1 */
    int *add;      /* [count] for a conv: the Add layer its store computes, else -1 */
    int *by_conv;  /* [count] for that Add or activation: its conv (it does nothing), else -1 */
    int *home;     /* [count] the concat whose buffer holds this output, else -1 */
    int *channel0; /* [count] this output's first channel there */
    int *chain;    /* [count] see hs_store_plan_chains; else 0 */
} hs_store_plan;

/* The plan for layers 1..last of a batch of `batch` images; `wanted`
 * (NULL = none) and `last` are outputs the caller reads, which keep their
 * own buffers; keep: a backward follows. */
hs_status hs_store_plan_make(const hs_net *net, int last, int keep, int batch,
                             const unsigned char *wanted, hs_store_plan *plan);
/* For a forward without keep of one image, shapes[count] its layers'
 * shapes (hs_net_shapes): the chains of concats that begin with one another
 * (a concat's first input, that one's first input, ...) and that a conv
 * reads which would keep its Winograd transforms (the layer table's
 * reuse_bytes): each layer in a chain gets in chain[] the most channels of
 * the concats beginning with it that such a conv reads. */
void hs_store_plan_chains(const hs_net *net, const hs_tensor *shapes, int last,
                          hs_store_plan *plan);
void hs_store_plan_free(hs_store_plan *plan);
/* The layer whose output layer i's forward stores: for a conv its
 * activation, else its Add, else i itself. */
int hs_store_plan_target(const hs_store_plan *plan, int i);

#endif
