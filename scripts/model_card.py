#!/usr/bin/env python
"""Write a shipped checkpoint's model card (models/<name>.md) from what was measured, nothing else.

    .venv/bin/python scripts/model_card.py models/bl-x2.safetensors --eval runs/eval_bl_x2.json \
        --budget "450 iterations ..." [--bicubic runs/eval_bicubic_x2.json] [--extra "line"]

Reads the checkpoint's sidecar (spec, scale, quant, step, training config), the `srhw eval --json`
results, and the op counts from `srhw.profile`; updates the sidecar's `metrics` with the measured
PSNR/SSIM of these very weights.
"""

import argparse
import json
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srhw.core.checkpoint import sidecar_path  # noqa: E402
from srhw.core.io import write_json, write_text  # noqa: E402
from srhw.models import resolve  # noqa: E402
from srhw.profile import profile_row, table5_row  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint")
    p.add_argument("--eval", required=True, help="srhw eval --json output for this checkpoint")
    p.add_argument("--bicubic", help="srhw eval --model bicubic --json output at the same scale")
    p.add_argument("--budget", required=True, help="what the training budget was, in words")
    p.add_argument("--extra", action="append", default=[], help="further lines (method notes)")
    args = p.parse_args()

    ckpt = Path(args.checkpoint)
    side = sidecar_path(ckpt)
    meta = json.loads(side.read_text())
    ev = json.loads(Path(args.eval).read_text())
    bic = {r["set"]: r for r in json.loads(Path(args.bicubic).read_text())["results"]} if args.bicubic else {}
    spec, scale = meta["spec"], meta["scale"]
    prof = profile_row(spec, scale)
    lines = [f"# {spec} x{scale}" + (f" ({meta['quant']})" if meta.get("quant") else ""), "",
             f"Files: `{ckpt.name}` (safetensors) + `{side.name}` (sidecar).", "",
             "## Training", "", args.budget, "",
             f"Data: {meta.get('data')} (`../shared/data/T91`, standing in for DIV2K). Hardware: this project's CPU "
             f"machine, 2 cores, no GPU ({platform.machine()}). Steps: {meta.get('step')}.", ""]
    lines += [f"- {x}" for x in args.extra]
    lines += ["", "## Measured quality (srhw eval: Y channel, scale pixels shaved, MATLAB bicubic LR)", "",
              "| set | images | LR | PSNR (dB) | SSIM |" + (" bicubic PSNR / SSIM | gain (dB) |" if bic else ""),
              "|---|---|---|---|---|" + ("---|---|" if bic else "")]
    for r in ev["results"]:
        row = f"| {r['set']} | {r['images']} | {r['lr_source']} | {r['psnr']:.2f} | {r['ssim']:.4f} |"
        if r["set"] in bic:
            b = bic[r["set"]]
            row += f" {b['psnr']:.2f} / {b['ssim']:.4f} | {r['psnr'] - b['psnr']:+.2f} |"
        lines.append(row)
    sp = resolve(spec).variant.name == "st_bl"
    lines += ["", "## Cost (srhw profile, 1280x720 output)", "",
              f"{prof['params']:,} parameters, {prof['mult_adds'] / 1e9:.3f} G Mult-Adds per frame"
              + (" if its sum-product convs ran as full-precision convs; as ternary it costs what the table below "
                 "counts." if sp else ".")]
    if sp:
        from srhw.models.load import load_model

        model, _ = load_model(ckpt, spec, scale)
        lines += ["", "| Table 5 convention, per frame | mults | adds | mult reduction vs bl | add reduction vs bl |",
                  "|---|---|---|---|---|"]
        for kind, sparse in (("dense (as the paper counts)", False), ("sparsity-aware (these weights)", True)):
            t = table5_row(spec, scale, model=model, sparse=sparse)
            lines.append(f"| {kind} | {t['mults']:,} | {t['adds']:,} | {t['mult_reduction_pct']:.3f} % | "
                         f"{t['add_reduction_pct']:.3f} % |")
    write_text(ckpt.with_suffix(".md"), "\n".join(lines) + "\n")
    meta["metrics"] = {r["set"]: {"psnr": r["psnr"], "ssim": r["ssim"], "images": r["images"]} for r in ev["results"]}
    write_json(side, meta)


if __name__ == "__main__":
    main()
