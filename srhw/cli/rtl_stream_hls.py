"""`python -m srhw rtl stream-hls`: the hls4ml side of a streaming RTL design (srhw.flows.stream_hls).

    python -m srhw rtl stream-hls (--graph DIR | --checkpoint CKPT | --random-seed N) --out DIR [--part xc7z020]
                                  [--fps 30] [--clock-mhz 150] [--out-frame 1280x720] [--crop 16] [--no-csim]
                                  [--report FILE]

Writes DIR (replaced as a whole): `hls/`, the hls4ml Vitis project (io_stream) for the LR frame with each
conv's reuse factor from the same folding `srhw rtl stream` builds, and `stream_hls.json`. Unless
--no-csim, a second project at `--crop` pixels is C-simulated with g++ on 2 Set5 LR centre crops (Y),
a random, an all-0, an all-255 and a checkerboard frame, every output value compared with the golden
executor. Where hls4ml's toolchain is absent the C-simulation is skipped and the row says why. Bad input
(the checks of `srhw rtl stream`): one line, exit 2, nothing written.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from srhw.cli.common import CLOCK_MHZ, examples, number
from srhw.core.errors import SrhwError

FPS = number(0.0, 1000.0, lo_open=True)
EXAMPLES = examples(
    "python -m srhw rtl stream-hls --checkpoint models/fsrcnn_d32_s5_m1-x2-int8.safetensors --out runs/stream_hls",
    "python -m srhw rtl stream-hls --random-seed 0 --out /tmp/sh --no-csim")


def add_arguments(kernels):
    from rtl.stream.cli import add_graph_source

    p = kernels.add_parser("stream-hls", help="hls4ml project (io_stream) of a streaming RTL design, reuse factors "
                                              "from its folding, C-simulated bit-exact", epilog=EXAMPLES)
    add_graph_source(p)
    p.add_argument("--fps", type=FPS, default=30.0, help="target frames/s of the output frame (the folding)")
    p.add_argument("--clock-mhz", type=CLOCK_MHZ, default=150.0, help="clock the folding assumes (MHz)")
    p.add_argument("--out-frame", default="1280x720", metavar="WxH", help="HR output frame (default 1280x720)")
    p.add_argument("--crop", type=int, default=16, help="LR size of the C-simulated frames (square; default 16)")
    p.add_argument("--no-csim", action="store_true", help="only write the project")
    p.add_argument("--report", help="also write the row (with this command line) to this JSON file")
    p.set_defaults(_kernel=run)


def csim_frames(graph, crop: int) -> np.ndarray:
    """(6, crop, crop, C) uint8: 2 Set5 LR centre crops (Y for a 1-channel graph), random, 0, 255, checkerboard."""
    from srhw.export.qkeras import input_channels

    c = input_channels(graph)
    frames = []
    if c == 1:
        from rtl.stream.verify import set5_y

        for im in list(set5_y(int(graph.meta.get("scale", 2))).values())[:2]:
            y0, x0 = (im.shape[0] - crop) // 2, (im.shape[1] - crop) // 2
            frames.append(im[y0:y0 + crop, x0:x0 + crop])
    rng = np.random.default_rng(0)
    frames += [rng.integers(0, 256, (crop, crop, c)), np.zeros((crop, crop, c)), np.full((crop, crop, c), 255),
               (np.indices((crop, crop)).sum(0) % 2 * 255)[..., None].repeat(c, 2)]
    return np.stack(frames).astype(np.uint8)


def run(args) -> int:
    from srhw.core.io import write_json
    from srhw.flows.stream_hls import csim, toolchain_missing, write_project
    from srhw.hw.parts import get_part

    from rtl.stream.cli import frame_size, load
    from rtl.stream.flow import check_design, graph_digest

    if args.fps <= 0 or args.clock_mhz <= 0:
        raise SrhwError(f"--fps and --clock-mhz must be positive, got {args.fps} and {args.clock_mhz}")
    if args.crop < 1:
        raise SrhwError(f"--crop {args.crop}: must be at least 1")
    out_frame = frame_size(args.out_frame)
    g = load(args)
    part = get_part(args.part)
    folding, plan, _ = check_design(g, part, args.fps, args.clock_mhz, out_frame)
    row = {"design": "hls4ml_stream", "part": part.name, "target_fps": args.fps, "clock_mhz": args.clock_mhz,
           "in_frame": [plan.width, plan.height], "out_frame": [plan.out_width, plan.out_height],
           "folding": {k: list(v) for k, v in folding["folds"].items()}, "schedule": folding,
           "buffer_bits": plan.buffer_bits, "graph_sha256": graph_digest(g),
           "graph_source": g.meta.get("source", g.meta.get("spec", ""))}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".stream_hls_", dir=out.parent))
    try:
        hls = write_project(g, folding, tmp, part.name, args.clock_mhz)
        why = toolchain_missing() if not args.no_csim else "--no-csim"
        if why:
            hls["csim"] = {"ran": False, "why": why}
        else:
            frames = csim_frames(g, args.crop)
            hls["csim"] = {"ran": True, **csim(g, folding, frames, tmp / "_csim"),
                           "inputs": ("2 Set5 LR centre crops (Y), " if frames.shape[-1] == 1 and len(frames) == 6 else "")
                           + "random, all-0, all-255, checkerboard"}
            shutil.rmtree(tmp / "_csim", ignore_errors=True)
        row["hls"] = hls
        write_json(tmp / "stream_hls.json", row)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if args.report:
        import shlex
        import sys

        cmd = "python -m srhw rtl " + " ".join(shlex.quote(a) for a in sys.argv[sys.argv.index("stream-hls"):])
        write_json(Path(args.report), {"command": cmd, **row})
    c = row["hls"]["csim"]
    print(json.dumps({"reuse_requested": hls["reuse_requested"], "reuse_used": hls["reuse_used"],
                      "csim": {k: c[k] for k in ("ran", "why", "checked", "mismatches", "compile_s") if k in c}}))
    return 0
