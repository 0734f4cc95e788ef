"""Shared pytest fixtures, and the CI rule for the benchmark data.

Under `CI=true` a missing data folder fails the run instead of skipping the tests that need it: a CI without
data must not pass green. Locally (CI unset) those tests skip with a reason naming the folder.
"""

import os

import pytest
import torch

from srhw.data import default_data_dir

# Skip reasons of tests that need ../shared/data (or $SRHW_DATA); under CI they are failures.
DATA_SKIP_WORDS = ("SRHW_DATA", "shared/data", "Set5 LR images not found", "benchmark data not found")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


# Under pytest-xdist each worker gets one core's worth of torch threads, so the workers do not oversubscribe.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)


def pytest_sessionstart(session):
    if in_ci() and not (default_data_dir() / "Set5").is_dir():
        raise pytest.UsageError(f"CI=true but the benchmark data is missing: {default_data_dir()} has no Set5 "
                                "(set SRHW_DATA or provide ../shared/data)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if in_ci() and rep.skipped and isinstance(rep.longrepr, tuple):
        reason = str(rep.longrepr[2])
        if any(w in reason for w in DATA_SKIP_WORDS):
            rep.outcome = "failed"
            rep.longrepr = f"CI=true: a data test may not skip ({reason})"


@pytest.fixture
def one_thread():
    """Run the test with one torch thread (bit-exact comparisons stay cheap; the 2 cores stay shared)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def srhw_main(capsys):
    """`python -m srhw ARGS` in this process, as `run(*args) -> (returncode, stdout, stderr)`: the same parser and
    the same `SrhwError` -> one line + exit 2 as the console script, without a spawn's 3-5 s of imports. Each
    command keeps one subprocess test for the real exit status and stderr. Torch's thread count is restored
    after, since `--threads` sets it for the whole process."""
    from types import SimpleNamespace

    from srhw.cli import main

    def run(*args):
        capsys.readouterr()  # drop what the test printed before
        n = torch.get_num_threads()
        try:
            rc = main([str(a) for a in args])
        except SystemExit as e:  # argparse's own errors and --help
            rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        finally:
            torch.set_num_threads(n)
        out = capsys.readouterr()
        return SimpleNamespace(returncode=rc, stdout=out.out, stderr=out.err)

    return run


@pytest.fixture
def small_fsrcnn():
    """`make(seed, n_batches) -> (net, batches)`: a tiny FSRCNN deploy form with features that carry the image
    and a tail that maps them to intensities, as trained, and smooth, non-negative Y batches (not zero-mean,
    neighbouring pixels alike: what makes int8 rounding errors biased and coherent)."""
    from srhw.models import build

    def make(seed=0, n_batches=2):
        torch.manual_seed(seed)
        net = build("fsrcnn(d=8,s=3,m=1)", 2).deploy().eval()
        with torch.no_grad():
            for m in net.body:
                if isinstance(m, torch.nn.Conv2d):
                    m.weight.mul_(2.5)
            net.tail.weight.normal_(0.0, 0.05)
            net.tail.bias.fill_(100.0)
        g = torch.Generator().manual_seed(seed + 1)
        batches = [torch.nn.functional.interpolate(torch.randint(0, 256, (4, 1, 6, 6), generator=g).float(), size=24,
                                                   mode="bilinear", align_corners=False) for _ in range(n_batches)]
        return net, batches

    return make
