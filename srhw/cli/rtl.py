"""`python -m srhw rtl <kernel>`: multiplier-free RTL kernels, whole-network counts and fit, and checks.

The parsers live here; each kernel's code is in its own module, imported only when it runs (`--help`
stays fast): rtl_kernels (adder-tree, sum-product from a weights file), rtl_network (fit, counts),
rtl_sp_layer (one trained layer as Verilog), rtl_verify (verify-trained), rtl/stream/cli.py (stream).
"""

from __future__ import annotations

from importlib import import_module

from srhw.cli.common import add_clock, add_model, examples

CKPT = "models/st_bl_r_2c_out-x2.safetensors"
EXAMPLES = examples("srhw rtl fit --part xc7z020 --clock-mhz 150", "srhw rtl counts --json",
                    f"srhw rtl sp-layer --checkpoint {CKPT} --layer head --out build/head_layer",
                    "srhw rtl adder-tree --weights W.npy --in-bits 8 --out build/tree")
EXAMPLES_OF = {
    "adder-tree": examples("srhw rtl adder-tree --weights W.npy --in-bits 8 --out build/tree",
                           "srhw rtl adder-tree --weights W.npy --in-bits 9 --stage-every 1 --module tree_b --out build/tree"),
    "sum-product": examples("srhw rtl sum-product --params P.npz --in-bits 8 --out build/sp",
                            "srhw rtl sum-product --params P.npz --in-bits 9 --out-bits 8 --signed-out --no-relu --out build/sp"),
    "fit": examples("srhw rtl fit                                  # shipped st_bl(r=2c_out) x2 on xc7z020",
                    "srhw rtl fit --model st_bl --r 4c_out --random-weights --part xczu9eg --clock-mhz 200 --json",
                    f"srhw rtl fit --checkpoint {CKPT} --cse"),
    "counts": examples("srhw rtl counts", f"srhw rtl counts --checkpoint {CKPT} --cse --json"),
    "sp-layer": examples(f"srhw rtl sp-layer --checkpoint {CKPT} --layer head --out build/head_layer",
                         f"srhw rtl sp-layer --checkpoint {CKPT} --layer body_0_body_0_body_0 --fold 8x4 --out build/b0"),
    "verify-trained": examples(f"srhw rtl verify-trained --checkpoint {CKPT} --out report.json --layers head",
                               f"srhw rtl verify-trained --checkpoint {CKPT} --out report.json --resume --sp-layers head"),
}


