"""A build step's live line on a terminal: the step, the phase it is in and the time so far, redrawn every second.

tqdm draws it (disable=None: nothing at all when stderr is not a terminal, so a log keeps exactly one line
per step) and erases it when the step ends (leave=False), where the step's own one-line summary follows.
Steps name their phases with `phase()`; messages printed while a line is live go through `say()` (tqdm.write),
so they never land in the middle of it.
"""

import sys
import threading
from contextlib import contextmanager

_live: list = []  # the (bar, title) of the step running now, if any
_quiet: list = []  # non-empty inside `silenced()`


@contextmanager
def silenced():
    """No step lines and no live line inside (`srhw build --quiet`: scripts get the summary line and errors)."""
    _quiet.append(True)
    try:
        yield
    finally:
        _quiet.pop()


def say(msg: str, file=None) -> None:
    if _quiet:
        return
    file = file or sys.stderr
    if _live and not _live[-1][0].disable:
        _live[-1][0].write(msg, file=file)  # tqdm: clears the live line, prints, redraws it
    else:
        print(msg, file=file)
    file.flush()


@contextmanager
def live(title: str, file=None, every: float = 1.0):
    """Show `title`, the current phase and the elapsed time while the body runs (terminal only)."""
    from tqdm import tqdm  # here: `srhw build --help` never pays for it

    bar = tqdm(total=None, desc=title, bar_format="{desc} ({elapsed})", leave=False, disable=True if _quiet else None,
               file=file or sys.stderr, dynamic_ncols=True)
    stop = threading.Event()

    def tick():
        while not stop.wait(every):
            bar.refresh()  # the elapsed time moves even when the step reports nothing

    ticker = threading.Thread(target=tick, daemon=True)
    if not bar.disable:
        ticker.start()
    _live.append((bar, title))
    try:
        yield
    finally:
        _live.pop()
        stop.set()
        if ticker.is_alive():
            ticker.join()
        bar.close()


def phase(text: str) -> None:
    """Name what the running step does now (shown on its live line; a no-op off a terminal)."""
    if _live and not _live[-1][0].disable:
        bar, title = _live[-1]
        bar.set_description_str(f"{title}: {text}")
