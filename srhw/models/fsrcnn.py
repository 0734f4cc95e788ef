"""FSRCNN: Dong, Loy and Tang, "Accelerating the Super-Resolution Convolutional Neural Network", ECCV 2016,
https://arxiv.org/abs/1608.00367.

    feature extraction  conv 5x5, 1 -> d
    shrinking           conv 1x1, d -> s
    mapping             m x conv 3x3, s -> s
    expanding           conv 1x1, s -> d
    deconvolution       9x9 transposed conv, d -> 1, stride = scale

What differs from the paper, and why:
* ReLU instead of PReLU after every conv (the integer golden model and the hardware lowerings clamp at 0;
  a per-channel PReLU slope would need a second requantization per pixel).
* Trained with Adam on T91 only (the paper: SGD, T91 + General100, then fine-tuning); see the model card.
* The deconvolution is how the model trains; hardware runs `to_subpixel()`: a stride-s transposed conv
  equals s^2 small convs on the LR grid, one per output phase, followed by a pixel shuffle
  (`deconv_to_subpixel`, exact to float rounding).

Input and output are the Y channel (MATLAB rgb2ycbcr luma) in [0, 255], shape (B, 1, h, w) -> (B, 1, sh, sw).
"""

import math

import torch
from torch import nn

from srhw.models.common import conv

DECONV_K = 9  # the paper's 9x9 deconvolution


class FSRCNN(nn.Module):
    channels = 1

    def __init__(self, scale: int = 2, d: int = 56, s: int = 12, m: int = 4):
        super().__init__()
        self.scale, self.d, self.s, self.m = scale, d, s, m
        body = [conv(1, d, 5), nn.ReLU(inplace=True), conv(d, s, 1), nn.ReLU(inplace=True)]
        for _ in range(m):
            body += [conv(s, s, 3), nn.ReLU(inplace=True)]
        body += [conv(s, d, 1), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*body)
        p = DECONV_K // 2
        self.deconv = nn.ConvTranspose2d(d, 1, DECONV_K, stride=scale, padding=p, output_padding=scale - 1)
        nn.init.normal_(self.deconv.weight, std=1e-3)  # the paper's deconv init: N(0, 0.001)
        nn.init.zeros_(self.deconv.bias)

    def forward(self, x):
        return self.deconv(self.body(x))

    def deploy(self) -> nn.Module:
        """The same network with the deconvolution as an LR-grid conv + pixel shuffle (for export)."""
        return FSRCNNSubpixel.from_fsrcnn(self)


class FSRCNNSubpixel(nn.Module):
    """FSRCNN with its tail as conv(d -> s^2, K x K on the LR grid) + PixelShuffle(s): what hardware runs."""

    channels = 1

    def __init__(self, scale: int = 2, d: int = 56, s: int = 12, m: int = 4):
        super().__init__()
        self.scale, self.d, self.s, self.m = scale, d, s, m
        ref = FSRCNN(scale, d, s, m)
        self.body = ref.body
        k = subpixel_kernel_size(DECONV_K, scale, DECONV_K // 2)
        self.tail = conv(d, scale * scale, k)
        self.shuffle = nn.PixelShuffle(scale)

    @classmethod
    def from_fsrcnn(cls, net: FSRCNN):
        out = cls(net.scale, net.d, net.s, net.m).to(net.deconv.weight.dtype)
        out.body.load_state_dict(net.body.state_dict())
        w, b = deconv_to_subpixel(net.deconv.weight.detach(), net.deconv.bias.detach(), net.scale, net.deconv.padding[0])
        with torch.no_grad():
            out.tail.weight.copy_(w)
            out.tail.bias.copy_(b)
        for attr in ("spec",):
            if hasattr(net, attr):
                setattr(out, attr, getattr(net, attr))
        return out

    def forward(self, x):
        return self.shuffle(self.tail(self.body(x)))

    def deploy(self) -> nn.Module:
        return self


def _tap_range(k, s, p, a):
    """LR offsets u with a deconv tap: output phase a of LR pixel i reads x[i + u] through w[a + p - s u]."""
    return math.ceil((a + p - (k - 1)) / s), math.floor((a + p) / s)


def subpixel_kernel_size(k: int, s: int, p: int) -> int:
    """Smallest odd 'same' kernel K covering every phase's taps of a k x k, stride-s, padding-p deconv."""
    r = max(max(abs(lo), abs(hi)) for a in range(s) for lo, hi in [_tap_range(k, s, p, a)])
    return 2 * r + 1


def deconv_to_subpixel(weight: torch.Tensor, bias: torch.Tensor, s: int, p: int):
    """Convert ConvTranspose2d(c_in, c_out, k, stride=s, padding=p, output_padding=s-1) weights into an
    equivalent 'same' conv c_in -> c_out*s^2 (K x K) on the LR grid followed by PixelShuffle(s).

    Transposed conv: y[s i + a] = sum_j x[j] w[s i + a + p - s j]. With u = j - i, phase a of LR pixel i is
    y_a[i] = sum_u x[i + u] w[a + p - s u]: an ordinary correlation with kernel w[a + p - s u] over u.
    Returns (weight (c_out*s^2, c_in, K, K), bias (c_out*s^2,)) in PixelShuffle's channel order c*s^2 + ay*s + ax.
    """
    c_in, c_out, k, _ = weight.shape
    kk = subpixel_kernel_size(k, s, p)
    r = kk // 2
    out = weight.new_zeros(c_out, s, s, c_in, kk, kk)
    for ay in range(s):
        for ax in range(s):
            for uy in range(-r, r + 1):
                ty = ay + p - s * uy
                if not 0 <= ty < k:
                    continue
                for ux in range(-r, r + 1):
                    tx = ax + p - s * ux
                    if 0 <= tx < k:
                        out[:, ay, ax, :, uy + r, ux + r] = weight[:, :, ty, tx].T
    return out.reshape(c_out * s * s, c_in, kk, kk), bias.repeat_interleave(s * s)
