"""ERUM, the enhanced recursive upscaling module of the study (section 4.2, Figure 1).

It is EUSR's enhanced upscaling module (Kim & Lee, "Enhanced Deep Residual Networks for Single Image
Super-Resolution", CVPRW 2018 / EUSR, https://arxiv.org/abs/1810.12589) with recursion: a stage of
factor t holds t residual modules (RMs); RM_1 runs t times in a chain with shared weights, RM_2
continues from the last output t times, and so on. The t*t outputs (64 channels each) are
interleaved so that output k becomes sub-pixel phase k of every channel, and PixelShuffle(t) makes
the 64-channel map at t x resolution. There is no conv after the concatenation.
x2: one t=2 stage (2 RMs); x3: one t=3 stage (3 RMs); x4: two t=2 stages (4 RMs) -- the number of
RMs equals the scale (architectures.md section 3).
"""

from typing import Callable

import torch
from torch import nn

from srhw.models.common import conv


class ResidualModule(nn.Module):
    """EUSR's residual module: conv -> ReLU -> conv, plus the input. `conv_layer` lets [rg+u] use units."""

    def __init__(self, num_feat: int = 64, conv_layer: Callable = conv):
        super().__init__()
        self.body = nn.Sequential(conv_layer(num_feat, num_feat, 3), nn.ReLU(inplace=True),
                                  conv_layer(num_feat, num_feat, 3))

    def forward(self, x):
        return x + self.body(x)


class ERUMStage(nn.Module):
    """One upscaling stage of factor t: t RMs, each applied t times recursively, then PixelShuffle(t)."""

    def __init__(self, t: int, num_feat: int = 64, conv_layer: Callable = conv):
        super().__init__()
        self.t = t
        self.rms = nn.ModuleList([ResidualModule(num_feat, conv_layer) for _ in range(t)])
        self.shuffle = nn.PixelShuffle(t)

    def forward(self, x):
        outs = []
        for rm in self.rms:
            for _ in range(self.t):  # recursion: same weights, t runs
                x = rm(x)
                outs.append(x)
        y = torch.stack(outs, dim=2)  # (B, C, t*t, H, W): output k -> sub-pixel phase k
        return self.shuffle(y.flatten(1, 2))  # (B, C, H*t, W*t)


class ERUM(nn.Sequential):
    """The whole recursive upsampler for scale 2, 3 or 4."""

    def __init__(self, scale: int, num_feat: int = 64, conv_layer: Callable = conv):
        steps = [2, 2] if scale == 4 else [scale]
        super().__init__(*[ERUMStage(t, num_feat, conv_layer) for t in steps])
