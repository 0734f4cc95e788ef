"""`srhw compare`: visual comparison crops like the paper's figures (srhw.eval.compare)."""

from srhw.cli.common import add_data, examples
from srhw.eval.compare import MIN_PANEL

EXAMPLES = examples("srhw compare --image Set5/butterfly --scale 2 --models bicubic,models/bl-x2.safetensors "
                    "--crop 100,100,64,64 --out fig.png")


def add_arguments(p):
    p.add_argument("--image", required=True, help="<set>/<image name>, e.g. Set5/butterfly")
    p.add_argument("--scale", type=int, required=True, help="SR factor 2, 3 or 4")
    p.add_argument("--models", required=True,
                   help="comma-separated: 'bicubic' and/or checkpoints (.safetensors with sidecar, or run folders)")
    p.add_argument("--crop", required=True, help="x,y,w,h of the crop in HR pixels")
    p.add_argument("--out", required=True, help="output .png")
    add_data(p, "the image's set")
    p.add_argument("--zoom", type=int, default=0, help=f"crop enlargement (default: short side >= {MIN_PANEL} px)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda for networks")


def run(args) -> int:
    from srhw.eval.compare import run as run_

    return run_(args)
