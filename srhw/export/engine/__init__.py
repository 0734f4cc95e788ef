"""The layer-sequential HLS engine (hls/engine/) from Python: its instruction set, program compiler, cost model,
project writer and g++ C-simulation.

  * `isa`: descriptor fields, op codes, map types, program header (the C++ header's enums);
  * `program`: golden graph -> program.bin / weights.bin / srhw_config.h buffer sizes;
  * `cost`: the datapath per part and the cost model of the C++ as written (cycles, DSP, LUT, BRAM);
  * `project`: the project folder and `run_engine_csim`.
"""

from srhw.export.engine.cost import Datapath, datapath_for, descriptor_bytes, descriptor_cycles, resources
from srhw.export.engine.isa import FIELDS, OPS, TYPE_BYTES
from srhw.export.engine.program import (EngineConfig, Program, compile_program, datapath_for_graph, default_datapath,
                                        program_bytes, program_cycles)
from srhw.export.engine.project import (ENGINE_SRC, ap_types_dir, compile_testbench, lanes_summary, run_engine_csim,
                                        write_project)

__all__ = ["Datapath", "datapath_for", "descriptor_bytes", "descriptor_cycles", "resources", "FIELDS", "OPS",
           "TYPE_BYTES", "EngineConfig", "Program", "compile_program", "datapath_for_graph", "default_datapath",
           "program_bytes", "program_cycles", "ENGINE_SRC", "ap_types_dir", "compile_testbench", "lanes_summary",
           "run_engine_csim", "write_project"]
