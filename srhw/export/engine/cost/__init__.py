"""Cost model of the written layer-sequential engine (hls/engine/): cycles, DSP, LUT, BRAM, and the datapath per
program and part.

Everything here reads the C++ as written, never a synthesis result (no vitis_hls/Vivado on these machines):

  * `cycles`: `descriptor_cycles(desc, dp, H, W)`, the iterations of every pipelined loop of srhw_engine.cpp one
    descriptor runs on an H x W LR input (its cycles at II = 1), and `descriptor_bytes`, the DDR bytes it moves;
  * `area`: `multipliers`, `adder_trees`, `memories`, `resources`: each multiply in DSP48s at its operands'
    declared widths, each adder tree's inputs x width in LUTs, each declared array after its pragmas in
    BRAM36/LUTRAM; `lane_buffers`, the buffer sizes a descriptor needs;
  * `search`: `datapath_for_program`, the `Datapath` (srhw.export.engine.datapath) with the fewest frame cycles on
    this program's own layers that fits the part's budgets (srhw.hw.budget), found by block-coordinate search
    over the arrays (any lane count, not only powers of two); `datapath_for`, the same on the reference layers.

The formulas take plain ints or numpy arrays for the datapath's fields (the search evaluates many at once).
"""

from srhw.export.engine.cost.cycles import descriptor_bytes, descriptor_cycles
from srhw.export.engine.cost.area import bound_resource, resources
from srhw.export.engine.cost.search import datapath_for, datapath_for_program

__all__ = ["descriptor_bytes", "descriptor_cycles", "bound_resource", "resources", "datapath_for",
           "datapath_for_program"]
