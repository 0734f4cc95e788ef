"""The layer-sequential HLS engine (hls/engine/) from Python: its instruction set, program compiler, cost model,
project writer and g++ C-simulation.

  * `isa`: descriptor fields, op codes, map types, program header (the C++ header's enums);
  * `program`: the compiler pass, golden graph -> `compiled.Program` (program.bin / weights.bin / program.h) and the
    srhw_config.h buffer sizes (`config`); it packs weights into the `blob`, places maps in the `arena`, checks
    widths against `limits` and fuses passes where `fusion` allows;
  * `cost/`, the cost model of the C++ as written, never synthesised: `cycles` (per descriptor: pipelined-loop cycles,
    DDR bytes), `area` (DSP, LUT, FF, BRAM of the declared arrays and arithmetic), `search` (the
    `datapath.Datapath` per program and part within the part's budgets);
  * `project`: the project folder and `run_engine_csim`.
"""

from srhw.export.engine.compiled import Program
from srhw.export.engine.config import EngineConfig
from srhw.export.engine.cost.cycles import descriptor_bytes, descriptor_cycles
from srhw.export.engine.datapath import Datapath
from srhw.export.engine.isa import FIELDS, OPS, TYPE_BYTES
from srhw.export.engine.program import (compile_program, datapath_for_graph, default_datapath, program_bytes,
                                        program_cycles)
from srhw.export.engine.cost.area import resources
from srhw.export.engine.cost.search import datapath_for
from srhw.export.engine.project import (ENGINE_SRC, ap_types_dir, compile_testbench, lanes_summary, run_engine_csim,
                                        write_project)

__all__ = ["Datapath", "datapath_for", "descriptor_bytes", "descriptor_cycles", "resources", "FIELDS", "OPS",
           "TYPE_BYTES", "EngineConfig", "Program", "compile_program", "datapath_for_graph", "default_datapath",
           "program_bytes", "program_cycles", "ENGINE_SRC", "ap_types_dir", "compile_testbench", "lanes_summary",
           "run_engine_csim", "write_project"]
