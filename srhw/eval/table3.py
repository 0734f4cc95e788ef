"""`srhw study --table 3`: the study's comparison table with the real-time networks beside it.

Rows of two kinds, never mixed:
* measured: every shipped x2 checkpoint in `models/` whose sidecar holds `srhw eval` metrics of those very
  weights (written by scripts/model_card.py); Params / Mult-Adds from srhw.profile (analytic, 720p output);
* cited: the paper's own Table 3 rows at x2, and the real-time networks' published figures, each with its
  source. A cited number is never presented as ours.

Writes table3.md, table3.json and table3.png (Set5 x2 PSNR vs Mult-Adds per 1280x720 frame, log axis, with
each part's 30 fps INT8 budget as a vertical line: DSPs x 150 MHz x 2 int8 products per DSP / 30 fps, the
derivation of shared/design/hardware.md).
"""

import json
from pathlib import Path

from srhw.core.errors import SrhwError
from srhw.core.io import atomic_path, write_json, write_text

SETS = ("Set5", "Set14", "B100", "Urban100")
STUDY_T3 = "the study's Table 3 (x2), cited"
# (model, params K, Mult-Adds G, {set: (psnr, ssim)}) -- the paper's Table 3, x2 rows, as printed
PAPER_X2 = [
    ("VDSR (Kim et al., 2015b)", 665, 612.6, [(37.53, 0.9587), (33.03, 0.9124), (31.90, 0.8960), (30.76, 0.9140)]),
    ("DRCN (Kim et al., 2015a)", 1774, 9788.7, [(37.63, 0.9588), (33.04, 0.9118), (31.85, 0.8942), (30.75, 0.9133)]),
    ("LapSRN (Lai et al., 2017)", 813, 29.9, [(37.52, 0.9590), (33.08, 0.9130), (31.80, 0.8950), (30.41, 0.9100)]),
    ("DRRN (Tai et al., 2017a)", 297, 6796.9, [(37.74, 0.9591), (33.23, 0.9136), (32.05, 0.8973), (31.23, 0.9188)]),
    ("BTSRN (Fan et al., 2017)", 410, 207.7, [(37.75, None), (33.20, None), (32.05, None), (31.63, None)]),
    ("MemNet (Tai et al., 2017b)", 677, 623.9, [(37.78, 0.9597), (33.28, 0.9142), (32.08, 0.8978), (31.31, 0.9195)]),
    ("SelNet (Choi & Kim, 2017)", 974, 225.7, [(37.89, 0.9598), (33.61, 0.9160), (32.08, 0.8984), None]),
    ("SRMDNF (Zhang et al., 2017a)", 2218, 513.6, [(37.79, 0.9601), (33.32, 0.9159), (32.05, 0.8985), (31.33, 0.9204)]),
    ("D-DBPN (Haris et al., 2018)", 1261, 158.9, [(38.09, 0.9600), (33.85, 0.9190), (32.27, 0.9000), (32.55, 0.9324)]),
    ("CARN (Ahn et al., 2018)", 1592, 222.8, [(37.76, 0.9590), (33.52, 0.9166), (32.09, 0.8978), (31.92, 0.9256)]),
    ("CARN-M (Ahn et al., 2018)", 412, 91.2, [(37.53, 0.9583), (33.26, 0.9141), (31.92, 0.8960), (31.23, 0.9193)]),
    ("blrn-e(r=2)[rb] (the study)", 535, 156.8, [(37.75, 0.9596), (33.30, 0.9153), (32.00, 0.8973), (31.48, 0.9218)]),
    ("blm1-e[rb] (the study)", 363, 117, [(37.65, 0.9592), (33.19, 0.9143), (31.92, 0.8964), (31.13, 0.9181)]),
    ("blm1-e[rg] (the study)", 265, 94.7, [(37.59, 0.9590), (33.12, 0.9132), (31.87, 0.8959), (30.91, 0.9158)]),
]
# the real-time networks' published Set5 x2 (Y) figures; costs are our analytic counts of the same architecture
REALTIME_CITED = [
    ("FSRCNN (Dong et al., ECCV 2016)", "fsrcnn(d=56,s=12,m=4)", 37.00, "Dong et al. 2016, Set5 x2"),
    ("SESR-M5 (Bhardwaj et al., MLSys 2022)", "sesr(f=16,m=5)", 37.39, "Bhardwaj et al. 2022, Set5 x2"),
    ("SESR-S INT8 (AMD Vitis AI model zoo)", None, 36.81, "AMD Vitis AI zoo (37.31 float), Set5 x2"),
]
CLOCK_HZ, FPS, INT8_PER_DSP = 150e6, 30, 2


def part_budgets() -> dict:
    """G Mult-Adds per 720p frame at 30 fps for each known part (derived, see the module docstring)."""
    from srhw.hw.parts import PARTS

    return {name: p.dsp * CLOCK_HZ * INT8_PER_DSP / FPS / 1e9 for name, p in PARTS.items()}


