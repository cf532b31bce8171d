"""Text from artifacts made safe to print: one helper for terminals, one-line errors and reports.

Names, types and notes read from untrusted files may hold control characters: an ESC or OSC
sequence rewrites a terminal, a newline splits a one-line error or a CI annotation, characters
XML 1.0 forbids make a JUnit file unreadable, a bidirectional override makes text read
differently from what it is, a lone surrogate (from a JSON ``"\\ud800"`` escape) cannot be encoded
as UTF-8 at all. ``sanitize`` replaces each such character by a visible escape (``\\x1b``,
``\\u202e``), so nothing is lost and nothing is interpreted. It imports nothing from planner, so
any module (``planner.errors`` included) can use it.
"""

from __future__ import annotations

import dataclasses
import re
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")

_UNSAFE = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f"  # C0 and C1 controls, DEL (tab, newline, CR included)
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks and overrides
    "\u2028\u2029"  # line and paragraph separators
    "\ud800-\udfff"  # lone surrogates
    "\ufffe\uffff"  # non-characters XML forbids
    "]"
)
_XML_KEEP = "\t\n\r"
"""Controls XML 1.0 allows (renderers escape them as character references where needed)."""

MAX_FIELD_CHARS = 4096
"""Longest string an artifact may put in a spec field (a file path is at most 4096 bytes)."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def sanitize(text: str, *, keep: str = "", limit: int | None = None) -> str:
    """``text`` with control, bidirectional-override, separator and surrogate characters
    replaced by visible escapes (``\\x1b``); characters in ``keep`` (e.g. ``"\\t\\n\\r"`` for XML)
    are left as they are. With ``limit``, text longer than that is cut and ends in ``…``."""
    if _UNSAFE.search(text) is not None:
        if keep:
            text = _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)
        else:
            text = _UNSAFE.sub(_escape, text)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def one_line(text: str, *, limit: int | None = None) -> str:
    """``text`` on one line: runs of whitespace become one space, then ``sanitize``."""
    return sanitize(" ".join(text.split()), limit=limit)


def xml_text(text: str) -> str:
    """``text`` safe inside an XML 1.0 document before ``&<>"`` escaping: every character XML
    forbids (and every terminal control) becomes a visible escape; tab, newline and CR stay."""
    return sanitize(text, keep=_XML_KEEP)


def sanitize_fields(value: T, *, limit: int = MAX_FIELD_CHARS) -> T:
    """A copy of a (frozen) dataclass, tuple or string with every string inside sanitised and cut
    at ``limit`` characters. Other values are returned as they are; unchanged parts are shared."""
    return _clean(value, limit, 0)  # type: ignore[no-any-return]


def _clean(value: Any, limit: int, depth: int) -> Any:
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return sanitize(value, limit=limit)
    if depth > 16:
        return value
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        items = tuple(_clean(v, limit, depth + 1) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            old = getattr(value, f.name)
            new = _clean(old, limit, depth + 1)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value
