"""hls4ml extension: RCAN channel attention as one layer (Keras layer, hls4ml IR layer, parser, templates).

Why an extension: hls4ml's GlobalAveragePooling divides in ap_fixed (truncating) and its sigmoid is its
own 1024-entry table, neither of which is the golden model's op (round_div mean, 256-entry sigmoid LUT
indexed by the int8 pre-activation code). The C++ (`hls/nnet_channel_attention.h`) is the golden op
line for line; its integer constants are emitted into the layer's config as namespace-scope arrays.
The extension API is hls4ml's (register_keras_v2_layer_handler / register_layer / register_template /
register_source), as in hls4ml's `test_extensions.py`.
"""

from pathlib import Path

import numpy as np

HEADER = Path(__file__).resolve().parents[2] / "hls" / "nnet_channel_attention.h"

CONFIG_TEMPLATE = """{arrays}
struct config{index} : nnet::channel_attention_config {{
    static const unsigned height = {height};
    static const unsigned width = {width};
    static const unsigned n_chan = {n_chan};
    static const unsigned n_hidden = {n_hidden};
    static const long long h_lo = {h_lo}, h_hi = {h_hi}, z_lo = {z_lo}, z_hi = {z_hi}, y_lo = {y_lo}, y_hi = {y_hi};
    static const long long my = {my}, shy = {shy};
{accessors}
}};
"""
FUNCTION_TEMPLATE = "nnet::channel_attention<{input_t}, {output_t}, {config}>({input}, {output});"
ARRAY_TEMPLATE = "static const long long ca{index}_{key}[{n}] = {{{values}}};"
ACCESSOR_TEMPLATE = "    static long long {key}(unsigned i) {{ return ca{index}_{key}[i]; }}"
ARRAY_KEYS = ("w1", "b1", "m1", "sh1", "w2", "b2", "m2", "sh2", "lut")


def ca_params(graph, node) -> dict:
    """The golden CA node's integer constants as a JSON-able dict (the Keras layer's config)."""
    p = lambda r: np.asarray(graph.param(node, r), dtype=np.int64)  # noqa: E731
    a = node.attrs
    hid, z, out = graph.tensors[a["hidden"]], graph.tensors[a["z"]], graph.tensors[node.name]
    d = {k: p(k.upper()).reshape(-1).tolist() for k in ARRAY_KEYS}
    d["n_hidden"] = int(p("W1").shape[0])
    d.update(h_lo=max(hid.lo, 0), h_hi=hid.hi, z_lo=z.lo, z_hi=z.hi, y_lo=out.lo, y_hi=out.hi,
             my=int(a["MY"]), shy=int(a["SHY"]))
    return d


def _keras_layer_class():
    import tensorflow as tf

    class KChannelAttention(tf.keras.layers.Layer):
        """Keras stand-in for the golden CA op (float approximation in TF; the HLS layer is exact)."""

        def __init__(self, params, **kwargs):
            super().__init__(**kwargs)
            self.params = params

        def call(self, x):  # codes in, codes out: an approximation used only to give Keras a graph
            p = self.params
            c = x.shape[-1]
            w1 = tf.constant(np.array(p["w1"], np.float32).reshape(p["n_hidden"], c).T)
            w2 = tf.constant(np.array(p["w2"], np.float32).reshape(c, p["n_hidden"]).T)
            m = tf.reduce_mean(x, axis=(1, 2))
            h = tf.nn.relu(tf.matmul(m, w1))
            a = tf.sigmoid(tf.matmul(h, w2))
            return x * a[:, None, None, :]

        def get_config(self):
            return {**super().get_config(), "params": self.params}

    return KChannelAttention


_K = None


def KChannelAttention(params, **kwargs):  # noqa: N802 - a layer constructor
    global _K
    if _K is None:
        _K = _keras_layer_class()
    return _K(params, **kwargs)


_registered = False


def register(backend_name: str = "Vitis"):
    """Register the extension with hls4ml (idempotent)."""
    global _registered
    if _registered:
        return
    import hls4ml
    from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
    from hls4ml.model.layers import Layer

    class ChannelAttention(Layer):
        def initialize(self):
            inp = self.get_input_variable()
            self.add_output_variable(inp.shape)

    def parse_ca(keras_layer, input_names, input_shapes, data_reader, *args):
        cfg = keras_layer["config"]
        layer = {"class_name": "ChannelAttention", "name": cfg["name"], "ca": cfg["params"]}
        _, h, w, c = input_shapes[0]
        layer.update(height=h, width=w, n_chan=c)
        if input_names is not None:
            layer["inputs"] = input_names
        return layer, list(input_shapes[0])

    class CAConfigTemplate(LayerConfigTemplate):
        def __init__(self):
            super().__init__(ChannelAttention)
            self.template = CONFIG_TEMPLATE

        def format(self, node):
            params = self._default_config_params(node)
            ca = node.get_attr("ca")
            idx = params["index"]
            arrays = "\n".join(ARRAY_TEMPLATE.format(index=idx, key=k, n=len(ca[k]), values=", ".join(str(int(v)) for v in ca[k]))
                               for k in ARRAY_KEYS)
            acc = "\n".join(ACCESSOR_TEMPLATE.format(index=idx, key=k) for k in ARRAY_KEYS)
            scal = {k: ca[k] for k in ("n_hidden", "h_lo", "h_hi", "z_lo", "z_hi", "y_lo", "y_hi", "my", "shy")}
            return self.template.format(arrays=arrays, accessors=acc, index=idx, height=node.get_attr("height"),
                                        width=node.get_attr("width"), n_chan=node.get_attr("n_chan"), **scal)

    class CAFunctionTemplate(FunctionCallTemplate):
        def __init__(self):
            super().__init__(ChannelAttention, include_header=["nnet_utils/nnet_channel_attention.h"])
            self.template = FUNCTION_TEMPLATE

        def format(self, node):
            return self.template.format(**self._default_function_params(node))

    hls4ml.converters.register_keras_v2_layer_handler("KChannelAttention", parse_ca)
    hls4ml.model.layers.register_layer("ChannelAttention", ChannelAttention)
    for name in ("Vivado", "Vitis"):
        backend = hls4ml.backends.get_backend(name)
        backend.register_template(CAConfigTemplate)
        backend.register_template(CAFunctionTemplate)
        backend.register_source(HEADER)
    _registered = True
