"""Graph-only facts of an ONNX model: initializer headers, nodes, I/O — never weight bytes.

The model file is projected onto the fields planner reads (``planner.io.protobuf``: memory-mapped,
weight payloads replaced by their lengths, under a budget of fields, parsed bytes and time) and
the projection is parsed with protobuf — the same facts as ``onnx.load(path,
load_external_data=False)`` without copying a weight byte. Every external initializer is
checked against its data file with ``os.stat`` alone: the location must stay inside the model
folder (``planner.io.contain``) and ``offset + length`` must fit in the real file, so a hostile
model cannot make planner (or, later, onnxruntime) read outside the folder or past the end of a
file. Initializer shapes go through ``checked_dims`` before anything is multiplied. Subgraphs
(``If``, ``Loop``, ``Scan``: Optimum's merged decoder) are walked iteratively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import ArtifactFormatError, InputError, UnsafeArtifactError
from planner.io.contain import ModelFolder
from planner.io.files import regular_file
from planner.io.limits import MAX_DIM, checked_dims
from planner.io.protobuf import project_file
from planner_adapters.onnx.proto import PROJECTION

# TensorProto.DataType → (canonical dtype name, bits per element). Values are fixed by the
# ONNX spec (onnx/onnx.proto3), so they are listed here rather than looked up per tensor.
DTYPES: dict[int, tuple[str, int]] = {
    1: ("float32", 32),
    2: ("uint8", 8),
    3: ("int8", 8),
    4: ("uint16", 16),
    5: ("int16", 16),
    6: ("int32", 32),
    7: ("int64", 64),
    9: ("bool", 8),
    10: ("float16", 16),
    11: ("float64", 64),
    12: ("uint32", 32),
    13: ("uint64", 64),
    14: ("complex64", 64),
    15: ("complex128", 128),
    16: ("bfloat16", 16),
    17: ("float8_e4m3fn", 8),
    18: ("float8_e4m3fnuz", 8),
    19: ("float8_e5m2", 8),
    20: ("float8_e5m2fnuz", 8),
    21: ("uint4", 4),
    22: ("int4", 4),
    23: ("float4_e2m1", 4),
    24: ("float8_e8m0", 8),
    25: ("uint2", 2),
    26: ("int2", 2),
}
_STRING = 8
_EXTERNAL = 1
_SUBGRAPH_OPS = frozenset({"If", "Loop", "Scan"})
_ATTR_INT, _ATTR_FLOAT, _ATTR_TENSOR, _ATTR_GRAPH, _ATTR_GRAPHS = 2, 1, 4, 5, 10
MAX_NODES = 1_000_000
"""More nodes than any real LLM graph (a 70B genai graph has ~1,500, an Optimum export with
its merged subgraphs tens of thousands); bounds the scan's time."""
MAX_DATA_FILES = 100_000
"""Distinct external data files (one per tensor is the most a real export uses)."""
MAX_GRAPH_BYTES = 2 * 1024 * 1024 * 1024
"""Protobuf's own hard limit: an ONNX file larger than this cannot be a valid model."""


@dataclass(slots=True)
class Tensor:
    """One initializer's header."""

    name: str
    dtype: str
    dims: tuple[int, ...]
    numel: int
    nbytes: int
    external: bool


class Node:
    """One node. Inputs, name, domain and attributes are read from the protobuf on first use
    (most nodes are only ever asked for their op type and outputs)."""

    __slots__ = ("_attrs", "_inputs", "op", "outputs", "proto")

    def __init__(self, op: str, outputs: tuple[str, ...], proto: Any) -> None:
        self.op = op
        self.outputs = outputs
        self.proto = proto
        self._inputs: tuple[str, ...] | None = None
        self._attrs: dict[str, Any] | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        """Input value names ('' for an omitted optional input)."""
        if self._inputs is None:
            self._inputs = tuple(self.proto.input)
        return self._inputs

    @property
    def name(self) -> str:
        """The node name (may be empty)."""
        return text(self.proto.name)

    @property
    def domain(self) -> str:
        """The operator domain ('' for ai.onnx)."""
        return text(self.proto.domain)


@dataclass(slots=True)
class ValueInfo:
    """A graph input or output: element type and dims (int, symbol name, or None)."""

    name: str
    dtype: str | None
    dims: tuple[int | str | None, ...] | None


