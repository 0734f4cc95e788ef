"""`srhw eval`: PSNR/SSIM of a model, a checkpoint or bicubic on the benchmark sets (srhw.eval.evaluate)."""

from srhw.cli.common import R_HELP, add_data, add_sets, add_threads, examples, model_spec
from srhw.data import DEFAULT_SETS

EXAMPLES = examples("srhw eval --model bicubic --scale 2 --sets Set5",
                    "srhw eval --checkpoint models/bl-x2.safetensors           # spec and scale from its sidecar",
                    "srhw eval --checkpoint models/st_bl_r_2c_out-x2.safetensors --engine golden --json --out r.json")


def add_arguments(p):
    p.add_argument("--model", help="zoo spec (e.g. 'bl', or st_bl with --r) or 'bicubic'; default: the checkpoint's spec")
    p.add_argument("--r", help=R_HELP)
    p.add_argument("--scale", type=int, help="SR factor 2, 3 or 4; default: the checkpoint's scale")
    p.add_argument("--checkpoint", help="weights: a .safetensors checkpoint with its .json sidecar (spec and scale)")
    add_data(p)
    add_sets(p, DEFAULT_SETS)
    p.add_argument("--tile", type=int, default=0,
                   help="run the network on LR tiles of this size (0 = whole image; tiles change channel "
                        "attention's global pooling, so results differ slightly)")
    p.add_argument("--tile-overlap", type=int, default=16, help="LR pixels of context around each tile")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda for networks")
    p.add_argument("--engine", choices=("auto", "network", "golden"), default="auto",
                   help="quantized checkpoints: 'golden' runs the integer golden model (what the hardware computes), "
                        "'network' the torch model (ternary weights, float activations, as the paper evaluates "
                        "st_bl); auto = golden for int8, network otherwise")
    add_threads(p)
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--out", help="also write the JSON results to this file")


def run(args) -> int:
    from srhw.eval.evaluate import run as run_

    if args.r is not None:
        args.model = model_spec(args.model or "st_bl", args.r)
    return run_(args)
