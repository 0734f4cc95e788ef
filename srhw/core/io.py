"""All-or-nothing output: every file and folder srhw writes is staged beside its target, then renamed.

`staged(path)` is the one helper: it yields a temporary file (or, with `folder=True`, a temporary folder)
in the target's parent; only when the block succeeds is it renamed onto `path`, so an error or an
interrupt leaves the old output (or nothing) and never a half-written one. An existing folder is
replaced only with `force`. `atomic_path`, `staged_output`, `write_text` and `write_json` are its
everyday spellings.
"""

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from srhw.core.errors import SrhwError


def check_out(out, force: bool) -> Path:
    """`out` as a Path, refused (SrhwError) if it exists and `force` is not given, or is not a folder."""
    out = Path(out)
    if out.exists() and not force:
        raise SrhwError(f"output folder {out} exists: pass --force to replace it")
    if out.exists() and not out.is_dir():
        raise SrhwError(f"output {out} exists and is not a folder")
    return out


@contextmanager
def staged(path, folder: bool = False, force: bool = True):
    """Yield a temporary file (folder=True: folder) beside `path`; rename it onto `path` if the block succeeds."""
    path = check_out(path, force) if folder else Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0)
    os.umask(umask)
    if folder:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; the result should read like any written folder
    else:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600
    try:
        yield tmp
        if folder and path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
            os.replace(path, old / "x")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def atomic_path(path):
    """A staged file: `with atomic_path(p) as tmp: write tmp` puts the result at `p` only on success."""
    return staged(path)


def staged_output(out, force: bool):
    """A staged folder: on success it replaces `out` (only with `force` if `out` exists)."""
    return staged(out, folder=True, force=force)


def write_text(path, text):
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")
