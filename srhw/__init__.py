"""srhw: efficient single-image super-resolution, from the efficiency study to FPGA hardware.

The study: "Building efficient super-resolution networks" (ICLR 2019 submission; the text is in
shared/paper/sr-efficiency-study.txt). Folders: `srhw.models` (the model zoo), `srhw.profile`
(the op counter), `srhw.data`, `srhw.train`, `srhw.quant`, `srhw.export`; `rtl/` holds the hardware
generators.
"""

__version__ = "0.1.0"
