"""Reading untrusted files and writing reports: the one I/O boundary of planner.

Adapters, the device-profile loader and ``planner.yaml`` all read through here, so every file
gets the same defences (docs/security.md):

- ``files``: only regular files are opened, reads are bounded (``read_bounded``, ``read_text``,
  ``read_at``, ``open_regular``, ``regular_file``, ``file_size``);
- ``contain``: one folder-containment rule for every file of a model (``ModelFolder``,
  ``resolve_inside``, ``check_name``), the Hugging Face hub cache included;
- ``jsonio``: JSON with a byte limit, a depth limit and a memory budget proportional to the file
  (``parse_json_bytes``, ``read_json``, ``read_json_object``, ``json_object_end``);
- ``yamlio``: YAML without aliases or non-core tags, bounded in values and depth (``load_yaml``,
  ``compose``, ``StrictLoader``);
- ``protobuf``: protobuf bytes projected onto declared fields under a budget (``project_file``);
- ``tar``: tar member scanning with bounded headers (``scan_tar``);
- ``limits``: the cap policy for numbers (``checked_dims``, ``MAX_DIM``, ...) and ``Budget``;
- ``atomic``: report output that never replaces special files (``write_atomic``).

Text from artifacts is made printable by ``planner.text.sanitize``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.io.atomic import write_atomic
    from planner.io.contain import ModelFolder, check_name, resolve_inside
    from planner.io.files import (
        file_size,
        open_regular,
        read_at,
        read_bounded,
        read_text,
        regular_file,
    )
    from planner.io.jsonio import (
        MAX_JSON_BYTES,
        MAX_JSON_DEPTH,
        json_object_end,
        parse_json_bytes,
        read_json,
        read_json_object,
    )
    from planner.io.limits import (
        MAX_BATCH,
        MAX_DIM,
        MAX_ELEMENTS,
        MAX_LAYERS,
        MAX_RANK,
        MAX_TOKENS,
        Budget,
        checked_dims,
    )
    from planner.io.protobuf import Rule, Schema, project_file
    from planner.io.tar import TarMember, scan_tar
    from planner.io.yamlio import StrictLoader, compose, load_yaml

# Names resolve on first use (PEP 562): importing one submodule, as every adapter does, must not
# pull in YAML, tar and the rest (`planner inspect` start-up, BENCHMARKS.md §3).
_EXPORTS: dict[str, str] = {
    "write_atomic": "planner.io.atomic",
    "ModelFolder": "planner.io.contain",
    "check_name": "planner.io.contain",
    "resolve_inside": "planner.io.contain",
    "file_size": "planner.io.files",
    "open_regular": "planner.io.files",
    "read_at": "planner.io.files",
    "read_bounded": "planner.io.files",
    "read_text": "planner.io.files",
    "regular_file": "planner.io.files",
    "MAX_JSON_BYTES": "planner.io.jsonio",
    "MAX_JSON_DEPTH": "planner.io.jsonio",
    "json_object_end": "planner.io.jsonio",
    "parse_json_bytes": "planner.io.jsonio",
    "read_json": "planner.io.jsonio",
    "read_json_object": "planner.io.jsonio",
    "Budget": "planner.io.limits",
    "MAX_BATCH": "planner.io.limits",
    "MAX_DIM": "planner.io.limits",
    "MAX_ELEMENTS": "planner.io.limits",
    "MAX_LAYERS": "planner.io.limits",
    "MAX_RANK": "planner.io.limits",
    "MAX_TOKENS": "planner.io.limits",
    "checked_dims": "planner.io.limits",
    "Rule": "planner.io.protobuf",
    "Schema": "planner.io.protobuf",
    "project_file": "planner.io.protobuf",
    "TarMember": "planner.io.tar",
    "scan_tar": "planner.io.tar",
    "StrictLoader": "planner.io.yamlio",
    "compose": "planner.io.yamlio",
    "load_yaml": "planner.io.yamlio",
}


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` and cache the value here."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "MAX_BATCH",
    "MAX_DIM",
    "MAX_ELEMENTS",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_LAYERS",
    "MAX_RANK",
    "MAX_TOKENS",
    "Budget",
    "ModelFolder",
    "Rule",
    "Schema",
    "StrictLoader",
    "TarMember",
    "check_name",
    "checked_dims",
    "compose",
    "file_size",
    "json_object_end",
    "load_yaml",
    "open_regular",
    "parse_json_bytes",
    "project_file",
    "read_at",
    "read_bounded",
    "read_json",
    "read_json_object",
    "read_text",
    "regular_file",
    "resolve_inside",
    "scan_tar",
    "write_atomic",
]
