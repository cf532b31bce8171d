"""What every step of the ONNX analysis shares: the scanned graph, the checked configs, the
provenance being recorded and the notes being collected, plus graph-walking helpers."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TypeVar

from planner.errors import ArtifactFormatError
from planner.io.limits import MAX_DIM
from planner_adapters._values import Provenance
from planner_adapters.onnx.configs import GenaiConfig, HfConfig
from planner_adapters.onnx.graph import Graph, Node

COM_MS = "com.microsoft"
ATTENTION_OPS = frozenset(
    {
        "GroupQueryAttention",
        "MultiHeadAttention",
        "Attention",
        "PagedAttention",
        "SparseAttention",
        "DecoderMaskedMultiHeadAttention",
    }
)
FLOAT_MATMULS = frozenset({"MatMul", "FusedMatMul", "Gemm"})
INT_MATMULS = frozenset({"MatMulInteger", "DynamicQuantizeMatMul", "MatMulIntegerToFloat"})
PASS_THROUGH = frozenset(
    {
        "Transpose",
        "Reshape",
        "Identity",
        "Cast",
        "DequantizeLinear",
        "Squeeze",
        "Unsqueeze",
        "Flatten",
    }
)
FLOAT_DTYPES = frozenset({"float32", "float16", "bfloat16", "float64"})
LAYER_RE = re.compile(r"(?:layers?|blocks?|/h)[./_](\d+)(?:[/._]|$)")
ROLE_RE = re.compile(
    r"(qkv_proj|query_key_value|c_attn|q_proj|k_proj|v_proj|o_proj|out_proj|gate_up_proj|"
    r"gate_proj|up_proj|down_proj|fc1|fc2|c_fc|lm_head)"
)


def layer_index(digits: str) -> int:
    """A layer index matched as digits; absurdly long ones become MAX_DIM (Python's int() refuses
    literals over 4300 digits, and no model has that many layers)."""
    return int(digits) if len(digits) <= 15 else MAX_DIM


T = TypeVar("T")


def most_common(counter: Counter[T]) -> T:
    """Most common value (ties: the first seen)."""
    return counter.most_common(1)[0][0]


@dataclass(slots=True)
class Ctx:
    """The analysis state of one graph."""

    g: Graph
    genai: GenaiConfig | None
    hf: HfConfig | None
    prov: Provenance = field(default_factory=Provenance)
    notes: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The model file, as shown in messages."""
        return str(self.g.path)

    @property
    def logits_name(self) -> str:
        """The logits output's name (genai_config.json may rename it)."""
        return self.genai.logits if self.genai else "logits"

    def error(self, message: str) -> ArtifactFormatError:
        """A format error naming the model file."""
        return ArtifactFormatError(message, path=self.path)

    def note(self, text: str) -> None:
        """Add a note for the spec (duplicates are dropped at the end)."""
        self.notes.append(text)

    def trace(self, name: str) -> tuple[str | None, list[Node]]:
        """Follow ``name`` back through layout-only ops to an initializer.

        Returns the initializer (or None) and the pass-through nodes crossed.
        """
        crossed: list[Node] = []
        tensors, producer = self.g.tensors, self.g.producer
        for _ in range(8):
            if name in tensors:
                return name, crossed
            node = producer.get(name)
            if node is None or node.op not in PASS_THROUGH or not node.inputs:
                return None, crossed
            crossed.append(node)
            name = node.inputs[0]
        return None, crossed

    def node_tensors(self, node: Node) -> list[str]:
        """Initializers a node consumes, directly or through pass-through ops."""
        out: list[str] = []
        for inp in node.inputs:
            if not inp:
                continue
            src, crossed = self.trace(inp)
            if src is not None:
                out.append(src)
            for c in crossed:  # e.g. DequantizeLinear's scale and zero point
                out.extend(x for x in c.inputs[1:] if x in self.g.tensors)
        return out

    @staticmethod
    def role_and_layer(name: str) -> tuple[str | None, int | None]:
        """Role (q_proj, down_proj, ...) and layer index from a node name."""
        m = ROLE_RE.search(name)
        lm = LAYER_RE.search(name)
        return (m.group(1) if m else None), (layer_index(lm.group(1)) if lm else None)
