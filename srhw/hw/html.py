"""report.html: report.md turned into HTML (Python-Markdown), so it holds every section of it, plus the charts.

Self-contained: the charts are base64 PNGs (srhw.hw.charts), the style is inline, nothing is fetched. The
utilisation chart goes under the answer, the per-layer time chart under the per-layer table, the roofline plot
under Roofline; the assumptions sit in one box; the RTL backend's own fragment (its table and chart) joins the
RTL section.
"""

import html as _html
import re

from srhw.hw import charts
from srhw.hw.budget import BUDGET
from srhw.hw.report import PER_LAYER, render_markdown

STYLE = """body{font-family:sans-serif;max-width:72em;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}
th{background:#eee}td:first-child,th:first-child{text-align:left}tr.bottleneck td{background:#fde0dc}
code{background:#f3f3f3;padding:0 3px}.box{border:2px solid #888;background:#fafafa;padding:0.2em 1em;margin:1em 0}
img{max-width:100%;display:block;margin:0.5em 0}"""


def _img(b64: str, alt: str) -> str:
    return f'<figure><img alt="{_html.escape(alt)}" src="data:image/png;base64,{b64}"><figcaption>{_html.escape(alt)}</figcaption></figure>'


def _sections(body: str) -> list:
    """[(heading text or None, html)] split at each <h2>."""
    parts = re.split(r"(?=<h2>)", body)
    out = []
    for p in parts:
        m = re.match(r"<h2>(.*?)</h2>", p, re.S)
        out.append((_html.unescape(re.sub(r"<[^>]+>", "", m.group(1))) if m else None, p))
    return out


def charts_for(rep: dict) -> dict:
    """{section heading: [figure html]}: the three charts, each under the section whose table it draws."""
    out = {"Answer": [_img(charts.utilisation(rep["designs"], rep["capacity"], BUDGET.as_dict()),
                           f"utilisation of {rep['part']} per design (analytic / yosys, as in the table)")],
           "Roofline": [_img(charts.roofline_chart(rep["roofline"], rep["designs"], rep["verdict"]["target_fps"]),
                             "the one roofline: fps against off-chip bytes per frame (analytic)")]}
    pl = rep.get("per_layer")
    if pl:
        out[PER_LAYER] = [_img(charts.layer_times(pl), f"time per layer of {pl['design']} ({pl['source']})")]
    return out


def render_html(rep: dict, rtl_html: str | None = None) -> str:
    """Every section of report.md, the charts, the assumptions in a box and `rtl_html` (the RTL backend's
    fragment) inside the RTL section."""
    import markdown

    md = render_markdown(rep)
    body = markdown.markdown(md, extensions=["tables"], output_format="html")
    body = re.sub(r"<tr>(\s*<td><strong>[^<]*</strong> \(bottleneck\))", r'<tr class="bottleneck">\1', body)
    figs = charts_for(rep)
    out = []
    for head, text in _sections(body):
        if head == "Assumptions":
            text = f'<div class="box">{text}</div>'
        out.append(text + "".join(figs.get(head, [])))
        if head and head.startswith("RTL") and rtl_html:
            frag = rtl_html.replace("<h2>", "<h3>").replace("</h2>", "</h3>")
            out.append(re.sub(r"`([^`<]*)`", r"<code>\1</code>", frag))  # no raw markdown in the page
    title = _html.escape(f"{rep['model']} x{rep['scale']} on {rep['part']}")
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>\n'
            f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(out) + "\n</body></html>\n")
