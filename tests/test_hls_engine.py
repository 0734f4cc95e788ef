"""The layer-sequential HLS engine (hls/engine/, srhw.export.engine): g++ C-simulation == golden model, bit for bit.

Tiny configs of the zoo cover every op kind of srhw/quant/golden.py (grouped convs, 1x3/3x1 kernels, ReLU6,
channel shuffle/split/concat, ERUM's interleave with shared weights, channel attention, sum-product convs,
x3/x4 pixel shuffles). One engine binary, compiled with buffers covering them all, serves every graph: the
program and weights are runtime data. Full-size shipped models are @slow.
"""

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from srhw.core.errors import SrhwError
from srhw.export.engine import (ENGINE_SRC, FIELDS, OPS, EngineConfig, compile_program, compile_testbench,
                                run_engine_csim, write_project)
from srhw.export.engine import isa, program_cycles
from srhw.models import build, freeze_all
from srhw.quant import load_graph, quantize

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

TINY = dict(num_feat=16, num_group=1, num_block=1)  # CA needs num_feat >= 16 (reduction 16)
SPECS = [
    ("st_bl(r=2c_out)", 2),      # sp_conv, MeanShift convs, CA, add, pixel shuffle
    ("st_bl(r=c_out, g=4)", 2),  # grouped sum-product convs
    ("blrxn(r=2, g=4)", 2),      # grouped 3x3 conv, ReLU
    ("bleff(r=2)", 2),           # 1x3 / 3x1 grouped kernels
    ("bls1(r=2, g=4)", 2),       # channel shuffle, grouped 1x1
    ("bls2", 2),                 # channel split (slice), concat, channel shuffle
    ("blm2(e=2)", 2),            # ReLU6 (clamp fused into the conv), depthwise conv
    ("blrn-e(r=2)[rb]", 2),      # ERUM: shared weights, interleave
    ("bl-e", 3),                 # x3 pixel shuffle
    ("bl", 4),                   # two x2 pixel shuffles
]
SHIPPED = Path(__file__).resolve().parents[1] / "models"


def tiny_graph(spec, scale, seed=0):
    torch.manual_seed(seed)
    m = freeze_all(build(spec, scale, **TINY))
    return quantize(m, [torch.rand(2, 3, 12, 12) * 255]).export({"spec": spec, "scale": scale})


def test_images(h=9, w=11, seed=0):
    """Random, all-0, all-255 and a checkerboard, at an odd size (H != W catches transposed indexing)."""
    rng = np.random.default_rng(seed)
    board = (np.indices((h, w)).sum(0) % 2 * 255).astype(np.uint8)[..., None].repeat(3, 2)
    return np.concatenate([rng.integers(0, 256, (2, h, w, 3), dtype=np.uint8), np.zeros((1, h, w, 3), np.uint8),
                           np.full((1, h, w, 3), 255, np.uint8), board[None]])


test_images.__test__ = False  # a helper, not a test


Y_SPEC = "fsrcnn(d=8,s=3,m=1)"  # a Y-channel (1-channel) real-time network in its deployed form


def tiny_y_graph(spec=Y_SPEC, scale=2, seed=0):
    torch.manual_seed(seed)
    m = build(spec, scale).deploy().eval()
    return quantize(m, [torch.rand(2, 1, 12, 12) * 255]).export({"spec": spec, "scale": scale, "channels": 1})


@pytest.fixture(scope="module")
def graphs():
    return {**{f"{s}-x{k}": tiny_graph(s, k) for s, k in SPECS}, "y": tiny_y_graph()}


@pytest.fixture(scope="module")
def engine_bin(graphs, tmp_path_factory):
    """One tb_engine (ap_int types) whose buffers cover every tiny graph: (binary, config)."""
    cfg = EngineConfig()
    for g in graphs.values():
        cfg = cfg.union(compile_program(g).config)
    work = tmp_path_factory.mktemp("engine")
    g0 = next(iter(graphs.values()))
    write_project(g0, work / "proj", config=cfg, program=compile_program(g0))  # the default datapath
    compile_testbench(work / "proj", work / "tb_engine")
    return work / "tb_engine", cfg


def test_every_golden_op_is_covered(graphs):
    ops = {n.op for g in graphs.values() for n in g.nodes}
    assert ops == set(OPS), f"ops without a tiny test graph: {set(OPS) - ops}"
    relu6 = [n for g in graphs.values() for n in g.nodes
             if n.op == "conv" and n.attrs["out_lo"] == 0 and n.attrs["out_hi"] < g.tensors[n.name].hi]
    assert relu6, "no ReLU6 clamp among the test graphs"
    assert any(n.attrs.get("groups", 1) > 1 for g in graphs.values() for n in g.nodes if n.op == "sp_conv")


