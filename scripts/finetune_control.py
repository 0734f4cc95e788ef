#!/usr/bin/env python
"""Control run for a QAT figure: the same fine-tuning steps without fake quantization.

    .venv/bin/python scripts/finetune_control.py models/blrn-e_r_2__rb-x2.safetensors --iters 1500 --out runs/ctl/float_1500.safetensors

QAT of a float checkpoint that is far from converged also trains it, so "INT8 vs the float checkpoint" mixes
quantization loss with extra training. This runs `srhw.quant.qat.finetune` (Adam, L1, the same batches for the
same seed) on the float model for the same iterations, lr and patch size, and saves the result; `srhw eval`
it to get the equal-budget float reference.
"""

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srhw.quant.int8 import load_float_model  # noqa: E402
from srhw.quant.qat import StageConfig, finetune, patch_dataset  # noqa: E402
from srhw.core.checkpoint import save_checkpoint  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint")
    p.add_argument("--iters", type=int, required=True)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--patch", type=int, default=24)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model, meta = load_float_model(args.checkpoint)
    ds = patch_dataset(None, meta.get("data") or "T91", model.scale, patch=args.patch, seed=args.seed)
    rec = finetune(model, model.parameters(), ds, StageConfig(iters=args.iters, lr=args.lr, patch=args.patch, seed=args.seed), print)
    print(rec)
    save_checkpoint(args.out, model.eval(), {**meta, "step": (meta.get("step") or 0) + args.iters, "metrics": {},
                                             "control": {"of": str(args.checkpoint), **vars(args)}})


if __name__ == "__main__":
    main()
