"""Parts table and the analytic estimate: hand-computed layers, folding, fit, roofline."""

import math
import sys
from pathlib import Path

import pytest

from srhw.core.errors import SrhwError
from srhw.export.engine.cost import cycles as ecc, area as ecr, search as ecs
from srhw.export import estimate as est
from srhw.export.engine import FIELDS, OPS, Datapath, compile_program, datapath_for_graph, program_cycles, run_engine_csim
from srhw.hw.parts import PARTS, get_part
from srhw.profile import count_ops
from srhw.quant import load_graph

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "st_bl_r_2c_out-x2.golden"


@pytest.fixture(scope="module")
def st_bl_graph():
    return load_graph(SHIPPED)


def test_parts_table_capacities():
    z = get_part("xc7z020")
    assert z.capacity() == {"lut": 53_200, "ff": 106_400, "dsp": 220, "bram": 140}  # hardware.md / DS190
    assert get_part("xczu9eg").capacity() == {"lut": 274_080, "ff": 548_160, "dsp": 2_520, "bram": 912}
    full = get_part("xc7z020clg484-1")
    assert full.name == "xc7z020clg484-1" and full.capacity() == z.capacity(), "package/speed kept, capacities the device's"
    assert set(PARTS) == {"xc7z020", "xc7z045", "xczu3eg", "xczu9eg", "xcku040"}
    for p in PARTS.values():
        assert p.source and p.lut < p.ff and p.dsp > 0 and p.bram > 0


def test_unknown_part_lists_known_ones():
    with pytest.raises(SrhwError) as e:
        get_part("xc7a35t")
    msg = str(e.value)
    assert "\n" not in msg and all(name in msg for name in PARTS)
    with pytest.raises(SrhwError):
        get_part("xc7z0201")  # another number, not a suffix


def test_layers_sum_to_table5_counts():
    layers = est.model_layers("st_bl(r=2c_out)", 2)
    ops = count_ops("st_bl(r=2c_out)", 2)
    assert sum(l.mults_per_pixel * l.pixels for l in layers) == ops.mults
    assert sum(l.adds_per_pixel * l.pixels for l in layers) == ops.adds


def test_hand_computed_sp_layer():
    """A 3x3 64->64 SP conv with r = 128 at 640x360: 128 mults, 128*575 + 64*127 adds per pixel."""
    layers = {l.name: l for l in est.model_layers("st_bl(r=2c_out)", 2)}
    l = layers["body.0.body.0.body.0"]
    assert (l.kind, l.r, l.mults_per_pixel, l.adds_per_pixel) == ("sp", 128, 128, 128 * 575 + 64 * 127)
    assert l.pixels == 640 * 360 and l.adder_bits == 8 + math.ceil(math.log2(576)) + 1
    c = est._block_cost(l, 4)
    assert c.dsp == 32 and c.lut == math.ceil(l.adds_per_pixel / 4) * l.adder_bits + est.PER_LAYER_LUT
    # BRAM18 512 x 36 tiles (srhw.hw.bram): line buffer 1280 deep x 512 bits = 3 x 15 = 45 -> 23 BRAM36;
    # 165,888 weight bits packed 36 wide = 4608 deep = 9 BRAM18 -> 5 BRAM36
    assert l.weight_bits == 165_888 and c.bram == 23 + 5
    assert est._block_cost(l, 1).bram == 23, "R=1 ternary is hard-wired"


def test_set_folding_meets_budget_and_block_limit():
    part = get_part("xczu9eg")
    layers = est.model_layers("st_bl(r=2c_out)", 2)
    costs, fits = est.SetFolding(part).apply(layers)
    assert fits, "st_bl x2 dataflow should fold into a ZU9EG"
    tot = est._totals(costs)
    assert tot["lut"] <= est.LUT_BUDGET * part.lut and tot["dsp"] <= part.dsp and tot["bram"] <= est.BRAM_BUDGET * part.bram
    for l, c in zip(layers, costs):
        assert math.ceil(l.mults_per_pixel / c.reuse_factor) <= est.MAX_BLOCK_MULTS, "unrolled block over 4096 mults"
        assert math.ceil(l.lut_adds_per_pixel / c.reuse_factor) <= est.MAX_BLOCK_MULTS
    # the slowest block sets the pace; folding balances: no block is much faster than needed by more than 25 %
    slow = max(c.cycles_per_frame for c in costs)
    assert all(c.cycles_per_frame <= slow for c in costs)


