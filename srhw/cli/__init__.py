"""`python -m srhw <command>`: one sub-command per module, imported only when it runs.

Each command module defines `add_arguments(parser)` and `run(args) -> int`. Bad input raises
`SrhwError`, which becomes one line on stderr and exit code 2 (argparse's own errors exit 2 too).
"""

import argparse
import importlib
import sys
from pathlib import Path

from srhw import __version__
from srhw.core.errors import SrhwError
from srhw.core.logs import quiet

# name -> (module, one-line help). Modules are imported lazily so `srhw profile` never loads TensorFlow.
COMMANDS = {
    "profile": ("srhw.cli.profile", "count params, Mult-Adds and Table 5 ops of zoo models"),
    "eval": ("srhw.cli.eval", "PSNR/SSIM on benchmark sets"),
    "train": ("srhw.cli.train", "train a zoo model"),
    "study": ("srhw.cli.study", "train + evaluate every row of a paper table"),
    "compare": ("srhw.cli.compare", "visual comparison crops like the paper's figures"),
    "quantize": ("srhw.cli.quantize", "INT8 and ternary quantization"),
    "rtl": ("srhw.cli.rtl", "generate multiplier-free RTL kernels"),
    "build": ("srhw.cli.build", "lower a quantized model to HLS/RTL and report its cost on a part"),
}


def _available():
    """Commands whose module exists, found by path so that no package is imported to list them."""
    root = Path(__file__).resolve().parents[2]
    out = {}
    for name, (mod, help_) in COMMANDS.items():
        base = root.joinpath(*mod.split("."))
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            out[name] = (mod, help_)
    return out


def build_parser(wanted: str | None = None, everything: bool = False) -> argparse.ArgumentParser:
    """The parser tree: every command listed, only `wanted`'s flags built (all of them with `everything`,
    for the tests that walk the tree). A command module's `EXAMPLES` becomes its help's epilog."""
    from srhw.cli.common import examples, finish

    parser = argparse.ArgumentParser(prog="srhw", description=__doc__.splitlines()[0],
                                     epilog=examples("srhw build --model st_bl --r 2c_out --part xc7z020",
                                                     "srhw profile --model bl --scale 2", "srhw <command> --help"))
    parser.add_argument("--version", action="version", version=f"srhw {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the libraries' own warnings and logs (TensorFlow, keras, hls4ml), hidden by default")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (mod, help_) in _available().items():
        p = sub.add_parser(name, help=help_, description=help_)
        if everything or name == wanted:
            module = importlib.import_module(mod)
            module.add_arguments(p)
            p.epilog = p.epilog or getattr(module, "EXAMPLES", None)
            p.set_defaults(_module=module)
    finish(parser)
    return parser


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = any(a in ("-v", "--verbose") for a in argv)  # accepted anywhere on the line
    argv = [a for a in argv if a not in ("-v", "--verbose")]
    quiet(verbose)  # before any command imports TensorFlow, keras or hls4ml
    # Only build the sub-parser of the command being run: importing every module would be slow.
    parser = build_parser(next((a for a in argv if not a.startswith("-")), None))
    args = parser.parse_args(argv)
    try:
        return args._module.run(args) or 0
    except SrhwError as e:
        print(f"srhw {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"srhw {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
