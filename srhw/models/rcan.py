"""The study's baseline `bl`: a reduced RCAN.

RCAN: Zhang et al., "Image Super-Resolution Using Very Deep Residual Channel Attention Networks",
ECCV 2018, https://arxiv.org/abs/1807.02758. The study (section 4.1) keeps RCAN's building block and
shrinks it to 2 residual groups of 5 RCABs at 64 features. How each part is built so that the
paper's Params/Mult-Adds come out is in shared/design/architectures.md, section 2.

Every 3x3 64->64 conv that an efficiency unit may replace is made by one of three factories, so a
variant is one argument, not a fork:
    rb_conv  - the two convs inside each RCAB        ([rb], [rg], [rg+u])
    rg_conv  - each residual-group tail + trunk tail ([rg], [rg+u])
    conv     - every other conv (head, upsampler, tail); st_bl swaps this one too
"""

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from srhw.models.common import MeanShift, SubPixelUpsampler, conv


class ChannelAttention(nn.Module):
    """RCAN's channel attention: global average pool -> 1x1 C->C/16 -> ReLU -> 1x1 C/16->C -> sigmoid -> rescale.

    Args:
        num_feat (int): channels C. Default: 64.
        reduction (int): squeeze factor. Default: 16 (580 params at C=64).
    """

    def __init__(self, num_feat: int = 64, reduction: int = 16):
        super().__init__()
        self.attention = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(num_feat, num_feat // reduction, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(num_feat // reduction, num_feat, 1),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return x * self.attention(x)  # (B, C, H, W) * (B, C, 1, 1)


class RCAB(nn.Module):
    """Residual channel attention block: conv -> ReLU -> conv -> CA, plus the block input."""

    def __init__(self, num_feat: int, rb_conv: Callable):
        super().__init__()
        self.body = nn.Sequential(
            rb_conv(num_feat, num_feat, 3), nn.ReLU(inplace=True), rb_conv(num_feat, num_feat, 3),
            ChannelAttention(num_feat),
        )

    def forward(self, x):
        return x + self.body(x)


class ResidualGroup(nn.Module):
    """Residual group: `num_block` RCABs, then a tail conv, plus the group input."""

    def __init__(self, num_feat: int, num_block: int, rb_conv: Callable, rg_conv: Callable):
        super().__init__()
        self.body = nn.Sequential(*[RCAB(num_feat, rb_conv) for _ in range(num_block)], rg_conv(num_feat, num_feat, 3))

    def forward(self, x):
        return x + self.body(x)


@dataclass
class BLConfig:
    scale: int = 2
    num_in_ch: int = 3
    num_out_ch: int = 3
    num_feat: int = 64
    num_group: int = 2  # RCAN has 10; the study keeps 2
    num_block: int = 5  # RCABs per group; RCAN has 20, the study keeps 5


class BL(nn.Module):
    """The baseline network `bl` and, through its factories, every variant of Tables 1, 2 and 5.

    Args:
        config: widths and depths (BLConfig).
        conv: factory(in, out, k) for head, upsampler and tail convs.
        rb_conv / rg_conv: factories for the replaceable body convs (module docstring).
        upsampler: factory(scale, num_feat) -> nn.Module, SubPixelUpsampler or ERUM.
    Inputs and outputs are RGB in [0, 255]: (B, 3, h, w) -> (B, 3, h*s, w*s).
    """

    def __init__(self, config: BLConfig, conv: Callable = conv, rb_conv: Callable = conv,
                 rg_conv: Callable = conv, upsampler: Callable | None = None):
        super().__init__()
        c = config
        self.config = c
        self.sub_mean = MeanShift(-1)
        self.head = conv(c.num_in_ch, c.num_feat, 3)
        self.body = nn.Sequential(
            *[ResidualGroup(c.num_feat, c.num_block, rb_conv, rg_conv) for _ in range(c.num_group)],
            rg_conv(c.num_feat, c.num_feat, 3),  # trunk tail, before the long skip
        )
        if upsampler is None:
            self.upsample = SubPixelUpsampler(c.scale, c.num_feat, conv_layer=conv)
        else:
            self.upsample = upsampler(c.scale, c.num_feat)
        self.tail = conv(c.num_feat, c.num_out_ch, 3)
        self.add_mean = MeanShift(+1)

    def forward_features(self, x):
        x = self.head(self.sub_mean(x))  # (B, 64, h, w)
        return x + self.body(x)  # long skip

    def forward(self, x):
        x = self.upsample(self.forward_features(x))  # (B, 64, h*s, w*s)
        return self.add_mean(self.tail(x))  # (B, 3, h*s, w*s)
