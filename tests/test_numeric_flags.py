"""Every float flag is finite and in range (srhw/cli/common.py), and reports are strict JSON."""

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from srhw.cli.common import CLOCK_MHZ, EPOCHS, LEARNING_RATE, number
from srhw.core.errors import SrhwError
from srhw.core.io import strict_json, write_json

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "Infinity", "0", "-1", "1e9", "abc", ""])
def test_clock_refuses_nonsense(text):
    with pytest.raises(argparse.ArgumentTypeError):
        CLOCK_MHZ(text)


def test_ranges():
    assert CLOCK_MHZ("150") == 150.0 and LEARNING_RATE("0") == 0.0 and EPOCHS("0.5") == 0.5
    for t in ("nan", "-1e-4", "2"):
        with pytest.raises(argparse.ArgumentTypeError):
            LEARNING_RATE(t)
    with pytest.raises(argparse.ArgumentTypeError, match=r"outside \(0, 1\]"):
        number(0, 1, lo_open=True)("0")


def _srhw(*args):
    return subprocess.run([sys.executable, "-m", "srhw", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=300, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("argv", [
    ["build", "--model", "st_bl", "--r", "2c_out", "--random-weights", "--clock", "nan"],
    ["build", "--model", "st_bl", "--r", "2c_out", "--random-weights", "--clock", "inf"],
    ["build", "--model", "st_bl", "--r", "2c_out", "--random-weights", "--clock", "-5"],
    ["rtl", "fit", "--clock-mhz", "nan"],
    ["train", "--lr", "nan"],
    ["quantize", "int8", "--scale", "2", "--checkpoint", "x.safetensors", "--out", "o", "--lr", "inf"],
    ["quantize", "int8", "--model", "sesr", "--scale", "2", "--checkpoint", "x.safetensors", "--out", "o", "--equalize", "1.5"],
])
def test_cli_float_flags_exit_2_with_one_error_line(argv, tmp_path, srhw_main, monkeypatch):
    """The first line through the console script (its real exit status and stderr), the others in-process."""
    monkeypatch.chdir(REPO)
    r = _srhw(*argv) if argv[-1] == "nan" and argv[0] == "build" else srhw_main(*argv)
    assert r.returncode == 2, r.stderr
    errors = [l for l in r.stderr.splitlines() if "error:" in l]
    assert len(errors) == 1 and ("finite" in errors[0] or "outside" in errors[0]), r.stderr
    assert "Traceback" not in r.stderr


def test_reports_are_strict_json(tmp_path):
    with pytest.raises(SrhwError, match="non-finite"):
        write_json(tmp_path / "r.json", {"fps": math.nan})
    assert not (tmp_path / "r.json").exists(), "nothing half-written"
    with pytest.raises(SrhwError):
        strict_json({"x": [math.inf]})
    write_json(tmp_path / "ok.json", {"fps": 1.5})
    assert json.loads((tmp_path / "ok.json").read_text()) == {"fps": 1.5}
