/* net_load.c — from a weights file to a built network: the metadata names
 * the architecture and the input preprocessing; the builder of that
 * architecture checks every tensor against the shapes it needs. */
#include "ncnn.h"
#include "net.h"
#include "net_sr.h"
#include "engine.h"

#include <stdio.h>
#include <string.h>

typedef struct architecture {
    const char *name;
    hs_status (*build)(hs_net_builder *b);
} architecture;

static const architecture architectures[] = {
    {"vgg19", hs_build_vgg19},
    {"resnet50", hs_build_resnet50},
    {"rrdn", hs_build_rrdn},
    {"rdn", hs_build_rdn},
    {"srresnet", hs_build_srresnet},
    {"rrdbnet", hs_build_rrdbnet},
    {"srvgg", hs_build_srvgg},
    {"discriminator", hs_build_discriminator},
};

static hs_status read_normalization(const hs_weights *w, hs_net *net)
{
    float range;
    HS_TRY(hs_weights_meta_float(w, "input_range", &range));
    HS_TRY(hs_weights_meta_floats(w, "mean", net->norm.mean, 3));
    HS_TRY(hs_weights_meta_floats(w, "std", net->norm.std, 3));
    const char *order = hs_weights_meta(w, "channel_order");
    if (!order || (strcmp(order, "rgb") != 0 && strcmp(order, "bgr") != 0))
        return hs_fail(HS_ERR_WEIGHTS, "%s: metadata channel_order must be rgb or bgr", w->path);
    for (int c = 0; c < 3; c++)
        if (!(net->norm.std[c] > 0))
            return hs_fail(HS_ERR_WEIGHTS, "%s: metadata std must be positive", w->path);
    net->norm.scale = range / 255.0f;
    net->norm.bgr = strcmp(order, "bgr") == 0;
    return HS_OK;
}

hs_status hs_net_load(hs_context *ctx, const char *path, hs_net *net)
{
    size_t n = strlen(path);
    if (n > 6 && strcmp(path + n - 6, ".param") == 0) return hs_ncnn_net_load(ctx, path, net);
    memset(net, 0, sizeof *net);
    hs_weights w;
    HS_TRY(hs_weights_load(path, &w));
    hs_status st = hs_net_build(ctx, &w, net);
    hs_weights_free(&w);
    return st;
}

hs_status hs_net_build(hs_context *ctx, const hs_weights *w, hs_net *net)
{
    memset(net, 0, sizeof *net);
    const char *path = w->path ? w->path : "weights";
    const char *arch = hs_weights_meta(w, "architecture");
    const architecture *found = NULL;
    for (size_t i = 0; arch && i < sizeof architectures / sizeof architectures[0]; i++)
        if (strcmp(arch, architectures[i].name) == 0) found = &architectures[i];
    hs_status st = HS_OK;
    if (!arch)
        st = hs_fail(HS_ERR_WEIGHTS,
                     "%s: no 'architecture' in the metadata: not a hirestyle weights file "
                     "(convert it with the tools/ converters)", path);
    else if (!found)
        st = hs_fail(HS_ERR_WEIGHTS, "%s: unknown architecture '%s'", path, arch);

    net->ctx = ctx;
    if (st == HS_OK) {
        snprintf(net->arch, sizeof net->arch, "%s", found->name);
        st = read_normalization(w, net);
    }
    if (st == HS_OK) {
        hs_net_builder b = {net, w, HS_OK};
        hs_build_input(&b, 3);
        st = found->build(&b);
    }
    if (st != HS_OK) hs_net_free(net);
    return st;
}