def test_st_bl_on_7020_falls_back_to_layer_sequential(st_bl_graph):
    e = est.estimate("st_bl(r=2c_out)", 2, get_part("xc7z020"), clock_mhz=150, graph=st_bl_graph)
    assert e["architecture"] == "layer-sequential" and e["fits"]
    assert not e["alternative"]["fits"] and e["alternative"]["totals"]["bram"] > 140, "full-frame dataflow cannot fit (hardware.md)"
    t = e["chosen"]["totals"]
    assert t["lut"] <= 53_200 and t["dsp"] <= 220 and t["bram"] <= 140
    r = e["roofline"]
    assert 0 < e["fps_720p"] <= r["fps"] * (1 + 1e-9), "an estimate cannot beat its roofline"
    assert r["bound"] == "lut adds" and r["assumptions"]["clock_mhz"] == 150
    # roofline by hand: dense adds / (lanes x f)
    lanes = int(0.85 * 53_200) // r["assumptions"]["luts_per_adder"]
    assert r["compute_time_s"] == pytest.approx(r["lut_adds_per_frame"] / (lanes * 150e6))
    assert all(x["source"] == "analytic" for x in e["chosen"]["layers"])
    assert len(e["ca_buffer"]) == 10 and e["ca_buffer"][0]["bytes"] == 360 * 640 * 64


def test_impossible_fit_is_one_line_error(monkeypatch, st_bl_graph):
    import srhw.hw.budget as budget

    monkeypatch.setattr(budget, "BUDGET", budget.Budget(bram=0.01))  # nothing with a line buffer fits
    with pytest.raises(SrhwError) as e:
        est.estimate("st_bl(r=2c_out)", 2, get_part("xc7z020"), graph=st_bl_graph)
    assert "does not fit xc7z020" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(SrhwError, match="golden graph"):
        est.estimate("bl", 2, get_part("xc7z020"))


# --- the written engine's cost model (srhw.export.engine.cost) ------------------------------------

def test_datapath_per_part_respects_its_budget():
    """Each part's datapath (on the reference layers) fits its budgets with its buffers; a bigger part gets more."""
    chosen = {}
    for p in PARTS.values():
        dp = ecs.datapath_for(p)
        cfg = ecs._needs(ecs._REF_CONFIG, [(d, 1) for d in ecs._REF], dp)
        res = ecr.resources(cfg, dp, p.family)
        assert res["dsp"] <= est.DSP_BUDGET * p.dsp and res["lut"] <= est.LUT_BUDGET * p.lut, (p.name, dp, res)
        assert res["bram"] <= est.BRAM_BUDGET * p.bram, (p.name, dp, res)
        chosen[p.name] = dp
    z, u = chosen["xc7z020"], chosen["xczu9eg"]
    assert z != u, "a bigger part gets a wider datapath"
    assert u.b_lanes * u.tsimd > z.b_lanes * z.tsimd and u.lanes * u.simd > z.lanes * z.simd


def test_adder_tree_and_stage_rules_by_hand():
    # a balanced tree of 4 inputs of 9 bits: two 10-bit adders and one 11-bit adder
    assert ecr.tree_bits(4, 9) == 2 * 10 + 11 and ecr.tree_bits(3, 9) == 10 + 11 and ecr.tree_bits(1, 9) == 0
    dp = Datapath(lanes=4, simd=8, tsimd=32, b_lanes=16, c_lanes=4, c_tsimd=16, gather=16, ew=4, beat=16, pack=1)
    sp = {"OP": OPS["sp_conv"], "F": 1, "GROUPS": 1, "KH": 3, "KW": 3, "HID": 128, "IN0_C": 64, "OUT_C": 64,
          "IN0_T": 0, "OUT_T": 0, "IN1_T": 0}
    c = ecc.descriptor_cycles(sp, dp, 10, 20)
    # per pixel: load 64/16 beats, gather 9 x 64/16, W_b 128/16 tiles x 576/32, W_c 64/4 tiles x 128/16, store 4
    assert c["stages"] == {"load": 4, "gather": 36, "mac": 144, "wc": 128, "store": 4} and c["bound"] == "mac"
    assert c["pixels"] == 10 * 20 * 144, "a pixel costs its slowest stage, not the sum"
    add = dict(sp, OP=OPS["add"], IN1_T=2)  # an int16 operand: 8 codes per beat, EW = 4 codes per cycle
    assert ecc.descriptor_cycles(add, dp, 10, 20)["pixels"] == 10 * 20 * 64 // 4


def test_dsp48_and_bram36_rules_by_hand():
    assert ecr.dsp48(8, 9) == 1 and ecr.dsp48(48, 32) == 4  # 48x32 on 25x18: 2 x 2 tiles
    assert ecr.bram36(7692, 9) == 2  # 2Kx9 BRAM18: 4 deep -> 2 BRAM36
    assert ecr.bram36(640, 256) == 8  # 512x36: 2 deep x 8 wide = 16 BRAM18
    assert ecr.bram36(1, 1) == 1  # a partition never shares a BRAM36


