"""`python -m srhw rtl stream`: compile an integer golden graph into the streaming AXI4-Stream top.

    python -m srhw rtl stream (--graph DIR | --checkpoint CKPT | --random-seed N) --out DIR [--part xc7z020] [--fps 30]
                              [--out-frame 1280x720] [--clock-mhz 150] [--no-synth] [--no-sim] [--pnr] [--verilog-only]

Writes DIR (replaced atomically): the Verilog, benches, README, Makefile and `stream_rtl.json` (the
report row: Yosys resources, cocotb bit-exactness and cycles per frame, fps, roofline ratio; with --pnr
the ECP5 Fmax). Bad input (an op the compiler cannot build, an fps the part cannot meet, a frame the
buffers cannot hold): one error line, exit 2, nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path

from srhw.core.errors import SrhwError


def add_graph_source(p):
    """The graph a streaming design is built from (one of three), its output folder and part: `rtl stream`'s and
    `rtl stream-hls`'s common flags."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--graph", help="integer golden graph folder (graph.json + graph.npz)")
    src.add_argument("--checkpoint", help="INT8 checkpoint whose .json sidecar names its golden graph ('golden')")
    src.add_argument("--random-seed", type=int, help="a small random INT8 graph (rtl.stream.example; labelled random)")
    p.add_argument("--out", required=True, help="output folder (replaced)")
    p.add_argument("--part", default="xc7z020", help="FPGA part (srhw.hw.parts)")


def add_arguments(kernels):
    p = kernels.add_parser("stream", help="whole-network streaming RTL (AXI4-Stream video) of an integer golden graph")
    add_graph_source(p)
    p.add_argument("--fps", type=float, default=30.0, help="target frames/s of the output frame")
    p.add_argument("--out-frame", default="1280x720", metavar="WxH",
                   help="HR output frame the top is generated for (a multiple of the scale; default 1280x720)")
    p.add_argument("--clock-mhz", type=float, default=150.0, help="clock the folding and fps assume (MHz)")
    p.add_argument("--no-synth", action="store_true", help="skip Yosys synth_xilinx")
    p.add_argument("--no-sim", action="store_true", help="skip the cocotb benches")
    p.add_argument("--pnr", action="store_true", help="also synth_ecp5 + nextpnr-ecp5 (LFE5U-85F, minutes)")
    p.add_argument("--sim", default="verilator", choices=("verilator", "icarus"))
    p.add_argument("--set5", action="store_true", help="also stream every whole Set5 LR image (Y) bit-exact with "
                                                       "back-pressure (one Verilator build per image size; slow)")
    p.add_argument("--images", help="with --set5: only these Set5 images (comma-separated names, e.g. bird,head)")
    p.add_argument("--report", help="also write the stream_rtl row (with this command line) to this JSON file")
    p.set_defaults(_kernel=run)

    q = kernels.add_parser("stream-report", help="combine stream_rtl rows of parallel runs into one report")
    q.add_argument("rows", nargs="+", help="--report files of `srhw rtl stream` runs of the same graph")
    q.add_argument("--out", required=True, help="combined JSON (e.g. rtl/reports/stream_<model>.json)")
    q.add_argument("--note", default="", help="what the graph is and how the machine was loaded")
    q.set_defaults(_kernel=run_report)


def frame_size(text: str) -> tuple:
    """'1280x720' -> (1280, 720); SrhwError on anything else."""
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) < 1 or int(h) < 1:
        raise SrhwError(f"--out-frame {text!r}: expected WxH in pixels, e.g. 1280x720")
    return int(w), int(h)


def golden_of(ckpt) -> Path:
    """The golden graph folder of a checkpoint: its sidecar's `golden` (relative to it), else <stem>.golden."""
    ckpt = Path(ckpt)
    if not ckpt.is_file():
        raise SrhwError(f"checkpoint not found: {ckpt}")
    side = ckpt.with_suffix(".json")
    folder = None
    if side.is_file():
        try:
            g = json.loads(side.read_text()).get("golden")
        except ValueError:
            raise SrhwError(f"{side}: not valid JSON") from None
        folder = ckpt.parent / g if g else None
    folder = folder or ckpt.with_suffix(".golden")
    if not folder.is_dir():
        raise SrhwError(f"{ckpt}: no integer golden graph ({folder} missing); pass --graph")
    return folder


def load(args):
    if args.graph or args.checkpoint:
        from srhw.quant.graph import load_graph

        return load_graph(Path(args.graph) if args.graph else golden_of(args.checkpoint))
    from rtl.stream.example import random_graph

    return random_graph(args.random_seed)


def run(args) -> int:
    from srhw.hw.parts import get_part

    from rtl.stream.flow import build_stream

    if args.fps <= 0 or args.clock_mhz <= 0:
        raise SrhwError(f"--fps and --clock-mhz must be positive, got {args.fps} and {args.clock_mhz}")
    out_frame = frame_size(args.out_frame)
    g = load(args)
    images = None
    if args.set5:
        from rtl.stream.verify import set5_y

        images = set5_y(int(g.meta.get("scale", 2)), names=[n for n in (args.images or "").split(",") if n])
    row = build_stream(g, get_part(args.part), args.fps, args.clock_mhz, Path(args.out), synth=not args.no_synth,
                       simulate=not args.no_sim, pnr=args.pnr, sim=args.sim, images=images, out_frame=out_frame)
    if args.report:
        import shlex
        import sys

        from srhw.core.io import write_json

        row = {"command": "python -m srhw rtl " + " ".join(shlex.quote(a) for a in sys.argv[sys.argv.index("stream"):]),
               **row}
        write_json(Path(args.report), row)
    keep = ("fits", "utilisation", "cycles_per_frame", "fps", "meets_target", "latency_cycles", "roofline_ratio")
    print(json.dumps({k: row[k] for k in keep if k in row}, indent=1, default=float))
    return 0


def run_report(args) -> int:
    from srhw.core.io import write_json

    from rtl.stream.report import combine

    rows = []
    for f in args.rows:
        try:
            rows.append(json.loads(Path(f).read_text()))
        except (OSError, ValueError) as e:
            raise SrhwError(f"{f}: cannot read a stream_rtl row ({type(e).__name__})") from None
    write_json(Path(args.out), combine(rows, args.note))
    return 0
