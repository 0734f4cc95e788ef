"""A build step's live line: drawn (step, phase, elapsed time) and erased on a terminal, absent from logs."""

import io
import time

from srhw.flows.progress import live, phase, say


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_live_line_on_a_terminal_shows_the_phase_and_moves_then_goes():
    term = _Terminal()
    with live("[srhw build] 5/10 hls4ml project", file=term, every=0.05):
        phase("hls4ml writing the project")
        time.sleep(0.4)
        say("[srhw build] a message in between", file=term)
        time.sleep(0.2)
    say("[srhw build] 5/10 hls4ml project: 0.6 s", file=term)
    text = term.getvalue()
    assert text.count("5/10 hls4ml project: hls4ml writing the project (00:00)") >= 3, "redrawn while it runs"
    screen = [line.split("\r")[-1].strip() for line in text.split("\n")]  # what stays on each terminal line
    assert [s for s in screen if s] == ["[srhw build] a message in between", "[srhw build] 5/10 hls4ml project: 0.6 s"]


def test_off_a_terminal_only_the_messages_are_written():
    log = io.StringIO()
    with live("[srhw build] 5/10 hls4ml project", file=log, every=0.05):
        phase("hls4ml writing the project")
        time.sleep(0.2)
        say("[srhw build] a message", file=log)
    assert log.getvalue() == "[srhw build] a message\n"
    phase("outside any step")  # a no-op, never an error
