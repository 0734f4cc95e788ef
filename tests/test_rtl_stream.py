"""rtl.stream: the streaming network compiler's pieces against the golden executor (amaranth.sim), its
checks on bad input, folding, and byte-identical Verilog. The whole top through cocotb: sim/test_stream.py."""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from srhw.core.errors import SrhwError
from srhw.quant.golden import Golden, data_move
from srhw.quant.graph import QNode
from srhw.hw.parts import get_part
from rtl.stream.compiler import plan_graph
from rtl.stream.conv import ConvLayer, Port, csd, pack_ok
from rtl.stream.example import random_graph
from rtl.stream.folding import check_dsp, choose_folding
from rtl.stream.shuffle import PixelShuffle
from rtl.stream.top import StreamTop, to_verilog


def _stream(dut, words, n_out, cycles, seed=0, vp=0.7, rp=0.6):
    """Drive i_* with random valid gaps and o_ready with random back-pressure; return the o_data words."""
    rng = random.Random(seed)
    got = []

    async def tb(ctx):
        i = 0
        for _ in range(cycles):
            offer = i < len(words) and rng.random() < vp
            ctx.set(dut.i_valid, int(offer))
            ctx.set(dut.i_data, words[i] if offer else rng.getrandbits(len(dut.i_data)))
            ready = rng.random() < rp
            ctx.set(dut.o_ready, int(ready))
            if ready and ctx.get(dut.o_valid):
                got.append(ctx.get(dut.o_data))
            if offer and ctx.get(dut.i_ready):
                i += 1
            await ctx.tick()
            if len(got) == n_out:
                break

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return got


def _pack(vals, bits=8):
    return sum((int(v) & ((1 << bits) - 1)) << (bits * i) for i, v in enumerate(vals))


def test_csd_and_packing_bounds():
    for w in range(-128, 128):
        digits = csd(w)
        assert sum(s << k for s, k in digits) == w
        assert all(b[1] - a[1] >= 2 for a, b in zip(digits, digits[1:]))  # non-adjacent form
    assert pack_ok(255, 128) and not pack_ok(1024, 128)


@pytest.mark.parametrize("c_out,fold", [(4, (1, 1)), (5, (1, 1)), (5, (2, 3)), (3, (1, 25)), (5, (5, 2)), (6, (2, 1))])
def test_conv_layer_matches_golden(c_out, fold):
    g = random_graph(seed=c_out + sum(fold), c=c_out)
    n = g.nodes[0]  # head: 5x5, 1 -> c_out channels, uint8 in
    H, W = 4, 6
    dut = ConvLayer(g.param(n, "W"), g.param(n, "B"), g.param(n, "M"), g.param(n, "SH"), n.attrs["out_lo"],
                    n.attrs["out_hi"], Port(1, 8, False), Port(c_out, 8, True), W, H, fold)
    rng = np.random.default_rng(sum(fold))
    frames = [np.full((H, W), 255), np.zeros((H, W)), rng.integers(0, 256, (H, W))]
    x = np.stack(frames)[:, None].astype(np.uint8)
    want = Golden(g).run_all(x)["head"].transpose(0, 2, 3, 1).reshape(-1, c_out)
    words = [int(v) for v in x.reshape(-1)]
    got = _stream(dut, words, len(want), 200 + 4 * len(words) * dut.fold)
    assert got == [_pack(w) for w in want]


@pytest.mark.parametrize("fold", [(1, 1), (2, 2)])
def test_pointwise_conv_matches_golden(fold):
    g = random_graph(seed=4, c=4, pointwise=True)
    n = next(n for n in g.nodes if n.name == "pw")  # 1x1, 4 -> 4, int8 in
    H, W = 3, 5
    dut = ConvLayer(g.param(n, "W"), g.param(n, "B"), g.param(n, "M"), g.param(n, "SH"), n.attrs["out_lo"],
                    n.attrs["out_hi"], Port(4, 8, True), Port(4, 8, True), W, H, fold)
    x = np.random.default_rng(1).integers(0, 101, (2, 4, H, W))  # the act stage's range
    g.nodes, g.output, n.inputs = [n], "pw", ["input"]
    g.tensors["input"] = g.tensors["act"]
    want = Golden(g, check=False).run_all(x)["pw"].transpose(0, 2, 3, 1).reshape(-1, 4)
    words = [_pack(x[b, :, i, j]) for b in range(2) for i in range(H) for j in range(W)]
    got = _stream(dut, words, len(want), 100 + 4 * len(words) * dut.fold, seed=2)
    assert got == [_pack(w) for w in want]


