"""A Keras (TF 2.14) rebuild of a zoo model with our weights, from its traced op list (srhw.quant.trace).

Used for the paper's own INT8 path (section 5.1: "apply the quantization scheme in Tensorflow-Lite") and
as the starting point of the QKeras lowering. NHWC; torch channel orders are kept with fixed gathers:
  * PixelShuffle (torch: channel c*r^2 + i*r + j) = gather to TF's (i*r + j)*C + c, then depth_to_space;
  * channel shuffle / ERUM interleave = concat + gather;
  * grouped convs (not depthwise) = per-group slices + Conv2D + concat (TF has no CPU grouped conv);
  * a sum-product conv = Conv2D(codes_b) -> 1x1 depthwise (folded a') -> Conv2D 1x1 (codes_c) + bias.
"""

import numpy as np


def _np(t):
    return t.detach().cpu().double().numpy().astype(np.float32)


def _conv(tf, x, w, b, groups, name):
    """'same' stride-1 conv of torch weights w (co, ci/g, kh, kw), bias b or None."""
    keras = tf.keras
    co, cig, kh, kw = w.shape
    ci = cig * groups
    if groups == 1:
        layer = keras.layers.Conv2D(co, (kh, kw), padding="same", use_bias=b is not None, name=name)
        y = layer(x)
        layer.set_weights([w.transpose(2, 3, 1, 0)] + ([b] if b is not None else []))
        return y
    if groups == ci == co:
        layer = keras.layers.DepthwiseConv2D((kh, kw), padding="same", use_bias=b is not None, name=name)
        y = layer(x)
        layer.set_weights([w.transpose(2, 3, 0, 1)] + ([b] if b is not None else []))
        return y
    cog = co // groups
    outs = []
    for g in range(groups):
        xs = keras.layers.Lambda(lambda t, g=g: t[..., g * cig:(g + 1) * cig], name=f"{name}_in{g}")(x)
        outs.append(_conv(tf, xs, w[g * cog:(g + 1) * cog], None if b is None else b[g * cog:(g + 1) * cog], 1, f"{name}_g{g}"))
    return keras.layers.Concatenate(name=name)(outs)


def _gather(tf, x, perm, name):
    perm = [int(p) for p in perm]
    return tf.keras.layers.Lambda(lambda t: tf.gather(t, perm, axis=-1), name=name)(x)


def to_keras(model, graph=None):
    """Keras functional model (None, None, 3) -> (None, None, 3) computing `model` (RGB in [0, 255])."""
    import tensorflow as tf

    from srhw.quant.trace import trace

    graph = graph or trace(model)
    keras = tf.keras
    inp = keras.Input(shape=(None, None, 3), name="lr")
    env, chans = {"input": inp}, {"input": 3}
    for n in graph.nodes[1:]:
        xs = [env[i] for i in n.inputs]
        nm = n.name
        if n.op == "conv":
            m = model.get_submodule(n.module)
            y = _conv(tf, xs[0], _np(m.weight), None if m.bias is None else _np(m.bias), m.groups, nm)
            c = m.out_channels
        elif n.op == "sp_conv":
            m = model.get_submodule(n.module)
            cb, a, cc, b = m.folded()
            h = _conv(tf, xs[0], cb.float().numpy(), None, m.groups, nm + "_wb")
            sc = keras.layers.DepthwiseConv2D(1, use_bias=False, name=nm + "_a")
            h = sc(h)
            sc.set_weights([_np(a).reshape(1, 1, -1, 1)])
            y = _conv(tf, h, cc.float().numpy(), None if b is None else _np(b), m.groups, nm)
            c = m.out_ch
        elif n.op == "ca":
            att = model.get_submodule(n.module).attention
            p = keras.layers.GlobalAveragePooling2D(keepdims=True, name=nm + "_pool")(xs[0])
            h = keras.layers.ReLU(name=nm + "_relu")(_conv(tf, p, _np(att[1].weight), _np(att[1].bias), 1, nm + "_c1"))
            z = _conv(tf, h, _np(att[3].weight), _np(att[3].bias), 1, nm + "_c2")
            s = keras.layers.Activation("sigmoid", name=nm + "_sigmoid")(z)
            y = keras.layers.Multiply(name=nm)([xs[0], s])
            c = chans[n.inputs[0]]
        elif n.op == "add":
            y, c = keras.layers.Add(name=nm)(xs), chans[n.inputs[0]]
        elif n.op == "act":
            y, c = xs[0], chans[n.inputs[0]]
        elif n.op == "pixel_shuffle":
            r, cin = n.attrs["r"], chans[n.inputs[0]]
            c = cin // (r * r)
            perm = [cc_ * r * r + k for k in range(r * r) for cc_ in range(c)]  # TF index k*C + c <- torch c*r^2 + k
            g = _gather(tf, xs[0], perm, nm + "_order")
            y = keras.layers.Lambda(lambda t, r=r: tf.nn.depth_to_space(t, r), name=nm)(g)
        elif n.op == "channel_shuffle":
            gr, c = n.attrs["groups"], chans[n.inputs[0]]
            per = c // gr
            y = _gather(tf, xs[0], [gi * per + i for i in range(per) for gi in range(gr)], nm)
        elif n.op == "slice":
            c_in, k = chans[n.inputs[0]], n.attrs["chunks"]
            c = c_in // k
            i = n.attrs["index"]
            y = keras.layers.Lambda(lambda t, i=i, c=c: t[..., i * c:(i + 1) * c], name=nm)(xs[0])
        elif n.op == "concat":
            y, c = keras.layers.Concatenate(name=nm)(xs), sum(chans[i] for i in n.inputs)
        elif n.op == "interleave":
            k, cin = len(xs), chans[n.inputs[0]]
            cat = keras.layers.Concatenate(name=nm + "_cat")(xs)
            y, c = _gather(tf, cat, [j * cin + cc_ for cc_ in range(cin) for j in range(k)], nm), cin * k
        else:
            raise KeyError(n.op)
        if n.attrs.get("act") in ("relu", "relu6"):
            y = keras.layers.ReLU(max_value=6.0 if n.attrs["act"] == "relu6" else None, name=nm + "_act")(y)
        env[nm], chans[nm] = y, c
    return keras.Model(inp, env[graph.output], name="srhw")