@pytest.mark.parametrize("name", [f"{s}-x{k}" for s, k in SPECS])
def test_engine_csim_equals_golden(name, graphs, engine_bin, tmp_path):
    binary, cfg = engine_bin
    g = graphs[name]
    x = test_images()
    r = run_engine_csim(g, x, tmp_path, binary=binary, config=cfg)
    scale = g.meta["scale"]
    assert r["checked"] == x.shape[0] * 9 * scale * 11 * scale * 3, "every output value of every image is compared"
    assert r["mismatches"] == 0, f"{name}: {r['mismatches']} of {r['checked']} output values differ from the golden model"
    assert r["outputs"].dtype == np.uint8 and r["types"] == "ap_int"


def test_engine_runs_a_y_channel_network(graphs, engine_bin, tmp_path):
    binary, cfg = engine_bin
    g = graphs["y"]
    x = test_images()[..., :1].copy()
    r = run_engine_csim(g, x, tmp_path, binary=binary, config=cfg)
    assert r["checked"] == x.shape[0] * 18 * 22 and r["mismatches"] == 0, r["mismatches"]
    assert compile_program(g).header[6] == 1  # the program's input channels (H_IN_C)
    with pytest.raises(SrhwError, match=r"shape \(N, H, W, 1\)"):
        run_engine_csim(g, test_images(), tmp_path / "rgb", binary=binary, config=cfg)


def test_one_compile_serves_several_sizes(graphs, engine_bin, tmp_path):
    binary, cfg = engine_bin
    g = graphs["st_bl(r=2c_out)-x2"]
    for h, w in ((1, 1), (5, 16)):
        r = run_engine_csim(g, test_images(h, w, seed=h), tmp_path / f"{h}x{w}", binary=binary, config=cfg)
        assert r["mismatches"] == 0 and r["input_hw"] == [h, w]


def test_descriptor_layout_matches_the_header():
    text = (ENGINE_SRC / "srhw_engine.h").read_text()
    body = re.search(r"enum Field \{(.*?)\};", text, re.S).group(1)
    body = re.sub(r"//[^\n]*", "", body)
    names = [t.strip()[2:] for t in body.split(",") if t.strip().startswith("D_")]
    assert names == FIELDS, "srhw_engine.h enum Field and srhw.export.engine.isa.FIELDS disagree"
    for op, code in OPS.items():
        assert re.search(rf"OP_{op.upper()} = {code}\b", text), op
    for name in ("T_S8", "T_U8", "T_S16"):
        assert re.search(rf"{name} = {getattr(isa, name)}\b", text), name
    tb = (ENGINE_SRC / "tb_engine.cpp").read_text()
    head = re.sub(r"//[^\n]*", "", re.search(r"enum Header \{(.*?)\};", tb, re.S).group(1))
    assert re.search(rf"H_WORDS = {isa.HEADER_WORDS}\b", head)
    assert len([t for t in head.split(",") if t.strip().startswith("H_") and "=" not in t]) == isa.HEADER_WORDS
    assert f"MAGIC = 0x{isa.MAGIC:08X}" in tb


def test_project_is_deterministic_and_program_h_matches_bin(graphs, tmp_path):
    g = graphs["blrn-e(r=2)[rb]-x2"]
    a, b = tmp_path / "a", tmp_path / "b"
    write_project(g, a)
    write_project(tiny_graph("blrn-e(r=2)[rb]", 2), b)  # the same graph, quantized again
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    assert {"srhw_engine.h", "srhw_engine.cpp", "tb_engine.cpp", "srhw_config.h", "program.h", "program.bin",
            "weights.bin", "script.tcl", "README.md"} <= set(files)
    differ = [f for f in files if (a / f).read_bytes() != (b / f).read_bytes()]
    assert differ == [], f"engine project not byte-identical: {differ}"
    for src in ("srhw_engine.h", "srhw_engine.cpp", "tb_engine.cpp"):
        assert (a / src).read_bytes() == (ENGINE_SRC / src).read_bytes()
    text = (a / "program.h").read_text()
    rows = [l[l.index("{") + 1: l.rindex("}")] for l in text.splitlines()
            if l.lstrip().startswith("{") or "srhw_program_header[" in l]
    nums = [int(v) for v in re.findall(r"-?\d+", " ".join(rows))]
    words = np.frombuffer((a / "program.bin").read_bytes(), "<i4").tolist()
    assert nums == words, "program.h and program.bin hold different programs"
    assert str(tmp_path) not in text and str(tmp_path) not in (a / "script.tcl").read_text()