def test_pixel_shuffle_matches_golden():
    H, W, r = 3, 5, 2
    dut = PixelShuffle(Port(8, 8, False), r, W)
    x = np.random.default_rng(0).integers(0, 256, (2, 8, H, W))
    want = data_move("pixel_shuffle", {"r": r}, [x]).transpose(0, 2, 3, 1).reshape(-1, 2)
    words = [_pack(x[b, :, i, j]) for b in range(2) for i in range(H) for j in range(W)]
    got = _stream(dut, words, len(want), 3000, seed=3)
    assert got == [_pack(w) for w in want]


def test_same_inputs_give_byte_identical_verilog():
    g = random_graph(1)
    a = to_verilog(StreamTop(g, plan_graph(g, 8, 6, {"body": (2, 3)})))
    b = to_verilog(StreamTop(random_graph(1), plan_graph(random_graph(1), 8, 6, {"body": (2, 3)})))
    assert a == b and "s_axis_video_tready" in a and "m_axis_video_tlast" in a and "aresetn" in a
    c = to_verilog(StreamTop(g, plan_graph(g, 8, 6, {"body": (3, 2)})))
    assert c != a


def test_bad_graphs_name_the_layer_and_the_limit():
    g = random_graph(0)
    g.nodes[1].op = "ca"
    with pytest.raises(SrhwError, match="layer body: op 'ca' has no streaming RTL"):
        plan_graph(g, 8, 8)
    g = random_graph(0)
    g.nodes[1].attrs["padding"] = [0, 0]
    with pytest.raises(SrhwError, match="layer body: padding"):
        plan_graph(g, 8, 8)
    g = random_graph(0)
    with pytest.raises(SrhwError, match="layer .*line buffers|buffers need"):
        plan_graph(g, 200000, 8)
    g = random_graph(0)
    g.nodes.append(QNode("extra", "act", ["head"], {"out_lo": 0, "out_hi": 1}))
    g.tensors["extra"] = g.tensors["head"]
    with pytest.raises(SrhwError, match="layer extra: its output is never used"):
        plan_graph(g, 8, 8)


def test_folding_is_balanced_and_meets_the_budget():
    g = random_graph(0, c=16)
    f = choose_folding(g, fps=30, clock_mhz=150)
    assert f["in_frame"] == [640, 360] and f["budget_cycles"] == 5_000_000
    convs = [l for l in f["layers"] if l["op"] == "conv"]
    for l in convs:
        assert l["cycles_per_frame"] <= f["budget_cycles"]
        # balanced: the next-faster folding with the same multiplier count is not smaller
        assert l["cycles_per_frame"] > 0.5 * f["budget_cycles"] or l["multipliers"] == 1 or l["cycles_per_pixel"] >= l["macs_per_pixel"] // 2
    assert max(l["cycles_per_frame"] for l in convs) <= f["budget_cycles"]
    slow = choose_folding(g, fps=10, clock_mhz=150)
    assert slow["multipliers"] < f["multipliers"]
    with pytest.raises(SrhwError, match="output stage: 1280x720 pixels .* more than the 166666 cycles of 30 fps at 5 MHz"):
        choose_folding(g, fps=30, clock_mhz=5)
    with pytest.raises(SrhwError, match=r"more than xc7z020clg400-1's 220"):
        check_dsp(choose_folding(random_graph(0, c=64), fps=200, clock_mhz=250), get_part("xc7z020"))


def _cli(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "srhw", "rtl", "stream", *args], capture_output=True, text=True)


