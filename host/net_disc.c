/* net_disc.c — the discriminator of GAN training (train_gan.c), after
 * SRGAN's VGG-style one: stages of a 3×3 conv and a 4×4 stride-2 conv, each
 * followed by LeakyReLU, channels doubling per stage up to 8× num_feat. It
 * ends in a 3×3 conv to one channel: a map of logits, one per region of
 * the input, instead of SRGAN's dense layers, so any patch size works and
 * no batch norm is needed. Tensors "conv{s}_0", "conv{s}_1" (s < num_stages)
 * and "out", each .weight/.bias; metadata num_feat, num_stages, leaky_slope. */
#include "net.h"
#include "engine.h"

#include <stdio.h>

hs_status hs_build_discriminator(hs_net_builder *b)
{
    int features = 0, stages = 0;
    float slope = 0.0f;
    HS_TRY(hs_weights_meta_int(b->weights, "num_feat", &features));
    HS_TRY(hs_weights_meta_int(b->weights, "num_stages", &stages));
    HS_TRY(hs_weights_meta_float(b->weights, "leaky_slope", &slope));
    if (features < 1 || features > 1024 || stages < 1 || stages > 8)
        return hs_fail(HS_ERR_WEIGHTS, "%s: a discriminator takes num_feat 1-1024 and "
                       "num_stages 1-8", b->weights->path);
    int x = 0;
    for (int s = 0; s < stages; s++) {
        int channels = features << (s < 3 ? s : 3);
        char name[32], relu[40];
        snprintf(name, sizeof name, "conv%d_0", s);
        snprintf(relu, sizeof relu, "%s.relu", name);
        x = hs_build_leaky_relu(b, relu, hs_build_conv(b, name, x, channels, 3, 1, 1), slope);
        snprintf(name, sizeof name, "conv%d_1", s);
        snprintf(relu, sizeof relu, "%s.relu", name);
        x = hs_build_leaky_relu(b, relu, hs_build_conv(b, name, x, channels, 4, 2, 1), slope);
    }
    hs_build_conv(b, "out", x, 1, 3, 1, 1);
    return b->status;
}
