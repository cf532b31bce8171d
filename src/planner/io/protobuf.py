"""Protobuf graph bytes under a budget: project a message onto the fields a reader declares.

Parsing a protobuf whole costs memory far beyond its size: seven megabytes of empty repeated
submessages become four million parsed messages (400 MB), and a 2 GB ``raw_data`` payload is
copied whole (cheap to make in a sparse file). So before the protobuf library sees a file, one
walk over its wire format (the file is memory-mapped, never read whole) keeps only the fields
a ``Schema`` declares, replaces large byte payloads that are only needed for their size with
that size, and estimates what parsing the result will cost. The walk runs under a ``Budget``
(fields, estimated parsed bytes, seconds); the projected bytes are what gets parsed.

Wire format (protobuf encoding guide): each field is a varint key ``number << 3 | wire_type``
then a varint (0), 8 bytes (1), a varint length and that many bytes (2), or 4 bytes (5).
"""

from __future__ import annotations

import mmap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from planner.errors import ArtifactFormatError
from planner.io.files import open_regular
from planner.io.limits import Budget

MAX_PROTO_FIELDS = 4_000_000
"""Fields one projected message may hold (a 70B onnxruntime-genai graph has ~100,000)."""
MAX_PROTO_MEMORY = 320 * 1024 * 1024
"""Estimated memory the parsed projection may take, at most (see ``proto_budget``)."""
PROTO_MEMORY_FACTOR = 16
"""Parsed bytes allowed per byte of file (real graphs need 3 to 10)."""
PROTO_MEMORY_ALLOWANCE = 32 * 1024 * 1024
MAX_PROTO_DEPTH = 64
PROTO_SECONDS = 30.0
FIELD_COST = 96
"""Parsed bytes per field (a small submessage in the C parser's arena, or a repeated slot)."""
SMALL_MESSAGE = 1024
"""Submessages up to this size are copied whole while the budget has room for their worst case
(measured: four million empty two-byte messages parse into 400 MB, ~50 bytes per wire byte)."""
WORST_COST_PER_BYTE = 64
TINY_MESSAGE = 16
"""Submessages this small are always kept whole at their worst-case cost (walking them exactly
would cost more time than their worst case costs memory)."""
_CHECK_EVERY = 1 << 16


@dataclass(frozen=True, slots=True)
class Rule:
    """How one declared field is projected."""

    message: str | None = None
    """Name of the submessage type to project recursively (length-delimited fields)."""
    length_as: int | None = None
    """Replace a length-delimited payload by its length, as a varint in this field number."""
    packed_width: int = 1
    """Parsed bytes per payload byte (a packed repeated int64 is up to 8 per byte)."""


Schema = Mapping[str, Mapping[int, Rule]]
"""Message name → declared field number → rule. Undeclared fields are dropped."""


class _Malformed(Exception):
    pass


def _varint(buf: mmap.mmap | bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise _Malformed("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise _Malformed("varint longer than 10 bytes")


def encode_varint(value: int) -> bytes:
    """A non-negative integer in protobuf's varint encoding."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class _Projector:
    def __init__(self, buf: mmap.mmap | bytes, schema: Schema, budget: Budget) -> None:
        self.buf, self.schema, self.budget = buf, schema, budget

    def message(self, start: int, end: int, name: str, depth: int) -> bytes:
        if depth > MAX_PROTO_DEPTH:
            raise _Malformed(f"messages nest deeper than {MAX_PROTO_DEPTH} levels")
        buf, budget = self.buf, self.budget
        fields = self.schema[name]
        parts: list[bytes] = []
        cost = count = 0
        # Small submessages are kept whole, charged at their worst case, while that fits in half
        # of what is left of the budget; past it, they are walked and charged exactly.
        room_bytes = budget.max_bytes // 2 - budget.used_bytes
        room_items = budget.max_items // 2 - budget.used_items
        pos = start
        while pos < end:
            begin = pos
            key = buf[pos]
            pos += 1
            if key >= 0x80:
                key, pos = _varint(buf, begin, end)
            number, wire = key >> 3, key & 7
            length = 0
            if wire == 2:
                length = buf[pos] if pos < end else 0x80
                pos += 1
                if length >= 0x80:
                    length, pos = _varint(buf, pos - 1, end)
                pos += length
            elif wire == 0:
                _, pos = _varint(buf, pos, end)
            elif wire == 1:
                pos += 8
            elif wire == 5:
                pos += 4
            else:
                raise _Malformed(f"unsupported wire type {wire} at byte {begin}")
            if number == 0:
                raise _Malformed(f"field number 0 at byte {begin}")
            if pos > end:
                raise _Malformed(f"field at byte {begin} runs past its message")
            count += 1
            if count >= _CHECK_EVERY:  # limits and the clock, also inside one huge message
                budget.spend(cost, count)
                room_bytes -= cost
                room_items -= count
                cost = count = 0
            rule = fields.get(number)
            if rule is None:
                continue
            if wire != 2:
                cost += FIELD_COST
                parts.append(buf[begin:pos])
            elif rule.length_as is not None:
                cost += FIELD_COST
                parts.append(encode_varint(rule.length_as << 3) + encode_varint(length))
            elif rule.message is None:
                cost += FIELD_COST + length * rule.packed_width
                parts.append(buf[begin:pos])
            elif length <= TINY_MESSAGE or (
                length <= SMALL_MESSAGE
                and cost + length * WORST_COST_PER_BYTE < room_bytes
                and count + length < room_items
            ):
                cost += FIELD_COST + length * WORST_COST_PER_BYTE
                count += length // 2
                parts.append(buf[begin:pos])
            else:
                budget.spend(cost + FIELD_COST, count)
                cost = count = 0
                sub = self.message(pos - length, pos, rule.message, depth + 1)
                parts.append(encode_varint(key) + encode_varint(len(sub)) + sub)
                room_bytes = budget.max_bytes // 2 - budget.used_bytes
                room_items = budget.max_items // 2 - budget.used_items
        budget.spend(cost, count)
        return b"".join(parts)


def proto_budget(size: int) -> int:
    """Estimated parsed bytes a protobuf file of ``size`` bytes may take: proportional to the
    file, capped at ``MAX_PROTO_MEMORY``."""
    return min(PROTO_MEMORY_FACTOR * size + PROTO_MEMORY_ALLOWANCE, MAX_PROTO_MEMORY)


def project_file(
    path: Path, schema: Schema, root: str, what: str, *, budget: Budget | None = None
) -> tuple[bytes, int]:
    """The projection of the protobuf message ``root`` stored in ``path``, and the file size.

    Raises ``ArtifactFormatError`` for malformed wire data (``the protobuf does not parse (...)``)
    and ``UnsafeArtifactError`` when the budget is exceeded.
    """
    shown = str(path)
    fh, st = open_regular(path, what)
    with fh:
        size = st.st_size
        if budget is None:
            budget = Budget(
                what,
                shown,
                proto_budget(size),
                MAX_PROTO_FIELDS,
                PROTO_SECONDS,
                bytes_label="parsing it would take",
            )
        if size == 0:
            return b"", 0
        try:
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _Projector(buf, schema, budget).message(0, size, root, 0), size
        except _Malformed as exc:
            raise ArtifactFormatError(
                f"not a valid {what}: the protobuf does not parse ({exc})", path=shown
            ) from None
        except (OSError, ValueError) as exc:  # mmap of a file that shrank, or cannot be mapped
            raise ArtifactFormatError(f"cannot map {what}: {exc}", path=shown) from None
