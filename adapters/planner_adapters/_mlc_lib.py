"""Read the metadata that ``mlc_llm compile`` embeds in a model library, without TVM.

How the metadata gets into the file (mlc-ai/mlc-llm 79d603f, apache/tvm 5d4dc87):

- ``compiler_pass/estimate_memory_usage.py`` (``AttachMetadataWithMemoryUsage``) adds a Relax
  function ``_metadata`` returning ``relax.StringImm(json.dumps(metadata))``: a JSON object with
  default separators and ASCII escapes, whose keys start with ``"model_type"`` (dict order in
  ``interface/compile.py``) and end with ``"params"`` and ``"memory_usage"``.
- The Relax VM keeps that string in its constant pool. ``VMExecutable::SaveConstantSection``
  (``src/runtime/vm/executable.cc``) writes a string constant as an int32 type index
  (``kTVMFFIStr`` = 65; older Relax wrote its own ``kString`` tag) followed by a little-endian
  uint64 byte length and the raw bytes.
- ``export_library`` packs the serialized executable into the library blob
  (``PackImportsToBytes`` in ``src/target/codegen.cc``: uint64 length, import tree, then
  ``"relax.VMExecutable"`` and its bytes), emitted as the read-only symbol
  ``__tvm_ffi__library_bin`` (formerly ``__tvm_dev_mblob``). The bytes are stored verbatim in
  ``.rodata`` of a ``.so``/``.dylib``, in the ``devc.o`` member of a ``.tar`` static library, and in
  a data segment of a ``.wasm`` module.

So the JSON sits uncompressed in the file, preceded by its own length. This module scans the file
(for ``.tar``, each member's data range, located with ``planner.io.tar`` but never extracted) in
bounded chunks for ``{"model_type":``, takes the length prefix when it is consistent (else finds
the end of one JSON object by matching brackets), and parses it with planner's bounded JSON
parser. The whole scan runs under one ``Budget``: the library's size, the bytes read, the
candidates tried and the JSON tokens matched, and the time taken are all capped, so a sparse
file declaring hundreds of gigabytes or a file full of nested markers is refused quickly. A
C-source blob (``devc.c``, used only when TVM lacks LLVM) is not supported.
"""

from __future__ import annotations

import struct
from math import ceil
from pathlib import Path
from typing import Any, BinaryIO

from planner.errors import ArtifactFormatError, UnsafeArtifactError
from planner.io.files import open_regular
from planner.io.jsonio import json_object_end, parse_json_bytes
from planner.io.limits import MAX_DIM, MAX_ELEMENTS, MAX_RANK, Budget
from planner.io.tar import scan_tar
from planner.quant import DTYPE_BYTES
from planner.spec import CompiledLibInfo

MARKER = b'{"model_type":'
_CHUNK = 8 * 1024 * 1024
_MAX_CANDIDATES = 16
_MAX_METADATA_BYTES = 16 * 1024 * 1024
"""The metadata of a 70B model's library is a few hundred kB; larger is not MLC's."""
MAX_LIB_BYTES = 1024 * 1024 * 1024
"""Largest compiled library scanned (real ones are tens of megabytes: weights live elsewhere)."""
SCAN_BYTES = 512 * 1024 * 1024
"""Bytes one scan may read, candidates' JSON windows included."""
SCAN_ITEMS = 4_000_000
"""Candidates plus JSON tokens one scan may examine."""
SCAN_SECONDS = 30.0
_TVM_STR_TYPE_INDEX = 65  # ffi::TypeIndex::kTVMFFIStr

TVM_DTYPE_ALIASES = {"e4m3_float8": "float8_e4m3fn", "e5m2_float8": "float8_e5m2"}
"""Older TVM spelled float8 types this way; planner uses the newer names."""

_MAGIC = (
    (b"\x7fELF", "ELF"),
    (b"\xcf\xfa\xed\xfe", "Mach-O"),
    (b"\xca\xfe\xba\xbe", "Mach-O universal"),
    (b"\x00asm", "WebAssembly"),
    (b"MZ", "PE"),
)


def canonical_dtype(dtype: str) -> str | None:
    """A TVM dtype string in planner's spelling, or None when planner does not know it."""
    name = TVM_DTYPE_ALIASES.get(dtype, dtype)
    return name if name in DTYPE_BYTES else None


def _scan(fh: BinaryIO, start: int, end: int, budget: Budget) -> list[int]:
    """Offsets of MARKER within [start, end), read in bounded chunks."""
    hits: list[int] = []
    overlap = len(MARKER) - 1
    pos = start
    while pos < end and len(hits) < _MAX_CANDIDATES:
        fh.seek(pos)
        step = min(_CHUNK, end - pos)
        budget.spend(step)
        chunk = fh.read(step)
        if not chunk:
            break
        i = chunk.find(MARKER)
        while i != -1 and len(hits) < _MAX_CANDIDATES:
            hits.append(pos + i)
            i = chunk.find(MARKER, i + 1)
        if pos + len(chunk) >= end:
            break
        pos += len(chunk) - overlap
    return hits


