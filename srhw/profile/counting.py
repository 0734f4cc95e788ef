"""How much a zoo model costs, counted the way the paper counts (shared/design/architectures.md 1 and 7).

Nothing here runs the real compute: shapes come from a forward pass on meta tensors.

* params: every parameter tensor, the fixed MeanShift convs included (12 params each).
* Mult-Adds: for each conv that runs, output elements x (c_in/groups) x k_h x k_w (a transposed conv:
  input elements x its weights, FSRCNN's convention), recursions counted each time (torch's FlopCounterMode, which reports 2 FLOPs per MAC). Biases, activations, residual
  adds, channel-attention pooling/rescale and PixelShuffle are not counted. The CA 1x1 convs on a
  1x1 map are counted (negligible). Frame: 1280x720 output, LR = floor(1280/s) x 720/s.
* Table 5 ops (`count_ops`): for a sum-product conv per output pixel mults = r and
  adds = r (c_in k^2 / g - 1) + c_out (r / g - 1): dense ternary weights, n - 1 adds per dot product
  of n terms, no bias add. A plain conv (MeanShift, CA; all of bl) costs its MACs in mults and as
  many adds. With `sparse=True` the dot products run over the trained nonzero ternary weights only
  (a row with n nonzeros costs n - 1 adds, an all-zero row none); mults stay r per pixel, as the
  hardware keeps r multipliers.
"""

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from srhw.models import SumProductConv2d, build

FRAME_W, FRAME_H = 1280, 720  # the paper's 720p target ("All Mult-Adds are calculated by upscaling to a 720p image")


def lr_size(scale: int) -> tuple[int, int]:
    """(H, W) of the LR input for a 1280x720 output: x3 gives 240x426 (a 1278x720 output)."""
    return FRAME_H // scale, FRAME_W // scale


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def meta_model(spec: str, scale: int, **config) -> nn.Module:
    """The zoo model on the meta device; `config` overrides BLConfig widths/depths (small models)."""
    with torch.device("meta"):
        return build(spec, scale, **config)


def _meta_input(scale: int, channels: int = 3) -> torch.Tensor:
    h, w = lr_size(scale)
    return torch.empty(1, channels, h, w, device="meta")


def count_mult_adds(model: nn.Module, scale: int) -> int:
    """Conv MACs for one 720p frame. `model` may be on any device; it is run on a meta copy of the input."""
    model = model.to("meta") if next(model.parameters()).device.type != "meta" else model
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(_meta_input(scale, int(getattr(model, "channels", 3))))
    counts = fc.get_flop_counts()["Global"]
    conv_ops = {op: n for op, n in counts.items() if "convolution" in str(op)}
    assert set(counts) == set(conv_ops), f"unexpected counted ops {set(counts) - set(conv_ops)}"
    total = sum(conv_ops.values())
    assert total % 2 == 0
    return total // 2


def conv_runs(model: nn.Module, scale: int) -> dict[str, list[tuple[int, int]]]:
    """Every SP conv and every plain conv outside one, in execution order: name -> the (H, W) of its
    output at each run (recursions run a module several times), from a 720p forward pass on meta tensors.
    `model` must be on the meta device (`meta_model`)."""
    mods = dict(model.named_modules())
    runs: dict[str, list[tuple[int, int]]] = {}
    hooks = []
    for name, mod in mods.items():
        if isinstance(mod, SumProductConv2d) or (isinstance(mod, nn.Conv2d) and not _inside_sp(name, mods)):
            def hook(m, inp, out, name=name):
                runs.setdefault(name, []).extend([(out.shape[-2], out.shape[-1])] * out.shape[0])
            hooks.append(mod.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(_meta_input(scale, int(getattr(model, "channels", 3))))
    finally:
        for h in hooks:
            h.remove()
    return runs


def conv_pixels(model: nn.Module, scale: int) -> dict[str, int]:
    """Conv module name -> output pixels per 720p frame summed over all its runs (the one convs x pixels walk)."""
    return {name: sum(h * w for h, w in r) for name, r in conv_runs(model, scale).items()}


def sp_dense_adds(c_in: int, c_out: int, k: int, groups: int, r: int) -> int:
    """Table 5's adds per output pixel of a sum-product conv with dense ternary W_b, W_c (n - 1 per dot product):
    r (c_in k^2 / g - 1) + c_out (r / g - 1). The one copy of the formula."""
    return r * (c_in // groups * k * k - 1) + c_out * (r // groups - 1)


@dataclass
class OpCount:
    mults: int
    adds: int


def _dot_adds(codes: torch.Tensor) -> int:
    """Adds of the dot products of each output row over its nonzero ternary weights: sum(max(nnz - 1, 0))."""
    nnz = (codes.flatten(1) != 0).sum(1)
    return int((nnz - 1).clamp_min(0).sum())


def count_ops(spec: str, scale: int, model: nn.Module | None = None, sparse: bool = False, **config) -> OpCount:
    """Multiplications and additions per 720p frame, the paper's Table 5 convention.

    `model` carries trained weights for `sparse=True` (its SP convs' ternary codes are read);
    `config` gives the BLConfig overrides it was built with.
    """
    meta = meta_model(spec, scale, **config)
    pixels = conv_pixels(meta, scale)
    mods = dict((model or meta).named_modules())
    mults = adds = 0
    for name, p in pixels.items():
        mod = mods[name]
        if isinstance(mod, SumProductConv2d):
            r, g = mod.r, mod.groups
            mults += r * p
            if sparse:
                cb, _, cc, _ = mod.ternary()
                adds += (_dot_adds(cb) + _dot_adds(cc)) * p
            else:
                adds += sp_dense_adds(mod.in_ch, mod.out_ch, mod.kernel_size, g, r) * p
        else:
            macs = p * mod.out_channels * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
            mults += macs
            adds += macs  # n adds per dot product: n - 1 accumulations + 1 bias add
    return OpCount(mults, adds)


def _inside_sp(name: str, mods: dict) -> bool:
    parts = name.split(".")
    return any(isinstance(mods.get(".".join(parts[:i])), SumProductConv2d) for i in range(1, len(parts)))


@dataclass
class Tradeoff:
    mult_adds_saved_g: float  # G Mult-Adds saved per 0.01 dB PSNR lost
    params_saved_k: float  # K params saved per 0.01 dB PSNR lost


def tradeoff(ref_params, ref_mult_adds, ref_psnrs, params, mult_adds, psnrs) -> Tradeoff:
    """The paper's two trade-off metrics (section 3) against a reference (bl or bl-e).

    The PSNR loss is summed over the test sets (Set5, Set14, B100, Urban100) in units of 0.01 dB:
    Table 1's blrn(r=2) row is (231.2 - 106.5) G / 127 = 0.9819 with 127 = (0.25+0.21+0.16+0.65)/0.01.
    `params` and `mult_adds` are raw counts; the result is in G and K as the paper prints.
    """
    if len(ref_psnrs) != len(psnrs) or not psnrs:
        raise ValueError("need one PSNR per test set for both models")
    loss = sum(a - b for a, b in zip(ref_psnrs, psnrs)) / 0.01
    if loss <= 0:
        return Tradeoff(float("inf"), float("inf"))  # no PSNR lost: every saving is free
    return Tradeoff((ref_mult_adds - mult_adds) / 1e9 / loss, (ref_params - params) / 1e3 / loss)
