"""SESR: Bhardwaj et al., "Collapsible Linear Blocks for Super-Efficient Super Resolution", MLSys 2022,
https://arxiv.org/abs/2103.09404 (SESR-M<m> at f = 16 features; SESR-S/M/L/XL differ in f and m).

    first   linear block 5x5, 1 -> f, ReLU                 (kept as x0)
    m x     linear block 3x3, f -> f with a short residual, ReLU
    long residual: + x0
    last    linear block 5x5, f -> s^2
    + the input repeated s^2 times (nearest-neighbour upsampling after the shuffle), PixelShuffle(s)

A linear block is a k x k conv c_in -> p followed by a 1 x 1 conv p -> c_out with nothing in between, so it
collapses exactly into one k x k conv c_in -> c_out (W = W2 W1, b = W2 b1 + b2), and a short residual
folds into that conv as an identity centre tap. `SESR` holds the expanded weights and, as the paper's
efficient training does, convolves with the collapsed weight it computes from them in every forward pass:
the function and its gradients are those of the expanded network, at the cost of the collapsed one.
`deploy()` returns `SESRCollapsed`, a plain conv network (what the golden model and hardware run).

What differs from the paper: ReLU instead of PReLU (hardware: a clamp), trained on T91 only (the paper:
DIV2K), one PixelShuffle(s) for x4 too. The expansion p defaults to the paper's 256: training cost does
not depend on it here (only the tiny weight product does).

`SESRTernary` (`st_sesr`) is the collapsed network with every conv a StrassenNets sum-product conv
(srhw.models.sum_product), the short residuals explicit: a multiplier-free real-time network.
Input and output are the Y channel in [0, 255], (B, 1, h, w) -> (B, 1, sh, sw).
"""

import torch
import torch.nn.functional as F
from torch import nn

from srhw.models.common import conv
from srhw.models.sum_product import SumProductConv2d

EXPANSION = 256  # the paper's p


class LinearBlock(nn.Module):
    """k x k conv c_in -> p (no bias), then 1 x 1 conv p -> c_out (bias), optionally + x; run collapsed."""

    def __init__(self, c_in: int, c_out: int, k: int, p: int = EXPANSION, residual: bool = False):
        super().__init__()
        assert not residual or c_in == c_out
        self.c_in, self.c_out, self.k, self.residual = c_in, c_out, k, residual
        self.expand = nn.Conv2d(c_in, p, k, padding=k // 2, bias=False)
        self.project = nn.Conv2d(p, c_out, 1)

    def collapsed(self):
        """(weight (c_out, c_in, k, k), bias (c_out,)) of the one conv this block equals."""
        w = torch.einsum("op,pikl->oikl", self.project.weight[:, :, 0, 0], self.expand.weight)
        if self.residual:
            eye = torch.zeros_like(w)
            eye[torch.arange(self.c_out), torch.arange(self.c_out), self.k // 2, self.k // 2] = 1.0
            w = w + eye
        return w, self.project.bias

    def forward(self, x):
        w, b = self.collapsed()
        return F.conv2d(x, w, b, padding=self.k // 2)

    def to_conv(self) -> nn.Conv2d:
        c = conv(self.c_in, self.c_out, self.k)
        w, b = self.collapsed()
        with torch.no_grad():
            c.weight.copy_(w)
            c.bias.copy_(b)
        return c


class Residual(nn.Module):
    """x + body(x) (the explicit form of a short residual)."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class _SESRBase(nn.Module):
    channels = 1

    def _setup(self, scale, f, m, make):
        self.scale, self.f, self.m = scale, f, m
        self.first = make(1, f, 5, False)
        self.blocks = nn.ModuleList([make(f, f, 3, True) for _ in range(m)])
        self.last = make(f, scale * scale, 5, False)
        self.shuffle = nn.PixelShuffle(scale)
        self.act = nn.ReLU()  # a module, not F.relu: the quantizer's tracer fuses it into the conv before

    def forward(self, x):
        x0 = self.act(self.first(x))
        h = x0
        for b in self.blocks:
            h = self.act(b(h))
        h = self.last(h + x0)
        return self.shuffle(h + torch.cat([x] * (self.scale * self.scale), dim=1))


class SESR(_SESRBase):
    """SESR in its training form: linear blocks of expansion p."""

    def __init__(self, scale: int = 2, f: int = 16, m: int = 5, p: int = EXPANSION):
        super().__init__()
        self.p = p
        self._setup(scale, f, m, lambda i, o, k, res: LinearBlock(i, o, k, p, residual=res))

    def project_dtype(self):
        return self.first.project.weight.dtype

    def deploy(self) -> "SESRCollapsed":
        out = SESRCollapsed(self.scale, self.f, self.m).to(self.project_dtype())
        with torch.no_grad():
            for dst, src in zip(out.convs(), [self.first, *self.blocks, self.last]):
                w, b = src.collapsed()
                dst.weight.copy_(w)
                dst.bias.copy_(b)
        if hasattr(self, "spec"):
            out.spec = self.spec
        return out


class SESRCollapsed(_SESRBase):
    """SESR for inference and export: m + 2 plain convs, short residuals folded into the weights."""

    def __init__(self, scale: int = 2, f: int = 16, m: int = 5):
        super().__init__()
        self._setup(scale, f, m, lambda i, o, k, res: conv(i, o, k))

    def convs(self):
        return [self.first, *self.blocks, self.last]

    def deploy(self):
        return self


class SESRTernary(_SESRBase):
    """st_sesr: SESRCollapsed with every conv a sum-product conv of hidden width r = r_mult * c_out."""

    def __init__(self, scale: int = 2, f: int = 16, m: int = 5, r_mult: int = 2):
        super().__init__()

        def make(i, o, k, res):
            sp = SumProductConv2d(i, o, k, r=r_mult * o)
            return Residual(sp) if res else sp

        self._setup(scale, f, m, make)

    def sp_convs(self):
        return [self.first, *(b.body for b in self.blocks), self.last]

    def init_from_float(self, net):
        """Start from a trained float SESR (either form): each sum-product conv takes the collapsed conv at its
        place (its identity centre tap removed where the residual is explicit here) as a residual ternary
        expansion (SumProductConv2d.init_from_conv)."""
        src = net.deploy() if hasattr(net, "deploy") else net
        if not isinstance(src, SESRCollapsed) or (src.scale, src.f, src.m) != (self.scale, self.f, self.m):
            raise ValueError(f"needs a float sesr(f={self.f}, m={self.m}) x{self.scale}")
        with torch.no_grad():
            for i, (dst, c) in enumerate(zip(self.sp_convs(), src.convs())):
                c = conv(c.in_channels, c.out_channels, c.kernel_size[0]).requires_grad_(False)
                c.load_state_dict(src.convs()[i].state_dict())
                if 0 < i <= self.m:
                    k = c.kernel_size[0] // 2
                    c.weight[torch.arange(self.f), torch.arange(self.f), k, k] -= 1.0
                dst.init_from_conv(c)

    def deploy(self):
        return self
