"""All-or-nothing output: every file and folder srhw writes is staged beside its target, then renamed.

`staged(path)` is the one helper: it yields a temporary file (or, with `folder=True`, a temporary folder)
in the target's parent; only when the block succeeds is it renamed onto `path`, so an error or an
interrupt leaves the old output (or nothing) and never a half-written one. `atomic_path`,
`staged_output`, `write_text` and `write_json` are its everyday spellings.

Folder rules (`staged(..., folder=True)`):
- The folder a run writes carries a marker, `.srhw-output.json`, listing the entries srhw wrote.
- An existing folder is replaced only if it is empty, or a previous srhw output holding nothing but what its
  marker lists (commands that replace their own output by design pass `replace=True`; others need `force`),
  or with `force`. Without `force`, a folder holding other files is refused, naming one of them.
- Never, not even with `force`: `/`, the home folder, the current folder or any folder above it, the repo
  root or any folder above it.
- An exclusive lock (fcntl.flock on `.<name>.lock` beside it) stops two runs writing one folder.
- SIGTERM (like SIGINT) unwinds the run, so the staging folder is removed; nothing half-written is left.
- Folders follow the umask (mkdtemp's 0700 is widened to 0777 & ~umask).
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
REPO = Path(__file__).resolve().parents[2]  # the srhw checkout


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
def staged(path, folder: bool = False, force: bool = True, replace: bool = False):
    """Yield a temporary file (folder=True: folder) beside `path`; rename it onto `path` if the block succeeds.

    Folders follow the rules of the module docstring: protected paths, foreign files, the lock, the marker."""
    path = Path(path)
    if not folder:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600
        try:
            yield tmp
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return
    if _protected(path):
        check_out(path, force, replace)
    path.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(path), _sigterm_unwinds():
        check_out(path, force, replace)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; the result should read like any written folder
        try:
            yield tmp
            write_marker(tmp)
            if path.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
                os.replace(path, old / "x")
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


def atomic_path(path):
    """A staged file: `with atomic_path(p) as tmp: write tmp` puts the result at `p` only on success."""
    return staged(path)


def staged_output(out, force: bool, replace: bool = False):
    """A staged folder: on success it replaces `out` (rules: module docstring)."""
    return staged(out, folder=True, force=force, replace=replace)


def write_text(path, text):
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def strict_json(obj, **kw) -> str:
    """JSON text that is JSON: NaN and Infinity (which json.dumps writes by default) are refused."""
    try:
        return json.dumps(obj, allow_nan=False, **kw)
    except ValueError as e:
        from srhw.core.errors import SrhwError

        raise SrhwError(f"refusing to write a non-finite number into a JSON report ({e})") from None


def write_json(path, obj):
    write_text(path, strict_json(obj, indent=2, sort_keys=False) + "\n")