# (spec, scale, store fusions): the unfused rows keep the CA pool pass and the pixel-shuffle pass covered
COUNTED = [("st_bl(r=2c_out)", 2, True), ("st_bl(r=c_out, g=4)", 2, True), ("bls2", 2, True),
           ("blrn-e(r=2)[rb]", 2, True), ("bl-e", 3, True), ("st_bl(r=2c_out)", 2, False), ("blrn-e(r=2)[rb]", 2, False)]


@pytest.fixture(scope="module")
def counting_engine(tmp_path_factory):
    """One -DSRHW_COUNT_ITERS tb_engine (native types; ap_int: test_hls_engine) whose buffers cover the COUNTED
    graphs: the program and weights are runtime data, so one compile serves them all (suite time)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_hls_engine import tiny_graph

    from srhw.export.engine import EngineConfig, compile_testbench, write_project

    graphs = {(s, k): tiny_graph(s, k) for s, k, _ in COUNTED}
    cfg = EngineConfig()
    for (s, k, fused) in COUNTED:
        cfg = cfg.union(compile_program(graphs[(s, k)], store_fusions=fused).config)
    work = tmp_path_factory.mktemp("counting")
    g0 = next(iter(graphs.values()))
    write_project(g0, work / "proj", config=cfg, program=compile_program(g0))
    compile_testbench(work / "proj", work / "tb_count", native=True, count_iters=True)
    return work / "tb_count", cfg, graphs


@pytest.mark.parametrize("spec,scale,fused", COUNTED)
def test_cycles_equal_the_engines_loop_iterations(spec, scale, fused, counting_engine, tmp_path):
    """The cost model counts exactly the pipelined-loop iterations a -DSRHW_COUNT_ITERS C-sim of the engine counts,
    descriptor by descriptor (sp_conv, grouped sp_conv, conv, CA, add, slice/concat/shuffle, interleave, x3 shuffle;
    with and without the store fusions), and the C-sim is bit-exact."""
    from test_hls_engine import test_images

    binary, cfg, graphs = counting_engine
    g = graphs[(spec, scale)]
    h, w = 9, 11
    r = run_engine_csim(g, test_images(h, w), tmp_path, binary=binary, config=cfg, count_iters=True, native=True,
                        store_fusions=fused)
    assert r["mismatches"] == 0
    prog = compile_program(g, store_fusions=fused)
    pred = [c["total"] for c in program_cycles(prog, h, w)]
    assert r["iters"] == pred, [(n, a, b) for n, a, b in zip(prog.names, r["iters"], pred) if a != b][:5]


def test_store_fusions_apply_and_save_cycles():
    """The CA channel sums ride on the store of the op before the CA (a sum-product conv in st_bl, an add in ERUM) and
    the pixel shuffle is the upsampling conv's store map: fewer descriptors and cycles, the same DDR writes."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_hls_engine import tiny_graph

    f = {k: FIELDS.index(k) for k in ("OP", "SUMS", "PS")}
    for spec, producer in (("st_bl(r=2c_out)", "sp_conv"), ("blrn-e(r=2)[rb]", "add")):
        g = tiny_graph(spec, 2)
        on, off = compile_program(g), compile_program(g, store_fusions=False)
        n_ca = sum(n.op == "ca" for n in g.nodes)
        summing = [d for d in on.descs if d[f["SUMS"]] and d[f["OP"]] != OPS["ca"]]
        assert len(summing) == n_ca and {d[f["OP"]] for d in summing} == {OPS[producer]}
        assert sum(d[f["SUMS"]] for d in on.descs if d[f["OP"]] == OPS["ca"]) == n_ca
        assert not any(d[f["SUMS"]] or d[f["PS"]] for d in off.descs)
        cyc = [sum(c["total"] for c in program_cycles(p, 9, 11)) for p in (on, off)]
        assert cyc[0] < cyc[1], (spec, cyc)
    st = compile_program(tiny_graph("st_bl(r=2c_out)", 2))
    assert [d[f["PS"]] for d in st.descs if d[f["PS"]]] == [2]
    assert not any(d[f["OP"]] == OPS["pixel_shuffle"] for d in st.descs)


