"""Lower an integer golden graph (`srhw.quant.graph.IntGraph`) to a QKeras model plus hls4ml precisions.

The QKeras model computes on the golden model's integer CODES (real value = code x scale; the scales
are a property of the description, not of the datapath), so every tensor is an integer and every
hls4ml type is written from the golden model's declared widths (`srhw.quant.bounds`), never inferred:
the silent hls4ml 1.3.0 bug (a `QActivation` after an 'auto'-precision producer is dropped,
shared/notes/stack.md) cannot bite because there is no 'auto' precision and no QActivation at all.

Each golden op becomes (one lowering pass per op, `match`/`transform`, hls4ml style):
    conv      QConv2D (int weights, int bias; result = exact accumulator, acc_bits)
              -> Requantize: 1x1 QDepthwiseConv2D with weights M[c] 2^-SH[c] whose result type
                 ap_(u)fixed<out_bits, out_bits, AP_RND, AP_SAT> performs rshift_round + clamp exactly
    sp_conv   ternary k x k QConv2D (W_b, no bias; accb_bits) -> 1x1 QDepthwiseConv2D of the r integer
              scales A (h_bits) -> ternary 1x1 QConv2D (W_c + bias; acc_bits) -> Requantize (2^-SH)
    add       a x MA, b x MB (1x1 depthwise, skipped when 1) -> Add (acc_bits) -> Requantize (2^-SH)
    act       ReLU (clamp to [0, hi] where hi is the tensor type's max)
    ca        ChannelAttention: our hls4ml extension layer (`srhw.export.hls`), the golden op verbatim
    pixel_shuffle  Reshape(H,W,C,t,t) -> Permute((1,4,2,5,3)) -> Reshape(Ht,Wt,C) (torch's order)
    interleave     Concatenate -> Reshape(H,W,K,C) -> Permute((1,2,4,3)) -> Reshape(H,W,CK)
    concat         Concatenate
ERUM's recursion arrives unrolled (several nodes share one set of arrays); each run becomes its own
layers with a copy of the weights in the HLS project (hardware would share them; the report says so).
AP_RND is round half up (ties to +inf), the rounding rule of `srhw.quant.fixedpoint`.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np

from srhw.core.errors import SrhwError
from srhw.quant.fixedpoint import signed_bits


def fixed(bits: int, integer: int | None = None, signed: bool = True, rnd: bool = False) -> str:
    """An hls4ml precision string; integer=None means an integer type (no fraction bits)."""
    integer = bits if integer is None else integer
    mode = ",AP_RND,AP_SAT" if rnd else ""
    return f"ap_{'' if signed else 'u'}fixed<{bits},{integer}{mode}>"


@dataclass
class Lowered:
    """What a lowering produces: the Keras model and the hls4ml per-layer settings."""

    model: object  # tf.keras.Model
    precisions: dict  # keras layer name -> {"result": .., "accum": .., "weight": .., "bias": ..}
    roles: dict  # keras layer name -> (golden node, role) for the report and reuse factors
    input_precision: str
    notes: list = field(default_factory=list)


class _Ctx:
    """Keras tensors by golden tensor name, and the hls4ml precisions being collected."""

    def __init__(self, graph, keras, qk):
        self.g, self.keras, self.qk = graph, keras, qk
        self.t = {}
        self.shape = {}  # golden tensor -> (H, W, C)
        self.precisions, self.roles = {}, {}
        self.notes = []

    def put(self, name, role, layer_name, tensor, **prec):
        self.precisions[layer_name] = {k: v for k, v in prec.items() if v is not None}
        self.roles[layer_name] = (name, role)
        return tensor


def _int_quantizer(qk, arr):
    """quantized_bits covering every integer of `arr` exactly (grid 1)."""
    b = max(2, signed_bits(int(arr.min()), int(arr.max())))
    return qk.quantized_bits(b, b - 1, keep_negative=True, alpha=1), b


def _frac_quantizer(qk, vals_num, shifts):
    """quantized_bits holding M * 2^-SH exactly for integer M >= 0 and shifts SH >= 0 (grid 2^-max SH)."""
    f = int(max(shifts))
    top = max(int(m) >> int(s) for m, s in zip(vals_num, shifts)) + 1
    i = max(0, int(top).bit_length())
    bits = i + f + 1
    return qk.quantized_bits(bits, i, keep_negative=True, alpha=1), bits, i


def _out_type(spec, lo, hi):
    """The saturating result type whose range is exactly [lo, hi], or None."""
    for signed in (True, False):
        for bits in range(1, 40):
            rlo, rhi = ((-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1))
            if (rlo, rhi) == (lo, hi):
                return fixed(bits, signed=signed, rnd=True)
    return None


def _requantize(ctx, name, x, m, sh, in_bits, prod_bits, c, lo, hi, role="requant"):
    """y = clamp(rshift_round(x * m[c], sh[c]), lo, hi) as a 1x1 depthwise whose cast does the rounding."""
    keras, qk = ctx.keras, ctx.qk
    m = np.broadcast_to(np.asarray(m, dtype=np.int64), (c,))
    sh = np.broadcast_to(np.asarray(sh, dtype=np.int64), (c,))
    if (m < 0).any() or (sh < 0).any():
        raise SrhwError(f"{name}: negative requantization multiplier/shift is not supported by the HLS lowering")
    q, wbits, wint = _frac_quantizer(qk, m, sh)
    out = _out_type(None, lo, hi)
    if out is None:
        raise SrhwError(f"{name}: output clamp [{lo}, {hi}] is not a fixed-point type's range (ReLU6?) - not lowered to HLS")
    f = int(sh.max())
    w = (m.astype(np.float64) * np.exp2(-sh.astype(np.float64))).reshape(1, 1, c, 1)
    lname = f"{name}_{role}"
    layer = qk.QDepthwiseConv2D(1, depthwise_quantizer=q, use_bias=False, name=lname)
    y = layer(x)
    layer.set_weights([w.astype(np.float32)])
    assert np.array_equal(layer.get_weights()[0].astype(np.float64), w), f"{lname}: weights not exact in float32"
    acc_int = prod_bits + 1
    return ctx.put(name, role, lname, y, result=out, accum=fixed(acc_int + f, acc_int),
                   weight=fixed(wbits, wint + 1), bias=fixed(2, 2))


def _scale(ctx, name, x, mult, c, in_bits, role):
    """x * mult (an integer, exact): a 1x1 depthwise with integer weights."""
    keras, qk = ctx.keras, ctx.qk
    mult = np.broadcast_to(np.asarray(mult, dtype=np.int64), (c,))
    q, b = _int_quantizer(qk, np.concatenate([mult, [0]]))
    lname = f"{name}_{role}"
    layer = qk.QDepthwiseConv2D(1, depthwise_quantizer=q, use_bias=False, name=lname)
    y = layer(x)
    layer.set_weights([mult.astype(np.float32).reshape(1, 1, c, 1)])
    ob = in_bits + b
    return ctx.put(name, role, lname, y, result=fixed(ob), accum=fixed(ob + 1), weight=fixed(b), bias=fixed(2, 2)), ob


def _conv(ctx, name, role, x, w, b, acc_bits, in_bits, padding, groups, ternary=False):
    """An integer conv whose result is the exact accumulator (acc_bits)."""
    keras, qk = ctx.keras, ctx.qk
    co, cig, kh, kw = w.shape
    cin = cig * groups
    pad = "same" if padding else "valid"
    if padding and tuple(padding) != (kh // 2, kw // 2):
        raise SrhwError(f"{name}: padding {padding} is not 'same' for kernel {kh}x{kw}")
    lname = f"{name}_{role}"
    if ternary:
        wq, wb = qk.quantized_bits(2, 1, keep_negative=True, alpha=1), 2  # exactly {-1, 0, +1} (stack.md)
    else:
        wq, wb = _int_quantizer(qk, w)
    bias = np.zeros(co, dtype=np.int64) if b is None else np.asarray(b, dtype=np.int64)
    bq, bb = _int_quantizer(qk, np.concatenate([bias, [0]]))
    if groups == 1:
        layer = qk.QConv2D(co, (kh, kw), padding=pad, kernel_quantizer=wq, bias_quantizer=bq, name=lname)
        y = layer(x)
        layer.set_weights([w.transpose(2, 3, 1, 0).astype(np.float32), bias.astype(np.float32)])
    elif groups == cin == co:
        layer = qk.QDepthwiseConv2D((kh, kw), padding=pad, depthwise_quantizer=wq, bias_quantizer=bq, name=lname)
        y = layer(x)
        layer.set_weights([w.transpose(2, 3, 0, 1).astype(np.float32), bias.astype(np.float32)])
    else:
        raise SrhwError(f"{name}: grouped conv (groups={groups}) has no hls4ml layer; only dense and depthwise are lowered")
    return ctx.put(name, role, lname, y, result=fixed(acc_bits), accum=fixed(acc_bits + 1),
                   weight=fixed(wb), bias=fixed(bb))


# --- lowering passes: one per golden op ---------------------------------------------------------

class LowerConv:
    """conv -> QConv2D (exact accumulator) -> Requantize."""

    def match(self, n):
        return n.op == "conv"

    def transform(self, ctx, n):
        g, a = ctx.g, n.attrs
        x = ctx.t[n.inputs[0]]
        w = g.param(n, "W")
        ib = ctx.g.tensors[n.inputs[0]].bits
        acc = _conv(ctx, n.name, "conv", x, w, g.param(n, "B"), a["acc_bits"], ib, a["padding"] if any(a["padding"]) else None,
                    a["groups"])
        return _requantize(ctx, n.name, acc, g.param(n, "M"), g.param(n, "SH"), a["acc_bits"], a["prod_bits"],
                           w.shape[0], a["out_lo"], a["out_hi"])


class LowerSumProduct:
    """sp_conv -> ternary QConv2D -> per-channel scales (QDepthwiseConv2D) -> ternary 1x1 QConv2D -> Requantize."""

    def match(self, n):
        return n.op == "sp_conv"

    def transform(self, ctx, n):
        g, a = ctx.g, n.attrs
        if a["groups"] != 1:
            raise SrhwError(f"{n.name}: grouped sum-product convs are not lowered to hls4ml")
        k = a["k"]
        wb, A, wc = g.param(n, "WB"), g.param(n, "A"), g.param(n, "WC")
        ib = g.tensors[n.inputs[0]].bits
        x = _conv(ctx, n.name, "wb", ctx.t[n.inputs[0]], wb, None, a["accb_bits"], ib, (k // 2, k // 2), 1, ternary=True)
        r = wb.shape[0]
        qa, ab = _int_quantizer(ctx.qk, np.concatenate([A, [0]]))
        lname = f"{n.name}_a"
        layer = ctx.qk.QDepthwiseConv2D(1, depthwise_quantizer=qa, use_bias=False, name=lname)
        h = layer(x)
        layer.set_weights([A.astype(np.float32).reshape(1, 1, r, 1)])
        ctx.put(n.name, "a", lname, h, result=fixed(a["h_bits"]), accum=fixed(a["h_bits"] + 1), weight=fixed(ab), bias=fixed(2, 2))
        acc = _conv(ctx, n.name, "wc", h, wc, g.param(n, "B"), a["acc_bits"], a["h_bits"], None, 1, ternary=True)
        return _requantize(ctx, n.name, acc, 1, a["SH"], a["acc_bits"], a["acc_bits"], wc.shape[0], a["out_lo"], a["out_hi"])


class LowerAdd:
    """add -> scale each operand (if its multiplier is not 1) -> Add (exact) -> Requantize (2^-SH)."""

    def match(self, n):
        return n.op == "add"

    def transform(self, ctx, n):
        a = n.attrs
        c = ctx.shape[n.inputs[0]][2]
        xs = []
        for i, mult in zip(n.inputs, (a["MA"], a["MB"])):
            x, bits = ctx.t[i], ctx.g.tensors[i].bits
            if mult != 1:
                x, bits = _scale(ctx, n.name, x, mult, c, bits, "ma" if not xs else "mb")
            xs.append(x)
        lname = f"{n.name}_add"
        s = ctx.put(n.name, "add", lname, ctx.keras.layers.Add(name=lname)(xs), result=fixed(a["acc_bits"]))
        out = ctx.g.tensors[n.name]
        return _requantize(ctx, n.name, s, 1, a["SH"], a["acc_bits"], a["acc_bits"], c, out.lo, out.hi)


class LowerAct:
    """act (a clamp to [0, type max]) -> ReLU with the same integer type."""

    def match(self, n):
        return n.op == "act"

    def transform(self, ctx, n):
        a, spec = n.attrs, ctx.g.tensors[n.name]
        if a["out_lo"] != 0 or a["out_hi"] != spec.hi:
            raise SrhwError(f"{n.name}: clamp [{a['out_lo']}, {a['out_hi']}] (ReLU6?) is not lowered to HLS")
        lname = f"{n.name}_relu"
        y = ctx.keras.layers.ReLU(name=lname)(ctx.t[n.inputs[0]])
        return ctx.put(n.name, "act", lname, y, result=fixed(spec.bits, signed=spec.signed))


class LowerPixelShuffle:
    """pixel_shuffle(t) in torch's channel order (c, i, j) -> Reshape/Permute/Reshape."""

    def match(self, n):
        return n.op == "pixel_shuffle"

    def transform(self, ctx, n):
        L = ctx.keras.layers
        h, w, ct = ctx.shape[n.inputs[0]]
        t = n.attrs["r"]
        c = ct // (t * t)
        x = L.Reshape((h, w, c, t, t), name=f"{n.name}_r1")(ctx.t[n.inputs[0]])
        x = L.Permute((1, 4, 2, 5, 3), name=f"{n.name}_perm")(x)  # (H, i, W, j, C)
        y = L.Reshape((h * t, w * t, c), name=f"{n.name}_r2")(x)
        spec = ctx.g.tensors[n.name]
        for role in ("r1", "perm", "r2"):
            ctx.put(n.name, role, f"{n.name}_{role}", None, result=fixed(spec.bits, signed=spec.signed))
        return y


