"""Bounded JSON: a byte limit per file, a depth limit, and a memory budget proportional to the file.

A 64 MiB file of ``[{},{},…]`` is 22 million dicts once parsed — gigabytes — although every
byte of it is legal JSON. So before ``json.loads`` runs, the document's shape is measured with
byte counts (C speed, no copy): how many containers (``[``, ``{``) and values (``,``, ``:``) it
can hold. The memory that shape costs in Python is estimated from measured per-object sizes; a
document whose estimate exceeds ``JSON_MEMORY_FACTOR`` times its size (plus a small allowance),
or ``MAX_JSON_MEMORY`` in all, is refused before it is parsed. Counting brackets and separators
inside strings too only over-estimates (real configs cost two to four times their size).

Nesting is limited to ``MAX_JSON_DEPTH`` levels: checked on the raw brackets first (a deeper
count is confirmed by a scan that skips strings), then on the parsed value.
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

_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


@dataclass(frozen=True, slots=True)
class JsonShape:
    """What parsing a document can build at most, counted without parsing it."""

    containers: int
    values: int

    def memory(self, size: int) -> int:
        """Estimated bytes the parsed document takes (an upper estimate)."""
        return self.containers * CONTAINER_COST + self.values * VALUE_COST + size


def json_budget(size: int) -> int:
    """Bytes a parsed document of ``size`` bytes may take."""
    return min(JSON_MEMORY_FACTOR * size + JSON_MEMORY_ALLOWANCE, MAX_JSON_MEMORY)


def measure(data: bytes) -> JsonShape:
    """Upper counts of the containers and values a JSON document holds (bytes counted, strings
    included: cheap, and never an under-count)."""
    containers = data.count(b"[") + data.count(b"{")
    values = data.count(b",") + data.count(b":") + 1
    return JsonShape(containers, values)


def _bracket_depth(data: bytes, limit: int, *, exact: bool) -> int:
    """Deepest bracket nesting (up to ``limit + 1``): of raw brackets, or (``exact``) of those
    outside strings."""
    depth = level = 0
    if not exact:
        brackets = data.translate(None, _NOT_BRACKETS).translate(_STEPS)
        for level in accumulate(map(operator.sub, brackets, repeat(1))):
            if level > depth:
                depth = level
                if depth > limit:
                    break
        return depth
    for match in _STRING_OR_BRACKET.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            level += 1
            if level > depth:
                depth = level
                if depth > limit:
                    break
        elif token in (b"]", b"}"):
            level -= 1
    return depth


def _value_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item)
    return deepest


def parse_json_bytes(data: bytes, path: Path, what: str = "JSON file") -> Any:
    """Parse JSON within the depth limit and the memory budget; any failure becomes a one-line
    ``ArtifactFormatError`` (``UnsafeArtifactError`` for a document over the budget)."""
    shape = measure(data)
    cost, budget = shape.memory(len(data)), json_budget(len(data))
    if cost > budget:
        raise UnsafeArtifactError(
            f"{what} holds up to {shape.values} values and {shape.containers} lists/objects in "
            f"{len(data)} bytes: parsing it would take about {cost >> 20} MiB, over planner's "
            f"budget of {budget >> 20} MiB for a file this size",
            path=str(path),
        )
    too_deep = ArtifactFormatError(
        f"{what} nests deeper than {MAX_JSON_DEPTH} levels", path=str(path)
    )
    if _bracket_depth(data, MAX_JSON_DEPTH, exact=False) > MAX_JSON_DEPTH and (
        _bracket_depth(data, MAX_JSON_DEPTH, exact=True) > MAX_JSON_DEPTH
    ):
        raise too_deep
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
        raise too_deep from None
    if _value_depth(value) > MAX_JSON_DEPTH:
        raise too_deep
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


_OBJECT_TOKEN = re.compile(rb'"[^"\\\x00-\x1f]*(?:\\.[^"\\\x00-\x1f]*)*"|[\[\]{}]')


def json_object_end(data: bytes, start: int, *, max_tokens: int) -> tuple[int | None, int]:
    """Where the JSON object starting at ``data[start]`` ends (exclusive), found by matching
    brackets outside strings, and how many strings and brackets were examined.

    The end is None when the object does not close within the data, nests deeper than
    ``MAX_JSON_DEPTH`` or needs more than ``max_tokens`` strings and brackets to tell.
    """
    level = count = 0
    for count, match in enumerate(_OBJECT_TOKEN.finditer(data, start), 1):
        if count > max_tokens:
            return None, count
        token = match.group()
        if count == 1 and token != b"{":
            return None, count  # the object must start with "{"
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
    return None, count
