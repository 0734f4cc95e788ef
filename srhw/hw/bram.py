"""The one BRAM36 mapping: how many 36 Kbit blocks a memory of `depth` words x `width` bits takes.

As Vivado maps one array (one partition): the cheapest BRAM18 aspect ratio of simple dual-port mode
(16K x 1, 8K x 2, 4K x 4, 2K x 9, 1K x 18, 512 x 36; UG473 / UG573) tiled over depth and width, then
pairs of BRAM18 rounded up to whole BRAM36. Every cost model (dataflow blocks, the engine's buffers, the
RTL lanes' ROMs and line buffers) maps its memories with this function.
"""

BRAM_BITS = 36 * 1024
BRAM18_ASPECTS = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))


def bram36(depth: int, width: int) -> int:
    """BRAM36 blocks of one depth x width-bit memory (0 if it is empty)."""
    if depth <= 0 or width <= 0:
        return 0
    n18 = min(-(-depth // d) * -(-width // w) for d, w in BRAM18_ASPECTS)
    return -(-n18 // 2)
