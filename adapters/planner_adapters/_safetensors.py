"""Bounded reader for safetensors headers (never the tensor bytes).

Format (huggingface/safetensors README, "Format"): an 8-byte little-endian unsigned header length
``N``, then ``N`` bytes of UTF-8 JSON mapping tensor names to ``{"dtype", "shape",
"data_offsets": [begin, end]}`` (offsets relative to the end of the header) plus an optional
``"__metadata__"`` string map, then the data buffer. Every number in the header is untrusted:
the header length is bounded, the header is parsed within planner's JSON memory budget and may
list at most ``MAX_TENSORS`` tensors, and each tensor's size must equal shape × dtype and lie
inside the real file, without overlapping another tensor.
"""

from __future__ import annotations

import itertools
import math
import struct
from dataclasses import dataclass
from math import ceil
from pathlib import Path
from typing import Any

from planner.errors import ArtifactFormatError, UnsafeArtifactError
from planner.io.files import open_regular, read_at
from planner.io.jsonio import parse_json_bytes
from planner.io.limits import checked_dims

MAX_HEADER_BYTES = 100 * 1024 * 1024
"""Headers above this are refused (the safetensors library itself caps them at 100 MB)."""
MAX_TENSORS = 500_000
"""Tensors one file may list (a shard of the largest published models lists a few thousand)."""

# safetensors dtype tag → (canonical dtype name used across planner, bytes per element).
SAFETENSORS_DTYPES: dict[str, tuple[str, float]] = {
    "BOOL": ("bool", 1),
    "U8": ("uint8", 1),
    "I8": ("int8", 1),
    "F8_E4M3": ("float8_e4m3fn", 1),
    "F8_E5M2": ("float8_e5m2", 1),
    "F8_E8M0": ("float8_e8m0fnu", 1),
    "I16": ("int16", 2),
    "U16": ("uint16", 2),
    "F16": ("float16", 2),
    "BF16": ("bfloat16", 2),
    "I32": ("int32", 4),
    "U32": ("uint32", 4),
    "F32": ("float32", 4),
    "I64": ("int64", 8),
    "U64": ("uint64", 8),
    "F64": ("float64", 8),
    "C64": ("complex64", 8),
    "F4": ("float4_e2m1", 0.5),
}


@dataclass(frozen=True, slots=True)
class TensorHeader:
    """One tensor as its header describes it (offsets are absolute file offsets)."""

    name: str
    dtype: str
    """Canonical dtype name (``bfloat16``, ``int32``, ...)."""
    shape: tuple[int, ...]
    nbytes: int
    start: int
    end: int

    @property
    def numel(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)


@dataclass(frozen=True, slots=True)
class SafetensorsHeader:
    """The parsed header of one file."""

    path: Path
    tensors: tuple[TensorHeader, ...]
    metadata: tuple[tuple[str, str], ...]
    file_size: int


def _offsets(entry: dict[str, Any], name: str, shown: str) -> tuple[int, int]:
    offs = entry.get("data_offsets")
    if (
        not isinstance(offs, list)
        or len(offs) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) for v in offs)
    ):
        raise ArtifactFormatError(
            f"safetensors tensor {name!r} has no valid data_offsets [begin, end]", path=shown
        )
    begin, end = offs
    if begin < 0 or end < begin:
        raise ArtifactFormatError(
            f"safetensors tensor {name!r} has invalid data_offsets [{begin}, {end}]", path=shown
        )
    return begin, end


def read_safetensors_header(path: Path, *, shown: str | None = None) -> SafetensorsHeader:
    """Read and validate the header of one ``.safetensors`` file.

    Raises ``UnsafeArtifactError`` for a header length above ``MAX_HEADER_BYTES`` and
    ``ArtifactFormatError`` for anything inconsistent with the real file size.
    """
    where = shown or str(path)
    fh, st = open_regular(path, "safetensors file")
    with fh:
        size = st.st_size
        if size < 8:
            raise ArtifactFormatError(
                f"safetensors file is {size} bytes, too short for the 8-byte header length",
                path=where,
            )
        (header_len,) = struct.unpack("<Q", read_at(fh, 0, 8, where, "safetensors file"))
        if header_len > MAX_HEADER_BYTES:
            raise UnsafeArtifactError(
                f"safetensors header length {header_len} exceeds the {MAX_HEADER_BYTES}-byte limit",
                path=where,
            )
        if 8 + header_len > size:
            raise ArtifactFormatError(
                f"safetensors header length {header_len} runs past the end of the "
                f"{size}-byte file (truncated download?)",
                path=where,
            )
        raw = read_at(fh, 8, header_len, where, "safetensors header")
    header = parse_json_bytes(raw, Path(where), "safetensors header")
    del raw
    if not isinstance(header, dict):
        raise ArtifactFormatError("safetensors header is not a JSON object", path=where)
    if len(header) > MAX_TENSORS + 1:
        raise UnsafeArtifactError(
            f"safetensors header lists {len(header) - 1} tensors (planner's limit is "
            f"{MAX_TENSORS} per file)",
            path=where,
        )
    data_start = 8 + header_len
    data_size = size - data_start
    meta: tuple[tuple[str, str], ...] = ()
    tensors: list[TensorHeader] = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in entry.items()
            ):
                raise ArtifactFormatError(
                    "safetensors __metadata__ must map strings to strings", path=where
                )
            meta = tuple(sorted(entry.items()))
            continue
        if not isinstance(entry, dict):
            raise ArtifactFormatError(f"safetensors entry {name!r} is not an object", path=where)
        tag = entry.get("dtype")
        if not isinstance(tag, str) or tag not in SAFETENSORS_DTYPES:
            known = ", ".join(sorted(SAFETENSORS_DTYPES))
            raise ArtifactFormatError(
                f"safetensors tensor {name!r} has unsupported dtype {tag!r}; known: {known}",
                path=where,
            )
        dtype, width = SAFETENSORS_DTYPES[tag]
        shape = entry.get("shape")
        if not isinstance(shape, list):
            raise ArtifactFormatError(f"safetensors tensor {name!r} has no shape list", path=where)
        numel = checked_dims(shape, where, f"safetensors tensor {name!r}")
        begin, end = _offsets(entry, name, where)
        expected = ceil(numel * width)
        if end - begin != expected:
            raise ArtifactFormatError(
                f"safetensors tensor {name!r}: data_offsets span {end - begin} bytes but shape "
                f"{shape} × {tag} needs {expected}",
                path=where,
            )
        if end > data_size:
            raise ArtifactFormatError(
                f"safetensors tensor {name!r} ends at byte {data_start + end}, past the end of the "
                f"{size}-byte file (truncated download?)",
                path=where,
            )
        tensors.append(
            TensorHeader(name, dtype, tuple(shape), expected, data_start + begin, data_start + end)
        )
    ordered = sorted(tensors, key=lambda t: (t.start, t.end))
    for prev, cur in itertools.pairwise(ordered):
        if cur.start < prev.end and cur.nbytes and prev.nbytes:
            raise ArtifactFormatError(
                f"safetensors tensors {prev.name!r} and {cur.name!r} overlap in the data buffer",
                path=where,
            )
    return SafetensorsHeader(path, tuple(tensors), meta, size)
