"""Quiet by default: the libraries' own noise is turned off where it is made, unless `-v/--verbose`.

TensorFlow's C++ logging reads TF_CPP_MIN_LOG_LEVEL when it is first imported (so this runs before any
command imports it); absl, keras, QKeras and hls4ml report through Python's `warnings` and `logging`,
filtered here by the modules that issue them. srhw's own messages are never filtered.
"""

import logging
import os
import warnings

NOISY = r"(keras|tensorflow|qkeras|hls4ml|absl|torch\.ao)(\.|$)"


def quiet(verbose: bool = False):
    """Silence library warnings and TensorFlow's C++ log (verbose=True: leave everything as it is)."""
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # also inherited by C-sim subprocesses
    warnings.filterwarnings("ignore", module=NOISY)
    for name in ("tensorflow", "absl", "keras", "hls4ml", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