def _is_metadata(value: Any) -> bool:
    return isinstance(value, dict) and "params" in value and "memory_usage" in value


def _try_candidate(
    fh: BinaryIO, at: int, start: int, end: int, path: Path, budget: Budget
) -> tuple[dict[str, Any], str] | None:
    """Decode the metadata JSON starting at ``at`` (None when it is something else)."""
    budget.spend(0, 1)
    if at - 12 >= start:
        fh.seek(at - 12)
        tag, length = struct.unpack("<iQ", fh.read(12))
        if len(MARKER) <= length <= _MAX_METADATA_BYTES and at + length <= end:
            budget.spend(length)
            fh.seek(at)
            data = fh.read(length)
            try:
                value = parse_json_bytes(data, path, "compiled-library metadata")
            except (ArtifactFormatError, UnsafeArtifactError):
                value = None
            if _is_metadata(value):
                assert isinstance(value, dict)
                kind = "TVM string constant"
                if tag == _TVM_STR_TYPE_INDEX:
                    kind += " (kTVMFFIStr)"
                return value, kind
    # No usable length prefix: find where one JSON object ends in a bounded window (brackets
    # matched outside strings, the tokens counted against the budget), then parse just that.
    window_size = min(end - at, _MAX_METADATA_BYTES)
    budget.spend(window_size)
    fh.seek(at)
    window = fh.read(window_size)
    stop, tokens = json_object_end(
        window, 0, max_tokens=max(budget.max_items - budget.used_items, 0)
    )
    budget.spend(0, tokens)
    if stop is None:
        return None
    try:
        value = parse_json_bytes(window[:stop], path, "compiled-library metadata")
    except (ArtifactFormatError, UnsafeArtifactError):
        return None
    if _is_metadata(value):
        assert isinstance(value, dict)
        return value, "JSON scan"
    return None


def _tar_ranges(fh: BinaryIO, path: Path, size: int) -> list[tuple[int, int, str]]:
    """Data ranges of a plain tar's regular members (headers parsed, nothing extracted)."""
    members = scan_tar(fh, size, path, "compiled library")
    return [(m.offset, m.offset + m.size, m.name) for m in members if m.regular]


def find_lib_metadata(path: Path) -> tuple[dict[str, Any], str]:
    """The metadata dict embedded in a compiled library, and where it was found."""
    fh, st = open_regular(path, "compiled model library")
    with fh:
        size = st.st_size
        if size > MAX_LIB_BYTES:
            raise UnsafeArtifactError(
                f"compiled model library is {size} bytes, over planner's limit of "
                f"{MAX_LIB_BYTES} bytes for a library to scan",
                path=str(path),
            )
        budget = Budget("compiled model library", str(path), SCAN_BYTES, SCAN_ITEMS, SCAN_SECONDS)
        head = fh.read(8)
        container = next((name for magic, name in _MAGIC if head.startswith(magic)), None)
        if path.suffix == ".tar":
            ranges = _tar_ranges(fh, path, size)
            container = "tar"
        else:
            ranges = [(0, size, "")]
        for start, end, member in ranges:
            for at in _scan(fh, start, end, budget):
                found = _try_candidate(fh, at, start, end, path, budget)
                if found is not None:
                    where = f"{found[1]} at byte {at}"
                    if member:
                        where += f" of member {member!r}"
                    kind = f"{container} " if container else ""
                    return found[0], f"{kind}{where}"
    raise ArtifactFormatError(
        "no MLC metadata found in the compiled library (expected the JSON that `mlc_llm compile` "
        "embeds; was it built by mlc_llm, and not as C source?)",
        path=str(path),
    )


def _meta_int(meta: dict[str, Any], key: str, path: Path) -> int | None:
    """An int field where MLC writes -1 (or null) for 'not set'."""
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArtifactFormatError(
            f"compiled-library metadata {key!r} must be an integer", path=str(path)
        )
    if value == -1:
        return None
    if value < 0 or value > MAX_DIM:
        raise ArtifactFormatError(
            f"compiled-library metadata {key!r} = {value} is out of range", path=str(path)
        )
    return value


def _meta_str(meta: dict[str, Any], key: str, path: Path) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ArtifactFormatError(
            f"compiled-library metadata {key!r} must be a string", path=str(path)
        )
    return value


