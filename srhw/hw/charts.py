"""The report's three charts as inline PNGs (matplotlib, Agg, imported only when a chart is drawn).

  * utilisation: each design's LUT / FF / DSP / BRAM36 as a share of the part, against 100 % and the budget;
  * per-layer time: ms per layer of the recommended design, the bottleneck in its own colour;
  * roofline: attainable fps against off-chip bytes per frame, the part's compute roofs (DSP multiplies, LUT
    adds) and its bandwidth roof, the model's roofline point and every design at its own traffic.
Legend words are the report tables' own (design names, "bottleneck"), so a reader can match them.
PNG metadata is left out so the same report gives the same bytes.
"""

import base64
import io

RESOURCES = (("lut", "LUT"), ("ff", "FF"), ("dsp", "DSP"), ("bram", "BRAM36"))


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    _plt().close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def utilisation(designs: list, capacity: dict, budget: dict) -> str:
    """Grouped bars: per resource, each design's use as % of the part; the budget as a tick per resource."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    n = max(len(designs), 1)
    width = 0.8 / n
    for i, d in enumerate(designs):
        xs = [j - 0.4 + width * (i + 0.5) for j in range(len(RESOURCES))]
        ax.bar(xs, [100 * (d.get(k) or 0) / capacity[k] for k, _ in RESOURCES], width, label=d["design"])
    for j, (k, _) in enumerate(RESOURCES):
        ax.hlines(100 * budget.get(k, 1.0), j - 0.45, j + 0.45, colors="black", linestyles="dashed",
                  label="budget" if j == 0 else None)
    ax.axhline(100, color="grey", linewidth=0.8)
    ax.set_xticks(range(len(RESOURCES)), [f"{lab}\n({capacity[k]:,})" for k, lab in RESOURCES])
    ax.set_ylabel("% of the part")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return _png(fig)


def layer_times(pl: dict) -> str:
    """Horizontal bars of ms per layer in program order, the bottleneck highlighted."""
    plt = _plt()
    rows = pl["layers"]
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.16 * len(rows) + 1)))
    ys = range(len(rows))
    colours = ["tab:red" if r["bottleneck"] else "tab:blue" for r in rows]
    ax.barh(list(ys), [r["time_ms"] for r in rows], color=colours)
    ax.set_yticks(list(ys), [r["name"] for r in rows], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("ms per frame")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color="tab:red", label="bottleneck"), Patch(color="tab:blue", label="layer")], fontsize=7)
    ax.set_title(f"{pl['design']} ({pl['folder']}): {pl['frame_ms']:,.1f} ms per frame", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def roofline_chart(roof: dict, designs: list, target_fps: float) -> str:
    """fps = 1 / max(compute time, bytes / bandwidth) against off-chip bytes per frame (log-log)."""
    plt = _plt()
    a = roof["assumptions"]
    bw = a["ddr_gbps_practical"] * 1e9
    xs = [r.get("offchip_bytes_per_frame") or 0 for r in designs] + [roof["offchip_bytes_per_frame"]]
    pos = [x for x in xs if x > 0] or [1e6]
    lo, hi = min(pos) / 10, max(pos) * 10
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot([lo, hi], [bw / lo, bw / hi], color="black", label=f"bandwidth roof ({a['ddr_gbps_practical']:g} GB/s)")
    for key, lab, style in (("mult_time_s", f"DSP multiplies roof ({a['dsp_available']} DSPs)", "dashed"),
                            ("add_time_s", f"LUT adds roof ({a['adder_lanes']:,} adder lanes)", "dotted")):
        t = roof.get(key)
        if t:
            ax.hlines(1 / t, lo, hi, colors="black", linestyles=style, label=lab)
    ax.axhline(target_fps, color="tab:green", linewidth=0.8, label=f"target {target_fps:g} fps")
    x0 = max(roof["offchip_bytes_per_frame"], lo)
    ax.plot([x0], [roof["fps"]], marker="*", markersize=14, color="gold", markeredgecolor="black", linestyle="none",
            label=f"roofline {roof['fps']:.3g} fps ({roof['bound']}-bound)")
    for d in designs:
        if d.get("fps_720p"):
            ax.plot([max(d.get("offchip_bytes_per_frame") or 0, lo)], [d["fps_720p"]], marker="o", linestyle="none",
                    label=d["design"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("off-chip bytes per frame")
    ax.set_ylabel("fps")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return _png(fig)
