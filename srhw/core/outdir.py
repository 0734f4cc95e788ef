"""All-or-nothing output folders: a run writes into a hidden sibling and renames it at the end.

Safety rules (one helper, every command that writes a folder uses it):
- The folder a run writes carries a marker, `.srhw-output.json`, listing the entries srhw wrote.
- An existing `out` is replaced only if it is empty, or a previous srhw output holding nothing but what its
  marker lists (commands that replace their own output by design pass `replace=True`; others need `force`),
  or with `force`. Without `force`, a folder holding other files is refused, naming one of them.
- Never, not even with `force`: `/`, the home folder, the current folder or any folder above it, the repo root
  or any folder above it.
- An exclusive lock (fcntl.flock on `.<name>.lock` beside `out`) stops two runs writing one folder.
- SIGTERM (like SIGINT) unwinds the run, so the staging folder is removed; nothing half-written is left.
- Folders are created with the permissions of the umask (mkdtemp's 0700 is widened to 0777 & ~umask).
"""

import fcntl
import json
import os
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from srhw.core.errors import SrhwError

MARKER = ".srhw-output.json"
REPO = Path(__file__).resolve().parents[2]


def _umask() -> int:
    u = os.umask(0)
    os.umask(u)
    return u


def _protected(out: Path) -> str | None:
    """Why `out` may never be replaced, or None."""
    p = out.resolve()
    if p == Path(p.anchor):
        return "the file system root"
    if p == Path.home().resolve():
        return "the home folder"
    cwd = Path.cwd().resolve()
    if p == cwd or p in cwd.parents:
        return "the current folder or a folder above it"
    if p == REPO or p in REPO.parents:
        return "the srhw repository or a folder above it"
    return None


def _foreign(out: Path) -> list[str]:
    """Entries of an existing folder that no srhw run wrote there (by its marker)."""
    names = sorted(e.name for e in out.iterdir())
    listed = set()
    marker = out / MARKER
    if marker.is_file():
        try:
            doc = json.loads(marker.read_text())
            listed = set(doc.get("files", [])) | {MARKER} if isinstance(doc, dict) else set()
        except (json.JSONDecodeError, OSError, TypeError):
            listed = set()
    return [n for n in names if n not in listed]


def check_out(out, force: bool, replace: bool = False) -> Path:
    """Refuse an `out` the run may not replace (module docstring); return it as a Path."""
    out = Path(out)
    why = _protected(out)
    if why:
        raise SrhwError(f"refusing to write into {out}: it is {why}; choose a new --out folder")
    if out.exists() and not out.is_dir():
        raise SrhwError(f"output {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        foreign = _foreign(out)
        if foreign:
            raise SrhwError(f"output folder {out} holds files srhw did not write (e.g. {foreign[0]}): "
                            "choose another --out, or pass --force to replace it")
        if not replace:
            raise SrhwError(f"output folder {out} exists: pass --force to replace it")
    return out


@contextmanager
def output_lock(out: Path):
    """Exclusive, non-blocking lock on `.<name>.lock` beside `out`; removed when the run ends."""
    lock = out.parent / f".{out.name}.lock"
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SrhwError(f"another srhw run is writing {out} (lock {lock.name}): wait for it or choose another --out") from None
        try:  # the lock file may have been removed by a run that just ended: lock the live one
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        try:
            os.unlink(lock)
        except FileNotFoundError:
            pass
        os.close(fd)


@contextmanager
def _sigterm_unwinds():
    """Turn SIGTERM into KeyboardInterrupt (as SIGINT is), so `finally` blocks clean up (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def write_marker(folder: Path) -> None:
    names = sorted(e.name for e in folder.iterdir() if e.name != MARKER)
    (folder / MARKER).write_text(json.dumps({"srhw": "output", "files": names}, indent=1) + "\n")
    os.chmod(folder / MARKER, 0o666 & ~_umask())


@contextmanager
def staged_output(out, force: bool, replace: bool = False):
    """Yield a temporary folder; on success it gets the marker and replaces `out` (rules: module docstring)."""
    out = Path(out)
    if _protected(out):
        check_out(out, force, replace)
    out.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(out), _sigterm_unwinds():
        out = check_out(out, force, replace)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        os.chmod(tmp, 0o777 & ~_umask())
        try:
            yield tmp
            write_marker(tmp)
            if out.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
                os.replace(out, old / "x")
                os.replace(tmp, out)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, out)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
