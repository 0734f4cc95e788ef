"""Quantization settings, each default beside its reason."""

from dataclasses import dataclass

# The paper's stage schedule for ternary sum-product models (section 3): stage -> (epochs, learning rate).
# "fp" is the usual full-precision training when no checkpoint is given. The one table: `srhw quantize
# ternary`'s defaults, srhw.quant.ternary.STAGES and the study's proportions read it.
STAGE_SCHEDULE = {"fp": (300, 1e-4), "ternary": (40, 5e-5), "frozen": (10, 2.5e-5)}


@dataclass
class QuantConfig:
    act_bits: int = 8  # INT8 activations (paper section 5.1; TFLite's scheme)
    weight_bits: int = 8  # per-output-channel symmetric weights in [-127, 127] (Jacob et al. 2017; TFLite)
    image_bits: int = 9  # mean-shifted image tensors: x - mean spans [-115, 141], 9 bits keep step 1
    pow2_scales: bool = True  # activation scales 2^-f: fixed-point formats (ap_fixed, QKeras quantized_bits),
    #                           so adds and concats are shifts; costs up to 1 bit of range
    mult_bits: int = 15  # requantization multiplier width (srhw.quant.fixedpoint.MULT_BITS)
    sp_scale_bits: int = 12  # the r integer scales of a sum-product layer; 12 bits fit a DSP48E1 18-bit port
    lut_frac_bits: int = 8  # sigmoid table entries in [0, 2^8] (step 1/256, 9-bit unsigned)
    bias_bits: int = 32  # conv biases are int32 at scale s_in * s_w (Jacob et al. 2017, section 2.4)
    equalize: float = 0.0  # cross-layer equalization strength in [0, 1] before calibration (srhw.quant.equalize);
    #                        0 = off, the paper's recipe
    bias_correct: bool = False  # empirical bias correction after calibration (srhw.quant.bias_correct); off = the
    #                             paper's recipe
    gptq: bool = False  # error-compensating weight rounding after calibration (srhw.quant.gptq); off = nearest
    #                     rounding, the paper's recipe
    calib_batches: int = 4  # calibration batches (of 16 LR patches of 48x48) for activation ranges
