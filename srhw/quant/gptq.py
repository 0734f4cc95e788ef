"""Error-compensating rounding of int8 conv weights (GPTQ: Frantar et al., "OPTQ: Accurate Quantization for
Generative Pre-trained Transformers", ICLR 2023; after Optimal Brain Quantization, Frantar & Alistarh 2022).

Rounding each weight to its nearest int8 level ignores what the conv is fed: with natural-image inputs,
neighbouring taps see almost the same values, so their rounding errors add up coherently on the output.
GPTQ rounds a conv's im2col columns one at a time and moves the columns not yet rounded to absorb the error,
minimising ||(W_q - W) X||^2 on calibration inputs X through the inverse of H = X X^T. Here the target is the
float network's conv output and X the integer network's input to that conv (Frantar et al. use the
quantized input for both): least squares on the quantized input first, W* = W X_f X_q^T H^-1, so each conv
also absorbs the error its already-rounded predecessors pass on; then GPTQ rounds W*. Convs run in graph
order on the per-channel scales fixed at calibration, so the export needs nothing new: the weights are
left on their int8 grid and QuantNet reads the same codes. Measured on FSRCNN-s (models/ card) it recovers
most of what nearest rounding of the 5x5 sub-pixel tail loses.
"""

import copy

import torch
import torch.nn.functional as F

from srhw.quant.fakequant import QuantNet
from srhw.quant.trace import run_float


def _columns(t, k, padding, groups, g):
    """im2col of group `g` of `t` (B, C, H, W) for a k x k conv: (C/groups * k * k, B * H' * W')."""
    c = t.shape[1] // groups
    cols = F.unfold(t[:, g * c:(g + 1) * c], k, padding=padding)
    return cols.permute(1, 0, 2).reshape(cols.shape[1], -1)


def _conditioned(h, rel: float):
    """H with a 1 on the diagonal of every tap the calibration never drove (a zero row) and rel x its mean
    diagonal added (dampening), and the mask of those dead taps."""
    dead = torch.diag(h) == 0
    h = h.clone()
    h[dead, dead] = 1.0
    return h + rel * torch.diag(h).mean() * torch.eye(h.shape[0], dtype=h.dtype), dead


def round_columns(w, scale, h, qmax: int, damp: float):
    """GPTQ of one weight matrix `w` (rows: output channels, columns: im2col taps) on the grid `scale` (per row),
    given H = X X^T of its inputs. Returns the rounded weights (multiples of `scale`, codes within +-qmax)."""
    w = w.clone()
    h, _ = _conditioned(h, damp)  # a tap that never sees a nonzero input: any value is exact, round it plainly
    u = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)  # H^-1 = U^T U
    q = torch.zeros_like(w)
    for i in range(w.shape[1]):
        q[:, i] = (w[:, i] / scale).round().clamp(-qmax, qmax) * scale
        err = (w[:, i] - q[:, i]) / u[i, i]
        w[:, i:] -= err[:, None] * u[i, i:][None, :]
    return q


def _least_squares(w, c, h):
    """argmin_A ||A X_q - W X_f||^2 = W C H^-1 (C = X_f X_q^T), lightly regularised; a tap the calibration
    never drove (zero row of H) keeps its float weight: nothing says what it should be."""
    h, dead = _conditioned(h, 1e-6)
    a = torch.linalg.solve(h, (w @ c).T).T
    a[:, dead] = w[:, dead]
    return a


@torch.no_grad()
def gptq(qnet: QuantNet, batches, damp: float = 0.01) -> list[dict]:
    """Round the weights of `qnet`'s convs (qnet.model's, in place) by GPTQ against the float network as it
    stands before (a copy of qnet.model), on calibration `batches`. Returns one record per conv: the
    squared error of its output against the float network's, ||W_q X_q - W X_f||^2 summed over the batches
    (before bias and activation), with nearest and with GPTQ rounding."""
    graph, model = qnet.graph, qnet.model
    reference = copy.deepcopy(model)  # the float weights every conv's rounding aims at
    qmax = 2 ** (qnet.cfg.weight_bits - 1) - 1
    out, seen = [], set()
    for n in graph.nodes:
        if n.op != "conv" or n.attrs.get("meanshift") or n.module in seen:
            continue
        seen.add(n.module)  # a module run several times (ERUM's recursion) is rounded once, for its first run
        conv = model.get_submodule(n.module)
        src, s_in = n.inputs[0], qnet.specs[n.inputs[0]].scale
        k, pad, groups = conv.weight.shape[2], tuple(n.attrs["padding"]), n.attrs["groups"]
        hs = [0.0] * groups
        cs = [0.0] * groups
        fs = [0.0] * groups
        for x in batches:
            got = {}
            qnet(x.float(), lambda name, t: got.__setitem__(name, t) if name == src else None)
            xq = torch.floor(x.double() + 0.5).clamp(0, 255) if src == "input" else got[src]
            xf = {}
            run_float(graph, reference, x.float(), lambda name, t: xf.__setitem__(name, t) if name == src else None)
            xf = x.double() if src == "input" else xf[src].double()
            for g in range(groups):
                cq = _columns(xq.double() * s_in, k, pad, groups, g)
                hs[g] = hs[g] + cq @ cq.T
                cf = _columns(xf, k, pad, groups, g)
                cs[g] = cs[g] + cf @ cq.T
                fs[g] = fs[g] + cf @ cf.T
        w_all = reference.get_submodule(n.module).weight.double()
        sw_all = qnet.wscale[n.module].double()
        rows = w_all.shape[0] // groups
        new, err_near, err_gptq = torch.empty_like(w_all), 0.0, 0.0
        for g in range(groups):
            sl = slice(g * rows, (g + 1) * rows)
            w, sw, h = w_all[sl].reshape(rows, -1), sw_all[sl], hs[g]
            target = _least_squares(w, cs[g], h)
            q = round_columns(target, sw.view(-1), h, qmax, damp)
            near = (w / sw.view(-1, 1)).round().clamp(-qmax, qmax) * sw.view(-1, 1)
            wc, base = w @ cs[g], float(torch.einsum("oi,ij,oj->", w, fs[g], w))
            e = lambda a: float(torch.einsum("oi,ij,oj->", a, h, a)) - 2 * float((a * wc).sum()) + base  # noqa: E731
            err_near, err_gptq = err_near + e(near), err_gptq + e(q)
            new[sl] = q.reshape(new[sl].shape)
        conv.weight.copy_(new.to(conv.weight.dtype))
        out.append({"node": n.name, "error_nearest": err_near, "error_gptq": err_gptq})
    return out
