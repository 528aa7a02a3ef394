#!/usr/bin/python3
"""The original PyTorch architectures, written from their public definitions,
with the original parameter names.  Used to make test checkpoints
(tools/make_test_checkpoints.py) and to check the converters + nets.py
against the unconverted networks (tools/reference/check_torch_refs.py).

- SRGANGenerator: leftthomas/SRGAN model.py `Generator` (there: 5 residual
  blocks block2..block6, block7 = conv+BN, block8 = UpsampleBLock x log2(s) +
  conv 9x9; forward returns (tanh(block8(block1 + block7)) + 1) / 2),
  generalised to num_res residual blocks: block2..block{num_res+1},
  block{num_res+2}, block{num_res+3}.
- RRDBNet: xinntao basicsr RRDBNet (conv_first, body.N.rdb{1,2,3}.conv{1..5},
  conv_body, conv_up1, conv_up2, conv_hr, conv_last), scale 4 / 2 (pixel_unshuffle).
- vgg19_features(): torchvision.models.vgg.make_layers(cfg "E") (keys features.N).
"""

import math

import torch
from torch import nn
from torch.nn import functional as F


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.prelu = nn.PReLU()
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        r = self.bn2(self.conv2(self.prelu(self.bn1(self.conv1(x)))))
        return x + r


class UpsampleBLock(nn.Module):
    def __init__(self, in_channels, up_scale):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, in_channels * up_scale ** 2, kernel_size=3, padding=1)
        self.pixel_shuffle = nn.PixelShuffle(up_scale)
        self.prelu = nn.PReLU()

    def forward(self, x):
        return self.prelu(self.pixel_shuffle(self.conv(x)))


class SRGANGenerator(nn.Module):
    def __init__(self, scale_factor=4, num_res=5):
        super().__init__()
        n_up = int(math.log(scale_factor, 2))
        self.num_res = num_res
        self.block1 = nn.Sequential(nn.Conv2d(3, 64, kernel_size=9, padding=4), nn.PReLU())
        for i in range(num_res):
            setattr(self, "block%d" % (2 + i), ResidualBlock(64))
        setattr(self, "block%d" % (2 + num_res),
                nn.Sequential(nn.Conv2d(64, 64, kernel_size=3, padding=1), nn.BatchNorm2d(64)))
        up = [UpsampleBLock(64, 2) for _ in range(n_up)]
        up.append(nn.Conv2d(64, 3, kernel_size=9, padding=4))
        setattr(self, "block%d" % (3 + num_res), nn.Sequential(*up))

    def forward(self, x):
        b1 = self.block1(x)
        h = b1
        for i in range(self.num_res):
            h = getattr(self, "block%d" % (2 + i))(h)
        h = getattr(self, "block%d" % (2 + self.num_res))(h)
        y = getattr(self, "block%d" % (3 + self.num_res))(b1 + h)
        return (torch.tanh(y) + 1) / 2


class ResidualDenseBlock(nn.Module):
    def __init__(self, num_feat=64, num_grow_ch=32):
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_grow_ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat + num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv3 = nn.Conv2d(num_feat + 2 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv4 = nn.Conv2d(num_feat + 3 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow_ch, num_feat, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x):
        x1 = self.lrelu(self.conv1(x))
        x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = self.lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return x5 * 0.2 + x


class RRDB(nn.Module):
    def __init__(self, num_feat, num_grow_ch=32):
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x):
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(nn.Module):
    def __init__(self, num_in_ch=3, num_out_ch=3, scale=4, num_feat=64, num_block=23, num_grow_ch=32):
        super().__init__()
        self.scale = scale
        if scale == 2:
            num_in_ch = num_in_ch * 4
        elif scale == 1:
            num_in_ch = num_in_ch * 16
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(num_feat, num_grow_ch) for _ in range(num_block)])
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x):
        if self.scale == 2:
            feat = F.pixel_unshuffle(x, 2)
        elif self.scale == 1:
            feat = F.pixel_unshuffle(x, 4)
        else:
            feat = x
        feat = self.conv_first(feat)
        body_feat = self.conv_body(self.body(feat))
        feat = feat + body_feat
        feat = self.lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = self.lrelu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        return self.conv_last(self.lrelu(self.conv_hr(feat)))


def rrdb_old_names(sd, num_block):
    """basicsr names -> original ESRGAN (architecture.py) names, x4 only."""
    ren = {"conv_first": "model.0", "conv_body": "model.1.sub.%d" % num_block, "conv_up1": "model.3",
           "conv_up2": "model.6", "conv_hr": "model.8", "conv_last": "model.10"}
    out = {}
    for k, v in sd.items():
        if k.startswith("body."):
            _, i, rdb, conv, suf = k.split(".")
            out["model.1.sub.%s.RDB%s.%s.0.%s" % (i, rdb[3:], conv, suf)] = v
        else:
            base, _, suf = k.rpartition(".")
            out["%s.%s" % (ren[base], suf)] = v
    return out


def rrdb_2019_names(sd):
    """basicsr names -> ESRGAN repo RRDBNet_arch.py (2019) names."""
    ren = {"conv_body": "trunk_conv", "conv_up1": "upconv1", "conv_up2": "upconv2", "conv_hr": "HRconv"}
    out = {}
    for k, v in sd.items():
        if k.startswith("body."):
            _, i, rdb, conv, suf = k.split(".")
            out["RRDB_trunk.%s.RDB%s.%s.%s" % (i, rdb[3:], conv, suf)] = v
        else:
            base, _, suf = k.rpartition(".")
            out["%s.%s" % (ren.get(base, base), suf)] = v
    return out


VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


def vgg19_features():
    layers = []
    cin = 3
    for v in VGG19_CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(cin, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            cin = v
    return nn.Sequential(*layers)
