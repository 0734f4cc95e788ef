"""ESPCN: Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
Convolutional Neural Network", CVPR 2016, https://arxiv.org/abs/1609.05158.

    conv 5x5, 1 -> c1;  conv 3x3, c1 -> c2;  conv 3x3, c2 -> s^2;  PixelShuffle(s)

What differs from the paper: ReLU instead of tanh after the first two convs (hardware: a clamp, no
lookup table; the integer golden model fuses it into the requantization), trained with Adam on T91 (the
paper: 17x17 LR sub-images of T91 / ImageNet, SGD). The paper's widths (64, 32) need ~4.9 G Mult-Adds per
1280x720 x2 frame, over a 7020's 30 fps budget, so a narrower ESPCN is the one to ship for hardware.

Input and output are the Y channel in [0, 255], (B, 1, h, w) -> (B, 1, sh, sw).
"""

from torch import nn

from srhw.models.common import conv


class ESPCN(nn.Module):
    channels = 1

    def __init__(self, scale: int = 2, c1: int = 64, c2: int = 32):
        super().__init__()
        self.scale = scale
        self.body = nn.Sequential(
            conv(1, c1, 5), nn.ReLU(inplace=True), conv(c1, c2, 3), nn.ReLU(inplace=True), conv(c2, scale * scale, 3),
            nn.PixelShuffle(scale),
        )

    def forward(self, x):
        return self.body(x)

    def deploy(self):
        return self