def add_arguments(parser):
    kernels = parser.add_subparsers(dest="kernel", required=True, metavar="KERNEL")
    p = kernels.add_parser("adder-tree", help="constant ternary matrix-vector product y = W·x",
                           description="constant ternary matrix-vector product y = W·x", epilog=EXAMPLES_OF["adder-tree"])
    p.add_argument("--weights", required=True, help="int8 .npy, shape M x N, values in {-1,0,1}")
    p.add_argument("--in-bits", type=int, required=True, help="signed input width (2..32)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--stage-every", type=int, default=2, help="adder levels per pipeline register")
    p.add_argument("--module", default="adder_tree", help="Verilog module name (and file stem)")
    p.set_defaults(_kernel="rtl_kernels:run_adder_tree")

    p = kernels.add_parser("sum-product", help="sum-product kernel: W_b tree, r scales, W_c tree, bias, requantize",
                           description="sum-product kernel: W_b tree, r scales, W_c tree, bias, requantize",
                           epilog=EXAMPLES_OF["sum-product"])
    p.add_argument("--params", required=True,
                   help=".npz with wb (r x N ternary), a (r ints), wc (M x r ternary), sh (int), optional bias (M)")
    p.add_argument("--in-bits", type=int, required=True, help="signed input width (2..32)")
    p.add_argument("--out-bits", type=int, default=8, help="output width (2..32)")
    p.add_argument("--signed-out", action="store_true", help="signed outputs (default: unsigned)")
    p.add_argument("--no-relu", action="store_true", help="do not clamp at 0")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--stage-every", type=int, default=2, help="adder levels per pipeline register")
    p.add_argument("--module", default="sum_product", help="Verilog module name (and file stem)")
    p.set_defaults(_kernel="rtl_kernels:run_sum_product")

    for name, fn, hlp in (("fit", "run_fit", "fit a whole st_bl network of folded SP layers to a part: foldings, fps, roofline"),
                          ("counts", "run_counts", "multipliers/adders per SP layer: dense (Table 5), zero-pruned, CSE")):
        p = kernels.add_parser(name, help=hlp, description=hlp, epilog=EXAMPLES_OF[name])
        add_model(p, "st_bl spec (default: the checkpoint's, else st_bl(r=2c_out))")
        p.add_argument("--scale", type=int, default=None, help="upscaling factor 2, 3 or 4 (default: the checkpoint's, else 2)")
        p.add_argument("--checkpoint", help="trained st_bl checkpoint (.safetensors; its sidecar gives --model and --scale) or "
                                            "ternary.safetensors codes (default: the shipped models/<slug>.safetensors)")
        p.add_argument("--random-weights", action="store_true",
                       help="random ternary codes instead of the shipped checkpoint (labelled RANDOM WEIGHTS)")
        p.add_argument("--cse", action="store_true", help="also count the pruned + CSE plans (minutes; cached)")
        p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        if name == "fit":
            p.add_argument("--part", default="xc7z020", help="FPGA part (srhw.hw.parts)")
            add_clock(p, what="PL clock assumed")
        p.set_defaults(_kernel=f"rtl_network:{fn}")

    p = kernels.add_parser("sp-layer", help="Verilog of one trained sum-product layer (rtl/sp_layer.py) + README",
                           description="Verilog of one trained sum-product layer (rtl/sp_layer.py) + README",
                           epilog=EXAMPLES_OF["sp-layer"])
    p.add_argument("--checkpoint", required=True, help="trained ternary checkpoint (.safetensors) with its golden graph "
                                                       "(sidecar 'golden', or <stem>.golden beside it)")
    p.add_argument("--layer", required=True, help="sp_conv layer, e.g. head or body_0_body_0_body_0 (a bad name lists them)")
    p.add_argument("--out", required=True, help="output folder: <module>.v, <module>.json, README.md")
    p.add_argument("--force", action="store_true", help="replace --out even if it holds files srhw did not write")
    p.add_argument("--width", type=int, help="frame width in pixels the line buffer holds (default: 1280 / scale)")
    p.add_argument("--height", type=int, help="frame height in pixels (default: 720 / scale)")
    p.add_argument("--fold", metavar="FRxFN", help="cycles per pixel fold_r x fold_n (default 1x1 for r <= 128, else (r/16)x8)")
    p.add_argument("--module", default="sp_layer", help="Verilog module name (and file stem)")
    p.set_defaults(_kernel="rtl_sp_layer:run_sp_layer")

    hlp = "the RTL acceptance sweep on a trained checkpoint: CSE trees + Yosys + cocotb, SP layers on real maps"
    p = kernels.add_parser("verify-trained", help=hlp, description=hlp, epilog=EXAMPLES_OF["verify-trained"])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="trained ternary checkpoint (.safetensors); its golden graph is found "
                                          "through its .json sidecar ('golden') or beside it as <stem>.golden")
    src.add_argument("--graph", help="an integer golden graph folder (graph.json + graph.npz)")
    p.add_argument("--out", required=True, help="JSON report (written atomically, after every matrix)")
    p.add_argument("--work", help="build folder (default: a temporary one, removed); kept per matrix with --keep")
    p.add_argument("--keep", action="store_true", help="keep each matrix' Verilog and simulator build")
    p.add_argument("--sim", default="auto", choices=("auto", "verilator", "icarus"),
                   help="simulator of the adder trees (auto: verilator above 5000 nonzeros (~70 s per 128x576 tree; "
                        "icarus needs ~6 min there), else icarus)")
    p.add_argument("--samples", type=int, default=10_000, help="random vectors per matrix (after the corner vectors)")
    p.add_argument("--seed", type=int, default=1, help="base seed; each matrix' seed is derived from it and its name")
    p.add_argument("--layers", help="comma-separated sp_conv node names, processed in this order (default: all, graph order)")
    p.add_argument("--roles", default="WB,WC", help="WB, WC or both (default WB,WC)")
    p.add_argument("--max-nnz", type=int, default=50_000,
                   help="verify a matrix with more nonzeros as ceil(nnz/max) row blocks (default 50000, ~128x576 at 2/3)")
    p.add_argument("--no-yosys", action="store_true", help="skip the Yosys cell counts")
    p.add_argument("--no-sim", action="store_true", help="skip the cocotb benches of the trees")
    p.add_argument("--resume", action="store_true",
                   help="keep passing rows of an existing --out with the same weights and settings (also of layers not in --layers)")
    p.add_argument("--sp-layers", default="",
                   help="comma-separated sp_conv nodes to check as SP layers on real feature maps (default: none)")
    p.add_argument("--sp-image", help="LR image for the feature maps (default: the first Set5 LR image of the scale)")
    p.add_argument("--sp-crop", type=int, default=8, help="LR crop size in pixels (square, centred; default 8)")
    p.add_argument("--sp-fold", action="append", default=[], metavar="LAYER=FRxFN",
                   help="folding of one SP layer (default 1x1 for r <= 128, else (r/16)x8)")
    p.add_argument("--sp-sim", default="icarus", choices=("verilator", "icarus"), help="simulator of the SP layers")
    p.set_defaults(_kernel="rtl_verify:run_verify_trained")

    from rtl.stream.cli import add_arguments as add_stream
    from srhw.cli.rtl_stream_hls import add_arguments as add_stream_hls

    add_stream(kernels)
    add_stream_hls(kernels)


def run(args) -> int:
    kernel = args._kernel
    if isinstance(kernel, str):  # "module:function" under srhw.cli, imported now
        mod, fn = kernel.split(":")
        kernel = getattr(import_module(f"srhw.cli.{mod}"), fn)
    return kernel(args)