def test_erum_shared_weights_are_stored_once(graphs):
    g = graphs["blrn-e(r=2)[rb]-x2"]
    p = compile_program(g)
    shared = {}
    for d in p.descs:
        if d[FIELDS.index("OP")] == OPS["conv"]:
            shared.setdefault(d[FIELDS.index("W")], 0)
            shared[d[FIELDS.index("W")]] += 1
    assert max(shared.values()) >= 2, "ERUM's recursion runs one weight set several times"


def test_arena_reuses_space(graphs):
    """Maps nobody reads any more give their space back: the arena is smaller than all maps side by side."""
    p = compile_program(graphs["st_bl(r=2c_out)-x2"])
    f = {k: FIELDS.index(k) for k in ("OP", "OUT_C", "OUT_T", "F", "HID")}
    sizes = {}
    for d, name in zip(p.descs, p.names):
        fo = d[f["F"]] * (d[f["HID"]] if d[f["OP"]] == OPS["pixel_shuffle"] else 1)
        sizes[name.split(":")[0].split("[")[0]] = d[f["OUT_C"]] * fo * fo * (2 if d[f["OUT_T"]] == 2 else 1)
    side_by_side = 3 + sum(sizes.values())
    assert p.header[4] < 0.75 * side_by_side, (p.header[4], side_by_side)


def test_bad_input_is_one_clear_error(graphs, tmp_path):
    g = graphs["bl-e-x3"]
    with pytest.raises(SrhwError, match="uint8 images"):
        run_engine_csim(g, test_images().astype(np.int16), tmp_path)
    with pytest.raises(SrhwError, match="buffers too small"):
        write_project(g, tmp_path / "p", config=EngineConfig())
    bad = tiny_graph("st_bl(r=2c_out)", 2)
    bad.nodes[1].op = "gelu"
    with pytest.raises(SrhwError, match="no engine implementation"):
        compile_program(bad)
    wide = tiny_graph("st_bl(r=2c_out)", 2)
    next(n for n in wide.nodes if n.op == "sp_conv").attrs["acc_bits"] = 49
    with pytest.raises(SrhwError, match="48-bit"):
        compile_program(wide)


def test_engine_refuses_a_layer_beyond_its_buffers(graphs, tmp_path):
    """The hardware's own guard: a binary with smaller buffers returns an error status instead of overrunning."""
    small = graphs["blrxn(r=2, g=4)-x2"]
    write_project(small, tmp_path / "proj", program=compile_program(small))
    compile_testbench(tmp_path / "proj", tmp_path / "tb_small")
    with pytest.raises(SrhwError, match="engine status"):
        run_engine_csim(graphs["st_bl(r=2c_out)-x2"], test_images(), tmp_path / "run", binary=tmp_path / "tb_small")


@pytest.mark.slow
@pytest.mark.parametrize("golden", ["st_bl_r_2c_out-x2.golden", "blrn-e_r_2__rb-x2-int8.golden"])
def test_full_size_shipped_models(golden, tmp_path):
    """The shipped full-size graphs on 12x12 crops (ap_int types) and a 32x32 image (native types)."""
    g = load_graph(SHIPPED / golden)
    r = run_engine_csim(g, test_images(12, 12), tmp_path / "ap")
    assert r["checked"] == 5 * 24 * 24 * 3 and r["mismatches"] == 0, r
    big = np.random.default_rng(7).integers(0, 256, (1, 32, 32, 3), dtype=np.uint8)
    n = run_engine_csim(g, big, tmp_path / "native", native=True, count_iters=True)
    assert n["mismatches"] == 0 and n["checked"] == 64 * 64 * 3
    # the cost model counts the full-size program's loop iterations exactly, descriptor by descriptor
    prog = compile_program(g)
    assert n["iters"] == [c["total"] for c in program_cycles(prog, 32, 32)]
    # the datapath the xczu9eg gets for this program: 3 window columns per gather cycle, wide beats, the fusions
    from srhw.export.engine import datapath_for_graph
    from srhw.hw.parts import get_part

    dp = datapath_for_graph(g, get_part("xczu9eg"))
    assert dp.gcols > 1
    z = run_engine_csim(g, big[:, :16, :16], tmp_path / "zu9eg", native=True, count_iters=True, datapath=dp)
    assert z["mismatches"] == 0 and z["iters"] == [c["total"] for c in program_cycles(compile_program(g, datapath=dp), 16, 16)]
    print({golden: {k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items() if k != "outputs"},
           "native_32x32": {k: (round(v, 2) if isinstance(v, float) else v) for k, v in n.items() if k != "outputs"}})
