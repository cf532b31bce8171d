"""Member scanning of untrusted tar archives: where each member's data lies, nothing extracted.

A small reader of the 512-byte header blocks (POSIX ustar, GNU long names and sparse entries,
pax extended headers) that keeps only what a scan needs — each member's name, type, data
offset and size — and reads every header with a bounded ``read``. Python's ``tarfile`` keeps
every member and every pax record in memory and reads an extended header's payload whole, so a
6 MB archive of pax headers or one header claiming gigabytes (cheap in a sparse file) would take
gigabytes; here extended headers are capped one by one and in total, members are counted, and
the walk runs under a ``Budget``. Member names are data, never paths: nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from planner.errors import ArtifactFormatError, UnsafeArtifactError
from planner.io.limits import Budget

BLOCK = 512
MAX_MEMBERS = 100_000
MAX_EXTENDED_HEADER = 1024 * 1024
"""Largest pax / GNU long-name header accepted (a real one holds a path or two)."""
MAX_EXTENDED_TOTAL = 4 * 1024 * 1024
"""All extended headers of one archive together."""
SCAN_SECONDS = 20.0
_REGULAR = (b"0", b"\0", b"7")
_SPARSE = b"S"


@dataclass(frozen=True, slots=True)
class TarMember:
    """One archive member: its name, whether it is a plain file, and its data range."""

    name: str
    regular: bool
    """A plain (non-sparse) file whose bytes lie contiguously at ``offset``."""
    offset: int
    size: int


def _number(field: bytes) -> int | None:
    """A header number: octal text, or GNU base-256 (high bit set); None if malformed."""
    if field[:1] == b"\x80":
        return int.from_bytes(field[1:], "big")
    if field[:1] == b"\xff":
        return None  # negative base-256
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        return None


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _checksum_ok(block: bytes) -> bool:
    stored = _number(block[148:156])
    if stored is None:
        return False
    blank = block[:148] + b" " * 8 + block[156:]
    unsigned = sum(blank)
    signed = sum(b - 256 if b > 127 else b for b in blank)
    return stored in (unsigned, signed)


def _pax_records(payload: bytes, into: dict[str, str]) -> None:
    """``path`` and ``size`` (and whether GNU sparse keys are present) from pax records."""
    pos = 0
    while pos < len(payload):
        space = payload.find(b" ", pos)
        if space == -1:
            raise ValueError("pax record without a length")
        length = int(payload[pos:space])
        if length <= 0 or pos + length > len(payload):
            raise ValueError("pax record length out of range")
        record = payload[space + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        name = key.decode("utf-8", "replace")
        if name in ("path", "size") or name.startswith("GNU.sparse."):
            into[name] = value.decode("utf-8", "surrogateescape")
        pos += length


def scan_tar(
    fh: BinaryIO, size: int, path: Path | str, what: str = "tar archive"
) -> list[TarMember]:
    """Every member of the tar archive open as ``fh`` (``size`` bytes), in archive order.

    Raises ``ArtifactFormatError`` for a file that is not a readable tar archive and
    ``UnsafeArtifactError`` for archives over the limits (members, extended headers, time).
    """
    shown = str(path)
    budget = Budget(what, shown, MAX_EXTENDED_TOTAL, MAX_MEMBERS, SCAN_SECONDS)
    members: list[TarMember] = []
    global_pax: dict[str, str] = {}
    pending: dict[str, str] = {}
    long_name: str | None = None
    if size < BLOCK or fh.seek(0) != 0 or fh.read(BLOCK) == bytes(BLOCK):
        reason = "empty file" if size == 0 or size >= BLOCK else "truncated header"
        raise ArtifactFormatError(f"{what} is not a readable tar archive: {reason}", path=shown)
    pos = 0
    while pos + BLOCK <= size:
        fh.seek(pos)
        block = fh.read(BLOCK)
        if len(block) < BLOCK or block == bytes(BLOCK):
            break
        length = _number(block[124:136])
        if not _checksum_ok(block) or length is None:
            if pos == 0:
                raise ArtifactFormatError(
                    f"{what} is not a readable tar archive: bad header at byte 0", path=shown
                )
            break  # like tarfile: an invalid header after the first ends the archive
        kind = block[156:157]
        data = pos + BLOCK
        if kind in (b"x", b"g", b"L", b"K"):
            if length > MAX_EXTENDED_HEADER:
                raise UnsafeArtifactError(
                    f"{what} has a {length}-byte extended header at byte {pos} "
                    f"(over {MAX_EXTENDED_HEADER}); refusing to load it into memory",
                    path=shown,
                )
            budget.spend(length, 1)
            if data + length > size:
                raise ArtifactFormatError(
                    f"{what} is not a readable tar archive: truncated header at byte {pos}",
                    path=shown,
                )
            fh.seek(data)
            payload = fh.read(length)
            if kind in (b"x", b"g"):
                try:
                    _pax_records(payload, global_pax if kind == b"g" else pending)
                except ValueError as exc:
                    raise ArtifactFormatError(
                        f"{what} is not a readable tar archive: bad pax header at byte {pos} "
                        f"({exc})",
                        path=shown,
                    ) from None
            elif kind == b"L":
                long_name = _text(payload)
        else:
            budget.spend(0, 1)
            meta = {**global_pax, **pending}
            name = long_name if long_name is not None else meta.get("path")
            if name is None:
                name = _text(block[0:100])
                prefix = _text(block[345:500]) if block[257:263] == b"ustar\x00" else ""
                if prefix:  # POSIX ustar splits long names (GNU uses these bytes otherwise)
                    name = f"{prefix}/{name}"
            if "size" in meta:
                try:
                    length = int(meta["size"])
                except ValueError:
                    raise ArtifactFormatError(
                        f"{what} is not a readable tar archive: bad pax size for {name!r}",
                        path=shown,
                    ) from None
            sparse = kind == _SPARSE or any(k.startswith("GNU.sparse.") for k in meta)
            if kind == _SPARSE and block[482:483] not in (b"\0", b""):
                data = _skip_sparse_extensions(fh, data, size, shown, what)
            if length < 0 or data + length > size:
                raise ArtifactFormatError(
                    f"tar member {name!r} runs past the end of the file (truncated?)", path=shown
                )
            members.append(TarMember(name, kind in _REGULAR and not sparse, data, length))
            pending, long_name = {}, None
        pos = data + -(-length // BLOCK) * BLOCK
    return members


def _skip_sparse_extensions(fh: BinaryIO, data: int, size: int, shown: str, what: str) -> int:
    """Skip the extension blocks of an old-style GNU sparse header."""
    for _ in range(MAX_MEMBERS):
        if data + BLOCK > size:
            raise ArtifactFormatError(
                f"{what} is not a readable tar archive: truncated sparse header", path=shown
            )
        fh.seek(data)
        ext = fh.read(BLOCK)
        data += BLOCK
        if ext[504:505] in (b"\0", b""):
            return data
    raise UnsafeArtifactError(f"{what} has an endless sparse header", path=shown)
