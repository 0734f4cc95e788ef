"""Multiplier-free RTL kernels (Amaranth): ternary adder trees and the sum-product kernel. See rtl/README.md."""