def _params_bytes(
    params: Any, model_config: dict[str, Any] | None, path: Path, notes: list[str]
) -> int | None:
    """Σ prod(shape) × itemsize, dynamic dims looked up in the model config (model_metadata.py)."""
    if not isinstance(params, list):
        raise ArtifactFormatError(
            "compiled-library metadata 'params' must be a list", path=str(path)
        )
    total = 0
    unresolved: set[str] = set()
    for param in params:
        if not isinstance(param, dict):
            raise ArtifactFormatError(
                "compiled-library metadata param is not an object", path=str(path)
            )
        name = param.get("name")
        shape = param.get("shape")
        dtype = param.get("dtype")
        if not isinstance(name, str) or not isinstance(shape, list) or not isinstance(dtype, str):
            raise ArtifactFormatError(
                "compiled-library metadata param needs name, shape and dtype", path=str(path)
            )
        if len(shape) > MAX_RANK:
            raise ArtifactFormatError(
                f"compiled-library param {name!r} has {len(shape)} dimensions", path=str(path)
            )
        numel = 1
        for dim in shape:
            if isinstance(dim, str):
                value = (model_config or {}).get(dim)
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    unresolved.add(dim)
                    numel = 0
                    continue
                dim = value
            if isinstance(dim, bool) or not isinstance(dim, int) or not 0 < dim <= MAX_DIM:
                raise ArtifactFormatError(
                    f"compiled-library param {name!r} has an invalid dimension {dim!r}",
                    path=str(path),
                )
            numel *= dim  # both factors bounded: the cap below is checked after each one
            if numel > MAX_ELEMENTS:
                raise ArtifactFormatError(
                    f"compiled-library param {name!r} has an absurd size", path=str(path)
                )
        canon = canonical_dtype(dtype)
        if canon is None:
            raise ArtifactFormatError(
                f"compiled-library param {name!r} has unknown dtype {dtype!r}", path=str(path)
            )
        total += ceil(numel * DTYPE_BYTES[canon])
    if unresolved:
        notes.append(
            "compiled library: parameter bytes unknown, dynamic dims "
            f"{', '.join(sorted(unresolved))} are not in model_config"
        )
        return None
    return total


def lib_info_from_metadata(
    meta: dict[str, Any], path: Path, model_config: dict[str, Any] | None = None
) -> tuple[CompiledLibInfo, list[str]]:
    """A ``CompiledLibInfo`` from the metadata dict, plus notes."""
    notes: list[str] = []
    usage = meta.get("memory_usage")
    if not isinstance(usage, dict):
        raise ArtifactFormatError(
            "compiled-library metadata 'memory_usage' must be an object", path=str(path)
        )
    memory: list[tuple[str, int]] = []
    for func, nbytes in usage.items():
        if isinstance(nbytes, float) and nbytes.is_integer():
            nbytes = int(nbytes)
        byte_count = isinstance(nbytes, int) and not isinstance(nbytes, bool)
        if not byte_count or not 0 <= nbytes <= MAX_ELEMENTS:
            raise ArtifactFormatError(
                f"compiled-library memory_usage[{func!r}] is not a byte count", path=str(path)
            )
        memory.append((func, nbytes))
    kv_raw = meta.get("kv_cache")
    kv: list[tuple[str, int]] = []
    if isinstance(kv_raw, dict):
        for key in sorted(kv_raw):
            value = kv_raw[key]
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1 << 30:
                kv.append((key, value))
    info = CompiledLibInfo(
        path=str(path),
        params_bytes=_params_bytes(meta.get("params"), model_config, path, notes),
        memory_usage=tuple(sorted(memory)),
        context_window_size=_meta_int(meta, "context_window_size", path),
        prefill_chunk_size=_meta_int(meta, "prefill_chunk_size", path),
        sliding_window_size=_meta_int(meta, "sliding_window_size", path),
        max_batch_size=_meta_int(meta, "max_batch_size", path),
        kv_state_kind=_meta_str(meta, "kv_state_kind", path),
        model_type=_meta_str(meta, "model_type", path),
        quantization=_meta_str(meta, "quantization", path),
        attention_sink_size=_meta_int(meta, "attention_sink_size", path),
        tensor_parallel_shards=_meta_int(meta, "tensor_parallel_shards", path),
        pipeline_parallel_stages=_meta_int(meta, "pipeline_parallel_stages", path),
        kv_cache=tuple(kv),
    )
    return info, notes


def read_lib(
    path: Path, model_config: dict[str, Any] | None = None
) -> tuple[CompiledLibInfo, list[str], str]:
    """Info, notes and where the metadata was found."""
    meta, where = find_lib_metadata(path)
    info, notes = lib_info_from_metadata(meta, path, model_config)
    return info, notes, where


def read_compiled_lib(path: Path, model_config: dict[str, Any] | None = None) -> CompiledLibInfo:
    """Read a compiled MLC model library (``.so``/``.dylib``/``.dll``/``.tar``/``.wasm``).

    ``model_config`` (the ``model_config`` block of mlc-chat-config.json) resolves dynamic
    parameter dims such as ``"vocab_size"``; without it such libraries get ``params_bytes=None``.
    """
    return read_lib(path, model_config)[0]