@dataclass(slots=True)
class Graph:
    """Everything the adapter needs from a model file."""

    path: Path
    tensors: dict[str, Tensor]
    nodes: list[Node]
    by_op: dict[str, list[Node]]
    producer: dict[str, Node]
    input_protos: dict[str, Any]
    output_protos: dict[str, Any]
    opsets: dict[str, int]
    producer_name: str
    ir_version: int
    file_bytes: int
    data_files: dict[str, int] = field(default_factory=dict)
    """External data files used (location → size in bytes)."""
    _infos: dict[str, ValueInfo] = field(default_factory=dict)

    def ops(self, *names: str) -> list[Node]:
        """Nodes of the given op types, in graph order per type."""
        out: list[Node] = []
        for name in names:
            out.extend(self.by_op.get(name, ()))
        return out

    def _held_constant(self, proto: Any) -> tuple[int, tuple[int, ...]] | None:
        """(bytes, dims) of the tensor a ``Constant`` node holds inside the model file; None for
        another kind of value or external data. Sizes come from dims × dtype; a held payload of
        another size is a format error, as for initializers."""
        for a in proto.attribute:
            if a.name != "value" or a.type != _ATTR_TENSOR:
                continue
            t = a.t
            entry = DTYPES.get(t.data_type)
            if entry is None or t.data_location == _EXTERNAL:
                return None
            label = f"Constant node {text(proto.name)!r}"
            dims = tuple(t.dims)
            nbytes = (checked_dims(dims, self.path, label) * entry[1] + 7) // 8
            _check_held(t, nbytes, label, self.path)
            return nbytes, dims
        return None

    def inline_constants(self) -> tuple[int, int]:
        """(total, largest) bytes of the tensors ``Constant`` nodes hold inside the model file,
        subgraphs included (the builder's LongRoPE cos/sin caches are Constant nodes in an
        ``If``'s branches)."""
        total = largest = 0
        for node in self.by_op.get("Constant", ()):
            held = self._held_constant(node.proto)
            if held is not None:
                total += held[0]
                largest = max(largest, held[0])
        return total, largest

    def rope_switch(self) -> tuple[int, int, int] | None:
        """(bytes of the short cos table, bytes of the long one, rows of the short one) when an
        ``If`` picks the rotary caches by sequence length (the builder's LongRoPE graph: its
        branches hold ``cos_cache_small`` / ``cos_cache_large`` as Constant nodes inside the
        file); else None. The short table has the original context's rows, the switch point;
        two tables of one size, or any other shape, are not a switch."""
        for node in self.by_op.get("If", ()):
            if not any("cos_cache" in o for o in node.outputs):
                continue
            tables: list[tuple[int, int]] = []
            for a in node.proto.attribute:
                if a.type != _ATTR_GRAPH:
                    continue
                for sub in a.g.node:
                    if sub.op_type != "Constant" or not any("cos" in o for o in sub.output):
                        continue
                    held = self._held_constant(sub)
                    if held is not None and len(held[1]) == 2 and held[1][0] > 0:
                        tables.append((held[0], held[1][0]))
            if len(tables) == 2:
                (small, rows), (large, _) = sorted(tables)
                if 0 < small < large:
                    return small, large, rows
        return None

    def value_info(self, name: str) -> ValueInfo | None:
        """A graph input's or output's type and shape (parsed on first use)."""
        info = self._infos.get(name)
        if info is None:
            proto = self.input_protos.get(name)
            if proto is None:
                proto = self.output_protos.get(name)
            if proto is None:
                return None
            info = self._infos[name] = _value_info(proto)
        return info

    def attrs(self, node: Node) -> dict[str, Any]:
        """All attributes of ``node``: ints and floats as values, anything else as None."""
        attrs = node._attrs
        if attrs is None:
            attrs = {}
            for a in node.proto.attribute:
                kind = a.type
                if kind == _ATTR_INT or (kind == 0 and a.HasField("i")):
                    attrs[a.name] = int(a.i)
                elif kind == _ATTR_FLOAT or (kind == 0 and a.HasField("f")):
                    attrs[a.name] = float(a.f)
                else:
                    attrs[a.name] = None  # present, but not a number
            node._attrs = attrs
        return attrs

    def attr_int(self, node: Node, name: str, default: int | None = None) -> int | None:
        """An INT attribute of ``node``; a wrong type is a format error naming the node."""
        attrs = self.attrs(node)
        if name not in attrs:
            return default
        value = attrs[name]
        if not isinstance(value, int):
            raise ArtifactFormatError(
                f"{node.op} node {node.name!r}: attribute {name!r} must be an integer",
                path=str(self.path),
            )
        if abs(value) > MAX_DIM:
            raise ArtifactFormatError(
                f"{node.op} node {node.name!r}: attribute {name!r} = {value} is absurd",
                path=str(self.path),
            )
        return value


