"""Every command's parser, walked: shared flags mean the same everywhere and match the README's flag table;
every example in the help parses; every float flag is a finite number; `--help` is fast and torch-free."""

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from srhw.cli import build_parser
from srhw.cli.common import Formatter, R_HELP, walk

REPO = Path(__file__).resolve().parents[1]

# flag -> a phrase its help must hold in every command that has it (its meaning), also in the README row.
MEANING = {
    "--model": "spec",
    "--r": "hidden width",
    "--scale": "2, 3 or 4",
    "--checkpoint": "checkpoint",
    "--data": "data root",
    "--train-set": "set name under --data",
    "--clock-mhz": "MHz",
    "--threads": "torch CPU threads",
    "--sets": "comma-separated",
    "--force": "replace",
    "--json": "JSON",
}
# The parsers rtl/stream/cli.py defines (the streaming compiler's own module) keep their own style for now:
# its float flags are plain floats, some flags have no help text, the examples are in its docstring.
FOREIGN = {("rtl", "stream"), ("rtl", "stream-report")}
FOREIGN_FLOATS = {("rtl", "stream"): {"--clock-mhz", "--fps"}}


@pytest.fixture(scope="module")
def tree():
    return build_parser(everything=True)


def leaves(parser):
    """(command words, parser) of every runnable command (a parser without sub-commands)."""
    for path, p in walk(parser):
        if path and not any(isinstance(a, argparse._SubParsersAction) for a in p._actions):
            yield path, p


def options(p):
    return {s: a for a in p._actions for s in a.option_strings if a.help is not argparse.SUPPRESS}


def readme_table():
    """{flag: (meaning, {command, ...})} from the README's flag table."""
    text = (REPO / "README.md").read_text()
    start = text.index("## Command-line flags")
    rows = {}
    for line in text[start:].splitlines()[1:]:
        if line.startswith("## "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`-"):
            flag = cells[0].strip("`").split()[0]
            rows[flag] = (cells[1], {c.strip().strip("`") for c in cells[2].split(",")})
    return rows


def test_walk_sees_every_command(tree):
    names = {" ".join(p) for p, _ in leaves(tree)}
    assert {"build", "profile", "train", "eval", "study", "compare", "quantize int8", "quantize ternary", "rtl fit",
            "rtl counts", "rtl sp-layer", "rtl adder-tree", "rtl verify-trained"} <= names


def test_shared_flags_mean_the_same_everywhere(tree):
    for path, p in leaves(tree):
        opts = options(p)
        for flag, phrase in MEANING.items():
            if flag in opts:
                assert phrase.lower() in opts[flag].help.lower(), (" ".join(path), flag, opts[flag].help)
        if "--r" in opts:
            assert opts["--r"].help == R_HELP and "--model" in opts, path  # --r always beside --model
        for flag, a in opts.items():
            if flag.startswith("--clock"):
                assert flag == "--clock-mhz" and "MHz" in a.help, (path, flag)


def test_every_float_flag_is_a_finite_number(tree):
    for path, p in leaves(tree):
        for a in p._actions:
            floaty = a.type is float or isinstance(a.default, float) and not isinstance(a.default, bool)
            if not floaty or not a.option_strings:
                continue
            if set(a.option_strings) & FOREIGN_FLOATS.get(path, set()):
                continue
            assert getattr(a.type, "__name__", "") == "number", (" ".join(path), a.option_strings, a.type)


def test_examples_in_every_help_parse(tree):
    """Each command's epilog holds examples, and every one of them parses (nothing is run)."""
    for path, p in walk(tree):
        if path in FOREIGN:
            continue
        assert p.formatter_class is Formatter, path
        assert p.epilog and p.epilog.startswith("examples:"), f"no examples in `srhw {' '.join(path)} --help`"
        for line in p.epilog.splitlines()[1:]:
            cmd = line.split("  #")[0].strip()
            if not cmd.startswith("srhw ") or "<" in cmd:
                continue
            words = shlex.split(cmd)[1:]
            assert words[:len(path)] == list(path), (path, cmd)
            try:
                tree.parse_args(words)
            except SystemExit:
                pytest.fail(f"example does not parse: {cmd}")


def test_defaults_are_shown(tree):
    """Every flag with a default says it in --help (the formatter adds it where the help text does not)."""
    for path, p in walk(tree):
        if path in FOREIGN:
            continue
        text = " ".join(p.format_help().split())
        for a in p._actions:
            if a.option_strings and a.help is not argparse.SUPPRESS and a.default not in (None, False, argparse.SUPPRESS, ""):
                shown = " ".join((Formatter("x")._get_help_string(a) % {"default": a.default}).split())
                assert "default" in shown and shown[-30:] in text, (path, a.option_strings)


def test_readme_flag_table_holds(tree):
    table = readme_table()
    assert set(table) == set(MEANING), "README flag table rows != the shared flags this test checks"
    have = {}
    for path, p in leaves(tree):
        for flag in options(p):
            have.setdefault(flag, set()).add(" ".join(path))
    for flag, (meaning, commands) in table.items():
        assert MEANING[flag].lower() in meaning.lower(), (flag, meaning)
        assert commands == have.get(flag, set()), f"README says {flag} is in {sorted(commands)}, the parsers: " \
                                                  f"{sorted(have.get(flag, set()))}"


def test_help_is_fast_and_torch_free(tree):
    runner = ("import runpy, sys\n"
              "sys.argv = ['srhw'] + sys.argv[1:]\n"
              "try:\n    runpy.run_module('srhw', run_name='__main__')\n"
              "except SystemExit:\n    pass\n"
              "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr)\n")
    slow = []
    for path, _ in walk(tree):
        if not path:
            continue
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", runner, *path, "--help"], capture_output=True, text=True, cwd=REPO,
                           env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=60)
        wall = time.perf_counter() - t
        assert r.returncode == 0 and "usage: srhw" in r.stdout, (path, r.stderr[-500:])
        assert r.stderr.strip().endswith("NO-TORCH"), f"`srhw {' '.join(path)} --help` imports torch"
        if wall > 2.0:  # < 1 s on an idle machine; 2 s leaves room for a loaded CI box
            slow.append((" ".join(path), round(wall, 2)))
    assert not slow, f"--help slower than 2 s: {slow}"


