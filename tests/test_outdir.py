"""Safe output folders (srhw/core/io.py): marker, replace rules, protected paths, lock, signals, umask."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from srhw.core.errors import SrhwError
from srhw.core.io import MARKER, staged_output

REPO = Path(__file__).resolve().parents[1]


def _write(out, force=False, replace=True, name="a.txt"):
    with staged_output(out, force=force, replace=replace) as tmp:
        (tmp / name).write_text("x")
        (tmp / "sub").mkdir()


def _hidden(parent):
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_marker_and_replacing_a_previous_output(tmp_path):
    out = tmp_path / "out"
    _write(out)
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "a.txt", "sub"]
    _write(out, name="b.txt")  # a previous srhw output: replaced
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "b.txt", "sub"]
    assert _hidden(tmp_path) == [], "no staging, old or lock folder left"


def test_folder_with_other_files_is_refused_unless_force(tmp_path):
    out = tmp_path / "out"
    _write(out)
    (out / "notes.txt").write_text("mine")  # a user file inside a previous output
    with pytest.raises(SrhwError, match=r"holds files srhw did not write \(e\.g\. notes\.txt\).*--force"):
        _write(out)
    assert (out / "notes.txt").read_text() == "mine"
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "data.csv").write_text("1")
    with pytest.raises(SrhwError, match="data.csv"):
        _write(plain)
    _write(plain, force=True)
    assert not (plain / "data.csv").exists()
    with pytest.raises(SrhwError, match="pass --force"):  # a command that does not replace its own output
        _write(out, replace=False)
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("which", ["root", "cwd", "parent_of_cwd", "repo", "home"])
def test_protected_folders_are_never_replaced(tmp_path, which, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = {"root": Path("/"), "cwd": Path("."), "parent_of_cwd": Path(".."), "repo": REPO, "home": Path.home()}[which]
    with pytest.raises(SrhwError, match="refusing to write into"):
        _write(out, force=True)


def test_lock_stops_a_second_writer(tmp_path):
    out = tmp_path / "out"
    with staged_output(out, force=False, replace=True) as tmp:
        (tmp / "a").write_text("1")
        with pytest.raises(SrhwError, match="another srhw run is writing"):
            _write(out)
    assert (out / "a").is_file() and _hidden(tmp_path) == []


def test_folders_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        _write(tmp_path / "out")
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_clean_up_the_staging_folder(tmp_path, sig):
    code = ("import sys, time; from srhw.core.io import staged_output\n"
            "with staged_output(sys.argv[1], force=False, replace=True) as tmp:\n"
            "    (tmp / 'half.txt').write_text('x'); print('ready', flush=True); time.sleep(60)\n")
    # a pytest-xdist worker ignores SIGINT and a child inherits that; a user's shell gives the default, so does this
    p = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "out")], stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.DEVNULL,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert p.stdout.readline().strip() == "ready"
    p.send_signal(sig)
    rc = p.wait(timeout=120)
    assert rc != 0
    assert sorted(tmp_path.iterdir()) == [], "no staging folder, output or lock left"


def test_build_refuses_dot_and_foreign_folders_before_any_work(tmp_path, srhw_main, monkeypatch):
    """"." through the console script (its real exit status and stderr), the foreign folder in-process."""
    user = tmp_path / "mine"
    user.mkdir()
    (user / "thesis.tex").write_text("keep")
    monkeypatch.chdir(tmp_path)
    for out, word in ((".", "refusing to write into"), (str(user), "thesis.tex")):
        t0 = time.perf_counter()
        args = ["build", "--model", "st_bl", "--r", "2c_out", "--random-weights", "--out", out]
        r = subprocess.run([sys.executable, "-m", "srhw", *args], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                           env={**os.environ, "PYTHONPATH": str(REPO)}) if out == "." else srhw_main(*args)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and word in lines[0], r.stderr
        assert time.perf_counter() - t0 < 60, "refused before the build ran"
    assert (user / "thesis.tex").read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
