"""Multiplier-free constant ternary matrix-vector product y = W·x as a pipelined Amaranth component.

Hardware of the plan from `rtl.cse` (greedy pair CSE + minimum-depth trees + a register every
`stage_every` adder levels). Port contract (also in rtl/README.md):

- `clk`, `rst`: the `sync` domain; `rst` is synchronous, active high, and clears the valid pipeline.
- `i_valid` (1), `i_data` (N*in_bits): element j at bits [j*in_bits, (j+1)*in_bits), two's complement.
- `o_valid` (1), `o_data` (M*out_bits): row i of W·x at bits [i*out_bits, (i+1)*out_bits).
- Fully pipelined: one vector per cycle; `o_valid` is `i_valid` delayed by `latency` cycles
  (1 input register + one register per stage). Data registers have no reset (they need none: o_data
  only means something while o_valid is high).
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.back import verilog
from amaranth.hdl import Cat, Const, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from rtl.cse import Plan, plan_adder_tree


@dataclass(frozen=True)
class AdderTreeConfig:
    """Generator parameters.

    stage_every: adder levels between pipeline registers; 2 (the setting measured in
        shared/notes/stack.md) puts two carry chains in series per stage. Timing is not measured
        here (no place and route): raise it to save flip-flops (`Plan.register_bits`), lower it for clock.
    keep: put a Yosys `keep` attribute on every adder's output so synthesis keeps one carry chain
        per planned adder instead of re-merging the trees into `$macc` compressors (stack.md).
    """

    in_bits: int = 8
    stage_every: int = 2
    keep: bool = True


class AdderTree(wiring.Component):
    """y = W·x for a constant ternary W (M x N), built from adders and subtractors only.

    Args:
        W: ternary weights, array-like (M, N) with values in {-1, 0, 1}.
        config: `AdderTreeConfig` (input width, pipeline spacing, keep attributes).

    Attributes:
        plan (Plan): the scheduled adder DAG (counts, widths, `latency`, `out_bits`).
        i_valid, i_data, o_valid, o_data: ports, see the module docstring.
    """

    def __init__(self, W, config: AdderTreeConfig = AdderTreeConfig()):
        self.config = config
        self.plan: Plan = plan_adder_tree(W, config.in_bits, config.stage_every)
        p = self.plan
        super().__init__(
            {
                "i_valid": In(1),
                "i_data": In(p.n * p.in_bits),
                "o_valid": Out(1),
                "o_data": Out(p.m * p.out_bits),
            }
        )

    @property
    def latency(self) -> int:
        return self.plan.latency

    def elaborate(self, platform):
        m = Module()
        p = self.plan
        b = p.in_bits
        attrs = {"keep": 1} if self.config.keep else {}

        # Valid pipeline: input register + one register per stage.
        valid = self.i_valid
        for t in range(p.latency):
            v = Signal(name=f"valid_{t}")
            m.d.sync += v.eq(valid)
            valid = v
        m.d.comb += self.o_valid.eq(valid)

        # timed[(node, t)]: the node's value held in the register that closes stage t.
        timed: dict[tuple[int, int], Signal] = {}
        comb: dict[int, Signal] = {}

        def at(node: int, t: int) -> Signal:
            """Value of `node` registered at the end of stage t (t >= its own stage)."""
            key = (node, t)
            if key not in timed:
                nd = p.nodes[node]
                if t < nd.stage:
                    raise AssertionError(f"node {node} (stage {nd.stage}) read at stage {t}")
                src = comb[node] if t == nd.stage else at(node, t - 1)
                name = f"n{node}_t{t}" if nd.op != "in" else f"x{nd.a}_t{t}"
                reg = Signal(signed(nd.width), name=name, reset_less=True)
                m.d.sync += reg.eq(src)
                timed[key] = reg
            return timed[key]

        # Stage 0: the input register.
        for nd in p.nodes:
            if nd.op == "in":
                comb[nd.id] = self.i_data[nd.a * b : (nd.a + 1) * b].as_signed()
        for nd in p.nodes:
            if nd.op == "in":
                continue

            def operand(o: int) -> Signal:
                # Same stage: chain combinationally; earlier stage: its register at stage - 1.
                od = p.nodes[o]
                return comb[o] if (od.stage == nd.stage and od.op != "in") else at(o, nd.stage - 1)

            s = Signal(signed(nd.width), name=f"n{nd.id}", attrs=attrs)
            if nd.op == "add":
                m.d.comb += s.eq(operand(nd.a) + operand(nd.b))
            elif nd.op == "sub":
                m.d.comb += s.eq(operand(nd.a) - operand(nd.b))
            else:  # neg
                m.d.comb += s.eq(-operand(nd.a))
            comb[nd.id] = s

        # Outputs, aligned to the last stage and sign-extended to out_bits.
        outs = []
        for i, o in enumerate(p.outputs):
            y = Signal(signed(p.out_bits), name=f"y{i}")
            m.d.comb += y.eq(Const(0, signed(p.out_bits)) if o is None else at(o, p.stages))
            outs.append(y)
        m.d.comb += self.o_data.eq(Cat(*outs))
        return m


def to_verilog(component: AdderTree, module: str = "adder_tree") -> str:
    """Verilog text of the component, without source locations so it is the same on every checkout."""
    return verilog.convert(component, name=module, emit_src=False, strip_internal_attrs=True)
