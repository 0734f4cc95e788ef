"""The study's tables: trade-off columns against the reference row, the caption with the budget, markdown."""

import json
import math
from pathlib import Path

from srhw.eval.evaluate import DEFAULT_SETS
from srhw.eval.study_rows import REFERENCE, TABLE_NAMES

# Table 4's QAT: "retrain for an additional 5 epochs with a learning rate of 5e-5" after 300 epochs of training
QAT_EPOCHS, TRAIN_EPOCHS, QAT_LR = 5, 300, 5e-5
INT8_NOTE = ("INT8: per-channel int8 weights, int8 activations, integer-only golden model (srhw.quant); "
             "the paper used TFLite.")


def qat_iters(total: int) -> int:
    """Table 4's QAT iterations for a training budget of `total`: the paper's 5 epochs per 300."""
    return max(1, round(total * QAT_EPOCHS / TRAIN_EPOCHS))


def add_tradeoffs(table: int, records: list[dict], sets: list[str]):
    """Fill each record's trade-off columns against the reference row of its scale (in place)."""
    from srhw.profile import tradeoff

    if table == 4:
        return  # Table 4 compares each INT8 row with its own float row (psnr_change_db), no trade-off
    refs = {r["scale"]: r for r in records if r["reference"]}
    for r in records:
        ref = refs[r["scale"]]
        ref_psnrs = [ref["sets"][s]["psnr"] for s in sets]
        psnrs = [r["sets"][s]["psnr"] for s in sets]
        r["psnr_loss_cdb"] = None if r["reference"] else sum(a - b for a, b in zip(ref_psnrs, psnrs)) / 0.01
        if table == 5:
            continue  # Table 5's comparison is the mult/add reduction (table5_ops)
        if r["reference"]:
            r["mult_adds_saved_g_per_cdb"] = r["params_saved_k_per_cdb"] = None
            continue
        t = tradeoff(ref["params"], ref["mult_adds"], ref_psnrs, r["params"], r["mult_adds"], psnrs)
        # no PSNR lost: the paper's metric is unbounded; JSON gets null and the flag
        r["no_psnr_loss"] = math.isinf(t.mult_adds_saved_g)
        r["mult_adds_saved_g_per_cdb"] = None if r["no_psnr_loss"] else t.mult_adds_saved_g
        r["params_saved_k_per_cdb"] = None if r["no_psnr_loss"] else t.params_saved_k


def caption(table: int, budget: dict, sets: list[str], model_args: dict, scales=(2,)) -> list[str]:
    lines = [f"Table {table} ({TABLE_NAMES[table]}), reproduced by `srhw study`: OUR numbers, each row trained for "
             f"{budget['iters']} iterations (patch {budget['patch']}, batch {budget['batch']}, lr {budget['lr']}, "
             f"training set {budget['data']}, seed {budget['seed']}), not the paper's 300 epochs unless "
             f"iters = 300000. Y-channel PSNR (dB) / SSIM, scale px shaved."]
    if any(s != 2 for s in scales):
        lines.append("x3/x4 rows start from the finished x2 run of the same spec where there is one (the paper's "
                     "recipe; column init of the cost table), else from scratch.")
    if model_args:
        lines.append(f"Models built with --model-args {json.dumps(model_args)} (not the paper's sizes); "
                     "Params and Mult-Adds are of these models.")
    if table == 4:
        n_qat = qat_iters(budget["iters"])
        lines.append(f"{INT8_NOTE} bl_q: the trained bl of the same row, quantized after training (calibrated "
                     f"post-training quantization) and retrained with quantization (QAT) for "
                     f"{n_qat} iteration{'s' if n_qat != 1 else ''} at lr {QAT_LR} (the paper's 5 QAT epochs per 300 training epochs); PSNR/SSIM "
                     "of the integer golden model's output. bl_q shares bl's Params and Mult-Adds (counted by "
                     "srhw.profile for the float model, 1280x720 output). Change = INT8 minus float PSNR (dB).")
    elif table == 5:
        lines.append("st_bl rows: full-precision SP training, then ternary training and frozen codes (srhw.quant, "
                     "the paper's 300 : 40 : 10 epoch proportions of the budget); PSNR/SSIM of the ternary-weight "
                     "network with float activations, as the paper evaluates it. Reductions in mults/adds are against bl at each scale, counted "
                     "for dense ternary weights as the paper does (srhw.profile.table5_row).")
    else:
        ref = REFERENCE[table]
        lines.append(f"Trade-off: G Mult-Adds / K params saved per 0.01 dB of PSNR lost against {ref} at the same "
                     f"scale, the loss summed over {', '.join(sets)}"
                     + (" (the paper sums Set5, Set14, B100, Urban100)" if sets != DEFAULT_SETS.split(",") else "")
                     + ". Mult-Adds for a 1280x720 output. **bold**/*italics*: best/second-best trade-off.")
    return lines


