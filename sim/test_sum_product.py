"""pytest runner of the cocotb sum-product bench (sim/sum_product_tb.py) on Icarus.

Random W_b/W_c/scales/bias -> params.npz -> `srhw rtl sum-product` CLI -> Verilog + sidecar -> bench.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rtl.golden import random_ternary
from srhw.cli import main as srhw_main
from test_adder_tree import run_bench


def generate(build_dir: Path, n: int, r: int, m: int, sh: int, seed: int, extra=()) -> dict:
    rng = np.random.default_rng(seed)
    build_dir.mkdir(parents=True, exist_ok=True)
    np.savez(build_dir / "params.npz", wb=random_ternary(r, n, 2 / 3, seed), wc=random_ternary(m, r, 2 / 3, seed + 1),
             a=rng.integers(-(2 ** 11) + 1, 2 ** 11, r),  # 12-bit scales (srhw.quant sp_scale_bits)
             bias=rng.integers(-(2 ** 14), 2 ** 14, m), sh=np.int64(sh))
    rc = srhw_main(["rtl", "sum-product", "--params", str(build_dir / "params.npz"), "--in-bits", "8",
                    "--out", str(build_dir), *extra])
    assert rc == 0
    return {"verilog": build_dir / "sum_product.v", "meta": build_dir / "sum_product.json",
            "params": build_dir / "params.npz", "module": "sum_product"}


@pytest.mark.parametrize("n,r,m,sh,extra", [
    (27, 16, 8, 12, ()),  # 3x3 conv, 3 -> 8 channels, r = 2 * c_out, ReLU to uint8
    (36, 8, 4, 14, ("--signed-out", "--no-relu")),
])
def test_sum_product_icarus_runner(tmp_path, n, r, m, sh, extra):
    gen = generate(tmp_path, n, r, m, sh, seed=n + r, extra=extra)
    env = {"SUM_PRODUCT_PARAMS": str(gen["params"]), "SUM_PRODUCT_META": str(gen["meta"])}
    rate = run_bench("icarus", tmp_path, gen, 3_000, test_module="sum_product_tb", env=env)
    print(f"icarus sum-product {m}x{r}x{n}: {rate:.0f} vectors/s")
