/* net_vgg19.c — VGG19's feature layers (Simonyan & Zisserman), the network
 * of Gatys et al., from torchvision's checkpoint converted by
 * tools/convert_torchvision_vgg19.py: tensors features.N.weight/bias with N
 * the index in torchvision's `features` Sequential.
 *
 * Layers are named as in the style-transfer literature: conv1_1, relu1_1,
 * ..., pool1, ... relu5_4. All convs are 3×3 with padding 1; pools 2×2/2.
 */
#include "net.h"

#include <stdio.h>

hs_status hs_build_vgg19(hs_net_builder *b)
{
    static const int convs_per_block[5] = {2, 2, 4, 4, 4};
    static const int channels[5] = {64, 128, 256, 512, 512};
    int x = 0, feature = 0; /* index into torchvision's features */
    for (int block = 0; block < 5; block++) {
        for (int k = 0; k < convs_per_block[block]; k++) {
            char tensor[32], conv[24], relu[24];
            snprintf(tensor, sizeof tensor, "features.%d", feature);
            snprintf(conv, sizeof conv, "conv%d_%d", block + 1, k + 1);
            snprintf(relu, sizeof relu, "relu%d_%d", block + 1, k + 1);
            x = hs_build_conv_named(b, conv, tensor, x, channels[block], 3, 1, 1);
            x = hs_build_relu(b, relu, x);
            feature += 2;
        }
        char pool[16];
        snprintf(pool, sizeof pool, "pool%d", block + 1);
        x = hs_build_maxpool(b, pool, x, 2, 2, 0);
        feature += 1;
    }
    return b->status;
}
