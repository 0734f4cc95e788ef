"""When the compiler fuses two golden nodes into one engine pass: a channel attention into the residual add that
reads it, a pixel shuffle into the store of the conv before it, and which ops can sum channels on their store for
the channel attention after them."""

from srhw.export.engine.isa import FIELDS, OPS


def fusable_ca(g, i, last_use):
    """The channel attention that node i (an add) can absorb: the node just before it, read by this add alone."""
    n = g.nodes[i]
    if n.op != "add" or i == 0:
        return None
    ca = g.nodes[i - 1]
    if ca.op != "ca" or ca.name not in n.inputs or n.inputs.count(ca.name) != 1 or ca.name == g.output:
        return None
    readers = [m for m in g.nodes if ca.name in m.inputs]
    return ca.name if len(readers) == 1 and last_use[ca.name] == i else None


SUMMING = (OPS["conv"], OPS["sp_conv"], OPS["add"])  # ops whose store can sum channels for a CA after them


def ps_on_store(g, i, writer, descs, x, last_use) -> bool:
    """Pixel shuffle node i runs as the store address map of the conv just before it: that conv wrote its input,
    nothing else reads the conv's map, and it is not the graph output."""
    pw = writer.get(x)
    if pw is None or pw != len(descs) - 1 or descs[pw][FIELDS.index("OP")] not in (OPS["conv"], OPS["sp_conv"]):
        return False
    if descs[pw][FIELDS.index("PS")] or descs[pw][FIELDS.index("SUMS")]:
        return False
    readers = [m for m in g.nodes if x in m.inputs]
    return len(readers) == 1 and last_use[x] == i and x != g.output
