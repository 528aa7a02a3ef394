/* test_weights.c — a weights file in memory for the net tests, a net
 * started on it and run through the references. */
#include "test_weights.h"

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hs_net_builder test_net_start(test_weights *w, hs_net *net, const char *name,
                              const test_tensor *tensors, int count, unsigned first_seed)
{
    ck_assert_int_le(count, TEST_WEIGHTS_MAX);
    memset(w, 0, sizeof *w);
    for (int i = 0; i < count; i++) {
        hs_weight *e = &w->entries[i];
        e->name = (char *)tensors[i].name;
        e->ndim = tensors[i].ndim;
        e->count = 1;
        for (int d = 0; d < e->ndim; d++) e->count *= (size_t)(e->shape[d] = tensors[i].shape[d]);
        w->values[i] = host_floats(e->count);
        fill_random(w->values[i], e->count, first_seed + (unsigned)i, -0.6f, 0.6f);
        w->exact[i] = to_doubles(w->values[i], e->count);
        e->data = w->values[i];
    }
    w->file = (hs_weights){.path = (char *)name, .tensors = w->entries, .count = count};
    memset(net, 0, sizeof *net);
    net->ctx = test_ctx;
    snprintf(net->arch, sizeof net->arch, "%s", name);
    return (hs_net_builder){net, &w->file, HS_OK};
}

void test_net_free(test_weights *w, hs_net *net)
{
    hs_net_free(net);
    for (int i = 0; i < w->file.count; i++) {
        free(w->values[i]);
        free(w->exact[i]);
    }
}

int test_weights_of(const test_weights *w, const hs_layer *l, int bias)
{
    char name[80];
    if (l->kind == HS_LAYER_CONV || l->kind == HS_LAYER_DECONV)
        snprintf(name, sizeof name, "%s%s", l->tensor, bias ? ".bias" : ".weight");
    else if (l->kind == HS_LAYER_PRELU && !bias) snprintf(name, sizeof name, "%s", l->tensor);
    else return -1;
    for (int i = 0; i < w->file.count; i++)
        if (strcmp(w->entries[i].name, name) == 0) return i;
    return -1;
}

void test_net_reference(const test_weights *w, const hs_net *net, ref_tensor *outs)
{
    for (int i = 1; i < net->count; i++) {
        const hs_layer *l = &net->layers[i];
        const ref_tensor *in[HS_NET_MAX_INPUTS];
        for (int k = 0; k < l->input_count; k++) in[k] = &outs[l->inputs[k]];
        int wi = test_weights_of(w, l, 0), bi = test_weights_of(w, l, 1);
        ref_layer_named(hs_layer_type_of(l)->name)(l, in, wi >= 0 ? w->exact[wi] : NULL,
                                                   bi >= 0 ? w->exact[bi] : NULL, &outs[i]);
    }
}