def test_old_spellings_still_work_with_one_deprecation_line(tmp_path, capsys):
    from srhw.cli.train import config_from_args

    def train_cfg(*argv):
        return config_from_args(build_parser("train").parse_args(["train", *argv]))

    cfg = train_cfg("--data", str(tmp_path), "--train-set", "Tiny")
    assert (cfg.data_dir, cfg.data) == (str(tmp_path), "Tiny") and capsys.readouterr().err == ""
    cfg = train_cfg("--data", "Tiny", "--data-dir", str(tmp_path))
    assert (cfg.data_dir, cfg.data) == (str(tmp_path), "Tiny")
    assert capsys.readouterr().err.count("deprecated") == 1
    cfg = train_cfg("--data", "T91")  # a set name, no such folder here: the old meaning
    assert (cfg.data_dir, cfg.data) == (None, "T91")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--train-set T91" in err
    args = build_parser("build").parse_args(["build", "--model", "bl", "--clock", "200"])
    assert args.clock == 200.0 and "--clock-mhz" in capsys.readouterr().err
    args = build_parser("rtl").parse_args(["rtl", "fit", "--clock", "90"])
    assert args.clock_mhz == 90.0


def _one_error(argv, capsys):
    from srhw.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error:" in err[0], err
    return err[0]


def test_checkpoint_sidecar_gives_spec_and_scale(tmp_path, capsys):
    from srhw.cli.common import spec_and_scale

    ck = REPO / "models" / "bl-x2.safetensors"
    assert spec_and_scale(None, None, None, ck) == ("bl", 2)
    assert spec_and_scale("bl", None, 2, ck) == ("bl", 2)
    assert "disagrees" in _one_error(["quantize", "int8", "--checkpoint", str(ck), "--scale", "3",
                                      "--out", str(tmp_path / "q")], capsys)
    assert "disagrees" in _one_error(["quantize", "int8", "--checkpoint", str(ck), "--model", "st_bl", "--r", "2c_out",
                                      "--out", str(tmp_path / "q")], capsys)
    assert "--model" in _one_error(["quantize", "ternary", "--out", str(tmp_path / "q")], capsys)
    assert not (tmp_path / "q").exists()
    st = REPO / "models" / "st_bl_r_2c_out-x2.safetensors"
    assert spec_and_scale(None, None, None, st) == ("st_bl(r=2c_out)", 2)
    assert "not x3" in _one_error(["profile", "--checkpoint", str(st), "--scale", "3"], capsys)
