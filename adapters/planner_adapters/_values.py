"""Typed, validated access to values in untrusted config dicts, with provenance tracking."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from planner.errors import ArtifactFormatError
from planner.io.limits import MAX_DIM, MAX_LAYERS
from planner.spec import FieldSource, Origin

T = TypeVar("T")

Candidate = tuple[T | None, Origin, str]
"""One possible source of a spec field: the value it gives (None: it gives nothing), its origin
and a short reason. Chains of candidates are tried in order; the first value that is not None
wins (see ``Provenance.first``)."""


class Provenance:
    """Collects ``FieldSource`` records while an adapter fills a spec."""

    def __init__(self) -> None:
        self._items: dict[str, FieldSource] = {}

    def artifact(self, name: str, detail: str) -> None:
        """Record that ``name`` was read from the artifact."""
        self._items[name] = FieldSource(name, Origin.ARTIFACT, detail)

    def derived(self, name: str, detail: str) -> None:
        """Record that ``name`` was computed from other artifact values."""
        self._items[name] = FieldSource(name, Origin.DERIVED, detail)

    def assumed(self, name: str, detail: str) -> None:
        """Record that ``name`` is a documented default, not a fact from the artifact."""
        self._items[name] = FieldSource(name, Origin.ASSUMED, detail)

    def record(self, source: FieldSource) -> None:
        """Record a prepared ``FieldSource`` (replacing an earlier record of the same field)."""
        self._items[source.name] = source

    def first(self, name: str, *candidates: Candidate[T]) -> T | None:
        """The first candidate value that is not None, recording where it came from.

        Returns None (and records nothing) when no candidate gives a value.
        """
        found = first_source(name, *candidates)
        if found is None:
            return None
        value, source = found
        self.record(source)
        return value

    def detail(self, name: str) -> str:
        """The recorded reason for ``name`` ('' when nothing is recorded)."""
        item = self._items.get(name)
        return item.detail if item is not None else ""

    def freeze(self) -> tuple[FieldSource, ...]:
        """The records, sorted by field name for deterministic output."""
        return tuple(self._items[k] for k in sorted(self._items))


def first_source(name: str, *candidates: Candidate[T]) -> tuple[T, FieldSource] | None:
    """The first candidate ``(value, origin, detail)`` whose value is not None, with its
    ``FieldSource``; None when every candidate is None."""
    for value, origin, detail in candidates:
        if value is not None:
            return value, FieldSource(name, origin, detail)
    return None


def opt_int(
    data: dict[str, Any], key: str, path: Path, *, minimum: int = 0, what: str = "config"
) -> int | None:
    """``data[key]`` as an int within [minimum, MAX_DIM], or None when absent/null.

    Booleans and floats with a fraction are refused; integral floats (``4096.0``) are accepted
    because some exporters write them.
    """
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if isinstance(value, bool):
        raise ArtifactFormatError(
            f"{what} field {key!r} must be an integer, not a boolean", path=str(path)
        )
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise ArtifactFormatError(
            f"{what} field {key!r} must be an integer, got {type(value).__name__}", path=str(path)
        )
    if value < minimum or value > MAX_DIM:
        raise ArtifactFormatError(
            f"{what} field {key!r} = {value} is out of range (expected {minimum}..{MAX_DIM})",
            path=str(path),
        )
    return value


def req_int(
    data: dict[str, Any], key: str, path: Path, *, minimum: int = 1, what: str = "config"
) -> int:
    """Like ``opt_int`` but the key must be present."""
    value = opt_int(data, key, path, minimum=minimum, what=what)
    if value is None:
        raise ArtifactFormatError(f"{what} lacks the required field {key!r}", path=str(path))
    return value


def opt_str(data: dict[str, Any], key: str, path: Path, *, what: str = "config") -> str | None:
    """``data[key]`` as a string, or None when absent/null."""
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if not isinstance(value, str):
        raise ArtifactFormatError(
            f"{what} field {key!r} must be a string, got {type(value).__name__}", path=str(path)
        )
    return value


def opt_bool(data: dict[str, Any], key: str, path: Path, *, what: str = "config") -> bool | None:
    """``data[key]`` as a bool, or None when absent/null."""
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if not isinstance(value, bool):
        raise ArtifactFormatError(
            f"{what} field {key!r} must be true or false, got {value!r}", path=str(path)
        )
    return value


def opt_dict(
    data: dict[str, Any], key: str, path: Path, *, what: str = "config"
) -> dict[str, Any] | None:
    """``data[key]`` as a dict, or None when absent/null."""
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if not isinstance(value, dict):
        raise ArtifactFormatError(
            f"{what} field {key!r} must be an object, got {type(value).__name__}", path=str(path)
        )
    return value


def check_layers(value: int, path: Path | str, what: str) -> int:
    """``value`` as a layer count, refusing counts no real model has (before per-layer tables)."""
    if value > MAX_LAYERS:
        raise ArtifactFormatError(
            f"{what} = {value} layers is implausible (over {MAX_LAYERS}); the file is corrupt",
            path=str(path),
        )
    return value
