"""StrassenNets sum-product convolution (Tschannen et al., "StrassenNets: Deep Learning with a
Multiplication Budget", ICML 2018, https://arxiv.org/abs/1712.02346), as the study uses it (section 5.2).

A k x k conv c_in -> c_out becomes
    h = W_b * x          ternary k x k conv c_in -> r, no bias       (adds only)
    h = a (.) h          r learned per-channel scalars               (the r multiplications)
    y = W_c h + bias     ternary 1 x 1 conv r -> c_out               (adds only)
with r = m * c_out (Table 5: m = 1, 2, 4, 6).

Two modes: "full" trains W_b, W_c in full precision; "ternary" uses TWN-style ternarisation
(Li & Liu 2016): threshold delta = 0.7 * mean|W|, t = sign(W) * [|W| > delta], scale
alpha = mean of |W| over the kept weights, effective weight alpha * t, straight-through gradient.
W_b gets one alpha per hidden channel and W_c one alpha for the whole tensor, so both fold exactly
into a: the layer still performs exactly r multiplications per output pixel. `freeze()` fixes the
ternary codes (the paper's last 10 epochs train only a and the bias).
"""

import torch
import torch.nn.functional as F
from torch import nn

TWN_THRESHOLD = 0.7  # delta = 0.7 * E|W|, Li & Liu 2016, eq. (7)


def ternarize(w: torch.Tensor, dims, threshold: float = TWN_THRESHOLD):
    """Return (codes in {-1,0,+1}, alpha) with alpha reduced over `dims` (kept for broadcasting)."""
    delta = threshold * w.abs().mean(dim=dims, keepdim=True)
    codes = torch.sign(w) * (w.abs() > delta)
    kept = codes.abs().sum(dim=dims, keepdim=True).clamp_min(1)
    alpha = (w.abs() * codes.abs()).sum(dim=dims, keepdim=True) / kept
    return codes, alpha