_TRUNCATED_HINT = (
    "a truncated download, a Git LFS pointer, or not an ONNX file? compare the "
    "file size with the source"
)


def parse_model(path: Path) -> tuple[Any, int]:
    """Parse ``path`` as an ONNX ModelProto (graph only; external data is never touched).

    Refuses special files and files over protobuf's 2 GB limit; the file is projected under a
    budget first (``planner.io.protobuf``), so weight payloads are never copied. Any parse
    failure becomes a one-line ``ArtifactFormatError``.
    """
    st = regular_file(path, "ONNX model")
    if st.st_size > MAX_GRAPH_BYTES:
        raise ArtifactFormatError(
            f"not a valid ONNX model: {st.st_size} bytes is over protobuf's 2 GB limit "
            "(large models keep their weights in external data files)",
            path=str(path),
        )
    try:
        data, size = project_file(path, PROJECTION, "ModelProto", "ONNX model")
    except ArtifactFormatError as exc:
        if "does not parse" not in exc.message:
            raise
        raise ArtifactFormatError(exc.message, path=str(path), hint=_TRUNCATED_HINT) from None
    if not size:
        raise ArtifactFormatError(
            "not a valid ONNX model: the file is empty", path=str(path), hint=_TRUNCATED_HINT
        )
    try:
        from planner_adapters.onnx.proto import ModelProto  # subset schema; no onnx import

        model = ModelProto()
        model.ParseFromString(data)
    except Exception as exc:  # protobuf raises DecodeError, RuntimeError, ValueError...
        reason = " ".join(str(exc).split()) or type(exc).__name__
        # "Error parsing message with type 'onnx.ModelProto': Wire format was corrupt"
        reason = re.sub(r"^Error parsing message(?: with type '[^']*')?:?\s*", "", reason)
        raise ArtifactFormatError(
            f"not a valid ONNX model: the protobuf does not parse ({reason or 'corrupt'})",
            path=str(path),
            hint=_TRUNCATED_HINT,
        ) from None
    if not model.HasField("graph") or (len(model.graph.node) == 0):
        raise ArtifactFormatError("not a valid ONNX model: it has no graph nodes", path=str(path))
    return model, size


def text(value: Any) -> str:
    """A protobuf string field as ``str``: ONNX is proto2, whose string fields may hold bytes
    that are not UTF-8 (protobuf then returns ``bytes``)."""
    if isinstance(value, str):
        return value
    return bytes(value).decode("utf-8", "replace")


def _value_info(vi: Any) -> ValueInfo:
    tt = vi.type.tensor_type if vi.type.HasField("tensor_type") else None
    if tt is None:
        return ValueInfo(text(vi.name), None, None)
    dtype = DTYPES.get(tt.elem_type, (None, 0))[0]
    if not tt.HasField("shape"):
        return ValueInfo(text(vi.name), dtype, None)
    dims: list[int | str | None] = []
    for d in tt.shape.dim:
        kind = d.WhichOneof("value")
        if kind == "dim_value":
            dims.append(int(d.dim_value) if 0 <= d.dim_value <= MAX_DIM else None)
        elif kind == "dim_param":
            dims.append(text(d.dim_param))
        else:
            dims.append(None)
    return ValueInfo(text(vi.name), dtype, tuple(dims))


class _DataFiles:
    """Resolves and stats external data files once each (never opens them)."""

    def __init__(self, folder: Path, model_path: Path) -> None:
        self.folder = folder
        self.model_path = model_path
        self.sizes: dict[str, int] = {}
        self._contain: ModelFolder | None = None

    def size(self, location: str, tensor: str) -> int:
        known = self.sizes.get(location)
        if known is not None:
            return known
        if len(self.sizes) >= MAX_DATA_FILES:
            raise UnsafeArtifactError(
                f"the model names over {MAX_DATA_FILES} external data files",
                path=str(self.model_path),
            )
        what = f"external data {location!r} of initializer {tensor!r}"
        if self._contain is None:
            self._contain = ModelFolder.of(self.folder)
        target = self._contain.resolve(
            location,  # quotes the location itself
            f"initializer {tensor!r}: external data location",
            referrer=self.model_path,
        )
        try:
            st = regular_file(target, what)
        except UnsafeArtifactError:
            raise
        except InputError as exc:
            raise ArtifactFormatError(exc.message, path=str(self.model_path)) from None
        self.sizes[location] = st.st_size
        return st.st_size


