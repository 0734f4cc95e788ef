"""The CI rule of tests/conftest.py: under CI=true a missing data folder fails the run; locally it skips."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _pytest(tmp_path, ci, *extra):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(SRHW_DATA=str(tmp_path / "no-data"), PYTHONPATH=str(REPO), **({"CI": ci} if ci else {}))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_metrics.py",
                           "-k", "published", *extra], capture_output=True, text=True, cwd=REPO, env=env, timeout=300)


def test_missing_data_fails_under_ci(tmp_path):
    r = _pytest(tmp_path, "true")
    assert r.returncode != 0
    assert "CI=true but the benchmark data is missing" in r.stdout + r.stderr and str(tmp_path / "no-data") in r.stderr


def test_missing_data_skips_locally(tmp_path):
    r = _pytest(tmp_path, None, "-n", "0")  # the skip is decided per test, not per worker: no xdist workers to start
    assert r.returncode == 0 and "skipped" in r.stdout, r.stdout[-2000:]


def test_ci_run_points_at_shared_data_and_runs_the_readme_command():
    run = (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    cmd = 'scripts/setup.sh && .venv/bin/python -m pytest -q -m "not slow"'
    assert cmd in readme and run.rstrip().endswith(cmd)
    assert 'SRHW_DATA="${SRHW_DATA:-$PWD/../shared/data}"' in run and "CI=" in run