class LowerInterleave:
    """ERUM's interleave (stack on dim 2 + flatten: channel c*K + k) -> Concatenate + channel transpose."""

    def match(self, n):
        return n.op == "interleave"

    def transform(self, ctx, n):
        L = ctx.keras.layers
        h, w, c = ctx.shape[n.inputs[0]]
        k = len(n.inputs)
        spec = ctx.g.tensors[n.name]
        x = _concat(ctx, n.name, [ctx.t[i] for i in n.inputs], spec)  # channel k*C + c
        x = L.Reshape((h, w, k, c), name=f"{n.name}_r1")(x)
        x = L.Permute((1, 2, 4, 3), name=f"{n.name}_perm")(x)
        y = L.Reshape((h, w, c * k), name=f"{n.name}_r2")(x)
        for role in ("r1", "perm", "r2"):
            ctx.put(n.name, role, f"{n.name}_{role}", None, result=fixed(spec.bits, signed=spec.signed))
        return y


class LowerConcat:
    """concat (dim 1) -> Concatenate (chained: hls4ml's io_stream concatenate takes two inputs)."""

    def match(self, n):
        return n.op == "concat"

    def transform(self, ctx, n):
        return _concat(ctx, n.name, [ctx.t[i] for i in n.inputs], ctx.g.tensors[n.name])


