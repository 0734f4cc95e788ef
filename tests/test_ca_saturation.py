"""Every clamp of the channel-attention block saturates, in the golden model, the HLS engine and the hls4ml template.

The tiny st_bl graph's CA constants are replaced by ones chosen so that, on the test images, the hidden layer
goes past both of its bounds (0 and h_hi), the sigmoid pre-activation past both of its bounds (z_lo, z_hi),
and the output past both of its bounds (y_lo, y_hi), each in a place where a bound one off changes the network's
output (the sigmoid table is made of distinct values, the output gain keeps unsaturated pixels sensitive).
`test_each_bound_off_by_one_changes_the_output` proves that sensitivity with an independent numpy CA; the
C-sim tests then require both HLS lowerings to equal the golden model bit for bit on those images, so an off-by-one
clamp in any of the three fails here.
"""

import copy

import numpy as np
import pytest
import torch

from srhw.models import build, freeze_all
from srhw.quant import quantize
from srhw.quant.fixedpoint import rshift_round, round_div
from srhw.quant.golden import Golden

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

TINY = dict(num_feat=16, num_group=1, num_block=1)
BOUNDS = ("h_lo", "h_hi", "z_lo", "z_hi", "y_lo", "y_hi")


def images(h=8, w=8, seed=0):
    rng = np.random.default_rng(seed)
    board = (np.indices((h, w)).sum(0) % 2 * 255).astype(np.uint8)[..., None].repeat(3, 2)
    return np.concatenate([rng.integers(0, 256, (3, h, w, 3), dtype=np.uint8), np.zeros((1, h, w, 3), np.uint8),
                           np.full((1, h, w, 3), 255, np.uint8), board[None]])


def _ca_node(g):
    return next(n for n in g.nodes if n.op == "ca")


def bounds_of(g, n):
    t = g.tensors
    hid, z, out = t[n.attrs["hidden"]], t[n.attrs["z"]], t[n.name]
    return {"h_lo": max(hid.lo, 0), "h_hi": hid.hi, "z_lo": z.lo, "z_hi": z.hi, "y_lo": out.lo, "y_hi": out.hi}


def ca_reference(x, P, b):
    """The CA op written out once more (srhw/quant/golden.py's docstring), with explicit clamp bounds `b`.
    x: (B, C, H, W) int64; P: the node's arrays by role. Also returns the pre-clamp values."""
    p = round_div(x.sum((2, 3)), x.shape[2] * x.shape[3])  # (B, C)
    w1, w2 = P["W1"].reshape(P["W1"].shape[0], -1), P["W2"].reshape(P["W2"].shape[0], -1)
    h_pre = rshift_round((p @ w1.T + P["B1"]) * P["M1"], P["SH1"])
    h = np.clip(h_pre, b["h_lo"], b["h_hi"])
    z_pre = rshift_round((h @ w2.T + P["B2"]) * P["M2"], P["SH2"])
    z = np.clip(z_pre, b["z_lo"], b["z_hi"])
    idx = z - b["z_lo"]
    inside = (idx >= 0) & (idx < len(P["LUT"]))
    a = np.where(inside, P["LUT"][np.clip(idx, 0, len(P["LUT"]) - 1)], -1)  # off the table: not a table value
    y_pre = rshift_round(x * a[:, :, None, None] * P["MY"], P["SHY"])
    return np.clip(y_pre, b["y_lo"], b["y_hi"]), {"h": h_pre, "z": z_pre, "y": y_pre}