@pytest.mark.parametrize("spec,dp", [
    ("st_bl(r=2c_out)", Datapath(lanes=3, simd=5, tsimd=24, b_lanes=5, c_lanes=3, c_tsimd=8, gather=4, ew=3, beat=32,
                                    pack=1, gcols=3)),
    ("blrn-e(r=2)[rb]", Datapath(lanes=5, simd=7, tsimd=8, b_lanes=0, c_lanes=0, c_tsimd=4, gather=8, ew=5, beat=64,
                                    pack=1, gcols=2)),
])
def test_any_datapath_is_bit_exact_and_counted(spec, dp, tmp_path):
    """Lane counts that are not powers of two, an odd packed lane, 32- and 64-byte beats, no ternary array (INT8),
    several window columns per gather cycle (3 of a 3-wide row; 2: a row in two steps; and the one-column fallback
    where a tap's channels exceed the gather width): still bit-exact, and the model still counts the C-sim's
    iterations."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_hls_engine import test_images, tiny_graph

    g = tiny_graph(spec, 2)
    cigs = {d["IN0_C"] // max(d["GROUPS"], 1) for d in (dict(zip(FIELDS, v)) for v in compile_program(g).descs)
            if d["OP"] in (OPS["conv"], OPS["sp_conv"]) and d["KW"] > 1}
    assert min(cigs) <= dp.gather < max(cigs), "both gather paths: several columns per cycle, and one"
    r = run_engine_csim(g, test_images(7, 10), tmp_path, datapath=dp, count_iters=True, native=True)
    assert r["mismatches"] == 0
    prog = compile_program(g, datapath=dp)
    assert r["iters"] == [c["total"] for c in program_cycles(prog, 7, 10)]


def test_st_bl_engine_fits_the_7020(st_bl_graph):
    """st_bl(r=2c_out) x2: the written engine's declared buffers, multipliers and adders fit the xc7z020."""
    part = get_part("xc7z020")
    ls = est.estimate_layer_sequential(st_bl_graph, part, 150, 2)
    assert ls.fits
    t = ls.totals
    assert t["bram"] <= est.BRAM_BUDGET * part.bram and t["dsp"] <= part.dsp and t["lut"] <= est.LUT_BUDGET * part.lut
    dp = Datapath(**ls.engine["config"])
    assert dp == datapath_for_graph(st_bl_graph, part)
    res = ecr.resources(compile_program(st_bl_graph, datapath=dp).config, dp, part.family)
    assert t["bram"] == sum(m["bram36"] for m in res["breakdown"]["memories"])
    assert t["dsp"] == sum(m["dsp"] for m in res["breakdown"]["multipliers"])
    # the totals are the engine's loops at 720p (360 x 640 LR), one layer after the other
    assert ls.cycles_per_frame == sum(c["total"] for c in program_cycles(compile_program(st_bl_graph, datapath=dp), 360, 640))
    assert ls.fps_720p <= 150e6 / ls.cycles_per_frame * (1 + 1e-9)
    sp = [l for l in ls.layers if l.kind == "sp_conv"]
    assert sp and all(l.reuse_factor == math.ceil(l.cycles_per_pixel) for l in sp)


def test_one_bram36_mapping():
    """srhw.hw.bram: the cheapest BRAM18 aspect ratio, pairs rounded up to BRAM36 (by hand)."""
    from srhw.hw.bram import bram36

    assert bram36(0, 8) == 0 and bram36(512, 36) == 1 and bram36(512, 72) == 1 and bram36(1024, 72) == 2
    assert bram36(16384, 1) == 1 and bram36(2048, 9) == 1 and bram36(2048, 10) == 1 and bram36(4096, 10) == 2  # 1K x 18: 2 then 4 BRAM18
    assert bram36(64, 1000) == 14  # 28 BRAM18 of 512 x 36


def test_one_budget_and_fold_search():
    from srhw.hw.budget import BUDGET, Budget, bounding, within
    from srhw.hw.fold import fold

    p = get_part("xc7z020")
    assert within({"lut": int(0.85 * p.lut), "dsp": p.dsp, "bram": int(0.9 * p.bram)}, p)
    assert not within({"lut": int(0.85 * p.lut) + 1, "dsp": 0, "bram": 0}, p)
    assert not within({"lut": 0, "dsp": 0, "bram": 1}, p, Budget(bram=0.0)) and BUDGET.bram == 0.9
    assert bounding({"lut": 10, "ff": 0, "dsp": 110, "bram": 7}, p) == ("dsp", 0.5)
    # closest to its budget, not to the capacity: LUT at 84 % of the part is 98.8 % of its 85 % budget, BRAM at
    # 88 % is 97.8 % of its 90 %
    lut, bram = round(0.84 * p.lut), round(0.88 * p.bram)
    assert bounding({"lut": lut, "ff": 0, "dsp": 0, "bram": bram}, p) == ("lut", lut / p.lut)
    # two blocks of 100 and 10 units of work; cost = units needed at target T; fits when <= 30 units in all
    costs, ok, T = fold([100, 10], lambda w, T: -(-w // T), lambda cs: sum(cs) <= 30, start=1, limit=1000)
    assert ok and sum(costs) <= 30 and T >= 4
    costs, ok, T = fold([100], lambda w, T: None, lambda cs: True, start=1, limit=50)
    assert not ok and T == 50
