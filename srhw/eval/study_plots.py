"""The study's figures: PSNR against cost per scale (Tables 1, 2, 5), float vs INT8 per set (Table 4)."""

from pathlib import Path

from srhw.core.io import atomic_path


def plot(doc: dict, path: Path):
    """Mean PSNR over the evaluated sets vs Mult-Adds (Tables 1, 2) or multiplications (Table 5), one panel
    per scale, every point labelled with its model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table, sets, records = doc["table"], doc["sets"], doc["rows"]
    if table == 4:
        return plot_table4(doc, path)
    scales = sorted({r["scale"] for r in records})
    fig, axes = plt.subplots(1, len(scales), figsize=(6.5 * len(scales), 5), squeeze=False)
    xkey, xlabel = ("mults", "multiplications (G), 720p output, log") if table == 5 else \
        ("mult_adds", "Mult-Adds (G), 720p output")
    ylabel = f"mean Y-PSNR over {', '.join(sets)} (dB)" if len(sets) > 1 else f"{sets[0]} Y-PSNR (dB)"
    for ax, s in zip(axes[0], scales):
        rows = [r for r in records if r["scale"] == s]
        for r in rows:
            x = (r[xkey] if table == 5 and not r["reference"] else r["mult_adds"]) / 1e9
            y = sum(r["sets"][n]["psnr"] for n in sets) / len(sets)
            ax.scatter([x], [y], marker="s" if r["reference"] else "o", color="C3" if r["reference"] else "C0")
            ax.annotate(r["model"], (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        if table == 5:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(f"Table {table}, x{s} ({doc['budget']['iters']} iterations, ours)")
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def plot_table4(doc: dict, path: Path):
    """Table 4: Y-PSNR of the float and the INT8 model on each evaluated set, one panel per scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets, records = doc["sets"], doc["rows"]
    scales = sorted({r["scale"] for r in records})
    fig, axes = plt.subplots(1, len(scales), figsize=(max(4.5, 1.6 * len(sets) + 2.5) * len(scales), 4.5),
                             squeeze=False)
    xs = list(range(len(sets)))
    for ax, s in zip(axes[0], scales):
        for i, (quant, label, marker) in enumerate((("full", "float", "s"), ("int8", "INT8", "o"))):
            for r in (r for r in records if r["scale"] == s and r["quant"] == quant):
                ys = [r["sets"][n]["psnr"] for n in sets]
                ax.plot([x + (i - 0.5) * 0.12 for x in xs], ys, marker=marker, linestyle="none", color=f"C{i}",
                        label=f"{r['model']} ({label})")
        ax.set_xticks(xs, sets)
        ax.set_xlim(-0.6, len(sets) - 0.4)
        ax.set_ylabel("Y-PSNR (dB)")
        ax.set_title(f"Table 4, x{s} ({doc['budget']['iters']} iterations, ours)")
        ax.margins(y=0.3)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


#
