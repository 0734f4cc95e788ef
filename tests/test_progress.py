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
    assert text.count("5/10 hls4ml project: hls4ml writing the project (00:0") >= 3, "redrawn while it runs"
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


def test_silenced_writes_nothing_even_on_a_terminal():
    from srhw.flows.progress import silenced

    term = _Terminal()
    with silenced(), live("[srhw build] 1/2 a step", file=term, every=0.05):
        phase("working")
        time.sleep(0.2)
        say("[srhw build] a message", file=term)
    assert term.getvalue() == ""


def _fake_build(tmp_path, monkeypatch, quiet: bool):
    """run_build over two stand-in steps (the real ones need TensorFlow and minutes): its own lines only."""
    from pathlib import Path

    import srhw.flows.build as fb

    def first(state, cfg):
        fb._say("a message of the first step")
        return 1

    def last(state, cfg):
        (cfg.tmp / "report.json").write_text('{"ok": %d}' % (state + 1))
        return state

    monkeypatch.setattr(fb, "STEPS", [first, last])
    monkeypatch.setattr(fb, "STEP_TITLES", {first: "first step", last: "report"})
    cfg = fb.BuildConfig("bl", 2, None, 150.0, tmp_path / "out", Path(), None, True, False, 12, quiet=quiet)
    return fb.run_build(cfg)


def test_run_build_prints_one_line_per_step_and_nothing_with_quiet(tmp_path, monkeypatch, capsys):
    assert _fake_build(tmp_path, monkeypatch, quiet=False) == {"ok": 2}
    err = capsys.readouterr().err.splitlines()
    assert [e.split(":")[0] for e in err] == ["[srhw build] a message of the first step", "[srhw build] 1/2 first step",
                                              "[srhw build] 2/2 report"], err
    assert _fake_build(tmp_path, monkeypatch, quiet=True) == {"ok": 2}
    assert capsys.readouterr().err == ""
