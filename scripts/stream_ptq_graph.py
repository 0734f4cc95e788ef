"""A structural stand-in for a real-time model's INT8 golden graph: PTQ (srhw.quant.ptq) of a random-init
zoo network's deploy form, calibrated on uniform random frames. Same layers, shapes, widths and hence
foldings as the trained INT8 graph; its weights are NOT trained (label every figure from it so).

    python scripts/stream_ptq_graph.py "fsrcnn(d=32,s=5,m=1)" OUT_DIR [--seed 0]

Needs the real-time zoo (srhw.models: fsrcnn / espcn / sesr).
"""

import argparse

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    from srhw.models import build
    from srhw.quant.int8 import deploy_form
    from srhw.quant.ptq import quantize

    torch.manual_seed(a.seed)
    m = build(a.model, a.scale).eval()
    d = deploy_form(m)
    calib = [torch.rand(4, 1, 24, 24) * 255 for _ in range(2)]
    g = quantize(d, calib).export({"spec": a.model, "scale": a.scale, "quant": "int8", "channels": 1,
                                   "source": "PTQ of random-init weights (no training)"})
    g.save(a.out)


if __name__ == "__main__":
    main()
