"""`srhw eval`: PSNR/SSIM of a model, a checkpoint or bicubic on the benchmark sets (srhw.eval.evaluate)."""

from srhw.data import DEFAULT_SETS


def add_arguments(p):
    p.add_argument("--model", help="zoo spec (e.g. 'bl') or 'bicubic'; default: the checkpoint's spec")
    p.add_argument("--scale", type=int, help="SR factor (2, 3, 4); default: the checkpoint's scale")
    p.add_argument("--checkpoint", help="weights: a .safetensors file with its .json sidecar")
    p.add_argument("--data", default=None, help="data root (default: $SRHW_DATA or <repo>/../shared/data)")
    p.add_argument("--sets", default=DEFAULT_SETS, help=f"comma-separated benchmark sets (default {DEFAULT_SETS})")
    p.add_argument("--tile", type=int, default=0,
                   help="run the network on LR tiles of this size (0 = whole image; tiles change channel "
                        "attention's global pooling, so results differ slightly)")
    p.add_argument("--tile-overlap", type=int, default=16, help="LR pixels of context around each tile")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda for networks")
    p.add_argument("--engine", choices=("auto", "network", "golden"), default="auto",
                   help="quantized checkpoints: 'golden' runs the integer golden model (what the hardware computes), "
                        "'network' the torch model (ternary weights, float activations, as the paper evaluates "
                        "st_bl); auto = golden for int8, network otherwise")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--out", help="also write the JSON results to this file")


def run(args) -> int:
    from srhw.eval.evaluate import run as run_

    return run_(args)
