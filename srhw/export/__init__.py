"""Lowering quantized zoo models to FPGA hardware (the HLS backend): analytic estimates, QKeras/hls4ml projects.

    estimate.py  - analytic per-layer cost, SetFolding-like reuse factors, roofline (hardware.md)
    qgraph.py    - the integer network description the lowering consumes, and its int64 executor
    qkeras.py    - integer description -> QKeras model (lowering passes)
    hls.py       - QKeras -> hls4ml project (io_stream, Vitis), C-simulation in a subprocess
    engine.py    - integer description -> program of the layer-sequential HLS engine (hls/engine), g++ C-sim
"""
