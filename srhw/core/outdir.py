"""All-or-nothing output folders: a run writes into a hidden sibling and renames it at the end."""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from srhw.core.errors import SrhwError


def check_out(out, force: bool) -> Path:
    out = Path(out)
    if out.exists() and not force:
        raise SrhwError(f"output folder {out} exists: pass --force to replace it")
    if out.exists() and not out.is_dir():
        raise SrhwError(f"output {out} exists and is not a folder")
    return out


@contextmanager
def staged_output(out, force: bool):
    """Yield a temporary folder; on success it replaces `out` (only with `force` if `out` exists)."""
    out = check_out(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    os.chmod(tmp, 0o755)
    try:
        yield tmp
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
