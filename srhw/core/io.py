"""Atomic writes: every checkpoint and report goes to a temporary file first, then is renamed."""

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; the result should read like any written file
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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