def _concat(ctx, name, xs, spec):
    y = xs[0]
    for j, x in enumerate(xs[1:]):
        lname = f"{name}_cat{j}"
        y = ctx.keras.layers.Concatenate(axis=-1, name=lname)([y, x])
        ctx.put(name, f"cat{j}", lname, None, result=fixed(spec.bits, signed=spec.signed))
    return y


class LowerChannelAttention:
    """ca -> the ChannelAttention extension layer (golden op in C++, whole map buffered)."""

    def match(self, n):
        return n.op == "ca"

    def transform(self, ctx, n):
        from srhw.export.hls_ext import KChannelAttention, ca_params

        spec = ctx.g.tensors[n.name]
        h, w, c = ctx.shape[n.inputs[0]]
        lname = f"{n.name}_ca"
        y = KChannelAttention(ca_params(ctx.g, n), name=lname)(ctx.t[n.inputs[0]])
        return ctx.put(n.name, "ca", lname, y, result=fixed(spec.bits, signed=spec.signed))


PASSES = [LowerConv(), LowerSumProduct(), LowerAdd(), LowerAct(), LowerPixelShuffle(), LowerInterleave(),
          LowerConcat(), LowerChannelAttention()]


def _out_shape(n, shape_in, g):
    h, w, c = shape_in[0]
    if n.op == "conv":
        return (h, w, g.param(n, "W").shape[0])
    if n.op == "sp_conv":
        return (h, w, g.param(n, "WC").shape[0])
    if n.op == "pixel_shuffle":
        t = n.attrs["r"]
        return (h * t, w * t, c // (t * t))
    if n.op in ("interleave", "concat"):
        return (h, w, sum(s[2] for s in shape_in))
    return (h, w, c)


def input_channels(graph) -> int:
    """Channels of the LR input: the graph's `channels` (1: a Y real-time network), else what the first
    conv on the input reads, else RGB."""
    if "channels" in graph.meta:
        return int(graph.meta["channels"])
    first = next((n for n in graph.nodes if "input" in n.inputs and n.op in ("conv", "sp_conv")), None)
    if first is not None:
        return int(graph.param(first, "W" if first.op == "conv" else "WB").shape[1])
    return 3


def to_qkeras(graph, height: int, width: int) -> Lowered:
    """Build the QKeras model of `graph` for (height, width) LR inputs (channels last, uint8 codes)."""
    import tensorflow as tf
    import qkeras as qk

    keras = tf.keras
    ctx = _Ctx(graph, keras, qk)
    c = input_channels(graph)
    inp = keras.Input((height, width, c), name="lr_image")
    ctx.t["input"], ctx.shape["input"] = inp, (height, width, c)
    in_spec = graph.tensors["input"]
    for n in graph.nodes:
        p = next((p for p in PASSES if p.match(n)), None)
        if p is None:
            warnings.warn(f"no HLS lowering for op {n.op!r} ({n.name})")
            raise SrhwError(f"{n.name}: golden op {n.op!r} has no HLS lowering")
        ctx.t[n.name] = p.transform(ctx, n)
        ctx.shape[n.name] = _out_shape(n, [ctx.shape[i] for i in n.inputs], graph)
    model = keras.Model(inp, ctx.t[graph.output], name="srhw")
    return Lowered(model, ctx.precisions, ctx.roles, fixed(in_spec.bits, signed=in_spec.signed), ctx.notes)