def saturating_graph():
    """The tiny st_bl x2 graph with CA constants that drive every clamp past its bounds on `images()`."""
    torch.manual_seed(0)
    m = freeze_all(build("st_bl(r=2c_out)", 2, **TINY))
    g = quantize(m, [torch.rand(2, 3, 12, 12) * 255]).export({"spec": "st_bl(r=2c_out)", "scale": 2})
    n = _ca_node(g)
    b = bounds_of(g, n)
    c = g.param(n, "W1").shape[1]
    x = Golden(g).run_all(images().transpose(0, 3, 1, 2).copy())[n.inputs[0]]
    nh = 3  # hidden unit 0 above h_hi, unit 1 below 0, unit 2 inside
    P = {"W1": np.zeros((nh, c, 1, 1), np.int8), "B1": np.array([b["h_hi"] + 5, -5, 7], np.int64),
         "M1": np.ones(nh, np.int64), "SH1": np.zeros(nh, np.int64),
         "W2": np.zeros((c, nh, 1, 1), np.int8), "M2": np.ones(c, np.int64), "SH2": np.zeros(c, np.int64)}
    P["W2"][0, 0, 0, 0] = 1  # z0 = h0 - h_hi + z_lo + 20: a step of h0's clamp moves z0
    P["W2"][1, 1, 0, 0] = 1  # z1 = h1 + z_lo + 20: a step of h1's clamp moves z1
    B2 = np.full(c, b["z_hi"] + 10, np.int64)  # most channels: z past z_hi
    B2[0], B2[1] = b["z_lo"] + 20 - b["h_hi"], b["z_lo"] + 20
    B2[3] = b["z_lo"] - 10  # z past z_lo
    P["B2"] = B2
    # Distinct neighbours everywhere (7 i mod 64), so a z one off reads another attention weight.
    P["LUT"] = (7 * np.arange(256, dtype=np.int64)) % 64
    # Output gain 2^-SHY: the largest |x| maps to 2-4 before the attention weight, so a weight <= 12 keeps
    # some pixels unsaturated (sensitive) and a weight of 57 drives others past y_lo and y_hi.
    xm = int(np.abs(x).max())
    n.attrs["MY"], n.attrs["SHY"] = 1, max(0, xm.bit_length() - 2)
    # The residual add after the block weighs the CA output 1:1 (was 1/32), so a one-step change survives it.
    add = next(a for a in g.nodes if a.op == "add" and n.name in a.inputs)
    add.attrs.update(MA=1, MB=1, SH=0)
    for role, v in P.items():
        key = f"{n.params[role]}@sat"
        g.arrays[key] = v
        n.params[role] = key
    return g, n


@pytest.fixture(scope="module")
def sat():
    return saturating_graph()


def _run(g, n, x, bounds):
    """The network's uint8 output with the CA node computed by `ca_reference` under `bounds`."""
    gold = Golden(g, check=False)
    env = {"input": x.astype(np.int64)}
    for node in g.nodes:
        xs = [env[i] for i in node.inputs]
        if node is n:
            P = {**{r: g.param(n, r) for r in n.params}, "MY": n.attrs["MY"], "SHY": n.attrs["SHY"]}
            env[node.name], env[node.name + "/pre"] = ca_reference(xs[0], P, bounds)
        else:
            env[node.name] = gold.run_node(node, xs)
    return env


def test_every_clamp_saturates_on_both_sides(sat):
    g, n = sat
    x = images().transpose(0, 3, 1, 2).copy()
    b = bounds_of(g, n)
    env = _run(g, n, x, b)
    pre = env[n.name + "/pre"]
    for key, (lo, hi) in {"h": ("h_lo", "h_hi"), "z": ("z_lo", "z_hi"), "y": ("y_lo", "y_hi")}.items():
        assert pre[key].min() < b[lo] and pre[key].max() > b[hi], f"{key} does not pass both of its bounds"
    # the independent CA equals the golden model's
    golden = Golden(g).run_all(x)
    assert np.array_equal(env[n.name], golden[n.name])
    assert np.array_equal(env[g.output], golden[g.output])


@pytest.mark.parametrize("bound", BOUNDS)
@pytest.mark.parametrize("delta", [-1, 1])
def test_each_bound_off_by_one_changes_the_output(sat, bound, delta):
    g, n = sat
    x = images().transpose(0, 3, 1, 2).copy()
    b = bounds_of(g, n)
    ok = _run(g, n, x, b)[g.output]
    bad = _run(g, n, x, {**b, bound: b[bound] + delta})[g.output]
    assert not np.array_equal(ok, bad), f"{bound} {delta:+d} leaves the network output unchanged"


def test_engine_csim_equals_golden_with_saturated_clamps(sat, tmp_path):
    from srhw.export.engine import run_engine_csim

    g, _ = sat
    x = images()
    r = run_engine_csim(g, x, tmp_path)
    assert r["checked"] == x.shape[0] * 16 * 16 * 3
    assert r["mismatches"] == 0, f"engine: {r['mismatches']} of {r['checked']} values differ from the golden model"


def test_hls4ml_csim_equals_golden_with_saturated_clamps(sat, tmp_path):
    from srhw.export.hls import run_csim

    g, _ = sat
    x = images()
    r = run_csim(copy.deepcopy(g), x, tmp_path)
    assert r["checked"] == x.shape[0] * 16 * 16 * 3
    assert r["mismatches"] == 0, f"hls4ml: {r['mismatches']} of {r['checked']} values differ from the golden model"
