"""The efficiency units of Table 1, each standing in for one 3x3 64->64 conv (same width in and out).

Every unit follows its source design with BatchNorm removed and no activation after its last conv
(the RCAB's own ReLU stays); only the unit's last conv has a bias (architectures.md section 5:
this is the one rule that reproduces every Table 1 row). Params and MACs per pixel at 64 channels
are in that table; tests check them.
"""

import torch
from torch import nn

from srhw.core.errors import SrhwError

from srhw.models.common import ChannelShuffle, conv


def _check(cond: bool, msg: str):
    if not cond:
        raise SrhwError(msg)


class Bottleneck(nn.Module):
    """blrn(r) / blrxn(r, g): ResNet bottleneck (He et al. 2016), ResNeXt when the 3x3 is grouped.

    1x1 C->C/r -> ReLU -> 3x3 C/r->C/r (g groups) -> ReLU -> 1x1 C/r->C (bias), plus identity.
    """

    def __init__(self, ch: int, r: int = 2, g: int = 1):
        super().__init__()
        _check(r >= 1 and ch % r == 0, f"bottleneck reduction r={r} must divide {ch} channels")
        w = ch // r
        _check(g >= 1 and w % g == 0, f"groups g={g} must divide the bottleneck width {w}")
        self.body = nn.Sequential(
            conv(ch, w, 1, bias=False), nn.ReLU(inplace=True),
            conv(w, w, 3, groups=g, bias=False), nn.ReLU(inplace=True),
            conv(w, ch, 1),
        )

    def forward(self, x):
        return x + self.body(x)


class DepthwiseSeparable(nn.Sequential):
    """blm1: MobileNet v1 unit (Howard et al. 2017): 3x3 depthwise -> ReLU -> 1x1 pointwise (bias)."""

    def __init__(self, ch: int):
        super().__init__(conv(ch, ch, 3, groups=ch, bias=False), nn.ReLU(inplace=True), conv(ch, ch, 1))


class EffNetUnit(nn.Sequential):
    """bleff(r): EffNet unit (Freeman et al. 2018) without pooling; the strided 2x1 conv is a plain 1x1.

    1x1 C->C/r -> ReLU -> 1x3 depthwise -> 3x1 depthwise -> ReLU -> 1x1 C/r->C (bias).
    """

    def __init__(self, ch: int, r: int = 2):
        _check(r >= 1 and ch % r == 0, f"EffNet reduction r={r} must divide {ch} channels")
        w = ch // r
        super().__init__(
            conv(ch, w, 1, bias=False), nn.ReLU(inplace=True),
            conv(w, w, (1, 3), groups=w, bias=False), conv(w, w, (3, 1), groups=w, bias=False),
            nn.ReLU(inplace=True), conv(w, ch, 1),
        )


class ShuffleV1Unit(nn.Module):
    """bls1(r, g): ShuffleNet v1 unit (Zhang et al. 2017), stride 1.

    1x1 grouped C->C/r (g groups) -> ReLU -> shuffle(g) -> 3x3 depthwise -> 1x1 grouped C/r->C (g, bias), plus identity.
    """

    def __init__(self, ch: int, r: int = 2, g: int = 4):
        super().__init__()
        _check(r >= 1 and ch % r == 0, f"ShuffleNet reduction r={r} must divide {ch} channels")
        w = ch // r
        _check(g >= 1 and ch % g == 0 and w % g == 0, f"groups g={g} must divide {ch} and {w} channels")
        self.body = nn.Sequential(
            conv(ch, w, 1, groups=g, bias=False), nn.ReLU(inplace=True), ChannelShuffle(g),
            conv(w, w, 3, groups=w, bias=False), conv(w, ch, 1, groups=g),
        )

    def forward(self, x):
        return x + self.body(x)


class ClcUnit(nn.Sequential):
    """blclc(g1, g2): ClcNet unit (Zhang 2017): 3x3 grouped conv (g1) -> ReLU -> interlace (shuffle g1) -> 1x1 grouped (g2, bias)."""

    def __init__(self, ch: int, g1: int = 32, g2: int = 2):
        _check(g1 >= 1 and ch % g1 == 0, f"groups g1={g1} must divide {ch} channels")
        _check(g2 >= 1 and ch % g2 == 0, f"groups g2={g2} must divide {ch} channels")
        super().__init__(conv(ch, ch, 3, groups=g1, bias=False), nn.ReLU(inplace=True), ChannelShuffle(g1),
                         conv(ch, ch, 1, groups=g2))


class ShuffleV2Unit(nn.Module):
    """bls2: ShuffleNet v2 unit (Ma et al. 2018), stride 1: channel split, one branch convolved, concat, shuffle(2).

    Branch on the second half: 1x1 -> ReLU -> 3x3 depthwise -> 1x1 (bias) -> ReLU. No additive skip.
    """

    def __init__(self, ch: int):
        super().__init__()
        _check(ch % 2 == 0, f"channel split needs an even width, got {ch}")
        h = ch // 2
        self.branch = nn.Sequential(
            conv(h, h, 1, bias=False), nn.ReLU(inplace=True), conv(h, h, 3, groups=h, bias=False),
            conv(h, h, 1), nn.ReLU(inplace=True),
        )
        self.shuffle = ChannelShuffle(2)

    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        return self.shuffle(torch.cat([a, self.branch(b)], dim=1))


class InvertedResidual(nn.Module):
    """blm2(e): MobileNet v2 inverted residual (Sandler et al. 2018), stride 1, expansion e.

    1x1 C->eC -> ReLU6 -> 3x3 depthwise eC -> ReLU6 -> 1x1 eC->C (bias, linear), plus identity.
    """

    def __init__(self, ch: int, e: int = 2):
        super().__init__()
        _check(e >= 1, f"expansion e={e} must be >= 1")
        w = ch * e
        self.body = nn.Sequential(
            conv(ch, w, 1, bias=False), nn.ReLU6(inplace=True), conv(w, w, 3, groups=w, bias=False),
            nn.ReLU6(inplace=True), conv(w, ch, 1),
        )

    def forward(self, x):
        return x + self.body(x)


