"""The engine's instruction set: descriptor fields, op codes, map types, program header (hls/engine/srhw_engine.h).

The one table of what srhw_engine.h's `enum Op`, `enum Field`, `enum DType` and tb_engine.cpp's `enum Header`
say; tests/test_hls_engine.py parses the C++ and checks it against this module.
"""

# descriptor words, in the order of srhw_engine.h's `enum Field` (tests/test_hls_engine.py checks it)
FIELDS = [
    "OP", "IN0", "IN0_C", "IN0_T", "IN1", "IN1_C", "IN1_T", "OUT", "OUT_C", "OUT_T", "F", "GROUPS", "KH", "KW",
    "HID", "W", "B", "M", "SHV", "A", "WC", "W1", "B1", "M1", "SH1", "W2", "B2", "M2", "SH2", "LUT",
    "SH", "MA", "MB", "MY", "LO", "HI", "HID_LO", "HID_HI", "Z_LO", "Z_HI", "CH0", "CH_STEP",
    "FUSE", "ADD_SH", "Y_LO", "Y_HI", "SUMS", "PS",
]
FUSE_CA_ADD_A, FUSE_CA_ADD_B = 1, 2  # a CA fused with the residual add that reads it, as the add's first / second input
OPS = {"conv": 1, "sp_conv": 2, "add": 3, "act": 4, "ca": 5, "pixel_shuffle": 6, "channel_shuffle": 7,
       "slice": 8, "concat": 9, "interleave": 10}
T_S8, T_U8, T_S16 = 0, 1, 2
TYPE_RANGE = {T_S8: (-128, 127), T_U8: (0, 255), T_S16: (-32768, 32767)}
TYPE_BYTES = {T_S8: 1, T_U8: 1, T_S16: 2}
MAGIC, VERSION, HEADER_WORDS = 0x57485253, 3, 24  # "SRHW"; tb_engine.cpp's `enum Header`
ACC_BITS = 48  # big_t = ap_int<48> (the DSP48E1 P register): no declared width may exceed it
WIDE_BITS = 64  # wide_t = ap_int<64>, the requantization products
DESC_WORDS = len(FIELDS)  # SRHW_DESC_WORDS
