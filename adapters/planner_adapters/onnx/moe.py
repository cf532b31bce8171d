"""The mixture-of-experts layers of an ONNX graph (``MoE``, ``QMoE``), from node attributes and
initializer headers only: the facts onnxruntime's memory model plans their experts from."""

from __future__ import annotations

from planner.errors import ArtifactFormatError
from planner_adapters.onnx.graph import Graph, Node

QMOE_DATA = (2, 5, 8)
"""QMoE's inputs (com.microsoft contrib op): fc1 / fc2 / fc3 expert weights, packed 8 / bits
values a byte; their scales, zero points and biases (4, 7, 10) below."""
QMOE_SCALES = (3, 6, 9)
QMOE_ZERO_POINTS = (11, 12, 13)
QMOE_PACKED = {
    "data": QMOE_DATA[:2],
    "scales": QMOE_SCALES[:2],
    "zero_points": QMOE_ZERO_POINTS[:2],
}
"""What its CPU kernel packs at load: fc1 and fc2 (fc3 and the biases stay in place)."""
QMOE_BITS = (2, 4, 8)
"""Expert bit widths onnxruntime's QMoE accepts; 4 and 8 are packed as MatMulNBits weights."""


def qmoe_bits(g: Graph, node: Node) -> int:
    """A QMoE node's ``expert_weight_bits`` (4 when absent); another width is a format error."""
    bits = g.attr_int(node, "expert_weight_bits", 4)
    if bits not in QMOE_BITS:
        raise ArtifactFormatError(
            f"QMoE node {node.name!r}: expert_weight_bits={bits} (onnxruntime takes 2, 4 or 8)",
            path=str(g.path),
        )
    assert bits is not None
    return bits


def moe_facts(g: Graph) -> list[tuple[str, str]]:
    """What the MoE layers' expert weights are (every initializer behind an expert input: after
    the hidden states and the router's probabilities):

    * ``moe_nodes``, ``moe_expert_bytes`` (all of them);
    * ``moe_inplace_external_bytes``: what the kernels read in place from the mapped file (fp32
      ``MoE`` experts; QMoE biases, fc3 and experts it does not pack), external data only
      (weights inside model.onnx are parsed into the heap and counted there);
    * ``moe_qpacked``: the QMoE experts packed at load, one group per (bits, block size,
      accuracy level): ``bits/block/level:data/scales/zero_points:external data/scales/zero
      points`` bytes, groups joined by ``;``. Block-wise 4- and 8-bit experts are packed; row-wise
      ones (no ``block_size``) and 2-bit ones are read in place."""
    nodes = g.ops("MoE", "QMoE")
    if not nodes:
        return []
    packed: dict[tuple[int, int, int], dict[str, set[str]]] = {}
    covered: set[str] = set()
    for n in nodes:
        if n.op != "QMoE":
            continue
        bits = qmoe_bits(g, n)
        block = g.attr_int(n, "block_size", 0) or 0
        level = g.attr_int(n, "accuracy_level", 0) or 0
        if bits == 2 or block <= 0 or level < 0:
            continue
        group = packed.setdefault((bits, block, level), {k: set() for k in QMOE_PACKED})
        for kind, slots in QMOE_PACKED.items():
            for slot in slots:
                if slot < len(n.inputs) and n.inputs[slot] in g.tensors:
                    group[kind].add(n.inputs[slot])
                    covered.add(n.inputs[slot])
    names = {name for n in nodes for name in n.inputs[2:] if name in g.tensors}

    def size(found: set[str], external: bool = False) -> int:
        return sum(g.tensors[x].nbytes for x in found if not external or g.tensors[x].external)

    facts = [
        ("moe_nodes", str(len(nodes))),
        ("moe_ops", ",".join(sorted({n.op for n in nodes}))),
        ("moe_expert_bytes", str(size(names))),
        ("moe_inplace_external_bytes", str(size(names - covered, external=True))),
    ]
    widths = {w for w in (_moe_intermediate(g, n) for n in nodes) if w}
    if widths:
        facts.append(("moe_intermediate", str(max(widths))))
    fc1 = [g.tensors[n.inputs[2]] for n in nodes if len(n.inputs) > 2 and n.inputs[2] in g.tensors]
    experts = {t.dims[0] for t in fc1 if len(t.dims) == 3 and 0 < t.dims[0] < 1 << 16}
    top_k = {g.attr_int(n, "k", 1) for n in nodes}  # absent: onnxruntime's default, 1
    if len(experts) == 1 and len(top_k) == 1:
        e, k = experts.pop(), top_k.pop()
        if k is not None and 0 < k <= e:
            facts += [("moe_experts", str(e)), ("moe_top_k", str(k))]
    if packed:
        groups = []
        for (bits, block, level), kinds in sorted(packed.items()):
            totals = "/".join(str(size(kinds[k])) for k in QMOE_PACKED)
            external = "/".join(str(size(kinds[k], external=True)) for k in QMOE_PACKED)
            groups.append(f"{bits}/{block}/{level}:{totals}:{external}")
        facts.append(("moe_qpacked", ";".join(groups)))
    return facts


def _moe_intermediate(g: Graph, node: Node) -> int | None:
    """An MoE node's expert intermediate width: the last dim of its fc2 weights ([experts,
    hidden, intermediate]; QMoE packs 8 / bits values a byte). None when not readable."""
    slot = QMOE_DATA[1] if node.op == "QMoE" else 4
    name = node.inputs[slot] if slot < len(node.inputs) else ""
    tensor = g.tensors.get(name)
    if tensor is None or len(tensor.dims) != 3:
        return None
    per_byte = 8 // qmoe_bits(g, node) if node.op == "QMoE" else 1
    width = tensor.dims[2] * per_byte
    return width if 0 < width < 1 << 24 else None
