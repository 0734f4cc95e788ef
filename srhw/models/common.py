"""Layers every model shares: RGB mean shift, channel shuffle, 'same' convs, the sub-pixel upsampler."""

import torch
from torch import nn

# Mean RGB of the DIV2K training set, in [0, 255] (EDSR `common.MeanShift`, `rgb_mean = (0.4488, 0.4371,
# 0.4040)`); the paper subtracts it before the network ("pre-process them by subtracting the mean RGB value
# of the DIV2K dataset", section 3). A property of the models' input convention, so it lives with MeanShift.
DIV2K_RGB_MEAN = (0.4488 * 255, 0.4371 * 255, 0.4040 * 255)


def conv(in_ch: int, out_ch: int, kernel_size=3, groups: int = 1, bias: bool = True) -> nn.Conv2d:
    """A stride-1 convolution with 'same' padding (odd kernels, possibly non-square like 1x3)."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return nn.Conv2d(in_ch, out_ch, (kh, kw), padding=(kh // 2, kw // 2), groups=groups, bias=bias)


class MeanShift(nn.Conv2d):
    """EDSR/RCAN's fixed RGB mean shift: a 1x1 conv 3->3 with bias (12 params, counted, never trained).

    sign=-1 subtracts the DIV2K mean (the model's first layer), sign=+1 adds it back (the last).
    Inputs and outputs are RGB in [0, 255].
    """

    def __init__(self, sign: int, rgb_mean=DIV2K_RGB_MEAN):
        super().__init__(3, 3, kernel_size=1)
        with torch.no_grad():
            self.weight.copy_(torch.eye(3).view(3, 3, 1, 1))
            self.bias.copy_(sign * torch.tensor(rgb_mean, dtype=torch.float32))
        for p in self.parameters():
            p.requires_grad = False


class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle (Zhang et al. 2017): (B, g*c, H, W) -> interleave the g groups."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        b, c, h, w = x.shape
        return x.view(b, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class SubPixelUpsampler(nn.Sequential):
    """Sub-pixel upsampler (Shi et al. 2016) as in EDSR/RCAN: x2, x3 one conv + PixelShuffle; x4 two x2 steps."""

    def __init__(self, scale: int, num_feat: int = 64, conv_layer=conv):
        steps = [2, 2] if scale == 4 else [scale]
        layers = []
        for t in steps:
            layers += [conv_layer(num_feat, num_feat * t * t, 3), nn.PixelShuffle(t)]
        super().__init__(*layers)