def _rank_marks(records, key):
    """{id(record): '**' | '*'} for the best/second-best finite `key` at each scale."""
    marks = {}
    for s in {r["scale"] for r in records}:
        vals = sorted((r for r in records if r["scale"] == s and r.get(key) is not None), key=lambda r: -r[key])
        for r, m in zip(vals, ("**", "*")):
            marks[id(r)] = m
    return marks


def to_markdown(doc: dict) -> str:
    table, sets, records = doc["table"], doc["sets"], doc["rows"]
    out = [f"# Table {table}", ""] + [f"{line}" for line in doc["caption"]] + [""]
    set_cols = [f"{s} PSNR/SSIM" for s in sets]
    if table == 5:
        head = ["Scale", "Model", "r", "Reduction in Mult (%)", "Reduction in Add (%)"] + set_cols
    elif table == 4:
        head = ["Scale", "Model", "Params (K)", "Mult-Adds (G)"] + set_cols + \
               [f"{s} PSNR change float→INT8 (dB)" for s in sets]
    else:
        head = ["Scale", "Model", "Params (K)", "Mult-Adds (G)"] + set_cols + \
               ["Mult-Adds saved (G) / 0.01 dB", "Params saved (K) / 0.01 dB"]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    ma_marks = _rank_marks(records, "mult_adds_saved_g_per_cdb")
    p_marks = _rank_marks(records, "params_saved_k_per_cdb")
    for r in records:
        cells = [f"{r['scale']}x", r["model"]]
        metrics = [f"{r['sets'][s]['psnr']:.2f}/{r['sets'][s]['ssim']:.4f}" for s in sets]
        if table == 4:  # the paper's layout: bl_q under its bl, scale and costs printed once
            q = r["quant"] == "int8"
            cells = ["" if q else cells[0], r["model"]]
            cells += ["", ""] if q else [f"{r['params'] // 1000}", f"{r['mult_adds'] / 1e9:.1f}"]
            cells += metrics + ([f"{r['psnr_change_db'][s]:+.3f}" for s in sets] if q else ["-"] * len(sets))
        elif table == 5:
            if r["reference"]:
                cells += ["-", "-", "-"]
            else:
                cells += [r["r"], f"{r['mult_reduction_pct']:.2f}", f"{r['add_reduction_pct']:.2f}"]
            cells += metrics
        else:
            cells += [f"{r['params'] // 1000}", f"{r['mult_adds'] / 1e9:.1f}"] + metrics
            if r["reference"]:
                cells += ["-", "-"]
            elif r.get("no_psnr_loss"):
                cells += ["no loss", "no loss"]
            else:
                m1, m2 = ma_marks.get(id(r), ""), p_marks.get(id(r), "")
                cells += [f"{m1}{r['mult_adds_saved_g_per_cdb']:.4f}{m1}", f"{m2}{r['params_saved_k_per_cdb']:.4f}{m2}"]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "Cost of this study on its machine (training: seconds per iteration, excluding validation and "
                "checkpoints; evaluation: seconds per set)."
                + (" bl_q rows: QAT seconds per iteration; init: the float run quantized." if table == 4 else ""), ""]
    head = ["Scale", "Model", "run", "step", "init", "s / iter"] + [f"eval {s} (s)" for s in sets]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in records:
        c = r["cost"]
        spi = f"{c['train_s_per_iter']:.3f}" if c.get("train_s_per_iter") else "-"
        init = Path(r["init"]).parent.name if r.get("init") else "-"
        out.append("| " + " | ".join([f"{r['scale']}x", r["model"], r["run"], str(r["step"]), init, spi]
                                     + [f"{c['eval_s'].get(s, 0):.2f}" for s in sets]) + " |")
    return "\n".join(out) + "\n"