class SumProductConv2d(nn.Module):
    """A sum-product conv standing in for nn.Conv2d(in_ch, out_ch, k, padding=k//2).

    Args:
        in_ch, out_ch (int): channels.
        kernel_size (int): k of the ternary k x k conv.
        r (int): hidden width (multiplications per output pixel).
        groups (int): groups of both ternary convs (StrassenNets' option). Default 1.
        bias (bool): bias after W_c. Default True.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 3, r: int = 64, groups: int = 1, bias: bool = True):
        super().__init__()
        assert in_ch % groups == 0 and r % groups == 0 and out_ch % groups == 0, "groups must divide in_ch, r, out_ch"
        self.in_ch, self.out_ch, self.kernel_size, self.r, self.groups = in_ch, out_ch, kernel_size, r, groups
        self.weight_b = nn.Parameter(torch.empty(r, in_ch // groups, kernel_size, kernel_size))
        self.scale = nn.Parameter(torch.ones(r))  # a: the r per-channel multiplies
        self.weight_c = nn.Parameter(torch.empty(out_ch, r // groups, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None
        # Persistent state, so a checkpoint says how the layer computes: 0 full precision, 1 ternary,
        # 2 ternary with the codes fixed by freeze() (then frozen_b/frozen_c hold them).
        self.register_buffer("quant_state", torch.tensor(0, dtype=torch.uint8))
        self.register_buffer("frozen_b", torch.zeros(self.weight_b.shape, dtype=torch.int8))
        self.register_buffer("frozen_c", torch.zeros(self.weight_c.shape, dtype=torch.int8))
        self.reset_parameters()

    @property
    def mode(self) -> str:
        """"full" or "ternary" (frozen layers are ternary too; see `frozen`)."""
        return "full" if self._state() == 0 else "ternary"

    @mode.setter
    def mode(self, value: str):
        if value not in ("full", "ternary"):
            raise ValueError(f"mode must be 'full' or 'ternary', not {value!r}")
        if self.frozen and value == "full":
            raise ValueError("a frozen layer stays ternary")
        self.quant_state.fill_(0 if value == "full" else max(1, self._state()))

    @property
    def frozen(self) -> bool:
        return self._state() == 2

    def _state(self) -> int:
        return 0 if self.quant_state.is_meta else int(self.quant_state)

    def reset_parameters(self):
        nn.init.kaiming_uniform_(self.weight_b, a=5 ** 0.5)
        nn.init.kaiming_uniform_(self.weight_c, a=5 ** 0.5)
        if self.bias is not None and not self.bias.is_meta:
            fan_in = self.in_ch // self.groups * self.kernel_size ** 2
            nn.init.uniform_(self.bias, -fan_in ** -0.5, fan_in ** -0.5)

    @torch.no_grad()
    def init_from_conv(self, conv: nn.Conv2d):
        """Approximate `conv` with m = r // c_out ternary terms: a greedy residual ternary expansion.

        Hidden block k (c_out rows) holds alpha_k * T_k, the TWN ternarisation of what blocks 0..k-1 left of
        conv's filters (one alpha per filter); W_c = [I | I | ... | I], a = 1, same bias. Both modes compute
        the same sum_k alpha_k T_k * x + bias: TWN of alpha * T gives back T and alpha exactly. More terms,
        smaller error (m = 1 is plain TWN of each filter). Needs r >= c_out, groups 1 and the same k.
        """
        k = self.kernel_size
        if (conv.in_channels, conv.out_channels, conv.kernel_size, conv.groups) != (self.in_ch, self.out_ch, (k, k), 1) \
                or self.groups != 1 or self.r < self.out_ch:
            raise ValueError(f"cannot initialise {self.extra_repr()} from {conv}")
        c, m = self.out_ch, self.r // self.out_ch
        self.weight_b.zero_()
        self.weight_c.zero_()
        residual = conv.weight.detach().clone()
        eye = torch.arange(c)
        for t in range(m):
            codes, alpha = ternarize(residual, dims=(1, 2, 3))
            self.weight_b[t * c:(t + 1) * c] = alpha * codes
            residual -= alpha * codes
            self.weight_c[eye, t * c + eye] = 1.0
        self.scale.fill_(1.0)
        if self.bias is not None:
            self.bias.copy_(conv.bias if conv.bias is not None else torch.zeros_like(self.bias))

    def ternary(self):
        """(codes_b, alpha_b (r,1,1,1), codes_c, alpha_c (1,1,1,1)): the ternary decomposition in use."""
        if self.frozen:
            cb, cc = self.frozen_b.to(self.weight_b.dtype), self.frozen_c.to(self.weight_c.dtype)
            ab = (self.weight_b.abs() * cb.abs()).sum((1, 2, 3), keepdim=True) / cb.abs().sum((1, 2, 3), keepdim=True).clamp_min(1)
            ac = (self.weight_c.abs() * cc.abs()).sum() / cc.abs().sum().clamp_min(1)
            return cb, ab, cc, ac.view(1, 1, 1, 1)
        cb, ab = ternarize(self.weight_b, dims=(1, 2, 3))
        cc, ac = ternarize(self.weight_c, dims=(0, 1, 2, 3))
        return cb, ab, cc, ac

    def effective_weights(self):
        """The W_b and W_c the forward pass uses: full precision, or alpha * codes with an STE gradient."""
        if self.mode == "full":
            return self.weight_b, self.weight_c
        cb, ab, cc, ac = self.ternary()
        wb = self.weight_b + (ab * cb - self.weight_b).detach()
        wc = self.weight_c + (ac * cc - self.weight_c).detach()
        return wb, wc

    def folded(self):
        """(codes_b int8, folded scale (r,), codes_c int8, bias): y = W_c(a' (.) (W_b * x)) + bias exactly."""
        cb, ab, cc, ac = self.ternary()
        a = self.scale * ab.view(-1) * ac.view(())
        return cb.to(torch.int8), a, cc.to(torch.int8), self.bias

    @torch.no_grad()
    def freeze(self):
        """Fix the current ternary codes; afterwards only alpha (through W magnitudes), a and bias move."""
        cb, _, cc, _ = self.ternary()
        self.frozen_b.copy_(cb.to(torch.int8))
        self.frozen_c.copy_(cc.to(torch.int8))
        self.quant_state.fill_(2)

    def forward(self, x):
        wb, wc = self.effective_weights()
        h = F.conv2d(x, wb, padding=self.kernel_size // 2, groups=self.groups)  # (B, r, H, W)
        h = h * self.scale.view(1, -1, 1, 1)
        return F.conv2d(h, wc, self.bias, groups=self.groups)  # (B, out_ch, H, W)

    def extra_repr(self):
        return f"{self.in_ch}, {self.out_ch}, kernel_size={self.kernel_size}, r={self.r}, groups={self.groups}, mode={self.mode}"


def freeze_all(model: torch.nn.Module) -> torch.nn.Module:
    """`freeze()` every sum-product conv of `model` (fix its current ternary codes); returns `model`."""
    for m in model.modules():
        if isinstance(m, SumProductConv2d):
            m.freeze()
    return model