def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path, srhw_main):
    """The first case through the console script (its real exit status and stderr), the others in-process."""
    g = random_graph(0)
    g.nodes[2].op = "channel_shuffle"
    g.save(tmp_path / "g")
    p = _cli("--graph", str(tmp_path / "g"), "--out", str(tmp_path / "out"), "--no-synth", "--no-sim")
    assert p.returncode == 2 and "layer add: op 'channel_shuffle' has no streaming RTL" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
    p = srhw_main("rtl", "stream", "--random-seed", "0", "--out", tmp_path / "out", "--fps", "400")
    assert p.returncode == 2 and "921600 cycles" in p.stderr and not (tmp_path / "out").exists()
    p = srhw_main("rtl", "stream", "--random-seed", "0", "--out", tmp_path / "out", "--fps", "30", "--part", "xc7z020",
                  "--clock-mhz", "0")
    assert p.returncode == 2 and not (tmp_path / "out").exists()


def test_cli_writes_the_package(tmp_path):
    p = _cli("--random-seed", "2", "--out", str(tmp_path / "out"), "--no-synth", "--no-sim", "--fps", "30")
    assert p.returncode == 0, p.stderr
    out = tmp_path / "out"
    names = {f.name for f in out.iterdir()}
    assert {"srhw_stream.v", "srhw_stream_crop.v", "srhw_stream_rate.v", "stream_tb.py", "stream_rate_tb.py",
            "case.npz", "run_bench.py", "Makefile", "README.md", "stream_rtl.json"} <= names
    assert "PYTHON ?=" in (out / "Makefile").read_text() and "m_axis_video_tready" in (out / "README.md").read_text()
    with np.load(out / "case.npz") as z:
        assert z["frames"].shape[1:] == (32, 32, 1) and z["expected"].shape[1:] == (64, 64, 1)


def test_build_step_names_the_layer_that_does_not_stream():
    from types import SimpleNamespace

    from srhw.flows.build import step_stream_rtl

    g = random_graph(0)
    g.nodes[1].op = "sp_conv"
    cfg = SimpleNamespace(report={})
    assert step_stream_rtl(g, cfg) is g
    assert cfg.report["stream_rtl"] == {"status": "not built: layer body: op 'sp_conv' has no streaming RTL"}


SHIPPED = "models/fsrcnn_d32_s5_m1-x2-int8.safetensors"