def measured_rows(models_dir: Path) -> list[dict]:
    from srhw.models import canonical
    from srhw.profile import profile_row

    rows = []
    for side in sorted(models_dir.glob("*.json")):
        meta = json.loads(side.read_text())
        if not isinstance(meta, dict) or meta.get("scale") != 2 or not meta.get("metrics") or not meta.get("spec"):
            continue
        if not side.with_suffix(".safetensors").is_file():
            continue
        prof = profile_row(canonical(meta["spec"]), 2)
        m = meta["metrics"]
        rows.append({"model": f"{side.stem} ({meta['spec']}" + (f", {meta['quant']}" if meta.get("quant") else "") + ")",
                     "params_k": prof["params"] / 1e3, "mult_adds_g": prof["mult_adds"] / 1e9,
                     "sets": {s: [m[s]["psnr"], m[s]["ssim"]] if s in m else None for s in SETS},
                     "source": f"measured: srhw eval of models/{side.stem}.safetensors (sidecar metrics); "
                               "costs analytic (srhw profile)", "kind": "measured",
                     "channels": meta.get("channels") or 3})
    return rows


def cited_rows() -> list[dict]:
    from srhw.profile import profile_row

    rows = [{"model": name, "params_k": p, "mult_adds_g": g,
             "sets": {s: list(v) if v else None for s, v in zip(SETS, vals)}, "source": STUDY_T3, "kind": "cited"}
            for name, p, g, vals in PAPER_X2]
    for name, spec, psnr, src in REALTIME_CITED:
        prof = profile_row(spec, 2) if spec else None
        rows.append({"model": name, "params_k": prof["params"] / 1e3 if prof else None,
                     "mult_adds_g": prof["mult_adds"] / 1e9 if prof else None,
                     "sets": {"Set5": [psnr, None], "Set14": None, "B100": None, "Urban100": None},
                     "source": f"{src}, cited" + ("; costs analytic (srhw profile of the same architecture)" if spec else ""),
                     "kind": "cited"})
    return rows


def _cell(v):
    if not v:
        return "-"
    return f"{v[0]:.2f}/" + (f"{v[1]:.4f}" if v[1] is not None else "-")


def to_markdown(doc) -> str:
    out = ["# Table 3 (x2), extended with the real-time networks", "",
           "Measured rows: shipped checkpoints of this repository, `srhw eval` (Y channel, 2 px shaved), trained "
           "here on T91 with small CPU budgets (see each model card). Cited rows: published figures, marked *cited* "
           "with their source; they are not ours. Mult-Adds per 1280x720 output frame.", "",
           "| model | Params (K) | Mult-Adds (G) | " + " | ".join(f"{s} PSNR/SSIM" for s in SETS) + " | source |",
           "|---" * (4 + len(SETS)) + "|"]
    for r in doc["rows"]:
        p = f"{r['params_k']:,.1f}" if r["params_k"] is not None else "-"
        g = f"{r['mult_adds_g']:,.2f}" if r["mult_adds_g"] is not None else "-"
        name = r["model"] + (" *cited*" if r["kind"] == "cited" else "")
        out.append(f"| {name} | {p} | {g} | " + " | ".join(_cell(r["sets"][s]) for s in SETS) + f" | {r['source']} |")
    out += ["", "30 fps budgets at 720p x2 (derived: DSPs x 150 MHz x 2 int8 products / 30 fps; the plot's lines): "
            + ", ".join(f"{k} {v:.1f} G" for k, v in doc["budgets_g"].items()) + "."]
    return "\n".join(out) + "\n"


def plot(doc, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5))
    for kind, style in (("cited", dict(marker="o", facecolors="none", edgecolors="grey")),
                        ("measured", dict(marker="s", color="tab:blue"))):
        pts = [(r["mult_adds_g"], r["sets"]["Set5"][0], r["model"]) for r in doc["rows"]
               if r["kind"] == kind and r["mult_adds_g"] and r["sets"].get("Set5")]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], label=f"{kind}", **style)
            for x, y, name in pts:
                ax.annotate(name.split(" (")[0] if kind == "cited" else name.split(" ")[0], (x, y), fontsize=6,
                            xytext=(3, 3), textcoords="offset points")
    for i, (part, g) in enumerate(doc["budgets_g"].items()):
        ax.axvline(g, linestyle="--", linewidth=0.8, color=f"C{i + 2}", label=f"{part} 30 fps INT8 ({g:.1f} G)")
    ax.set_xscale("log")
    ax.set_xlabel("Mult-Adds per 1280x720 x2 frame (G, log)")
    ax.set_ylabel("Set5 x2 PSNR (dB, Y)")
    ax.set_title("Set5 x2 vs compute: measured here (filled) and cited (hollow)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def run_table3(out, models_dir=None) -> dict:
    models_dir = Path(models_dir) if models_dir else Path(__file__).resolve().parents[2] / "models"
    if not models_dir.is_dir():
        raise SrhwError(f"{models_dir}: no models folder")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    doc = {"table": 3, "scale": 2, "rows": cited_rows() + measured_rows(models_dir), "budgets_g": part_budgets()}
    write_json(out / "table3.json", doc)
    write_text(out / "table3.md", to_markdown(doc))
    plot(doc, out / "table3.png")
    return doc
