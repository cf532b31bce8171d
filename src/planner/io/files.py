"""Bounded reads of untrusted files: only regular files are opened, never more than a limit.

A path is ``stat``-ed first; it is then opened non-blocking (so a FIFO swapped in meanwhile
cannot hang planner) and checked again on the open descriptor. FIFOs, sockets, devices and
directories are refused with a one-line error naming the file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from planner.errors import InputError, PlannerError, UnsafeArtifactError


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device or special file"


def _stat(path: Path, what: str) -> os.stat_result:
    try:
        return path.stat()
    except FileNotFoundError:
        raise InputError(f"{what} not found", path=str(path)) from None
    except RuntimeError:  # symlink loop (pathlib on some Python versions)
        raise UnsafeArtifactError(f"{what} is a symlink loop", path=str(path)) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeArtifactError(f"{what} is a symlink loop", path=str(path)) from None
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot read {what}: {reason}", path=str(path)) from None


def regular_file(path: Path, what: str = "file") -> os.stat_result:
    """Stat ``path`` and insist it is a regular file (not a FIFO, socket or device)."""
    st = _stat(path, what)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeArtifactError(
            f"{what} is {_kind(st.st_mode)}, not a regular file", path=str(path)
        )
    return st


def file_size(path: Path, what: str = "file") -> int:
    """Size of a regular file, refusing special files."""
    return regular_file(path, what).st_size


def open_regular(path: Path, what: str = "file") -> tuple[BinaryIO, os.stat_result]:
    """Open a regular file for reading (checked before and after opening) and its stat."""
    regular_file(path, what)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(
            f"cannot read {what}: {exc.strerror or type(exc).__name__}", path=str(path)
        ) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeArtifactError(
                f"{what} is {_kind(st.st_mode)}, not a regular file", path=str(path)
            )
        return os.fdopen(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


def read_bounded(path: Path, limit: int, what: str = "file") -> bytes:
    """Read a whole small file, refusing files larger than ``limit`` bytes."""
    fh, st = open_regular(path, what)
    with fh:
        if st.st_size > limit:
            raise UnsafeArtifactError(
                f"{what} is {st.st_size} bytes, over planner's limit of {limit} bytes",
                path=str(path),
            )
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UnsafeArtifactError(f"{what} grew past {limit} bytes while reading", path=str(path))
    return data


def read_at(fh: BinaryIO, offset: int, length: int, path: Path | str, what: str) -> bytes:
    """Exactly ``length`` bytes at ``offset`` of an open file (a bounded header read)."""
    fh.seek(offset)
    data = fh.read(length)
    if len(data) != length:
        raise UnsafeArtifactError(
            f"{what} shrank while reading (wanted {length} bytes at byte {offset})",
            path=str(path),
        )
    return data


def read_text(
    path: Path,
    limit: int,
    what: str,
    error: type[PlannerError] = InputError,
    *,
    bom: bool = False,
) -> str:
    """A whole UTF-8 text file of at most ``limit`` bytes (a config or profile).

    Every failure is an ``error`` naming the file: missing, a directory or special file,
    unreadable, too large, not UTF-8. ``bom`` allows (and drops) a UTF-8 byte-order mark.
    """
    shown = str(path)
    try:
        fh, st = open_regular(path, what)
    except PlannerError as exc:
        message = exc.message
        if isinstance(exc, UnsafeArtifactError) and "a directory" in message:
            message = f"{what} is a directory"
        raise error(message, path=shown) from None
    with fh:
        if st.st_size > limit:
            raise error(f"{what} is larger than {limit} bytes", path=shown)
        try:
            data = fh.read(limit + 1)  # the file may have grown since stat
        except OSError as exc:
            raise error(f"cannot read {what}: {exc.strerror or exc}", path=shown) from None
    if len(data) > limit:
        raise error(f"{what} is larger than {limit} bytes", path=shown)
    try:
        return data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} is not UTF-8 text (byte {exc.start})", path=shown) from None
