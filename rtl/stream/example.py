"""Small integer graphs with random int8 weights, for developing and testing the stream compiler.

`random_graph` builds an IntGraph the golden executor runs (srhw.quant.golden): 1-channel uint8 in,
conv5x5 -> ReLU conv3x3 -> residual add -> act clamp -> conv3x3 to r*r channels -> pixel_shuffle,
uint8 out. Multipliers and shifts are picked from the weights' spread so outputs use their range
rather than saturating. Labelled random: no trained figure ever comes from these.
"""

from __future__ import annotations

import numpy as np

from srhw.quant.bounds import annotate_bounds
from srhw.quant.fixedpoint import multiplier
from srhw.quant.graph import IntGraph, QNode, TensorSpec


def _conv(rng, arrays, name, src, c_in, c_out, k, x_std, out_lo, out_hi, target_std):
    W = rng.integers(-127, 128, (c_out, c_in, k, k)).astype(np.int8)
    acc_std = np.sqrt(c_in * k * k) * 73.0 * x_std  # uniform int8 weights: std ~ 73
    B = rng.integers(-int(acc_std), int(acc_std) + 1, c_out).astype(np.int64)
    ms = [multiplier(target_std / acc_std * rng.uniform(0.5, 2.0)) for _ in range(c_out)]
    arrays[f"{name}/W"], arrays[f"{name}/B"] = W, B
    arrays[f"{name}/M"] = np.array([a for a, _ in ms], np.int64)
    arrays[f"{name}/SH"] = np.array([b for _, b in ms], np.int64)
    attrs = {"groups": 1, "padding": [k // 2, k // 2], "kernel": [k, k], "out_lo": out_lo, "out_hi": out_hi}
    return QNode(name, "conv", [src], attrs, {r: f"{name}/{r}" for r in ("W", "B", "M", "SH")})


def random_graph(seed: int = 0, c: int = 4, r: int = 2, k_head: int = 5, residual: bool = True,
                 input_skip: bool = False, c_body: int | None = None, pointwise: bool = False) -> IntGraph:
    """`input_skip`: SESR's tail, the input repeated r*r times (concat) added before the shuffle.
    `c_body`: the body conv's output channels (ESPCN's c2; default c, with the residual needing c).
    `pointwise`: a 1x1 conv (FSRCNN's shrink/expand) before the tail."""
    rng = np.random.default_rng(seed)
    arrays, nodes = {}, []
    u8, s8 = TensorSpec(8, False, 1.0), TensorSpec(8, True, 1.0)
    tensors = {"input": u8}
    nodes.append(_conv(rng, arrays, "head", "input", 1, c, k_head, 70.0, 0, 127, 40.0))
    tensors["head"] = s8
    cb = c_body or c
    nodes.append(_conv(rng, arrays, "body", "head", c, cb, 3, 40.0, 0, 127, 40.0))
    tensors["body"] = s8
    last = "body"
    if residual and cb == c:
        nodes.append(QNode("add", "add", ["head", "body"], {"MA": 3, "MB": 5, "SH": 3}))
        tensors["add"] = s8
        nodes.append(QNode("act", "act", ["add"], {"out_lo": 0, "out_hi": 100}))
        tensors["act"] = s8
        last = "act"
    if pointwise:
        nodes.append(_conv(rng, arrays, "pw", last, cb, cb, 1, 40.0, 0, 127, 40.0))
        tensors["pw"] = s8
        last = "pw"
    nodes.append(_conv(rng, arrays, "tail", last, cb, r * r, 3, 40.0, 0, 255, 60.0))
    tensors["tail"] = u8
    last = "tail"
    if input_skip:
        nodes.append(QNode("rep", "concat", ["input"] * (r * r)))
        tensors["rep"] = u8
        nodes.append(QNode("skip", "add", ["tail", "rep"], {"MA": 1, "MB": 1, "SH": 1}))
        tensors["skip"] = u8
        last = "skip"
    nodes.append(QNode("shuffle", "pixel_shuffle", [last], {"r": r}))
    tensors["shuffle"] = u8
    g = IntGraph(nodes, tensors, arrays, "shuffle", {"in_channels": 1, "source": f"random int8 weights, seed {seed}"})
    return annotate_bounds(g)


def random_chain(seed: int, layers: list, r: int = 2) -> IntGraph:
    """A plain conv chain with random int8 weights: layers = [(k, c_out), ...], ReLU after all but the
    last (uint8 out), then pixel_shuffle(r); the last layer needs r*r outputs. E.g. FSRCNN-s's deploy
    form: [(5, 32), (1, 5), (3, 5), (1, 32), (5, 4)]."""
    rng = np.random.default_rng(seed)
    arrays, nodes = {}, []
    u8, s8 = TensorSpec(8, False, 1.0), TensorSpec(8, True, 1.0)
    tensors = {"input": u8}
    src, c_in, x_std = "input", 1, 70.0
    for i, (k, c_out) in enumerate(layers):
        last = i == len(layers) - 1
        name = f"conv{i}"
        nodes.append(_conv(rng, arrays, name, src, c_in, c_out, k, x_std, 0, 255 if last else 127, 60.0 if last else 40.0))
        tensors[name] = u8 if last else s8
        src, c_in, x_std = name, c_out, 40.0
    nodes.append(QNode("shuffle", "pixel_shuffle", [src], {"r": r}))
    tensors["shuffle"] = u8
    g = IntGraph(nodes, tensors, arrays, "shuffle", {"in_channels": 1, "source": f"random int8 weights, seed {seed}"})
    return annotate_bounds(g)