def test_cli_fps_the_part_cannot_meet_and_frames_the_buffers_cannot_hold(tmp_path, srhw_main):
    """In-process (the console script's own exit status is tested above)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "out"
    cases = [  # (arguments, the line: the layer and the limit)
        (["--checkpoint", str(root / SHIPPED), "--fps", "60"],
         r"target 60 fps at 150 MHz needs ~\d+ DSP48E1 \(layer tail: \d+ at \d+ cycles/pixel\), more than xc7z020\S*'s 220"),
        (["--random-seed", "0", "--out-frame", "200000x8"],
         r"layer head: line buffers of 3200064 bits for a 100000-pixel line exceed the 2097152-bit limit"),
        (["--random-seed", "0", "--out-frame", "1281x720"], r"output 1281x720 is not a multiple of the network's x2"),
        (["--random-seed", "0", "--out-frame", "12x"], r"--out-frame '12x': expected WxH"),
    ]
    import re

    for args, line in cases:
        p = srhw_main("rtl", "stream", *args, "--out", out, "--no-synth", "--no-sim")
        assert p.returncode == 2, (args, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1 and re.search(line, p.stderr), (args, p.stderr)
        assert not out.exists() and not list(tmp_path.glob(".stream_*"))


def test_build_check_refuses_what_a_real_time_network_cannot_stream():
    from types import SimpleNamespace

    from srhw.flows.build import step_stream_check

    cfg = SimpleNamespace(part=get_part("xc7z020"), target_fps=30.0, clock_mhz=150.0)
    g = random_graph(0)
    assert step_stream_check(g, cfg) is g
    g.nodes[1].op = "sp_conv"
    with pytest.raises(SrhwError, match="layer body: op 'sp_conv' has no streaming RTL"):
        step_stream_check(g, cfg)
    g = random_graph(0)
    with pytest.raises(SrhwError, match="output stage: 1280x720 pixels .* more than the 375000 cycles of 400"):
        step_stream_check(g, SimpleNamespace(part=cfg.part, target_fps=400.0, clock_mhz=150.0))
    g.meta["in_channels"] = 3  # an RGB network that does not stream builds without its streaming RTL
    g.nodes[0].op = g.nodes[1].op = "sp_conv"
    assert step_stream_check(g, cfg) is g


def test_build_of_a_real_time_network_at_an_fps_the_part_cannot_meet_exits_2_writing_nothing(tmp_path, srhw_main):
    """In-process (test_build.py spawns the console script for build's own exit status)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "build"
    p = srhw_main("build", "--model", "fsrcnn(d=32, s=5, m=1)", "--checkpoint", root / SHIPPED, "--fps", "60", "--out", out)
    assert p.returncode == 2, p.stderr
    errors = [l for l in p.stderr.splitlines() if "error" in l]
    assert len(errors) == 1 and "layer tail" in errors[0] and "more than xc7z020" in errors[0] and "'s 220" in errors[0], p.stderr
    assert "Traceback" not in p.stderr and not out.exists() and list(tmp_path.iterdir()) == []


def test_report_combines_rows_and_adds_up_whole_image_subsets():
    from rtl.stream.report import combine

    base = {"graph_sha256": "0" * 64, "part": "xc7z020", "clock_mhz": 150.0, "target_fps": 30.0, "in_frame": [640, 360],
            "out_frame": [1280, 720], "folding": {"a": [1, 2]}, "schedule": {}, "buffer_bits": 1}
    img = lambda n, e: {"image": n, "errors": e, "flag_errors": 0}  # noqa: E731
    out = combine([{**base, "command": "c1", "whole_images": [img("bird", 0)]},
                   {**base, "command": "c2", "whole_images": [img("baby", 0), img("head", None)]}])
    assert [r["image"] for r in out["whole_images"]] == ["bird", "baby", "head"] and out["commands"] == ["c1", "c2"]
    with pytest.raises(SrhwError, match="rows disagree on clock_mhz"):
        combine([base, {**base, "clock_mhz": 100.0}])


def test_set5_subset_by_name():
    from srhw.data import default_data_dir

    from rtl.stream.verify import set5_y

    if not (default_data_dir() / "Set5").is_dir():
        pytest.skip(f"Set5 LR images not found under {default_data_dir()}")
    ims = set5_y(2, names=["bird"])
    assert list(ims) == ["bird"] and ims["bird"].shape == (144, 144, 1) and ims["bird"].dtype == np.uint8
    with pytest.raises(SrhwError, match="no Set5 image 'nope'"):
        set5_y(2, names=["nope"])


def test_a_failed_whole_image_run_is_a_failed_row_not_a_lost_sweep(tmp_path, monkeypatch):
    import rtl.stream.verify as verify
    from rtl.bench import BenchError

    calls = []

    def fake(sim, v, module, tb, build_dir, env):
        calls.append(env["EXPECTED_BEATS"])
        if len(calls) == 1:
            raise BenchError("stream_check_tb wrote no summary; see test.log")
        return {"checked": env["EXPECTED_BEATS"], "errors": 0, "flag_errors": 0, "cycles": 1, "cocotb_pass": True,
                "build_s": 0.0, "run_s": 0.0}

    monkeypatch.setattr(verify, "run_cocotb", fake)
    g = random_graph(0)
    ims = {"a": np.zeros((4, 6, 1), np.uint8), "b": np.full((4, 6, 1), 255, np.uint8)}
    rows = verify.check_whole_images(g, {}, ims, tmp_path, log=lambda *_: None)
    assert [r["image"] for r in rows] == ["a", "b"] and calls == [96, 96]
    assert rows[0]["errors"] is None and not rows[0]["cocotb_pass"] and "no summary" in rows[0]["failed"]
    assert rows[1]["errors"] == 0 and rows[1]["checked"] == 96
