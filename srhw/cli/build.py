"""`srhw build`: lower a quantized zoo model to HLS/RTL designs and report their cost on an FPGA part.

    python -m srhw build --model st_bl --r 2c_out --scale 2 --part xc7z020 [--checkpoint X.safetensors]
                         [--random-weights] [--out build/<spec>-x<scale>-<part>-<clock>mhz/] [--csim]
                         [--clock-mhz 150] [--fps 30]

Parses the flags into a BuildConfig and runs the flow (srhw.flows.build); prints one summary line.
"""

from pathlib import Path

from srhw.cli.common import add_clock, add_data, add_model, examples, number, slug, spec_and_scale
from srhw.core.io import check_out
from srhw.core.errors import SrhwError
from srhw.core.names import shipped_checkpoint
from srhw.flows.build import BuildConfig, run_build

EXAMPLES = examples("srhw build --model st_bl --r 2c_out --part xc7z020",
                    "srhw build --model st_bl --r 2c_out --part xczu9eg --clock-mhz 200 --csim",
                    "srhw build --checkpoint models/blrn-e_r_2__rb-x2-int8.safetensors   # spec and scale from its sidecar",
                    'srhw build --model "blrn-e(r=2)[rb]" --random-weights --out build/smoke')


def add_arguments(p):
    add_model(p, "zoo spec (required unless --checkpoint's sidecar names it)")
    p.add_argument("--scale", type=int, default=None, help="upscaling factor 2, 3 or 4 (default: the checkpoint's, else 2)")
    p.add_argument("--part", default="xc7z020", help="FPGA part: xc7z020, xc7z045, xczu3eg, xczu9eg, xcku040")
    p.add_argument("--checkpoint", help="trained checkpoint (.safetensors + .json sidecar); default: models/<spec>-x<scale>.safetensors")
    p.add_argument("--random-weights", action="store_true", help="smoke build with random weights (labelled in the report)")
    p.add_argument("--out", help="output folder (default build/<spec>-x<scale>-<part>-<clock>mhz/)")
    p.add_argument("--force", action="store_true", help="replace --out even if it holds files srhw did not write")
    p.add_argument("--csim", action="store_true", help="C-simulate with hls4ml/g++ and check bit-exactness against the golden model")
    p.add_argument("--csim-crop", type=int, default=12, help="LR crop size of the C-sim images (default 12)")
    add_clock(p, dest="clock")
    add_data(p, "T91 (PTQ calibration) and Set5 (C-sim crops)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary line (and errors): no step lines, for scripts")
    p.add_argument("--fps", type=number(0.0, 1e6, lo_open=True), default=30.0, help="target frame rate the verdict is judged against (default 30)")


def make_config(args) -> BuildConfig:
    from srhw.hw.parts import get_part

    if not args.model and not args.checkpoint:
        raise SrhwError("give --model SPEC (or a --checkpoint whose sidecar names it)")
    spec, args.scale = spec_and_scale(args.model, args.r, args.scale, args.checkpoint, default_scale=2)
    part = get_part(args.part)
    ckpt = None
    if args.random_weights:
        if args.checkpoint:
            raise SrhwError("give either --checkpoint or --random-weights, not both")
    else:
        ckpt = Path(args.checkpoint) if args.checkpoint else shipped_checkpoint(spec, args.scale)
        if not ckpt.is_file():
            raise SrhwError(f"no checkpoint {ckpt} for {spec} x{args.scale} (none shipped yet): pass --checkpoint, "
                            "or --random-weights for a smoke build")
    out = Path(args.out) if args.out else Path("build") / f"{slug(spec, args.scale)}-{part.given or part.name}-{args.clock:g}mhz"
    if args.clock <= 0:
        raise SrhwError("--clock-mhz must be positive")
    if args.fps <= 0:
        raise SrhwError("--fps must be positive")
    check_out(out, args.force, replace=True)  # before any work: refuse '.', '/', a folder of other files
    return BuildConfig(spec, args.scale, part, args.clock, out, Path(), ckpt, args.random_weights, args.csim,
                       args.csim_crop, target_fps=args.fps, data_dir=Path(args.data) if args.data else None,
                       force=args.force, quiet=args.quiet)


def run(args) -> int:
    cfg = make_config(args)
    rep = run_build(cfg)
    v = rep["verdict"]
    cs, ecs = rep["csim"], rep["engine"]["csim"]
    csim = (f"C-sim: hls4ml {cs['mismatches']} mismatches of {cs['checked']}, engine {ecs['mismatches']} of "
            f"{ecs['checked']}" if cs.get("ran") else "C-sim: not run (add --csim)")
    best = (f"recommended {v['folder']} {v['fps_720p']:.3g} fps ({v['ms_per_frame']:,.0f} ms/frame; {v['source']}), target "
            f"{v['target_fps']:g} fps {'met' if v['meets_target'] else 'not met'}" if v.get("design") else v["sentence"])
    print(f"{cfg.spec} x{cfg.scale} on {cfg.part.name} at {cfg.clock_mhz:g} MHz (assumed clock): {best}; roofline "
          f"{rep['roofline']['fps']:.3g} fps; {csim}; report: {cfg.out / 'report.md'}")
    return 0
