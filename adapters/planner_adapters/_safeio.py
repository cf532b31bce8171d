"""Bounded, path-safe file access shared by the built-in adapters.

Every artifact is untrusted: files named inside an artifact must resolve inside the model
folder (symlinks included), only regular files are opened (never FIFOs or device files),
and reads are bounded in size so a hostile header cannot exhaust memory.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from planner.errors import ArtifactFormatError, InputError, UnsafeArtifactError

MAX_JSON_BYTES = 64 * 1024 * 1024
"""Largest JSON config planner parses (tensor-cache.json of a 70B model is ~2 MB)."""
MAX_JSON_DEPTH = 64
MAX_NAME_CHARS = 4096
"""Longest file name an artifact may give (Linux PATH_MAX; a component is at most 255)."""
MAX_GRAPH_BYTES = 2 * 1024 * 1024 * 1024
"""Protobuf's own hard limit: an ONNX file larger than this cannot be a valid model."""


def regular_file(path: Path, what: str = "file") -> os.stat_result:
    """Stat ``path`` and insist it is a regular file (not a FIFO, socket or device)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(f"{what} not found", path=str(path)) from None
    except RuntimeError:  # symlink loop on some Python versions
        raise UnsafeArtifactError(f"{what} is a symlink loop", path=str(path)) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if exc.errno == 40:  # ELOOP
            raise UnsafeArtifactError(f"{what} is a symlink loop", path=str(path)) from None
        raise InputError(f"cannot read {what}: {reason}", path=str(path)) from None
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a directory"
            if stat.S_ISDIR(st.st_mode)
            else "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a device or special file"
        )
        raise UnsafeArtifactError(f"{what} is {kind}, not a regular file", path=str(path))
    return st


def resolve_inside(root: Path, name: str, what: str, *, referrer: Path | None = None) -> Path:
    """Resolve ``name`` (as written inside an artifact) against ``root`` and refuse escapes.

    Absolute paths, ``..`` components and symlinks that lead outside ``root`` are refused,
    as is anything that is not a regular file.
    """
    shown = str(referrer) if referrer is not None else str(root)
    if not name or "\x00" in name:
        raise UnsafeArtifactError(f"{what} has an empty or invalid file name", path=shown)
    try:
        encoded = os.fsencode(name)
    except UnicodeEncodeError:  # a lone surrogate from a JSON "\ud800" escape
        raise UnsafeArtifactError(f"{what} has an invalid file name {name!r}", path=shown) from None
    if len(encoded) > MAX_NAME_CHARS or any(len(part) > 255 for part in encoded.split(b"/")):
        raise UnsafeArtifactError(
            f"{what} names a path longer than the file system allows ({len(encoded)} bytes)",
            path=shown,
        )
    candidate = Path(name)
    if not candidate.parts:  # "." or "./": the folder itself
        raise UnsafeArtifactError(f"{what} {name!r} names the model folder, not a file", path=shown)
    if candidate.is_absolute() or name.startswith(("/", "\\")) or ":" in candidate.parts[0]:
        raise UnsafeArtifactError(
            f"{what} names an absolute path {name!r}; only files inside the model folder are read",
            path=shown,
        )
    if any(part == ".." for part in Path(name.replace("\\", "/")).parts):
        raise UnsafeArtifactError(
            f"{what} path {name!r} contains '..'; only files inside the model folder are read",
            path=shown,
        )
    try:
        real_root = root.resolve(strict=True)
        real = (root / candidate).resolve(strict=False)
    except (OSError, RuntimeError):
        raise UnsafeArtifactError(
            f"{what} {name!r} cannot be resolved (symlink loop?)", path=shown
        ) from None
    if real != real_root and real_root not in real.parents:
        raise UnsafeArtifactError(
            f"{what} {name!r} resolves outside the model folder (through a symlink)", path=shown
        )
    return root / candidate


def read_bounded(path: Path, limit: int, what: str = "file") -> bytes:
    """Read a whole small file, refusing files larger than ``limit`` bytes."""
    st = regular_file(path, what)
    if st.st_size > limit:
        raise UnsafeArtifactError(
            f"{what} is {st.st_size} bytes, over planner's limit of {limit} bytes", path=str(path)
        )
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UnsafeArtifactError(f"{what} grew past {limit} bytes while reading", path=str(path))
    return data


def _depth(value: Any) -> int:
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
    """Parse JSON with a depth limit; any failure becomes an ``ArtifactFormatError``."""
    # Pre-scan nesting before json.loads so deep documents cannot hit the recursion limit.
    level = 0
    in_string = False
    escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            level += 1
            if level > MAX_JSON_DEPTH:
                raise ArtifactFormatError(
                    f"{what} nests deeper than {MAX_JSON_DEPTH} levels", path=str(path)
                )
        elif byte in (0x5D, 0x7D):
            level -= 1
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
    if _depth(value) > MAX_JSON_DEPTH:
        raise ArtifactFormatError(
            f"{what} nests deeper than {MAX_JSON_DEPTH} levels", path=str(path)
        )
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


def file_size(path: Path, what: str = "file") -> int:
    """Size of a regular file, refusing special files."""
    return regular_file(path, what).st_size
