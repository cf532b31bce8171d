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

from planner.io.atomic import write_atomic
from planner.io.contain import ModelFolder, check_name, resolve_inside
from planner.io.files import file_size, open_regular, read_at, read_bounded, read_text, regular_file
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