def _external(t: Any, name: str, nbytes: int, files: _DataFiles, path: Path) -> None:
    """Check one external initializer's location, offset and length against the real file."""
    info = {e.key: e.value for e in t.external_data}
    location = info.get("location")
    if location is not None and not isinstance(location, str):
        location = text(location)
    if not location:
        raise ArtifactFormatError(
            f"initializer {name!r} is marked external but names no location", path=str(path)
        )
    offset = length = 0
    for key in ("offset", "length"):
        raw = info.get(key)
        if raw is None:
            value = 0 if key == "offset" else nbytes
        elif raw.isascii() and raw.isdigit() and len(raw) <= 20:
            value = int(raw)
        else:
            raise ArtifactFormatError(
                f"initializer {name!r}: external data {key} {text(raw)!r} is not a byte count",
                path=str(path),
            )
        if key == "offset":
            offset = value
        else:
            length = value
    if length != nbytes:
        raise ArtifactFormatError(
            f"initializer {name!r}: external data length {length} does not match its dims "
            f"and dtype ({nbytes} bytes)",
            path=str(path),
        )
    size = files.sizes.get(location)
    if size is None:
        size = files.size(location, name)
    if offset + length > size:
        raise ArtifactFormatError(
            f"initializer {name!r} needs bytes {offset}..{offset + length} of {location!r}, "
            f"but that file has only {size} bytes (truncated or wrong offsets)",
            path=str(path),
        )


def _raw_length(t: Any) -> int | None:
    """Bytes of an initializer's ``raw_data`` (its projected length), None without raw data."""
    if t.HasField("raw_data_length"):
        return int(t.raw_data_length)
    if t.HasField("raw_data"):
        return len(t.raw_data)
    return None


def _check_held(t: Any, nbytes: int, label: str, path: Path) -> None:
    """A tensor held in the protobuf must hold what its dims and dtype say (never trusted)."""
    held = _raw_length(t)
    if held is not None and held != nbytes:
        raise ArtifactFormatError(
            f"{label} holds {held} bytes but its dims and dtype need {nbytes}", path=str(path)
        )


def scan(model: Any, path: Path, file_bytes: int) -> Graph:
    """Collect initializer headers, nodes (subgraphs included) and graph I/O of ``model``."""
    folder = path.parent
    files = _DataFiles(folder, path)
    tensors: dict[str, Tensor] = {}
    nodes: list[Node] = []
    by_op: dict[str, list[Node]] = {}
    producer: dict[str, Node] = {}
    stack = [model.graph]
    while stack:
        graph = stack.pop()
        for t in graph.initializer:
            name = t.name
            code = t.data_type
            entry = DTYPES.get(code)
            if entry is None:
                if code == _STRING:
                    continue  # string constants (tokenizer tables) are not weights
                raise ArtifactFormatError(
                    f"initializer {name!r} has unknown data type {code}", path=str(path)
                )
            dtype, bits = entry
            dims = tuple(t.dims)
            numel = checked_dims(dims, path, f"initializer {name!r}")  # raises, naming the dim
            nbytes = (numel * bits + 7) // 8
            external = t.data_location == _EXTERNAL
            if external:
                _external(t, name, nbytes, files, path)
            else:
                _check_held(t, nbytes, f"initializer {name!r}", path)
            tensors[name] = Tensor(name, dtype, dims, numel, nbytes, external)
        if len(nodes) + len(graph.node) > MAX_NODES:
            raise ArtifactFormatError(f"graph has over {MAX_NODES} nodes", path=str(path))
        for n in graph.node:
            op = n.op_type
            outs = tuple(n.output)
            node = Node(op, outs, n)
            nodes.append(node)
            for out in outs:
                producer[out] = node
            same = by_op.get(op)
            if same is None:
                by_op[op] = [node]
            else:
                same.append(node)
            if op in _SUBGRAPH_OPS:
                for a in n.attribute:
                    if a.type == _ATTR_GRAPH:
                        stack.append(a.g)
                    elif a.type == _ATTR_GRAPHS:
                        stack.extend(a.graphs)
    producer.pop("", None)
    g = model.graph
    inputs = {text(vi.name): vi for vi in g.input}
    for name in tensors:
        inputs.pop(name, None)  # IR < 4 lists initializers as inputs too
    outputs = {text(vi.name): vi for vi in g.output}
    opsets = {text(o.domain) or "ai.onnx": int(o.version) for o in model.opset_import}
    return Graph(
        path=path,
        tensors=tensors,
        nodes=nodes,
        by_op=by_op,
        producer=producer,
        input_protos=inputs,
        output_protos=outputs,
        opsets=opsets,
        producer_name=f"{text(model.producer_name)} {text(model.producer_version)}".strip(),
        ir_version=int(model.ir_version),
        file_bytes=file_bytes,
        data_files=dict(files.sizes),
    )
