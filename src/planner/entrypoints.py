"""Entry points of one group, found as ``importlib.metadata.entry_points(group=...)`` finds them.

``importlib.metadata`` costs ~15 ms to import (it pulls in ``email`` to parse package metadata)
and then reads every installed distribution; every ``planner`` run needs the adapters of one
group, and only ``entry_points.txt`` files. ``entry_points`` here does that directly in the
plain case: metadata directories (``*.dist-info``, ``*.egg-info``) in the folders of
``sys.path``, the first distribution of a name winning, as in the standard library. Anything
else (a zip on ``sys.path``, a legacy ``.egg``, an import hook that reports distributions of its
own, a file the standard parser would reject) is handed to ``importlib.metadata`` itself, so
the result is always the standard library's (``tests/test_entrypoints.py`` compares them).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from importlib import import_module
from importlib.machinery import PathFinder
from typing import Any

_METADATA_SUFFIXES = (".dist-info", ".egg-info")
# importlib.metadata.EntryPoint.pattern
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """One entry point: ``name = value`` in a group, ``value`` being ``module[:attr]``."""

    name: str
    value: str
    group: str

    def load(self) -> Any:
        """Import the module and return the named object (``EntryPoint.load`` semantics)."""
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"{self.value!r} is not a module[:attribute] reference")
        obj: Any = import_module(match.group("module"))
        for attr in filter(None, (match.group("attr") or "").split(".")):
            obj = getattr(obj, attr)
        return obj


def entry_points(group: str) -> list[EntryPoint]:
    """Every entry point of ``group``, in the order ``importlib.metadata`` lists them."""
    found = _scan(group)
    if found is not None:
        return found
    from importlib import metadata

    return [EntryPoint(ep.name, ep.value, ep.group) for ep in metadata.entry_points(group=group)]


def _normalize(name: str) -> str:
    """``importlib.metadata.Prepared.normalize`` (PEP 503, with underscores)."""
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def _scan(group: str) -> list[EntryPoint] | None:
    """The plain case, or ``None`` when the standard library must decide."""
    if any(
        finder is not PathFinder and getattr(finder, "find_distributions", None) is not None
        for finder in sys.meta_path
    ):
        return None
    seen: set[str] = set()
    out: list[EntryPoint] = []
    for root in sys.path:
        if not isinstance(root, str) or root.lower().endswith(".egg"):
            return None
        try:
            children = os.listdir(root or ".")
        except NotADirectoryError:
            return None  # a file on sys.path: a zip, read by importlib.metadata's zip support
        except OSError:
            continue  # missing or unreadable: importlib.metadata finds nothing there either
        for child in children:
            if not child.lower().endswith(_METADATA_SUFFIXES):
                continue
            stem, ext = os.path.splitext(child)
            if ext not in _METADATA_SUFFIXES:
                return None  # upper-case suffix: the standard library names it from METADATA
            name = _normalize(stem.partition("-")[0])
            if name in seen:
                continue
            seen.add(name)
            points = _read_group(os.path.join(root, child, "entry_points.txt"), group)
            if points is None:
                return None
            out.extend(points)
    return out


def _read_group(path: str, group: str) -> list[EntryPoint] | None:
    """The group's entries in one ``entry_points.txt`` (``None``: let the standard parser
    raise its own error)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return []
    except (OSError, UnicodeDecodeError):
        return None
    out: list[EntryPoint] = []
    section: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
            continue
        if section is None:
            continue
        if "=" not in line:
            return None
        name, value = line.split("=", 1)
        if section == group:
            out.append(EntryPoint(name.strip(), value.strip(), section))
    return out
