"""Atomic writes: all or nothing, with ordinary file permissions."""

import os
import stat

import pytest

from srhw.core.io import atomic_path, write_json


def test_atomic_write_is_all_or_nothing(tmp_path):
    target = tmp_path / "report.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text().strip().startswith("{") and list(tmp_path.iterdir()) == [target]


def test_atomic_write_has_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_json(tmp_path / "r.json", {})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o644


def test_staged_folder_is_all_or_nothing(tmp_path):
    from srhw.core.errors import SrhwError
    from srhw.core.io import staged

    out = tmp_path / "run"
    with staged(out, folder=True) as tmp:
        (tmp / "a.txt").write_text("first")
    assert (out / "a.txt").read_text() == "first"
    with pytest.raises(RuntimeError):
        with staged(out, folder=True) as tmp:
            (tmp / "a.txt").write_text("half")
            raise RuntimeError("crash mid-run")
    assert (out / "a.txt").read_text() == "first" and sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    with pytest.raises(SrhwError, match="--force"):
        with staged(out, folder=True, force=False):
            pass
    with staged(out, folder=True, force=True) as tmp:
        (tmp / "b.txt").write_text("second")
    assert sorted(p.name for p in out.iterdir()) == ["b.txt"] and sorted(p.name for p in tmp_path.iterdir()) == ["run"]
