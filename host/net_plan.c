/* net_plan.c — where a forward stores each layer's output (see net_plan.h):
 * Adds and activations fused into their convs, concats filled in place.
 * A walk over the layer list, which net.c's forward then follows. */
#include "net_plan.h"
#include "engine.h"

#include <stdlib.h>

/* An output the caller reads keeps a buffer of its own. */
static int kept(int layer, int last, const unsigned char *wanted)
{
    return layer == last || (wanted && wanted[layer]);
}

/* An Add computed by the store of a conv that only the Add reads, whose
 * other input exists by then (an earlier layer): ResNet's block a adds
 * branch1 (built after branch2c) to branch2c, so its branch1 computes it. */
static void fuse_adds(const hs_net *net, int last, const unsigned char *wanted,
                      const int *readers, hs_store_plan *plan)
{
    for (int i = 1; i <= last; i++) {
        const hs_layer *l = &net->layers[i];
        if (l->kind != HS_LAYER_ADD) continue;
        for (int k = 0; k < 2; k++) {
            int conv = l->inputs[k], other = l->inputs[1 - k];
            const hs_layer_type *producer = hs_layer_type_of(&net->layers[conv]);
            if (conv == 0 || other >= conv || !producer || !producer->forward_into ||
                readers[conv] != 1 || kept(conv, last, wanted))
                continue;
            plan->add[conv] = i;
            plan->by_conv[i] = conv;
            break;
        }
    }
}

/* A conv, or an Add its conv computes, read by one activation alone
 * computes it (act, by_conv). With keep, only an activation whose slope is
 * not negative: its output is then positive exactly where its input is,
 * which is all its backward asks of the input it no longer has (net.c). */
static void fuse_activations(const hs_net *net, int last, int keep, const unsigned char *wanted,
                             const int *readers, hs_store_plan *plan)
{
    for (int i = 1; i <= last; i++) {
        const hs_layer *l = &net->layers[i];
        const hs_layer_type *type = hs_layer_type_of(l);
        if (!type || !type->activation) continue;
        hs_activation act;
        type->activation(l, &act);
        if (keep && act.slope < 0.0f) continue;
        int x = l->inputs[0];
        int conv = net->layers[x].kind == HS_LAYER_ADD ? plan->by_conv[x] : x;
        if (x == 0 || conv < 0 || readers[x] != 1 || kept(x, last, wanted)) continue;
        const hs_layer_type *producer = hs_layer_type_of(&net->layers[conv]);
        if (!producer || !producer->forward_into) continue;
        plan->act[conv] = i;
        plan->by_conv[i] = conv;
    }
}

/* Concats, the last first, so that a concat's own home is known before its
 * inputs are placed: each input that a producer can write into its channels
 * (a conv, or an Add or activation its conv computes, read by this concat
 * alone)
 * or that is the first channels of its buffer (a concat for one image, read
 * by nothing after this one) gets its home there. */
static void place_concat_inputs(const hs_net *net, int last, int batch,
                                const unsigned char *wanted, const int *readers,
                                const int *last_reader, hs_store_plan *plan)
{
    for (int r = last; r >= 1; r--) {
        const hs_layer *cat = &net->layers[r];
        if (cat->kind != HS_LAYER_CONCAT) continue;
        int root = plan->home[r] >= 0 ? plan->home[r] : r;
        int base = plan->home[r] >= 0 ? plan->channel0[r] : 0;
        for (int k = 0, c0 = base; k < cat->input_count; k++) {
            int j = cat->inputs[k], at = c0;
            c0 += net->layers[j].channels;
            if (j == 0 || kept(j, last, wanted) || plan->home[j] >= 0) continue;
            const hs_layer *in = &net->layers[j];
            const hs_layer_type *type = hs_layer_type_of(in);
            int written = readers[j] == 1 &&
                          ((type && type->forward_into) || plan->by_conv[j] >= 0);
            int prefix = in->kind == HS_LAYER_CONCAT && batch == 1 && at == 0 &&
                         last_reader[j] == r;
            if (!written && !prefix) continue;
            plan->home[j] = root;
            plan->channel0[j] = at;
        }
    }
}

hs_status hs_store_plan_make(const hs_net *net, int last, int keep, int batch,
                             const unsigned char *wanted, hs_store_plan *plan)
{
    int n = net->count;
    int *all = malloc(8 * (size_t)n * sizeof *all);
    if (!all) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    *plan = (hs_store_plan){all, all + n, all + 2 * n, all + 3 * n, all + 4 * n, all + 5 * n};
    int *readers = all + 6 * n, *last_reader = all + 7 * n;
    for (int i = 0; i < n; i++) {
        plan->act[i] = plan->add[i] = plan->by_conv[i] = plan->home[i] = last_reader[i] = -1;
        plan->channel0[i] = plan->chain[i] = readers[i] = 0;
    }
    for (int i = 1; i <= last; i++)
        for (int k = 0; k < net->layers[i].input_count; k++) {
            readers[net->layers[i].inputs[k]]++;
            last_reader[net->layers[i].inputs[k]] = i;
        }
    fuse_adds(net, last, wanted, readers, plan);
    fuse_activations(net, last, keep, wanted, readers, plan);
    if (!keep) place_concat_inputs(net, last, batch, wanted, readers, last_reader, plan);
    return HS_OK;
}

void hs_store_plan_chains(const hs_net *net, const hs_tensor *shapes, int last,
                          hs_store_plan *plan)
{
    for (int i = 1; i <= last; i++) {
        const hs_layer *l = &net->layers[i];
        const hs_layer_type *type = hs_layer_type_of(l);
        int j = l->inputs[0], channels = net->layers[j].channels;
        if (!type || !type->reuse_bytes || net->layers[j].kind != HS_LAYER_CONCAT ||
            !type->reuse_bytes(net->ctx, l, &shapes[j], channels))
            continue;
        for (int k = j;; k = net->layers[k].inputs[0]) {
            if (plan->chain[k] < channels) plan->chain[k] = channels;
            if (k == 0 || net->layers[k].kind != HS_LAYER_CONCAT) break;
        }
    }
}

void hs_store_plan_free(hs_store_plan *plan)
{
    free(plan->act); /* one allocation holds them all */
    *plan = (hs_store_plan){0};
}

int hs_store_plan_target(const hs_store_plan *plan, int i)
{
    return plan->act[i] >= 0 ? plan->act[i] : plan->add[i] >= 0 ? plan->add[i] : i;
}
