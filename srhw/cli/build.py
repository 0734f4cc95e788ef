"""`srhw build`: lower a quantized zoo model to HLS/RTL designs and report their cost on an FPGA part.

    python -m srhw build --model st_bl --r 2c_out --scale 2 --part xc7z020 [--checkpoint X.safetensors]
                         [--random-weights] [--out build/<spec>-<part>/] [--csim] [--clock 150] [--fps 30]

Parses the flags into a BuildConfig and runs the flow (srhw.flows.build); prints one summary line.
"""

import argparse
from pathlib import Path

from srhw.cli.common import CLOCK_MHZ, R_HELP, add_data, deprecated, model_spec, number
from srhw.core.io import check_out
from srhw.core.errors import SrhwError
from srhw.flows.build import BuildConfig, _slug, default_checkpoint, run_build

EXAMPLES = """examples:
  srhw build --model st_bl --r 2c_out --part xc7z020
  srhw build --model st_bl --r 2c_out --part xczu9eg --clock-mhz 200 --csim
  srhw build --model "blrn-e(r=2)[rb]" --random-weights --out build/smoke"""


def add_arguments(p):
    p.add_argument("--model", required=True, help='paper spec, e.g. "blrn-e(r=2)[rb]" or st_bl (with --r)')
    p.add_argument("--r", help=R_HELP)
    p.add_argument("--scale", type=int, default=2, help="upscaling factor 2, 3 or 4 (default 2)")
    p.add_argument("--part", default="xc7z020", help="FPGA part: xc7z020, xc7z045, xczu3eg, xczu9eg, xcku040")
    p.add_argument("--checkpoint", help="trained checkpoint (.safetensors + .json sidecar); default: models/<spec>-x<scale>.safetensors")
    p.add_argument("--random-weights", action="store_true", help="smoke build with random weights (labelled in the report)")
    p.add_argument("--out", help="output folder (default build/<spec>-x<scale>-<part>-<clock>mhz/)")
    p.add_argument("--force", action="store_true", help="replace --out even if it holds files srhw did not write")
    p.add_argument("--csim", action="store_true", help="C-simulate with hls4ml/g++ and check bit-exactness against the golden model")
    p.add_argument("--csim-crop", type=int, default=12, help="LR crop size of the C-sim images (default 12)")
    p.add_argument("--clock-mhz", dest="clock", type=CLOCK_MHZ, default=150.0,
                   help="PL clock in MHz assumed by the estimate (default 150)")
    p.add_argument("--clock", dest="clock_old", type=CLOCK_MHZ, default=None, help=argparse.SUPPRESS)  # old spelling
    add_data(p, "T91 (PTQ calibration) and Set5 (C-sim crops)")
    p.epilog, p.formatter_class = EXAMPLES, argparse.RawDescriptionHelpFormatter
    p.add_argument("--fps", type=number(0.0, 1e6, lo_open=True), default=30.0, help="target frame rate the verdict is judged against (default 30)")


def make_config(args) -> BuildConfig:
    from srhw.hw.parts import get_part
    from srhw.models import SCALES, canonical
    spec = canonical(model_spec(args.model, args.r))
    if args.scale not in SCALES:
        raise SrhwError(f"unsupported scale {args.scale}: the study uses x2, x3 and x4")
    part = get_part(args.part)
    ckpt = None
    if args.random_weights:
        if args.checkpoint:
            raise SrhwError("give either --checkpoint or --random-weights, not both")
    else:
        ckpt = Path(args.checkpoint) if args.checkpoint else default_checkpoint(spec, args.scale)
        if not ckpt.is_file():
            raise SrhwError(f"no checkpoint {ckpt} for {spec} x{args.scale} (none shipped yet): pass --checkpoint, "
                            "or --random-weights for a smoke build")
    if args.clock_old is not None:
        deprecated("--clock", "--clock-mhz")
        args.clock = args.clock_old
    out = Path(args.out) if args.out else Path("build") / f"{_slug(spec)}-x{args.scale}-{part.given or part.name}-{args.clock:g}mhz"
    if args.clock <= 0:
        raise SrhwError("--clock-mhz must be positive")
    if args.fps <= 0:
        raise SrhwError("--fps must be positive")
    check_out(out, args.force, replace=True)  # before any work: refuse '.', '/', a folder of other files
    return BuildConfig(spec, args.scale, part, args.clock, out, Path(), ckpt, args.random_weights, args.csim,
                       args.csim_crop, target_fps=args.fps, data_dir=Path(args.data) if args.data else None,
                       force=args.force)


def run(args) -> int:
    cfg = make_config(args)
    rep = run_build(cfg)
    v = rep["verdict"]
    cs, ecs = rep["csim"], rep["engine"]["csim"]
    csim = (f"C-sim: hls4ml {cs['mismatches']} mismatches of {cs['checked']}, engine {ecs['mismatches']} of "
            f"{ecs['checked']}" if cs.get("ran") else "C-sim: not run (add --csim)")
    best = (f"recommended {v['folder']} {v['fps_720p']:.3g} fps ({v['ms_per_frame']:,.0f} ms/frame), target "
            f"{v['target_fps']:g} fps {'met' if v['meets_target'] else 'not met'}" if v.get("design") else v["sentence"])
    print(f"{cfg.spec} x{cfg.scale} on {cfg.part.name} at {cfg.clock_mhz:g} MHz (analytic): {best}; roofline "
          f"{rep['roofline']['fps']:.3g} fps; {csim}; report: {cfg.out / 'report.md'}")
    return 0
