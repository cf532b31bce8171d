"""Bounded JSON: a byte limit per file, a depth limit, and a memory budget proportional to the file.

A 64 MiB file of ``[{},{},…]`` is 22 million dicts once parsed — gigabytes — although every
byte of it is legal JSON. So before ``json.loads`` runs, one pass over the document (C-speed
regex and byte counts, strings masked first) measures its shape: how many containers and
values it holds and how deep it nests. The memory that shape costs in Python is estimated
from measured per-object sizes; a document whose estimate exceeds ``JSON_MEMORY_FACTOR`` times
its size (plus a small allowance), or ``MAX_JSON_MEMORY`` in all, is refused before it is parsed.
Real configs cost two to four times their size.
"""

from __future__ import annotations

import json
import operator
import re
from dataclasses import dataclass
from itertools import accumulate, repeat
from pathlib import Path
from typing import Any

from planner.errors import ArtifactFormatError, UnsafeArtifactError
from planner.io.files import read_bounded

MAX_JSON_BYTES = 64 * 1024 * 1024
"""Largest JSON config planner parses (tensor-cache.json of a 70B model is ~2 MB)."""
MAX_JSON_DEPTH = 64
JSON_MEMORY_FACTOR = 8
"""Parsed size allowed per byte of JSON (real configs need 2-4)."""
JSON_MEMORY_ALLOWANCE = 1024 * 1024
"""Added to every budget so small documents never hit it."""
MAX_JSON_MEMORY = 256 * 1024 * 1024
"""Most memory one parsed JSON document may take, whatever its size."""
CONTAINER_COST = 96
"""Bytes a parsed list or dict costs (object, pointer array, the slot holding it)."""
VALUE_COST = 48
"""Bytes a parsed scalar costs (int or float object, or string header, and its slot)."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


@dataclass(frozen=True, slots=True)
class JsonShape:
    """What parsing a document will build, measured without parsing it."""

    containers: int
    values: int
    depth: int

    def memory(self, size: int) -> int:
        """Estimated bytes the parsed document takes."""
        return self.containers * CONTAINER_COST + self.values * VALUE_COST + size


def json_budget(size: int) -> int:
    """Bytes a parsed document of ``size`` bytes may take."""
    return min(JSON_MEMORY_FACTOR * size + JSON_MEMORY_ALLOWANCE, MAX_JSON_MEMORY)


def measure(data: bytes, *, depth_limit: int = MAX_JSON_DEPTH) -> JsonShape:
    """Containers, values and nesting depth of a JSON document (strings masked first).

    Exact for valid JSON; for invalid JSON it never under-counts what ``json.loads`` would
    build before it fails. The depth is only computed up to ``depth_limit + 1``.
    """
    masked = _STRING.sub(b'""', data)
    containers = masked.count(b"[") + masked.count(b"{")
    values = masked.count(b",") + masked.count(b":") + 1
    brackets = masked.translate(None, _NOT_BRACKETS).translate(_STEPS)
    depth = 0
    for level in accumulate(map(operator.sub, brackets, repeat(1))):
        if level > depth:
            depth = level
            if depth > depth_limit:
                break
    return JsonShape(containers, values, depth)


def parse_json_bytes(data: bytes, path: Path, what: str = "JSON file") -> Any:
    """Parse JSON within the depth limit and the memory budget; any failure becomes a one-line
    ``ArtifactFormatError`` (``UnsafeArtifactError`` for a document over the budget)."""
    shape = measure(data)
    if shape.depth > MAX_JSON_DEPTH:
        raise ArtifactFormatError(
            f"{what} nests deeper than {MAX_JSON_DEPTH} levels", path=str(path)
        )
    cost, budget = shape.memory(len(data)), json_budget(len(data))
    if cost > budget:
        raise UnsafeArtifactError(
            f"{what} holds {shape.values} values and {shape.containers} lists/objects in "
            f"{len(data)} bytes: parsing it would take about {cost >> 20} MiB, over planner's "
            f"budget of {budget >> 20} MiB for a file this size",
            path=str(path),
        )
    try:
        text = data.decode("utf-8")
        value = json.loads(text)
    except UnicodeDecodeError:
        raise ArtifactFormatError(f"{what} is not UTF-8 text", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise ArtifactFormatError(
            f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            path=str(path),
        ) from None
    except ValueError:  # Python's int() refuses literals over 4300 digits
        raise ArtifactFormatError(
            f"{what} holds a number too long to be a real value", path=str(path)
        ) from None
    except RecursionError:
        raise ArtifactFormatError(f"{what} nests too deeply", path=str(path)) from None
    return value


def read_json(path: Path, what: str = "JSON file", limit: int = MAX_JSON_BYTES) -> Any:
    """Read and parse a bounded JSON file."""
    return parse_json_bytes(read_bounded(path, limit, what), path, what)


def read_json_object(
    path: Path, what: str = "JSON file", limit: int = MAX_JSON_BYTES
) -> dict[str, Any]:
    """Read a JSON file whose top level must be an object."""
    value = read_json(path, what, limit)
    if not isinstance(value, dict):
        raise ArtifactFormatError(
            f"{what} must hold a JSON object at the top level", path=str(path)
        )
    return value


_TOKEN = re.compile(rb'"[^"\\\x00-\x1f]*(?:\\.[^"\\\x00-\x1f]*)*"|[\[\]{}]')


def json_object_end(data: bytes, start: int, *, max_tokens: int) -> tuple[int | None, int]:
    """Where the JSON object starting at ``data[start]`` ends (exclusive), found by matching
    brackets outside strings, and how many strings and brackets were examined.

    The end is None when the object does not close within the data, nests deeper than
    ``MAX_JSON_DEPTH`` or needs more than ``max_tokens`` strings and brackets to tell.
    """
    level = count = 0
    for count, match in enumerate(_TOKEN.finditer(data, start), 1):
        if count > max_tokens:
            return None, count
        token = match.group()
        if token in (b"[", b"{"):
            level += 1
            if level > MAX_JSON_DEPTH:
                return None, count
        elif token in (b"]", b"}"):
            level -= 1
            if level == 0:
                return match.end(), count
            if level < 0:
                return None, count
        elif count == 1:
            return None, count  # the object must start with "{"
    return None, count
